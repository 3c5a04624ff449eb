//! Energy distance between two samples: `√(2 ∫ (F − G)² dx)` for their empirical
//! distribution functions F and G (Székely & Rizzo), 0 for identical samples.
//!
//! Reference implementation: `scipy.stats.energy_distance(reference, current)`.
//!
//! Like Evidently's `ed`, the distance is in the column's units (it grows with the square root
//! of the scale), so its default threshold of 0.1 suits columns of unit scale; `threshold:
//! auto` learns a scale-free one from the reference.

/// Energy distance of two ascending, non-empty samples (0 if either is empty), one merge pass.
pub fn distance(reference: &[f64], current: &[f64]) -> f64 {
    if reference.is_empty() || current.is_empty() {
        return 0.0;
    }
    let (n, m) = (reference.len() as f64, current.len() as f64);
    let (mut i, mut j) = (0, 0);
    let mut integral = 0.0;
    let mut previous: Option<f64> = None;
    while i < reference.len() || j < current.len() {
        let x = match (reference.get(i), current.get(j)) {
            (Some(&a), Some(&b)) => a.min(b),
            (Some(&a), None) => a,
            (None, Some(&b)) => b,
            (None, None) => break,
        };
        // F and G are constant on [previous, x): add (F − G)² over that interval.
        if let Some(p) = previous {
            let gap = i as f64 / n - j as f64 / m;
            integral += gap * gap * (x - p);
        }
        while i < reference.len() && reference[i] == x {
            i += 1;
        }
        while j < current.len() && current[j] == x {
            j += 1;
        }
        previous = Some(x);
    }
    (2.0 * integral).sqrt()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Point masses at 0 and 1: F − G = 1 on [0, 1), so the distance is √2.
    #[test]
    fn point_masses() {
        assert!((distance(&[0.0], &[1.0]) - 2f64.sqrt()).abs() < 1e-15);
        assert_eq!(distance(&[1.0, 2.0], &[1.0, 2.0]), 0.0);
        assert_eq!(distance(&[], &[1.0]), 0.0);
    }
}
