//! The outputs of `carecast sensitivity`: JSON (`drivers`, ranked), tidy
//! CSV, the terminal table and a self-contained HTML page with tornado
//! charts.

use std::fmt::Write;

use crate::model::inputs::Unit;
use crate::output::svg::{self, TornadoRow, escape};
use crate::output::{money, percent};
use crate::sensitivity::{Driver, DriverFigures, Sensitivity, Swing};

/// Rows of the tornado charts and of the terminal table.
const TOP: usize = 15;
/// The tornado's two bars.
const HELD: Option<[&str; 2]> = Some(["input at its P10", "input at its P90"]);

pub fn json(s: &Sensitivity) -> Result<Vec<u8>, crate::error::Error> {
    let mut out = serde_json::to_vec_pretty(s)
        .map_err(|e| crate::error::Error::Runtime(format!("cannot write JSON: {e}")))?;
    out.push(b'\n');
    Ok(out)
}

/// `input,fy,metric,held,value`: one row per input, year (or `total`),
/// metric (`mean`, `mean_se`, `p90`, `p_overspend`, `value`) and setting
/// (`p10`, `p90`), the swing and its standard error; no `p_overspend` rows
/// without a budget;
/// the free run's figures as input `(none)`.
pub fn csv(s: &Sensitivity) -> Vec<u8> {
    let mut out = String::from("input,fy,metric,held,value\n");
    let quote = |x: &str| {
        if x.contains([',', '"', '\n']) {
            format!("\"{}\"", x.replace('"', "\"\""))
        } else {
            x.to_string()
        }
    };
    for f in s.base.years.iter().chain([&s.base.total]) {
        for (metric, v) in [
            ("budget", f.budget),
            ("mean", Some(f.mean)),
            ("p90", Some(f.p90)),
            ("p_overspend", f.p_overspend),
        ] {
            if let Some(v) = v {
                let _ = writeln!(out, "(none),{},{metric},,{v}", quote(&f.fy));
            }
        }
    }
    for d in &s.drivers {
        let input = quote(&d.input);
        let _ = writeln!(out, "{input},,value,p10,{}", d.low);
        let _ = writeln!(out, "{input},,value,p90,{}", d.high);
        let _ = writeln!(out, "{input},total,swing,,{}", d.swing);
        let _ = writeln!(out, "{input},total,swing_se,,{}", d.swing_se);
        for f in d.years.iter().chain([&d.total]) {
            let metrics = [
                ("mean", Some(f.mean)),
                ("mean_se", Some(f.mean_se)),
                ("p90", Some(f.p90)),
                ("p_overspend", f.p_overspend),
            ];
            for (metric, sw) in metrics {
                if let Some(sw) = sw {
                    let _ = writeln!(out, "{input},{},{metric},p10,{}", quote(&f.fy), sw.low);
                    let _ = writeln!(out, "{input},{},{metric},p90,{}", quote(&f.fy), sw.high);
                }
            }
        }
    }
    out.into_bytes()
}

/// A change in money with its sign; none on an amount that reads as £0.
fn signed_money(x: f64) -> String {
    let amount = money(x.abs());
    if amount == "£0" {
        amount
    } else if x > 0.0 {
        format!("+{amount}")
    } else {
        format!("−{amount}")
    }
}

/// A change in percentage points with its sign; none on one that reads as 0.0.
fn points(p: f64) -> String {
    let text = format!("{:.1}", (p * 100.0).abs());
    if text == "0.0" {
        text
    } else if p > 0.0 {
        format!("+{text}")
    } else {
        format!("−{text}")
    }
}

/// A value an input was held at, briefly.
fn value(x: f64) -> String {
    if x.abs() >= 1000.0 {
        let sign = if x < 0.0 { "-" } else { "" };
        format!(
            "{sign}{}",
            crate::output::table::thousands(x.abs().round() as u64)
        )
    } else if x == x.round() {
        format!("{x:.0}")
    } else {
        let dp = if x.abs() >= 100.0 {
            1
        } else if x.abs() >= 1.0 {
            2
        } else {
            4
        };
        format!("{x:.dp$}")
            .trim_end_matches('0')
            .trim_end_matches('.')
            .to_string()
    }
}

/// An input's value written with its unit: money as pounds, shares and
/// rates as percentages, counts of children, families and posts as numbers
/// with their noun, events in words.
pub fn value_with_unit(unit: Unit, x: f64) -> String {
    match number_and_unit(unit, x) {
        (number, "") => number,
        (number, unit) => format!("{number} {unit}"),
    }
}

