//! The terminal table: per scenario and financial year, the
//! budget, cost percentiles, chance and expected size of an overspend, and
//! children in care at the year end.

use std::fmt::Write;

use crate::output::{
    error_line, if_budget, money, percent, precision_line, probability_with_error,
};
use crate::report::Report;

/// Renders the table as plain text, every line within [`WIDTH`] columns
/// (tables are laid out to fit; a longer line of prose is wrapped).
pub fn render(report: &Report) -> String {
    fit_lines(&render_lines(report))
}

/// Text with every line longer than [`WIDTH`] wrapped (tables laid out by
/// [`layout`] already fit, so only prose is wrapped).
pub fn fit_lines(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for line in text.lines() {
        if line.chars().count() > WIDTH {
            out.push_str(&wrap(line, WIDTH));
        } else {
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

fn render_lines(report: &Report) -> String {
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
            "{} — {}, seed {}",
            report.name,
            crate::output::count_of(report.runs, "run"),
            report.seed
        )
    };
    if !central && report.runs == 1 {
        out.push_str(&wrap(crate::output::SINGLE_RUN_NOTE, WIDTH));
    }
    if let Some(p) = &report.precision {
        let _ = writeln!(out, "{}", precision_line(p));
    }
    if !report.has_budget() {
        // Name the columns this table has: a central projection has no
        // P(over) or E[over], only an over/under.
        out.push_str(if central {
            "The config has no budget: Budget and Over (+) / under (-) read –.\n"
        } else {
            "The config has no budget: Budget, P(over) and E[over] read –.\n"
        });
    }
    for sc in &report.scenarios {
        if sc.label == sc.id {
            let _ = writeln!(out, "\nScenario: {}", sc.id);
        } else {
            let _ = writeln!(out, "\nScenario: {} ({})", sc.id, sc.label);
        }
        let mut rows: Vec<Vec<String>> = Vec::new();
        let children = sc.has_children();
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
            if !children {
                rows.iter_mut().for_each(|r| {
                    r.pop();
                });
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
                    "Children P10/P50/P90",
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
                    crate::output::children_p10_p50_p90(&y.lac_end),
                ]);
            }
            if !children {
                rows.iter_mut().for_each(|r| {
                    r.pop();
                });
            }
        }
        out.push_str(&layout(&rows));
        if let Some(line) = error_line(central, sc) {
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
        out.push('\n');
        out.push_str(&wrap(
            &if central {
                format!(
                    "Strategy in {}: per year, children prevented, exited or moved, or places added · \
                     cost in £ (savings negative), in the central projection; Delivered: the chance \
                     that the programme is delivered, by which the projection scales its effect",
                    sc.id
                )
            } else {
                format!(
                    "Strategy in {}: per year, children prevented, exited or moved, or places added \
                     (P50) · mean cost in £ (savings negative); Delivered: share of runs with the \
                     programme",
                    sc.id
                )
            },
            WIDTH,
        ));
        let mut header = vec!["Item".to_string(), "Kind".into(), "Delivered".into()];
        header.extend(sc.years.iter().map(|y| y.fy.clone()));
        let mut rows: Vec<Vec<String>> = vec![header];
        let Some(first) = sc.years.first() else {
            continue;
        };
        for (id, iv) in &first.interventions {
            let mut row = vec![
                iv.label.clone(),
                crate::output::kind_words(&iv.kind, &iv.funding),
                percent(iv.delivered),
            ];
            for y in &sc.years {
                row.push(match y.interventions.get(id) {
                    Some(this) if this.kind == "unit_cost" => money(this.cost.mean),
                    Some(this) if central => {
                        format!("{:.1} · {}", this.children.mean, money(this.cost.mean))
                    }
                    Some(this) => format!(
                        "{:.0} · {}",
                        this.children.p50.round(),
                        money(this.cost.mean)
                    ),
                    None => "–".to_string(),
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
                crate::output::kind_words(&line.kind, &line.funding),
                String::new(),
            ];
            for y in &sc.years {
                let amount = if line.funding != "budget" {
                    y.grant_funded.items.get(id)
                } else {
                    y.components.get(id)
                };
                row.push(amount.map_or_else(|| "–".to_string(), |a| money(a.mean)));
            }
            rows.push(row);
        }
        out.push_str(&layout(&rows));
    }
    // A config of money only counts no children: its comparison has no
    // children's column, and the last column says only whether it pays back.
    let children = report.has_children();
    let children_note = if children {
        "children: the second's minus the first's; "
    } else {
        ""
    };
    if !report.differences.is_empty() && central {
        let _ = writeln!(
            out,
            "\nComparisons (saving = cost of the first scenario minus cost of the second, each in its\n\
             central projection; {children_note}pays back: whether the\n\
             saving over the horizon covers the strategy's cost to the council's budget)"
        );
        let last = if children {
            "Children at year end, diff"
        } else {
            "Pays back"
        };
        let mut rows: Vec<Vec<String>> = vec![
            ["Comparison", "Year", "Saving", last]
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
                    if children {
                        crate::output::signed_count(y.lac_end_difference.mean)
                    } else {
                        String::new()
                    },
                ]);
            }
            let pays = crate::output::pays_back_cell(report, d);
            rows.push(vec![
                pair.clone(),
                "horizon".into(),
                money(d.horizon.saving.mean),
                if children && crate::output::pays_back_applies(report, d) {
                    format!("pays back: {pays}")
                } else {
                    pays
                },
            ]);
        }
        out.push_str(&layout(&rows));
    } else if !report.differences.is_empty() {
        let _ = writeln!(
            out,
            "\nComparisons (saving = cost of the first scenario minus cost of the second, run by run;\n\
             {children_note}pays back: share of runs whose saving over the\n\
             horizon covers the strategy's cost to the council's budget)"
        );
        let last = if children {
            "Children, P50 diff"
        } else {
            "Pays back"
        };
        let mut rows: Vec<Vec<String>> = vec![
            [
                "Comparison",
                "Year",
                "Mean saving",
                "P10",
                "P50",
                "P90",
                "P(saves)",
                last,
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
                    if children {
                        crate::output::signed_count(y.lac_end_difference.p50)
                    } else {
                        String::new()
                    },
                ]);
            }
            let pays = crate::output::pays_back_cell(report, d);
            rows.push(vec![
                pair.clone(),
                "horizon".into(),
                money(d.horizon.saving.mean),
                money(d.horizon.saving.p10),
                money(d.horizon.saving.p50),
                money(d.horizon.saving.p90),
                percent(d.horizon.probability_positive),
                if children && crate::output::pays_back_applies(report, d) {
                    format!("pays back {pays}")
                } else {
                    pays
                },
            ]);
        }
        out.push_str(&layout(&rows));
    }
    for note in crate::output::comparison_notes(report) {
        out.push_str(&wrap(&note, WIDTH));
    }
    for sc in &report.scenarios {
        for section in crate::output::finance::sections(central, sc) {
            let _ = writeln!(out, "\n{}", section.title);
            out.push_str(&layout(&section.rows));
            for note in &section.notes {
                out.push_str(&wrap(note, WIDTH));
            }
        }
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
        let tolerance = report
            .scenarios
            .iter()
            .flat_map(|sc| &sc.years)
            .find_map(|y| y.overspend.map(|o| o.tolerance))
            .unwrap_or(crate::stats::OVERSPEND_TOLERANCE_PENCE as f64 / 100.0);
        out.push('\n');
        // One run shows no interval and has no Monte Carlo error to give.
        let text = if report.runs == 1 {
            format!(
                "P(over): 100% when the future's cost exceeds the budget by more than {}, else 0%. \
                 E[over]: its cost above the budget (£0 when within it).",
                money_exact(tolerance)
            )
        } else {
            format!(
                "P(over): share of runs whose cost exceeds the budget by more than {}, ± the half-width \
                 of its 95% interval in points. E[over]: mean overspend across all runs (underspends \
                 count as 0). Monte Carlo error: how far the figure may be from what unlimited runs \
                 would give.",
                money_exact(tolerance)
            )
        };
        out.push_str(&wrap(&text, WIDTH));
        if zero_budget(report) {
            out.push_str(&wrap(ZERO_BUDGET_NOTE, WIDTH));
        }
    }
    out
}

