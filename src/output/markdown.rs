//! `--markdown`: the headline tables as GitHub-flavoured Markdown, ready to
//! paste into a committee paper — per scenario and financial year the budget,
//! cost mean and P10/P50/P90, the probability and expected size of an
//! overspend and children in care at the year end (for a config that has
//! children); every strategy item with its delivered share, children and
//! cost; what drives the cost; then the scenario comparison, ending with the
//! whole horizon's saving and whether the strategy pays back; then what the
//! terms mean.

use std::fmt::Write;

use crate::output::{
    error_line, if_budget, kind_words, money, money_range, percent, precision_line,
    probability_with_error,
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
            "{}, seed {} (carecast {}).",
            crate::output::count_of(report.runs, "simulated future"),
            report.seed,
            cell(&report.carecast_version)
        )
    };
    if let Some(p) = &report.precision {
        let _ = writeln!(out, "\n{}.", cell(&precision_line(p)));
    }
    for sc in &report.scenarios {
        let name = if sc.label == sc.id {
            sc.id.clone()
        } else {
            format!("{} ({})", sc.label, sc.id)
        };
        let _ = writeln!(out, "\n### Scenario: {}\n", cell(&name));
        let mut rows = Vec::new();
        let children = sc.has_children();
        if central {
            let mut header = vec!["Year", "Budget", "Cost", "Over (+) / under (−)"];
            if children {
                header.push("Children in care at year end");
            }
            rows.push(row(&header));
            rows.push(align(header.len()));
            for y in &sc.years {
                let mut cells = vec![
                    crate::output::year_label(&y.fy, y.partial, y.months),
                    if_budget(y.budget, money),
                    money(y.cost.mean),
                    if_budget(y.budget.map(|b| y.cost.mean - b), money),
                ];
                if children {
                    cells.push(format!("{:.1}", y.lac_end.mean));
                }
                rows.push(row(&cells.iter().map(String::as_str).collect::<Vec<_>>()));
            }
        } else {
            let mut header = vec![
                "Year",
                "Budget",
                "Mean",
                "P10",
                "P50",
                "P90",
                "P(overspend)",
                "Expected overspend",
            ];
            if children {
                header.push("Children in care at year end (P10 / P50 / P90)");
            }
            rows.push(row(&header));
            rows.push(align(header.len()));
            for y in &sc.years {
                let mut cells = vec![
                    crate::output::year_label(&y.fy, y.partial, y.months),
                    if_budget(y.budget, money),
                    money(y.cost.mean),
                    money(y.cost.p10),
                    money(y.cost.p50),
                    money(y.cost.p90),
                    y.overspend
                        .as_ref()
                        .map_or_else(|| "–".to_string(), probability_with_error),
                    if_budget(y.overspend.map(|o| o.mean), money),
                ];
                if children {
                    cells.push(crate::output::children_p10_p50_p90(&y.lac_end));
                }
                rows.push(row(&cells.iter().map(String::as_str).collect::<Vec<_>>()));
            }
        }
        for r in rows {
            let _ = writeln!(out, "{r}");
        }
        if let Some(line) = error_line(central, sc) {
            let _ = writeln!(out, "\n{line}.");
        }

        strategy(&mut out, sc, central);
        for section in crate::output::finance::sections(report.mode == "central", sc) {
            let _ = writeln!(out, "\n#### {}\n", cell(&section.title));
            let cols = section.rows.first().map_or(0, Vec::len);
            for (k, r) in section.rows.iter().enumerate() {
                let _ = writeln!(
                    out,
                    "{}",
                    row(&r.iter().map(String::as_str).collect::<Vec<_>>())
                );
                if k == 0 {
                    let _ = writeln!(out, "{}", align_from(cols, 2));
                }
            }
            for note in &section.notes {
                let _ = writeln!(out, "\n{}", cell(note));
            }
        }
        drivers(&mut out, sc, report.runs);
    }

    let compared: Vec<_> = report
        .differences
        .iter()
        .filter(|d| !d.years.is_empty())
        .collect();
    if !compared.is_empty() && central {
        let _ = writeln!(out, "\n### Scenario comparison\n");
        let _ = writeln!(
            out,
            "{}",
            row(&["Comparison", "Year", "Saving", "Pays back"])
        );
        let _ = writeln!(out, "|---|---|--:|--:|");
        for d in compared {
            let name = format!(
                "{} → {}",
                report.scenario_label(&d.from),
                report.scenario_label(&d.to)
            );
            for y in &d.years {
                let _ = writeln!(out, "{}", row(&[&name, &y.fy, &money(y.saving.mean), ""]));
            }
            let _ = writeln!(
                out,
                "| {} | **Whole horizon** | **{}** | {} |",
                cell(&name),
                money(d.horizon.saving.mean),
                cell(&crate::output::pays_back_cell(report, d)),
            );
        }
        let _ = writeln!(
            out,
            "\nSaving: cost of the first scenario minus cost of the second, each in its central \
             projection (the cost charged to the council's budget). Pays back: whether the saving over \
             the whole horizon is at least zero, so that what the second scenario spends on its \
             strategy from the council's budget is covered."
        );
        for note in crate::output::comparison_notes(report) {
            let _ = writeln!(out, "\n{}", cell(&note));
        }
    } else if !compared.is_empty() {
        let _ = writeln!(out, "\n### Scenario comparison\n");
        let _ = writeln!(
            out,
            "{}",
            row(&[
                "Comparison",
                "Year",
                "Mean saving",
                "P10 to P90",
                "P50",
                "P(saving > 0)",
                "Pays back"
            ])
        );
        let _ = writeln!(out, "|---|---|--:|--:|--:|--:|--:|");
        for d in compared {
            let name = format!(
                "{} → {}",
                report.scenario_label(&d.from),
                report.scenario_label(&d.to)
            );
            for y in &d.years {
                let _ = writeln!(
                    out,
                    "{}",
                    row(&[
                        &name,
                        &y.fy,
                        &money(y.saving.mean),
                        &money_range(y.saving.p10, y.saving.p90),
                        &money(y.saving.p50),
                        &percent(y.probability_positive),
                        "",
                    ])
                );
            }
            let _ = writeln!(
                out,
                // Bold is markup, so these two cells are not escaped (the
                // money in them holds no markup character).
                "| {} | **Whole horizon** | **{}** | {} | {} | {} | {} |",
                cell(&name),
                money(d.horizon.saving.mean),
                money_range(d.horizon.saving.p10, d.horizon.saving.p90),
                money(d.horizon.saving.p50),
                percent(d.horizon.probability_positive),
                cell(&crate::output::pays_back_cell(report, d)),
            );
        }
        let _ = writeln!(
            out,
            "\nSaving: cost of the first scenario minus cost of the second, run by run with common random \
             numbers (the cost charged to the council's budget). Pays back: share of futures in which the \
             saving over the whole horizon is at least zero, so that what the second scenario spends on \
             its strategy from the council's budget is covered."
        );
        for note in crate::output::comparison_notes(report) {
            let _ = writeln!(out, "\n{}", cell(&note));
        }
    }

    for note in crate::output::html::headline_notes(report, false) {
        let _ = writeln!(out, "\n{}", cell(&note));
    }
    out
}

