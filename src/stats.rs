//! Statistics of per-run values (docs/outputs.md): mean, standard deviation and
//! exact percentiles, the overspend measures, and the Monte Carlo error of
//! each figure (issue 7, part 3).
//!
//! Percentiles interpolate linearly between order statistics — the
//! definition of Excel's `PERCENTILE.INC` (Hyndman & Fan type 7): the p-th
//! percentile of n sorted values sits at position (n − 1)·p.
//!
//! # Monte Carlo error
//! Every interval is a two-sided 95% interval for the figure the runs
//! estimate (the figure an infinite number of runs would give):
//! - **Mean**: standard error `se = sd / √n`; `mean ± 1.96·se` is the usual
//!   95% interval (central limit theorem).
//! - **Percentiles**: distribution-free intervals from order statistics. With
//!   `B ~ Binomial(n, p)` the number of runs below the true p-quantile `ξ_p`,
//!   `P(X_(l) ≤ ξ_p ≤ X_(u)) = P(l ≤ B ≤ u − 1) = F(u − 1) − F(l − 1)` for
//!   any continuous distribution (and at least that for a discrete one).
//!   For n ≤ [`EXACT_RANKS_UP_TO`] the ranks come from the exact binomial
//!   CDF, equal tails: `l` is the largest rank with `F(l − 1) ≤ 0.025`, `u`
//!   the smallest with `F(u − 1) ≥ 0.975`, so the coverage is at least 95%.
//!   Above that, the normal approximation `np ± 1.96·√(np(1 − p))`, widened
//!   outwards to whole ranks (`l = ⌊np − 1.96σ⌋`, `u = ⌈np + 1.96σ⌉ + 1`);
//!   a unit test checks its exact coverage is at least 95% for n from 1,001
//!   to 10⁶. When the runs are too few for a bound (e.g. fewer than 72 runs
//!   cannot put a lower bound under P5), that bound is absent.
//! - **Probabilities** (P(overspend)): the Wilson score interval
//!   `(p̂ + z²/2n ± z·√(p̂(1 − p̂)/n + z²/4n²)) / (1 + z²/n)` with z = 1.96.
//!   It is never degenerate: with no run over budget it is `[0, z²/(n + z²)]`.
//!
//! A single run (the central projection) has no Monte Carlo error: no
//! intervals are given.

use serde::{Deserialize, Serialize};

/// Standard normal quantile of 0.975: the z of every 95% interval.
pub const Z95: f64 = 1.959_963_984_540_054;

/// Up to this many runs, percentile intervals use exact binomial ranks; above
/// it, the normal approximation.
pub const EXACT_RANKS_UP_TO: usize = 1000;

/// Summary statistics of one output across runs, with the Monte Carlo error
/// of each figure when there is more than one run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    pub mean: f64,
    /// Sample standard deviation (n − 1 denominator; 0 for a single run).
    pub sd: f64,
    pub p5: f64,
    pub p10: f64,
    pub p25: f64,
    pub p50: f64,
    pub p75: f64,
    pub p90: f64,
    pub p95: f64,
    #[serde(default)]
    pub p99: f64,
    /// Expected shortfall beyond P95: the mean of the worst 5% of runs (the
    /// largest ⌈n/20⌉ values).
    #[serde(default)]
    pub expected_shortfall: f64,
    /// Standard error of the mean, `sd / √n`; absent for a single run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mean_se: Option<f64>,
    /// 95% interval of each percentile (order statistics); a bound is
    /// absent when the runs are too few to give it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub p5_lo: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub p5_hi: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub p10_lo: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub p10_hi: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub p25_lo: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub p25_hi: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub p50_lo: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub p50_hi: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub p75_lo: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub p75_hi: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub p90_lo: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub p90_hi: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub p95_lo: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub p95_hi: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub p99_lo: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub p99_hi: Option<f64>,
    /// Once the runs are too many for every value to be kept (see
    /// [`crate::tally`]), the largest distance between a reported
    /// percentile and the value the runs give exactly; absent when exact.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sketch_error: Option<f64>,
}