/// The width the terminal output keeps within.
pub const WIDTH: usize = 100;

/// Said wherever a year's budget is £0.
pub const ZERO_BUDGET_NOTE: &str = "A budget of £0 means the whole cost of that year is \
     compared with nothing: every run costing more than the tolerance overspends, and the \
     overspend is the cost itself (in a config whose cost is a savings target's shortfall, the \
     shortfall).";

/// Whether any year of any scenario has a budget of £0.
pub fn zero_budget(report: &Report) -> bool {
    report
        .scenarios
        .iter()
        .flat_map(|sc| &sc.years)
        .any(|y| y.budget == Some(0.0))
}

/// Pounds and pence, `£1` or `£0.50`, for small amounts such as a tolerance.
pub fn money_exact(x: f64) -> String {
    if (x - x.round()).abs() < 1e-9 {
        format!("£{x:.0}")
    } else {
        format!("£{x:.2}")
    }
}

/// Text wrapped at word boundaries into lines of at most `width` characters
/// (a word longer than that keeps a line of its own), each ending in `\n`.
pub fn wrap(text: &str, width: usize) -> String {
    let mut out = String::new();
    for paragraph in text.split('\n') {
        let mut line = String::new();
        for word in paragraph.split_whitespace() {
            if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > width {
                out.push_str(&line);
                out.push('\n');
                line.clear();
            }
            if !line.is_empty() {
                line.push(' ');
            }
            line.push_str(word);
        }
        out.push_str(&line);
        out.push('\n');
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
            "\nWhat drives the cost in {} (whole horizon; each input's share of the spread the inputs go\n\
             with, from rank correlations squared and normalised; squared they add to {:.2}, and for\n\
             independent inputs the rest of the spread is chance)",
            sc.id,
            crate::output::explained(sc)
        );
        let mut rows = vec![
            ["Input", "Share", "Rank correlation"]
                .map(String::from)
                .to_vec(),
        ];
        for c in sc.contributions.iter().take(TOP) {
            rows.push(vec![
                sc.input_label(&c.input),
                percent(c.total.contribution),
                crate::output::rank_text(c.total.rank_correlation, report.runs),
            ]);
        }
        out.push_str(&layout(&rows));
        if crate::output::any_noise(sc, TOP, report.runs) {
            out.push_str(&wrap(
                &format!("{}.", crate::output::rank_noise_note(report.runs)),
                WIDTH,
            ));
        }
        for r in &sc.correlations {
            let _ = writeln!(
                out,
                "{}",
                wrap(&crate::output::correlation_text(sc, r), WIDTH).trim_end()
            );
        }
    }
}

