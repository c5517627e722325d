//! The statistics of a simulation, in the shape of the JSON contract
//! (docs/outputs.md). Every output format is rendered from a [`Report`].

use indexmap::IndexMap;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use std::path::Path;

use crate::engine::{ScenarioRuns, Settings};
use crate::error::Error;
use crate::model::Model;
use crate::model::layout::YearField;
use crate::results::{Derived, Plan, Results, ScenarioPlan, ScenarioResults, derived};
use crate::stats::{Overspend, Summary, round_dp};
use crate::tally::Tally;

use crate::report_finance as finance_report;

/// Decimal places kept for counts of children.
pub const COUNT_DP: i32 = 4;

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Report {
    pub carecast_version: String,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// `risk` (random runs) or `central` (one expected-value projection).
    pub mode: String,
    pub runs: u64,
    pub seed: u64,
    pub scenarios: Vec<ScenarioReport>,
    pub differences: Vec<Difference>,
    /// How a precision-driven run (`--precision`) ended: its target, whether
    /// it was met, and the runs it took; absent for a plain run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub precision: Option<crate::precision::Precision>,
    /// The config text as run, so a report can be reproduced from its JSON
    /// alone (last, so the keys before it keep their places).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config: Option<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ScenarioReport {
    pub id: String,
    pub label: String,
    /// A central projection in which a capacity or a programme's limit
    /// comes within reach: its path is then an approximation of the
    /// model's expected path, not the expectation itself. Absent (false)
    /// for random runs and for exact central paths.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub approximate: bool,
    /// What each cost component and grant-funded item is: its label, kind
    /// (`placement`, `cost_line`, `care_leavers`, `intervention`,
    /// `investment`, `saving`) and funding.
    #[serde(default)]
    pub lines: IndexMap<String, Line>,
    /// The labels of the config's other ids the report names: shocks and
    /// income items not among `lines`.
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub labels: IndexMap<String, String>,
    pub years: Vec<YearReport>,
    pub months: Vec<MonthReport>,
    /// What drives the cost: each uncertain input's rank correlation with
    /// each year's cost and the horizon's, and its share (largest first).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub contributions: Vec<crate::drivers::Contribution>,
    /// The `[[correlation]]`s asked for and the rank correlations realised.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub correlations: Vec<crate::drivers::RealisedCorrelation>,
    /// The months compared with the config's `[history]`, when it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub history: Option<crate::score::HistoryScore>,
    /// Each initiative over the whole horizon (see [`InitiativeYear`]).
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub initiatives: IndexMap<String, InitiativeYear>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Line {
    pub label: String,
    pub kind: String,
    /// The fund it is charged to: `budget` (the council's), `grant`, or a
    /// `[[fund]]`'s id.
    pub funding: String,
    /// Its budget line, when the config declares budget lines.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct YearReport {
    pub fy: String,
    /// Simulated months in the year (12 unless the horizon starts mid-year).
    pub months: usize,
    pub partial: bool,
    /// The envelope the year's cost is compared with (pro rata for a
    /// partial year); absent when the config has no budget.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub budget: Option<f64>,
    pub cost: Summary,
    /// Absent when the config has no budget.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub overspend: Option<Overspend>,
    pub lac_end: Summary,
    pub entries: Summary,
    pub exits: Summary,
    pub left_at_18: Summary,
    /// Entrants prevented by each `prevent_entry` intervention.
    pub prevented: IndexMap<String, Summary>,
    /// Components of the cost compared with the budget: placements, cost
    /// lines, care leavers, budget-funded interventions and investments,
    /// and savings (negative).
    pub components: IndexMap<String, Summary>,
    /// Grant-funded spend: reported, not compared with the budget.
    pub grant_funded: GrantFunded,
    pub interventions: IndexMap<String, InterventionYear>,
    /// Entrants brought by each shock.
    pub shocks: IndexMap<String, Summary>,
    /// Income credited to the council's budget; `cost` is net of it.
    #[serde(default)]
    pub income: Option<Summary>,
    /// The cost compared with the budget: gross cost − income (equal to
    /// `cost`, given under its own name).
    #[serde(default)]
    pub net_cost: Option<Summary>,
    /// The cost charged to the council's budget before income.
    #[serde(default)]
    pub gross_cost: Option<Summary>,
    /// Each income item, whatever fund it is credited to.
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub income_items: IndexMap<String, Summary>,
    /// Each budget line's net cost against its budget (the declared lines
    /// and `other`, what they leave of the envelope).
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub budget_lines: IndexMap<String, BudgetLineYear>,
    /// Spending from each fund other than the council's budget.
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub funds: IndexMap<String, FundYear>,
    /// Posts filled, of which agency, and their cost.
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub staff: IndexMap<String, StaffYear>,
    /// Each initiative's cost avoided: the same runs without it, minus the
    /// runs with it.
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub initiatives: IndexMap<String, InitiativeYear>,
    /// Each cohort's children, reported apart (they count in every total
    /// above too), and the income tied to them.
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub cohorts: IndexMap<String, CohortYear>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct BudgetLineYear {
    pub label: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub budget: Option<f64>,
    pub cost: Summary,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub overspend: Option<Overspend>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct FundYear {
    pub label: String,
    pub kind: String,
    /// The fund's amount: this year's (`per_year`) or the whole horizon's;
    /// `null` for a fund with no amount (a grant that pays what is spent).
    #[serde(default)]
    pub amount: Option<f64>,
    /// `year` or `horizon`: what `amount` is for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amount_for: Option<String>,
    /// Net spending in the year.
    pub spent: Summary,
    /// Spending to the end of the year since the start of the horizon.
    pub spent_to_date: Summary,
    /// Share of runs in which spending (in the year, or to date for an
    /// amount for the horizon) exceeds the amount by more than the
    /// tolerance; `null` without an amount, which cannot be exhausted.
    #[serde(default)]
    pub probability_exhausted: Option<f64>,
    /// Mean over all runs of the spending beyond the amount (£0 in a run
    /// that stays within it): the fund's expected overspend; absent without
    /// an amount.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mean_overrun: Option<f64>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct CohortYear {
    pub label: String,
    /// Its children in care at the end of the year.
    pub lac_end: Summary,
    /// Its children in care on an average day of the year.
    pub mean_in_care: Summary,
    /// Its children who entered care in the year.
    pub entries: Summary,
    /// Income paid for its children and care leavers, whatever fund it is
    /// credited to.
    pub income: Summary,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct StaffYear {
    pub label: String,
    /// Posts filled (FTE).
    pub fte: Summary,
    /// Of those, posts filled by agency workers.
    pub agency_fte: Summary,
    pub cost: Summary,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct InitiativeYear {
    pub label: String,
    /// Cost avoided: the net cost of the same run without the initiative,
    /// minus its net cost with it, plus what the initiative itself charged
    /// to the council's budget (its gross cost reduction).
    pub cost_avoided: Summary,
    /// Cost avoided minus the initiative's budget-funded cost: the change in
    /// the cost compared with the budget.
    pub net_effect: Summary,
    /// Share of runs in which the net effect is at least zero.
    pub probability_pays: f64,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct GrantFunded {
    pub total: Summary,
    pub items: IndexMap<String, Summary>,
}

/// What one intervention did in a year.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct InterventionYear {
    pub label: String,
    pub kind: String,
    pub funding: String,
    /// Share of runs in which the programme was delivered.
    pub delivered: f64,
    /// Children prevented (`prevent_entry`), exited (`exit`) or moved
    /// (`step_down`), or places added (`capacity`); 0 for `unit_cost`.
    pub children: Summary,
    /// Running cost, whatever its funding.
    pub cost: Summary,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct MonthReport {
    pub month: String,
    pub lac: Summary,
    pub lac_by_placement: IndexMap<String, Summary>,
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub lac_by_band: IndexMap<String, Summary>,
    /// Children of each cohort in care (counted in `lac` too).
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub lac_by_cohort: IndexMap<String, Summary>,
}

/// How one scenario compares with another, run by run with common random
/// numbers: the saving is the cost of `from` minus the cost of `to`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Difference {
    pub from: String,
    pub to: String,
    pub years: Vec<DifferenceYear>,
    /// Over the whole horizon.
    pub horizon: DifferenceHorizon,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct DifferenceYear {
    pub fy: String,
    /// Saving on the cost compared with the budget.
    pub saving: Summary,
    /// Share of runs in which `to` costs less than `from`.
    pub probability_positive: f64,
    /// Wilson 95% interval of `probability_positive`; absent for one run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub probability_positive_lo: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub probability_positive_hi: Option<f64>,
    /// Saving counting grant-funded spend too.
    pub saving_including_grants: Summary,
    /// Children in care at the year end, `to` minus `from`.
    pub lac_end_difference: Summary,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct DifferenceHorizon {
    pub saving: Summary,
    pub probability_positive: f64,
    /// Share of runs in which the savings over the horizon at least cover
    /// what `to` spends on its strategy (net saving ≥ 0).
    pub probability_pays_back: f64,
    /// Whether `to` adds a strategy (a programme, investment or saving)
    /// to `from`'s, so that paying back means anything; where it does not,
    /// the reports print n/a for `probability_pays_back`.
    #[serde(default = "yes")]
    pub pays_back_applies: bool,
    pub saving_including_grants: Summary,
    /// Wilson 95% intervals of the two probabilities; absent for one run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub probability_positive_lo: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub probability_positive_hi: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub probability_pays_back_lo: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub probability_pays_back_hi: Option<f64>,
}

/// One scenario's model, what was tallied and the tallies.
pub struct ScenarioResult<'a> {
    pub id: &'a str,
    pub label: &'a str,
    pub model: &'a Model,
    pub plan: &'a ScenarioPlan,
    pub results: &'a ScenarioResults,
}

impl Report {
    /// The report of a config's scenarios from runs kept row by row (in the
    /// order of `config.scenarios`): the rows are tallied as a run in
    /// bounded memory would tally them, so the report is the same.
    pub fn for_config(
        config: &crate::config::Config,
        runs: &[ScenarioRuns],
        settings: &Settings,
    ) -> Report {
        let plan = Plan::exactly(config, runs.iter().any(|r| !r.shadows.is_empty()));
        let mut results = plan.empty();
        let n = runs.iter().map(ScenarioRuns::runs).min().unwrap_or(0);
        for r in 0..n {
            let rows: Vec<&[f64]> = runs
                .iter()
                .map(|s| {
                    let w = s.layout.width();
                    &s.data[r * w..(r + 1) * w]
                })
                .collect();
            let shadows: Vec<Vec<f64>> = runs
                .iter()
                .map(|s| {
                    let y = s.layout.years;
                    s.shadows
                        .iter()
                        .flat_map(|sh| sh.cost[r * y..(r + 1) * y].iter().copied())
                        .collect()
                })
                .collect();
            let shadows: Vec<&[f64]> = shadows.iter().map(Vec::as_slice).collect();
            plan.add(&mut results, &rows, &shadows);
        }
        for (res, s) in results.scenarios.iter_mut().zip(runs) {
            res.approximate = s.approximate;
        }
        results.normalize();
        Report::of_results(config, &plan, &results, settings)
    }

    /// The report of a config's tallied results, with the config text kept
    /// for reproduction.
    pub fn of_results(
        config: &crate::config::Config,
        plan: &Plan,
        results: &Results,
        settings: &Settings,
    ) -> Report {
        let views: Vec<ScenarioResult> = config
            .scenarios
            .iter()
            .zip(&plan.scenarios)
            .zip(&results.scenarios)
            .map(|((s, plan), results)| ScenarioResult {
                id: &s.id,
                label: &s.label,
                model: &s.model,
                plan,
                results,
            })
            .collect();
        let first = &config.scenarios[0].model;
        let mut report = Report {
            carecast_version: env!("CARGO_PKG_VERSION").to_string(),
            name: first.name.clone(),
            description: first.description.clone(),
            mode: if settings.central { "central" } else { "risk" }.to_string(),
            runs: if settings.central { 1 } else { settings.runs },
            seed: settings.seed,
            scenarios: views.par_iter().map(scenario).collect(),
            differences: plan
                .compare
                .iter()
                .zip(&results.comparisons)
                .map(|(&(a, b), tallies)| difference(&views[a], &views[b], tallies))
                .collect(),
            precision: None,
            config: Some(config.text.clone()),
        };
        let applies: Vec<bool> = report
            .differences
            .iter()
            .map(|d| crate::output::pays_back_applies(&report, d))
            .collect();
        for (d, applies) in report.differences.iter_mut().zip(applies) {
            d.horizon.pays_back_applies = applies;
        }
        report
    }
}

fn difference(from: &ScenarioResult, to: &ScenarioResult, tallies: &[Tally]) -> Difference {
    let years = from.plan.layout.years;
    let money = |t: &Tally| t.summary().rounded(2);
    let years_out = (0..years)
        .map(|fy| {
            let saving = &tallies[derived(years, Some(fy), Derived::Saving)];
            let (probability_positive, probability_positive_lo, probability_positive_hi) =
                saving.share_positive(false);
            DifferenceYear {
                fy: from.model.calendar.years[fy].label.clone(),
                probability_positive,
                probability_positive_lo,
                probability_positive_hi,
                saving: money(saving),
                saving_including_grants: money(
                    &tallies[derived(years, Some(fy), Derived::SavingWithGrants)],
                ),
                lac_end_difference: tallies[derived(years, Some(fy), Derived::LacEnd)]
                    .summary()
                    .rounded(COUNT_DP),
            }
        })
        .collect();
    let horizon = &tallies[derived(years, None, Derived::Saving)];
    let (probability_positive, probability_positive_lo, probability_positive_hi) =
        horizon.share_positive(false);
    let (probability_pays_back, probability_pays_back_lo, probability_pays_back_hi) =
        horizon.share_positive(true);
    Difference {
        from: from.id.to_string(),
        to: to.id.to_string(),
        years: years_out,
        horizon: DifferenceHorizon {
            probability_positive,
            probability_pays_back,
            pays_back_applies: true,
            saving: money(horizon),
            saving_including_grants: money(
                &tallies[derived(years, None, Derived::SavingWithGrants)],
            ),
            probability_positive_lo,
            probability_positive_hi,
            probability_pays_back_lo,
            probability_pays_back_hi,
        },
    }
}

/// A year's cost statistics and overspend measures, exactly as reported:
/// precision-driven runs judge their intervals from this same function.
/// The overspend measures are absent when the config has no budget.
pub fn cost_figures(cost: &Tally) -> (Summary, Option<Overspend>) {
    (cost.summary().rounded(2), cost.overspend())
}

/// The labels of `model`'s shocks and income items that are not among
/// `lines` (a shock with a cost is a line already).
fn other_labels(model: &Model, lines: &IndexMap<String, Line>) -> IndexMap<String, String> {
    let shocks = model.strategy.shocks.iter().map(|s| (&s.id, &s.label));
    let income = model.finance.income.iter().map(|i| (&i.id, &i.label));
    shocks
        .chain(income)
        .filter(|(id, _)| !lines.contains_key(*id))
        .map(|(id, label)| (id.clone(), label.clone()))
        .collect()
}

fn scenario(result: &ScenarioResult) -> ScenarioReport {
    let (model, runs) = (result.model, result.results);
    let layout = &result.plan.layout;
    let summary = |col: usize, dp: i32| runs.columns[col].summary().rounded(dp);
    let strategy = &model.strategy;

    let years: Vec<YearReport> = (0..layout.years)
        .into_par_iter()
        .map(|fy| {
            let year = &model.calendar.years[fy];
            let budget_pence = model.budget_pence(fy);
            let (cost, overspend) = cost_figures(&runs.columns[layout.year(fy, YearField::Cost)]);
            let components = layout
                .components
                .iter()
                .enumerate()
                .map(|(c, comp)| (comp.id.clone(), summary(layout.component(fy, c), 2)))
                .collect();
            let interventions: IndexMap<String, InterventionYear> = strategy
                .interventions
                .iter()
                .enumerate()
                .map(|(i, iv)| {
                    let delivered = &runs.columns[layout.intervention_delivered(fy, i)];
                    let item = InterventionYear {
                        label: iv.label.clone(),
                        kind: iv.effect.kind().to_string(),
                        funding: model.finance.funds[iv.funding.fund].id.clone(),
                        delivered: round_dp(delivered.mean(), 6),
                        children: summary(layout.intervention_children(fy, i), COUNT_DP),
                        cost: summary(layout.intervention_cost(fy, i), 2),
                    };
                    (iv.id.clone(), item)
                })
                .collect();
            let prevented = strategy
                .interventions
                .iter()
                .filter(|iv| iv.effect.kind() == "prevent_entry")
                .map(|iv| (iv.id.clone(), interventions[&iv.id].children))
                .collect();
            YearReport {
                fy: year.label.clone(),
                months: year.months,
                partial: year.is_partial(),
                budget: budget_pence.map(|b| b as f64 / 100.0),
                cost,
                overspend,
                lac_end: summary(layout.year(fy, YearField::LacEnd), COUNT_DP),
                entries: summary(layout.year(fy, YearField::Entries), COUNT_DP),
                exits: summary(layout.year(fy, YearField::Exits), COUNT_DP),
                left_at_18: summary(layout.year(fy, YearField::LeftAt18), COUNT_DP),
                prevented,
                components,
                grant_funded: GrantFunded {
                    total: summary(layout.year(fy, YearField::GrantFunded), 2),
                    items: layout
                        .grants
                        .iter()
                        .enumerate()
                        .map(|(g, c)| (c.id.clone(), summary(layout.grant(fy, g), 2)))
                        .collect(),
                },
                interventions,
                shocks: strategy
                    .shocks
                    .iter()
                    .enumerate()
                    .map(|(k, sh)| {
                        (
                            sh.id.clone(),
                            summary(layout.shock_entries(fy, k), COUNT_DP),
                        )
                    })
                    .collect(),
                income: Some(summary(layout.year(fy, YearField::Income), 2)),
                net_cost: Some(summary(layout.year(fy, YearField::Cost), 2)),
                gross_cost: Some(summary(layout.year(fy, YearField::GrossCost), 2)),
                income_items: model
                    .finance
                    .income
                    .iter()
                    .enumerate()
                    .map(|(i, inc)| (inc.id.clone(), summary(layout.income(fy, i), 2)))
                    .collect(),
                budget_lines: finance_report::budget_lines(result, fy),
                funds: finance_report::funds(result, fy),
                staff: finance_report::staff(result, fy),
                initiatives: finance_report::initiatives(result, Some(fy)),
                cohorts: finance_report::cohorts(result, fy),
            }
        })
        .collect();

    let months: Vec<MonthReport> = (0..layout.months)
        .into_par_iter()
        .map(|m| MonthReport {
            month: model.calendar.months[m].date.to_string(),
            lac: summary(layout.lac(m), COUNT_DP),
            lac_by_placement: model
                .placements
                .iter()
                .enumerate()
                .map(|(p, pl)| (pl.id.clone(), summary(layout.lac_placement(m, p), COUNT_DP)))
                .collect(),
            lac_by_band: (0..layout.bands)
                .map(|b| {
                    (
                        model.ages.bands[b].id.clone(),
                        summary(layout.lac_band(m, b), COUNT_DP),
                    )
                })
                .collect(),
            lac_by_cohort: model
                .cohorts
                .iter()
                .enumerate()
                .map(|(c, cohort)| {
                    (
                        cohort.id.clone(),
                        summary(layout.lac_cohort(m, c), COUNT_DP),
                    )
                })
                .collect(),
        })
        .collect();

    let line = |c: &crate::model::layout::Component| {
        (
            c.id.clone(),
            Line {
                label: c.label.clone(),
                kind: c.kind.to_string(),
                funding: model.finance.funds[c.charge.fund].id.clone(),
                line: (!model.finance.lines.is_empty() && c.charge.fund == 0)
                    .then(|| model.finance.line_id(c.charge.line).to_string()),
            },
        )
    };
    let lines = layout
        .components
        .iter()
        .chain(layout.grants.iter())
        .map(line)
        .collect();
    ScenarioReport {
        id: result.id.to_string(),
        label: result.label.to_string(),
        approximate: runs.approximate,
        labels: other_labels(model, &lines),
        lines,
        history: crate::score::history(model, &months, &years),
        years,
        months,
        contributions: result.plan.scores.contributions(&runs.drivers),
        correlations: result.plan.scores.realised_correlations(&runs.drivers),
        initiatives: finance_report::initiatives(result, None),
    }
}

impl ScenarioReport {
    /// Whether the scenario counts children: a config of money only (cost
    /// lines, savings, investments and no placement) has none to chart.
    pub fn has_children(&self) -> bool {
        self.lines.values().any(|l| l.kind == "placement")
            || self.months.iter().any(|m| !m.lac_by_placement.is_empty())
    }

    /// Whether every year has a budget to compare the cost with.
    pub fn has_budget(&self) -> bool {
        !self.years.is_empty() && self.years.iter().all(|y| y.budget.is_some())
    }

    /// The label of a cost component, grant-funded item or intervention;
    /// the id itself when the report has no label for it.
    pub fn label_of<'a>(&'a self, id: &'a str) -> &'a str {
        if let Some(l) = self.lines.get(id) {
            return &l.label;
        }
        if let Some(l) = self.labels.get(id) {
            return l;
        }
        self.years
            .iter()
            .find_map(|y| {
                y.interventions
                    .get(id)
                    .map(|i| i.label.as_str())
                    .or_else(|| y.cohorts.get(id).map(|c| c.label.as_str()))
            })
            .unwrap_or(id)
    }

    /// An uncertain input's config path (`placement.res_external.weekly_cost`)
    /// in words, with each id replaced by its label where the report has one
    /// (see [`input_words`]).
    pub fn input_label(&self, path: &str) -> String {
        input_words(path, &|id| {
            let label = self.label_of(id);
            (label != id).then(|| label.to_string())
        })
    }
}

/// An uncertain input's config path in words, each id replaced by the label
/// `label` gives for it (underscores read as spaces otherwise):
/// `placement.res_external.weekly_cost` → `Placement: External residential, weekly cost`.
pub fn input_words(path: &str, label: &dyn Fn(&str) -> Option<String>) -> String {
    let parts: Vec<String> = path
        .split('.')
        .map(|part| label(part).unwrap_or_else(|| part.replace('_', " ")))
        .collect();
    match parts.split_first() {
        Some((first, rest)) if !rest.is_empty() => {
            let mut s = first.clone();
            if let Some(c) = s.get_mut(0..1) {
                c.make_ascii_uppercase();
            }
            format!("{s}: {}", rest.join(", "))
        }
        _ => parts.join(""),
    }
}

impl Report {
    /// Whether any year of any scenario has a budget.
    pub fn has_budget(&self) -> bool {
        self.scenarios
            .iter()
            .any(|sc| sc.years.iter().any(|y| y.budget.is_some()))
    }

    /// Whether any scenario counts children (see [`ScenarioReport::has_children`]).
    pub fn has_children(&self) -> bool {
        self.scenarios.iter().any(ScenarioReport::has_children)
    }

    /// The label of a scenario, by id; the id when there is no such scenario.
    pub fn scenario_label<'a>(&'a self, id: &'a str) -> &'a str {
        self.scenarios
            .iter()
            .find(|s| s.id == id)
            .map_or(id, |s| s.label.as_str())
    }

    /// Reads a report saved with `--json`, for rendering without re-running.
    /// Unknown keys are ignored (a newer carecast may add some); a missing or
    /// mistyped key is an error naming the file, the key path and the line.
    pub fn read(path: &Path) -> Result<Report, Error> {
        let report: Report = read_json(
            path,
            "a carecast results file (the JSON written by `carecast run --json`)",
        )?;
        report.check().map_err(|message| Error::Results {
            path: path.to_path_buf(),
            message,
        })?;
        Ok(report)
    }

    /// What a results file must hold beyond its shape for a report to be
    /// true of it: a known mode, at least one run, and at least one scenario
    /// with at least one year.
    fn check(&self) -> Result<(), String> {
        if !matches!(self.mode.as_str(), "risk" | "central") {
            return Err(format!(
                "mode: expected \"risk\" or \"central\", got {:?}",
                self.mode
            ));
        }
        if self.runs == 0 {
            return Err("runs: expected at least 1 run, got 0".into());
        }
        if self.scenarios.is_empty() {
            return Err("scenarios: expected at least one scenario, got none".into());
        }
        if let Some(i) = self.scenarios.iter().position(|s| s.years.is_empty()) {
            return Err(format!(
                "scenarios[{i}].years: expected at least one financial year, got none"
            ));
        }
        Ok(())
    }
}

/// Reads a JSON document that carecast wrote, naming the file, the key and
/// what it should have been (`what`) when it is not one. Only a regular file
/// is read (a named pipe, a device or a folder is refused at once); its size
/// is not capped, as a results file grows with the model it describes.
pub fn read_json<T: serde::de::DeserializeOwned>(path: &Path, what: &str) -> Result<T, Error> {
    let fail = |message: String| Error::Results {
        path: path.to_path_buf(),
        message,
    };
    let bytes =
        crate::input::read(path, u64::MAX).map_err(|e| fail(e.message("the file", what)))?;
    let mut de = serde_json::Deserializer::from_slice(&bytes);
    let value: T = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let at = e.path().to_string();
        let inner = e.into_inner();
        let key = if at == "." {
            String::new()
        } else {
            format!("{at}: ")
        };
        fail(format!("not {what}: {key}{inner}"))
    })?;
    de.end()
        .map_err(|e| fail(format!("unexpected text after the JSON object: {e}")))?;
    Ok(value)
}

/// Serde's default for a flag that older files do not carry.
fn yes() -> bool {
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inputs_read_in_words_with_labels() {
        let label = |id: &str| (id == "res_external").then(|| "External residential".to_string());
        assert_eq!(
            input_words("placement.res_external.weekly_cost", &label),
            "Placement: External residential, weekly cost"
        );
        assert_eq!(input_words("entries.per_year", &label), "Entries: per year");
        assert_eq!(input_words("single", &label), "single");
    }
}
