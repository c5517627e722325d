//! `--xlsx`: an Excel workbook for finance teams, written with
//! `rust_xlsxwriter`. Sheets: Summary (the headline per scenario and year),
//! Strategy (every intervention, investment and saving per year), Years
//! (every yearly statistic), Months (children in care by month, in total, by
//! placement and by age band), Components (cost by component), Differences
//! (savings between scenarios, each year and the whole horizon), Drivers
//! (when the runs have uncertain inputs) and Inputs (what was run, including
//! the config text, one line per row).
//!
//! Values are numbers with currency (`£#,##0`), percentage or whole-number
//! formats for children, never text; header rows are frozen, filtered and
//! repeated on every printed page, columns are sized to their contents, and
//! every sheet prints landscape on A4, one page wide.

use rust_xlsxwriter::{
    DocProperties, ExcelDateTime, Format, FormatAlign, Workbook, Worksheet, XlsxError,
};

use crate::report::{Report, ScenarioReport, YearReport};
use crate::stats::Summary;

/// Excel keeps at most this many characters in a cell.
const MAX_CELL: usize = 32_767;
/// Integers up to 2^53 are exact in a spreadsheet's numbers.
const EXACT_INT: u64 = 1 << 53;

/// The statistic columns, in the order of the JSON.
const STATS: [&str; 9] = ["Mean", "SD", "P5", "P10", "P25", "P50", "P75", "P90", "P95"];

/// The statistics columns of a sheet: a central projection has one value,
/// not a distribution, so its sheets give that value alone.
fn stat_names(central: bool) -> &'static [&'static str] {
    if central {
        &["Central projection"]
    } else {
        &STATS
    }
}

/// "yes" for a share of at least a half: how a central projection, whose
/// shares are 0 or 1, states a probability.
fn yes_no(share: f64) -> &'static str {
    if share >= 0.5 { "yes" } else { "no" }
}

struct Formats {
    header: Format,
    money: Format,
    pounds: Format,
    note: Format,
    pct: Format,
    count: Format,
    int: Format,
    month: Format,
}

impl Formats {
    fn new() -> Formats {
        Formats {
            header: Format::new()
                .set_bold()
                .set_text_wrap()
                .set_align(FormatAlign::Top)
                .set_background_color("#DCE6F1"),
            money: Format::new().set_num_format("£#,##0;-£#,##0"),
            pounds: Format::new().set_num_format("£#,##0.00"),
            note: Format::new()
                .set_text_wrap()
                .set_align(FormatAlign::Top)
                .set_font_size(9),
            pct: Format::new().set_num_format("0.0%"),
            count: Format::new().set_num_format("#,##0"),
            int: Format::new().set_num_format("0"),
            month: Format::new().set_num_format("mmm yyyy"),
        }
    }
}

/// Writes `values` in `fmt` into row `row`, one a column from `col`.
fn numbers(
    ws: &mut Worksheet,
    row: u32,
    col: u16,
    values: &[f64],
    fmt: &Format,
) -> Result<(), XlsxError> {
    for (c, &v) in values.iter().enumerate() {
        ws.write_number_with_format(row, col + c as u16, v, fmt)?;
    }
    Ok(())
}

/// Writes the header row, freezes it (and `frozen_cols` columns), sets the
/// column widths and the print setup: landscape A4, one page wide, the
/// header row repeated on every page.
fn header(
    ws: &mut Worksheet,
    f: &Formats,
    cols: &[(&str, f64)],
    frozen_cols: u16,
) -> Result<(), XlsxError> {
    for (c, (name, width)) in cols.iter().enumerate() {
        ws.write_string_with_format(0, c as u16, *name, &f.header)?;
        ws.set_column_width(c as u16, *width)?;
    }
    // Tall enough for a wrapped name of three lines (a reader need not
    // recalculate row heights, and LibreOffice does not).
    let lines = cols
        .iter()
        .map(|(name, width)| (name.len() as f64 / width.max(1.0)).ceil())
        .fold(1.0, f64::max)
        .min(4.0);
    ws.set_row_height(0, 15.0 * lines)?;
    ws.set_freeze_panes(1, frozen_cols)?;
    print_setup(ws)?;
    Ok(())
}