/// The inputs behind the spread of the horizon's cost, as the terminal
/// shows them: the largest shares, and the correlations the config asked
/// for as the runs realised them.
fn drivers(out: &mut String, sc: &crate::report::ScenarioReport, runs: u64) {
    const TOP: usize = 5;
    if sc.contributions.is_empty() {
        return;
    }
    let _ = writeln!(out, "\n#### What drives the cost\n");
    let _ = writeln!(
        out,
        "{}",
        row(&["Input", "Share among the inputs", "Rank correlation"])
    );
    let _ = writeln!(out, "{}", align(3));
    for c in sc.contributions.iter().take(TOP) {
        let _ = writeln!(
            out,
            "{}",
            row(&[
                &sc.input_label(&c.input),
                &percent(c.total.contribution),
                &crate::output::rank_text(c.total.rank_correlation, runs),
            ])
        );
    }
    let shown = if sc.contributions.len() > TOP {
        format!(
            " The {TOP} largest of {} inputs are shown.",
            sc.contributions.len()
        )
    } else {
        String::new()
    };
    let _ = writeln!(
        out,
        "\nWhole horizon. Each uncertain input's share of the spread of the cost that the inputs go \
         with between them: its rank correlation with the cost, squared and normalised over all \
         inputs. Squared, the correlations add to {:.2}; for inputs that act independently, the rest \
         of the spread is chance (which children enter, leave and move, and when).{shown}",
        crate::output::explained(sc)
    );
    if crate::output::any_noise(sc, TOP, runs) {
        let _ = writeln!(out, "\n{}.", cell(&crate::output::rank_noise_note(runs)));
    }
    for r in &sc.correlations {
        let _ = writeln!(
            out,
            "\n{}",
            cell(&format!("{}.", crate::output::correlation_text(sc, r)))
        );
    }
}

