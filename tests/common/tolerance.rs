//! The tolerance of a statistical check against an exact answer.

use carecast::dist::std_normal_quantile;

/// The tolerance in standard errors for a family of `m` comparisons:
/// Φ⁻¹(1 − 0.001/(2m)), so that the family fails by chance less than once in
/// a thousand runs of the suite.
pub fn z_for(m: usize) -> f64 {
    std_normal_quantile(1.0 - 0.001 / (2.0 * m as f64))
}
