//! Correlated inputs through a Gaussian copula.
//!
//! The inputs named in correlations are drawn together: independent standard
//! normals ε, one from each input's own stream, become z = L·ε with L the
//! Cholesky factor of the normal correlation matrix R, and each input is
//! F⁻¹(Φ(zᵢ)) through its own quantile function — so every marginal is
//! exactly the distribution the config gives.
//!
//! A rank (Spearman) correlation r is asked for; under a Gaussian copula the
//! rank correlation of two inputs is (6/π)·asin(ρ/2) whatever their
//! marginals, so R holds ρ = 2·sin(π·r/6) and the requested r is realised
//! exactly in expectation (for continuous marginals; ties in a discrete
//! input pull the realised figure towards zero).
//!
//! Holding one input at a quantile q (a [`Pin`]) sets its normal to
//! c = Φ⁻¹(q) and moves the others to their conditional distribution given
//! it: z_rest + R[rest, pinned]·(c − z_pinned), which is exactly
//! N(R·c, R_rest − R·Rᵀ) for a Gaussian vector.

use crate::dist::{std_normal_cdf, std_normal_quantile};
use crate::model::inputs::Pin;
use crate::model::shared::Quantiles;
use crate::model::{Model, ParamId};

/// Inputs drawn jointly, with their correlations.
#[derive(Clone, Debug)]
pub struct Copula {
    /// The inputs, in the order of the matrices.
    pub members: Vec<ParamId>,
    /// Normal correlations ρ, row-major `members × members`.
    pub normal: Vec<f64>,
    /// Lower-triangular Cholesky factor of `normal`, row-major.
    chol: Vec<f64>,
    /// The rank correlations asked for: (member a, member b, r).
    pub requested: Vec<(usize, usize, f64)>,
}

/// Why a set of correlations cannot hold together.
#[derive(Clone, Debug, PartialEq)]
pub struct Inconsistent {
    /// The pair (members) at which the matrix stops being positive
    /// semi-definite.
    pub pair: (usize, usize),
}

/// The normal correlation ρ whose Gaussian copula has rank correlation r.
pub fn normal_from_rank(r: f64) -> f64 {
    2.0 * (std::f64::consts::PI * r / 6.0).sin()
}

impl Copula {
    /// Builds the copula of `members` with the rank correlations `requested`
    /// (pairs of member indices; pairs not given are uncorrelated).
    pub fn new(
        members: Vec<ParamId>,
        requested: Vec<(usize, usize, f64)>,
    ) -> Result<Copula, Inconsistent> {
        let n = members.len();
        let mut normal = vec![0.0; n * n];
        for i in 0..n {
            normal[i * n + i] = 1.0;
        }
        for &(a, b, r) in &requested {
            let rho = normal_from_rank(r);
            normal[a * n + b] = rho;
            normal[b * n + a] = rho;
        }
        let chol = cholesky(&normal, n).map_err(|k| {
            // Name the strongest correlation of the row where it failed.
            let partner = (0..k)
                .max_by(|&x, &y| normal[k * n + x].abs().total_cmp(&normal[k * n + y].abs()))
                .unwrap_or(0);
            Inconsistent { pair: (partner, k) }
        })?;
        Ok(Copula {
            members,
            normal,
            chol,
            requested,
        })
    }

    /// Fills the values of the members in `values` (indexed by parameter)
    /// from the standard normals `normals.drawn` (one per member, from each
    /// member's own stream), holding `pin` when it names a member
    /// (`param_keys` are the pin keys of all parameters). Each value is a
    /// quantile of its input's distribution, taken from `quantiles` when
    /// another simulation of the run has worked it out.
    pub fn fill(
        &self,
        model: &Model,
        normals: &mut Normals,
        pin: Option<Pin>,
        param_keys: &[u64],
        values: &mut [f64],
        quantiles: &mut Quantiles,
    ) {
        let n = self.members.len();
        let (eps, z) = (&normals.drawn, &mut normals.mixed);
        z.clear();
        z.extend((0..n).map(|i| (0..=i).map(|j| self.chol[i * n + j] * eps[j]).sum::<f64>()));
        let pinned = pin.and_then(|p| {
            let i = self
                .members
                .iter()
                .position(|id| param_keys[id.0] == p.key)?;
            Some((i, p))
        });
        if let Some((j, p)) = pinned {
            let c = std_normal_quantile(p.level);
            let shift = c - z[j];
            for (i, zi) in z.iter_mut().enumerate() {
                *zi += self.normal[i * n + j] * shift;
            }
        }
        for (i, id) in self.members.iter().enumerate() {
            values[id.0] = match pinned {
                Some((j, p)) if j == i => p.value,
                _ => quantiles.quantile(&model.param(*id).dist, std_normal_cdf(z[i])),
            };
        }
    }
}

/// A run's standard normals for its correlated inputs: one drawn from each
/// member's own stream, and the same once mixed by the correlations.
#[derive(Clone, Debug, Default)]
pub struct Normals {
    pub drawn: Vec<f64>,
    mixed: Vec<f64>,
}

/// The Cholesky factor of a positive semi-definite matrix, or the row at
/// which it turns out not to be one. A zero pivot (a correlation of ±1) is
/// accepted when the rest of its column is zero too.
fn cholesky(a: &[f64], n: usize) -> Result<Vec<f64>, usize> {
    const TOL: f64 = 1e-10;
    let mut l = vec![0.0; n * n];
    for i in 0..n {
        for j in 0..=i {
            let s: f64 = (0..j).map(|k| l[i * n + k] * l[j * n + k]).sum();
            if i == j {
                let d = a[i * n + i] - s;
                if d < -TOL {
                    return Err(i);
                }
                l[i * n + i] = d.max(0.0).sqrt();
            } else {
                let rest = a[i * n + j] - s;
                let pivot = l[j * n + j];
                if pivot > TOL {
                    l[i * n + j] = rest / pivot;
                } else if rest.abs() > 1e-8 {
                    return Err(i);
                }
            }
        }
    }
    Ok(l)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cholesky_reproduces_the_matrix() {
        let a = [1.0, 0.5, 0.2, 0.5, 1.0, 0.3, 0.2, 0.3, 1.0];
        let l = cholesky(&a, 3).unwrap();
        for i in 0..3 {
            for j in 0..3 {
                let v: f64 = (0..3).map(|k| l[i * 3 + k] * l[j * 3 + k]).sum();
                assert!((v - a[i * 3 + j]).abs() < 1e-12);
            }
        }
    }

    #[test]
    fn perfect_correlation_is_semi_definite() {
        assert!(cholesky(&[1.0, 1.0, 1.0, 1.0], 2).is_ok());
    }

    #[test]
    fn inconsistent_correlations_name_the_failing_pair() {
        // a~b and a~c strongly positive, b~c strongly negative: impossible.
        let m = vec![ParamId(0), ParamId(1), ParamId(2)];
        let e = Copula::new(m, vec![(0, 1, 0.9), (0, 2, 0.9), (1, 2, -0.9)]).unwrap_err();
        assert_eq!(e.pair.1, 2);
    }

    #[test]
    fn rank_to_normal_correlation() {
        assert_eq!(normal_from_rank(0.0), 0.0);
        assert!((normal_from_rank(1.0) - 1.0).abs() < 1e-12);
        // Inverse of (6/π)·asin(ρ/2).
        let rho = normal_from_rank(0.7);
        assert!((6.0 / std::f64::consts::PI * (rho / 2.0).asin() - 0.7).abs() < 1e-12);
    }
}
