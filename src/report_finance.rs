//! The money councils report, summarised from the runs: budget lines
//! against their budgets, funds against their amounts, staffing, and each
//! initiative's cost avoided (from the same runs without it).

use indexmap::IndexMap;

use crate::engine::ScenarioRuns;
use crate::model::Model;
use crate::model::finance::{COUNCIL, FundAmount};
use crate::model::layout::{Slot, YearField};
use crate::report::{BudgetLineYear, FundYear, InitiativeYear, StaffYear};
use crate::stats::{OVERSPEND_TOLERANCE_PENCE, Overspend, Summary, round_dp};

fn pence(x: f64) -> i64 {
    (x * 100.0).round() as i64
}

fn of(mut xs: Vec<f64>, dp: i32) -> Summary {
    Summary::of(&mut xs).rounded(dp)
}

/// Each budget line's net cost in year `fy` against its budget.
pub fn budget_lines(
    model: &Model,
    runs: &ScenarioRuns,
    fy: usize,
) -> IndexMap<String, BudgetLineYear> {
    let layout = &runs.layout;
    let f = &model.finance;
    (0..layout.lines)
        .map(|l| {
            let line = (l < f.lines.len()).then_some(l);
            let cost = runs.column(layout.line(fy, l));
            let budget = model.line_budget_pence(fy, line);
            let cost_pence: Vec<i64> = cost.iter().map(|&c| pence(c)).collect();
            let label = match line {
                Some(l) => f.lines[l].label.clone(),
                None => "Rest of the budget".to_string(),
            };
            (
                f.line_id(line).to_string(),
                BudgetLineYear {
                    label,
                    budget: budget.map(|b| b as f64 / 100.0),
                    cost: of(cost, 2),
                    overspend: budget.map(|b| Overspend::of(&cost_pence, b)),
                },
            )
        })
        .collect()
}

/// Spending from each fund other than the council's budget in year `fy`.
pub fn funds(model: &Model, runs: &ScenarioRuns, fy: usize) -> IndexMap<String, FundYear> {
    let layout = &runs.layout;
    let mut out = IndexMap::new();
    for (k, fund) in model.finance.funds.iter().enumerate().skip(1) {
        // The generic grant is reported only when something is charged to it.
        let used = layout.grants.iter().any(|g| g.charge.fund == k)
            || model.finance.income.iter().any(|i| i.charge.fund == k);
        if k == crate::model::finance::GRANT && !used {
            continue;
        }
        let spent = runs.column(layout.fund(fy, k));
        let mut to_date = spent.clone();
        for y in 0..fy {
            for (t, s) in to_date.iter_mut().zip(runs.column(layout.fund(y, k))) {
                *t = round_dp(*t + s, 2);
            }
        }
        let (amount, amount_for, compared) = match &fund.amount {
            FundAmount::Unlimited => (None, None, None),
            FundAmount::PerYear(a) => (Some(a[fy]), Some("year"), Some(&spent)),
            FundAmount::Total(a) => (Some(*a), Some("horizon"), Some(&to_date)),
        };
        let amount_pence = amount.map(crate::model::decimal_to_pence);
        let probability_exhausted = amount_pence.zip(compared).map(|(a, xs)| {
            let over = xs
                .iter()
                .filter(|&&x| pence(x) > a.saturating_add(OVERSPEND_TOLERANCE_PENCE))
                .count();
            over as f64 / xs.len().max(1) as f64
        });
        out.insert(
            fund.id.clone(),
            FundYear {
                label: fund.label.clone(),
                kind: fund.kind.name().to_string(),
                amount: amount_pence.map(|p| p as f64 / 100.0),
                amount_for: amount_for.map(str::to_string),
                spent: of(spent, 2),
                spent_to_date: of(to_date, 2),
                probability_exhausted,
            },
        );
    }
    out
}

/// Posts filled, agency posts and cost of each staff group in year `fy`.
pub fn staff(model: &Model, runs: &ScenarioRuns, fy: usize) -> IndexMap<String, StaffYear> {
    let layout = &runs.layout;
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
                    fte: of(runs.column(layout.staff_fte(fy, s)), 4),
                    agency_fte: of(runs.column(layout.staff_agency(fy, s)), 4),
                    cost: of(runs.column(layout.item(fy, k)), 2),
                },
            )
        })
        .collect()
}

/// What initiative `k` charged to the council's budget in year `fy` of
/// each run: its interventions' and investments' costs (its savings are
/// part of what it avoids).
fn own_cost(model: &Model, runs: &ScenarioRuns, k: usize, fy: usize) -> Vec<f64> {
    let layout = &runs.layout;
    let items = crate::model::layout::Layout::items(model);
    let initiative = &model.finance.initiatives[k];
    let mut total = vec![0.0; runs.runs()];
    let mut add = |kind: &str, id: &str| {
        if let Some(item) = items.iter().position(|c| c.kind == kind && c.id == id)
            && matches!(layout.slots[item], Slot::Component(_))
        {
            debug_assert_eq!(items[item].charge.fund, COUNCIL);
            for (t, x) in total.iter_mut().zip(runs.column(layout.item(fy, item))) {
                *t += x;
            }
        }
    };
    for &i in &initiative.interventions {
        add("intervention", &model.strategy.interventions[i].id);
    }
    for &i in &initiative.investments {
        add("investment", &model.strategy.investments[i].id);
    }
    total
}

/// Each initiative's cost avoided and net effect in year `fy`, or over the
/// horizon (`None`); empty when cost avoided was not measured.
pub fn initiatives(
    model: &Model,
    runs: &ScenarioRuns,
    fy: Option<usize>,
) -> IndexMap<String, InitiativeYear> {
    let layout = &runs.layout;
    let years: Vec<usize> = match fy {
        Some(y) => vec![y],
        None => (0..layout.years).collect(),
    };
    let n = runs.runs();
    runs.shadows
        .iter()
        .map(|shadow| {
            let k = shadow.initiative;
            let mut net = vec![0.0; n];
            let mut avoided = vec![0.0; n];
            for &y in &years {
                let with = runs.column(layout.year(y, YearField::Cost));
                let own = own_cost(model, runs, k, y);
                for r in 0..n {
                    let without = shadow.cost[r * layout.years + y];
                    let effect = pence(without) - pence(with[r]);
                    net[r] += effect as f64 / 100.0;
                    avoided[r] += (effect + pence(own[r])) as f64 / 100.0;
                }
            }
            let net: Vec<f64> = net.into_iter().map(|x| round_dp(x, 2)).collect();
            let avoided: Vec<f64> = avoided.into_iter().map(|x| round_dp(x, 2)).collect();
            let pays = net.iter().filter(|&&x| x >= 0.0).count() as f64 / n.max(1) as f64;
            let initiative = &model.finance.initiatives[k];
            (
                initiative.id.clone(),
                InitiativeYear {
                    label: initiative.label.clone(),
                    cost_avoided: of(avoided, 2),
                    net_effect: of(net, 2),
                    probability_pays: round_dp(pays, 6),
                },
            )
        })
        .collect()
}
