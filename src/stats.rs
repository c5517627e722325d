//! Statistics of per-run values (SPEC §3.2): mean, standard deviation and
//! exact percentiles, and the overspend measures.
//!
//! Percentiles interpolate linearly between order statistics — the
//! definition of Excel's `PERCENTILE.INC` (Hyndman & Fan type 7): the p-th
//! percentile of n sorted values sits at position (n − 1)·p.

use serde::{Deserialize, Serialize};

/// Summary statistics of one output across runs.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
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

impl Summary {
    /// Summarises `values` (reordered in place).
    pub fn of(values: &mut [f64]) -> Summary {
        let n = values.len();
        if n == 0 {
            return Summary {
                mean: 0.0,
                sd: 0.0,
                p5: 0.0,
                p10: 0.0,
                p25: 0.0,
                p50: 0.0,
                p75: 0.0,
                p90: 0.0,
                p95: 0.0,
            };
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
        let q = |p: f64| percentile_sorted(values, p);
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
        }
    }

    /// The statistics as (name, value) pairs, in the order of the JSON.
    pub fn fields(&self) -> [(&'static str, f64); 9] {
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
        ]
    }

    /// Every statistic rounded to `dp` decimal places.
    pub fn rounded(self, dp: i32) -> Summary {
        let r = |x: f64| round_dp(x, dp);
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

/// How far cost exceeds the budget, across runs.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Overspend {
    /// Share of runs whose cost is above the budget.
    pub probability: f64,
    /// Mean of max(cost − budget, 0) over all runs.
    pub mean: f64,
    /// Mean overspend over the runs that overspend; null when none does.
    pub mean_if_overspent: Option<f64>,
}

impl Overspend {
    /// From per-run costs and the budget, both in whole pence.
    pub fn of(cost_pence: &[i64], budget_pence: i64) -> Overspend {
        let n = cost_pence.len().max(1) as f64;
        let over: Vec<i64> = cost_pence
            .iter()
            .map(|c| c - budget_pence)
            .filter(|&d| d > 0)
            .collect();
        let total: i128 = over.iter().map(|&d| d as i128).sum();
        let pounds = total as f64 / 100.0;
        Overspend {
            probability: over.len() as f64 / n,
            mean: round_dp(pounds / n, 2),
            mean_if_overspent: if over.is_empty() {
                None
            } else {
                Some(round_dp(pounds / over.len() as f64, 2))
            },
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
}
