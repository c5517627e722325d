//! Output formats, one module each, all rendered from a [`Report`](crate::report::Report): the
//! terminal [`table`], [`json`] and [`csv`] for pipelines, and the reports
//! people read — [`html`] (charts drawn by [`svg`]), [`xlsx`] and [`markdown`].
//! Files are written whole or not at all, by [`write`].

pub mod backtest_html;
pub mod csv;
pub mod finance;
pub mod html;
pub mod json;
pub mod markdown;
pub mod sensitivity;
pub mod svg;
pub mod table;
pub mod write;
pub mod xlsx;

pub use write::write_all_or_nothing;

/// A financial year's label, with its months when it is partial:
/// `2017/18 (6 months)`.
pub fn year_label(fy: &str, partial: bool, months: usize) -> String {
    if partial {
        format!("{fy} ({months} months)")
    } else {
        fy.to_string()
    }
}

/// The minus sign of money and signed counts in reports (U+2212, as
/// typeset figures write it).
pub const MINUS: char = '\u{2212}';

/// Money for UK readers: `£26.14m`, `£450k`, `£820`, `−£9,951`. A value that
/// rounds to nothing carries no sign: never `−£0`.
pub fn money(x: f64) -> String {
    let a = x.abs();
    let body = if !a.is_finite() {
        return "–".to_string();
    } else if a >= 1e6 {
        format!("£{:.2}m", a / 1e6)
    } else if a >= 1e4 {
        // Just under a million rounds to a thousand thousands: £1.00m.
        match format!("{:.0}", a / 1e3) {
            k if k == "1000" => "£1.00m".to_string(),
            k => format!("£{k}k"),
        }
    } else if a >= 999.5 {
        let whole = a.round() as u64;
        format!("£{},{:03}", whole / 1000, whole % 1000)
    } else {
        format!("£{a:.0}")
    };
    if x < 0.0 && body.chars().any(|c| c.is_ascii_digit() && c != '0') {
        format!("{MINUS}{body}")
    } else {
        body
    }
}

/// A strategy item's kind in words, with `, grant` when a grant pays for it.
pub fn kind_words(kind: &str, funding: &str) -> String {
    let word = match kind {
        "prevent_entry" => "prevention",
        "exit" => "exits",
        "step_down" => "step-down",
        "capacity" => "places",
        "unit_cost" => "price",
        other => other,
    };
    if funding != "budget" {
        format!("{word}, {}", funding.replace('_', " "))
    } else {
        word.to_string()
    }
}

/// A range of money as finance writes it: `−£436k to −£173k`; one figure
/// when both ends read the same.
pub fn money_range(lo: f64, hi: f64) -> String {
    let (a, b) = (money(lo), money(hi));
    if a == b { a } else { format!("{a} to {b}") }
}

/// A signed count of children: `+4`, `−15`, `0`.
pub fn signed_count(x: f64) -> String {
    let r = x.round();
    if r > 0.0 {
        format!("+{r:.0}")
    } else if r < 0.0 {
        format!("{MINUS}{:.0}", -r)
    } else {
        "0".to_string()
    }
}

/// A whole number as a report writes it: `−50`, `0`, `50` (the true minus,
/// never `−0`).
pub fn whole(x: f64) -> String {
    let r = x.round();
    if r < 0.0 {
        format!("{MINUS}{:.0}", -r)
    } else {
        format!("{:.0}", r.abs())
    }
}

/// The children in care at a year's end as every report gives them:
/// `447 / 470 / 497` (P10 / P50 / P90).
pub fn children_p10_p50_p90(s: &crate::stats::Summary) -> String {
    format!("{} / {} / {}", whole(s.p10), whole(s.p50), whole(s.p90))
}

/// The keys of several maps (one per year, say), each once, in the order
/// they first appear.
pub fn keys_in_order<'a, V: 'a>(
    maps: impl IntoIterator<Item = &'a indexmap::IndexMap<String, V>>,
) -> Vec<&'a String> {
    let mut keys: Vec<&String> = Vec::new();
    for map in maps {
        for k in map.keys() {
            if !keys.contains(&k) {
                keys.push(k);
            }
        }
    }
    keys
}

/// A figure that only exists with a budget (the budget, an overspend), or
/// `–` for a config without one.
pub fn if_budget(x: Option<f64>, show: fn(f64) -> String) -> String {
    x.map_or_else(|| "–".to_string(), show)
}

/// A probability or share as a percentage: `12.3%`. Rounding never makes
/// some look like none or most look like all: a share above 0 that would
/// read `0.0%` reads `<0.1%`, and one below 1 that would read `100.0%`
/// reads `>99.9%` (one run in 2,000 is 0.05%), so `0.0%` and `100.0%` mean
/// no run and every run.
pub fn percent(p: f64) -> String {
    let text = format!("{:.1}%", p * 100.0);
    if p > 0.0 && text == "0.0%" {
        "<0.1%".to_string()
    } else if p < 1.0 && text == "100.0%" {
        ">99.9%".to_string()
    } else {
        text
    }
}

