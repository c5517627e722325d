//! What drives the spread of the results, read from the runs themselves
//! with no extra simulation: each run records the value every uncertain
//! input took (see [`crate::model::inputs`]), and an input's weight is the
//! rank (Spearman) correlation of those values with the run's cost.
//!
//! Contribution to variance follows the rank-correlation method of
//! Crystal Ball: input i's share of an output is ρᵢ² / Σⱼ ρⱼ². For inputs
//! that act on the output independently and linearly it is close to the
//! share of the output's variance each explains (for two Gaussian inputs
//! with variance shares s and 1 − s, the expected shares follow from
//! ρ_rank = (6/π)·asin(ρ/2), with ρ² = s); it ranks inputs of any
//! distribution without assuming a linear model. Ties (a programme
//! delivered or not) take their average rank.

use serde::{Deserialize, Serialize};

use crate::engine::ScenarioRuns;
use crate::model::Model;
use crate::model::inputs::InputKind;
use crate::model::layout::YearField;

/// One input's weight in one output.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Share {
    /// Spearman correlation of the input's draws with the output.
    pub rank_correlation: f64,
    /// ρ² of this input over the sum of ρ² of all inputs.
    pub contribution: f64,
}

/// An input's weight in each financial year's cost and in the horizon's.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Contribution {
    /// The input's config path.
    pub input: String,
    /// Per financial year, in order.
    pub years: Vec<Share>,
    /// The cost of the whole horizon.
    pub total: Share,
}

/// A correlation the config asked for, and what the runs show.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RealisedCorrelation {
    pub inputs: [String; 2],
    pub requested: f64,
    pub realised: f64,
}

/// Average ranks (1-based) of `values`: tied values share the mean of
/// their ranks.
pub fn ranks(values: &[f64]) -> Vec<f64> {
    let mut order: Vec<usize> = (0..values.len()).collect();
    order.sort_by(|&a, &b| values[a].total_cmp(&values[b]).then(a.cmp(&b)));
    let mut out = vec![0.0; values.len()];
    let mut i = 0;
    while i < order.len() {
        let mut j = i;
        while j + 1 < order.len() && values[order[j + 1]] == values[order[i]] {
            j += 1;
        }
        let rank = (i + j) as f64 / 2.0 + 1.0;
        for &k in &order[i..=j] {
            out[k] = rank;
        }
        i = j + 1;
    }
    out
}

/// Pearson correlation of two series; 0 when either is constant.
pub fn pearson(x: &[f64], y: &[f64]) -> f64 {
    let n = x.len().min(y.len());
    if n < 2 {
        return 0.0;
    }
    let mx = x[..n].iter().sum::<f64>() / n as f64;
    let my = y[..n].iter().sum::<f64>() / n as f64;
    let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
    for (a, b) in x[..n].iter().zip(&y[..n]) {
        sxy += (a - mx) * (b - my);
        sxx += (a - mx) * (a - mx);
        syy += (b - my) * (b - my);
    }
    if sxx <= 0.0 || syy <= 0.0 {
        0.0
    } else {
        (sxy / (sxx * syy).sqrt()).clamp(-1.0, 1.0)
    }
}

/// Spearman rank correlation.
pub fn spearman(x: &[f64], y: &[f64]) -> f64 {
    pearson(&ranks(x), &ranks(y))
}

fn round6(x: f64) -> f64 {
    (x * 1e6).round() / 1e6
}

/// Normalised shares from rank correlations.
fn shares(rho: &[f64]) -> Vec<Share> {
    let sum: f64 = rho.iter().map(|r| r * r).sum();
    rho.iter()
        .map(|&r| Share {
            rank_correlation: round6(r),
            contribution: if sum > 0.0 { round6(r * r / sum) } else { 0.0 },
        })
        .collect()
}

