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
use crate::model::Model;
use crate::model::finance::{COUNCIL, FundAmount};
use crate::model::layout::{Layout, Slot, YearField};
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
    /// Other columns compared with an amount (budget lines with budgets,
    /// funds with a yearly amount, funds' spending to date against an
    /// amount for the horizon): `(column, amount in pence)`.
    pub thresholds: Vec<(usize, i64)>,
    /// Funds (the council's budget included): fund k ≥ 1 has its spending
    /// to date tallied after the row (see [`ScenarioPlan::to_date`]).
    pub funds: usize,
    /// The initiatives measured for cost avoided (empty when it is not).
    pub initiatives: Vec<InitiativePlan>,
}

/// A scenario without one of its initiatives, simulated on the same run
/// indices as the scenario itself (common random numbers).
pub struct InitiativePlan {
    /// The initiative's index in the scenario model's initiatives.
    pub initiative: usize,
    pub model: Model,
    pub layout: Layout,
    /// Items (of the scenario's layout) the initiative charges to the
    /// council's budget: its interventions' and investments' costs.
    pub own: Vec<usize>,
    /// The initiative changes no child's future (its interventions only
    /// change prices; investments and savings are money only): a run
    /// without it has the same children, so it is priced again from the
    /// run's placement-days rather than simulated again.
    pub priced_only: bool,
}

/// What an initiative's tally holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Effect {
    /// Net cost without it minus net cost with it, plus its own cost.
    CostAvoided = 0,
    /// Net cost without it minus net cost with it.
    Net = 1,
}

impl ScenarioPlan {
    /// The tally of fund `k`'s (k ≥ 1) spending from the start of the
    /// horizon to the end of year `fy`.
    pub fn to_date(&self, fy: usize, k: usize) -> usize {
        self.layout.width() + (k - 1) * self.layout.years + fy
    }

    /// The tally of initiative `k`'s (k-th measured) effect in year `fy`
    /// or over the horizon (`None`).
    pub fn initiative(&self, k: usize, fy: Option<usize>, what: Effect) -> usize {
        let years = self.layout.years;
        let base = self.layout.width() + self.funds.saturating_sub(1) * years;
        base + (k * (years + 1) + fy.unwrap_or(years)) * 2 + what as usize
    }

    /// Tallies of the scenario: its row's, then the derived ones.
    pub fn width(&self) -> usize {
        self.initiative(self.initiatives.len(), Some(0), Effect::CostAvoided)
    }

    /// Without-initiative costs a run supplies: `initiatives × years`.
    pub fn shadow_width(&self) -> usize {
        self.initiatives.len() * self.layout.years
    }
}

fn initiative_plans(model: &Model, layout: &Layout) -> Vec<InitiativePlan> {
    let items = Layout::items(model);
    (0..model.finance.initiatives.len())
        .map(|k| {
            let initiative = &model.finance.initiatives[k];
            let find = |kind: &str, id: &str| {
                items
                    .iter()
                    .position(|c| c.kind == kind && c.id == id)
                    .filter(|&item| matches!(layout.slots[item], Slot::Component(_)))
            };
            let own = initiative
                .interventions
                .iter()
                .filter_map(|&i| find("intervention", &model.strategy.interventions[i].id))
                .chain(
                    initiative
                        .investments
                        .iter()
                        .filter_map(|&i| find("investment", &model.strategy.investments[i].id)),
                )
                .inspect(|&item| debug_assert_eq!(items[item].charge.fund, COUNCIL))
                .collect();
            let without = model.without_initiative(k);
            let priced_only = initiative.interventions.iter().all(|&i| {
                matches!(
                    model.strategy.interventions[i].effect,
                    crate::model::strategy::Effect::UnitCost { .. }
                )
            });
            InitiativePlan {
                initiative: k,
                layout: Layout::new(&without),
                model: without,
                own,
                priced_only,
            }
        })
        .collect()
}