/// Landscape A4, one page wide however long, header row on every page.
fn print_setup(ws: &mut Worksheet) -> Result<(), XlsxError> {
    ws.set_landscape();
    ws.set_paper_size(9);
    ws.set_print_fit_to_pages(1, 0);
    ws.set_repeat_rows(0, 0)?;
    ws.set_footer("&L&A&RPage &P of &N");
    Ok(())
}

/// A filter on the header row over the data written: rows 1 to `end` − 1,
/// `end` being the row after the last one written.
fn filter(ws: &mut Worksheet, end: u32, last_col: u16) -> Result<(), XlsxError> {
    if end > 1 {
        ws.autofilter(0, 0, end - 1, last_col)?;
    }
    Ok(())
}

/// Text that fits in a cell.
fn text(s: &str) -> &str {
    if s.len() <= MAX_CELL {
        return s;
    }
    let mut end = MAX_CELL;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// Writes the statistics that [`stat_names`] names, from `col` on.
/// A summary holds more (P99, expected shortfall; they are in the JSON and
/// CSV), but a sheet's columns after these hold other figures, such as the
/// Differences sheet's probabilities, so only these are written.
fn stats(
    ws: &mut Worksheet,
    row: u32,
    col: u16,
    s: &Summary,
    fmt: &Format,
    central: bool,
) -> Result<(), XlsxError> {
    let n = stat_names(central).len();
    for (i, (_, v)) in s.fields().iter().take(n).enumerate() {
        ws.write_number_with_format(row, col + i as u16, *v, fmt)?;
    }
    Ok(())
}

/// The first day of a `YYYY-MM` month, when it is one.
fn month_date(ym: &str) -> Option<ExcelDateTime> {
    let (y, m) = ym.split_once('-')?;
    ExcelDateTime::from_ymd(y.parse().ok()?, m.parse().ok()?, 1).ok()
}

/// The first cells of a Summary row: the scenario, the year and its months.
fn year_row(
    ws: &mut Worksheet,
    f: &Formats,
    row: u32,
    sc: &ScenarioReport,
    y: &YearReport,
) -> Result<(), XlsxError> {
    ws.write_string(row, 0, text(&sc.id))?;
    ws.write_string(row, 1, text(&y.fy))?;
    ws.write_number_with_format(row, 2, y.months as f64, &f.int)?;
    Ok(())
}

/// The Summary sheet of random runs: each scenario's cost by year, its
/// percentiles and chance of an overspend, with their Monte Carlo error.
/// Returns the row after the table.
fn risk_summary(ws: &mut Worksheet, f: &Formats, report: &Report) -> Result<u32, XlsxError> {
    header(
        ws,
        f,
        &[
            ("Scenario", 14.0),
            ("Year", 10.0),
            ("Months", 8.0),
            ("Budget", 14.0),
            ("Mean cost", 14.0),
            ("P10 cost", 14.0),
            ("P50 cost", 14.0),
            ("P90 cost", 14.0),
            ("P(overspend)", 12.0),
            ("Expected overspend", 14.0),
            ("Mean overspend if overspent", 16.0),
            ("Children in care at year end, P10", 14.0),
            ("Children in care at year end, P50", 14.0),
            ("Children in care at year end, P90", 14.0),
            // Monte Carlo error: 95% intervals.
            ("P(overspend) 95% interval, low", 13.0),
            ("P(overspend) 95% interval, high", 13.0),
            ("P50 cost 95% interval, low", 14.0),
            ("P50 cost 95% interval, high", 14.0),
            ("P90 cost 95% interval, low", 14.0),
            ("P90 cost 95% interval, high", 14.0),
            ("Overspend tolerance", 12.0),
            ("Scenario label", 30.0),
        ],
        2,
    )?;
    let mut row = 1;
    for sc in &report.scenarios {
        for y in &sc.years {
            year_row(ws, f, row, sc, y)?;
            // Without a budget, the budget and overspend cells stay empty.
            for (c, v) in [
                y.budget,
                Some(y.cost.mean),
                Some(y.cost.p10),
                Some(y.cost.p50),
                Some(y.cost.p90),
            ]
            .into_iter()
            .enumerate()
            {
                if let Some(v) = v {
                    ws.write_number_with_format(row, 3 + c as u16, v, &f.money)?;
                }
            }
            if let Some(o) = &y.overspend {
                ws.write_number_with_format(row, 8, o.probability, &f.pct)?;
                ws.write_number_with_format(row, 9, o.mean, &f.money)?;
                if let Some(m) = o.mean_if_overspent {
                    ws.write_number_with_format(row, 10, m, &f.money)?;
                }
            }
            if sc.has_children() {
                let lac = [y.lac_end.p10, y.lac_end.p50, y.lac_end.p90];
                numbers(ws, row, 11, &lac, &f.count)?;
            }
            let error = [
                (y.overspend.and_then(|o| o.probability_lo), &f.pct),
                (y.overspend.and_then(|o| o.probability_hi), &f.pct),
                (y.cost.p50_lo, &f.money),
                (y.cost.p50_hi, &f.money),
                (y.cost.p90_lo, &f.money),
                (y.cost.p90_hi, &f.money),
            ];
            for (c, (v, fmt)) in error.into_iter().enumerate() {
                if let Some(v) = v {
                    ws.write_number_with_format(row, 14 + c as u16, v, fmt)?;
                }
            }
            if let Some(o) = &y.overspend {
                ws.write_number_with_format(row, 20, o.tolerance, &f.pounds)?;
            }
            ws.write_string(row, 21, text(&sc.label))?;
            row += 1;
        }
    }
    filter(ws, row, 21)?;
    Ok(row)
}

/// The Summary sheet of a central projection: each scenario's projected
/// cost by year against its budget, and its children in care at the end of
/// the year (one path, so no percentiles or probabilities). Returns the row
/// after the table.
fn central_summary(ws: &mut Worksheet, f: &Formats, report: &Report) -> Result<u32, XlsxError> {
    header(
        ws,
        f,
        &[
            ("Scenario", 14.0),
            ("Year", 10.0),
            ("Months", 8.0),
            ("Budget", 14.0),
            ("Cost, central projection", 14.0),
            ("Over (+) or under (-) the budget", 14.0),
            ("Children in care at year end", 14.0),
            ("Scenario label", 30.0),
        ],
        2,
    )?;
    let mut row = 1;
    for sc in &report.scenarios {
        for y in &sc.years {
            year_row(ws, f, row, sc, y)?;
            ws.write_number_with_format(row, 4, y.cost.mean, &f.money)?;
            if let Some(b) = y.budget {
                ws.write_number_with_format(row, 3, b, &f.money)?;
                let over = crate::stats::round_dp(y.cost.mean - b, 2);
                ws.write_number_with_format(row, 5, over, &f.money)?;
            }
            if sc.has_children() {
                ws.write_number_with_format(row, 6, y.lac_end.mean, &f.count)?;
            }
            ws.write_string(row, 7, text(&sc.label))?;
            row += 1;
        }
    }
    filter(ws, row, 7)?;
    Ok(row)
}

/// The Strategy sheet: per scenario, item and year, what each intervention
/// did and cost, and each investment's and saving's amount.
fn strategy(wb: &mut Workbook, f: &Formats, report: &Report) -> Result<(), XlsxError> {
    let ws = wb.add_worksheet();
    ws.set_name("Strategy")?;
    let central = report.mode == "central";
    let columns: &[(&str, f64)] = if central {
        &[
            ("Chance of delivery (scales its effect)", 12.0),
            ("Children or places", 12.0),
            ("Cost", 14.0),
        ]
    } else {
        &[
            ("Share of runs delivering it", 12.0),
            ("Children or places, P10", 12.0),
            ("Children or places, P50", 12.0),
            ("Children or places, P90", 12.0),
            ("Mean cost", 14.0),
        ]
    };
    let mut cols = vec![
        ("Scenario", 14.0),
        ("Item", 34.0),
        ("Kind", 14.0),
        ("Funding", 10.0),
        ("Year", 10.0),
    ];
    cols.extend_from_slice(columns);
    header(ws, f, &cols, 2)?;
    // The cost is the last column.
    let cost_col = cols.len() as u16 - 1;
    let mut row = 1;
    for sc in &report.scenarios {
        for y in &sc.years {
            for iv in y.interventions.values() {
                ws.write_string(row, 0, text(&sc.id))?;
                ws.write_string(row, 1, text(&iv.label))?;
                ws.write_string(row, 2, crate::output::kind_words(&iv.kind, "budget"))?;
                ws.write_string(row, 3, text(&iv.funding))?;
                ws.write_string(row, 4, text(&y.fy))?;
                ws.write_number_with_format(row, 5, iv.delivered, &f.pct)?;
                if iv.kind != "unit_cost" {
                    let children = &iv.children;
                    let counts = if central {
                        vec![children.mean]
                    } else {
                        vec![children.p10, children.p50, children.p90]
                    };
                    numbers(ws, row, 6, &counts, &f.count)?;
                }
                ws.write_number_with_format(row, cost_col, iv.cost.mean, &f.money)?;
                row += 1;
            }
            for (id, line) in sc
                .lines
                .iter()
                .filter(|(_, l)| l.kind == "investment" || l.kind == "saving")
            {
                let amount = if line.funding != "budget" {
                    y.grant_funded.items.get(id)
                } else {
                    y.components.get(id)
                };
                ws.write_string(row, 0, text(&sc.id))?;
                ws.write_string(row, 1, text(&line.label))?;
                ws.write_string(row, 2, text(&line.kind))?;
                ws.write_string(row, 3, text(&line.funding))?;
                ws.write_string(row, 4, text(&y.fy))?;
                if let Some(a) = amount {
                    ws.write_number_with_format(row, cost_col, a.mean, &f.money)?;
                }
                row += 1;
            }
        }
    }
    if row == 1 {
        ws.write_string(
            1,
            0,
            "The config has no interventions, investments or savings.",
        )?;
    }
    filter(ws, row, cost_col)?;
    Ok(())
}

/// The Finance sheet: per scenario and year, gross cost, income and net
/// cost, budget lines, funds, staffing, cohorts (their children and
/// income) and each initiative's cost avoided;
/// none when the report has none of these.
fn finance(wb: &mut Workbook, f: &Formats, report: &Report) -> Result<(), XlsxError> {
    use crate::stats::Summary;
    struct Item<'a> {
        scenario: &'a str,
        fy: &'a str,
        measure: &'static str,
        item: String,
        amount: Option<f64>,
        stats: Option<&'a Summary>,
        probability: Option<f64>,
        money: bool,
        /// A budget line's expected overspend, a fund's mean overrun.
        expected: Option<f64>,
    }
    let mut items: Vec<Item> = Vec::new();
    for sc in &report.scenarios {
        let any = sc.years.iter().any(|y| {
            !y.income_items.is_empty()
                || !y.budget_lines.is_empty()
                || !y.funds.is_empty()
                || !y.staff.is_empty()
                || !y.initiatives.is_empty()
                || !y.cohorts.is_empty()
        });
        if !any {
            continue;
        }
        for y in &sc.years {
            let it = |measure, item: String, amount, stats, probability, money| Item {
                scenario: &sc.id,
                fy: &y.fy,
                measure,
                item,
                amount,
                stats,
                probability,
                money,
                expected: None,
            };
            for (m, s) in [
                ("gross_cost", &y.gross_cost),
                ("income", &y.income),
                ("net_cost", &y.net_cost),
            ] {
                if let Some(s) = s {
                    items.push(it(m, String::new(), None, Some(s), None, true));
                }
            }
            for (id, s) in &y.income_items {
                items.push(it("income", id.clone(), None, Some(s), None, true));
            }
            for (id, l) in &y.budget_lines {
                let p = l.overspend.as_ref().map(|o| o.probability);
                items.push(Item {
                    expected: l.overspend.as_ref().map(|o| o.mean),
                    ..it("budget_line", id.clone(), l.budget, Some(&l.cost), p, true)
                });
            }
            for (id, fund) in &y.funds {
                items.push(Item {
                    expected: fund.mean_overrun,
                    ..it(
                        "fund_spent",
                        id.clone(),
                        fund.amount,
                        Some(&fund.spent),
                        fund.probability_exhausted,
                        true,
                    )
                });
            }
            for (id, st) in &y.staff {
                items.push(it(
                    "staff_fte",
                    id.clone(),
                    None,
                    Some(&st.fte),
                    None,
                    false,
                ));
                items.push(it(
                    "staff_agency_fte",
                    id.clone(),
                    None,
                    Some(&st.agency_fte),
                    None,
                    false,
                ));
                items.push(it(
                    "staff_cost",
                    id.clone(),
                    None,
                    Some(&st.cost),
                    None,
                    true,
                ));
            }
            for (id, c) in &y.cohorts {
                for (measure, stats, money) in [
                    ("cohort_lac_end", &c.lac_end, false),
                    ("cohort_mean_in_care", &c.mean_in_care, false),
                    ("cohort_entries", &c.entries, false),
                    ("cohort_income", &c.income, true),
                ] {
                    items.push(it(measure, id.clone(), None, Some(stats), None, money));
                }
            }
            for (id, i) in &y.initiatives {
                items.push(it(
                    "cost_avoided",
                    id.clone(),
                    None,
                    Some(&i.cost_avoided),
                    None,
                    true,
                ));
                items.push(it(
                    "net_effect",
                    id.clone(),
                    None,
                    Some(&i.net_effect),
                    Some(i.probability_pays),
                    true,
                ));
            }
        }
        for (id, i) in &sc.initiatives {
            let it = |measure, stats, probability| Item {
                scenario: &sc.id,
                fy: "horizon",
                measure,
                item: id.clone(),
                amount: None,
                stats,
                probability,
                money: true,
                expected: None,
            };
            items.push(it("cost_avoided", Some(&i.cost_avoided), None));
            items.push(it(
                "net_effect",
                Some(&i.net_effect),
                Some(i.probability_pays),
            ));
        }
    }
    if items.is_empty() {
        return Ok(());
    }
    let ws = wb.add_worksheet();
    ws.set_name("Finance")?;
    let central = report.mode == "central";
    let columns: &[(&str, f64)] = if central {
        &[
            ("Central projection", 14.0),
            ("Over, exhausted or pays (yes or no)", 14.0),
            ("Overspend or overrun", 14.0),
        ]
    } else {
        &[
            ("Mean", 14.0),
            ("P10", 14.0),
            ("P50", 14.0),
            ("P90", 14.0),
            ("Probability (over, exhausted, pays)", 14.0),
            ("Mean overspend or overrun", 14.0),
        ]
    };
    let mut cols = vec![
        ("Scenario", 14.0),
        ("Year", 10.0),
        ("Measure", 16.0),
        ("Item", 24.0),
        ("Budget or amount", 14.0),
    ];
    cols.extend_from_slice(columns);
    header(ws, f, &cols, 2)?;
    // The probability and the overspend are the last two columns.
    let last = cols.len() as u16 - 1;
    let mut row = 1;
    for i in &items {
        ws.write_string(row, 0, text(i.scenario))?;
        ws.write_string(row, 1, text(i.fy))?;
        ws.write_string(row, 2, i.measure)?;
        ws.write_string(row, 3, text(&i.item))?;
        if let Some(a) = i.amount {
            ws.write_number_with_format(row, 4, a, &f.money)?;
        }
        if let Some(s) = i.stats {
            let fmt = if i.money { &f.money } else { &f.count };
            let values = if central {
                vec![s.mean]
            } else {
                vec![s.mean, s.p10, s.p50, s.p90]
            };
            numbers(ws, row, 5, &values, fmt)?;
        }
        match i.probability {
            Some(p) if central => ws.write_string(row, last - 1, yes_no(p))?,
            Some(p) => ws.write_number_with_format(row, last - 1, p, &f.pct)?,
            None => ws,
        };
        if let Some(e) = i.expected {
            ws.write_number_with_format(row, last, e, &f.money)?;
        }
        row += 1;
    }
    let note = if report.mode == "central" {
        crate::output::finance::CENTRAL_INITIATIVE_NOTE
    } else {
        crate::output::finance::INITIATIVE_NOTE
    };
    ws.write_string(row + 1, 0, text(note))?;
    filter(ws, row, last)?;
    Ok(())
}

