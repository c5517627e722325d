//! Inline SVG charts for the HTML report, written by hand so the report
//! needs no script, font or image from anywhere: fan charts of children in
//! care, an approximate cost density per year against the budget, stacked
//! bars of cost by component and percentile strips (for savings).
//!
//! Every chart scales to its container (`viewBox`, no fixed size), labels
//! its axes, escapes its text and survives any numbers: non-finite values,
//! empty series or percentiles out of order draw an empty or flat chart,
//! never a panic or a broken document.

use std::fmt::Write;

use crate::output::{money, percent};
use crate::stats::Summary;

/// Text safe in HTML and SVG, in element content and in quoted attributes.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(ch),
        }
    }
    out
}

/// Colours of stacked series (Okabe–Ito, readable by colour-blind readers,
/// then two more); [`colour`] goes beyond them without repeating.
const PALETTE: [&str; 10] = [
    "#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000",
    "#999999", "#882255",
];
/// The colour of series `k`: the palette first, then hues spaced by the
/// golden angle at alternating lightness, so no two series of a chart share
/// a colour however many there are.
pub fn colour(k: usize) -> String {
    if let Some(c) = PALETTE.get(k) {
        return c.to_string();
    }
    let j = k - PALETTE.len();
    let hue = (j as f64 * 137.507_764) % 360.0;
    let lightness = [38, 58, 48][j % 3];
    let saturation = [70, 55, 85][(j / 3) % 3];
    format!("hsl({hue:.1}, {saturation}%, {lightness}%)")
}

const BAND_OUTER: &str = "#c6dbef";
const BAND_INNER: &str = "#6baed6";
const LINE: &str = "#08306b";
/// Observed counts (`[history]`) on a fan chart.
const OBSERVED: &str = "#252525";
const ALERT: &str = "#b2182b";

/// A linear map from a data interval onto a pixel interval.
#[derive(Clone, Copy, Debug)]
struct Scale {
    d0: f64,
    d1: f64,
    r0: f64,
    r1: f64,
}

impl Scale {
    fn new((d0, d1): (f64, f64), r0: f64, r1: f64) -> Scale {
        Scale { d0, d1, r0, r1 }
    }

    /// Pixel position of `x`, kept finite and near the plot.
    fn at(&self, x: f64) -> f64 {
        let t = (x - self.d0) / (self.d1 - self.d0);
        let p = self.r0 + t * (self.r1 - self.r0);
        if p.is_finite() {
            let (lo, hi) = (self.r0.min(self.r1), self.r0.max(self.r1));
            let slack = (hi - lo) * 0.5;
            p.clamp(lo - slack, hi + slack)
        } else {
            self.r0
        }
    }
}

/// A data range covering the finite `values` (and zero when `with_zero`),
/// widened to whole tick steps; `(0, 1)` when there is nothing to show.
fn domain(values: impl IntoIterator<Item = f64>, with_zero: bool) -> (f64, f64) {
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    for v in values.into_iter().filter(|v| v.is_finite()) {
        lo = lo.min(v);
        hi = hi.max(v);
    }
    if with_zero {
        lo = lo.min(0.0);
        hi = hi.max(0.0);
    }
    if lo > hi {
        return (0.0, 1.0);
    }
    if hi - lo <= hi.abs().max(lo.abs()) * 1e-9 {
        let pad = if hi == 0.0 { 1.0 } else { hi.abs() * 0.1 };
        return (lo - pad, hi + pad);
    }
    let step = tick_step(lo, hi, 5);
    ((lo / step).floor() * step, (hi / step).ceil() * step)
}

/// A round step (1, 2 or 5 × 10^k) giving about `n` intervals over `[lo, hi]`.
fn tick_step(lo: f64, hi: f64, n: usize) -> f64 {
    let raw = (hi - lo) / n.max(1) as f64;
    if !(raw.is_finite() && raw > 0.0) {
        return 1.0;
    }
    let mag = 10f64.powf(raw.log10().floor());
    let f = raw / mag;
    let nice = if f <= 1.0 {
        1.0
    } else if f <= 2.0 {
        2.0
    } else if f <= 5.0 {
        5.0
    } else {
        10.0
    };
    nice * mag
}

/// Tick values inside `[lo, hi]` at a round step.
fn ticks(lo: f64, hi: f64, n: usize) -> Vec<f64> {
    let step = tick_step(lo, hi, n);
    let first = (lo / step).ceil();
    let last = (hi / step).floor();
    if !(first.is_finite() && last.is_finite()) || last - first > 50.0 {
        return Vec::new();
    }
    let mut out = Vec::new();
    let mut k = first;
    while k <= last {
        let v = k * step;
        out.push(if v == 0.0 { 0.0 } else { v });
        k += 1.0;
    }
    out
}

/// Money for an axis: `£20m`, `£27.5m`, `£450k`, without trailing zeros.
fn axis_money(x: f64) -> String {
    let s = money(x);
    match s.strip_suffix('m') {
        Some(n) if n.contains('.') => {
            format!("{}m", n.trim_end_matches('0').trim_end_matches('.'))
        }
        _ => s,
    }
}

/// A count for an axis: whole numbers unless the step is fractional.
fn count(x: f64) -> String {
    if (x - x.round()).abs() < 1e-9 {
        format!("{x:.0}")
    } else {
        format!("{x:.1}")
    }
}

