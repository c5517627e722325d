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

use crate::engine::{BLOCK, Settings};
use crate::error::Error;
use crate::model::Model;
use crate::model::draws::Random;
use crate::model::inputs::{Pin, Unit};
use crate::model::layout::{Layout, YearField};
use crate::model::simulate::{Shared, Workspace, simulate};
use crate::stats::round_dp;
use crate::tally::{Tally, Wide};

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
    /// What those values measure (a plain number in files written before
    /// carecast recorded it).
    #[serde(default)]
    pub unit: Unit,
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
///
/// Runs are simulated in blocks, each run in every setting one after the
/// other, and folded into mergeable tallies ([`crate::tally`]) and exact
/// sums of the run-by-run changes: memory does not grow with the runs, and
/// the result is the same on any number of threads.
pub fn analyse(
    model: &Model,
    scenario: &str,
    settings: &Settings,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<Sensitivity, Error> {
    use rayon::prelude::*;
    let layout = Layout::new(model);
    let inputs = model.inputs();
    let tornado: Vec<(Pin, Pin, bool)> = inputs
        .iter()
        .map(|i| i.tornado_pins(model, LOW, HIGH))
        .collect();
    let pins: Vec<(Pin, Pin)> = tornado.iter().map(|&(l, h, _)| (l, h)).collect();
    let budgets: Vec<Option<i64>> = (0..layout.years).map(|fy| model.budget_pence(fy)).collect();
    let total_budget = budgets.iter().try_fold(0i64, |t, b| b.map(|b| t + b));
    let plan = SensitivityPlan {
        model,
        layout: &layout,
        pins: &pins,
        budgets: budgets.iter().copied().chain([total_budget]).collect(),
        seed: settings.seed,
    };
    let runs = usize::try_from(settings.runs)
        .map_err(|_| Error::Usage("too many runs for this machine".into()))?;
    let blocks = runs.div_ceil(BLOCK as usize);
    let jobs = rayon::current_num_threads().max(1) * 4;
    let settings_count = 1 + 2 * pins.len() as u64;
    let acc = (0..blocks)
        .into_par_iter()
        .with_min_len(blocks.div_ceil(jobs).max(1))
        .fold(
            || plan.worker(),
            |mut w, block| {
                let from = block as u64 * BLOCK;
                let to = (from + BLOCK).min(settings.runs);
                for run in from..to {
                    plan.run(&mut w, run);
                }
                progress((to - from) * settings_count);
                w
            },
        )
        .map(|w| w.acc)
        .reduce(
            || plan.empty(),
            |mut a, b| {
                a.absorb(b);
                a
            },
        );
    let labels: Vec<String> = model
        .calendar
        .years
        .iter()
        .map(|y| y.label.clone())
        .chain(["total".to_string()])
        .collect();
    let outcome = |tallies: &[Tally]| {
        let figures: Vec<Figures> = tallies
            .iter()
            .zip(&labels)
            .zip(&plan.budgets)
            .map(|((t, fy), budget)| {
                let mut t = t.clone();
                t.compact();
                let s = t.summary();
                Figures {
                    fy: fy.clone(),
                    budget: budget.map(|b| b as f64 / 100.0),
                    mean: round_dp(s.mean, 2),
                    p90: round_dp(s.p90, 2),
                    p_overspend: t
                        .threshold
                        .as_ref()
                        .map(|th| th.above as f64 / t.n.max(1) as f64),
                }
            })
            .collect();
        let (years, total) = figures.split_at(figures.len() - 1);
        Outcome {
            years: years.to_vec(),
            total: total[0].clone(),
        }
    };
    let base = outcome(&acc.outcomes[0]);
    let n_years = layout.years;
    let mut drivers = Vec::new();
    for (k, input) in inputs.iter().enumerate() {
        let low = outcome(&acc.outcomes[1 + 2 * k]);
        let high = outcome(&acc.outcomes[2 + 2 * k]);
        let change = |f: fn(&Figures) -> f64, l: &Figures, h: &Figures, b: &Figures| Swing {
            low: round_dp(f(l) - f(b), 6),
            high: round_dp(f(h) - f(b), 6),
        };
        let se = |which: usize, o: usize| round_dp(acc.changes[k][which][o].se(acc.n), 2);
        // Outcome `o` (a year, or the horizon after the years).
        let figures = |o: usize, l: &Figures, h: &Figures, b: &Figures| DriverFigures {
            fy: b.fy.clone(),
            mean: change(|f| f.mean, l, h, b),
            mean_se: Swing {
                low: se(0, o),
                high: se(1, o),
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
        let years = (0..n_years)
            .map(|y| figures(y, &low.years[y], &high.years[y], &base.years[y]))
            .collect();
        let total = figures(n_years, &low.total, &high.total, &base.total);
        drivers.push(Driver {
            input: input.path.clone(),
            low: pins[k].0.value,
            high: pins[k].1.value,
            unit: input.unit(model),
            years,
            event: tornado[k].2,
            swing: round_dp((total.mean.high - total.mean.low).abs(), 2),
            swing_se: se(2, n_years),
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

/// Exact sums of run-by-run changes in pence: their mean's standard error.
#[derive(Clone, Debug, Default)]
struct Change {
    sum: i128,
    squares: Wide,
}

impl Change {
    fn add(&mut self, d: i64) {
        self.sum += d as i128;
        self.squares
            .add(d.unsigned_abs() as u128 * d.unsigned_abs() as u128);
    }

    fn merge(&mut self, o: &Change) {
        self.sum += o.sum;
        self.squares.merge(&o.squares);
    }

    /// Standard error of the mean change, in pounds.
    fn se(&self, n: u64) -> f64 {
        if n < 2 {
            return 0.0;
        }
        let var = self.squares.spread(self.sum, n) / (n as f64 - 1.0);
        (var / n as f64).sqrt() / 100.0
    }
}

/// What every setting's runs add up to.
struct Accumulated {
    n: u64,
    /// Per setting (free, then each input low and high), per outcome (the
    /// years, then the horizon): the cost in units of the tallies.
    outcomes: Vec<Vec<Tally>>,
    /// Per input: changes low − free, high − free and high − low, per outcome.
    changes: Vec<[Vec<Change>; 3]>,
}

impl Accumulated {
    /// Adds the runs of `o`, reusing its tallies' buffers.
    fn absorb(&mut self, o: Accumulated) {
        self.n += o.n;
        for (a, b) in self.outcomes.iter_mut().zip(o.outcomes) {
            for (x, y) in a.iter_mut().zip(b) {
                x.absorb(y);
            }
        }
        for (a, b) in self.changes.iter_mut().zip(&o.changes) {
            for (xs, ys) in a.iter_mut().zip(b) {
                for (x, y) in xs.iter_mut().zip(ys) {
                    x.merge(y);
                }
            }
        }
    }
}

struct SensitivityPlan<'a> {
    model: &'a Model,
    layout: &'a Layout,
    pins: &'a [(Pin, Pin)],
    /// Per outcome, in pence.
    budgets: Vec<Option<i64>>,
    seed: u64,
}

struct SensitivityWorker {
    workspace: Workspace,
    draws: Random,
    row: Vec<f64>,
    acc: Accumulated,
    /// The last run's entrants and initial stock, shared by its settings.
    shared: Shared,
}

impl SensitivityPlan<'_> {
    fn empty(&self) -> Accumulated {
        let outcomes = self.budgets.len();
        let tallies = || -> Vec<Tally> {
            self.budgets
                .iter()
                .map(|b| match b {
                    // An overspend here is any cost above the budget.
                    Some(b) => Tally::with_threshold(b * 100, 0),
                    None => Tally::new(),
                })
                .collect()
        };
        Accumulated {
            n: 0,
            outcomes: (0..1 + 2 * self.pins.len()).map(|_| tallies()).collect(),
            changes: (0..self.pins.len())
                .map(|_| std::array::from_fn(|_| vec![Change::default(); outcomes]))
                .collect(),
        }
    }

    fn worker(&self) -> SensitivityWorker {
        SensitivityWorker {
            workspace: Workspace::new(self.model),
            draws: Random::new(self.seed, 0),
            row: vec![0.0; self.layout.width()],
            acc: self.empty(),
            shared: Shared::new(true),
        }
    }

    /// Run `run` in one setting: each outcome's cost in pence.
    fn costs(&self, w: &mut SensitivityWorker, run: u64, pin: Option<Pin>) -> Vec<i64> {
        w.draws.set_pin(pin);
        w.draws.restart(run);
        simulate(
            self.model,
            self.layout,
            &mut w.draws,
            &mut w.workspace,
            &mut w.shared,
            &mut w.row,
        );
        let mut costs: Vec<i64> = (0..self.layout.years)
            .map(|fy| (w.row[self.layout.year(fy, YearField::Cost)] * 100.0).round() as i64)
            .collect();
        costs.push(costs.iter().sum());
        costs
    }

    /// Run `run` in every setting.
    fn run(&self, w: &mut SensitivityWorker, run: u64) {
        w.acc.n += 1;
        let base = self.costs(w, run, None);
        let add = |tallies: &mut Vec<Tally>, costs: &[i64]| {
            for (t, &c) in tallies.iter_mut().zip(costs) {
                t.add_units(c * 100);
            }
        };
        add(&mut w.acc.outcomes[0], &base);
        for (k, &(low_pin, high_pin)) in self.pins.iter().enumerate() {
            let low = self.costs(w, run, Some(low_pin));
            let high = self.costs(w, run, Some(high_pin));
            add(&mut w.acc.outcomes[1 + 2 * k], &low);
            add(&mut w.acc.outcomes[2 + 2 * k], &high);
            let [to_low, to_high, across] = &mut w.acc.changes[k];
            for o in 0..base.len() {
                to_low[o].add(low[o] - base[o]);
                to_high[o].add(high[o] - base[o]);
                across[o].add(high[o] - low[o]);
            }
        }
    }
}