/// How a precision-driven run ended, in one line (no line break).
pub fn precision_line(p: &crate::precision::Precision) -> String {
    let batches: Vec<String> = p
        .batches
        .iter()
        .map(|&n| crate::output::table::thousands(n))
        .collect();
    let widest = p.limiting.as_ref().map_or(String::new(), |l| {
        let show = |x: f64| {
            if l.figure.starts_with("overspend") {
                format!("{:.2} pt", x * 100.0)
            } else {
                money(x)
            }
        };
        format!(
            "; widest: {} {} {} ±{} (target ±{})",
            l.scenario,
            l.fy,
            l.figure,
            l.half_width.map_or("unbounded".to_string(), show),
            show(l.allowed)
        )
    });
    format!(
        "Precision ±{}: {} after {} runs (batches {}){}",
        p.target,
        if p.met {
            "met"
        } else {
            "NOT met, stopped at --max-runs"
        },
        crate::output::table::thousands(p.runs),
        batches.join(" → "),
        widest
    )
}

/// `40.5% ±1.0`: the probability and the larger distance from it to a
/// bound of its 95% interval, in percentage points.
pub fn probability_with_error(o: &crate::stats::Overspend) -> String {
    let half = o.probability_interval().half_width();
    if half.is_finite() {
        format!("{} ±{:.1}", percent(o.probability), half * 100.0)
    } else {
        percent(o.probability)
    }
}

/// What a report of one random run says of it: its figures are that run's
/// values, so they give no spread and no Monte Carlo error.
pub const SINGLE_RUN_NOTE: &str = "These results come from a single simulated future: its mean, \
     P10, P50 and P90 are all that one future's value and each probability is 0% or 100%, so no \
     figure says how likely an outcome is. Run more futures for a spread of outcomes.";

/// `1 run`, `2,000 runs`: a number of runs (or of `noun`s) in words.
pub fn count_of(n: u64, noun: &str) -> String {
    let s = if n == 1 { "" } else { "s" };
    format!("{} {noun}{s}", crate::output::table::thousands(n))
}

/// The line (no line break) under a scenario's headline table. For random
/// runs: the Monte Carlo error of its cost figures, the widest 95%
/// half-width of the mean, P50 and P90 over its years (a single run has an
/// error that it cannot measure, and the line says so). For a central
/// projection, which has no Monte Carlo error: what its figures are, exact
/// or approximate.
pub fn error_line(central: bool, sc: &crate::report::ScenarioReport) -> Option<String> {
    if central {
        return Some(central_line(sc).to_string());
    }
    let widest =
        |f: &dyn Fn(&crate::report::YearReport) -> f64| sc.years.iter().map(f).fold(0.0, f64::max);
    let mean = widest(&|y| y.cost.mean_se.map_or(f64::INFINITY, |se| 1.96 * se));
    let p50 = widest(&|y| y.cost.p50_interval().half_width());
    let p90 = widest(&|y| y.cost.p90_interval().half_width());
    let show = |x: f64| {
        if x.is_finite() {
            format!("±{}", money(x))
        } else {
            "unbounded (too few runs)".to_string()
        }
    };
    if sc.years.is_empty() {
        return None;
    }
    // Every figure of one run has a standard error but no estimate of it.
    if sc.years.iter().all(|y| y.cost.mean_se.is_none()) {
        return Some("Monte Carlo error: unknown from a single run".to_string());
    }
    // Beyond the runs whose values are kept exactly, percentiles come from
    // a sketch: its error is stated beside the Monte Carlo error.
    let sketch = sc
        .years
        .iter()
        .filter_map(|y| y.cost.sketch_error)
        .fold(None, |most: Option<f64>, e| {
            Some(most.map_or(e, |m| m.max(e)))
        });
    let sketch = sketch.map_or(String::new(), |e| {
        format!("; percentiles from a sketch, within {}", money(e))
    });
    Some(format!(
        "Monte Carlo error (95%, widest year): mean {} · P50 {} · P90 {}{sketch}",
        show(mean),
        show(p50),
        show(p90)
    ))
}

/// How far from zero a rank correlation measured over `runs` runs falls 95%
/// of the time when the input has no effect on the cost: 1.96/√(runs − 1).
pub fn rank_noise(runs: u64) -> f64 {
    1.96 / (runs.saturating_sub(1).max(1) as f64).sqrt()
}