/// An input's value in two parts: the number (with its £, % or ×), and the
/// words of its unit after it, if any.
fn number_and_unit(unit: Unit, x: f64) -> (String, &'static str) {
    let pct = |x: f64| format!("{:.1}%", x * 100.0);
    let one = x == 1.0;
    // An event's two values in words; anything else as a number.
    let event = |no: &str, yes: &str| match x {
        0.0 => no.to_string(),
        1.0 => yes.to_string(),
        _ => value(x),
    };
    match unit {
        Unit::Number => (value(x), ""),
        Unit::Pounds => (money(x), ""),
        Unit::PoundsAWeek => (money(x), "a week"),
        Unit::PoundsANight => (money(x), "a night"),
        Unit::PoundsAYear => (money(x), "a year"),
        Unit::Share => (pct(x), ""),
        Unit::ShareAYear => (pct(x), "a year"),
        Unit::Months => (value(x), if one { "month" } else { "months" }),
        Unit::Children => (value(x), if one { "child" } else { "children" }),
        Unit::AYear => (value(x), "a year"),
        Unit::Families => (value(x), if one { "family" } else { "families" }),
        Unit::ChildrenAFamily => (
            value(x),
            if one {
                "child a family"
            } else {
                "children a family"
            },
        ),
        Unit::ChildrenAWorker => (
            value(x),
            if one {
                "child a worker"
            } else {
                "children a worker"
            },
        ),
        Unit::Posts => (value(x), "FTE"),
        Unit::Factor => (format!("×{}", value(x)), ""),
        Unit::Delivered => (event("not delivered", "delivered"), ""),
        Unit::Slipped => (event("on time", "slips a year"), ""),
        Unit::Times => (value(x), if one { "time" } else { "times" }),
    }
}

/// The free run's figures for the horizon, in words.
fn free_run(b: &crate::sensitivity::Figures) -> String {
    match (b.budget, b.p_overspend) {
        (Some(budget), Some(p)) => format!(
            "mean cost {} against a budget of {} (P90 {}, probability of an overspend {})",
            money(b.mean),
            money(budget),
            money(b.p90),
            percent(p)
        ),
        _ => format!(
            "mean cost {} (P90 {}); no budget, so no overspend",
            money(b.mean),
            money(b.p90)
        ),
    }
}

/// The two values an input was held at, in words.
pub fn held(d: &Driver) -> String {
    if d.event {
        return "does not happen → happens".to_string();
    }
    // A unit both values share is written once: `£3,605 → £7,500 a week`.
    match (
        number_and_unit(d.unit, d.low),
        number_and_unit(d.unit, d.high),
    ) {
        ((low, a), (high, b)) if a == b && !a.is_empty() => format!("{low} → {high} {a}"),
        _ => format!(
            "{} → {}",
            value_with_unit(d.unit, d.low),
            value_with_unit(d.unit, d.high)
        ),
    }
}

/// The note a report prints when some events were held at "does not
/// happen" and "happens"; none otherwise.
pub fn event_note(drivers: &[Driver]) -> Option<String> {
    drivers.iter().any(|d| d.event).then(|| {
        "Events that happen (or not) in more than 90% of runs, such as a programme delivered with \
         probability 0.95 or a shock with probability 0.05, have the same P10 and P90: they are held \
         at \"does not happen\" and \"happens\" instead."
            .to_string()
    })
}

fn pair(sw: Swing, f: fn(f64) -> String) -> String {
    format!("{} / {}", f(sw.low), f(sw.high))
}

/// Labels of the ids in input paths (placements, cost lines, interventions,
/// savings); an id without one reads as itself.
pub type Labels = indexmap::IndexMap<String, String>;

fn words(path: &str, labels: &Labels) -> String {
    crate::report::input_words(path, &|id| labels.get(id).cloned())
}

pub fn table(s: &Sensitivity) -> String {
    table_with(s, &Labels::new())
}

/// The terminal table with inputs named in words, using `labels`.
pub fn table_with(s: &Sensitivity, labels: &Labels) -> String {
    crate::output::table::fit_lines(&table_lines(s, labels))
}

