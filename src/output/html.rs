//! `--html`: one self-contained HTML file that opens offline in any browser
//! and prints on A4. Styles are inline and charts are inline SVG
//! from [`svg`]: nothing is fetched from anywhere. Every piece of text from
//! the report or its config is escaped.
//!
//! Sections: the headline per scenario and year, with the whole horizon's
//! saving and whether the strategy pays back; per scenario, fan charts of
//! children in care (total, by placement type, by age band; none for a
//! config of money only), the cost distribution of each year against its
//! budget, cost by component, every strategy item (delivered share,
//! children, cost) and what drives the cost; the scenario comparison; and
//! the inputs (config as run, seed, runs, version) needed to reproduce it.
//!
//! Every sentence is chosen by what the run holds (a budget or none, a £0
//! budget, a central projection), names come from the config's labels, and
//! charts meant to be compared share their axes (`Shared`).
//!
//! The JSON holds percentiles, not runs, so a year's cost distribution is
//! drawn as an approximate density built from the percentiles (see
//! [`svg::density`]); the report says so beside the charts.

use std::fmt::Write;

use indexmap::IndexMap;

use crate::config;
use crate::output::svg::{self, Density, Fan, Series, Stacked, Strip, escape};
use crate::output::table::thousands;
use crate::output::table::{ZERO_BUDGET_NOTE, money_exact, zero_budget};
use crate::output::{
    if_budget, keys_in_order, kind_words, money, money_range, percent, probability_with_error,
    signed_count,
};
use crate::report::{MonthReport, Report, ScenarioReport};
use crate::sensitivity::Sensitivity;
use crate::stats::Summary;

/// The report's stylesheet, shared by every HTML page carecast writes.
pub(crate) const STYLE: &str = r#"
@page { size: A4; margin: 14mm 12mm; }
* { box-sizing: border-box; }
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
       color: #1a1a1a; max-width: 190mm; margin: 0 auto; padding: 12px 16px 40px; line-height: 1.4; font-size: 10.5pt; }