/// `2024-04` → `Apr 2024`; anything else as written.
pub fn month_label(ym: &str) -> String {
    const NAMES: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let mut parts = ym.splitn(2, '-');
    if let (Some(y), Some(m)) = (parts.next(), parts.next())
        && let Ok(m) = m.parse::<usize>()
        && (1..=12).contains(&m)
        && y.len() == 4
    {
        return format!("{} {y}", NAMES[m - 1]);
    }
    ym.to_string()
}

/// The frame every chart shares: an `<svg>` with a title, a plot area and
/// labelled axes.
struct Frame {
    out: String,
    height: f64,
    left: f64,
    right: f64,
    top: f64,
    bottom: f64,
}

impl Frame {
    fn new(title: &str, width: f64, height: f64, left: f64, bottom_margin: f64) -> Frame {
        let mut out = String::new();
        let _ = write!(
            out,
            r#"<svg class="chart" viewBox="0 0 {width} {height}" role="img" aria-label="{t}"><title>{t}</title><text class="title" x="{left}" y="18">{t}</text>"#,
            t = escape(title)
        );
        Frame {
            out,
            height,
            left,
            right: width - 28.0,
            top: 34.0,
            bottom: height - bottom_margin,
        }
    }

    /// Horizontal grid lines and labels for the y axis, and its title.
    fn y_axis(&mut self, y: &Scale, values: &[f64], fmt: &dyn Fn(f64) -> String, label: &str) {
        for &v in values {
            let py = y.at(v);
            let _ = write!(
                self.out,
                r#"<line class="gl" x1="{:.1}" x2="{:.1}" y1="{py:.1}" y2="{py:.1}"/><text class="tick" x="{:.1}" y="{:.1}" text-anchor="end">{}</text>"#,
                self.left,
                self.right,
                self.left - 6.0,
                py + 4.0,
                escape(&fmt(v))
            );
        }
        let cy = (self.top + self.bottom) / 2.0;
        let _ = write!(
            self.out,
            r#"<text class="axis" transform="translate(14 {cy:.1}) rotate(-90)" text-anchor="middle">{}</text>"#,
            escape(label)
        );
    }

    /// A horizontal value axis over `range` for charts of horizontal bars:
    /// vertical grid lines at round ticks, their labels and the title.
    fn value_axis(&mut self, range: (f64, f64), fmt: &dyn Fn(f64) -> String, label: &str) -> Scale {
        let x = Scale::new(range, self.left, self.right);
        let xt: Vec<(f64, String)> = ticks(range.0, range.1, 6)
            .into_iter()
            .map(|v| (x.at(v), fmt(v)))
            .collect();
        for (px, _) in &xt {
            let _ = write!(
                self.out,
                r#"<line class="gl" x1="{px:.1}" x2="{px:.1}" y1="{:.1}" y2="{:.1}"/>"#,
                self.top, self.bottom
            );
        }
        self.x_axis(&xt, label);
        x
    }

    /// Tick labels along the x axis and its title.
    fn x_axis(&mut self, ticks: &[(f64, String)], label: &str) {
        let _ = write!(
            self.out,
            r#"<line class="axisline" x1="{:.1}" x2="{:.1}" y1="{b:.1}" y2="{b:.1}"/>"#,
            self.left,
            self.right,
            b = self.bottom
        );
        for (px, text) in ticks {
            let _ = write!(
                self.out,
                r#"<line class="axisline" x1="{px:.1}" x2="{px:.1}" y1="{:.1}" y2="{:.1}"/><text class="tick" x="{px:.1}" y="{:.1}" text-anchor="middle">{}</text>"#,
                self.bottom,
                self.bottom + 4.0,
                self.bottom + 16.0,
                escape(text)
            );
        }
        let _ = write!(
            self.out,
            r#"<text class="axis" x="{:.1}" y="{:.1}" text-anchor="middle">{}</text>"#,
            (self.left + self.right) / 2.0,
            self.bottom + 32.0,
            escape(label)
        );
    }

    fn finish(mut self) -> String {
        self.out.push_str("</svg>");
        self.out
    }
}

/// A polygon through the upper points left to right and the lower ones back.
fn band_path(xs: &[f64], upper: &[f64], lower: &[f64]) -> String {
    let mut d = String::new();
    for (i, (x, y)) in xs.iter().zip(upper).enumerate() {
        let _ = write!(d, "{}{x:.1},{y:.1}", if i == 0 { "M" } else { "L" });
    }
    for (x, y) in xs.iter().zip(lower).rev() {
        let _ = write!(d, "L{x:.1},{y:.1}");
    }
    d.push('Z');
    d
}

fn polyline(xs: &[f64], ys: &[f64]) -> String {
    let mut d = String::new();
    for (i, (x, y)) in xs.iter().zip(ys).enumerate() {
        let _ = write!(d, "{}{x:.1},{y:.1}", if i == 0 { "M" } else { "L" });
    }
    d
}

/// A fan chart of a count by month.
pub struct Fan<'a> {
    pub title: &'a str,
    pub y_label: &'a str,
    /// Month labels, `YYYY-MM`, one per statistic.
    pub months: &'a [String],
    /// The count at the end of each month.
    pub stats: &'a [Summary],
    /// The count at the start of the first month, when known.
    pub initial: Option<f64>,
    /// Observed counts (`[history]`) as (month index, count): month 0 is the
    /// end of the first simulated month, −1 the start position, and earlier
    /// months lie further left.
    pub observed: &'a [(i64, f64)],
    /// The y range to draw, shared by charts meant to be compared; `None`
    /// fits the range to this chart's values.
    pub y_range: Option<(f64, f64)>,
    pub width: f64,
    pub height: f64,
}