/// Every item of the strategy, year by year: per intervention the share of
/// runs delivering it, the median children (P10–P90) and the mean cost; per
/// investment and saving its mean amount.
fn strategy(out: &mut String, sc: &crate::report::ScenarioReport, central: bool) {
    let Some(first) = sc.years.first() else {
        return;
    };
    let plans: Vec<_> = sc
        .lines
        .iter()
        .filter(|(_, l)| l.kind == "investment" || l.kind == "saving")
        .collect();
    if first.interventions.is_empty() && plans.is_empty() {
        return;
    }
    let _ = writeln!(out, "\n{}\n", strategy_caption(central));
    let mut header = vec!["Item".to_string(), "Kind".into(), "Delivered".into()];
    header.extend(sc.years.iter().map(|y| y.fy.clone()));
    let _ = writeln!(
        out,
        "{}",
        row(&header.iter().map(String::as_str).collect::<Vec<_>>())
    );
    let _ = writeln!(out, "{}", align_from(header.len(), 2));
    for (id, iv) in &first.interventions {
        let mut cells = vec![
            iv.label.clone(),
            kind_words(&iv.kind, &iv.funding),
            percent(iv.delivered),
        ];
        for y in &sc.years {
            cells.push(match y.interventions.get(id) {
                Some(this) if this.kind == "unit_cost" => money(this.cost.mean),
                Some(this) if central => {
                    format!("{:.1} · {}", this.children.mean, money(this.cost.mean))
                }
                Some(this) => format!(
                    "{:.0} ({:.0}–{:.0}) · {}",
                    this.children.p50.round(),
                    this.children.p10.round(),
                    this.children.p90.round(),
                    money(this.cost.mean)
                ),
                None => "–".to_string(),
            });
        }
        let _ = writeln!(
            out,
            "{}",
            row(&cells.iter().map(String::as_str).collect::<Vec<_>>())
        );
    }
    for (id, line) in plans {
        let mut cells = vec![
            line.label.clone(),
            kind_words(&line.kind, &line.funding),
            String::new(),
        ];
        for y in &sc.years {
            let amount = if line.funding != "budget" {
                y.grant_funded.items.get(id)
            } else {
                y.components.get(id)
            };
            cells.push(amount.map_or_else(|| "–".to_string(), |a| money(a.mean)));
        }
        let _ = writeln!(
            out,
            "{}",
            row(&cells.iter().map(String::as_str).collect::<Vec<_>>())
        );
    }
}

/// What the strategy table shows, in one paragraph.
fn strategy_caption(central: bool) -> &'static str {
    if central {
        "Strategy: per year, the children prevented, helped to leave care or moved, or places \
         added, and the cost, in the central projection; savings negative. Delivered: the chance \
         that the programme is delivered, by which the central projection scales its effect and \
         cost."
    } else {
        "Strategy: per year, children prevented, helped to leave care or moved, or places added \
         (P50, with P10–P90), and mean cost; savings negative. Delivered: the share of runs in \
         which the programme was delivered."
    }
}

/// The alignment row of a table: the first column left, the others right.
fn align(cols: usize) -> String {
    align_from(cols, 1)
}

/// The alignment row with the first `left` columns left-aligned.
fn align_from(cols: usize, left: usize) -> String {
    let mut s = String::from("|");
    for c in 0..cols {
        s.push_str(if c < left { "---|" } else { "--:|" });
    }
    s
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
