//! The finance tables every report shows: gross cost, income and net cost;
//! cohorts and their income; budget lines; funds; staffing; and each
//! initiative's cost avoided. Built
//! once here as rows of text, laid out by each format.

use crate::output::{money, percent, whole, year_label};
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

/// The same for a central projection, which has no runs to count.
pub const CENTRAL_INITIATIVE_NOTE: &str = "Cost avoided: the central projection's cost without the \
initiative, minus its cost with it, plus what the initiative itself charged to the council's budget; \
net effect: cost avoided minus that charge; pays: whether the net effect is at least zero. Each \
initiative is measured with all the others in place, so the effects need not add up to the \
strategy's total.";

/// `yes` for a share of 1 (every run, or the central projection's one
/// path), `no` for 0: a central projection's answer to "does it".
fn yes_no(share: f64) -> String {
    if share >= 0.5 { "yes" } else { "no" }.to_string()
}

/// A row of column names.
fn header(names: &[&str]) -> Vec<String> {
    names.iter().map(|n| n.to_string()).collect()
}

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
        let mut rows = vec![if central {
            header(&["Year", "Gross cost", "Income", "Net cost"])
        } else {
            header(&[
                "Year",
                "Gross cost",
                "Income",
                "Net cost",
                "Net P10",
                "Net P90",
            ])
        }];
        for y in &sc.years {
            let (Some(g), Some(i), Some(n)) = (&y.gross_cost, &y.income, &y.net_cost) else {
                continue;
            };
            let mut row = vec![label(y), money(g.mean), money(i.mean), money(n.mean)];
            if !central {
                row.extend([money(n.p10), money(n.p90)]);
            }
            rows.push(row);
        }
        let mut notes = vec![format!(
            "{} Net cost = gross cost charged to the council's budget − income credited to it; the \
             budget is compared with the net cost.",
            if central { "" } else { "Means." }
        )
        .trim_start()
        .to_string()];
        let items: Vec<String> =
            crate::output::keys_in_order(sc.years.iter().map(|y| &y.income_items))
                .into_iter()
                .map(|id| {
                    let means: Vec<String> = sc
                        .years
                        .iter()
                        .map(|y| y.income_items.get(id).map_or("–".into(), |s| money(s.mean)))
                        .collect();
                    format!("{}: {}", sc.label_of(id), means.join(", "))
                })
                .collect();
        if !items.is_empty() {
            notes.push(format!(
                "Income items ({}by year): {}.",
                if central { "" } else { "mean " },
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
        let mut rows = vec![if central {
            header(&[
                "Cohort",
                "Year",
                "At end",
                "Mean in care",
                "Entrants",
                "Income",
            ])
        } else {
            header(&[
                "Cohort",
                "Year",
                "At end P10/P50/P90",
                "Mean in care",
                "Entrants",
                "Income",
                "Income P10–P90",
            ])
        }];
        let mut labels = Vec::new();
        for id in cohorts {
            if let Some(c) = sc.years.iter().find_map(|y| y.cohorts.get(id)) {
                labels.push(format!("{id}: {}", c.label));
            }
            for y in &sc.years {
                let Some(c) = y.cohorts.get(id) else { continue };
                let at_end = if central {
                    count(c.lac_end.mean)
                } else {
                    format!(
                        "{} / {} / {}",
                        whole(c.lac_end.p10),
                        whole(c.lac_end.p50),
                        whole(c.lac_end.p90)
                    )
                };
                let mut row = vec![
                    id.to_string(),
                    label(y),
                    at_end,
                    count(c.mean_in_care.mean),
                    count(c.entries.mean),
                    money(c.income.mean),
                ];
                if !central {
                    row.push(crate::output::money_range(c.income.p10, c.income.p90));
                }
                rows.push(row);
            }
        }
        out.push(Section {
            title: format!("Cohorts in {} (reported apart; counted in every total)", sc.id),
            rows,
            notes: vec![format!(
                "{}. At end: the cohort's children in care at the year's end; mean in care: on an \
                 average day of the year{}. Income: the income items paid for the cohort's children \
                 and care leavers.",
                labels.join("; "),
                if central { "" } else { "; entrants and income: means" }
            )],
        });
    }
    let lines = crate::output::keys_in_order(sc.years.iter().map(|y| &y.budget_lines));
    if !lines.is_empty() {
        let mut rows = vec![if central {
            header(&[
                "Budget line",
                "Year",
                "Budget",
                "Cost",
                "Over (+) / under (−)",
            ])
        } else {
            header(&[
                "Budget line",
                "Year",
                "Budget",
                "Mean",
                "P10",
                "P90",
                "P(over)",
                "E[over]",
            ])
        }];
        for id in lines {
            for y in &sc.years {
                let Some(l) = y.budget_lines.get(id) else {
                    continue;
                };
                let mut row = vec![
                    format!("{} ({id})", l.label),
                    label(y),
                    l.budget.map_or("–".into(), money),
                    money(l.cost.mean),
                ];
                if central {
                    row.push(l.budget.map_or("–".into(), |b| money(l.cost.mean - b)));
                } else {
                    row.extend([
                        money(l.cost.p10),
                        money(l.cost.p90),
                        l.overspend
                            .as_ref()
                            .map_or("–".into(), |o| percent(o.probability)),
                        l.overspend.as_ref().map_or("–".into(), |o| money(o.mean)),
                    ]);
                }
                rows.push(row);
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
        let mut rows = vec![header(&[
            "Fund",
            "Year",
            "Amount",
            "Spent",
            "To date",
            if central { "Exhausted" } else { "P(exhausted)" },
            "Overrun",
        ])];
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
                    f.probability_exhausted
                        .map_or("–".into(), if central { yes_no } else { percent }),
                    f.mean_overrun.map_or("–".into(), money),
                ]);
            }
        }
        out.push(Section {
            title: format!("Funds other than the council's budget in {}", sc.id),
            rows,
            notes: vec![format!(
                "{} {} {}",
                if central {
                    "Spent, To date (since the start of the horizon) and Overrun are the central \
                     projection's."
                } else {
                    "Spent, To date (since the start of the horizon) and Overrun are means over \
                     the runs."
                },
                // Without a budget there is no envelope to count against.
                if sc.years.iter().any(|y| y.budget.is_some()) {
                    "Only spending charged to the council's budget counts against the envelope."
                } else {
                    "Spending charged to these funds is kept apart from the council's own; the \
                     config sets no budget envelope."
                },
                if central {
                    "A fund is exhausted when its spending (in the year, or to date for an amount \
                     for the whole horizon) exceeds its amount by more than £1; its overrun is the \
                     spending beyond the amount (£0 within it)."
                } else {
                    "A fund is exhausted in a run when its spending (in the year, or to date for an \
                     amount for the whole horizon) exceeds its amount by more than £1; its overrun \
                     is the spending beyond the amount (£0 in a run within it)."
                }
            )],
        });
    }
    let staff = crate::output::keys_in_order(sc.years.iter().map(|y| &y.staff));
    if !staff.is_empty() {
        let mut rows = vec![if central {
            header(&["Staff", "Year", "Posts filled", "Agency", "Cost"])
        } else {
            header(&[
                "Staff",
                "Year",
                "Posts filled (P50)",
                "Agency (P50)",
                "Agency P10–P90",
                "Cost (mean)",
            ])
        }];
        for id in staff {
            for y in &sc.years {
                let Some(s) = y.staff.get(id) else { continue };
                rows.push(if central {
                    vec![
                        s.label.clone(),
                        label(y),
                        count(s.fte.mean),
                        count(s.agency_fte.mean),
                        money(s.cost.mean),
                    ]
                } else {
                    vec![
                        s.label.clone(),
                        label(y),
                        count(s.fte.p50),
                        count(s.agency_fte.p50),
                        format!("{}–{}", count(s.agency_fte.p10), count(s.agency_fte.p90)),
                        money(s.cost.mean),
                    ]
                });
            }
        }
        out.push(Section {
            title: format!("Staffing in {} (FTE)", sc.id),
            rows,
            notes: Vec::new(),
        });
    }
    if !sc.initiatives.is_empty() {
        let mut rows = vec![if central {
            header(&["Initiative", "Year", "Cost avoided", "Net effect", "Pays"])
        } else {
            header(&[
                "Initiative",
                "Year",
                "Cost avoided",
                "P10–P90",
                "Net effect",
                "P(pays)",
            ])
        }];
        for (id, init) in &sc.initiatives {
            for y in &sc.years {
                let Some(i) = y.initiatives.get(id) else {
                    continue;
                };
                rows.push(initiative_row(central, &init.label, label(y), i));
            }
            rows.push(initiative_row(central, &init.label, "horizon".into(), init));
        }
        let (title, note) = if central {
            (
                format!("Cost avoided by each initiative in {}", sc.id),
                CENTRAL_INITIATIVE_NOTE,
            )
        } else {
            (
                format!(
                    "Cost avoided by each initiative in {} (means; the net effect's range is in the \
                     JSON, CSV and workbook)",
                    sc.id
                ),
                INITIATIVE_NOTE,
            )
        };
        out.push(Section {
            title,
            rows,
            notes: vec![note.to_string()],
        });
    }
    out
}

fn initiative_row(
    central: bool,
    label: &str,
    when: String,
    i: &crate::report::InitiativeYear,
) -> Vec<String> {
    if central {
        return vec![
            label.to_string(),
            when,
            money(i.cost_avoided.mean),
            money(i.net_effect.mean),
            yes_no(i.probability_pays),
        ];
    }
    vec![
        label.to_string(),
        when,
        money(i.cost_avoided.mean),
        crate::output::money_range(i.cost_avoided.p10, i.cost_avoided.p90),
        money(i.net_effect.mean),
        percent(i.probability_pays),
    ]
}