/// The range a fan chart of `stats` (and a start of `initial`) needs:
/// P5 to P95 with a little room, never below zero for counts.
pub fn fan_range<'a>(
    stats: impl IntoIterator<Item = &'a Summary>,
    extra: impl IntoIterator<Item = f64>,
) -> (f64, f64) {
    let values: Vec<f64> = stats
        .into_iter()
        .flat_map(|s| [s.p5, s.p95, s.p50])
        .chain(extra)
        .filter(|v| v.is_finite())
        .collect();
    let (vmin, vmax) = values
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
            (a.min(*v), b.max(*v))
        });
    if vmin > vmax {
        return (0.0, 1.0);
    }
    let pad = if vmax > vmin {
        (vmax - vmin) * 0.04
    } else {
        0.0
    };
    let floor = if vmin >= 0.0 { 0.0 } else { f64::NEG_INFINITY };
    let (lo, hi) = ((vmin - pad).max(floor), vmax + pad);
    // A flat count (every run the same) still gets a readable axis.
    if hi - lo < 1.0 {
        return domain([lo.max(0.0), lo.max(0.0) + 2.0], false);
    }
    domain([lo, hi], false)
}

/// Draws P5–P95 and P25–P75 bands and the median line, from the initial
/// position (marked) when it is known.
pub fn fan(f: &Fan) -> String {
    let n = f.stats.len().min(f.months.len());
    let small = f.width < 500.0;
    let mut fr = Frame::new(
        f.title,
        f.width,
        f.height,
        52.0,
        if small { 40.0 } else { 58.0 },
    );
    let start = if f.initial.is_some() { -1.0 } else { 0.0 };
    let start = f
        .observed
        .iter()
        .map(|(m, _)| *m as f64)
        .fold(start, f64::min);
    let end = f
        .observed
        .iter()
        .map(|(m, _)| *m as f64)
        .fold(n as f64 - 1.0, f64::max);
    let x = Scale::new((start, end.max(start + 1.0)), fr.left, fr.right);
    let (lo, hi) = f.y_range.unwrap_or_else(|| {
        fan_range(
            &f.stats[..n],
            f.initial
                .into_iter()
                .chain(f.observed.iter().map(|(_, v)| *v)),
        )
    });
    let y = Scale::new((lo, hi), fr.bottom, fr.top);
    fr.y_axis(&y, &ticks(lo, hi, 5), &count, f.y_label);

    // Label months a quarter, half-year, year or two apart, leaving about
    // 70 pixels for each label.
    let room = ((fr.right - fr.left) / 70.0).max(1.0) as usize;
    // Ticks run over the simulated months and any observed months beside them.
    let (tick_from, tick_to) = f
        .observed
        .iter()
        .fold((0, n as i64 - 1), |(a, b), (m, _)| (a.min(*m), b.max(*m)));
    let span = (tick_to - tick_from + 1).max(0) as usize;
    let every = [1, 3, 6, 12, 24, 60, 120]
        .into_iter()
        .find(|e| span.div_ceil(*e) <= room)
        .unwrap_or(240);
    let first = f.months.first().map(String::as_str).unwrap_or("");
    let xt: Vec<(f64, String)> = (tick_from..=tick_to)
        .filter(|i| i.rem_euclid(every as i64) == 0)
        .filter_map(|i| Some((x.at(i as f64), month_label(&month_after(first, i)?))))
        .collect();
    fr.x_axis(
        &xt,
        if small {
            ""
        } else {
            "Month (children in care at the month end)"
        },
    );

    let mut xs: Vec<f64> = Vec::with_capacity(n + 1);
    let col = |get: fn(&Summary) -> f64| -> Vec<f64> {
        let mut v = Vec::with_capacity(n + 1);
        if let Some(i) = f.initial {
            v.push(y.at(i));
        }
        v.extend(f.stats[..n].iter().map(|s| y.at(get(s))));
        v
    };
    let (p5, p25, p50, p75, p95) = (
        col(|s| s.p5),
        col(|s| s.p25),
        col(|s| s.p50),
        col(|s| s.p75),
        col(|s| s.p95),
    );
    if f.initial.is_some() {
        xs.push(x.at(-1.0));
    }
    xs.extend((0..n).map(|i| x.at(i as f64)));
    if !xs.is_empty() {
        let _ = write!(
            fr.out,
            r#"<path class="band-outer" d="{}" fill="{BAND_OUTER}"/><path class="band-inner" d="{}" fill="{BAND_INNER}"/><path class="median" d="{}" fill="none" stroke="{LINE}" stroke-width="2"/>"#,
            band_path(&xs, &p95, &p5),
            band_path(&xs, &p75, &p25),
            polyline(&xs, &p50)
        );
    }
    if let Some(i) = f.initial {
        let (px, py) = (x.at(-1.0), y.at(i));
        let _ = write!(
            fr.out,
            r#"<circle class="initial" cx="{px:.1}" cy="{py:.1}" r="4.5" fill="{ALERT}"/><text class="note" x="{:.1}" y="{:.1}">Start: {}</text>"#,
            px + 7.0,
            py - 7.0,
            count(i)
        );
    }
    for (m, v) in f.observed {
        let _ = write!(
            fr.out,
            r#"<circle class="observed" cx="{:.1}" cy="{:.1}" r="3" fill="{OBSERVED}"/>"#,
            x.at(*m as f64),
            y.at(*v)
        );
    }
    if small {
        return fr.finish();
    }
    let ly = fr.height - 8.0;
    if !f.observed.is_empty() {
        let _ = write!(
            fr.out,
            r#"<g class="legend"><circle cx="{:.1}" cy="{:.1}" r="3" fill="{OBSERVED}"/><text x="{:.1}" y="{ly:.1}">observed ([history])</text></g>"#,
            fr.left + 262.0,
            ly - 4.0,
            fr.left + 270.0,
        );
    }
    // A central projection or a single run is one path: it has no bands
    // to name.
    if f.stats[..n].iter().all(|s| s.p5 == s.p95) {
        let _ = write!(
            fr.out,
            r#"<g class="legend"><line x1="{:.1}" x2="{:.1}" y1="{:.1}" y2="{:.1}" stroke="{LINE}" stroke-width="2"/><text x="{:.1}" y="{ly:.1}">one path: no spread to show</text></g>"#,
            fr.left,
            fr.left + 16.0,
            ly - 4.0,
            ly - 4.0,
            fr.left + 20.0,
        );
        return fr.finish();
    }
    let _ = write!(
        fr.out,
        r#"<g class="legend"><rect x="{l:.1}" y="{:.1}" width="14" height="9" fill="{BAND_OUTER}"/><text x="{:.1}" y="{ly:.1}">P5–P95</text><rect x="{:.1}" y="{:.1}" width="14" height="9" fill="{BAND_INNER}"/><text x="{:.1}" y="{ly:.1}">P25–P75</text><line x1="{:.1}" x2="{:.1}" y1="{:.1}" y2="{:.1}" stroke="{LINE}" stroke-width="2"/><text x="{:.1}" y="{ly:.1}">median</text></g>"#,
        ly - 8.0,
        fr.left + 18.0,
        fr.left + 80.0,
        ly - 8.0,
        fr.left + 98.0,
        fr.left + 165.0,
        fr.left + 181.0,
        ly - 4.0,
        ly - 4.0,
        fr.left + 185.0,
        l = fr.left
    );
    fr.finish()
}

