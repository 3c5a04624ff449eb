//! The statistical tests, one module each: pure functions over slices and counts, no I/O and no
//! knowledge of windows or monitors. Each is checked against scipy/numpy golden values generated
//! by `tools/golden/` into `tests/golden/`.

pub mod anderson;
pub mod binning;
pub mod chisquare;
pub mod computable;
pub mod cramer_von_mises;
pub mod effect;
pub mod energy;
pub mod epps_singleton;
pub mod finebins;
pub mod fisher_exact;
pub mod g_test;
pub mod hellinger;
pub mod jensenshannon;
pub mod kl_div;
pub mod ks;
pub mod mannw;
pub mod multipletests;
pub mod pooling;
pub mod psi;
pub mod t_test;
pub mod ties;
pub mod tvd;
pub mod wasserstein;
pub mod z;