/// The percentiles reported, with their names.
pub const PERCENTILES: [(&str, f64); 7] = [
    ("p5", 0.05),
    ("p10", 0.10),
    ("p25", 0.25),
    ("p50", 0.50),
    ("p75", 0.75),
    ("p90", 0.90),
    ("p95", 0.95),
];

/// A percentile's estimate and its 95% interval.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Interval {
    pub estimate: f64,
    pub lo: Option<f64>,
    pub hi: Option<f64>,
}

impl Interval {
    /// The largest distance from the estimate to a bound: the interval lies
    /// within `estimate ± half_width`. Infinite when a bound is absent.
    pub fn half_width(&self) -> f64 {
        match (self.lo, self.hi) {
            (Some(lo), Some(hi)) => (self.estimate - lo).max(hi - self.estimate).max(0.0),
            _ => f64::INFINITY,
        }
    }
}

impl Summary {
    /// Summarises `values` (reordered in place).
    pub fn of(values: &mut [f64]) -> Summary {
        let n = values.len();
        if n == 0 {
            return Summary::default();
        }
        // Sums in run order, before sorting: the same values always give the
        // same bits.
        let mean = values.iter().sum::<f64>() / n as f64;
        let sd = if n > 1 {
            (values.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1) as f64).sqrt()
        } else {
            0.0
        };
        values.sort_unstable_by(f64::total_cmp);
        let sorted: &[f64] = values;
        let q = |p: f64| percentile_sorted(sorted, p);
        // Bounds of each percentile's interval: order statistics (1-based ranks).
        let ranks = if n < 2 {
            [(None, None); 7]
        } else {
            percentile_ranks(n)
        };
        let ci = |i: usize| -> (Option<f64>, Option<f64>) {
            let (l, u) = ranks[i];
            (l.map(|l| sorted[l - 1]), u.map(|u| sorted[u - 1]))
        };
        let (p5_lo, p5_hi) = ci(0);
        let (p10_lo, p10_hi) = ci(1);
        let (p25_lo, p25_hi) = ci(2);
        let (p50_lo, p50_hi) = ci(3);
        let (p75_lo, p75_hi) = ci(4);
        let (p90_lo, p90_hi) = ci(5);
        let (p95_lo, p95_hi) = ci(6);
        let (p99_lo, p99_hi) = if n < 2 {
            (None, None)
        } else {
            let (l, u) = quantile_ranks(n, 0.99);
            (l.map(|l| sorted[l - 1]), u.map(|u| sorted[u - 1]))
        };
        let worst = n.div_ceil(20);
        let expected_shortfall = sorted[n - worst..].iter().sum::<f64>() / worst as f64;
        Summary {
            mean,
            sd,
            p5: q(0.05),
            p10: q(0.10),
            p25: q(0.25),
            p50: q(0.50),
            p75: q(0.75),
            p90: q(0.90),
            p95: q(0.95),
            p99: q(0.99),
            expected_shortfall,
            mean_se: (n > 1).then(|| sd / (n as f64).sqrt()),
            p5_lo,
            p5_hi,
            p10_lo,
            p10_hi,
            p25_lo,
            p25_hi,
            p50_lo,
            p50_hi,
            p75_lo,
            p75_hi,
            p90_lo,
            p90_hi,
            p95_lo,
            p95_hi,
            p99_lo,
            p99_hi,
            sketch_error: None,
        }
    }

    /// The statistics as (name, value) pairs, in the order of the JSON.
    pub fn fields(&self) -> [(&'static str, f64); 11] {
        [
            ("mean", self.mean),
            ("sd", self.sd),
            ("p5", self.p5),
            ("p10", self.p10),
            ("p25", self.p25),
            ("p50", self.p50),
            ("p75", self.p75),
            ("p90", self.p90),
            ("p95", self.p95),
            ("p99", self.p99),
            ("expected_shortfall", self.expected_shortfall),
        ]
    }

    /// The Monte Carlo error figures present, as (name, value) pairs in the
    /// order of the JSON: `mean_se`, then `p5_lo`, `p5_hi`, … `p95_hi`.
    pub fn error_fields(&self) -> Vec<(&'static str, f64)> {
        [
            ("mean_se", self.mean_se),
            ("p5_lo", self.p5_lo),
            ("p5_hi", self.p5_hi),
            ("p10_lo", self.p10_lo),
            ("p10_hi", self.p10_hi),
            ("p25_lo", self.p25_lo),
            ("p25_hi", self.p25_hi),
            ("p50_lo", self.p50_lo),
            ("p50_hi", self.p50_hi),
            ("p75_lo", self.p75_lo),
            ("p75_hi", self.p75_hi),
            ("p90_lo", self.p90_lo),
            ("p90_hi", self.p90_hi),
            ("p95_lo", self.p95_lo),
            ("p95_hi", self.p95_hi),
            ("p99_lo", self.p99_lo),
            ("p99_hi", self.p99_hi),
            ("sketch_error", self.sketch_error),
        ]
        .into_iter()
        .filter_map(|(name, v)| v.map(|v| (name, v)))
        .collect()
    }

    /// Each reported percentile with its interval, in the order of
    /// [`PERCENTILES`].
    pub fn intervals(&self) -> [Interval; 7] {
        let i = |estimate, lo, hi| Interval { estimate, lo, hi };
        [
            i(self.p5, self.p5_lo, self.p5_hi),
            i(self.p10, self.p10_lo, self.p10_hi),
            i(self.p25, self.p25_lo, self.p25_hi),
            i(self.p50, self.p50_lo, self.p50_hi),
            i(self.p75, self.p75_lo, self.p75_hi),
            i(self.p90, self.p90_lo, self.p90_hi),
            i(self.p95, self.p95_lo, self.p95_hi),
        ]
    }

    /// The median with its interval.
    pub fn p50_interval(&self) -> Interval {
        self.intervals()[3]
    }

    /// The 90th percentile with its interval.
    pub fn p90_interval(&self) -> Interval {
        self.intervals()[5]
    }

    /// Every statistic rounded to `dp` decimal places.
    pub fn rounded(self, dp: i32) -> Summary {
        let r = |x: f64| round_dp(x, dp);
        let o = |x: Option<f64>| x.map(r);
        Summary {
            mean: r(self.mean),
            sd: r(self.sd),
            p5: r(self.p5),
            p10: r(self.p10),
            p25: r(self.p25),
            p50: r(self.p50),
            p75: r(self.p75),
            p90: r(self.p90),
            p95: r(self.p95),
            p99: r(self.p99),
            expected_shortfall: r(self.expected_shortfall),
            mean_se: o(self.mean_se),
            p5_lo: o(self.p5_lo),
            p5_hi: o(self.p5_hi),
            p10_lo: o(self.p10_lo),
            p10_hi: o(self.p10_hi),
            p25_lo: o(self.p25_lo),
            p25_hi: o(self.p25_hi),
            p50_lo: o(self.p50_lo),
            p50_hi: o(self.p50_hi),
            p75_lo: o(self.p75_lo),
            p75_hi: o(self.p75_hi),
            p90_lo: o(self.p90_lo),
            p90_hi: o(self.p90_hi),
            p95_lo: o(self.p95_lo),
            p95_hi: o(self.p95_hi),
            p99_lo: o(self.p99_lo),
            p99_hi: o(self.p99_hi),
            sketch_error: o(self.sketch_error),
        }
    }
}