/// The month `k` months after `first` (`YYYY-MM`; `k` may be negative).
fn month_after(first: &str, k: i64) -> Option<String> {
    let (y, m) = first.split_once('-')?;
    let index = y.parse::<i64>().ok()? * 12 + m.parse::<i64>().ok()? - 1 + k;
    Some(format!(
        "{:04}-{:02}",
        index.div_euclid(12),
        index.rem_euclid(12) + 1
    ))
}

/// Adjacent percentiles of `s` (P5, P10, P25, P50, P75, P90, P95), with the
/// share of runs between each pair.
fn bins(s: &Summary) -> [(f64, f64, f64); 6] {
    [
        (s.p5, s.p10, 0.05),
        (s.p10, s.p25, 0.15),
        (s.p25, s.p50, 0.25),
        (s.p50, s.p75, 0.25),
        (s.p75, s.p90, 0.15),
        (s.p90, s.p95, 0.05),
    ]
}

/// One year's cost against its budget.
pub struct Density<'a> {
    pub title: &'a str,
    pub cost: &'a Summary,
    pub budget: f64,
    pub probability_over: f64,
    /// The cost range to draw, shared by the densities meant to be compared;
    /// `None` fits it to this year.
    pub x_range: Option<(f64, f64)>,
    pub width: f64,
    pub height: f64,
}

/// The cost range densities of these years need (P5 to P95 and the budget).
pub fn density_range<'a>(years: impl IntoIterator<Item = (&'a Summary, f64)>) -> (f64, f64) {
    money_domain(
        years
            .into_iter()
            .flat_map(|(s, budget)| [s.p5, s.p95, budget]),
    )
}

/// Percentile bins of zero width: values that many runs share exactly.
/// Adjacent ones at the same value are merged: (value, share of runs).
fn atoms(s: &Summary) -> Vec<(f64, f64)> {
    let mut out: Vec<(f64, f64)> = Vec::new();
    for (a, b, share) in bins(s) {
        if a != b {
            continue;
        }
        match out.last_mut() {
            Some(last) if last.0 == a => last.1 += share,
            _ => out.push((a, share)),
        }
    }
    out
}