fn table_lines(s: &Sensitivity, labels: &Labels) -> String {
    let mut t = String::new();
    let _ = writeln!(
        t,
        "{} — sensitivity of scenario {}: {} runs per setting, seed {}",
        s.name, s.scenario, s.runs, s.seed
    );
    let _ = writeln!(
        t,
        "Whole horizon with every input random: {}",
        free_run(&s.base.total)
    );
    t.push_str(
        "Each input held at its P10 and its P90, everything else random (common random numbers);\n\
         changes from the free run, horizon totals, largest swing of the mean first.\n\n",
    );
    let mut rows: Vec<Vec<String>> = vec![
        [
            "Input",
            "Held at P10 → P90",
            "Mean cost (P10 / P90)",
            "P90 cost (P10 / P90)",
            "P(overspend), pts",
        ]
        .map(String::from)
        .to_vec(),
    ];
    rows.extend(s.drivers.iter().take(TOP).map(|d| {
        vec![
            words(&d.input, labels),
            held(d),
            pair(d.total.mean, signed_money),
            pair(d.total.p90, signed_money),
            d.total
                .p_overspend
                .map_or_else(|| "–".to_string(), |sw| pair(sw, points)),
        ]
    }));
    t.push_str(&crate::output::table::layout_keeping_ends(&rows));
    let se = s.drivers.iter().map(|d| d.swing_se).fold(0.0, f64::max);
    if !s.drivers.is_empty() {
        let _ = writeln!(
            t,
            "Monte Carlo error: the standard error of every swing |high − low| of the mean is at most {} \
             (paired runs)",
            money(se)
        );
    }
    if let Some(note) = event_note(&s.drivers) {
        t.push_str(&crate::output::table::wrap(&note, 100));
        t.push('\n');
    }
    if s.drivers.len() > TOP {
        let _ = writeln!(
            t,
            "… and {} more (all in the JSON and CSV)",
            crate::output::count_of((s.drivers.len() - TOP) as u64, "input")
        );
    }
    if s.drivers.is_empty() {
        t.push_str("(no uncertain inputs: every input of this config is a fixed number)\n");
    }
    t
}

/// Tornado rows of the top drivers for one figure (of year `at`, or the
/// horizon); none when the figure is absent (an overspend without budget).
fn rows(
    drivers: &[Driver],
    pick: fn(&DriverFigures) -> Option<Swing>,
    at: Option<usize>,
    labels: &Labels,
) -> Vec<TornadoRow> {
    drivers
        .iter()
        .take(TOP)
        .map_while(|d| {
            let f = at.map_or(&d.total, |y| &d.years[y]);
            let sw = pick(f)?;
            Some(TornadoRow {
                label: words(&d.input, labels),
                low: sw.low,
                high: sw.high,
                note: held(d),
            })
        })
        .collect()
}

pub fn html(s: &Sensitivity) -> String {
    html_with(s, &Labels::new())
}