/// Rounds half away from zero to `dp` decimal places.
pub fn round_dp(x: f64, dp: i32) -> f64 {
    let f = 10f64.powi(dp);
    let y = (x * f).round() / f;
    if y == 0.0 { 0.0 } else { y }
}

/// The p-quantile (0 ≤ p ≤ 1) of sorted values, type 7.
pub fn percentile_sorted(sorted: &[f64], p: f64) -> f64 {
    let n = sorted.len();
    if n == 0 {
        return f64::NAN;
    }
    let h = (n - 1) as f64 * p;
    let lo = h.floor() as usize;
    let hi = (lo + 1).min(n - 1);
    sorted[lo] + (h - lo as f64) * (sorted[hi] - sorted[lo])
}

/// `F(k) = P(B ≤ k)` for `B ~ Binomial(n, p)`, k = 0..=n, summed from the
/// probabilities computed in logarithms (no underflow for large n).
pub fn binomial_cdf(n: usize, p: f64) -> Vec<f64> {
    let (lp, lq) = (p.ln(), (-p).ln_1p());
    let mut cdf = Vec::with_capacity(n + 1);
    let mut log_pmf = n as f64 * lq;
    let mut total = 0.0;
    for k in 0..=n {
        if k > 0 {
            log_pmf += ((n - k + 1) as f64 / k as f64).ln() + lp - lq;
        }
        total += log_pmf.exp();
        cdf.push(total.min(1.0));
    }
    cdf
}

