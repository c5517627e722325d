//! `--markdown`: the headline tables as GitHub-flavoured Markdown, ready to
//! paste into a committee paper — per scenario and financial year the budget,
//! cost mean and P10/P50/P90, the probability and expected size of an
//! overspend and children in care at the year end; then the scenario
//! comparison and what each intervention prevented, when the report has them.

use std::fmt::Write;

use crate::output::{
    error_line, if_budget, keys_in_order, money, percent, precision_line, probability_with_error,
};
use crate::report::Report;

/// Renders the Markdown summary.
pub fn render(report: &Report) -> String {
    let mut out = String::new();
    let central = report.mode == "central";
    let _ = writeln!(out, "## {}\n", cell(&report.name));
    let _ = if central {
        writeln!(
            out,
            "Central projection: every input at its expected value (carecast {}).",
            cell(&report.carecast_version)
        )
    } else {
        writeln!(
            out,
            "{} simulated futures, seed {} (carecast {}).",
            report.runs,
            report.seed,
            cell(&report.carecast_version)
        )
    };
    if let Some(p) = &report.precision {
        let _ = writeln!(out, "\n{}.", cell(&precision_line(p)));
    }
    for sc in &report.scenarios {
        let _ = writeln!(out, "\n### Scenario: {}\n", cell(&sc.id));
        let mut rows = Vec::new();
        if central {
            rows.push(row(&[
                "Year",
                "Budget",
                "Cost",
                "Over (+) / under (−)",
                "Children in care at year end",
            ]));
            rows.push("|---|--:|--:|--:|--:|".to_string());
            for y in &sc.years {
                rows.push(row(&[
                    &crate::output::year_label(&y.fy, y.partial, y.months),
                    &if_budget(y.budget, money),
                    &money(y.cost.mean),
                    &if_budget(y.budget.map(|b| y.cost.mean - b), money),
                    &format!("{:.1}", y.lac_end.mean),
                ]));
            }
        } else {
            rows.push(row(&[
                "Year",
                "Budget",
                "Mean",
                "P10",
                "P50",
                "P90",
                "P(overspend)",
                "Expected overspend",
                "Children in care at year end (P50)",
            ]));
            rows.push("|---|--:|--:|--:|--:|--:|--:|--:|--:|".to_string());
            for y in &sc.years {
                rows.push(row(&[
                    &crate::output::year_label(&y.fy, y.partial, y.months),
                    &if_budget(y.budget, money),
                    &money(y.cost.mean),
                    &money(y.cost.p10),
                    &money(y.cost.p50),
                    &money(y.cost.p90),
                    &y.overspend
                        .as_ref()
                        .map_or_else(|| "–".to_string(), probability_with_error),
                    &if_budget(y.overspend.map(|o| o.mean), money),
                    &format!("{:.0}", y.lac_end.p50),
                ]));
            }
        }
        for r in rows {
            let _ = writeln!(out, "{r}");
        }
        if let Some(line) = error_line(sc) {
            let _ = writeln!(out, "\n{line}.");
        }

        let interventions = keys_in_order(sc.years.iter().map(|y| &y.prevented));
        if !interventions.is_empty() {
            let _ = writeln!(
                out,
                "\nChildren prevented from entering care, by intervention:\n"
            );
            let _ = writeln!(
                out,
                "{}",
                row(&["Intervention", "Year", "P10", "P50", "P90"])
            );
            let _ = writeln!(out, "|---|---|--:|--:|--:|");
            for id in interventions {
                for y in &sc.years {
                    if let Some(s) = y.prevented.get(id) {
                        let _ = writeln!(
                            out,
                            "{}",
                            row(&[
                                id,
                                &y.fy,
                                &format!("{:.0}", s.p10),
                                &format!("{:.0}", s.p50),
                                &format!("{:.0}", s.p90),
                            ])
                        );
                    }
                }
            }
        }
    }

    let compared: Vec<_> = report
        .differences
        .iter()
        .filter(|d| !d.years.is_empty())
        .collect();
    if !compared.is_empty() {
        let _ = writeln!(out, "\n### Scenario comparison\n");
        let _ = writeln!(
            out,
            "{}",
            row(&[
                "Comparison",
                "Year",
                "Mean saving",
                "P10",
                "P50",
                "P90",
                "P(saving > 0)"
            ])
        );
        let _ = writeln!(out, "|---|---|--:|--:|--:|--:|--:|");
        for d in compared {
            let name = format!("{} → {}", d.from, d.to);
            for y in &d.years {
                let _ = writeln!(
                    out,
                    "{}",
                    row(&[
                        &name,
                        &y.fy,
                        &money(y.saving.mean),
                        &money(y.saving.p10),
                        &money(y.saving.p50),
                        &money(y.saving.p90),
                        &percent(y.probability_positive),
                    ])
                );
            }
        }
    }

    let has_budget = report
        .scenarios
        .iter()
        .any(|sc| sc.years.iter().any(|y| y.budget.is_some()));
    if !central && has_budget {
        let _ = writeln!(
            out,
            "\nP(overspend): share of simulated futures whose cost exceeds the budget, ± the \
             half-width of its 95% interval in points. \
             Expected overspend: mean overspend across all futures, underspends counting as zero. \
             P10/P50/P90: 10% / 50% / 90% of futures cost less than this. Monte Carlo error: how \
             far a figure may be from what unlimited runs would give (95% intervals)."
        );
    } else if !central {
        let _ = writeln!(
            out,
            "\nThe config has no budget: no overspend is reported (–). \
             P10/P50/P90: 10% / 50% / 90% of futures cost less than this."
        );
    }
    out
}

/// One table row; every cell escaped.
fn row(cells: &[&str]) -> String {
    let mut r = String::from("|");
    for c in cells {
        r.push(' ');
        r.push_str(&cell(c));
        r.push_str(" |");
    }
    r
}

/// Text safe inside a table cell: pipes escaped, line breaks turned to spaces,
/// and characters Markdown would read as markup escaped.
fn cell(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '|' | '\\' | '*' | '_' | '`' | '<' | '>' | '[' | ']' => {
                out.push('\\');
                out.push(ch);
            }
            '\n' | '\r' => out.push(' '),
            _ => out.push(ch),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_cannot_break_the_table() {
        assert_eq!(cell("a|b"), "a\\|b");
        assert_eq!(cell("two\nlines"), "two lines");
        assert_eq!(cell("do_nothing"), "do\\_nothing");
        assert_eq!(row(&["x", "£1.2m"]), "| x | £1.2m |");
    }
}