/// An approximate density from the percentiles alone: between two adjacent
/// percentiles (P5, P10, P25, P50, P75, P90, P95) a bar holds the share of
/// runs that lie between them, spread evenly, so its height is that share
/// divided by its width. Where two percentiles are equal, at least the share
/// between them costs exactly that amount: that is drawn as what it is, a
/// stem at the value labelled with its share, not as a tall bar. The 5% of
/// runs below P5 and above P95 are not drawn. The part of the distribution
/// above the budget is drawn in red, and the budget line carries the
/// probability of an overspend.
pub fn density(d: &Density) -> String {
    let s = d.cost;
    let mut fr = Frame::new(d.title, d.width, d.height, 52.0, 42.0);
    let (lo, hi) = d.x_range.unwrap_or_else(|| density_range([(s, d.budget)]));
    let x = Scale::new((lo, hi), fr.left, fr.right);
    // Heights in share per pixel of the bins of positive width.
    let bins: Vec<(f64, f64, f64, bool)> = bins(s)
        .iter()
        .filter(|(a, b, _)| a != b)
        .map(|&(a, b, share)| {
            let (pa, pb) = (x.at(a), x.at(b));
            let (pa, pb) = (pa.min(pb), pa.max(pb));
            (pa, pb, share / (pb - pa).max(2.0), a >= d.budget)
        })
        .collect();
    let top = bins.iter().map(|b| b.2).fold(0.0, f64::max);
    let y = Scale::new(
        (0.0, if top > 0.0 { top } else { 1.0 }),
        fr.bottom,
        fr.top + 30.0,
    );
    let xt: Vec<(f64, String)> = ticks(lo, hi, if d.width < 500.0 { 4 } else { 6 })
        .into_iter()
        .map(|v| (x.at(v), axis_money(v)))
        .collect();
    fr.x_axis(&xt, "Cost of the year");
    let cy = (fr.top + fr.bottom) / 2.0;
    let _ = write!(
        fr.out,
        r#"<text class="axis" transform="translate(14 {cy:.1}) rotate(-90)" text-anchor="middle">Likelihood (approx.)</text>"#
    );
    let pb = x.at(d.budget);
    for (i, &(a, b, h, _)) in bins.iter().enumerate() {
        let inner = i == 2 || i == 3;
        let py = y.at(h);
        let height = (fr.bottom - py).max(0.0);
        let (below, above) = if inner {
            (BAND_INNER, "#d6604d")
        } else {
            (BAND_OUTER, "#f4a582")
        };
        // Split the bar at the budget: below it blue, above it red. A bar
        // narrower than two pixels is drawn two pixels wide.
        let pieces = if b - a < 2.0 {
            vec![(a, a + 2.0, if a >= pb { above } else { below })]
        } else {
            vec![(a, b.min(pb), below), (a.max(pb), b, above)]
        };
        for (l, r, colour) in pieces {
            if r > l {
                let _ = write!(
                    fr.out,
                    r#"<rect x="{l:.1}" y="{py:.1}" width="{:.1}" height="{height:.1}" fill="{colour}"/>"#,
                    r - l
                );
            }
        }
    }
    // Values many runs share exactly: a stem, its share and its amount.
    // Every run the same (no spread at all) is said as such.
    let all_equal = s.sd == 0.0 && s.p5 == s.p95;
    for (k, (v, share)) in atoms(s).into_iter().enumerate() {
        let px = x.at(v);
        let colour = if v > d.budget { ALERT } else { LINE };
        let ty = fr.top + 44.0 + 14.0 * k as f64;
        let (anchor, dx) = if px > (fr.left + fr.right) / 2.0 {
            ("end", -5.0)
        } else {
            ("start", 5.0)
        };
        let _ = write!(
            fr.out,
            r#"<line class="atom" x1="{px:.1}" x2="{px:.1}" y1="{:.1}" y2="{:.1}" stroke="{colour}" stroke-width="3"/><circle cx="{px:.1}" cy="{:.1}" r="3.5" fill="{colour}"/><text class="note" x="{:.1}" y="{ty:.1}" text-anchor="{anchor}">{}</text>"#,
            fr.bottom,
            fr.top + 34.0,
            fr.top + 34.0,
            px + dx,
            escape(&if all_equal {
                format!("every run: exactly {}", money(v))
            } else {
                format!("≥{:.0}% of runs: exactly {}", share * 100.0, money(v))
            })
        );
    }
    if s.p5 != s.p50 || s.p50 != s.p95 {
        let p50 = x.at(s.p50);
        let _ = write!(
            fr.out,
            r#"<line x1="{p50:.1}" x2="{p50:.1}" y1="{:.1}" y2="{:.1}" stroke="{LINE}" stroke-width="1.5" stroke-dasharray="3 3"/><text class="note" x="{:.1}" y="{:.1}" text-anchor="{}">P50</text>"#,
            fr.bottom,
            fr.top + 30.0,
            if p50 < pb { p50 - 3.0 } else { p50 + 3.0 },
            fr.bottom - 5.0,
            if p50 < pb { "end" } else { "start" },
        );
    }
    // The budget's label sits on the side of its line with more room.
    let (anchor, dx) = if pb > (fr.left + fr.right) / 2.0 {
        ("end", -5.0)
    } else {
        ("start", 5.0)
    };
    let _ = write!(
        fr.out,
        r#"<line class="budget" x1="{pb:.1}" x2="{pb:.1}" y1="{:.1}" y2="{:.1}" stroke="{ALERT}" stroke-width="2.5"/><text class="budget-label" x="{:.1}" y="{:.1}" text-anchor="{anchor}" fill="{ALERT}">Budget {}</text><text class="budget-label" x="{:.1}" y="{:.1}" text-anchor="{anchor}" fill="{ALERT}">P(overspend) {}</text>"#,
        fr.bottom,
        fr.top - 4.0,
        pb + dx,
        fr.top + 6.0,
        money(d.budget),
        pb + dx,
        fr.top + 20.0,
        escape(&percent(d.probability_over))
    );
    fr.finish()
}

/// One series of a stacked bar chart.
pub struct Series {
    pub label: String,
    pub values: Vec<f64>,
}

/// Bars stacked by series, one bar per category.
pub struct Stacked<'a> {
    pub title: &'a str,
    pub y_label: &'a str,
    pub categories: &'a [String],
    pub series: &'a [Series],
    /// A value to mark on each bar (the budget), when there is one.
    pub marker: Option<(&'a str, Vec<f64>)>,
    pub width: f64,
}

