//! What drives the spread of the results, read from the runs themselves
//! with no extra simulation: each run records the value every uncertain
//! input took (see [`crate::model::inputs`]), and an input's weight is the
//! correlation of its **CDF score** — where the value falls in the input's
//! own distribution, F(x), between 0 and 1 — with the run's cost.
//!
//! The correlation comes from sums over runs (of the scores, of the costs
//! in pence, of their squares and of their products), kept as integers, so
//! that it merges exactly across threads and shards whatever the number of
//! runs: the score is counted in steps of 1/(2·[`GRID`]) from a table of
//! the input's quantiles, a value equal to a quantile counting half (the
//! mid-rank of a tie, as for a programme delivered or not).
//!
//! Contribution to variance follows the rank-correlation method of
//! Crystal Ball: input i's share of an output is ρᵢ² / Σⱼ ρⱼ², with ρ the
//! correlation of the input's CDF score with the output. The score is the
//! population version of the input's rank, so ρ is a rank correlation on
//! the input's side; on the output's side the cost itself is used (its
//! ranks would need every run kept). For inputs that act on the output
//! independently and linearly the shares are close to the share of the
//! output's variance each explains. The realised correlation of two
//! correlated inputs is the correlation of their scores: Spearman's ρ of
//! the population.

use serde::{Deserialize, Serialize};

use crate::engine::ScenarioRuns;
use crate::model::Model;
use crate::model::inputs::InputKind;
use crate::model::layout::Layout;
use crate::model::layout::YearField;
use crate::tally::Wide;

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

/// Points of each input's quantile table. Scores in steps of 1/128 lose
/// about 1/(12·128²) of a uniform's variance, nothing a correlation shows,
/// and the table costs 64 quantiles an input (a beta's takes some
/// sixty evaluations of its distribution function by bisection).
pub const GRID: usize = 64;

/// The quantile tables that turn an input's value into its CDF score, and
/// where the pairs the config correlates sit among the inputs.
pub struct Scores {
    /// Per input, its quantiles at (j + ½)/GRID, j = 0..GRID.
    tables: Vec<Vec<f64>>,
    /// Per `[[correlation]]` asked for: the inputs (positions), the paths
    /// and the correlation asked.
    pairs: Vec<(usize, usize, [String; 2], f64)>,
    /// The inputs' paths.
    paths: Vec<String>,
}

/// Sums over runs from which the correlations are computed (all exact).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DriverSums {
    pub n: u64,
    /// Per input: Σs and Σs², s the score in steps of 1/(2·GRID).
    pub s: Vec<i128>,
    pub ss: Vec<i128>,
    /// Per output (each year's cost, then the horizon's), in pence: Σy, Σy².
    pub y: Vec<i128>,
    pub yy: Vec<Wide>,
    /// Per input and output (input-major): Σs·y.
    pub sy: Vec<i128>,
    /// Per correlated pair: Σs_a·s_b.
    pub pairs: Vec<i128>,
}

impl DriverSums {
    pub fn merge(&mut self, o: &DriverSums) {
        self.n += o.n;
        let add = |a: &mut Vec<i128>, b: &Vec<i128>| {
            for (x, y) in a.iter_mut().zip(b) {
                *x += y;
            }
        };
        add(&mut self.s, &o.s);
        add(&mut self.ss, &o.ss);
        add(&mut self.y, &o.y);
        add(&mut self.sy, &o.sy);
        add(&mut self.pairs, &o.pairs);
        for (x, y) in self.yy.iter_mut().zip(&o.yy) {
            x.merge(y);
        }
    }
}

/// Pearson correlation from exact sums; 0 when either side is constant.
fn correlation(n: u64, sx: i128, sxx: f64, sy: i128, syy: f64, sxy: i128) -> f64 {
    if n < 2 {
        return 0.0;
    }
    let n = n as f64;
    let cov = sxy as f64 - sx as f64 * sy as f64 / n;
    let vx = sxx - sx as f64 * sx as f64 / n;
    let vy = syy - sy as f64 * sy as f64 / n;
    if vx <= 0.0 || vy <= 0.0 {
        0.0
    } else {
        (cov / (vx * vy).sqrt()).clamp(-1.0, 1.0)
    }
}

impl Scores {
    pub fn new(model: &Model, layout: &Layout) -> Scores {
        let tables = layout
            .inputs
            .iter()
            .map(|input| {
                (0..GRID)
                    .map(|j| input.quantile(model, (j as f64 + 0.5) / GRID as f64))
                    .collect()
            })
            .collect();
        let pairs = match &model.copula {
            None => Vec::new(),
            Some(copula) => {
                let position = |member: usize| {
                    let id = copula.members[member];
                    layout
                        .inputs
                        .iter()
                        .position(|i| i.kind == InputKind::Param(id))
                };
                copula
                    .requested
                    .iter()
                    .filter_map(|&(a, b, r)| {
                        Some((
                            position(a)?,
                            position(b)?,
                            [
                                model.param(copula.members[a]).path.clone(),
                                model.param(copula.members[b]).path.clone(),
                            ],
                            r,
                        ))
                    })
                    .collect()
            }
        };
        Scores {
            tables,
            pairs,
            paths: layout.inputs.iter().map(|i| i.path.clone()).collect(),
        }
    }

