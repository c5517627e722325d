//! The terminal table (SPEC §3.1): per scenario and financial year, the
//! budget, cost percentiles, chance and expected size of an overspend, and
//! children in care at the year end.

use std::fmt::Write;

use crate::output::{
    error_line, if_budget, money, percent, precision_line, probability_with_error,
};
use crate::report::Report;

/// Renders the table as plain text.
pub fn render(report: &Report) -> String {
    let mut out = String::new();
    let central = report.mode == "central";
    let _ = if central {
        writeln!(
            out,
            "{} — central projection (every input at its expected value)",
            report.name
        )
    } else {
        writeln!(
            out,
            "{} — {} runs, seed {}",
            report.name,
            thousands(report.runs),
            report.seed
        )
    };
    if let Some(p) = &report.precision {
        let _ = writeln!(out, "{}", precision_line(p));
    }
    for sc in &report.scenarios {
        if sc.label == sc.id {
            let _ = writeln!(out, "\nScenario: {}", sc.id);
        } else {
            let _ = writeln!(out, "\nScenario: {} ({})", sc.id, sc.label);
        }
        let mut rows: Vec<Vec<String>> = Vec::new();
        if central {
            rows.push(
                [
                    "Year",
                    "Budget",
                    "Cost",
                    "Over (+) / under (-)",
                    "LAC at year end",
                ]
                .map(String::from)
                .to_vec(),
            );
            for y in &sc.years {
                rows.push(vec![
                    crate::output::year_label(&y.fy, y.partial, y.months),
                    if_budget(y.budget, money),
                    money(y.cost.mean),
                    if_budget(y.budget.map(|b| y.cost.mean - b), money),
                    format!("{:.1}", y.lac_end.mean),
                ]);
            }
        } else {
            rows.push(
                [
                    "Year",
                    "Budget",
                    "Mean",
                    "P10",
                    "P50",
                    "P90",
                    "P(over)",
                    "E[over]",
                    "LAC end P10 / P50 / P90",
                ]
                .map(String::from)
                .to_vec(),
            );
            for y in &sc.years {
                rows.push(vec![
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
                    format!(
                        "{:.0} / {:.0} / {:.0}",
                        y.lac_end.p10, y.lac_end.p50, y.lac_end.p90
                    ),
                ]);
            }
        }
        out.push_str(&layout(&rows));
        if let Some(line) = error_line(sc) {
            let _ = writeln!(out, "{line}");
        }
    }
    for sc in &report.scenarios {
        let with_strategy = sc
            .years
            .iter()
            .any(|y| !y.interventions.is_empty() || !y.grant_funded.items.is_empty())
            || sc
                .lines
                .values()
                .any(|l| l.kind == "investment" || l.kind == "saving");
        if !with_strategy {
            continue;
        }
        let _ = writeln!(
            out,
            "\nStrategy in {}: children prevented, exited or moved, or places added (P50) · mean cost (savings negative)",
            sc.id
        );
        let mut header = vec![
            "Item".to_string(),
            "Kind".into(),
            "Funding".into(),
            "Delivered".into(),
        ];
        header.extend(sc.years.iter().map(|y| y.fy.clone()));
        let mut rows: Vec<Vec<String>> = vec![header];
        let Some(first) = sc.years.first() else {
            continue;
        };
        for (id, iv) in &first.interventions {
            let mut row = vec![
                iv.label.clone(),
                iv.kind.clone(),
                iv.funding.clone(),
                percent(iv.delivered),
            ];
            for y in &sc.years {
                row.push(match y.interventions.get(id) {
                    Some(this) if this.kind == "unit_cost" => {
                        format!("- · {}", money(this.cost.mean))
                    }
                    Some(this) => format!("{:.0} · {}", this.children.p50, money(this.cost.mean)),
                    None => "-".to_string(),
                });
            }
            rows.push(row);
        }
        // Investments and savings, budget- or grant-funded.
        for (id, line) in sc
            .lines
            .iter()
            .filter(|(_, l)| l.kind == "investment" || l.kind == "saving")
        {
            let mut row = vec![
                line.label.clone(),
                line.kind.clone(),
                line.funding.clone(),
                String::new(),
            ];
            for y in &sc.years {
                let amount = if line.funding == "grant" {
                    y.grant_funded.items.get(id)
                } else {
                    y.components.get(id)
                };
                row.push(format!(
                    "- · {}",
                    amount.map_or_else(|| "-".to_string(), |a| money(a.mean))
                ));
            }
            rows.push(row);
        }
        out.push_str(&layout(&rows));
    }
    if !report.differences.is_empty() {
        let _ = writeln!(
            out,
            "\nComparisons (saving = cost of the first scenario minus cost of the second, run by run)"
        );
        let mut rows: Vec<Vec<String>> = vec![
            [
                "Comparison",
                "Year",
                "Mean saving",
                "P10",
                "P50",
                "P90",
                "P(saves)",
                "LAC end diff P50",
            ]
            .map(String::from)
            .to_vec(),
        ];
        for d in &report.differences {
            let pair = format!("{} → {}", d.from, d.to);
            for y in &d.years {
                rows.push(vec![
                    pair.clone(),
                    y.fy.clone(),
                    money(y.saving.mean),
                    money(y.saving.p10),
                    money(y.saving.p50),
                    money(y.saving.p90),
                    percent(y.probability_positive),
                    format!("{:+.0}", y.lac_end_difference.p50),
                ]);
            }
            rows.push(vec![
                pair.clone(),
                "horizon".into(),
                money(d.horizon.saving.mean),
                money(d.horizon.saving.p10),
                money(d.horizon.saving.p50),
                money(d.horizon.saving.p90),
                percent(d.horizon.probability_positive),
                format!("pays back {}", percent(d.horizon.probability_pays_back)),
            ]);
        }
        out.push_str(&layout(&rows));
    }
    drivers(&mut out, report);
    // A history outside the horizon is the same for every scenario: say so once.
    for (i, sc) in report.scenarios.iter().enumerate() {
        if let Some(h) = &sc.history
            && (h.scored > 0 || i == 0)
        {
            out.push_str(&history(&sc.id, h));
        }
    }
    let has_budget = report
        .scenarios
        .iter()
        .any(|sc| sc.years.iter().any(|y| y.budget.is_some()));
    if !central && has_budget {
        out.push_str(
            "\nP(over): share of runs whose cost exceeds the budget, ± the half-width of its 95% interval \
             in points. E[over]: mean overspend across all runs (underspends count as 0). Monte Carlo \
             error: how far the figure may be from what unlimited runs would give.\n",
        );
    }
    out
}