/// A driver's rank correlation, `+0.37`, marked `(noise)` when it lies
/// within [`rank_noise`] of zero: the runs cannot tell it from no effect.
pub fn rank_text(rho: f64, runs: u64) -> String {
    if rho.abs() < rank_noise(runs) {
        format!("{rho:+.2} (noise)")
    } else {
        format!("{rho:+.2}")
    }
}

/// What the `(noise)` mark of [`rank_text`] means for `runs` runs, as a
/// sentence without its full stop.
pub fn rank_noise_note(runs: u64) -> String {
    if rank_noise(runs) >= 1.0 {
        // No correlation lies beyond ±1: every driver is marked.
        return format!(
            "Over {} no correlation, however strong, can be told from that of an input that does \
             not move the cost, so every one is marked (noise) and none says anything",
            count_of(runs, "run")
        );
    }
    format!(
        "A rank correlation marked (noise) is within ±{:.2} of zero, where one measured over {} \
         falls 95% of the time for an input that does not move the cost: the runs cannot tell it \
         from no effect, and its sign says nothing",
        rank_noise(runs),
        count_of(runs, "run")
    )
}

/// Whether any of a scenario's first `top` drivers is marked (noise) by
/// [`rank_text`], so that [`rank_noise_note`] is needed beside them.
pub fn any_noise(sc: &crate::report::ScenarioReport, top: usize, runs: u64) -> bool {
    sc.contributions
        .iter()
        .take(top)
        .any(|c| c.total.rank_correlation.abs() < rank_noise(runs))
}

/// A correlation the config asked for and the one its runs realised, as a
/// sentence without its full stop.
pub fn correlation_text(
    sc: &crate::report::ScenarioReport,
    r: &crate::drivers::RealisedCorrelation,
) -> String {
    format!(
        "Correlation of {} with {}: asked {:.2}, realised {:.3}",
        sc.input_label(&r.inputs[0]),
        sc.input_label(&r.inputs[1]),
        r.requested,
        r.realised
    )
}

/// The sum of the squared correlations of a scenario's drivers with the
/// horizon's cost: for inputs that act independently and linearly, about
/// the part of the cost's spread that goes with the inputs rather than
/// with chance alone (which children enter, leave and move, and when).
pub fn explained(sc: &crate::report::ScenarioReport) -> f64 {
    sc.contributions
        .iter()
        .map(|c| c.total.rank_correlation * c.total.rank_correlation)
        .sum()
}

/// What a scenario's central projection is, in one sentence without its
/// full stop: the model's expected path, or an approximation of it where a
/// capacity or a programme's limit comes within reach.
pub fn central_line(sc: &crate::report::ScenarioReport) -> &'static str {
    if sc.approximate {
        "Central projection, approximate: a capacity or a programme's limit comes within reach in \
         this scenario, so these figures approximate the model's expected path (every uncertain \
         input at its expected value) rather than give it exactly; random runs, without \
         --central, follow the model exactly"
    } else {
        "Central projection: each figure is the model's expected path, every uncertain input at \
         its expected value"
    }
}

/// What the pays-back column shows for a comparison whose second scenario
/// adds no programme, investment or saving plan to the first's (short, to
/// keep the terminal's table within its width; the notes say why).
pub const NO_STRATEGY_ADDED: &str = "n/a";

/// The ids of a scenario's programmes, investments and saving plans.
fn strategy_of<'a>(report: &'a crate::report::Report, id: &str) -> Vec<&'a str> {
    report
        .scenarios
        .iter()
        .find(|sc| sc.id == id)
        .map(|sc| {
            sc.lines
                .iter()
                .filter(|(_, l)| {
                    matches!(l.kind.as_str(), "intervention" | "investment" | "saving")
                })
                .map(|(k, _)| k.as_str())
                .collect()
        })
        .unwrap_or_default()
}

/// Whether "pays back" means anything for comparison `d`: its second
/// scenario adds a programme, an investment or a saving plan to the first's,
/// whose spending the saving may or may not cover. A comparison of a shock
/// or of another demand assumption adds none.
pub fn pays_back_applies(report: &crate::report::Report, d: &crate::report::Difference) -> bool {
    let from = strategy_of(report, &d.from);
    strategy_of(report, &d.to)
        .iter()
        .any(|id| !from.contains(id))
}

/// Whether comparison `d`'s saving leaves out grant-funded spend that
/// differs between its two scenarios (by a penny or more on average).
pub fn grant_gap(d: &crate::report::Difference) -> bool {
    (d.horizon.saving_including_grants.mean - d.horizon.saving.mean).abs() >= 0.005
}

