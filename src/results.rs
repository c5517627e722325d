//! The results of many runs in bounded memory: every output of a run's row
//! (see [`crate::model::layout`]) and every derived output (the difference
//! between two scenarios in the same run) is folded into a [`Tally`], and
//! the inputs behind the spread into [`DriverSums`]. Both are exact sums or
//! histograms that depend only on which runs were added, never on the
//! order, so a run on any number of threads, or split into shards and
//! merged, gives the same results bit for bit.
//!
//! A [`Plan`] says what is tallied: it is built from the config alone, so a
//! merge of partial files rebuilds it from the config text they carry.

use crate::config::Config;
use crate::drivers::{DriverSums, Scores};
use crate::model::layout::{Layout, YearField};
use crate::stats::OVERSPEND_TOLERANCE_PENCE;
use crate::tally::Tally;

/// What is tallied for a config: each scenario's row, and the outputs
/// derived from two scenarios' rows of the same run.
pub struct Plan {
    pub scenarios: Vec<ScenarioPlan>,
    /// Pairs of scenarios compared (indices), in the config's order.
    pub compare: Vec<(usize, usize)>,
}

pub struct ScenarioPlan {
    pub id: String,
    pub layout: Layout,
    /// The budget of each year in pence, where there is one.
    pub budgets: Vec<Option<i64>>,
    pub scores: Scores,
}

/// Derived outputs of a comparison, per year then for the horizon.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Derived {
    /// Cost of `from` minus cost of `to`.
    Saving = 0,
    /// The same with grant-funded spend.
    SavingWithGrants = 1,
    /// Children in care at the year end, `to` minus `from`.
    LacEnd = 2,
}

/// Derived outputs per year; the horizon has the first two.
const DERIVED_PER_YEAR: usize = 3;

/// The index of a derived output of year `fy` (`None`: the horizon).
pub fn derived(years: usize, fy: Option<usize>, what: Derived) -> usize {
    match fy {
        Some(fy) => fy * DERIVED_PER_YEAR + what as usize,
        None => years * DERIVED_PER_YEAR + what as usize,
    }
}

fn derived_width(years: usize) -> usize {
    years * DERIVED_PER_YEAR + 2
}

impl Plan {
    pub fn new(config: &Config) -> Plan {
        Plan {
            scenarios: config
                .scenarios
                .iter()
                .map(|s| {
                    let layout = Layout::new(&s.model);
                    ScenarioPlan {
                        id: s.id.clone(),
                        budgets: (0..layout.years)
                            .map(|fy| s.model.budget_pence(fy))
                            .collect(),
                        scores: Scores::new(&s.model, &layout),
                        layout,
                    }
                })
                .collect(),
            compare: config.compare.clone(),
        }
    }

    /// Empty results.
    pub fn empty(&self) -> Results {
        Results {
            runs: 0,
            scenarios: self
                .scenarios
                .iter()
                .map(|s| {
                    let mut columns = vec![Tally::new(); s.layout.width()];
                    for (fy, budget) in s.budgets.iter().enumerate() {
                        if let Some(b) = budget {
                            // Pence to units of 1/10,000 pound.
                            columns[s.layout.year(fy, YearField::Cost)] =
                                Tally::with_threshold(b * 100, OVERSPEND_TOLERANCE_PENCE * 100);
                        }
                    }
                    ScenarioResults {
                        columns,
                        drivers: s.scores.empty(s.layout.years),
                        approximate: false,
                    }
                })
                .collect(),
            comparisons: self
                .compare
                .iter()
                .map(|&(a, _)| vec![Tally::new(); derived_width(self.scenarios[a].layout.years)])
                .collect(),
        }
    }

    /// Adds one run: `rows[s]` is scenario s's row of that run.
    pub fn add(&self, results: &mut Results, rows: &[&[f64]]) {
        results.runs += 1;
        for ((plan, res), row) in self.scenarios.iter().zip(&mut results.scenarios).zip(rows) {
            for (t, &x) in res.columns.iter_mut().zip(row.iter()) {
                t.add(x);
            }
            plan.scores.add(&plan.layout, &mut res.drivers, row);
        }
        for (&(a, b), tallies) in self.compare.iter().zip(&mut results.comparisons) {
            let (la, lb) = (&self.scenarios[a].layout, &self.scenarios[b].layout);
            let (ra, rb) = (rows[a], rows[b]);
            let pence = |x: f64| (x * 100.0).round() as i64;
            let (mut horizon, mut horizon_all) = (0i64, 0i64);
            for fy in 0..la.years {
                let cost = |l: &Layout, r: &[f64], f| pence(r[l.year(fy, f)]);
                let saving = cost(la, ra, YearField::Cost) - cost(lb, rb, YearField::Cost);
                let all = saving + cost(la, ra, YearField::GrantFunded)
                    - cost(lb, rb, YearField::GrantFunded);
                horizon += saving;
                horizon_all += all;
                let lac = rb[lb.year(fy, YearField::LacEnd)] - ra[la.year(fy, YearField::LacEnd)];
                tallies[derived(la.years, Some(fy), Derived::Saving)].add_units(saving * 100);
                tallies[derived(la.years, Some(fy), Derived::SavingWithGrants)]
                    .add_units(all * 100);
                tallies[derived(la.years, Some(fy), Derived::LacEnd)].add(lac);
            }
            tallies[derived(la.years, None, Derived::Saving)].add_units(horizon * 100);
            tallies[derived(la.years, None, Derived::SavingWithGrants)]
                .add_units(horizon_all * 100);
        }
    }
}

/// The tallies of some runs of every scenario (see the module docs).
#[derive(Clone, Debug, PartialEq)]
pub struct Results {
    /// Runs added.
    pub runs: u64,
    pub scenarios: Vec<ScenarioResults>,
    /// The derived outputs of each comparison of the plan.
    pub comparisons: Vec<Vec<Tally>>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct ScenarioResults {
    /// One tally per value of the row.
    pub columns: Vec<Tally>,
    pub drivers: DriverSums,
    /// For the central projection: a capacity or programme limit bound.
    pub approximate: bool,
}

impl Results {
    /// Adds the runs of `other` (other runs of the same plan).
    pub fn merge(&mut self, other: &Results) {
        self.runs += other.runs;
        for (a, b) in self.scenarios.iter_mut().zip(&other.scenarios) {
            for (x, y) in a.columns.iter_mut().zip(&b.columns) {
                x.merge(y);
            }
            a.drivers.merge(&b.drivers);
            a.approximate |= b.approximate;
        }
        for (a, b) in self.comparisons.iter_mut().zip(&other.comparisons) {
            for (x, y) in a.iter_mut().zip(b) {
                x.merge(y);
            }
        }
    }

    /// Every tally in its canonical form.
    pub fn normalize(&mut self) {
        for s in &mut self.scenarios {
            for t in &mut s.columns {
                t.compact();
            }
        }
        for c in &mut self.comparisons {
            for t in c {
                t.compact();
            }
        }
    }

    /// Memory held by the tallies, in bytes.
    pub fn bytes(&self) -> usize {
        self.scenarios
            .iter()
            .flat_map(|s| &s.columns)
            .chain(self.comparisons.iter().flatten())
            .map(Tally::bytes)
            .sum()
    }
}
