//! One-at-a-time sensitivity (the tornado): each uncertain input is held at
//! its P10 and then at its P90 in every run while everything else stays
//! random, and the change in the cost of each financial year (mean, P90)
//! and in the probability of an overspend is measured against the free run.
//!
//! All three runs of an input use the same seed, and a held input leaves
//! every other input's stream untouched (see [`crate::model::inputs`]), so
//! run i differs between them only through the held input: the swings are
//! measured with common random numbers and carry far less Monte Carlo noise
//! than the figures themselves. Inputs drawn through a copula pull their
//! correlated partners to their conditional distribution (see
//! [`crate::model::copula`]).
//!
//! Drivers are ranked by the swing of the horizon's mean cost, |high − low|.

use serde::{Deserialize, Serialize};

use crate::engine::{self, ScenarioRuns, Settings};
use crate::error::Error;
use crate::model::Model;
use crate::model::layout::YearField;
use crate::stats::{Summary, round_dp};

/// The percentiles an input is held at.
pub const LOW: f64 = 0.10;
pub const HIGH: f64 = 0.90;

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Sensitivity {
    pub carecast_version: String,
    pub name: String,
    pub scenario: String,
    /// Runs per setting (free, and each input low and high).
    pub runs: u64,
    pub seed: u64,
    /// The percentiles inputs are held at.
    pub levels: [f64; 2],
    /// Every input random.
    pub base: Outcome,
    /// Inputs ranked by the swing of the horizon's mean cost.
    pub drivers: Vec<Driver>,
}

/// Cost figures of one setting.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Outcome {
    pub years: Vec<Figures>,
    /// The whole horizon: total cost against the total budget.
    pub total: Figures,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Figures {
    /// Financial year label, or `total`.
    pub fy: String,
    /// Absent, with the probability of an overspend, when the config has
    /// no budget (for the total: when any year has none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub budget: Option<f64>,
    pub mean: f64,
    pub p90: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub p_overspend: Option<f64>,
}