/// Stacked bars of money: positive values stack up from zero, negative ones
/// (savings) down from it. The legend sits under the plot, in rows.
pub fn stacked(c: &Stacked) -> String {
    // As many legend entries a row as their labels leave room for (about
    // 6 pixels a character at the legend's size).
    let longest = c
        .series
        .iter()
        .map(|s| s.label.chars().count())
        .max()
        .unwrap_or(0) as f64;
    let per_row = (((c.width - 92.0) / (longest * 6.0 + 24.0)).floor() as usize).clamp(1, 3);
    let legend_rows = c.series.len().div_ceil(per_row) + usize::from(c.marker.is_some());
    let height = 300.0 + 18.0 * legend_rows as f64;
    let mut fr = Frame::new(
        c.title,
        c.width,
        height,
        64.0,
        42.0 + 18.0 * legend_rows as f64,
    );
    let n = c.categories.len();
    let value = |s: &Series, i: usize| s.values.get(i).copied().filter(|v| v.is_finite());
    let mut extent = vec![0.0];
    for i in 0..n {
        let up: f64 = c
            .series
            .iter()
            .filter_map(|s| value(s, i))
            .filter(|v| *v > 0.0)
            .sum();
        let down: f64 = c
            .series
            .iter()
            .filter_map(|s| value(s, i))
            .filter(|v| *v < 0.0)
            .sum();
        extent.push(up);
        extent.push(down);
    }
    if let Some((_, m)) = &c.marker {
        extent.extend(m.iter().copied());
    }
    let (lo, hi) = domain(extent, true);
    let y = Scale::new((lo, hi), fr.bottom, fr.top);
    fr.y_axis(&y, &ticks(lo, hi, 5), &axis_money, c.y_label);
    let slot = (fr.right - fr.left) / n.max(1) as f64;
    let bar = (slot * 0.6).min(90.0);
    let xt: Vec<(f64, String)> = c
        .categories
        .iter()
        .enumerate()
        .map(|(i, cat)| (fr.left + slot * (i as f64 + 0.5), cat.clone()))
        .collect();
    fr.x_axis(&xt, "Financial year");
    for i in 0..n {
        let x0 = fr.left + slot * (i as f64 + 0.5) - bar / 2.0;
        let (mut up, mut down) = (0.0, 0.0);
        for (k, s) in c.series.iter().enumerate() {
            let Some(v) = value(s, i) else { continue };
            let (from, to) = if v >= 0.0 {
                up += v;
                (up - v, up)
            } else {
                down += v;
                (down - v, down)
            };
            let (y0, y1) = (y.at(from), y.at(to));
            let _ = write!(
                fr.out,
                r#"<rect x="{x0:.1}" y="{:.1}" width="{bar:.1}" height="{:.1}" fill="{}"><title>{}: {}</title></rect>"#,
                y0.min(y1),
                (y0 - y1).abs(),
                colour(k),
                escape(&s.label),
                money(v)
            );
        }
        if let Some((_, m)) = &c.marker
            && let Some(&v) = m.get(i)
        {
            let py = y.at(v);
            let _ = write!(
                fr.out,
                r#"<line class="budget" x1="{:.1}" x2="{:.1}" y1="{py:.1}" y2="{py:.1}" stroke="{ALERT}" stroke-width="2.5"/>"#,
                x0 - 6.0,
                x0 + bar + 6.0
            );
        }
    }
    if lo < 0.0 {
        let p0 = y.at(0.0);
        let _ = write!(
            fr.out,
            r##"<line x1="{:.1}" x2="{:.1}" y1="{p0:.1}" y2="{p0:.1}" stroke="#333"/>"##,
            fr.left, fr.right
        );
    }
    let col = (fr.right - fr.left) / per_row as f64;
    let base = fr.bottom + 48.0;
    for (k, s) in c.series.iter().enumerate() {
        let (lx, ly) = (
            fr.left + col * (k % per_row) as f64,
            base + 18.0 * (k / per_row) as f64,
        );
        let _ = write!(
            fr.out,
            r#"<rect x="{lx:.1}" y="{:.1}" width="12" height="10" fill="{}"/><text class="legend" x="{:.1}" y="{ly:.1}">{}</text>"#,
            ly - 9.0,
            colour(k),
            lx + 16.0,
            escape(&s.label)
        );
    }
    if let Some((label, _)) = &c.marker {
        let ly = base + 18.0 * c.series.len().div_ceil(per_row) as f64;
        let _ = write!(
            fr.out,
            r#"<line x1="{:.1}" x2="{:.1}" y1="{:.1}" y2="{:.1}" stroke="{ALERT}" stroke-width="2.5"/><text class="legend" x="{:.1}" y="{ly:.1}">{}</text>"#,
            fr.left,
            fr.left + 12.0,
            ly - 4.0,
            ly - 4.0,
            fr.left + 16.0,
            escape(label)
        );
    }
    fr.finish()
}

/// One row of a percentile strip chart.
pub struct Strip {
    pub label: String,
    pub stats: Summary,
    /// A value to mark on the row (the budget), when there is one.
    pub marker: Option<f64>,
    /// Text written at the row's right end.
    pub note: String,
}

/// Horizontal percentile strips, one row each: P5–P95 as a line, P10–P90 and
/// P25–P75 as boxes, the median as a bar and the mean as a dot; a line at
/// zero when the range crosses it.
pub fn strips(title: &str, x_label: &str, rows: &[Strip], width: f64) -> String {
    strips_in(title, x_label, rows, None, width)
}

/// The range of money strip charts of `rows` need, to share between charts
/// meant to be compared.
pub fn strips_range<'a>(rows: impl IntoIterator<Item = &'a Strip>) -> (f64, f64) {
    money_domain(rows.into_iter().flat_map(|r| {
        [r.stats.p5, r.stats.p95, r.stats.mean]
            .into_iter()
            .chain(r.marker)
    }))
}

