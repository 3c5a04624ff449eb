//! Isotonic calibration: the non-decreasing map from a model's scores to observed positive
//! rates that fits the reference best in squared error (pool-adjacent-violators).
//!
//! Reference implementation: scikit-learn's `IsotonicRegression(out_of_bounds="clip")`, which
//! NannyML's CBPE uses: tied scores are pooled first (their outcomes averaged, weighted by
//! count), blocks that violate monotonicity are pooled, and a score between two fitted points
//! is interpolated linearly; scores outside the reference range are clipped to it. sklearn
//! pools scores closer than 1e-15 as ties; here only equal scores are (probabilities that
//! differ by less than that do not occur in practice).

/// A fitted isotonic map; knots are where its slope changes.
#[derive(Debug, Clone, PartialEq)]
pub struct Isotonic {
    /// Knot scores, strictly ascending.
    scores: Vec<f64>,
    /// The calibrated value at each knot, non-decreasing.
    values: Vec<f64>,
}

/// A pooled run of scores and the mean outcome over its rows.
struct Block {
    first: f64,
    last: f64,
    sum: f64,
    weight: f64,
}

impl Block {
    fn mean(&self) -> f64 {
        self.sum / self.weight
    }
}

impl Isotonic {
    /// Fits the map to `(score, outcome)` pairs (outcome 1.0 = positive, 0.0 = negative);
    /// pairs with a non-finite score or outcome are skipped. `None` when none is left.
    /// O(n log n) for the sort, one allocation per input plus the knots.
    #[must_use]
    pub fn fit(scores: &[f64], outcomes: &[f64]) -> Option<Self> {
        // `+ 0.0` makes −0.0 and 0.0 one tie, as numpy compares them.
        let mut rows: Vec<(f64, f64)> = scores
            .iter()
            .zip(outcomes)
            .filter(|(s, o)| s.is_finite() && o.is_finite())
            .map(|(&s, &o)| (s + 0.0, o))
            .collect();
        if rows.is_empty() {
            return None;
        }
        rows.sort_unstable_by(|a, b| a.0.total_cmp(&b.0));
        let mut blocks: Vec<Block> = Vec::new();
        for tied in rows.chunk_by(|a, b| a.0 == b.0) {
            let mut block = Block {
                first: tied[0].0,
                last: tied[0].0,
                sum: tied.iter().map(|r| r.1).sum(),
                weight: tied.len() as f64,
            };
            // Pool backwards while the previous block's mean is not below this one's.
            while let Some(previous) = blocks.pop_if(|p| p.mean() >= block.mean()) {
                block = Block {
                    first: previous.first,
                    last: block.last,
                    sum: previous.sum + block.sum,
                    weight: previous.weight + block.weight,
                };
            }
            blocks.push(block);
        }
        let (mut knots, mut values) = (Vec::new(), Vec::new());
        for block in &blocks {
            let mean = block.mean();
            knots.push(block.first);
            values.push(mean);
            if block.last != block.first {
                knots.push(block.last);
                values.push(mean);
            }
        }
        Some(Self {
            scores: knots,
            values,
        })
    }

    /// The calibrated probability of `score`: linear between knots, clipped to the fitted
    /// range outside it (numpy's `interp`). NaN stays NaN.
    #[must_use]
    pub fn calibrate(&self, score: f64) -> f64 {
        if score.is_nan() {
            return f64::NAN;
        }
        let (first, last) = (self.scores[0], self.scores[self.scores.len() - 1]);
        let score = score.clamp(first, last);
        // The last knot at or below `score` (exists: `score >= first`).
        let at = self.scores.partition_point(|&k| k <= score) - 1;
        if self.scores[at] == score || at + 1 == self.scores.len() {
            return self.values[at];
        }
        let (x0, x1) = (self.scores[at], self.scores[at + 1]);
        let (y0, y1) = (self.values[at], self.values[at + 1]);
        (y1 - y0) / (x1 - x0) * (score - x0) + y0
    }
}

/// Whether isotonic calibration makes the scores better calibrated out of sample: NannyML's
/// rule (expected calibration error of held-out rows, 10 equal-count bins, before vs after
/// calibrating with a map fitted on the other rows), with deterministic folds (row `i` is
/// held out in fold `i mod 10`) instead of its seeded stratified shuffles, so a restart
/// decides the same. Never when the outcomes hold one class or the scores already rank
/// almost perfectly (`auc > 0.999`, NannyML's cut-off; the caller computes it), nor below
/// four scored rows. Non-finite pairs are skipped.
#[must_use]
pub fn improves_calibration(scores: &[f64], outcomes: &[f64], auc: Option<f64>) -> bool {
    const FOLDS: usize = 10;
    if auc.is_none_or(|auc| auc > 0.999) {
        return false;
    }
    let rows: Vec<(f64, f64)> = scores
        .iter()
        .zip(outcomes)
        .filter(|(s, o)| s.is_finite() && o.is_finite())
        .map(|(&s, &o)| (s, o))
        .collect();
    let mut before = Vec::with_capacity(rows.len());
    let mut after = Vec::with_capacity(rows.len());
    for fold in 0..FOLDS {
        let (train_scores, train_outcomes): (Vec<f64>, Vec<f64>) = rows
            .iter()
            .enumerate()
            .filter(|(i, _)| i % FOLDS != fold)
            .map(|(_, &r)| r)
            .unzip();
        let Some(map) = Isotonic::fit(&train_scores, &train_outcomes) else {
            continue;
        };
        for &(score, outcome) in rows.iter().skip(fold).step_by(FOLDS) {
            before.push((score, outcome));
            after.push((map.calibrate(score), outcome));
        }
    }
    match (
        calibration_error(&mut before),
        calibration_error(&mut after),
    ) {
        (Some(before), Some(after)) => after < before,
        _ => false,
    }
}

/// Expected calibration error of `(probability, outcome)` pairs, binned as NannyML does:
/// sorted by probability (ties in input order), cut into runs of `n / 10` rows (`n / (n / 2)`
/// below 21 rows) with the last run taking the remainder; the row-weighted mean of
/// |mean probability − positive rate| per run. `None` below four rows (fewer than two runs).
fn calibration_error(pairs: &mut [(f64, f64)]) -> Option<f64> {
    let n = pairs.len();
    let bins = if n <= 20 { n / 2 } else { 10 };
    if bins < 2 {
        return None;
    }
    pairs.sort_by(|a, b| a.0.total_cmp(&b.0));
    let width = n / bins;
    let runs = n / width;
    let mut error = 0.0;
    for run in 0..runs {
        let end = if run + 1 == runs {
            n
        } else {
            (run + 1) * width
        };
        let rows = &pairs[run * width..end];
        let count = rows.len() as f64;
        let probability = rows.iter().map(|r| r.0).sum::<f64>() / count;
        let rate = rows.iter().map(|r| r.1).sum::<f64>() / count;
        error += count / n as f64 * (probability - rate).abs();
    }
    Some(error)
}