/// Inputs ranked by their share of the spread of the horizon's cost, per
/// scenario, and the correlations realised.
fn drivers(out: &mut String, report: &Report) {
    const TOP: usize = 5;
    for sc in &report.scenarios {
        if sc.contributions.is_empty() {
            continue;
        }
        let _ = writeln!(
            out,
            "\nWhat drives the cost in {} (whole horizon; share of variance from rank correlations)",
            sc.id
        );
        let mut rows = vec![
            ["Input", "Share", "Rank correlation"]
                .map(String::from)
                .to_vec(),
        ];
        for c in sc.contributions.iter().take(TOP) {
            rows.push(vec![
                c.input.clone(),
                percent(c.total.contribution),
                format!("{:+.2}", c.total.rank_correlation),
            ]);
        }
        out.push_str(&layout(&rows));
        for r in &sc.correlations {
            let _ = writeln!(
                out,
                "Correlation {} ~ {}: asked {:.2}, realised {:.3}",
                r.inputs[0], r.inputs[1], r.requested, r.realised
            );
        }
    }
}

/// The scores of a scenario against the config's `[history]`.
fn history(scenario: &str, h: &crate::score::HistoryScore) -> String {
    let mut out = format!(
        "\nObserved counts ([history]{}) in {scenario}: {} given, {} within the horizon\n",
        h.source
            .as_ref()
            .map(|s| format!(", {s}"))
            .unwrap_or_default(),
        h.given,
        h.scored
    );
    if h.series.is_empty() {
        return out;
    }
    out.push_str(&score_table(h.all.iter().chain(&h.series)));
    out
}

/// A table of scores, one row per series.
pub fn score_table<'a>(scores: impl IntoIterator<Item = &'a crate::score::Score>) -> String {
    let mut rows = vec![
        [
            "Series",
            "Months",
            "In P5–P95",
            "In P25–P75",
            "Mean error",
            "Mean abs error",
            "Pinball",
        ]
        .map(String::from)
        .to_vec(),
    ];
    for s in scores {
        rows.push(vec![
            s.series.clone(),
            s.months.to_string(),
            percent(s.coverage_90),
            percent(s.coverage_50),
            format!("{:+.1}", s.mean_error),
            format!("{:.1}", s.mean_absolute_error),
            format!("{:.2}", s.pinball),
        ]);
    }
    layout(&rows)
}

/// Left-aligns the first column and right-aligns the others.
pub(crate) fn layout(rows: &[Vec<String>]) -> String {
    let cols = rows[0].len();
    let widths: Vec<usize> = (0..cols)
        .map(|c| rows.iter().map(|r| r[c].chars().count()).max().unwrap_or(0))
        .collect();
    let mut out = String::new();
    for (i, r) in rows.iter().enumerate() {
        let mut line = String::new();
        for (c, cell) in r.iter().enumerate() {
            let pad = widths[c] - cell.chars().count();
            if c == 0 {
                line.push_str(cell);
                line.push_str(&" ".repeat(pad));
            } else {
                line.push_str("  ");
                line.push_str(&" ".repeat(pad));
                line.push_str(cell);
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
        if i == 0 {
            let total: usize = widths.iter().sum::<usize>() + 2 * (cols - 1);
            out.push_str(&"-".repeat(total));
            out.push('\n');
        }
    }
    out
}

/// `10000` → `10,000`.
pub(crate) fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, ch) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::thousands;

    #[test]
    fn thousands_separators() {
        assert_eq!(thousands(10000), "10,000");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1234567), "1,234,567");
    }
}