/// 1-based ranks `(l, u)` of the order statistics that bound the p-quantile
/// (0 < p < 1) of n runs with probability at least 95% (see the module
/// docs); `None` where n is too small for that bound.
pub fn quantile_ranks(n: usize, p: f64) -> (Option<usize>, Option<usize>) {
    if n == 0 {
        return (None, None);
    }
    let tail = (1.0 - 0.95) / 2.0;
    if n <= EXACT_RANKS_UP_TO {
        let cdf = binomial_cdf(n, p);
        // l − 1 = the largest k with F(k) ≤ tail; u − 1 = the smallest k with F(k) ≥ 1 − tail.
        let l = cdf[..n].iter().rposition(|&f| f <= tail).map(|k| k + 1);
        let u = cdf[..n]
            .iter()
            .position(|&f| f >= 1.0 - tail)
            .map(|k| k + 1);
        return (l, u);
    }
    let centre = n as f64 * p;
    let spread = Z95 * (centre * (1.0 - p)).sqrt();
    let l = (centre - spread).floor();
    let u = (centre + spread).ceil() + 1.0;
    (
        (l >= 1.0).then_some(l as usize),
        (u <= n as f64).then_some(u as usize),
    )
}

/// Ranks of the intervals of every reported percentile ([`PERCENTILES`])
/// for n runs. Every summary of a report has the same n, so the last answer
/// is kept per thread: the exact ranks cost O(n) each.
fn percentile_ranks(n: usize) -> [(Option<usize>, Option<usize>); 7] {
    type Ranks = [(Option<usize>, Option<usize>); 7];
    thread_local! {
        static LAST: std::cell::Cell<Option<(usize, Ranks)>> = const { std::cell::Cell::new(None) };
    }
    LAST.with(|last| match last.get() {
        Some((m, ranks)) if m == n => ranks,
        _ => {
            let ranks = PERCENTILES.map(|(_, p)| quantile_ranks(n, p));
            last.set(Some((n, ranks)));
            ranks
        }
    })
}

/// The exact probability that order statistics of ranks `(l, u)` bound the
/// p-quantile of n runs: `F(u − 1) − F(l − 1)`, an absent bound counting as
/// unbounded.
pub fn rank_coverage(n: usize, p: f64, ranks: (Option<usize>, Option<usize>)) -> f64 {
    let cdf = binomial_cdf(n, p);
    let upper = ranks.1.map_or(1.0, |u| cdf[u - 1]);
    let lower = ranks.0.map_or(0.0, |l| cdf[l - 1]);
    upper - lower
}