/// Changes from the free run with the input held low and high.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Swing {
    pub low: f64,
    pub high: f64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DriverFigures {
    pub fy: String,
    pub mean: Swing,
    /// Standard errors of the changes in the mean: the standard deviation
    /// of the run-by-run change over √runs (the runs are paired by common
    /// random numbers).
    pub mean_se: Swing,
    pub p90: Swing,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub p_overspend: Option<Swing>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Driver {
    /// The input's config path.
    pub input: String,
    /// The values it was held at (its P10 and P90).
    pub low: f64,
    pub high: f64,
    pub years: Vec<DriverFigures>,
    pub total: DriverFigures,
    /// True for an event whose P10 and P90 are the same (it happens, or
    /// not, in more than 90% of runs): it is held at "does not happen" (low,
    /// 0) and "happens" (high, 1) instead.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub event: bool,
    /// |high − low| of the horizon's mean cost, by which drivers are ranked.
    pub swing: f64,
    /// Its standard error: the standard deviation of the run-by-run
    /// difference between the high and low settings over √runs.
    pub swing_se: f64,
}

/// Runs the sensitivity analysis of `model`: `settings.runs` runs free and
/// as many with each input held low and high. `progress` hears of finished
/// runs.
pub fn analyse(
    model: &Model,
    scenario: &str,
    settings: &Settings,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<Sensitivity, Error> {
    let (base, base_costs) = outcome(model, &engine::run(model, settings, progress)?);
    let mut drivers = Vec::new();
    for input in model.inputs() {
        let (low_at, high_at, event) = input.tornado_pins(model, LOW, HIGH);
        let held = |pin: crate::model::inputs::Pin| -> Result<_, Error> {
            let runs = engine::run_pinned(model, settings, Some(pin), progress)?;
            Ok((pin, outcome(model, &runs)))
        };
        let (low_pin, (low, low_costs)) = held(low_at)?;
        let (high_pin, (high, high_costs)) = held(high_at)?;
        let change = |f: fn(&Figures) -> f64, l: &Figures, h: &Figures, b: &Figures| Swing {
            low: round_dp(f(l) - f(b), 6),
            high: round_dp(f(h) - f(b), 6),
        };
        // Outcome `k` (a year, or the horizon after the years).
        let figures = |k: usize, l: &Figures, h: &Figures, b: &Figures| DriverFigures {
            fy: b.fy.clone(),
            mean: change(|f| f.mean, l, h, b),
            mean_se: Swing {
                low: round_dp(paired_se(&low_costs[k], &base_costs[k]), 2),
                high: round_dp(paired_se(&high_costs[k], &base_costs[k]), 2),
            },
            p90: change(|f| f.p90, l, h, b),
            p_overspend: match (l.p_overspend, h.p_overspend, b.p_overspend) {
                (Some(l), Some(h), Some(b)) => Some(Swing {
                    low: round_dp(l - b, 6),
                    high: round_dp(h - b, 6),
                }),
                _ => None,
            },
        };
        let n_years = base.years.len();
        let years = (0..n_years)
            .map(|y| figures(y, &low.years[y], &high.years[y], &base.years[y]))
            .collect();
        let total = figures(n_years, &low.total, &high.total, &base.total);
        drivers.push(Driver {
            input: input.path.clone(),
            low: low_pin.value,
            high: high_pin.value,
            years,
            event,
            swing: round_dp((total.mean.high - total.mean.low).abs(), 2),
            swing_se: round_dp(paired_se(&high_costs[n_years], &low_costs[n_years]), 2),
            total,
        });
    }
    // Stable: equal swings keep the config's order.
    drivers.sort_by(|a, b| b.swing.total_cmp(&a.swing));
    Ok(Sensitivity {
        carecast_version: env!("CARGO_PKG_VERSION").to_string(),
        name: model.name.clone(),
        scenario: scenario.to_string(),
        runs: settings.runs,
        seed: settings.seed,
        levels: [LOW, HIGH],
        base,
        drivers,
    })
}

/// Standard error of the mean of the run-by-run differences `a − b`, in
/// pounds from pence.
fn paired_se(a: &[i64], b: &[i64]) -> f64 {
    let d: Vec<f64> = a
        .iter()
        .zip(b)
        .map(|(x, y)| (x - y) as f64 / 100.0)
        .collect();
    let n = d.len();
    if n < 2 {
        return 0.0;
    }
    let mean = d.iter().sum::<f64>() / n as f64;
    let var = d.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
    (var / n as f64).sqrt()
}

/// Mean, P90 and probability of overspend of each year's cost and the
/// horizon's, with each run's cost in pence (the years, then the horizon).
fn outcome(model: &Model, runs: &ScenarioRuns) -> (Outcome, Vec<Vec<i64>>) {
    let layout = &runs.layout;
    let n = runs.runs();
    let mut total_pence = vec![0i64; n];
    let mut total_budget = Some(0i64);
    let figures = |fy: String, pence: &[i64], budget: Option<i64>| {
        let mut pounds: Vec<f64> = pence.iter().map(|&p| p as f64 / 100.0).collect();
        let s = Summary::of(&mut pounds);
        Figures {
            fy,
            budget: budget.map(|b| b as f64 / 100.0),
            mean: round_dp(s.mean, 2),
            p90: round_dp(s.p90, 2),
            p_overspend: budget
                .map(|b| pence.iter().filter(|&&p| p > b).count() as f64 / n.max(1) as f64),
        }
    };
    let mut costs = Vec::with_capacity(layout.years + 1);
    let years = (0..layout.years)
        .map(|fy| {
            let pence: Vec<i64> = runs
                .column(layout.year(fy, YearField::Cost))
                .iter()
                .map(|c| (c * 100.0).round() as i64)
                .collect();
            for (t, p) in total_pence.iter_mut().zip(&pence) {
                *t += p;
            }
            let budget = model.budget_pence(fy);
            total_budget = total_budget.zip(budget).map(|(t, b)| t + b);
            let f = figures(model.calendar.years[fy].label.clone(), &pence, budget);
            costs.push(pence);
            f
        })
        .collect();
    let total = figures("total".into(), &total_pence, total_budget);
    costs.push(total_pence);
    (Outcome { years, total }, costs)
}
