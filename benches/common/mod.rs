//! Shared by the benches: reproducible data.

/// xorshift64*: reproducible data without a dependency.
pub struct Rng(pub u64);

impl Rng {
    pub fn uniform(&mut self) -> f64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11) as f64 / (1u64 << 53) as f64
    }

    pub fn normal(&mut self, shift: f64) -> f64 {
        let (u1, u2) = (self.uniform().max(1e-300), self.uniform());
        shift + (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
    }
}