/// The scores of a scenario against the config's `[history]`.
fn history(scenario: &str, h: &crate::score::HistoryScore) -> String {
    // The counts on a line of their own, so wrapping never splits them.
    let mut out = format!(
        "\nObserved history ([history]) in {scenario}: {} given, {} within the horizon\n",
        h.given, h.scored
    );
    if let Some(source) = &h.source {
        out.push_str(&wrap(&format!("Source: {source}"), WIDTH));
    }
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
            "Points",
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
        // Outturns are scored in pounds, counts in children.
        let (error, absolute, pinball) = if s.series == "cost" {
            let signed = |x: f64| {
                if x < 0.0 {
                    format!("−{}", money(-x))
                } else {
                    format!("+{}", money(x))
                }
            };
            (
                signed(s.mean_error),
                money(s.mean_absolute_error),
                money(s.pinball),
            )
        } else {
            (
                format!("{:+.1}", s.mean_error),
                format!("{:.1}", s.mean_absolute_error),
                format!("{:.2}", s.pinball),
            )
        };
        rows.push(vec![
            s.series.clone(),
            s.months.to_string(),
            percent(s.coverage_90),
            percent(s.coverage_50),
            error,
            absolute,
            pinball,
        ]);
    }
    layout(&rows)
}

/// Left-aligns the first column and right-aligns the others, within
/// [`WIDTH`] columns: a first column too long for that is shortened with
/// `…` (labels only, never a number), and the other columns, when still too
/// wide, are split into several tables that each repeat the first.
pub(crate) fn layout(rows: &[Vec<String>]) -> String {
    layout_within(rows, WIDTH, false)
}

/// [`layout`] for labels told apart by their last comma-separated part,
/// such as inputs named by their field or year (`…, weekly cost`,
/// `…, 2016/17`): a label too long is cut in its middle, keeping that part.
pub(crate) fn layout_keeping_ends(rows: &[Vec<String>]) -> String {
    layout_within(rows, WIDTH, true)
}

fn widths(rows: &[Vec<String>]) -> Vec<usize> {
    let cols = rows[0].len();
    (0..cols)
        .map(|c| rows.iter().map(|r| r[c].chars().count()).max().unwrap_or(0))
        .collect()
}