/// The HTML page with inputs named in words, using `labels`.
pub fn html_with(s: &Sensitivity, labels: &Labels) -> String {
    let mut h = String::with_capacity(64 * 1024);
    let title = format!("{} — what drives the cost", s.name);
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en-GB\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{}</title>\n<style>{}</style>\n</head>\n<body>\n",
        escape(&title),
        crate::output::html::STYLE
    );
    let _ = writeln!(
        h,
        "<header><h1>{}</h1><p class=\"meta\">Scenario {} · {} runs per setting · seed {} · carecast {}</p></header>",
        escape(&title),
        escape(&s.scenario),
        s.runs,
        s.seed,
        escape(&s.carecast_version)
    );
    let _ = writeln!(
        h,
        "<section><h2>How the tornado is made</h2><p>Each uncertain input is held at its P10 and then at its P90 \
         in every simulated future, while every other input stays random with the same random numbers \
         (common random numbers), so each bar is the effect of that input alone. With every input random, \
         the whole horizon has a {}.</p>",
        escape(&free_run(&s.base.total))
    );
    if s.drivers.is_empty() {
        h.push_str("<p>This config has no uncertain inputs.</p>");
    }
    h.push_str("</section>\n");
    if !s.drivers.is_empty() {
        h.push_str("<section><h2>Whole horizon</h2>\n");
        horizon_tornadoes(&mut h, s, labels);
        h.push_str("</section>\n<section><h2>By financial year</h2>\n");
        for (y, fy) in s.base.years.iter().enumerate() {
            let mut by_year: Vec<&Driver> = s.drivers.iter().collect();
            by_year.sort_by(|a, b| {
                let w = |d: &Driver| (d.years[y].mean.high - d.years[y].mean.low).abs();
                w(b).total_cmp(&w(a))
            });
            let ranked: Vec<Driver> = by_year.into_iter().cloned().collect();
            let _ = writeln!(
                h,
                "<figure>{}<figcaption>With every input random: {}.</figcaption></figure>",
                svg::tornado(
                    &format!("{}: change in mean cost", fy.fy),
                    "change in mean cost of the year",
                    &rows(&ranked, |f| Some(f.mean), Some(y), labels),
                    &|x: f64| money(x),
                    HELD,
                    760.0
                ),
                escape(&free_run(fy))
            );
        }
        h.push_str("</section>\n<section><h2>Every input</h2><table class=\"wide\"><thead><tr><th>Input</th><th>P10</th><th>P90</th>\
                    <th>Mean cost<br>at P10 / P90</th><th>Standard error<br>of those changes</th><th>P90 cost<br>at P10 / P90</th><th>P(overspend)<br>at P10 / P90, pts</th></tr></thead><tbody>\n");
        for d in &s.drivers {
            let _ = writeln!(
                h,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                escape(&words(&d.input, labels)),
                escape(&if d.event {
                    "does not happen".to_string()
                } else {
                    value_with_unit(d.unit, d.low)
                }),
                escape(&if d.event {
                    "happens".to_string()
                } else {
                    value_with_unit(d.unit, d.high)
                }),
                escape(&pair(d.total.mean, signed_money)),
                escape(&pair(d.total.mean_se, money)),
                escape(&pair(d.total.p90, signed_money)),
                escape(
                    &d.total
                        .p_overspend
                        .map_or_else(|| "–".to_string(), |sw| pair(sw, points))
                )
            );
        }
        h.push_str("</tbody></table>");
        if let Some(note) = event_note(&s.drivers) {
            let _ = write!(h, "<p class=\"note\">{}</p>", escape(&note));
        }
        h.push_str("</section>\n");
    }
    h.push_str("</body>\n</html>\n");
    h
}

/// The tornado charts of the whole horizon: mean cost, P90 cost and, with
/// a budget, probability of an overspend.
pub(crate) fn horizon_tornadoes(h: &mut String, s: &Sensitivity, labels: &Labels) {
    let charts = [
        (
            "Change in mean cost",
            "change in mean cost of the horizon",
            (|f: &DriverFigures| Some(f.mean)) as fn(&DriverFigures) -> Option<Swing>,
            &(|x: f64| money(x)) as &dyn Fn(f64) -> String,
        ),
        (
            "Change in P90 cost",
            "change in P90 cost of the horizon",
            |f: &DriverFigures| Some(f.p90),
            &|x: f64| money(x),
        ),
        (
            "Change in probability of an overspend",
            "change in P(overspend), percentage points",
            |f: &DriverFigures| f.p_overspend,
            &|x: f64| crate::output::whole(x * 100.0),
        ),
    ];
    for (t, x_label, pick, fmt) in charts {
        let rows = rows(&s.drivers, pick, None, labels);
        if !rows.is_empty() {
            let _ = writeln!(
                h,
                "<figure>{}</figure>",
                svg::tornado(t, x_label, &rows, fmt, HELD, 760.0)
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_written_in_their_unit() {
        assert_eq!(value_with_unit(Unit::Share, 0.5916), "59.2%");
        assert_eq!(value_with_unit(Unit::Share, 0.85), "85.0%");
        assert_eq!(value_with_unit(Unit::ShareAYear, 0.044), "4.4% a year");
        assert_eq!(value_with_unit(Unit::Pounds, 6_670_820.4), "£6.67m");
        assert_eq!(value_with_unit(Unit::PoundsAWeek, -56.0), "−£56 a week");
        assert_eq!(value_with_unit(Unit::Months, 27.6727), "27.67 months");
        assert_eq!(value_with_unit(Unit::Children, 1.0), "1 child");
        assert_eq!(value_with_unit(Unit::Times, 2.0), "2 times");
        assert_eq!(value_with_unit(Unit::Factor, 0.275), "×0.275");
        assert_eq!(value_with_unit(Unit::Slipped, 1.0), "slips a year");
        assert_eq!(value_with_unit(Unit::Number, 3.8), "3.8");
    }
}