h1 { font-size: 19pt; margin: 0.2em 0; }
h2 { font-size: 14pt; margin: 1.4em 0 0.4em; border-bottom: 2px solid #08306b; padding-bottom: 2px; }
h3 { font-size: 11.5pt; margin: 1.1em 0 0.3em; }
h2, h3 { break-after: avoid; page-break-after: avoid; }
p.meta { color: #444; margin: 0.2em 0 0.8em; }
nav ol { columns: 2; font-size: 9.5pt; margin: 0.3em 0; }
a { color: #08306b; }
table { border-collapse: collapse; font-size: 9pt; margin: 0.4em 0 0.8em; break-inside: avoid; page-break-inside: avoid; }
th, td { padding: 2px 7px; border-bottom: 1px solid #d9d9d9; text-align: right; white-space: nowrap; }
th:first-child, td:first-child { text-align: left; }
thead th { border-bottom: 1.5px solid #333; vertical-align: bottom; }
td.over { color: #b2182b; font-weight: 600; }
table.horizon td:first-child { white-space: normal; }
table.wide td, table.wide th { white-space: normal; font-size: 8pt; }
figure { margin: 0.3em 0 0.9em; break-inside: avoid; page-break-inside: avoid; }
figcaption, p.note { font-size: 8.5pt; color: #555; }
.small { display: grid; grid-template-columns: 1fr 1fr; gap: 4px 14px; }
.small figure { margin: 0.2em 0; }
svg.chart { display: block; width: 100%; height: auto; }
svg.chart text { font-family: inherit; font-size: 11px; fill: #222; }
svg.chart text.title { font-size: 13px; font-weight: 600; }
svg.chart text.tick, svg.chart text.legend { font-size: 10px; fill: #444; }
svg.chart text.note { font-size: 10px; }
svg.chart text.budget-label { font-size: 11px; font-weight: 600; fill: #b2182b; }
svg.chart .gl { stroke: #e6e6e6; }
svg.chart .axisline { stroke: #777; }
pre.config { white-space: pre-wrap; word-break: break-word; font-size: 8pt; background: #f6f6f6;
             border: 1px solid #ddd; padding: 8px; }
dl.inputs { display: grid; grid-template-columns: max-content 1fr; gap: 2px 14px; }
dl.inputs dt { font-weight: 600; }
dl.inputs dd { margin: 0; }
@media print {
  body { max-width: none; padding: 0; }
  nav { display: none; }
  section.scenario, section#inputs { break-before: page; page-break-before: always; }
}
"#;

/// Labels and starting positions read from the config in the report, when
/// it has one that this version of carecast can read.
#[derive(Default)]
struct Context {
    labels: IndexMap<String, String>,
    band_labels: IndexMap<String, String>,
    /// Each scenario's starting position, by scenario id.
    starts: IndexMap<String, Start>,
    /// Observed counts from `[history]`, as (month index, count).
    observed: Vec<(i64, f64)>,
    observed_by_placement: IndexMap<String, Vec<(i64, f64)>>,
    observed_by_band: IndexMap<String, Vec<(i64, f64)>>,
}

/// Where a scenario starts: its children in care on the first day, in all,
/// by placement and by age band, a cohort's children included.
#[derive(Default)]
struct Start {
    total: Option<f64>,
    by_placement: IndexMap<String, f64>,
    by_band: IndexMap<String, f64>,
}

impl Start {
    fn of(model: &crate::model::Model) -> Start {
        let mut start = Start::default();
        for p in &model.placements {
            start
                .by_placement
                .insert(p.id.clone(), p.initial.iter().sum());
        }
        for (b, band) in model.ages.bands.iter().enumerate() {
            let n = model
                .placements
                .iter()
                .map(|p| p.initial.get(b).copied().unwrap_or(0.0))
                .sum();
            start.by_band.insert(band.id.clone(), n);
        }
        // A cohort's children count in every total too: in their
        // placement's, and in each band by the share of their ages (uniform
        // over each group of months) that falls in it.
        for cohort in &model.cohorts {
            for (p, groups) in &cohort.initial {
                for (ages, n) in groups {
                    *start
                        .by_placement
                        .entry(model.placements[*p].id.clone())
                        .or_default() += n;
                    for (b, band) in model.ages.bands.iter().enumerate() {
                        let share = if model.ages.tracked {
                            let cells = model.ages.band_cells(b);
                            let within = ages
                                .end
                                .min(cells.end)
                                .saturating_sub(ages.start.max(cells.start));
                            within as f64 / ages.len().max(1) as f64
                        } else {
                            1.0
                        };
                        *start.by_band.entry(band.id.clone()).or_default() += n * share;
                    }
                }
            }
        }
        start.total = Some(start.by_placement.values().sum());
        start
    }
}

impl Context {
    /// Scenario `id`'s start (none known when the results carry no config).
    fn start(&self, id: &str) -> &Start {
        static NONE: std::sync::OnceLock<Start> = std::sync::OnceLock::new();
        self.starts
            .get(id)
            .unwrap_or_else(|| NONE.get_or_init(Start::default))
    }

    fn of(report: &Report) -> Context {
        let Some(text) = &report.config else {
            return Context::default();
        };
        let Ok(model) = config::parse(text, "the config in the results") else {
            return Context::default();
        };
        let mut cx = Context::default();
        for p in &model.placements {
            cx.labels.insert(p.id.clone(), p.label.clone());
        }
        for l in &model.cost_lines {
            cx.labels.insert(l.id.clone(), l.label.clone());
        }
        if let Some(cl) = &model.care_leavers {
            cx.labels.insert("care_leavers".into(), cl.label.clone());
        }
        for band in &model.ages.bands {
            cx.band_labels.insert(band.id.clone(), band.label.clone());
        }
        // A scenario may change the initial stock or a cohort's: each
        // starts where its own config puts it.
        if let Ok(config) = config::parse_config(text, "the config in the results") {
            for s in &config.scenarios {
                cx.starts.insert(s.id.clone(), Start::of(&s.model));
            }
        }
        if let Some(history) = &model.history {
            let start = model.calendar.start;
            for (series, points) in &history.series {
                let points: Vec<(i64, f64)> = points
                    .iter()
                    .map(|(ym, v)| (start.months_until(*ym), *v))
                    .collect();
                match series {
                    crate::model::Series::Total => cx.observed = points,
                    crate::model::Series::Placement(p) => {
                        cx.observed_by_placement
                            .insert(model.placements[*p].id.clone(), points);
                    }
                    crate::model::Series::Band(b) => {
                        cx.observed_by_band
                            .insert(model.ages.bands[*b].id.clone(), points);
                    }
                }
            }
        }
        cx
    }

    fn label<'a>(&'a self, id: &'a str) -> &'a str {
        self.labels.get(id).map(String::as_str).unwrap_or(id)
    }
}

/// The counts of each kind of chart a report holds, so tests can check that
/// every chart is present.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct ChartCount {
    pub fans: usize,
    pub densities: usize,
    pub strips: usize,
    pub stacked: usize,
    /// Bar charts of what drives the cost.
    pub drivers: usize,
}

impl ChartCount {
    pub fn total(&self) -> usize {
        self.fans + self.densities + self.strips + self.stacked + self.drivers
    }
}

/// The charts [`render`] draws for `report`.
pub fn expected_charts(report: &Report) -> ChartCount {
    let mut c = ChartCount::default();
    for sc in &report.scenarios {
        if !sc.months.is_empty() && sc.has_children() {
            c.fans += 1
                + keys_in_order(sc.months.iter().map(|m| &m.lac_by_placement)).len()
                + keys_in_order(sc.months.iter().map(|m| &m.lac_by_band)).len();
        }
        if !sc.years.is_empty() {
            c.strips += 1;
            if report.mode != "central" && sc.has_budget() {
                c.densities += sc.years.len();
            }
            c.stacked += 1;
        }
        if !sc.contributions.is_empty() {
            c.drivers += 1;
        }
    }
    c.strips += report
        .differences
        .iter()
        .filter(|d| !d.years.is_empty())
        .count();
    c
}

/// Renders the report as one HTML document.
pub fn render(report: &Report) -> String {
    render_with(report, None)
}

/// Renders the report with, when given, the tornado of a sensitivity
/// analysis (`carecast sensitivity --json`) as a section of its own.
pub fn render_with(report: &Report, sensitivity: Option<&Sensitivity>) -> String {
    let cx = Context::of(report);
    let central = report.mode == "central";
    let mut h = String::with_capacity(256 * 1024);
    let title = format!("{} — carecast report", report.name);
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en-GB\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n",
        escape(&title)
    );
    let _ = writeln!(h, "<header><h1>{}</h1>", escape(&report.name));
    if let Some(d) = &report.description {
        let _ = writeln!(h, "<p>{}</p>", escape(d));
    }
    let _ = writeln!(
        h,
        "<p class=\"meta\">{} · seed {} · carecast {}</p></header>",
        if central {
            "Central projection (every input at its expected value)".to_string()
        } else {
            crate::output::count_of(report.runs, "simulated future")
        },
        report.seed,
        escape(&report.carecast_version)
    );

    // Contents.
    h.push_str("<nav><ol><li><a href=\"#headline\">Headline</a></li>");
    for (i, sc) in report.scenarios.iter().enumerate() {
        let _ = write!(
            h,
            "<li><a href=\"#scenario-{i}\">Scenario: {}</a></li>",
            escape(&sc.label)
        );
    }
    if sensitivity.is_some() {
        h.push_str("<li><a href=\"#sensitivity\">Sensitivity</a></li>");
    }
    h.push_str(
        "<li><a href=\"#comparison\">Scenario comparison</a></li>\
         <li><a href=\"#inputs\">Inputs</a></li></ol></nav>\n",
    );

    headline(&mut h, report, central);
    let shared = Shared::of(report, &cx);
    for (i, sc) in report.scenarios.iter().enumerate() {
        scenario(&mut h, i, sc, &cx, &shared, central, report.runs);
    }
    if let Some(sens) = sensitivity {
        let labels = report
            .scenarios
            .iter()
            .find(|sc| sc.id == sens.scenario)
            .map(sensitivity_labels)
            .unwrap_or_default();
        tornado(&mut h, sens, &labels);
    }
    comparison(&mut h, report, central);
    inputs(&mut h, report);
    h.push_str("</body>\n</html>\n");
    h
}

/// The sentences under the headline: what the columns mean, and what a
/// budget (or its absence, or a £0 one) means for this run.
pub fn headline_notes(report: &Report, workbook: bool) -> Vec<String> {
    let central = report.mode == "central";
    let mut notes = Vec::new();
    let tolerance = report
        .scenarios
        .iter()
        .flat_map(|sc| &sc.years)
        .find_map(|y| y.overspend.map(|o| o.tolerance));
    if !central && report.runs == 1 {
        // No figure of one run is a spread: P50 and P90 are not defined by
        // the share of futures below them, and there is no interval.
        notes.push(crate::output::SINGLE_RUN_NOTE.to_string());
        notes.push(if report.has_budget() {
            "Cost of each financial year against its budget; the expected overspend is that future's \
             cost above the budget, £0 when it is within it."
                .to_string()
        } else {
            "Cost of each financial year. The config has no budget, so no overspend is reported (–)."
                .to_string()
        });
        if zero_budget(report) {
            notes.push(ZERO_BUDGET_NOTE.to_string());
        }
    } else if report.has_budget() {
        if central {
            notes.push(
                "Cost of each financial year in the central projection (every input at its expected \
                 value) against its budget."
                    .to_string(),
            );
        } else {
            notes.push(format!(
                "Cost of each financial year against its budget. P50: half the simulated futures cost \
                 less; P90: nine in ten cost less. P(overspend): share of futures whose cost exceeds the \
                 budget by more than {}{}. Expected overspend: mean overspend over all futures, counting \
                 the others as zero. {}",
                money_exact(tolerance.unwrap_or(1.0)),
                if workbook {
                    ""
                } else {
                    ", ± the half-width of its 95% interval in points"
                },
                if workbook {
                    "The 95% intervals in the columns to the right give the Monte Carlo error: how far \
                     a figure may be from what unlimited runs would give."
                } else {
                    "Monte Carlo error: how far a figure may be from what unlimited runs would give (95% \
                     intervals)."
                }
            ));
        }
        if zero_budget(report) {
            notes.push(ZERO_BUDGET_NOTE.to_string());
        }
    } else if central {
        notes.push(
            "Cost of each financial year in the central projection (every input at its expected \
             value). The config has no budget, so no overspend is reported (–)."
                .to_string(),
        );
    } else {
        notes.push(
            "Cost of each financial year. P50: half the simulated futures cost less; P90: nine in ten \
             cost less. The config has no budget, so no overspend is reported (–)."
                .to_string(),
        );
    }
    if let Some(p) = &report.precision {
        notes.push(format!("{}.", crate::output::precision_line(p)));
    }
    notes
}

fn headline(h: &mut String, report: &Report, central: bool) {
    h.push_str("<section id=\"headline\"><h2>Headline</h2>\n");
    for note in headline_notes(report, false) {
        let _ = writeln!(h, "<p class=\"note budget-note\">{}</p>", escape(&note));
    }
    for (i, sc) in report.scenarios.iter().enumerate() {
        let children = sc.has_children();
        let _ = writeln!(h, "<h3>Scenario: {}</h3>", escape(&scenario_name(sc)));
        let _ = write!(
            h,
            "<table class=\"headline\" id=\"headline-{i}\" data-scenario=\"{}\">",
            escape(&sc.id)
        );
        if central {
            let _ = writeln!(
                h,
                "<thead><tr><th>Year</th><th>Budget</th><th>Cost</th>\
                 <th>Over (+) / under (−)</th>{}</tr></thead><tbody>",
                if children {
                    "<th>Children in care at year end</th>"
                } else {
                    ""
                }
            );
            for y in &sc.years {
                let over = y.budget.map(|b| y.cost.mean - b);
                let _ = writeln!(
                    h,
                    "<tr><td>{}</td><td>{}</td><td>{}</td><td{}>{}</td>{}</tr>",
                    escape(&year_label(&y.fy, y.partial, y.months)),
                    if_budget(y.budget, money),
                    money(y.cost.mean),
                    if y.overspend.is_some_and(|o| o.probability > 0.0) {
                        " class=\"over\""
                    } else {
                        ""
                    },
                    if_budget(over, money),
                    if children {
                        format!("<td>{:.1}</td>", y.lac_end.mean)
                    } else {
                        String::new()
                    }
                );
            }
        } else {
            let _ = writeln!(
                h,
                "<thead><tr><th>Year</th><th>Budget</th><th>Mean</th><th>P10</th><th>P50</th>\
                 <th>P90</th><th>P(overspend)</th><th>Expected<br>overspend</th>{}</tr></thead><tbody>",
                if children {
                    "<th>Children in care<br>at year end<br>(P10 / P50 / P90)</th>"
                } else {
                    ""
                }
            );
            for y in &sc.years {
                let _ = writeln!(
                    h,
                    "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td{}>{}</td><td>{}</td>{}</tr>",
                    escape(&year_label(&y.fy, y.partial, y.months)),
                    if_budget(y.budget, money),
                    money(y.cost.mean),
                    money(y.cost.p10),
                    money(y.cost.p50),
                    money(y.cost.p90),
                    if y.overspend.is_some_and(|o| o.probability >= 0.5) {
                        " class=\"over\""
                    } else {
                        ""
                    },
                    y.overspend
                        .as_ref()
                        .map_or_else(|| "–".to_string(), |o| escape(&probability_with_error(o))),
                    if_budget(y.overspend.map(|o| o.mean), money),
                    if children {
                        format!(
                            "<td>{}</td>",
                            crate::output::children_p10_p50_p90(&y.lac_end)
                        )
                    } else {
                        String::new()
                    }
                );
            }
        }
        h.push_str("</tbody></table>\n");
        if let Some(line) = crate::output::error_line(central, sc) {
            let _ = writeln!(h, "<p class=\"note\">{}.</p>", escape(&line));
        }
    }
    horizon_table(h, report, central);
    h.push_str("</section>\n");
}

/// A scenario's label, with its id when they differ: `The funded strategy (strategy)`.
fn scenario_name(sc: &ScenarioReport) -> String {
    if sc.label == sc.id || sc.label.is_empty() {
        sc.id.clone()
    } else {
        format!("{} ({})", sc.label, sc.id)
    }
}

/// The whole horizon's saving of each comparison and whether the strategy
/// pays back: the key result, in the headline.
fn horizon_table(h: &mut String, report: &Report, central: bool) {
    if report.differences.is_empty() {
        return;
    }
    if central {
        h.push_str(
            "<h3>Over the whole horizon</h3>\n<table class=\"horizon\"><thead><tr><th>Comparison</th>\
             <th>Saving</th><th>Pays back</th></tr></thead><tbody>\n",
        );
        for d in &report.differences {
            let _ = writeln!(
                h,
                "<tr><td>{} → {}</td><td>{}</td><td>{}</td></tr>",
                escape(report.scenario_label(&d.from)),
                escape(report.scenario_label(&d.to)),
                money(d.horizon.saving.mean),
                escape(&crate::output::pays_back_cell(report, d))
            );
        }
        h.push_str(
            "</tbody></table>\n<p class=\"note\">Saving: the cost of the first scenario minus the cost \
             of the second over every year of the horizon, each in its central projection (the cost \
             compared with the budget; grant-funded spend is not in it). Pays back: whether the saving \
             is at least zero, so that what the second scenario spends on its strategy from the \
             council's budget is covered.</p>\n",
        );
        comparison_notes(h, report);
        return;
    }
    h.push_str(
        "<h3>Over the whole horizon</h3>\n<table class=\"horizon\"><thead><tr><th>Comparison</th>\
         <th>Mean saving</th><th>P10 to P90</th><th>P(saves)</th><th>P(pays back)</th></tr></thead><tbody>\n",
    );
    for d in &report.differences {
        let _ = writeln!(
            h,
            "<tr><td>{} → {}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            escape(report.scenario_label(&d.from)),
            escape(report.scenario_label(&d.to)),
            money(d.horizon.saving.mean),
            money_range(d.horizon.saving.p10, d.horizon.saving.p90),
            escape(&percent(d.horizon.probability_positive)),
            escape(&crate::output::pays_back_cell(report, d))
        );
    }
    h.push_str(
        "</tbody></table>\n<p class=\"note\">Saving: the cost of the first scenario minus the cost of the \
         second over every year of the horizon, run by run with common random numbers (the cost compared \
         with the budget; grant-funded spend is not in it). P(saves): share of runs in which the second \
         costs less. P(pays back): share of runs in which the saving is at least zero, so that what the \
         second scenario spends on its strategy from the council's budget is covered.</p>\n",
    );
    comparison_notes(h, report);
}

/// [`crate::output::comparison_notes`] as notes.
fn comparison_notes(h: &mut String, report: &Report) {
    for note in crate::output::comparison_notes(report) {
        let _ = writeln!(h, "<p class=\"note\">{}</p>", escape(&note));
    }
}

/// Axis ranges shared by the charts meant to be compared: each scenario's
/// children-in-care fan (and each placement's or band's across scenarios),
/// every cost density, and every scenario's cost strips.
struct Shared {
    fan: (f64, f64),
    groups: IndexMap<String, (f64, f64)>,
    density: (f64, f64),
    cost: (f64, f64),
}

impl Shared {
    fn of(report: &Report, cx: &Context) -> Shared {
        let fan = svg::fan_range(
            report
                .scenarios
                .iter()
                .flat_map(|sc| sc.months.iter().map(|m| &m.lac)),
            cx.starts
                .values()
                .filter_map(|s| s.total)
                .chain(cx.observed.iter().map(|(_, v)| *v)),
        );
        let mut groups = IndexMap::new();
        let group_maps = |m: &MonthReport| {
            m.lac_by_placement
                .iter()
                .chain(&m.lac_by_band)
                .map(|(k, v)| (k.clone(), *v))
                .collect::<Vec<_>>()
        };
        let mut by_group: IndexMap<String, Vec<Summary>> = IndexMap::new();
        for sc in &report.scenarios {
            for m in &sc.months {
                for (k, v) in group_maps(m) {
                    by_group.entry(k).or_default().push(v);
                }
            }
        }
        for (k, stats) in &by_group {
            let extra = cx
                .starts
                .values()
                .filter_map(|s| s.by_placement.get(k).or(s.by_band.get(k)).copied())
                .chain(
                    cx.observed_by_placement
                        .get(k)
                        .or(cx.observed_by_band.get(k))
                        .into_iter()
                        .flatten()
                        .map(|(_, v)| *v),
                );
            groups.insert(k.clone(), svg::fan_range(stats, extra));
        }
        let years = || report.scenarios.iter().flat_map(|sc| &sc.years);
        let density = svg::density_range(years().filter_map(|y| y.budget.map(|b| (&y.cost, b))));
        let strips: Vec<Strip> = years().map(cost_strip).collect();
        Shared {
            fan,
            groups,
            density,
            cost: svg::strips_range(&strips),
        }
    }
}

fn cost_strip(y: &crate::report::YearReport) -> Strip {
    Strip {
        label: y.fy.clone(),
        stats: y.cost,
        marker: y.budget,
        note: y
            .overspend
            .map(|o| format!("P(overspend) {}", percent(o.probability)))
            .unwrap_or_default(),
    }
}

fn scenario(
    h: &mut String,
    i: usize,
    sc: &ScenarioReport,
    cx: &Context,
    shared: &Shared,
    central: bool,
    runs: u64,
) {
    let name = scenario_name(sc);
    let _ = writeln!(
        h,
        "<section class=\"scenario\" id=\"scenario-{i}\"><h2>Scenario: {}</h2>",
        escape(&name)
    );
    let months: Vec<String> = sc.months.iter().map(|m| m.month.clone()).collect();

    // Children in care: not for a config of money only.
    if !sc.has_children() {
        h.push_str(
            "<p class=\"note\">This config counts money only (no placements): there are no children \
             in care to chart.</p>\n",
        );
    } else if sc.months.is_empty() {
        h.push_str("<h3>Children in care</h3>\n<p>The results hold no months.</p>\n");
    } else {
        h.push_str("<h3>Children in care</h3>\n");
        let start = cx.start(&sc.id);
        let total: Vec<Summary> = sc.months.iter().map(|m| m.lac).collect();
        let _ = writeln!(
            h,
            "<figure>{}<figcaption>Children in care at the end of each month{} Every scenario's chart \
             has the same scale. {}</figcaption></figure>",
            svg::fan(&Fan {
                title: &format!("Children in care — {}", sc.label),
                y_label: "Children in care",
                months: &months,
                stats: &total,
                initial: start.total,
                observed: &cx.observed,
                y_range: Some(shared.fan),
                width: 720.0,
                height: 300.0,
            }),
            if central {
                ", in the central projection."
            } else {
                ": the shaded bands hold 90% (P5–P95) and 50% (P25–P75) of the simulated futures, the \
                 line is the median."
            },
            if !cx.observed.is_empty() {
                "The red dot is the position at the start of the first month; black dots are the counts \
                 observed in the config's [history]."
            } else if start.total.is_some() {
                "The red dot is the position at the start of the first month."
            } else {
                "The starting position is not marked: the results carry no config to read it from."
            }
        );
        small_fans(
            h,
            "Children in care by placement type",
            sc,
            |m| &m.lac_by_placement,
            &cx.labels,
            &start.by_placement,
            &cx.observed_by_placement,
            &shared.groups,
        );
        small_fans(
            h,
            "Children in care by age band",
            sc,
            |m| &m.lac_by_band,
            &cx.band_labels,
            &start.by_band,
            &cx.observed_by_band,
            &shared.groups,
        );
    }

    // Cost against budget.
    if sc.has_budget() {
        h.push_str("<h3>Cost against budget</h3>\n");
    } else {
        h.push_str(
            "<h3>Cost</h3>\n<p class=\"note\">The config has no budget for this scenario's years: the \
             report gives demand and cost, and no overspend.</p>\n",
        );
    }
    if sc.years.is_empty() {
        h.push_str("<p>The results hold no financial years.</p>\n");
    } else {
        let rows: Vec<Strip> = sc.years.iter().map(cost_strip).collect();
        let _ = writeln!(
            h,
            "<figure>{}<figcaption>Cost of each year{}{}. Every scenario's chart has the same \
             scale.</figcaption></figure>",
            svg::strips_in(
                &format!("Cost by financial year — {}", sc.label),
                "Cost of the year",
                &rows,
                Some(shared.cost),
                720.0
            ),
            if central {
                " in the central projection, a circle"
            } else {
                ": the line spans P5–P95, the boxes P10–P90 and P25–P75, the dark bar is the median \
                 and the circle the mean"
            },
            if sc.years.iter().any(|y| y.budget.is_some()) {
                "; the red mark is the budget"
            } else {
                ""
            }
        );
        // A central projection is one value a year: the strips say it all.
        // Without a budget there is nothing to draw the density against.
        if !central && sc.has_budget() {
            h.push_str(
                "<p class=\"note\">The charts below are approximate densities drawn from the reported \
                 percentiles, not from the runs themselves (the results keep percentiles only): between two \
                 adjacent percentiles (P5, P10, P25, P50, P75, P90, P95) each bar holds the share of futures \
                 that lie between them, spread evenly over its width. Where two percentiles are equal, that \
                 share of futures costs exactly the same: it is drawn as a stem labelled with its share. \
                 The 5% of futures below P5 and the 5% above P95 are not drawn. The part above the budget \
                 is red. All years of all scenarios share one cost axis.</p>\n<div class=\"small\">\n",
            );
            for y in &sc.years {
                let (Some(budget), Some(over)) = (y.budget, y.overspend) else {
                    continue;
                };
                let _ = writeln!(
                    h,
                    "<figure>{}</figure>",
                    svg::density(&Density {
                        title: &year_label(&y.fy, y.partial, y.months),
                        cost: &y.cost,
                        budget,
                        probability_over: over.probability,
                        x_range: Some(shared.density),
                        width: 360.0,
                        height: 220.0,
                    })
                );
            }
            h.push_str("</div>\n");
        }

        // Cost by component.
        h.push_str("<h3>Cost by component</h3>\n");
        let ids = keys_in_order(sc.years.iter().map(|y| &y.components));
        let categories: Vec<String> = sc.years.iter().map(|y| y.fy.clone()).collect();
        let label = |id: &str| -> String {
            let l = sc.label_of(id);
            if l == id {
                cx.label(id).to_string()
            } else {
                l.to_string()
            }
        };
        let series: Vec<Series> = ids
            .iter()
            .map(|id| Series {
                label: label(id),
                values: sc
                    .years
                    .iter()
                    .map(|y| y.components.get(*id).map_or(0.0, |s| s.mean))
                    .collect(),
            })
            .collect();
        let _ = writeln!(
            h,
            "<figure>{}<figcaption>Mean cost of each component per year (placement types, cost lines, \
             care leavers, and investments or savings where the config has them){}.</figcaption></figure>",
            svg::stacked(&Stacked {
                title: &format!("Mean cost by component — {}", sc.label),
                y_label: "Mean cost of the year",
                categories: &categories,
                series: &series,
                marker: sc
                    .years
                    .iter()
                    .map(|y| y.budget)
                    .collect::<Option<Vec<f64>>>()
                    .map(|b| ("Budget", b)),
                width: 720.0,
            }),
            if sc.has_budget() {
                "; the red line is the budget"
            } else {
                ""
            }
        );
        h.push_str("<table class=\"wide\"><thead><tr><th>Component</th>");
        for y in &sc.years {
            if central {
                let _ = write!(h, "<th>{}</th>", escape(&y.fy));
            } else {
                let _ = write!(h, "<th>{} mean<br>(P10 to P90)</th>", escape(&y.fy));
            }
        }
        h.push_str("</tr></thead><tbody>\n");
        for id in &ids {
            let _ = write!(h, "<tr><td>{}</td>", escape(&label(id)));
            for y in &sc.years {
                match y.components.get(*id) {
                    Some(s) if central => {
                        let _ = write!(h, "<td>{}</td>", money(s.mean));
                    }
                    Some(s) => {
                        let _ = write!(
                            h,
                            "<td>{}<br>({})</td>",
                            money(s.mean),
                            money_range(s.p10, s.p90)
                        );
                    }
                    None => h.push_str("<td>—</td>"),
                }
            }
            h.push_str("</tr>\n");
        }
        h.push_str("</tbody></table>\n");
    }

    strategy(h, sc, central);
    finance(h, central, sc);
    drivers(h, sc, runs);
    h.push_str("</section>\n");
}

/// The finance tables (see [`crate::output::finance`]).
fn finance(h: &mut String, central: bool, sc: &ScenarioReport) {
    for section in crate::output::finance::sections(central, sc) {
        let _ = write!(
            h,
            "<h3>{}</h3>\n<table class=\"wide\"><thead><tr>",
            escape(&section.title)
        );
        for (k, r) in section.rows.iter().enumerate() {
            if k == 1 {
                h.push_str("</tr></thead><tbody>\n<tr>");
            } else if k > 1 {
                h.push_str("<tr>");
            }
            for c in r {
                if k == 0 {
                    let _ = write!(h, "<th>{}</th>", escape(c));
                } else {
                    let _ = write!(h, "<td>{}</td>", escape(c));
                }
            }
            h.push_str("</tr>\n");
        }
        if section.rows.len() <= 1 {
            h.push_str("</tr></thead><tbody>");
        }
        h.push_str("</tbody></table>\n");
        for note in &section.notes {
            let _ = writeln!(h, "<p class=\"note\">{}</p>", escape(note));
        }
    }
}

/// Every item of the strategy: what each intervention did (delivered %,
/// children, cost) and each investment and saving, year by year.
fn strategy(h: &mut String, sc: &ScenarioReport, central: bool) {
    h.push_str("<h3>Strategy</h3>\n");
    let Some(first) = sc.years.first() else {
        h.push_str("<p>The results hold no financial years.</p>\n");
        return;
    };
    let plans: Vec<(&String, &crate::report::Line)> = sc
        .lines
        .iter()
        .filter(|(_, l)| l.kind == "investment" || l.kind == "saving")
        .collect();
    if first.interventions.is_empty() && plans.is_empty() {
        h.push_str("<p>This scenario has no interventions, investments or savings plans.</p>\n");
        return;
    }
    h.push_str(
        "<table class=\"wide strategy\"><thead><tr><th>Item</th><th>Kind</th><th>Delivered</th>",
    );
    for y in &sc.years {
        let _ = write!(h, "<th>{}</th>", escape(&y.fy));
    }
    h.push_str("</tr></thead><tbody>\n");
    for (id, iv) in &first.interventions {
        let _ = write!(
            h,
            "<tr><td>{}</td><td>{}</td><td>{}</td>",
            escape(&iv.label),
            escape(&kind_words(&iv.kind, &iv.funding)),
            escape(&percent(iv.delivered))
        );
        for y in &sc.years {
            match y.interventions.get(id) {
                Some(this) if this.kind == "unit_cost" => {
                    let _ = write!(h, "<td>{}</td>", money(this.cost.mean));
                }
                Some(this) if central => {
                    let _ = write!(
                        h,
                        "<td>{:.1} {}<br>{}</td>",
                        this.children.mean,
                        // `1.0` is a decimal, read in the plural.
                        unit_of(&this.kind, f64::NAN),
                        money(this.cost.mean)
                    );
                }
                Some(this) => {
                    let _ = write!(
                        h,
                        "<td>{} {} (P10–P90 {:.0}–{:.0})<br>{}</td>",
                        this.children.p50.round(),
                        unit_of(&this.kind, this.children.p50.round()),
                        this.children.p10.round(),
                        this.children.p90.round(),
                        money(this.cost.mean)
                    );
                }
                None => h.push_str("<td>–</td>"),
            }
        }
        h.push_str("</tr>\n");
    }
    for (id, line) in plans {
        let _ = write!(
            h,
            "<tr><td>{}</td><td>{}</td><td></td>",
            escape(&line.label),
            escape(&kind_words(&line.kind, &line.funding))
        );
        for y in &sc.years {
            let amount = if line.funding != "budget" {
                y.grant_funded.items.get(id)
            } else {
                y.components.get(id)
            };
            let _ = write!(
                h,
                "<td>{}</td>",
                amount.map_or_else(|| "–".to_string(), |a| money(a.mean))
            );
        }
        h.push_str("</tr>\n");
    }
    if central {
        h.push_str(
            "</tbody></table>\n<p class=\"note\">Per year, for each intervention in the central \
             projection: the number of children it prevented from entering care, helped leave care or \
             moved, or the places it added, and its running cost. Delivered: the chance that the \
             programme is delivered, by which the central projection scales its effect and cost. \
             Investments and savings: their amount in the year (savings negative). Items marked grant \
             are paid from a grant and not compared with the budget.</p>\n",
        );
        return;
    }
    h.push_str(
        "</tbody></table>\n<p class=\"note\">Per year, for each intervention: the median (P50) number of \
         children it prevented from entering care, helped leave care or moved, or the places it added, \
         with the P10–P90 range, and its mean running cost. Delivered: the share of runs in which the \
         programme was delivered at all. Investments and savings: their mean amount in the year (savings \
         negative). Items marked grant are paid from a grant and not compared with the budget.</p>\n",
    );
}

/// A central projection's answer to "does it" from a share that is 0 or 1.
/// What an intervention's count counts, in the singular when the count
/// shown is a whole 1 (`1 child prevented`, not `1 children prevented`).
fn unit_of(kind: &str, count: f64) -> &'static str {
    let one = count == 1.0;
    match kind {
        "prevent_entry" if one => "child prevented",
        "prevent_entry" => "children prevented",
        "exit" if one => "child left care",
        "exit" => "children left care",
        "step_down" if one => "child moved",
        "step_down" => "children moved",
        "capacity" if one => "place added",
        "capacity" => "places added",
        _ => "",
    }
}

/// The tornado of a sensitivity analysis.
/// The labels of a scenario's ids, for naming a sensitivity's inputs.
fn sensitivity_labels(sc: &ScenarioReport) -> crate::output::sensitivity::Labels {
    let mut labels: crate::output::sensitivity::Labels = sc
        .lines
        .iter()
        .map(|(id, l)| (id.clone(), l.label.clone()))
        .collect();
    for y in &sc.years {
        for (id, iv) in &y.interventions {
            labels.entry(id.clone()).or_insert_with(|| iv.label.clone());
        }
    }
    labels
}

fn tornado(h: &mut String, s: &Sensitivity, labels: &crate::output::sensitivity::Labels) {
    let _ = writeln!(
        h,
        "<section id=\"sensitivity\"><h2>Sensitivity: scenario {}</h2><p class=\"note\">Each uncertain \
         input held at its P10 and then its P90 in every one of {} simulated futures (seed {}), every \
         other input random with the same random numbers: the change in the whole horizon's cost and \
         in the probability of an overspend against the free run, largest swing first.</p>",
        escape(&s.scenario),
        thousands(s.runs),
        s.seed
    );
    if s.drivers.is_empty() {
        h.push_str("<p>The config has no uncertain inputs.</p>");
    } else {
        crate::output::sensitivity::horizon_tornadoes(h, s, labels);
    }
    h.push_str("</section>\n");
}

/// The inputs behind the spread of the horizon's cost, from the runs.
fn drivers(h: &mut String, sc: &ScenarioReport, runs: u64) {
    if sc.contributions.is_empty() {
        return;
    }
    h.push_str("<h3>What drives the cost</h3>\n");
    let rows: Vec<svg::TornadoRow> = sc
        .contributions
        .iter()
        .take(12)
        .map(|c| svg::TornadoRow {
            label: sc.input_label(&c.input),
            low: 0.0,
            high: c.total.contribution * 100.0,
            note: format!(
                "ρ {}",
                crate::output::rank_text(c.total.rank_correlation, runs)
            ),
        })
        .collect();
    let _ = writeln!(
        h,
        "<figure>{}<figcaption>Each uncertain input's share of the spread of the horizon's cost that \
         the inputs go with between them: its rank correlation ρ with the cost (the input's rank, its \
         place in its own distribution, against the cost), squared and normalised over all inputs, so \
         that the shares add to 100% whatever part of the spread comes from chance alone (which \
         children enter, leave and move, and when). Squared, the correlations add to {:.2}: for inputs \
         that act independently, about that part of the spread goes with them. ρ below zero: in these \
         runs a higher value went with a lower cost. Measured from these runs; <code>carecast \
         sensitivity</code> holds each input at its P10 and P90 instead. {}.</figcaption></figure>",
        svg::tornado(
            &format!("What drives the cost — {}", sc.label),
            "share among the inputs, %",
            &rows,
            &|x: f64| format!("{}%", crate::output::whole(x)),
            None,
            720.0
        ),
        crate::output::explained(sc),
        escape(&crate::output::rank_noise_note(runs))
    );
    for r in &sc.correlations {
        let _ = writeln!(
            h,
            "<p class=\"note\">Correlation of {} with {}: asked {:.2}, realised {:.3} (rank).</p>",
            escape(&sc.input_label(&r.inputs[0])),
            escape(&sc.input_label(&r.inputs[1])),
            r.requested,
            r.realised
        );
    }
}

/// One small fan chart per group (placement type or age band), two a row;
/// each group's chart has the same scale in every scenario.
#[allow(clippy::too_many_arguments)]
fn small_fans(
    h: &mut String,
    heading: &str,
    sc: &ScenarioReport,
    groups: fn(&MonthReport) -> &IndexMap<String, Summary>,
    labels: &IndexMap<String, String>,
    initial: &IndexMap<String, f64>,
    observed: &IndexMap<String, Vec<(i64, f64)>>,
    ranges: &IndexMap<String, (f64, f64)>,
) {
    let ids = keys_in_order(sc.months.iter().map(groups));
    if ids.is_empty() {
        return;
    }
    let months: Vec<String> = sc.months.iter().map(|m| m.month.clone()).collect();
    let _ = writeln!(h, "<h3>{}</h3>\n<div class=\"small\">", escape(heading));
    for id in ids {
        // A group missing from a month is drawn as a gap at the axis.
        let stats: Vec<Summary> = sc
            .months
            .iter()
            .map(|m| groups(m).get(id).copied().unwrap_or(NAN_SUMMARY))
            .collect();
        let _ = writeln!(
            h,
            "<figure>{}</figure>",
            svg::fan(&Fan {
                title: labels.get(id).map_or(id, |l| l),
                y_label: "Children",
                months: &months,
                stats: &stats,
                initial: initial.get(id).copied(),
                observed: observed.get(id).map_or(&[], Vec::as_slice),
                y_range: ranges.get(id).copied(),
                width: 360.0,
                height: 230.0,
            })
        );
    }
    h.push_str("</div>\n");
}

fn comparison(h: &mut String, report: &Report, central: bool) {
    h.push_str("<section id=\"comparison\"><h2>Scenario comparison</h2>\n");
    if report.differences.is_empty() {
        h.push_str(
            "<p>The config defines one scenario, so there is nothing to compare it with.</p>\n",
        );
    }
    let strip = |y: &crate::report::DifferenceYear| Strip {
        label: y.fy.clone(),
        stats: y.saving,
        marker: None,
        note: if central {
            String::new()
        } else {
            format!("P(saving > 0) {}", percent(y.probability_positive))
        },
    };
    // Every comparison's chart on one scale.
    let all: Vec<Strip> = report
        .differences
        .iter()
        .flat_map(|d| d.years.iter().map(strip))
        .collect();
    let range = svg::strips_range(&all);
    for d in &report.differences {
        let (from, to) = (report.scenario_label(&d.from), report.scenario_label(&d.to));
        let name = format!("{from} → {to}");
        if d.years.is_empty() {
            let _ = writeln!(
                h,
                "<p>{}: the results hold no yearly savings.</p>",
                escape(&name)
            );
            continue;
        }
        let rows: Vec<Strip> = d.years.iter().map(strip).collect();
        let _ = writeln!(
            h,
            "<h3>{}</h3><figure>{}<figcaption>Saving of “{}” against “{}” (the cost of “{}” minus the \
             cost of “{}”), {}: above zero, “{}” costs less. Every comparison's chart has the same \
             scale.</figcaption></figure>",
            escape(&name),
            svg::strips_in(
                &format!("Saving — {name}"),
                "Saving in the year",
                &rows,
                Some(range),
                720.0
            ),
            escape(to),
            escape(from),
            escape(from),
            escape(to),
            if central {
                "each in its central projection"
            } else {
                "run by run with common random numbers"
            },
            escape(to)
        );
        // A config of money only counts no children: its last column says
        // only whether the strategy pays back.
        let children = report.has_children();
        let difference = |x: f64| {
            if children {
                signed_count(x)
            } else {
                String::new()
            }
        };
        if central {
            let _ = writeln!(
                h,
                "<table class=\"comparison\"><thead><tr><th>Year</th><th>Saving</th><th>{}</th>\
                 </tr></thead><tbody>",
                if children {
                    "Children in care at year end, difference (second − first)"
                } else {
                    "Pays back"
                }
            );
            for y in &d.years {
                let _ = writeln!(
                    h,
                    "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
                    escape(&y.fy),
                    money(y.saving.mean),
                    difference(y.lac_end_difference.mean)
                );
            }
            let _ = writeln!(
                h,
                "<tr class=\"total\"><td><strong>Whole horizon</strong></td><td><strong>{}</strong></td>\
                 <td>{}{}</td></tr>",
                money(d.horizon.saving.mean),
                if children && crate::output::pays_back_applies(report, d) {
                    "pays back: "
                } else {
                    ""
                },
                escape(&crate::output::pays_back_cell(report, d))
            );
            h.push_str("</tbody></table>\n");
            continue;
        }
        let _ = writeln!(
            h,
            "<table class=\"comparison\"><thead><tr><th>Year</th><th>Mean saving</th><th>P10 to P90</th>\
             <th>P50</th><th>P(saving &gt; 0)</th><th>{}</th></tr></thead><tbody>",
            if children {
                "Children in care at year end, P50 difference (second − first)"
            } else {
                "Pays back"
            }
        );
        for y in &d.years {
            let _ = writeln!(
                h,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                escape(&y.fy),
                money(y.saving.mean),
                money_range(y.saving.p10, y.saving.p90),
                money(y.saving.p50),
                escape(&percent(y.probability_positive)),
                difference(y.lac_end_difference.p50)
            );
        }
        let _ = writeln!(
            h,
            "<tr class=\"total\"><td><strong>Whole horizon</strong></td><td><strong>{}</strong></td>\
             <td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            money(d.horizon.saving.mean),
            money_range(d.horizon.saving.p10, d.horizon.saving.p90),
            money(d.horizon.saving.p50),
            escape(&percent(d.horizon.probability_positive)),
            escape(&if !crate::output::pays_back_applies(report, d) {
                crate::output::NO_STRATEGY_ADDED.to_string()
            } else if children {
                format!(
                    "pays back in {} of runs",
                    percent(d.horizon.probability_pays_back)
                )
            } else {
                format!("in {} of runs", percent(d.horizon.probability_pays_back))
            })
        );
        h.push_str("</tbody></table>\n");
    }
    h.push_str("</section>\n");
}

/// The flag `run` needs to measure each initiative's cost avoided as these
/// results did, where that differs from what it does by default for their
/// config; empty when the default matches or the config does not parse on
/// its own (one that names other files, say).
fn attribution_flag(report: &Report, config: &str) -> &'static str {
    let Ok(config) = crate::config::parse_config(config, "the results' config") else {
        return "";
    };
    let has_initiatives = config
        .scenarios
        .iter()
        .any(|s| !s.model.finance.initiatives.is_empty());
    let measured = report.scenarios.iter().any(|s| !s.initiatives.is_empty());
    match (
        has_initiatives,
        measured,
        crate::engine::attribution_by_default(&config),
    ) {
        (true, true, false) => " --attribution",
        (true, false, true) => " --no-attribution",
        _ => "",
    }
}

fn inputs(h: &mut String, report: &Report) {
    h.push_str("<section id=\"inputs\"><h2>Inputs</h2>\n<dl class=\"inputs\">");
    let _ = writeln!(
        h,
        "<dt>Name</dt><dd>{}</dd><dt>Mode</dt><dd>{}</dd><dt>Runs</dt><dd>{}</dd><dt>Seed</dt><dd>{}</dd>\
         <dt>carecast version</dt><dd>{}</dd><dt>Report drawn by</dt><dd>carecast {}</dd></dl>",
        escape(&report.name),
        escape(&report.mode),
        report.runs,
        report.seed,
        escape(&report.carecast_version),
        env!("CARGO_PKG_VERSION")
    );
    match &report.config {
        Some(text) => {
            let _ = writeln!(
                h,
                "<p>To reproduce these results, save the config below and run \
                 <code>carecast run CONFIG --runs {} --seed {}{}{}</code> with carecast {}.</p>\
                 <h3>Config as run</h3><pre class=\"config\">{}</pre>",
                report.runs,
                report.seed,
                if report.mode == "central" {
                    " --central"
                } else {
                    ""
                },
                attribution_flag(report, text),
                escape(&report.carecast_version),
                escape(text)
            );
        }
        None => h.push_str(
            "<p>The results do not include the config they were run from (they were saved by an \
             older carecast).</p>\n",
        ),
    }
    h.push_str("</section>\n");
}

/// A summary with no values, for a series missing from a month; charts skip
/// non-finite values.
const NAN_SUMMARY: Summary = Summary {
    mean: f64::NAN,
    sd: f64::NAN,
    p5: f64::NAN,
    p10: f64::NAN,
    p25: f64::NAN,
    p50: f64::NAN,
    p75: f64::NAN,
    p90: f64::NAN,
    p95: f64::NAN,
    p99: f64::NAN,
    expected_shortfall: f64::NAN,
    mean_se: None,
    p5_lo: None,
    p5_hi: None,
    p10_lo: None,
    p10_hi: None,
    p25_lo: None,
    p25_hi: None,
    p50_lo: None,
    p50_hi: None,
    p75_lo: None,
    p75_hi: None,
    p90_lo: None,
    p90_hi: None,
    p95_lo: None,
    p95_hi: None,
    p99_lo: None,
    p99_hi: None,
    sketch_error: None,
};

fn year_label(fy: &str, partial: bool, months: usize) -> String {
    if partial {
        format!("{fy} ({months} months)")
    } else {
        fy.to_string()
    }
}