    /// Empty sums for a model of `years` years.
    pub fn empty(&self, years: usize) -> DriverSums {
        let (k, o) = (self.tables.len(), years + 1);
        DriverSums {
            n: 0,
            s: vec![0; k],
            ss: vec![0; k],
            y: vec![0; o],
            yy: vec![Wide::default(); o],
            sy: vec![0; k * o],
            pairs: vec![0; self.pairs.len()],
        }
    }

    /// The score of value `x` of input `k`, in steps of 1/(2·GRID): the
    /// quantiles below it count 2, those equal to it 1.
    fn score(&self, k: usize, x: f64) -> i128 {
        let t = &self.tables[k];
        let below = t.partition_point(|&q| q < x);
        let at_most = t.partition_point(|&q| q <= x);
        (below + at_most) as i128
    }

    /// Adds one run's row.
    pub fn add(&self, layout: &Layout, sums: &mut DriverSums, row: &[f64]) {
        if self.tables.is_empty() {
            return;
        }
        sums.n += 1;
        let years = layout.years;
        let mut ys = Vec::with_capacity(years + 1);
        let mut total = 0i128;
        for fy in 0..years {
            let y = (row[layout.year(fy, YearField::Cost)] * 100.0).round() as i128;
            total += y;
            ys.push(y);
        }
        ys.push(total);
        for (o, &y) in ys.iter().enumerate() {
            sums.y[o] += y;
            sums.yy[o].add(y.unsigned_abs() * y.unsigned_abs());
        }
        let scores: Vec<i128> = (0..self.tables.len())
            .map(|k| self.score(k, row[layout.input(k)]))
            .collect();
        let o = ys.len();
        for (k, &s) in scores.iter().enumerate() {
            sums.s[k] += s;
            sums.ss[k] += s * s;
            for (j, &y) in ys.iter().enumerate() {
                sums.sy[k * o + j] += s * y;
            }
        }
        for (p, &(a, b, _, _)) in self.pairs.iter().enumerate() {
            sums.pairs[p] += scores[a] * scores[b];
        }
    }

    /// The contribution of every input to each year's cost and the
    /// horizon's, ranked by contribution to the horizon's cost (largest
    /// first). None with fewer than three runs.
    pub fn contributions(&self, sums: &DriverSums) -> Vec<Contribution> {
        if self.tables.is_empty() || sums.n < 3 {
            return Vec::new();
        }
        let o = sums.y.len();
        let years = o - 1;
        let rho = |k: usize, j: usize| {
            correlation(
                sums.n,
                sums.s[k],
                sums.ss[k] as f64,
                sums.y[j],
                sums.yy[j].to_f64(),
                sums.sy[k * o + j],
            )
        };
        let per_output: Vec<Vec<Share>> = (0..o)
            .map(|j| {
                shares(
                    &(0..self.tables.len())
                        .map(|k| rho(k, j))
                        .collect::<Vec<_>>(),
                )
            })
            .collect();
        let mut out: Vec<Contribution> = self
            .paths
            .iter()
            .enumerate()
            .map(|(k, path)| Contribution {
                input: path.clone(),
                years: (0..years).map(|fy| per_output[fy][k]).collect(),
                total: per_output[years][k],
            })
            .collect();
        out.sort_by(|a, b| b.total.contribution.total_cmp(&a.total.contribution));
        out
    }

    /// The realised correlation of every pair the config correlates.
    pub fn realised_correlations(&self, sums: &DriverSums) -> Vec<RealisedCorrelation> {
        if sums.n == 0 {
            return Vec::new();
        }
        self.pairs
            .iter()
            .enumerate()
            .map(|(p, (a, b, inputs, requested))| RealisedCorrelation {
                inputs: inputs.clone(),
                requested: *requested,
                realised: round6(correlation(
                    sums.n,
                    sums.s[*a],
                    sums.ss[*a] as f64,
                    sums.s[*b],
                    sums.ss[*b] as f64,
                    sums.pairs[p],
                )),
            })
            .collect()
    }
}

/// The contributions of a run kept row by row (see [`Scores`]).
pub fn contributions(model: &Model, runs: &ScenarioRuns) -> Vec<Contribution> {
    let scores = Scores::new(model, &runs.layout);
    let sums = sums_of(&scores, runs);
    scores.contributions(&sums)
}

/// The realised correlations of a run kept row by row (see [`Scores`]).
pub fn realised_correlations(model: &Model, runs: &ScenarioRuns) -> Vec<RealisedCorrelation> {
    let scores = Scores::new(model, &runs.layout);
    let sums = sums_of(&scores, runs);
    scores.realised_correlations(&sums)
}

fn sums_of(scores: &Scores, runs: &ScenarioRuns) -> DriverSums {
    let mut sums = scores.empty(runs.layout.years);
    for row in runs.data.chunks(runs.layout.width().max(1)) {
        scores.add(&runs.layout, &mut sums, row);
    }
    sums
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