fn thresholds(model: &Model, layout: &Layout, funds: usize) -> Vec<(usize, i64)> {
    let mut out = Vec::new();
    let f = &model.finance;
    for fy in 0..layout.years {
        for l in 0..layout.lines {
            let line = (l < f.lines.len()).then_some(l);
            if let Some(b) = model.line_budget_pence(fy, line) {
                out.push((layout.line(fy, l), b));
            }
        }
        for (k, fund) in f.funds.iter().enumerate().skip(1) {
            match &fund.amount {
                FundAmount::Unlimited => {}
                FundAmount::PerYear(a) => {
                    out.push((layout.fund(fy, k), crate::model::decimal_to_pence(a[fy])))
                }
                FundAmount::Total(a) => out.push((
                    layout.width() + (k - 1) * layout.years + fy,
                    crate::model::decimal_to_pence(*a),
                )),
            }
        }
    }
    debug_assert!(funds == f.funds.len());
    out
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
    /// The plan of a config, measuring initiatives' cost avoided when the
    /// config has few enough ([`crate::engine::attribution_by_default`]).
    pub fn new(config: &Config) -> Plan {
        Plan::with_attribution(config, crate::engine::Attribution::Auto)
    }

    /// The plan of a config, measuring initiatives' cost avoided as
    /// `attribution` says.
    pub fn with_attribution(config: &Config, attribution: crate::engine::Attribution) -> Plan {
        Plan::exactly(config, attribution.measures(config))
    }

    /// The plan of a config, measuring cost avoided exactly when `attribute`.
    pub fn exactly(config: &Config, attribute: bool) -> Plan {
        Plan {
            scenarios: config
                .scenarios
                .iter()
                .map(|s| {
                    let layout = Layout::new(&s.model);
                    let funds = s.model.finance.funds.len();
                    ScenarioPlan {
                        id: s.id.clone(),
                        budgets: (0..layout.years)
                            .map(|fy| s.model.budget_pence(fy))
                            .collect(),
                        scores: Scores::new(&s.model, &layout),
                        thresholds: thresholds(&s.model, &layout, funds),
                        funds,
                        initiatives: if attribute {
                            initiative_plans(&s.model, &layout)
                        } else {
                            Vec::new()
                        },
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
                    let mut columns = vec![Tally::new(); s.width()];
                    for &(col, at) in &s.thresholds {
                        columns[col] =
                            Tally::with_threshold(at * 100, OVERSPEND_TOLERANCE_PENCE * 100);
                    }
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

    /// Adds one run: `rows[s]` is scenario s's row of that run, and
    /// `shadows[s]` the net cost of each year of the same run without each
    /// measured initiative (`k × years + fy`; empty when none is measured).
    pub fn add(&self, results: &mut Results, rows: &[&[f64]], shadows: &[&[f64]]) {
        self.add_block(results, rows, shadows, 1);
    }

    /// Adds `n` runs at once: `rows[s]` holds scenario s's rows of those runs
    /// one after the other, and `shadows[s]` their shadows likewise. The same
    /// as adding them one by one with [`Plan::add`], but each row's values
    /// go into their tallies a few columns at a time across all `n` runs, so
    /// that a tally is brought into the cache once for the block rather than
    /// once a run.
    pub fn add_block(&self, results: &mut Results, rows: &[&[f64]], shadows: &[&[f64]], n: usize) {
        /// Columns taken together: a few cache lines of each row.
        const COLUMNS: usize = 16;
        for ((plan, res), block) in self.scenarios.iter().zip(&mut results.scenarios).zip(rows) {
            let width = plan.layout.width();
            let mut from = 0;
            while from < width {
                let to = (from + COLUMNS).min(width);
                let tallies = &mut res.columns[from..to];
                for i in 0..n {
                    let row = &block[i * width + from..i * width + to];
                    for (t, &x) in tallies.iter_mut().zip(row) {
                        t.add(x);
                    }
                }
                from = to;
            }
        }
        let mut run_rows: Vec<&[f64]> = Vec::with_capacity(rows.len());
        let mut run_shadows: Vec<&[f64]> = Vec::with_capacity(rows.len());
        for i in 0..n {
            run_rows.clear();
            run_shadows.clear();
            for (s, plan) in self.scenarios.iter().enumerate() {
                let (width, sw) = (plan.layout.width(), plan.shadow_width());
                run_rows.push(&rows[s][i * width..(i + 1) * width]);
                run_shadows.push(&shadows[s][i * sw..(i + 1) * sw]);
            }
            self.add_derived(results, &run_rows, &run_shadows);
        }
    }

    /// The part of [`Plan::add`] after the row's own values: the drivers,
    /// funds to date, cost avoided and the comparisons of one run.
    fn add_derived(&self, results: &mut Results, rows: &[&[f64]], shadows: &[&[f64]]) {
        results.runs += 1;
        let pence = crate::model::accrue::pounds_to_pence;
        for (s, ((plan, res), row)) in self
            .scenarios
            .iter()
            .zip(&mut results.scenarios)
            .zip(rows)
            .enumerate()
        {
            plan.scores.add(&plan.layout, &mut res.drivers, row);
            let l = &plan.layout;
            for k in 1..plan.funds {
                let mut to_date = 0i64;
                for fy in 0..l.years {
                    to_date += pence(row[l.fund(fy, k)]);
                    res.columns[plan.to_date(fy, k)].add_units(to_date * 100);
                }
            }
            if plan.initiatives.is_empty() {
                continue;
            }
            let shadow = shadows[s];
            debug_assert_eq!(shadow.len(), plan.shadow_width());
            for (k, ip) in plan.initiatives.iter().enumerate() {
                let (mut net, mut avoided) = (0i64, 0i64);
                for fy in 0..l.years {
                    let with = pence(row[l.year(fy, YearField::Cost)]);
                    let without = pence(shadow[k * l.years + fy]);
                    let own: f64 = ip.own.iter().map(|&item| row[l.item(fy, item)]).sum();
                    let effect = without - with;
                    let saved = effect + pence(own);
                    net += effect;
                    avoided += saved;
                    res.columns[plan.initiative(k, Some(fy), Effect::CostAvoided)]
                        .add_units(saved * 100);
                    res.columns[plan.initiative(k, Some(fy), Effect::Net)].add_units(effect * 100);
                }
                res.columns[plan.initiative(k, None, Effect::CostAvoided)].add_units(avoided * 100);
                res.columns[plan.initiative(k, None, Effect::Net)].add_units(net * 100);
            }
        }
        for (&(a, b), tallies) in self.compare.iter().zip(&mut results.comparisons) {
            let (la, lb) = (&self.scenarios[a].layout, &self.scenarios[b].layout);
            let (ra, rb) = (rows[a], rows[b]);
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
    /// Adds the runs of `other` (other runs of the same plan), reusing its
    /// tallies' buffers.
    pub fn absorb(&mut self, other: Results) {
        self.runs += other.runs;
        for (a, b) in self.scenarios.iter_mut().zip(other.scenarios) {
            for (x, y) in a.columns.iter_mut().zip(b.columns) {
                x.absorb(y);
            }
            a.drivers.merge(&b.drivers);
            a.approximate |= b.approximate;
        }
        for (a, b) in self.comparisons.iter_mut().zip(other.comparisons) {
            for (x, y) in a.iter_mut().zip(b) {
                x.absorb(y);
            }
        }
    }

    /// Every tally in its canonical form.
    pub fn normalize(&mut self) {
        for s in &mut self.scenarios {
            for t in &mut s.columns {
                t.normalize();
            }
        }
        for c in &mut self.comparisons {
            for t in c {
                t.normalize();
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::{self, Settings};

    /// Runs added a block at a time make the same tallies, to the bit, as
    /// the same runs added one by one: every output of the built-in
    /// example's three scenarios, with each initiative's cost avoided.
    #[test]
    fn a_block_of_runs_adds_as_its_runs_one_by_one() {
        let config = crate::config::parse_config(crate::config::EXAMPLE, "example").unwrap();
        let settings = Settings {
            runs: 40,
            seed: 11,
            threads: Some(1),
            central: false,
        };
        let mut runs = engine::run_config(&config, &settings, &|_| {}).unwrap();
        engine::attribute(&config, &settings, &mut runs).unwrap();
        let plan = Plan::exactly(&config, true);
        let n = settings.runs as usize;
        let shadow_rows: Vec<Vec<f64>> = runs
            .iter()
            .map(|s| {
                let y = s.layout.years;
                (0..n)
                    .flat_map(|r| {
                        s.shadows
                            .iter()
                            .flat_map(move |sh| &sh.cost[r * y..(r + 1) * y])
                    })
                    .copied()
                    .collect()
            })
            .collect();
        let width = |s: usize| plan.scenarios[s].layout.width();
        let sw = |s: usize| plan.scenarios[s].shadow_width();
        assert!(sw(1) > 0, "the strategy scenario measures its initiatives");

        let mut one_by_one = plan.empty();
        for r in 0..n {
            let rows: Vec<&[f64]> = (0..runs.len())
                .map(|s| &runs[s].data[r * width(s)..(r + 1) * width(s)])
                .collect();
            let shadows: Vec<&[f64]> = (0..runs.len())
                .map(|s| &shadow_rows[s][r * sw(s)..(r + 1) * sw(s)])
                .collect();
            plan.add(&mut one_by_one, &rows, &shadows);
        }
        // Blocks of unequal sizes, the last a single run.
        let mut in_blocks = plan.empty();
        for (from, to) in [(0, 25), (25, 39), (39, 40)] {
            let rows: Vec<&[f64]> = (0..runs.len())
                .map(|s| &runs[s].data[from * width(s)..to * width(s)])
                .collect();
            let shadows: Vec<&[f64]> = (0..runs.len())
                .map(|s| &shadow_rows[s][from * sw(s)..to * sw(s)])
                .collect();
            plan.add_block(&mut in_blocks, &rows, &shadows, to - from);
        }
        assert_eq!(in_blocks.runs, 40);
        assert!(one_by_one.scenarios[0].columns.iter().any(|t| t.n == 40));
        assert!(one_by_one == in_blocks);
    }
}
