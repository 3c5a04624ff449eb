//! The statistical tests, one module each: pure functions over slices and counts, no I/O and no
//! knowledge of windows or monitors. Each is checked against scipy/numpy golden values generated
//! by `tools/golden/` into `tests/golden/`.

pub mod binning;
pub mod chisquare;
pub mod effect;
pub mod finebins;
pub mod jensenshannon;
pub mod ks;
pub mod multipletests;
pub mod pooling;
pub mod psi;
pub mod wasserstein;
pub mod z;
