//! The finance tables every report shows: gross cost, income and net cost;
//! cohorts and their income; budget lines; funds; staffing; and each
//! initiative's cost avoided. Built
//! once here as rows of text, laid out by each format.

use crate::output::{money, percent, year_label};
use crate::report::ScenarioReport;

/// One table: a title, a header row and rows, and notes printed under it.
pub struct Section {
    pub title: String,
    pub rows: Vec<Vec<String>>,
    pub notes: Vec<String>,
}

/// What an initiative's figures mean; printed under every table of them.
pub const INITIATIVE_NOTE: &str = "Cost avoided: for each run, the cost of the same run (same random numbers) without the \
initiative, minus its cost with it, plus what the initiative itself charged to the council's budget; \
net effect: cost avoided minus that charge; P(pays): share of runs whose net effect is at least zero. \
Each initiative is measured with all the others in place, so the effects need not add up to the \
strategy's total.";

fn count(x: f64) -> String {
    format!("{:.1}", x)
}

/// The finance tables of one scenario (none for a config without any of
/// these features).
pub fn sections(central: bool, sc: &ScenarioReport) -> Vec<Section> {
    let mut out = Vec::new();
    let label = |y: &crate::report::YearReport| year_label(&y.fy, y.partial, y.months);
    let has_income = sc
        .years
        .iter()
        .any(|y| !y.income_items.is_empty() || y.income.is_some_and(|s| s.mean != 0.0));
    if has_income {
        let mut rows = vec![
            [
                "Year",
                "Gross cost",
                "Income",
                "Net cost",
                "Net P10",
                "Net P90",
            ]
            .map(String::from)
            .to_vec(),
        ];
        for y in &sc.years {
            let (Some(g), Some(i), Some(n)) = (&y.gross_cost, &y.income, &y.net_cost) else {
                continue;
            };
            rows.push(vec![
                label(y),
                money(g.mean),
                money(i.mean),
                money(n.mean),
                money(n.p10),
                money(n.p90),
            ]);
        }
        let mut notes = vec![
            "Means. Net cost = gross cost charged to the council's budget − income credited to it; the \
             budget is compared with the net cost."
                .to_string(),
        ];
        let items: Vec<String> =
            crate::output::keys_in_order(sc.years.iter().map(|y| &y.income_items))
                .into_iter()
                .map(|id| {
                    let means: Vec<String> = sc
                        .years
                        .iter()
                        .map(|y| y.income_items.get(id).map_or("–".into(), |s| money(s.mean)))
                        .collect();
                    format!("{}: {}", id, means.join(", "))
                })
                .collect();
        if !items.is_empty() {
            notes.push(format!(
                "Income items (mean by year): {}.",
                items.join("; ")
            ));
        }
        out.push(Section {
            title: format!("Gross cost, income and net cost in {}", sc.id),
            rows,
            notes,
        });
    }
    let cohorts = crate::output::keys_in_order(sc.years.iter().map(|y| &y.cohorts));
    if !cohorts.is_empty() {
        let mut rows = vec![
            [
                "Cohort",
                "Year",
                "At end P10/P50/P90",
                "Mean in care",
                "Entrants",
                "Income",
                "Income P10–P90",
            ]
            .map(String::from)
            .to_vec(),
        ];
        let mut labels = Vec::new();
        for id in cohorts {
            if let Some(c) = sc.years.iter().find_map(|y| y.cohorts.get(id)) {
                labels.push(format!("{id}: {}", c.label));
            }
            for y in &sc.years {
                let Some(c) = y.cohorts.get(id) else { continue };
                rows.push(vec![
                    id.to_string(),
                    label(y),
                    format!(
                        "{:.0} / {:.0} / {:.0}",
                        c.lac_end.p10, c.lac_end.p50, c.lac_end.p90
                    ),
                    count(c.mean_in_care.mean),
                    count(c.entries.mean),
                    money(c.income.mean),
                    crate::output::money_range(c.income.p10, c.income.p90),
                ]);
            }
        }
        out.push(Section {
            title: format!("Cohorts in {} (reported apart; counted in every total)", sc.id),
            rows,
            notes: vec![format!(
                "{}. At end: the cohort's children in care at the year's end; mean in care: on an \
                 average day of the year; entrants and income: means. Income: the income items paid \
                 for the cohort's children and care leavers.",
                labels.join("; ")
            )],
        });
    }
    let lines = crate::output::keys_in_order(sc.years.iter().map(|y| &y.budget_lines));
    if !lines.is_empty() {
        let mut rows = vec![
            [
                "Budget line",
                "Year",
                "Budget",
                "Mean",
                "P10",
                "P90",
                "P(over)",
                "E[over]",
            ]
            .map(String::from)
            .to_vec(),
        ];
        for id in lines {
            for y in &sc.years {
                let Some(l) = y.budget_lines.get(id) else {
                    continue;
                };
                rows.push(vec![
                    format!("{} ({id})", l.label),
                    label(y),
                    l.budget.map_or("–".into(), money),
                    money(l.cost.mean),
                    money(l.cost.p10),
                    money(l.cost.p90),
                    l.overspend
                        .as_ref()
                        .map_or("–".into(), |o| percent(o.probability)),
                    l.overspend.as_ref().map_or("–".into(), |o| money(o.mean)),
                ]);
            }
        }
        out.push(Section {
            title: format!("Budget lines in {} (net cost of each line against its budget)", sc.id),
            rows,
            notes: vec![
                "Line `other` is the rest of the envelope: what the declared lines leave of it, against \
                 every item that names no line. The lines add up to the total."
                    .to_string(),
            ],
        });
    }
    let funds = crate::output::keys_in_order(sc.years.iter().map(|y| &y.funds));
    if !funds.is_empty() {
        let mut rows = vec![
            [
                "Fund",
                "Year",
                "Amount",
                "Spent",
                "To date",
                "P(exhausted)",
                "Overrun",
            ]
            .map(String::from)
            .to_vec(),
        ];
        for id in funds {
            for y in &sc.years {
                let Some(f) = y.funds.get(id) else { continue };
                let amount = match (f.amount, f.amount_for.as_deref()) {
                    (Some(a), Some("horizon")) => format!("{} in all", money(a)),
                    (Some(a), _) => money(a),
                    (None, _) => "–".into(),
                };
                rows.push(vec![
                    format!("{} ({})", f.label, f.kind.replace('_', " ")),
                    label(y),
                    amount,
                    money(f.spent.mean),
                    money(f.spent_to_date.mean),
                    f.probability_exhausted.map_or("–".into(), percent),
                    f.mean_overrun.map_or("–".into(), money),
                ]);
            }
        }
        out.push(Section {
            title: format!("Funds other than the council's budget in {}", sc.id),
            rows,
            notes: vec![
                "Spent, To date (since the start of the horizon) and Overrun are means over the runs. \
                 Only spending charged to the council's budget counts against the envelope. A fund is \
                 exhausted in a run when its spending (in the year, or to date for an amount for the \
                 whole horizon) exceeds its amount by more than £1; its overrun is the spending \
                 beyond the amount (£0 in a run within it)."
                    .to_string(),
            ],
        });
    }
    let staff = crate::output::keys_in_order(sc.years.iter().map(|y| &y.staff));
    if !staff.is_empty() {
        let mut rows = vec![
            [
                "Staff",
                "Year",
                "Posts filled (P50)",
                "Agency (P50)",
                "Agency P10–P90",
                "Cost (mean)",
            ]
            .map(String::from)
            .to_vec(),
        ];
        for id in staff {
            for y in &sc.years {
                let Some(s) = y.staff.get(id) else { continue };
                rows.push(vec![
                    s.label.clone(),
                    label(y),
                    count(s.fte.p50),
                    count(s.agency_fte.p50),
                    format!("{}–{}", count(s.agency_fte.p10), count(s.agency_fte.p90)),
                    money(s.cost.mean),
                ]);
            }
        }
        out.push(Section {
            title: format!("Staffing in {} (FTE)", sc.id),
            rows,
            notes: Vec::new(),
        });
    }
    if !sc.initiatives.is_empty() {
        let mut rows = vec![
            [
                "Initiative",
                "Year",
                "Cost avoided",
                "P10–P90",
                "Net effect",
                "P(pays)",
            ]
            .map(String::from)
            .to_vec(),
        ];
        for (id, init) in &sc.initiatives {
            for y in &sc.years {
                let Some(i) = y.initiatives.get(id) else {
                    continue;
                };
                rows.push(initiative_row(&init.label, label(y), i));
            }
            rows.push(initiative_row(&init.label, "horizon".into(), init));
        }
        let mut notes = vec![INITIATIVE_NOTE.to_string()];
        if central {
            notes.push("A central projection: each figure is the expected path's, and P(pays) is 0% or 100%.".into());
        }
        out.push(Section {
            title: format!(
                "Cost avoided by each initiative in {} (means; the net effect's range is in the JSON, CSV and workbook)",
                sc.id
            ),
            rows,
            notes,
        });
    }
    out
}

fn initiative_row(label: &str, when: String, i: &crate::report::InitiativeYear) -> Vec<String> {
    vec![
        label.to_string(),
        when,
        money(i.cost_avoided.mean),
        crate::output::money_range(i.cost_avoided.p10, i.cost_avoided.p90),
        money(i.net_effect.mean),
        percent(i.probability_pays),
    ]
}