/// The contribution of every input to each year's cost and the horizon's,
/// ranked by contribution to the horizon's cost (largest first).
pub fn contributions(runs: &ScenarioRuns) -> Vec<Contribution> {
    use rayon::prelude::*;
    let layout = &runs.layout;
    if layout.inputs.is_empty() || runs.runs() < 3 {
        return Vec::new();
    }
    let years: Vec<Vec<f64>> = (0..layout.years)
        .map(|fy| runs.column(layout.year(fy, YearField::Cost)))
        .collect();
    let total: Vec<f64> = (0..runs.runs())
        .map(|r| years.iter().map(|y| y[r]).sum())
        .collect();
    let outputs: Vec<Vec<f64>> = years.iter().chain([&total]).map(|o| ranks(o)).collect();
    // rho[input][output]
    let rho: Vec<Vec<f64>> = (0..layout.inputs.len())
        .into_par_iter()
        .map(|k| {
            let x = ranks(&runs.column(layout.input(k)));
            outputs.iter().map(|y| pearson(&x, y)).collect()
        })
        .collect();
    let per_output: Vec<Vec<Share>> = (0..outputs.len())
        .map(|o| shares(&rho.iter().map(|r| r[o]).collect::<Vec<_>>()))
        .collect();
    let mut out: Vec<Contribution> = layout
        .inputs
        .iter()
        .enumerate()
        .map(|(k, input)| Contribution {
            input: input.path.clone(),
            years: (0..layout.years).map(|fy| per_output[fy][k]).collect(),
            total: per_output[layout.years][k],
        })
        .collect();
    out.sort_by(|a, b| b.total.contribution.total_cmp(&a.total.contribution));
    out
}

/// The realised rank correlation of every pair the config correlates.
pub fn realised_correlations(model: &Model, runs: &ScenarioRuns) -> Vec<RealisedCorrelation> {
    let Some(copula) = &model.copula else {
        return Vec::new();
    };
    let layout = &runs.layout;
    let column = |member: usize| {
        let id = copula.members[member];
        layout
            .inputs
            .iter()
            .position(|i| i.kind == InputKind::Param(id))
            .map(|k| runs.column(layout.input(k)))
    };
    copula
        .requested
        .iter()
        .filter_map(|&(a, b, r)| {
            let (x, y) = (column(a)?, column(b)?);
            Some(RealisedCorrelation {
                inputs: [
                    model.param(copula.members[a]).path.clone(),
                    model.param(copula.members[b]).path.clone(),
                ],
                requested: r,
                realised: round6(spearman(&x, &y)),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ties_share_their_average_rank() {
        assert_eq!(ranks(&[3.0, 1.0, 3.0, 2.0]), vec![3.5, 1.0, 3.5, 2.0]);
        assert_eq!(ranks(&[0.0, 0.0, 0.0]), vec![2.0, 2.0, 2.0]);
    }

    #[test]
    fn spearman_by_hand() {
        // Monotone: 1; reversed: −1; constant: 0.
        assert_eq!(spearman(&[1.0, 5.0, 9.0], &[2.0, 3.0, 100.0]), 1.0);
        assert_eq!(spearman(&[1.0, 5.0, 9.0], &[3.0, 2.0, 1.0]), -1.0);
        assert_eq!(spearman(&[1.0, 5.0, 9.0], &[4.0, 4.0, 4.0]), 0.0);
        // d = (0, 1, −1, 0): ρ = 1 − 6·2/(4·15) = 0.8.
        let r = spearman(&[1.0, 2.0, 3.0, 4.0], &[1.0, 3.0, 2.0, 4.0]);
        assert!((r - 0.8).abs() < 1e-12);
    }

    #[test]
    fn shares_sum_to_one() {
        let s = shares(&[0.6, -0.3, 0.1]);
        let total: f64 = s.iter().map(|x| x.contribution).sum();
        assert!((total - 1.0).abs() < 1e-5);
        assert!((s[0].contribution - 0.36 / 0.46).abs() < 1e-6);
        assert_eq!(s[1].rank_correlation, -0.3);
    }
}