/// A money range covering `values`: a flat one (every run alike, or all
/// zero) is widened to at least £1,000 either side, so its axis never reads
/// `−£1 −£0 £0 £0 £1`.
pub fn money_domain(values: impl IntoIterator<Item = f64>) -> (f64, f64) {
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    for v in values.into_iter().filter(|v| v.is_finite()) {
        lo = lo.min(v);
        hi = hi.max(v);
    }
    if lo > hi {
        return (0.0, 1000.0);
    }
    let pad = (hi.abs().max(lo.abs()) * 0.1).max(1000.0);
    if hi - lo < 1000.0 {
        return domain([lo - pad, hi + pad], false);
    }
    domain([lo, hi], false)
}

/// [`strips`] over `range` (shared with other charts) when given.
pub fn strips_in(
    title: &str,
    x_label: &str,
    rows: &[Strip],
    range: Option<(f64, f64)>,
    width: f64,
) -> String {
    let height = 80.0 + 34.0 * rows.len() as f64;
    let mut fr = Frame::new(title, width, height, 70.0, 42.0);
    fr.right = width - 150.0;
    let (lo, hi) = range.unwrap_or_else(|| strips_range(rows));
    let x = fr.value_axis((lo, hi), &axis_money, x_label);
    if lo < 0.0 && hi > 0.0 {
        let p0 = x.at(0.0);
        let _ = write!(
            fr.out,
            r##"<line x1="{p0:.1}" x2="{p0:.1}" y1="{:.1}" y2="{:.1}" stroke="#333"/>"##,
            fr.top, fr.bottom
        );
    }
    for (i, r) in rows.iter().enumerate() {
        let cy = fr.top + 17.0 + 34.0 * i as f64;
        let s = &r.stats;
        let span = |a: f64, b: f64| (x.at(a).min(x.at(b)), (x.at(a) - x.at(b)).abs());
        let (l95, w95) = span(s.p5, s.p95);
        let (l90, w90) = span(s.p10, s.p90);
        let (l50, w50) = span(s.p25, s.p75);
        let _ = write!(
            fr.out,
            r##"<text class="tick" x="{:.1}" y="{:.1}" text-anchor="end">{}</text><line x1="{l95:.1}" x2="{:.1}" y1="{cy:.1}" y2="{cy:.1}" stroke="{LINE}"/><rect x="{l90:.1}" y="{:.1}" width="{w90:.1}" height="16" fill="{BAND_OUTER}"/><rect x="{l50:.1}" y="{:.1}" width="{w50:.1}" height="16" fill="{BAND_INNER}"/><line x1="{m:.1}" x2="{m:.1}" y1="{:.1}" y2="{:.1}" stroke="{LINE}" stroke-width="2.5"/><circle cx="{:.1}" cy="{cy:.1}" r="3" fill="#fff" stroke="{LINE}"/>"##,
            fr.left - 8.0,
            cy + 4.0,
            escape(&r.label),
            l95 + w95,
            cy - 8.0,
            cy - 8.0,
            cy - 10.0,
            cy + 10.0,
            x.at(s.mean),
            m = x.at(s.p50)
        );
        if let Some(v) = r.marker {
            let pm = x.at(v);
            let _ = write!(
                fr.out,
                r#"<line class="budget" x1="{pm:.1}" x2="{pm:.1}" y1="{:.1}" y2="{:.1}" stroke="{ALERT}" stroke-width="2.5"/>"#,
                cy - 13.0,
                cy + 13.0
            );
        }
        let _ = write!(
            fr.out,
            r#"<text class="note" x="{:.1}" y="{:.1}">{}</text>"#,
            fr.right + 10.0,
            cy + 4.0,
            escape(&r.note)
        );
    }
    fr.finish()
}

/// One row of a tornado chart: the change in an output with one input
/// held low and held high.
pub struct TornadoRow {
    pub label: String,
    pub low: f64,
    pub high: f64,
    /// Text at the row's right end (the values the input was held at).
    pub note: String,
}