/// The Wilson score 95% interval of a proportion: `hits` successes in `n`
/// trials (see the module docs). `None` for n = 0.
pub fn wilson(hits: usize, n: usize) -> Option<(f64, f64)> {
    if n == 0 {
        return None;
    }
    let (x, n) = (hits as f64, n as f64);
    let p = x / n;
    let z2 = Z95 * Z95;
    let centre = (p + z2 / (2.0 * n)) / (1.0 + z2 / n);
    let half = Z95 / (1.0 + z2 / n) * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt();
    let lo = if x == 0.0 {
        0.0
    } else {
        (centre - half).max(0.0)
    };
    let hi = if x == n {
        1.0
    } else {
        (centre + half).min(1.0)
    };
    Some((lo, hi))
}

/// What counts as an overspend: a cost above the budget by more than this,
/// in pence (£1). A run that ends a penny over budget is on budget, not an
/// overspend: money is rounded to pence, and a savings target met to the
/// pound is met.
pub const OVERSPEND_TOLERANCE_PENCE: i64 = 100;

/// How far cost exceeds the budget, across runs. A run overspends when its
/// cost exceeds the budget by more than `tolerance`; its overspend is then
/// the whole of cost − budget.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Overspend {
    /// Share of runs whose cost is above the budget by more than the tolerance.
    pub probability: f64,
    /// Mean overspend over all runs, the runs that do not overspend counting as 0.
    pub mean: f64,
    /// Mean overspend over the runs that overspend; null when none does.
    pub mean_if_overspent: Option<f64>,
    /// The tolerance in pounds: a cost up to this much above the budget is
    /// not an overspend.
    #[serde(default = "default_tolerance")]
    pub tolerance: f64,
    /// Wilson 95% interval of the probability; absent for a single run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub probability_lo: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub probability_hi: Option<f64>,
    /// Standard error of `mean`; absent for a single run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mean_se: Option<f64>,
    /// P95 and P99 of the overspend (0 for a run within budget), and its
    /// expected shortfall beyond P95: the mean overspend of the worst 5% of
    /// runs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub p95: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub p99: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected_shortfall: Option<f64>,
    /// Beyond the runs kept exactly: how far `p95`, `p99` and
    /// `expected_shortfall`, which come from the cost's sketch, may be from
    /// their exact values, in pounds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sketch_error: Option<f64>,
}

fn default_tolerance() -> f64 {
    OVERSPEND_TOLERANCE_PENCE as f64 / 100.0
}

impl Overspend {
    /// From per-run costs and the budget, both in whole pence, with the
    /// default tolerance ([`OVERSPEND_TOLERANCE_PENCE`]).
    pub fn of(cost_pence: &[i64], budget_pence: i64) -> Overspend {
        Overspend::with_tolerance(cost_pence, budget_pence, OVERSPEND_TOLERANCE_PENCE)
    }

    /// From per-run costs and the budget, a run overspending when its cost
    /// exceeds the budget by more than `tolerance_pence`.
    pub fn with_tolerance(
        cost_pence: &[i64],
        budget_pence: i64,
        tolerance_pence: i64,
    ) -> Overspend {
        let runs = cost_pence.len();
        let n = runs.max(1) as f64;
        let over: Vec<i64> = cost_pence
            .iter()
            .map(|c| c - budget_pence)
            .filter(|&d| d > tolerance_pence)
            .collect();
        let total: i128 = over.iter().map(|&d| d as i128).sum();
        let pounds = total as f64 / 100.0;
        let mean = pounds / n;
        // Standard deviation of max(cost − budget, 0) over all runs, the
        // runs within budget counting as 0.
        let mean_se = (runs > 1).then(|| {
            let squares: f64 = over
                .iter()
                .map(|&d| (d as f64 / 100.0 - mean).powi(2))
                .sum::<f64>()
                + (runs - over.len()) as f64 * mean * mean;
            round_dp((squares / (n - 1.0)).sqrt() / n.sqrt(), 2)
        });
        let interval = if runs > 1 {
            wilson(over.len(), runs)
        } else {
            None
        };
        Overspend {
            probability: over.len() as f64 / n,
            mean: round_dp(mean, 2),
            mean_if_overspent: if over.is_empty() {
                None
            } else {
                Some(round_dp(pounds / over.len() as f64, 2))
            },
            tolerance: tolerance_pence as f64 / 100.0,
            probability_lo: interval.map(|i| i.0),
            probability_hi: interval.map(|i| i.1),
            mean_se,
            p95: None,
            p99: None,
            expected_shortfall: None,
            sketch_error: None,
        }
    }

