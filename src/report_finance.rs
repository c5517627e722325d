//! The money councils report, summarised from the tallies: budget lines
//! against their budgets, funds against their amounts, staffing, and each
//! initiative's cost avoided (from the same runs without it, tallied run by
//! run in [`crate::results::Plan::add`]).

use indexmap::IndexMap;

use crate::model::finance::FundAmount;
use crate::model::layout::CohortField;
use crate::report::{
    BudgetLineYear, CohortYear, FundYear, InitiativeYear, ScenarioResult, StaffYear,
};
use crate::results::Effect;
use crate::stats::{Summary, round_dp};

fn summary(result: &ScenarioResult, col: usize, dp: i32) -> Summary {
    result.results.columns[col].summary().rounded(dp)
}

/// Each budget line's net cost in year `fy` against its budget.
pub fn budget_lines(result: &ScenarioResult, fy: usize) -> IndexMap<String, BudgetLineYear> {
    let (model, layout) = (result.model, &result.plan.layout);
    let f = &model.finance;
    (0..layout.lines)
        .map(|l| {
            let line = (l < f.lines.len()).then_some(l);
            let col = layout.line(fy, l);
            let budget = model.line_budget_pence(fy, line);
            let label = match line {
                Some(l) => f.lines[l].label.clone(),
                None => "Rest of the budget".to_string(),
            };
            (
                f.line_id(line).to_string(),
                BudgetLineYear {
                    label,
                    budget: budget.map(|b| b as f64 / 100.0),
                    cost: summary(result, col, 2),
                    overspend: budget.and_then(|_| result.results.columns[col].overspend()),
                },
            )
        })
        .collect()
}

/// Spending from each fund other than the council's budget in year `fy`.
pub fn funds(result: &ScenarioResult, fy: usize) -> IndexMap<String, FundYear> {
    let (model, layout, plan) = (result.model, &result.plan.layout, result.plan);
    let mut out = IndexMap::new();
    for (k, fund) in model.finance.funds.iter().enumerate().skip(1) {
        // The generic grant is reported only when something is charged to it.
        let used = layout.grants.iter().any(|g| g.charge.fund == k)
            || model.finance.income.iter().any(|i| i.charge.fund == k);
        if k == crate::model::finance::GRANT && !used {
            continue;
        }
        let spent = layout.fund(fy, k);
        let to_date = plan.to_date(fy, k);
        let (amount, amount_for, compared) = match &fund.amount {
            FundAmount::Unlimited => (None, None, None),
            FundAmount::PerYear(a) => (Some(a[fy]), Some("year"), Some(spent)),
            FundAmount::Total(a) => (Some(*a), Some("horizon"), Some(to_date)),
        };
        let amount_pence = amount.map(crate::model::decimal_to_pence);
        // The fund's amount is the threshold of the tally it is compared with.
        let overrun = compared.and_then(|col| result.results.columns[col].overspend());
        let probability_exhausted = overrun.as_ref().map(|o| o.probability);
        let mean_overrun = overrun.as_ref().map(|o| o.mean);
        out.insert(
            fund.id.clone(),
            FundYear {
                label: fund.label.clone(),
                kind: fund.kind.name().to_string(),
                amount: amount_pence.map(|p| p as f64 / 100.0),
                amount_for: amount_for.map(str::to_string),
                spent: summary(result, spent, 2),
                spent_to_date: summary(result, to_date, 2),
                probability_exhausted,
                mean_overrun,
            },
        );
    }
    out
}

/// Posts filled, agency posts and cost of each staff group in year `fy`.
pub fn staff(result: &ScenarioResult, fy: usize) -> IndexMap<String, StaffYear> {
    let (model, layout) = (result.model, &result.plan.layout);
    let items = crate::model::layout::Layout::items(model);
    model
        .finance
        .staff
        .iter()
        .enumerate()
        .map(|(s, st)| {
            let k = items
                .iter()
                .position(|c| c.kind == "staff" && c.id == st.id)
                .unwrap_or(0);
            (
                st.id.clone(),
                StaffYear {
                    label: st.label.clone(),
                    fte: summary(result, layout.staff_fte(fy, s), 4),
                    agency_fte: summary(result, layout.staff_agency(fy, s), 4),
                    cost: summary(result, layout.item(fy, k), 2),
                },
            )
        })
        .collect()
}

/// Each cohort's children and income in year `fy`.
pub fn cohorts(result: &ScenarioResult, fy: usize) -> IndexMap<String, CohortYear> {
    let (model, layout) = (result.model, &result.plan.layout);
    let count = |c, field| summary(result, layout.cohort(fy, c, field), crate::report::COUNT_DP);
    model
        .cohorts
        .iter()
        .enumerate()
        .map(|(c, cohort)| {
            (
                cohort.id.clone(),
                CohortYear {
                    label: cohort.label.clone(),
                    lac_end: count(c, CohortField::LacEnd),
                    mean_in_care: count(c, CohortField::MeanInCare),
                    entries: count(c, CohortField::Entries),
                    income: summary(result, layout.cohort(fy, c, CohortField::Income), 2),
                },
            )
        })
        .collect()
}

/// Each initiative's cost avoided and net effect in year `fy`, or over the
/// horizon (`None`); empty when cost avoided was not measured.
pub fn initiatives(result: &ScenarioResult, fy: Option<usize>) -> IndexMap<String, InitiativeYear> {
    let plan = result.plan;
    plan.initiatives
        .iter()
        .enumerate()
        .map(|(k, ip)| {
            let net = &result.results.columns[plan.initiative(k, fy, Effect::Net)];
            let avoided = &result.results.columns[plan.initiative(k, fy, Effect::CostAvoided)];
            let initiative = &result.model.finance.initiatives[ip.initiative];
            (
                initiative.id.clone(),
                InitiativeYear {
                    label: initiative.label.clone(),
                    cost_avoided: avoided.summary().rounded(2),
                    net_effect: net.summary().rounded(2),
                    probability_pays: round_dp(net.share_positive(true).0, 6),
                },
            )
        })
        .collect()
}