/// A tornado chart: per row, a bar from zero to the change with the input
/// held low (light) and one to the change with it held high (dark), rows
/// in the order given (largest swing first); `fmt` formats the axis and
/// `legend` names the two bars. With `legend` `None` only the dark bar is
/// drawn (a plain bar chart of `high`).
pub fn tornado(
    title: &str,
    x_label: &str,
    rows: &[TornadoRow],
    fmt: &dyn Fn(f64) -> String,
    legend: Option<[&str; 2]>,
    width: f64,
) -> String {
    let height = 96.0 + 26.0 * rows.len() as f64;
    let mut fr = Frame::new(title, width, height, 300.0, 42.0);
    fr.right = width - 150.0;
    let (lo, hi) = domain(rows.iter().flat_map(|r| [r.low, r.high]), true);
    let x = fr.value_axis((lo, hi), fmt, x_label);
    let p0 = x.at(0.0);
    for (i, r) in rows.iter().enumerate() {
        let cy = fr.top + 22.0 + 26.0 * i as f64;
        let bar = |v: f64, y: f64, colour: &str| {
            let (a, b) = (p0.min(x.at(v)), p0.max(x.at(v)));
            format!(
                r#"<rect x="{a:.1}" y="{y:.1}" width="{:.1}" height="9" fill="{colour}"/>"#,
                (b - a).max(0.5)
            )
        };
        let _ = write!(
            fr.out,
            r#"<text class="tick" x="{:.1}" y="{:.1}" text-anchor="end">{}</text>{}{}<text class="note" x="{:.1}" y="{:.1}">{}</text>"#,
            fr.left - 8.0,
            cy + 4.0,
            escape(&r.label),
            if legend.is_some() {
                bar(r.low, cy - 9.0, BAND_INNER)
            } else {
                String::new()
            },
            bar(r.high, if legend.is_some() { cy } else { cy - 4.5 }, LINE),
            fr.right + 10.0,
            cy + 4.0,
            escape(&r.note)
        );
    }
    let _ = write!(
        fr.out,
        r##"<line x1="{p0:.1}" x2="{p0:.1}" y1="{:.1}" y2="{:.1}" stroke="#333"/>"##,
        fr.top, fr.bottom
    );
    if let Some([low, high]) = legend {
        let (l, ly) = (fr.left, fr.top - 6.0);
        let _ = write!(
            fr.out,
            r##"<rect x="{l:.1}" y="{ly:.1}" width="10" height="9" fill="{BAND_INNER}"/><text class="legend" x="{:.1}" y="{:.1}">{}</text><rect x="{:.1}" y="{ly:.1}" width="10" height="9" fill="{LINE}"/><text class="legend" x="{:.1}" y="{:.1}">{}</text>"##,
            l + 14.0,
            ly + 8.5,
            escape(low),
            l + 130.0,
            l + 144.0,
            ly + 8.5,
            escape(high)
        );
    }
    fr.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flat(v: f64) -> Summary {
        Summary {
            mean: v,
            sd: 0.0,
            p5: v,
            p10: v,
            p25: v,
            p50: v,
            p75: v,
            p90: v,
            p95: v,
            ..Summary::default()
        }
    }

    #[test]
    fn ticks_are_round() {
        assert_eq!(ticks(0.0, 10.0, 5), vec![0.0, 2.0, 4.0, 6.0, 8.0, 10.0]);
        assert_eq!(tick_step(24.6e6, 32.5e6, 5), 2e6);
        assert_eq!(domain([3.0, 7.0], true), (0.0, 8.0));
        assert_eq!(domain([f64::NAN], false), (0.0, 1.0));
        assert!(ticks(0.0, f64::INFINITY, 5).is_empty());
    }

    #[test]
    fn axis_money_drops_trailing_zeros() {
        assert_eq!(axis_money(20e6), "£20m");
        assert_eq!(axis_money(27.5e6), "£27.5m");
        assert_eq!(axis_money(-1.25e6), "−£1.25m");
        assert_eq!(axis_money(450e3), "£450k");
        assert_eq!(axis_money(0.0), "£0");
    }

    #[test]
    fn a_flat_distribution_is_drawn_as_one_value_with_a_readable_axis() {
        // Every run costs £0 against a £0 budget: no "−£1 −£0 £0 £0 £1".
        let d = density(&Density {
            title: "x",
            cost: &flat(0.0),
            budget: 0.0,
            probability_over: 0.0,
            x_range: None,
            width: 360.0,
            height: 220.0,
        });
        assert!(d.contains("every run: exactly £0"), "{d}");
        assert!(!d.contains("−£0") && !d.contains("-£0") && !d.contains("NaN"));
        // P75 = P90 = P95: at least 20% of runs share that cost.
        let s = Summary {
            p5: 1e6,
            p10: 1.1e6,
            p25: 1.2e6,
            p50: 1.3e6,
            ..flat(1.5e6)
        };
        let d = density(&Density {
            title: "x",
            cost: &s,
            budget: 2e6,
            probability_over: 0.0,
            x_range: None,
            width: 360.0,
            height: 220.0,
        });
        assert!(d.contains("≥20% of runs: exactly £1.50m"), "{d}");
    }

    #[test]
    fn colours_never_repeat_within_a_chart() {
        let colours: Vec<String> = (0..40).map(colour).collect();
        let unique: std::collections::HashSet<&String> = colours.iter().collect();
        assert_eq!(unique.len(), colours.len());
    }

    #[test]
    fn month_labels() {
        assert_eq!(month_label("2024-04"), "Apr 2024");
        assert_eq!(month_label("nonsense"), "nonsense");
        assert_eq!(month_label("2024-13"), "2024-13");
    }

    #[test]
    fn degenerate_inputs_still_draw() {
        let months = vec!["2024-04".to_string()];
        let svg = fan(&Fan {
            title: "<t>",
            y_label: "y",
            months: &months,
            stats: &[flat(5.0)],
            initial: Some(5.0),
            observed: &[(-2, 4.0)],
            y_range: None,
            width: 300.0,
            height: 200.0,
        });
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
        assert!(svg.contains("&lt;t&gt;") && !svg.contains("NaN"));
        let d = density(&Density {
            title: "x",
            cost: &flat(1e6),
            budget: 1e6,
            probability_over: 0.0,
            x_range: None,
            width: 600.0,
            height: 200.0,
        });
        assert!(!d.contains("NaN") && !d.contains("inf"));
        let weird = Summary {
            p5: 9.0,
            p95: 1.0,
            ..flat(f64::MAX)
        };
        let s = strips(
            "s",
            "x",
            &[Strip {
                label: "a".into(),
                stats: weird,
                marker: None,
                note: String::new(),
            }],
            600.0,
        );
        assert!(!s.contains("NaN"));
        let empty = stacked(&Stacked {
            title: "e",
            y_label: "y",
            categories: &[],
            series: &[],
            marker: None,
            width: 600.0,
        });
        assert!(!empty.contains("NaN"));
    }
}
