//! Pooling of sparse cells before the chi-square homogeneity test.
//!
//! Pearson's statistic is only chi-square distributed when expected counts are not too small
//! (scipy's `chi2_contingency` guidance: expected ≥ 5). A long-tailed categorical column (a
//! Zipf-like 12-category column in a 1 000-row window) has cells far below that, and the test
//! then raises more false alarms than α. The rule, applied to the aligned reference/window
//! counts of one window:
//!
//! 1. A cell's *smaller expected count* is `min(n_ref, n_cur) · column total / N`.
//! 2. Reference categories whose smaller expected count is below [`MIN_EXPECTED`] are summed
//!    into one "rare" cell.
//! 3. Categories the reference never had are summed into one "new" cell. They are evidence
//!    of drift, so that cell stays on its own down to [`MIN_EXPECTED_NEW`] (Cochran's rule
//!    allows a cell between 1 and 5 when the others are ≥ 5); below that it joins "rare".
//! 4. A "rare" cell still below [`MIN_EXPECTED`] is merged into the kept reference category
//!    with the smallest column total (if there is none, it stays: the test then has one or
//!    two cells and says what it can).

/// Smallest expected count of a kept reference cell.
pub const MIN_EXPECTED: f64 = 5.0;

/// Smallest expected count at which never-seen categories keep a cell of their own.
pub const MIN_EXPECTED_NEW: f64 = 1.0;

/// Pools the sparse cells of aligned `reference`/`current` counts (see the module docs).
/// Returns the pooled counts, aligned: kept reference categories in input order, then the
/// rare cell, then the new cell, each only when present.
pub fn pool_small_cells(reference: &[u64], current: &[u64]) -> (Vec<u64>, Vec<u64>) {
    let len = reference.len().max(current.len());
    let get = |v: &[u64], i: usize| v.get(i).copied().unwrap_or(0);
    let (n_ref, n_cur): (u64, u64) = (reference.iter().sum(), current.iter().sum());
    if n_ref == 0 || n_cur == 0 {
        return (reference.to_vec(), current.to_vec());
    }
    let scale = n_ref.min(n_cur) as f64 / (n_ref + n_cur) as f64;
    let expected = |r: u64, c: u64| (r + c) as f64 * scale;
    let (mut kept_ref, mut kept_cur) = (Vec::new(), Vec::new());
    let (mut rare, mut new) = ((0u64, 0u64), 0u64);
    for i in 0..len {
        let (r, c) = (get(reference, i), get(current, i));
        if r == 0 {
            new += c;
        } else if expected(r, c) < MIN_EXPECTED {
            rare = (rare.0 + r, rare.1 + c);
        } else {
            kept_ref.push(r);
            kept_cur.push(c);
        }
    }
    if new > 0 && expected(0, new) < MIN_EXPECTED_NEW {
        rare.1 += new;
        new = 0;
    }
    if rare != (0, 0) {
        if expected(rare.0, rare.1) >= MIN_EXPECTED || kept_ref.is_empty() {
            kept_ref.push(rare.0);
            kept_cur.push(rare.1);
        } else {
            let smallest = (0..kept_ref.len())
                .min_by_key(|&i| kept_ref[i] + kept_cur[i])
                .unwrap_or(0);
            kept_ref[smallest] += rare.0;
            kept_cur[smallest] += rare.1;
        }
    }
    if new > 0 {
        kept_ref.push(0);
        kept_cur.push(new);
    }
    (kept_ref, kept_cur)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn large_cells_are_kept_as_they_are() {
        let (r, c) = pool_small_cells(&[500, 300, 200], &[50, 30, 20]);
        assert_eq!((r, c), (vec![500, 300, 200], vec![50, 30, 20]));
    }

    #[test]
    fn rare_cells_are_pooled_and_merged_when_still_small() {
        // n_ref 1000, n_cur 100: smaller expected = column total · 100 / 1100.
        // Cells 3 and 4 (totals 22 and 11) are below 5 → rare (33 → 3.0, still < 5) → merged
        // into the kept cell with the smallest total (index 2, total 165).
        let (r, c) = pool_small_cells(&[600, 230, 150, 20, 10], &[60, 23, 15, 2, 1]);
        assert_eq!(r, vec![600, 230, 180]);
        assert_eq!(c, vec![60, 23, 18]);
        // A rare cell that reaches 5 once pooled stays on its own.
        let (r, c) = pool_small_cells(&[600, 200, 40, 40, 40], &[60, 20, 4, 4, 4]);
        assert_eq!((r, c), (vec![600, 200, 120], vec![60, 20, 12]));
    }

    #[test]
    fn new_categories_keep_a_cell_while_it_can_matter() {
        // 12 never-seen values: expected 12 · 100 / 1112 ≈ 1.08 ≥ 1 → their own cell.
        let (r, c) = pool_small_cells(&[600, 400], &[50, 38, 7, 5]);
        assert_eq!((r, c), (vec![600, 400, 0], vec![50, 38, 12]));
        // One never-seen value: expected ≈ 0.09 < 1 → joins the (empty) rare cell, which is
        // merged into the smallest kept cell.
        let (r, c) = pool_small_cells(&[600, 400], &[60, 39, 1]);
        assert_eq!((r, c), (vec![600, 400], vec![60, 40]));
    }

    #[test]
    fn empty_sides_are_left_alone() {
        assert_eq!(pool_small_cells(&[], &[1, 2]), (vec![], vec![1, 2]));
        assert_eq!(pool_small_cells(&[3], &[0]), (vec![3], vec![0]));
    }
}