/// Renders the workbook as the bytes of an .xlsx file.
pub fn render(report: &Report) -> Result<Vec<u8>, XlsxError> {
    let f = Formats::new();
    let mut wb = Workbook::new();
    // A fixed creation date: the same results give the same bytes, whenever
    // and wherever they are rendered (a merge of shards, a single run).
    let created = ExcelDateTime::from_ymd(2000, 1, 1)?;
    wb.set_properties(
        &DocProperties::new()
            .set_creation_datetime(&created)
            .set_title(text(&report.name))
            .set_comment(format!(
                "carecast {}: {} runs, seed {}",
                report.carecast_version, report.runs, report.seed
            )),
    );

    // Summary.
    let central = report.mode == "central";
    let ws = wb.add_worksheet();
    ws.set_name("Summary")?;
    let row = if central {
        central_summary(ws, &f, report)?
    } else {
        risk_summary(ws, &f, report)?
    };
    // What the figures mean, under the table, wrapped over its printed width;
    // the printed page holds the headline columns (the intervals and labels
    // beside them are for reading on screen).
    let printed: u16 = if central { 7 } else { 13 };
    let mut notes = crate::output::html::headline_notes(report, true);
    if central {
        for sc in &report.scenarios {
            notes.push(format!("{}: {}.", sc.id, crate::output::central_line(sc)));
        }
    }
    let mut row = row + 1;
    for note in notes {
        ws.merge_range(row, 0, row, printed, text(&note), &f.note)?;
        ws.set_row_height(row, 15.0 * (1.0 + note.len() as f64 / 160.0).ceil())?;
        row += 1;
    }
    ws.set_print_area(0, 0, row, printed)?;

    strategy(&mut wb, &f, report)?;

    // Years: every yearly statistic.
    let ws = wb.add_worksheet();
    ws.set_name("Years")?;
    let mut cols = vec![
        ("Scenario", 14.0),
        ("Year", 10.0),
        ("Measure", 30.0),
        ("Intervention", 28.0),
    ];
    cols.extend(stat_names(central).iter().map(|s| (*s, 13.0)));
    header(ws, &f, &cols, 3)?;
    let mut row = 1;
    for sc in &report.scenarios {
        for y in &sc.years {
            let mut measures: Vec<(&str, &str, &Summary, &Format)> = vec![
                ("Cost (£)", "", &y.cost, &f.money),
                ("Children in care at year end", "", &y.lac_end, &f.count),
                ("Children entering care", "", &y.entries, &f.count),
                ("Children leaving care", "", &y.exits, &f.count),
                ("Children leaving care at 18", "", &y.left_at_18, &f.count),
            ];
            for (id, s) in &y.prevented {
                measures.push((
                    "Children prevented from entering care",
                    sc.label_of(id),
                    s,
                    &f.count,
                ));
            }
            for (measure, item, s, fmt) in measures {
                ws.write_string(row, 0, text(&sc.id))?;
                ws.write_string(row, 1, text(&y.fy))?;
                ws.write_string(row, 2, measure)?;
                if !item.is_empty() {
                    ws.write_string(row, 3, text(item))?;
                }
                stats(ws, row, 4, s, fmt, central)?;
                row += 1;
            }
        }
    }
    filter(ws, row, cols.len() as u16 - 1)?;

    // Months: children in care at the end of each month.
    let ws = wb.add_worksheet();
    ws.set_name("Months")?;
    let mut cols = vec![
        ("Scenario", 14.0),
        ("Month", 11.0),
        ("Breakdown", 12.0),
        ("Group", 28.0),
    ];
    cols.extend(stat_names(central).iter().map(|s| (*s, 10.0)));
    header(ws, &f, &cols, 2)?;
    let mut row = 1;
    for sc in &report.scenarios {
        for m in &sc.months {
            let groups = std::iter::once(("total", "all", &m.lac))
                .chain(
                    m.lac_by_placement
                        .iter()
                        .map(|(id, s)| ("placement", sc.label_of(id), s)),
                )
                .chain(
                    m.lac_by_band
                        .iter()
                        .map(|(id, s)| ("age band", id.as_str(), s)),
                );
            for (breakdown, group, s) in groups {
                ws.write_string(row, 0, text(&sc.id))?;
                match month_date(&m.month) {
                    Some(d) => ws.write_datetime_with_format(row, 1, d, &f.month)?,
                    None => ws.write_string(row, 1, text(&m.month))?,
                };
                ws.write_string(row, 2, breakdown)?;
                ws.write_string(row, 3, text(group))?;
                stats(ws, row, 4, s, &f.count, central)?;
                row += 1;
            }
        }
    }
    filter(ws, row, cols.len() as u16 - 1)?;

    // Components: cost by component per year.
    let ws = wb.add_worksheet();
    ws.set_name("Components")?;
    let mut cols = vec![("Scenario", 14.0), ("Year", 10.0), ("Component", 34.0)];
    cols.extend(stat_names(central).iter().map(|s| (*s, 13.0)));
    header(ws, &f, &cols, 3)?;
    let mut row = 1;
    for sc in &report.scenarios {
        for y in &sc.years {
            for (id, s) in &y.components {
                ws.write_string(row, 0, text(&sc.id))?;
                ws.write_string(row, 1, text(&y.fy))?;
                ws.write_string(row, 2, text(sc.label_of(id)))?;
                stats(ws, row, 3, s, &f.money, central)?;
                row += 1;
            }
        }
    }
    filter(ws, row, cols.len() as u16 - 1)?;

    // Differences between scenarios.
    let ws = wb.add_worksheet();
    ws.set_name("Differences")?;
    let mut cols = vec![("From", 14.0), ("To", 14.0), ("Year", 10.0)];
    cols.extend(stat_names(central).iter().map(|s| (*s, 13.0)));
    // A central projection's saving is one figure: its sign says whether it
    // saves, and only whether it pays back is left to state.
    let pays = cols.len() as u16 + if central { 0 } else { 1 };
    if central {
        cols.push(("Pays back (yes or no)", 12.0));
    } else {
        cols.push(("P(saving > 0)", 12.0));
        cols.push(("P(pays back)", 12.0));
    }
    // The children in care at each year end, second minus first, as the
    // terminal and the HTML report show them (none for money only).
    let children = report.has_children().then_some(cols.len() as u16);
    if children.is_some() {
        cols.push(if central {
            ("Children at year end, difference", 14.0)
        } else {
            ("Children at year end, P50 difference", 14.0)
        });
    }
    header(ws, &f, &cols, 3)?;
    let mut row = 1;
    for d in &report.differences {
        for y in &d.years {
            ws.write_string(row, 0, text(&d.from))?;
            ws.write_string(row, 1, text(&d.to))?;
            ws.write_string(row, 2, text(&y.fy))?;
            stats(ws, row, 3, &y.saving, &f.money, central)?;
            if !central {
                ws.write_number_with_format(row, pays - 1, y.probability_positive, &f.pct)?;
            }
            if let Some(c) = children {
                let diff = &y.lac_end_difference;
                ws.write_number(row, c, if central { diff.mean } else { diff.p50 })?;
            }
            row += 1;
        }
        ws.write_string(row, 0, text(&d.from))?;
        ws.write_string(row, 1, text(&d.to))?;
        ws.write_string(row, 2, "Whole horizon")?;
        stats(ws, row, 3, &d.horizon.saving, &f.money, central)?;
        let horizon = &d.horizon;
        if !central {
            ws.write_number_with_format(row, pays - 1, horizon.probability_positive, &f.pct)?;
        }
        // A share of runs is a number; yes, no and n/a are the same words
        // as the other reports'.
        if central || !crate::output::pays_back_applies(report, d) {
            ws.write_string(row, pays, crate::output::pays_back_cell(report, d))?;
        } else {
            ws.write_number_with_format(row, pays, horizon.probability_pays_back, &f.pct)?;
        }
        row += 1;
    }
    filter(ws, row, cols.len() as u16 - 1)?;
    for note in crate::output::comparison_notes(report) {
        row += 1;
        ws.write_string_with_format(row, 0, text(&note), &f.note)?;
    }
    if row == 1 {
        ws.write_string(
            1,
            0,
            "The config defines one scenario: there are no differences to show.",
        )?;
    }

    // Drivers: each uncertain input's share of the spread of the cost.
    if report
        .scenarios
        .iter()
        .any(|sc| !sc.contributions.is_empty())
    {
        let ws = wb.add_worksheet();
        ws.set_name("Drivers")?;
        header(
            ws,
            &f,
            &[
                ("Scenario", 14.0),
                ("Input", 44.0),
                ("Year", 10.0),
                ("Rank correlation", 14.0),
                ("Share among inputs", 14.0),
                ("Input in words", 50.0),
            ],
            3,
        )?;
        let mut row = 1;
        for sc in &report.scenarios {
            for c in &sc.contributions {
                let years = sc.years.iter().map(|y| y.fy.as_str()).chain(["horizon"]);
                for (fy, share) in years.zip(c.years.iter().chain([&c.total])) {
                    ws.write_string(row, 0, text(&sc.id))?;
                    ws.write_string(row, 1, text(&c.input))?;
                    ws.write_string(row, 2, text(fy))?;
                    ws.write_number(row, 3, share.rank_correlation)?;
                    ws.write_number_with_format(row, 4, share.contribution, &f.pct)?;
                    ws.write_string(row, 5, text(&sc.input_label(&c.input)))?;
                    row += 1;
                }
            }
        }
        filter(ws, row, 5)?;
    }

    finance(&mut wb, &f, report)?;

    // Inputs: what was run.
    let ws = wb.add_worksheet();
    ws.set_name("Inputs")?;
    header(ws, &f, &[("Input", 18.0), ("Value", 90.0)], 0)?;
    let mut row = 1;
    let mut pair = |ws: &mut Worksheet, key: &str, value: &str| -> Result<(), XlsxError> {
        ws.write_string(row, 0, key)?;
        ws.write_string(row, 1, text(value))?;
        row += 1;
        Ok(())
    };
    pair(ws, "Name", &report.name)?;
    if let Some(d) = &report.description {
        pair(ws, "Description", d)?;
    }
    pair(ws, "Mode", &report.mode)?;
    pair(ws, "carecast version", &report.carecast_version)?;
    let mut number = |ws: &mut Worksheet, key: &str, value: u64| -> Result<(), XlsxError> {
        ws.write_string(row, 0, key)?;
        if value <= EXACT_INT {
            ws.write_number_with_format(row, 1, value as f64, &f.int)?;
        } else {
            // A spreadsheet number would round it: keep every digit.
            ws.write_string(row, 1, value.to_string())?;
        }
        row += 1;
        Ok(())
    };
    number(ws, "Runs", report.runs)?;
    number(ws, "Seed", report.seed)?;
    row += 1;
    ws.write_string_with_format(row, 0, "Config as run", &f.header)?;
    match &report.config {
        Some(config) => {
            for line in config.lines() {
                row += 1;
                if !line.is_empty() {
                    ws.write_string(row, 1, text(line))?;
                }
            }
        }
        None => {
            ws.write_string(row, 1, "not recorded in the results")?;
        }
    }

    wb.save_to_buffer()
}
