//! Ties between two sorted samples: the rank tests (Mann–Whitney, Cramér–von Mises,
//! Anderson–Darling) all walk the pooled sample one distinct value at a time, counting how many
//! of each side hold it, which gives midranks without building the pooled sample.

/// One distinct value of the pooled sample and how many of each side hold it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Tie {
    /// The value.
    pub value: f64,
    /// Occurrences in the first sample.
    pub first: usize,
    /// Occurrences in the second sample.
    pub second: usize,
}

impl Tie {
    /// Occurrences in both samples.
    pub fn total(&self) -> usize {
        self.first + self.second
    }
}

/// The distinct values of two ascending samples, ascending, with their counts on each side.
pub fn groups(first: &[f64], second: &[f64]) -> Vec<Tie> {
    let (mut i, mut j) = (0, 0);
    let mut out = Vec::new();
    loop {
        let value = match (first.get(i), second.get(j)) {
            (Some(&a), Some(&b)) => a.min(b),
            (Some(&a), None) => a,
            (None, Some(&b)) => b,
            (None, None) => return out,
        };
        let (start_i, start_j) = (i, j);
        while i < first.len() && first[i] == value {
            i += 1;
        }
        while j < second.len() && second[j] == value {
            j += 1;
        }
        out.push(Tie {
            value,
            first: i - start_i,
            second: j - start_j,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_count_each_side() {
        let g = groups(&[1.0, 2.0, 2.0, 5.0], &[2.0, 3.0]);
        let counts: Vec<_> = g.iter().map(|t| (t.value, t.first, t.second)).collect();
        assert_eq!(counts, [(1.0, 1, 0), (2.0, 2, 1), (3.0, 0, 1), (5.0, 1, 0)]);
        assert!(groups(&[], &[]).is_empty());
    }
}