/// The pays-back cell of comparison `d`: yes or no centrally, the share of
/// runs otherwise, [`NO_STRATEGY_ADDED`] where it does not apply.
pub fn pays_back_cell(report: &crate::report::Report, d: &crate::report::Difference) -> String {
    if !pays_back_applies(report, d) {
        NO_STRATEGY_ADDED.to_string()
    } else if report.mode == "central" {
        if d.horizon.probability_pays_back >= 0.5 {
            "yes"
        } else {
            "no"
        }
        .to_string()
    } else {
        percent(d.horizon.probability_pays_back)
    }
}

/// What the comparisons' pays-back figures leave out, one sentence each:
/// comparisons that add no strategy, and grant-funded spend, which the
/// saving (the cost charged to the council's budget) does not count.
pub fn comparison_notes(report: &crate::report::Report) -> Vec<String> {
    let name = |d: &crate::report::Difference| {
        format!(
            "{} → {}",
            report.scenario_label(&d.from),
            report.scenario_label(&d.to)
        )
    };
    let mut notes = Vec::new();
    let none: Vec<String> = report
        .differences
        .iter()
        .filter(|d| !pays_back_applies(report, d))
        .map(name)
        .collect();
    if !none.is_empty() {
        notes.push(format!(
            "Pays back is {NO_STRATEGY_ADDED} for {}: the second scenario adds no programme, \
             investment or saving plan to the first, so there is no strategy spending to pay back; \
             the saving is the difference the scenarios' assumptions make.",
            none.join("; ")
        ));
    }
    for d in &report.differences {
        if grant_gap(d) {
            notes.push(format!(
                "{}: the saving is of the council's budget and leaves out grant-funded spend; counting \
                 that spend too, the saving over the whole horizon is {}{}.",
                name(d),
                money(d.horizon.saving_including_grants.mean),
                if report.mode == "central" {
                    ""
                } else {
                    " on average"
                }
            ));
        }
    }
    notes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rank_correlation_within_the_noise_of_its_runs_is_marked() {
        // 1.96/sqrt(299) = 0.1133 for 300 runs; 1.96/sqrt(3999) = 0.031.
        assert_eq!(rank_text(-0.09, 300), "-0.09 (noise)");
        assert_eq!(rank_text(0.13, 300), "+0.13");
        assert_eq!(rank_text(-0.09, 4000), "-0.09");
        assert_eq!(rank_text(0.012, 4000), "+0.01 (noise)");
        assert!(rank_noise_note(300).contains("±0.11"));
    }

    #[test]
    fn money_reads_like_a_committee_paper() {
        assert_eq!(money(26_142_857.14), "£26.14m");
        assert_eq!(money(450_000.0), "£450k");
        assert_eq!(money(820.0), "£820");
        assert_eq!(money(-9951.2), "−£9,951");
        assert_eq!(money(-1_383_000.0), "−£1.38m");
        assert_eq!(money(-0.4), "£0");
        assert_eq!(money(999.6), "£1,000");
        assert_eq!(money(999_499.0), "£999k");
        assert_eq!(money(999_700.0), "£1.00m");
        assert_eq!(money(-999_999.0), "−£1.00m");
        assert_eq!(money_range(-436_000.0, -173_000.0), "−£436k to −£173k");
        assert_eq!(money_range(5.0, 5.2), "£5");
        assert_eq!(signed_count(-15.2), "−15");
        assert_eq!(signed_count(0.3), "0");
        assert_eq!(percent(0.1234), "12.3%");
    }

    #[test]
    fn whole_numbers_take_the_true_minus_and_no_signed_zero() {
        assert_eq!(whole(-50.0), "\u{2212}50");
        assert_eq!(whole(-0.4), "0");
        assert_eq!(whole(-0.0), "0");
        assert_eq!(whole(49.6), "50");
        // A median between two counts rounds half away from zero, as the
        // strategy table's `.round()` does, not to even as `{:.0}` would
        // (which printed 512 in one table and 513 in another).
        assert_eq!(whole(512.5), "513");
        assert_eq!(whole(511.5), "512");
        assert_ne!(format!("{:.0}", 512.5), whole(512.5));
    }

    #[test]
    fn a_share_reads_as_none_or_all_only_when_it_is() {
        assert_eq!(percent(0.0), "0.0%");
        assert_eq!(percent(1.0), "100.0%");
        assert_eq!(percent(0.9995), ">99.9%");
        assert_eq!(percent(0.99999), ">99.9%");
        assert_eq!(percent(0.0004), "<0.1%");
        assert_eq!(percent(0.0005), "0.1%");
        assert_eq!(percent(0.999), "99.9%");
    }

    #[test]
    fn keys_are_listed_once_in_first_seen_order() {
        let a: indexmap::IndexMap<String, u8> = [("x".into(), 1), ("y".into(), 2)].into();
        let b: indexmap::IndexMap<String, u8> = [("z".into(), 1), ("x".into(), 2)].into();
        assert_eq!(keys_in_order([&a, &b]), ["x", "y", "z"]);
    }
}