    /// The probability with its interval.
    pub fn probability_interval(&self) -> Interval {
        Interval {
            estimate: self.probability,
            lo: self.probability_lo,
            hi: self.probability_hi,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_match_excel_percentile_inc() {
        // Excel: PERCENTILE.INC({1,2,3,4,5,6,7,8,9,10}, p)
        let mut v: Vec<f64> = (1..=10).rev().map(f64::from).collect();
        let s = Summary::of(&mut v);
        assert_eq!(s.p50, 5.5);
        assert!((s.p10 - 1.9).abs() < 1e-12);
        assert!((s.p90 - 9.1).abs() < 1e-12);
        assert!((s.p25 - 3.25).abs() < 1e-12);
        assert!((s.p5 - 1.45).abs() < 1e-12);
        assert_eq!(s.mean, 5.5);
        assert!((s.sd - 3.027_650_354_097_491_7).abs() < 1e-12);
    }

    #[test]
    fn a_single_run_has_no_spread() {
        let s = Summary::of(&mut [42.0]);
        assert_eq!((s.mean, s.sd, s.p5, s.p95), (42.0, 0.0, 42.0, 42.0));
    }

    #[test]
    fn overspend_measures() {
        // Budget £100; costs £90, £100, £110, £130.
        let o = Overspend::of(&[9000, 10000, 11000, 13000], 10000);
        assert_eq!(o.probability, 0.5);
        assert_eq!(o.mean, 10.0);
        assert_eq!(o.mean_if_overspent, Some(20.0));
        let none = Overspend::of(&[9000], 10000);
        assert_eq!(none.mean_if_overspent, None);
        assert_eq!(none.probability, 0.0);
    }

    #[test]
    fn a_cost_within_the_tolerance_of_the_budget_is_not_an_overspend() {
        // Budget £100: £100.01 and £101.00 are within £1; £101.01 is over.
        let o = Overspend::of(&[10001, 10100, 10101, 9000], 10000);
        assert_eq!(o.probability, 0.25);
        assert_eq!(o.mean_if_overspent, Some(1.01));
        assert_eq!(o.tolerance, 1.0);
        // A tolerance of zero counts every penny.
        let strict = Overspend::with_tolerance(&[10001, 10100, 10101, 9000], 10000, 0);
        assert_eq!(strict.probability, 0.75);
        assert_eq!(strict.tolerance, 0.0);
    }

    #[test]
    fn the_standard_error_of_a_mean_is_sd_over_root_n() {
        let mut v: Vec<f64> = (1..=10).map(f64::from).collect();
        let s = Summary::of(&mut v);
        let se = s.mean_se.unwrap();
        assert!((se - 3.027_650_354_097_491_7 / 10f64.sqrt()).abs() < 1e-12);
        // Overspends 0, 0, £10, £30: mean £10, sd √200, se √200 / 2.
        let o = Overspend::of(&[9000, 10000, 11000, 13000], 10000);
        assert_eq!(o.mean_se, Some(7.07));
        // One run: no Monte Carlo error to speak of.
        assert_eq!(Summary::of(&mut [1.0]).mean_se, None);
        assert_eq!(Summary::of(&mut [1.0]).error_fields(), vec![]);
        let one = Overspend::of(&[11000], 10000);
        assert_eq!((one.probability_lo, one.mean_se), (None, None));
    }

    #[test]
    fn median_of_100_runs_is_bounded_by_the_40th_and_61st() {
        // The textbook answer: P(40 ≤ B ≤ 60) = 0.9648 for B ~ Bin(100, ½).
        let ranks = quantile_ranks(100, 0.5);
        assert_eq!(ranks, (Some(40), Some(61)));
        assert!((rank_coverage(100, 0.5, ranks) - 0.9648).abs() < 1e-4);
        let mut v: Vec<f64> = (1..=100).rev().map(f64::from).collect();
        let s = Summary::of(&mut v);
        assert_eq!((s.p50_lo, s.p50_hi), (Some(40.0), Some(61.0)));
    }

    #[test]
    fn too_few_runs_leave_a_bound_open() {
        // Ten runs: P(no run below P5) = 0.95¹⁰ = 0.60 > 2.5%, so no lower
        // bound; F(2) = 0.9885 ≥ 97.5% gives the third smallest as the upper.
        assert_eq!(quantile_ranks(10, 0.05), (None, Some(3)));
        assert_eq!(quantile_ranks(10, 0.95), (Some(8), None));
        // 72 runs is the fewest that bound P5 from below: 0.95⁷² < 2.5% < 0.95⁷¹.
        assert_eq!(quantile_ranks(71, 0.05).0, None);
        assert_eq!(quantile_ranks(72, 0.05).0, Some(1));
        let mut v: Vec<f64> = (1..=10).map(f64::from).collect();
        let s = Summary::of(&mut v);
        assert_eq!((s.p5_lo, s.p5_hi), (None, Some(3.0)));
        assert_eq!(s.intervals()[0].half_width(), f64::INFINITY);
    }

    #[test]
    fn exact_ranks_cover_at_least_95_percent() {
        for n in [2, 5, 20, 59, 100, 333, 1000] {
            for (_, p) in PERCENTILES {
                let c = rank_coverage(n, p, quantile_ranks(n, p));
                assert!(c >= 0.95 - 1e-12, "n {n} p {p}: {c}");
            }
        }
    }

    #[test]
    fn normal_approximation_ranks_cover_at_least_95_percent() {
        for n in [1001, 1500, 2000, 5000, 20_000, 100_000, 1_000_000] {
            for (_, p) in PERCENTILES {
                let ranks = quantile_ranks(n, p);
                let c = rank_coverage(n, p, ranks);
                // Not wastefully wide either: below 97% (measured: 95.0–96.5%
                // at these n).
                assert!((0.95..0.97).contains(&c), "n {n} p {p}: {ranks:?} {c}");
            }
        }
    }

    #[test]
    fn binomial_cdf_matches_hand_values() {
        // Bin(3, ½): 1/8, 4/8, 7/8, 1.
        let f = binomial_cdf(3, 0.5);
        for (got, want) in f.iter().zip([0.125, 0.5, 0.875, 1.0]) {
            assert!((got - want).abs() < 1e-12);
        }
    }

    #[test]
    fn wilson_interval_matches_hand_values() {
        // 5 of 10: (0.5 ± 1.96/1.3841·√(0.025 + 1.96²/400)) = 0.2366 to 0.7634.
        let (lo, hi) = wilson(5, 10).unwrap();
        assert!((lo - 0.236_593).abs() < 1e-6 && (hi - 0.763_407).abs() < 1e-6);
        // None of 10: 0 to z²/(n + z²) = 3.8415/13.8415.
        let (lo, hi) = wilson(0, 10).unwrap();
        assert_eq!(lo, 0.0);
        assert!((hi - 0.277_533).abs() < 1e-6);
        let (lo, hi) = wilson(10, 10).unwrap();
        assert!((lo - 0.722_467).abs() < 1e-6);
        assert_eq!(hi, 1.0);
        assert_eq!(wilson(0, 0), None);
    }
}