fn total_width(widths: &[usize]) -> usize {
    widths.iter().sum::<usize>() + 2 * widths.len().saturating_sub(1)
}

/// `s` in at most `n` characters: when too long, cut to `…` before its
/// last `words` words (and the comma before them), which are kept where they
/// fit (`Cost line: Flight path: demand above the…, 2016/17`), or at its end
/// with `words` 0.
fn shorten(s: &str, n: usize, words: usize) -> String {
    /// The start keeps at least this many characters.
    const MIN_HEAD: usize = 8;
    let len = s.chars().count();
    if len <= n {
        return s.to_string();
    }
    let mut tail_at = match words {
        0 => s.len(),
        k => s.rmatch_indices(' ').nth(k - 1).map_or(s.len(), |(i, _)| i),
    };
    if s[..tail_at].ends_with(',') {
        tail_at -= 1;
    }
    let tail_len = s[tail_at..]
        .chars()
        .count()
        .min(n.saturating_sub(1 + MIN_HEAD));
    let head: String = s.chars().take(n.saturating_sub(1 + tail_len)).collect();
    let tail: String = s.chars().skip(len - tail_len).collect();
    format!("{}…{tail}", head.trim_end())
}

/// The words of `s` after its last comma: what [`layout_keeping_ends`]
/// keeps.
fn last_part_words(s: &str) -> usize {
    s.rsplit_once(", ")
        .map_or(0, |(_, part)| part.split(' ').count())
}

/// Every label of `labels` in at most `n` characters, each cut in its
/// middle before its last part (`keep_last_part`) or at its end (see
/// [`shorten`]), distinct labels kept distinct: labels that would read the
/// same keep more words of their end, then the column widens until they
/// differ.
fn shorten_all(labels: &[&str], n: usize, keep_last_part: bool) -> Vec<String> {
    let widest = labels.iter().map(|l| l.chars().count()).max().unwrap_or(0);
    for n in n..=widest {
        let mut words: Vec<usize> = labels
            .iter()
            .map(|l| {
                if keep_last_part {
                    last_part_words(l)
                } else {
                    0
                }
            })
            .collect();
        loop {
            let short: Vec<String> = labels
                .iter()
                .zip(&words)
                .map(|(l, &w)| shorten(l, n, w))
                .collect();
            let clashes: Vec<usize> = (0..labels.len())
                .filter(|&i| {
                    (0..labels.len()).any(|j| short[i] == short[j] && labels[i] != labels[j])
                })
                .collect();
            if clashes.is_empty() {
                return short;
            }
            let mut more = false;
            for i in clashes {
                if words[i] < labels[i].matches(' ').count() {
                    words[i] += 1;
                    more = true;
                }
            }
            if !more {
                break;
            }
        }
    }
    labels.iter().map(|l| l.to_string()).collect()
}

/// [`layout`] within `max` columns, shortened labels keeping their last
/// comma-separated part with `keep_last_part`.
fn layout_within(rows: &[Vec<String>], max: usize, keep_last_part: bool) -> String {
    /// The first column keeps at least this many characters.
    const MIN_FIRST: usize = 24;
    let w = widths(rows);
    if total_width(&w) <= max || w.len() < 2 {
        return layout_plain(rows);
    }
    /// When the table must be split anyway, the first column keeps this many.
    const SPLIT_FIRST: usize = 50;
    let rest = total_width(&w) - w[0];
    let mut first = max.saturating_sub(rest).clamp(MIN_FIRST.min(w[0]), w[0]);
    if rest + first > max {
        first = w[0].min(SPLIT_FIRST);
    }
    let labels: Vec<&str> = rows.iter().map(|r| r[0].as_str()).collect();
    let shortened: Vec<Vec<String>> = rows
        .iter()
        .zip(shorten_all(&labels, first, keep_last_part))
        .map(|(r, label)| {
            let mut r = r.clone();
            r[0] = label;
            r
        })
        .collect();
    if total_width(&widths(&shortened)) <= max {
        return layout_plain(&shortened);
    }
    // Split the other columns into groups that fit beside the first.
    let w = widths(&shortened);
    let mut groups: Vec<Vec<usize>> = Vec::new();
    let mut current: Vec<usize> = Vec::new();
    let mut used = w[0];
    for (c, &width) in w.iter().enumerate().skip(1) {
        if !current.is_empty() && used + 2 + width > max {
            groups.push(std::mem::replace(&mut current, vec![c]));
            used = w[0] + 2 + width;
        } else {
            current.push(c);
            used += 2 + width;
        }
    }
    groups.push(current);
    let parts: Vec<String> = groups
        .iter()
        .map(|g| {
            let part: Vec<Vec<String>> = shortened
                .iter()
                .map(|r| {
                    std::iter::once(r[0].clone())
                        .chain(g.iter().map(|&c| r[c].clone()))
                        .collect()
                })
                .collect();
            layout_plain(&part)
        })
        .collect();
    parts.join("\n")
}

fn layout_plain(rows: &[Vec<String>]) -> String {
    let cols = rows[0].len();
    let widths = widths(rows);
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
            out.push_str(&"-".repeat(total_width(&widths[..cols])));
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
    use super::*;

    #[test]
    fn wide_tables_are_shortened_then_split_never_cutting_a_number() {
        let long = "A programme with a very long label indeed, longer than most".to_string();
        let mut rows = vec![
            std::iter::once("Item".to_string())
                .chain((0..8).map(|y| format!("20{y:02}/{:02}", y + 1)))
                .collect::<Vec<_>>(),
        ];
        rows.push(
            std::iter::once(long.clone())
                .chain((0..8).map(|_| "17 · −£1,396k".to_string()))
                .collect(),
        );
        let text = layout_within(&rows, 100, false);
        assert!(text.lines().all(|l| l.chars().count() <= 100), "{text}");
        assert_eq!(text.matches("17 · −£1,396k").count(), 8, "{text}");
        assert!(text.contains('…'));
        // A table that fits is left alone.
        let small = vec![
            vec!["a".to_string(), "1".into()],
            vec![long.clone(), "2".into()],
        ];
        assert!(layout_within(&small, 100, false).contains(&long));
    }

    #[test]
    fn shortened_labels_keep_their_end_and_stay_distinct() {
        let years: Vec<String> = ["2016/17", "2017/18"]
            .iter()
            .map(|fy| format!("Cost line: Flight path: demand above the cash limit, {fy}"))
            .collect();
        let labels: Vec<&str> = years.iter().map(String::as_str).collect();
        assert_eq!(
            shorten_all(&labels, 50, true),
            [
                "Cost line: Flight path: demand above the…, 2016/17",
                "Cost line: Flight path: demand above the…, 2017/18"
            ]
        );
        // Cut at their end, they would read the same: they keep their year.
        assert_eq!(
            shorten_all(&labels, 50, false),
            shorten_all(&labels, 50, true)
        );
        // A label that reads like no other is cut at its end.
        assert_eq!(
            shorten_all(&["A programme with a very long label, indeed"], 30, false),
            ["A programme with a very long…"]
        );
        // Labels alike in their last part keep more words.
        let moves = [
            "Transition: External residential, Independent fostering, 5-9, annual rate",
            "Transition: External residential, Independent fostering, 10-15, annual rate",
        ];
        assert_eq!(
            shorten_all(&moves, 40, true),
            [
                "Transition: External…, 5-9, annual rate",
                "Transition: Externa…, 10-15, annual rate"
            ]
        );
        let middle = [
            "A long label with a middle part 1 and the same end",
            "A long label with a middle part 2 and the same end",
        ];
        assert_eq!(
            shorten_all(&middle, 30, true),
            [
                "A long lab… 1 and the same end",
                "A long lab… 2 and the same end"
            ]
        );
        // Labels that differ too far from either end widen until they differ.
        let far = [
            "Both labels start with these same words then part 1 and end with the same long words",
            "Both labels start with these same words then part 2 and end with the same long words",
        ];
        let short = shorten_all(&far, 30, true);
        assert_ne!(short[0], short[1]);
        assert!(
            short
                .iter()
                .all(|s| (31..far[0].len()).contains(&s.chars().count()))
        );
        // Short labels are left alone.
        assert_eq!(
            shorten_all(&["Entries: per year"], 20, true),
            ["Entries: per year"]
        );
    }

    #[test]
    fn wrapping_keeps_lines_within_the_width() {
        let text = wrap(&"word ".repeat(60), 100);
        assert!(text.lines().all(|l| l.len() <= 100));
        assert_eq!(text.matches("word").count(), 60);
    }

    #[test]
    fn thousands_separators() {
        assert_eq!(thousands(10000), "10,000");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1234567), "1,234,567");
    }
}
