//! Writes the estimates as a runnable config (TOML text).
//!
//! The demand part — age bands, the stock by age, entries, exits and moves —
//! comes from the estimates, each value with a comment giving its events,
//! exposure and 95% interval. Only counts aggregated by placement and year
//! (or, from 16, month) of age are written: no child-level data.
//!
//! Everything else comes from `--base` when given (its placements' prices
//! and capacities, cost lines, budget, interventions, shocks, scenarios).
//! Without a base, the prices are the national figures of
//! [`NATIONAL_COSTS`], each marked as an assumption with its source, and
//! there is no budget.
//!
//! With `uncertain`, rates are written as distributions drawn once per run:
//! entries per year as a gamma with shape d/φ and scale φ/T (d entrants in
//! T years, φ the overdispersion factor); exit probabilities as a beta with
//! the mean and variance of 1 − exp(−12λ) when λ ~ Gamma(d, E) (d exits in
//! E child-months: E[e^(−tλ)] = (1 + t/E)^(−d)); time-in-care factors as
//! lognormals with σ = 1/√d(k), the exits of their own band (the base
//! hazards, drawn on their own, carry the reference band); moves as a PERT
//! with min and max at the 0.05% and 99.95% points of the gamma posterior
//! Gamma(d + 1, E + 1/λ₀) and its mode and shape set so that the PERT has
//! the posterior's mean and variance of 1 − exp(−12λ) (bounded, so that the
//! moves out of a placement can never exceed its children).
//!
//! Moves out of one placement compete: the monthly probability of a move
//! to q is (λq / Λ)(1 − exp(−Λ)) with Λ the sum of the move rates, which
//! is 1 − exp(−λq) for small rates and never adds up to more than one.

use std::fmt::Write;

use indexmap::IndexMap;

use crate::calibrate::estimate::{Estimates, PRIOR_EVENTS, Rate, Shrunk, chi2_quantile};
use crate::calibrate::mapping::DEFAULT_PLACEMENTS;

/// National weekly unit costs shipped with carecast, for a calibrated
/// config without `--base`: (placement id, £ a week, source).
pub const NATIONAL_COSTS: [(&str, f64, &str); 10] = [
    (
        "kinship",
        300.0,
        "assumption: kinship carers paid about the fostering allowance; DfE national minimum allowances 2024-25 run about £175-£305 a week by age and area",
    ),
    (
        "inhouse_fostering",
        396.0,
        "assumption: in-house fostering ~£396/week, Valuing Care (2018)",
    ),
    (
        "ifa",
        820.0,
        "assumption: IFA ~£820/week, CMA children's social care market study (2021)",
    ),
    (
        "inhouse_residential",
        3830.0,
        "assumption: as a large private children's home, ~£3,830/week, CMA market study (2021); council homes cost much the same per occupied bed",
    ),
    (
        "external_residential",
        3830.0,
        "assumption: large private children's homes ~£3,830/week, CMA market study (2021)",
    ),
    (
        "secure",
        6500.0,
        "assumption: secure welfare beds ~£6,500/week; no national average is published, figure typical of council prices",
    ),
    (
        "supported",
        1000.0,
        "assumption: semi-independent / supported accommodation ~£1,000/week; CMA market study (2021) reports a wide range",
    ),
    (
        "placed_with_parents",
        120.0,
        "assumption: support package while placed at home, ~£120/week",
    ),
    (
        "adoption",
        0.0,
        "assumption: no weekly placement cost while placed for adoption (adopters maintain the child)",
    ),
    (
        "other",
        250.0,
        "assumption: mixed low-cost placements ~£250/week",
    ),
];

/// Which model the config is written for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// The continuous-time core: `[exits.time_in_care]`,
    /// `initial_time_in_care`, `entries.age_by_year` and moves by age band
    /// as `annual_rate` tables (hazard −ln(1 − p) a year).
    Continuous,
    /// The monthly model without those keys: exits without time in care,
    /// entry ages by band, one `[[transition]]` per age band, monthly
    /// probabilities of competing moves.
    Monthly,
}

impl Format {
    /// The format the config validator in this build reads: `Continuous`
    /// when it accepts the continuous-time keys.
    pub fn supported() -> Format {
        static FORMAT: std::sync::OnceLock<Format> = std::sync::OnceLock::new();
        *FORMAT.get_or_init(
            || match crate::config::parse_config(&probe(true), "probe") {
                Ok(_) => Format::Continuous,
                Err(_) => Format::Monthly,
            },
        )
    }
}

/// A small config, with or without the continuous-time keys: valid for
/// every build without them (a test checks it), so that only those keys
/// decide [`Format::supported`].
fn probe(continuous: bool) -> String {
    let keys = |text: &'static str| if continuous { text } else { "" };
    format!(
        "name = \"probe\"\n[horizon]\nstart = \"2023-04\"\nyears = 1\n\
         [[age_band]]\nid = \"a\"\nfrom = 0\nto = 18\n\
         [[placement]]\nid = \"p\"\nweekly_cost = 1\ninitial_by_age = {{ \"5\" = 1 }}\n{}\
         [entries]\nper_year = 1\nmix = {{ p = 1 }}\n{}\
         [exits.mean_months]\np = 10\n{}",
        keys("initial_time_in_care = { counts = [1, 0, 0, 0] }\n"),
        if continuous {
            "age_by_year = [1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]\n"
        } else {
            "age_mix = { a = 1 }\n"
        },
        keys("[exits.time_in_care]\nbands = [0, 6, 24, 60]\nfactor = [1.5, 1, 0.7, 0.5]\n"),
    )
}

/// How the trend of entries is used.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum TrendUse {
    /// The fit on every year of the returns, shrunk towards no trend.
    #[default]
    Shrunk,
    /// The fit as it is (`--trend`).
    Raw,
    /// No trend (`--no-trend`).
    Off,
}

/// What the written config is for.
#[derive(Clone, Debug)]
pub struct WriteOptions {
    pub format: Format,
    pub name: String,
    /// Financial years of the horizon.
    pub years: usize,
    pub fy_start_month: u32,
    pub uncertain: bool,
    pub trend: TrendUse,
    /// Lines describing the data, written as comments at the top.
    pub provenance: Vec<String>,
    /// Observed month-end counts to write as `[history]`: (series key,
    /// month `YYYY-MM`, count); series `total`, `placement:<id>`, `band:<id>`.
    pub history: Vec<(String, String, f64)>,
    pub history_source: Option<String>,
}

/// A base config: its document, for everything but the demand part.
pub struct Base<'a> {
    pub doc: &'a toml::Table,
}

/// Keys of the base written by calibration itself.
const DEMAND_KEYS: [&str; 8] = [
    "name",
    "description",
    "simulation",
    "horizon",
    "age_band",
    "placement",
    "entries",
    "exits",
];

fn num(x: f64) -> String {
    if !x.is_finite() {
        return "inf".into();
    }
    let r = (x * 1e6).round() / 1e6;
    if r == r.trunc() && r.abs() < 1e15 {
        format!("{}", r as i64)
    } else {
        format!("{r}")
    }
}

fn sig(x: f64) -> String {
    if !x.is_finite() {
        "∞".into()
    } else if x == 0.0 {
        "0".into()
    } else {
        let digits = (3 - x.abs().log10().floor() as i32).clamp(0, 8) as usize;
        format!("{x:.digits$}")
    }
}

fn quote(s: &str) -> String {
    toml::Value::String(s.to_string()).to_string()
}

/// Rate comment: "d events in E units: r (95% lo–hi)".
fn rate_note(r: &Rate, events: &str, unit: &str, per: &str) -> String {
    format!(
        "{} {events} in {} {unit}: {}{per} (95% {}–{})",
        num(r.events),
        sig(r.exposure),
        sig(r.value),
        sig(r.low),
        sig(r.high)
    )
}

/// Shares rounded to 6 decimals, the rounding put on the largest so that
/// they sum to one.
fn shares(counts: &[f64]) -> Vec<f64> {
    let total: f64 = counts.iter().sum();
    if total <= 0.0 {
        return vec![0.0; counts.len()];
    }
    let mut out: Vec<f64> = counts
        .iter()
        .map(|c| (c / total * 1e6).round() / 1e6)
        .collect();
    let big = (0..out.len())
        .max_by(|&a, &b| out[a].total_cmp(&out[b]))
        .unwrap_or(0);
    let rest: f64 = out
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != big)
        .map(|(_, v)| v)
        .sum();
    out[big] = ((1.0 - rest) * 1e6).round() / 1e6;
    out
}

/// Annual probability of an event with monthly rate λ: 1 − exp(−12λ).
fn annual(rate_per_month: f64) -> f64 {
    1.0 - (-12.0 * rate_per_month).exp()
}

/// A beta distribution of 1 − exp(−12λ) with λ ~ Gamma(d, E), by moments.
fn beta_of_annual(r: &Rate) -> Option<String> {
    if r.events <= 0.0 || r.exposure <= 0.0 {
        return None;
    }
    let (mean, var) = annual_moments(r);
    if !(var > 0.0 && mean > 0.0 && mean < 1.0 && var < mean * (1.0 - mean)) {
        return None;
    }
    // Check the parameters as they will be read back.
    let (m, sd) = (num_sig(mean), num_sig(var.sqrt()));
    let (mv, sv) = (m.parse::<f64>().ok()?, sd.parse::<f64>().ok()?);
    (mv > 0.0 && mv < 1.0 && sv > 0.0 && sv < (mv * (1.0 - mv)).sqrt())
        .then(|| format!("{{ dist = \"beta\", mean = {m}, sd = {sd} }}"))
}

/// A number with 6 significant digits.
fn num_sig(x: f64) -> String {
    format!("{}", format!("{x:.5e}").parse::<f64>().unwrap_or(x))
}

/// A probability rounded down to 6 significant digits.
fn num_sig_down(x: f64) -> String {
    if x <= 0.0 || !x.is_finite() {
        return num_sig(x.max(0.0));
    }
    let scale = 10f64.powi(5 - x.log10().floor() as i32);
    let down = (x * scale).floor() / scale;
    // The shortest text that reads back as a number no larger.
    let text = num_sig(down);
    if text.parse::<f64>().is_ok_and(|v| v <= x) {
        text
    } else {
        format!("{down}")
    }
}

/// The mean and variance of the annual probability 1 − exp(−12λ) when
/// λ ~ Gamma(d, E) (d = `r.events`, E = `r.exposure`), from
/// E[e^(−tλ)] = (1 + t/E)^(−d).
fn annual_moments(r: &Rate) -> (f64, f64) {
    let a = (1.0 + 12.0 / r.exposure).powf(-r.events);
    let b = (1.0 + 24.0 / r.exposure).powf(-r.events);
    (1.0 - a, b - a * a)
}

/// A PERT (min, mode, max, shape) for the annual probability
/// 1 − exp(−12λ) with λ ~ Gamma(d, E): min and max at the 0.05% and 99.95%
/// points of that gamma, and the mode and shape set so that the PERT has the
/// gamma's mean and variance (a PERT with shape γ has mean
/// (min + γ·mode + max) / (γ + 2) and variance (μ − min)(max − μ) / (γ + 3)).
/// When no mode within the bounds gives that variance (a gamma of shape
/// below about 2), the mode is at min and the mean still matches.
fn pert_params(r: &Rate) -> Option<(f64, f64, f64, f64)> {
    if r.events <= 0.0 || r.exposure <= 0.0 {
        return None;
    }
    let lo = annual(chi2_quantile(2.0 * r.events, 0.0005) / 2.0 / r.exposure);
    let hi = annual(chi2_quantile(2.0 * r.events, 0.9995) / 2.0 / r.exposure);
    let (mean, var) = annual_moments(r);
    if !(lo < mean && mean < hi && var > 0.0) {
        return None;
    }
    let shape = (mean - lo) * (hi - mean) / var - 3.0;
    let mode = ((shape + 2.0) * mean - lo - hi) / shape;
    if shape > 0.0 && (lo..=hi).contains(&mode) {
        return Some((lo, mode, hi, shape));
    }
    // Mode at min: (γ + 2)μ = (γ + 1)·min + max.
    let shape = (hi + lo - 2.0 * mean) / (mean - lo);
    (shape > 0.0).then_some((lo, lo, hi, shape))
}

/// The PERT of [`pert_params`] as a config value.
fn pert_of_annual(r: &Rate) -> Option<String> {
    let (lo, mode, hi, shape) = pert_params(r)?;
    Some(format!(
        "{{ dist = \"pert\", min = {}, mode = {}, max = {}, shape = {} }}",
        num_sig(lo),
        num_sig(mode),
        num_sig(hi),
        num_sig(shape)
    ))
}

/// The gamma posterior of a shrunk rate, as events over exposure:
/// Gamma(d + K, E + K/λ₀).
fn posterior(r: &Shrunk) -> Rate {
    let (d, e) = if r.prior > 0.0 {
        (r.events + PRIOR_EVENTS, r.exposure + PRIOR_EVENTS / r.prior)
    } else {
        (r.events, r.exposure)
    };
    Rate::new(d, e, 1.0)
}

/// The 95% interval of a shrunk rate: the equal-tailed interval of its
/// gamma posterior Gamma(d + K, E + K/λ₀), the distribution `--uncertain`
/// draws from; without a coarser rate, the exact interval of d / E.
fn shrunk_interval(r: &Shrunk) -> (f64, f64) {
    if r.prior <= 0.0 {
        let exact = Rate::new(r.events, r.exposure, 1.0);
        return (exact.low, exact.high);
    }
    let shape = r.events + PRIOR_EVENTS;
    let rate = r.exposure + PRIOR_EVENTS / r.prior;
    (
        chi2_quantile(2.0 * shape, 0.025) / 2.0 / rate,
        chi2_quantile(2.0 * shape, 0.975) / 2.0 / rate,
    )
}

/// Comment on a shrunk rate: its data, the coarser rate, the value and its
/// 95% interval.
fn shrunk_note(r: &Shrunk, events: &str) -> String {
    shrunk_note_in(r, events, "child-months")
}

/// As [`shrunk_note`], naming the exposure `exposure` (weighted
/// child-months, say).
fn shrunk_note_in(r: &Shrunk, events: &str, exposure: &str) -> String {
    if r.pooled() {
        return format!(
            "no child at risk in the window: the pooled rate {} a month",
            sig(r.value)
        );
    }
    let (low, high) = shrunk_interval(r);
    let interval = format!("(95% {}–{})", sig(low), sig(high));
    if r.prior > 0.0 {
        format!(
            "{} {events} in {} {exposure} ({} a month), with the pooled {}: {} a month {interval}",
            num(r.events),
            sig(r.exposure),
            sig(r.events / r.exposure),
            sig(r.prior),
            sig(r.value)
        )
    } else {
        format!(
            "{} {events} in {} {exposure}: {} a month {interval}",
            num(r.events),
            sig(r.exposure),
            sig(r.value)
        )
    }
}

/// Labels of the time-in-care bands in months: "0-6", …, "60+".
fn tic_labels() -> Vec<String> {
    let b = crate::calibrate::estimate::TIC_BANDS;
    (0..b.len())
        .map(|k| match b.get(k + 1) {
            Some(hi) => format!("{}-{}", num(b[k]), num(*hi)),
            None => format!("{}+", num(b[k])),
        })
        .collect()
}

/// One line per time-in-care band: exits, exposure, factor and interval.
fn tic_notes(tic: &crate::calibrate::estimate::TimeInCare) -> Vec<String> {
    let mut out: Vec<String> = tic_labels()
        .iter()
        .enumerate()
        .map(|(k, label)| {
            format!(
                "{label} months: {} exits in {} child-months, factor {} (95% {}–{})",
                num(tic.events[k]),
                sig(tic.exposure[k]),
                sig(tic.factor[k]),
                sig(tic.low[k]),
                sig(tic.high[k])
            )
        })
        .collect();
    if tic.left_out > 0.0 || tic.left_out_events > 0.0 {
        out.push(format!(
            "{} child-months and {} exits of periods begun before the first return (time in care not known) left out",
            sig(tic.left_out),
            num(tic.left_out_events)
        ));
    }
    out
}

/// Key of an age (cells of whole years below 16, months from 16).
fn age_key(cell: usize) -> String {
    format!("{}y{:02}m", cell / 12, cell % 12)
}

/// The initial stock of one placement by age: whole years below 16, months
/// at 16 and 17 (so that leaving at 18 falls in the right month).
fn initial_by_age(ages: &[u32]) -> String {
    let mut parts = Vec::new();
    for year in 0..16 {
        let n: u32 = ages[year * 12..year * 12 + 12].iter().sum();
        if n > 0 {
            parts.push(format!("\"{year}\" = {n}"));
        }
    }
    for (cell, &n) in ages.iter().enumerate().skip(16 * 12) {
        if n > 0 {
            parts.push(format!("\"{}\" = {n}", age_key(cell)));
        }
    }
    format!("{{ {} }}", parts.join(", "))
}

/// The config text. `base` supplies prices, capacities and everything
/// outside the demand part.
pub fn config_text(est: &Estimates, base: Option<&Base>, opts: &WriteOptions) -> String {
    let mut t = String::new();
    let n_p = est.placements.len();
    let _ = writeln!(
        t,
        "# Calibrated by `carecast calibrate` (carecast {}) from SSDA903 returns.",
        env!("CARGO_PKG_VERSION")
    );
    for line in &opts.provenance {
        let _ = writeln!(t, "# {line}");
    }
    let _ = writeln!(
        t,
        "# Window: the {} months from {} to {} (the day before the calibration date).",
        est.window_months,
        est.window_start,
        crate::calibrate::date::Day(est.at.0 - 1)
    );
    t.push_str(
        "# Rates are occurrence / exposure: events over time at risk, with exact 95% intervals.\n\
         # Only counts aggregated by placement and age are written: no child-level data.\n",
    );
    if opts.uncertain {
        t.push_str(
            "# --uncertain: entry, exit and move rates are distributions drawn once per run\n\
             # (gamma / beta / PERT from the events and exposure), so percentiles include the\n\
             # uncertainty of the estimates themselves.\n",
        );
    } else {
        t.push_str(
            "# Rates are fixed at their estimates: percentiles carry the chance in children's lives but\n\
             # not the estimation error of the rates, as large by +24 months (docs/calibration.md);\n\
             # calibrate with --uncertain for percentiles that include it.\n",
        );
    }
    match (&est.time_in_care, opts.format) {
        (Some(tic), Format::Monthly) => {
            t.push_str(
                "# Gap: the model this config is written for has no exit hazards by time in care;\n\
                 # the factors estimated (relative to 6-24 months) show how far stays are from exponential:\n",
            );
            for line in tic_notes(tic) {
                let _ = writeln!(t, "#   {line}");
            }
        }
        (None, _) => t.push_str(
            "# Too few exits to estimate hazards by time in care: stays are exponential within a\n\
             # placement and age band.\n",
        ),
        _ => {}
    }
    let _ = writeln!(
        t,
        "# Left care on their 18th birthday (the model's exit at 18): {}.",
        est.left_at_18
    );
    if est.stock_tic_unknown > 0 {
        let _ = writeln!(
            t,
            "# {} children in care at the date began their period before the first return: their time in\n\
             # care is counted from the first episode the returns show (a lower bound).",
            est.stock_tic_unknown
        );
    }
    if est.stock_over_18 > 0 {
        let _ = writeln!(
            t,
            "# {} young people aged 18 or more were still in care at the date and are not in the stock.",
            est.stock_over_18
        );
    }
    t.push('\n');

    let base_doc = base.map(|b| b.doc);
    let _ = writeln!(t, "name = {}", quote(&opts.name));
    let _ = writeln!(
        t,
        "description = {}",
        quote(&format!(
            "Demand calibrated from SSDA903 returns at {}{}",
            est.at,
            if base.is_some() {
                ", on the base config"
            } else {
                "; national unit costs, no budget"
            }
        ))
    );
    if let Some(compare) = base_doc.and_then(|d| d.get("compare")) {
        let _ = writeln!(t, "compare = {compare}");
    }
    t.push('\n');

    match base_doc.and_then(|d| d.get("simulation")) {
        Some(toml::Value::Table(sim)) => {
            t.push_str("[simulation]\n");
            for (k, v) in sim {
                let _ = writeln!(t, "{k} = {v}");
            }
        }
        _ => t.push_str("[simulation]\nruns = 2000\nseed = 42\n"),
    }
    let (y, m, _) = est.at.ymd();
    let _ = writeln!(
        t,
        "\n[horizon]\nstart = \"{y:04}-{m:02}\"   # the calibration date\nyears = {}\nfy_start_month = {}\n",
        opts.years, opts.fy_start_month
    );

    for b in &est.bands {
        let _ = writeln!(
            t,
            "[[age_band]]\nid = {}\nfrom = {}\nto = {}\n",
            quote(&b.id),
            b.from,
            b.to
        );
    }

    // Placements.
    let stock_by_band = est.stock_by_band();
    let base_placements: Vec<&toml::Table> = match base_doc.and_then(|d| d.get("placement")) {
        Some(toml::Value::Array(items)) => items.iter().filter_map(|v| v.as_table()).collect(),
        _ => Vec::new(),
    };
    for (p, id) in est.placements.iter().enumerate() {
        t.push_str("[[placement]]\n");
        let _ = writeln!(t, "id = {}", quote(id));
        match base_placements
            .iter()
            .find(|bp| bp.get("id").and_then(|v| v.as_str()) == Some(id))
        {
            Some(bp) => {
                for (k, v) in bp.iter() {
                    if !matches!(
                        k.as_str(),
                        "id" | "initial" | "initial_by_age" | "initial_time_in_care"
                    ) {
                        let _ = writeln!(t, "{k} = {v}");
                    }
                }
            }
            None => {
                let label = DEFAULT_PLACEMENTS
                    .iter()
                    .find(|(i, _)| i == id)
                    .map_or(id.as_str(), |(_, l)| l);
                let _ = writeln!(t, "label = {}", quote(label));
                let (cost, source) = NATIONAL_COSTS.iter().find(|(i, _, _)| i == id).map_or(
                    (
                        0.0,
                        "assumption: no national figure for this placement type",
                    ),
                    |(_, c, s)| (*c, s),
                );
                let _ = writeln!(t, "weekly_cost = {}   # {source}", num(cost));
            }
        }
        let total: u32 = stock_by_band[p].iter().sum();
        let by_band: Vec<String> = est
            .bands
            .iter()
            .zip(&stock_by_band[p])
            .map(|(b, n)| format!("{} {n}", b.id))
            .collect();
        let _ = writeln!(
            t,
            "# in care at {}: {total} ({}); by year of age, and by month at 16 and 17",
            est.at,
            by_band.join(", ")
        );
        let _ = writeln!(t, "initial_by_age = {}", initial_by_age(&est.stock[p]));
        if opts.format == Format::Continuous && est.time_in_care.is_some() && total > 0 {
            let parts: Vec<String> = est
                .bands
                .iter()
                .zip(&est.stock_tic[p])
                .filter(|(_, k)| k.iter().sum::<u32>() > 0)
                .map(|(b, k)| {
                    let counts: Vec<String> = k.iter().map(|n| n.to_string()).collect();
                    format!("{} = {{ counts = [{}] }}", quote(&b.id), counts.join(", "))
                })
                .collect();
            let _ = writeln!(
                t,
                "# by time in care (months {}) and age band",
                tic_labels().join(", ")
            );
            let _ = writeln!(t, "initial_time_in_care = {{ {} }}", parts.join(", "));
        }
        t.push('\n');
    }

    // Entries (none when nobody entered in the window).
    if est.entries_total.events > 0.0 {
        let total = &est.entries_total;
        t.push_str("[entries]\n");
        let _ = writeln!(
            t,
            "# {} entrants in {} months: {} a year (95% {}–{}), monthly counts {}",
            num(total.events),
            est.window_months,
            sig(total.value),
            sig(total.low),
            sig(total.high),
            est.monthly_entries
                .iter()
                .map(|c| num(*c))
                .collect::<Vec<_>>()
                .join(" ")
        );
        let d = &est.dispersion;
        let phi = d.size.map_or(1.0, |k| {
            1.0 + total.events / est.window_months.max(1) as f64 / k
        });
        let per_year = match (&est.trend, opts.trend) {
            (Some(tr), TrendUse::Raw) => {
                let level =
                    crate::calibrate::estimate::level_per_year(&est.monthly_entries, tr.annual);
                let _ = writeln!(
                    t,
                    "# with the fitted trend ({} a year), the rate at the start of the horizon is {} a year",
                    sig(tr.annual),
                    sig(level)
                );
                level
            }
            (Some(tr), TrendUse::Shrunk) if tr.shrunk != 0.0 => {
                let _ = writeln!(
                    t,
                    "# with the shrunk trend ({} a year), the rate at the start of the horizon is {} a year",
                    sig(tr.shrunk),
                    sig(est.per_year_shrunk)
                );
                est.per_year_shrunk
            }
            _ => total.value,
        };
        if opts.uncertain && total.events > 0.0 {
            let shape = total.events / phi;
            let _ = writeln!(
                t,
                "per_year = {{ dist = \"gamma\", shape = {}, scale = {} }}   # mean {}; shape = entrants / φ, φ = {} (overdispersion)",
                num_sig(shape),
                num_sig(per_year / shape),
                sig(per_year),
                sig(phi)
            );
        } else {
            let _ = writeln!(t, "per_year = {}", num(per_year));
        }
        let k_range = format!(
            "95% {}–{}",
            d.low.map_or("–".into(), sig),
            d.high.map_or("Poisson".into(), sig)
        );
        match d.size {
            Some(k) => {
                let _ = writeln!(
                    t,
                    "dispersion = {}   # negative binomial size by moments; variance/mean {} ({k_range})",
                    num_sig(k),
                    sig(d.ratio)
                );
            }
            None => {
                let _ = writeln!(
                    t,
                    "# no dispersion: months vary no more than Poisson (variance/mean {})",
                    sig(d.ratio)
                );
            }
        }
        if let Some(tr) = &est.trend {
            let fit = format!(
                "log-linear fit of the {} monthly entries since the first return: {} a year (95% {} to {}; quasi-Poisson scale {})",
                tr.months,
                sig(tr.annual),
                sig(tr.low),
                sig(tr.high),
                sig(tr.phi)
            );
            let shrunk = format!(
                "shrunk towards 0 (prior N(0, max(0, b² − 9 se²))): {} a year, sd {}",
                sig(tr.shrunk),
                sig(tr.shrunk_sd)
            );
            match opts.trend {
                TrendUse::Raw => {
                    let sd = 12.0 * tr.se * tr.phi.sqrt() * (1.0 + tr.annual);
                    if opts.uncertain && within_trend_limits(tr.annual, sd) {
                        let _ = writeln!(
                            t,
                            "trend = {{ dist = \"normal\", mean = {}, sd = {} }}   # {fit}",
                            num_sig(tr.annual),
                            num_sig(sd)
                        );
                    } else {
                        let _ =
                            writeln!(t, "trend = {}   # {fit}", num_sig(trend_value(tr.annual)));
                    }
                }
                TrendUse::Shrunk if tr.shrunk != 0.0 => {
                    let _ = writeln!(t, "# {fit}");
                    if opts.uncertain
                        && tr.shrunk_sd > 0.0
                        && within_trend_limits(tr.shrunk, tr.shrunk_sd)
                    {
                        let _ = writeln!(
                            t,
                            "trend = {{ dist = \"normal\", mean = {}, sd = {} }}   # {shrunk}",
                            num_sig(tr.shrunk),
                            num_sig(tr.shrunk_sd)
                        );
                    } else {
                        let _ = writeln!(
                            t,
                            "trend = {}   # {shrunk}",
                            num_sig(trend_value(tr.shrunk))
                        );
                    }
                }
                TrendUse::Shrunk => {
                    let _ = writeln!(
                        t,
                        "# no trend: the {fit} is within three standard errors of none, so shrinks to 0"
                    );
                }
                TrendUse::Off => {
                    let _ = writeln!(t, "# trend of entries (not used: --no-trend): {fit}");
                }
            }
        }
        let band_counts: Vec<f64> = est
            .entries
            .iter()
            .map(|row| row.iter().map(|r| r.events).sum())
            .collect();
        match opts.format {
            Format::Continuous => {
                let by_year: Vec<String> =
                    shares(&est.age_by_year).iter().map(|s| num(*s)).collect();
                let _ = writeln!(
                    t,
                    "# entrants by year of age at entry, 0 to 17: {}",
                    est.age_by_year
                        .iter()
                        .map(|c| num(*c))
                        .collect::<Vec<_>>()
                        .join(" ")
                );
                let _ = writeln!(t, "age_by_year = [{}]", by_year.join(", "));
            }
            Format::Monthly => {
                let age_shares = shares(&band_counts);
                let parts: Vec<String> = est
                    .bands
                    .iter()
                    .zip(&age_shares)
                    .map(|(b, s)| format!("{} = {}", quote(&b.id), num(*s)))
                    .collect();
                let _ = writeln!(t, "age_mix = {{ {} }}", parts.join(", "));
            }
        }
        for (b, band) in est.bands.iter().enumerate() {
            let counts: Vec<f64> = est.entries[b].iter().map(|r| r.events).collect();
            if band_counts[b] <= 0.0 {
                continue;
            }
            let _ = writeln!(
                t,
                "\n[entries.mix_by_band.{}]   # {} entrants aged {}–{}",
                quote(&band.id),
                num(band_counts[b]),
                band.from,
                band.to - 1
            );
            for (p, s) in shares(&counts).iter().enumerate() {
                if counts[p] > 0.0 {
                    let _ = writeln!(
                        t,
                        "{} = {}   # {}",
                        est.placements[p],
                        num(*s),
                        rate_note(&est.entries[b][p], "entrants", "years", " a year")
                    );
                }
            }
        }
    } else {
        t.push_str("# No child entered care in the window: no [entries].\n\n");
    }

    // Exits.
    let continuous = opts.format == Format::Continuous;
    let (tic, cells) = match (&est.time_in_care, continuous) {
        (Some(tic), true) => (Some(tic), &est.exits_base),
        _ => (None, &est.exits_plain),
    };
    if let Some(tic) = tic {
        t.push_str(
            "\n# Exits by time in the current period of care: the exit hazard of a (placement, age band)\n\
             # is multiplied by the factor of the band of time in care (piecewise-exponential fit by\n\
             # occurrence / exposure, open periods censored at the date; relative to 6-24 months):\n",
        );
        for line in tic_notes(tic) {
            let _ = writeln!(t, "#   {line}");
        }
        t.push_str("[exits.time_in_care]\n");
        let bands: Vec<String> = tic.bands.iter().map(|b| num(*b)).collect();
        let _ = writeln!(t, "bands = [{}]", bands.join(", "));
        let factors: Vec<String> = (0..tic.factor.len())
            .map(|k| {
                // Drawn given the base hazards, which are drawn on their
                // own and already carry the reference band's exits: the
                // factor's own exits d(k) alone, σ = 1/√d(k). The interval
                // in the comment, of the ratio to the reference band, adds
                // 1/d(ref); drawn beside the base hazards it would count
                // the reference band's uncertainty twice.
                let sigma = (1.0 / tic.events[k]).sqrt();
                if opts.uncertain
                    && k != crate::calibrate::estimate::TIC_REFERENCE
                    && sigma.is_finite()
                    && sigma > 0.0
                {
                    format!(
                        "{{ dist = \"lognormal\", median = {}, p90 = {} }}",
                        num_sig(tic.factor[k]),
                        num_sig(tic.factor[k] * (1.281_551_565_544_600_5 * sigma).exp())
                    )
                } else {
                    num_sig(tic.factor[k])
                }
            })
            .collect();
        let _ = writeln!(t, "factor = [{}]", factors.join(", "));
    }
    let _ = writeln!(
        t,
        "\n# Exits other than at 18: monthly hazard λ{} = exits / child-months in care{}, shrunk\n\
         # towards the main-effects rate λ₀ (placement × age band) as (exits + {k}) / (child-months + {k}/λ₀),\n\
         # written as the annual probability 1 − exp(−12λ). A cell without exposure takes λ₀. The 95%\n\
         # interval is that of the gamma posterior Gamma(exits + {k}, child-months + {k}/λ₀).{}",
        if tic.is_some() {
            " (the base, before the time-in-care factor)"
        } else {
            ""
        },
        if tic.is_some() {
            " weighted by the factors"
        } else {
            ""
        },
        if tic.is_some() {
            "\n# Each cell's comment gives its exits and child-months in care, then the figures of the fit:\n\
             # the exits of periods whose time in care is known, over child-months weighted by the factors."
        } else {
            ""
        },
        k = num(PRIOR_EVENTS)
    );
    for (p, id) in est.placements.iter().enumerate() {
        let _ = writeln!(t, "[exits.annual_probability.{id}]");
        for (b, band) in est.bands.iter().enumerate() {
            let r = &cells[p][b];
            let value = match opts
                .uncertain
                .then(|| {
                    (!r.pooled())
                        .then(|| beta_of_annual(&posterior(r)))
                        .flatten()
                })
                .flatten()
            {
                Some(d) => d,
                None => num_sig(annual(r.value)),
            };
            let _ = writeln!(
                t,
                "{} = {value}   # {}",
                quote(&band.id),
                match (tic, est.exits.get(p).and_then(|e| e.get(b))) {
                    // The fit's figures are the exits of periods whose time
                    // in care is known, over child-months weighted by the
                    // factors: say so, and give the cell's real ones.
                    (Some(_), Some(raw)) if !r.pooled() => format!(
                        "{} exits in {} child-months; fitted on {}",
                        num(raw.events),
                        sig(raw.exposure),
                        shrunk_note_in(
                            r,
                            "exits of known time in care",
                            "child-months weighted by the time-in-care factors"
                        )
                    ),
                    _ => shrunk_note(r, "exits"),
                }
            );
        }
    }

    // Moves.
    t.push_str(
        "\n# Moves between placement types by the age band at the move: moves / child-months in the\n\
         # placement left at that age, shrunk as (moves + 1) / (child-months + 1/λ₀) towards the pooled\n\
         # rate of the move times the age profile of all moves into the destination; 95% intervals\n\
         # from the gamma posterior Gamma(moves + 1, child-months + 1/λ₀).\n",
    );
    for p in 0..n_p {
        for q in 0..n_p {
            let cells = &est.moves_by_band[p][q];
            if cells.iter().all(|r| r.value <= 0.0) {
                continue;
            }
            if continuous {
                let mut parts = Vec::new();
                let _ = writeln!(t, "[[transition]]");
                for (b, band) in est.bands.iter().enumerate() {
                    let r = &cells[b];
                    if r.value <= 0.0 {
                        continue;
                    }
                    let _ = writeln!(t, "# {}: {}", band.id, shrunk_note(r, "moves"));
                    let value = match opts
                        .uncertain
                        .then(|| {
                            (!r.pooled())
                                .then(|| pert_of_annual(&posterior(r)))
                                .flatten()
                        })
                        .flatten()
                    {
                        Some(d) => d,
                        None => num_sig(annual(r.value)),
                    };
                    parts.push(format!("{} = {value}", quote(&band.id)));
                }
                let _ = writeln!(
                    t,
                    "from = {}\nto = {}\nannual_rate = {{ {} }}\n",
                    quote(&est.placements[p]),
                    quote(&est.placements[q]),
                    parts.join(", ")
                );
            } else {
                for (b, band) in est.bands.iter().enumerate() {
                    let r = &cells[b];
                    if r.value <= 0.0 {
                        continue;
                    }
                    // Moves out of one placement compete within the month:
                    // the monthly probability of a move to q is
                    // (λq / Λ)(1 − exp(−Λ)), Λ the sum of the rates, written
                    // rounded down so that they never add up to more than one.
                    let all: f64 = (0..n_p).map(|q| est.moves_by_band[p][q][b].value).sum();
                    let monthly = r.value / all * (1.0 - (-all).exp());
                    // The largest monthly probabilities the PERTs can draw
                    // must add up to at most one too; otherwise the rates
                    // are written as they are.
                    let worst: f64 = (0..n_p)
                        .map(|q| &est.moves_by_band[p][q][b])
                        .filter(|r| r.value > 0.0)
                        .map(|r| {
                            pert_params(&posterior(r)).map_or(
                                1.0 - (-r.value).exp(),
                                |(_, _, hi, _)| {
                                    // The monthly probability of the annual max.
                                    1.0 - (1.0 - hi).powf(1.0 / 12.0)
                                },
                            )
                        })
                        .sum();
                    let value = match (opts.uncertain && worst <= 1.0 - 1e-6 && !r.pooled())
                        .then(|| pert_of_annual(&posterior(r)))
                        .flatten()
                    {
                        Some(d) => d,
                        None => num_sig_down(1.0 - (1.0 - monthly).powi(12)),
                    };
                    let _ = writeln!(
                        t,
                        "[[transition]]   # {}\nfrom = {}\nto = {}\nbands = [{}]\nannual_rate = {}\n",
                        shrunk_note(r, "moves"),
                        quote(&est.placements[p]),
                        quote(&est.placements[q]),
                        quote(&band.id),
                        value
                    );
                }
            }
        }
    }

    // History (backtest): month-end counts observed after the date.
    if !opts.history.is_empty() {
        t.push_str("\n[history]\n");
        if let Some(s) = &opts.history_source {
            let _ = writeln!(t, "source = {}", quote(s));
        }
        let mut series: IndexMap<&str, Vec<(&str, f64)>> = IndexMap::new();
        for (key, month, v) in &opts.history {
            series.entry(key.as_str()).or_default().push((month, *v));
        }
        let table = |points: &[(&str, f64)]| {
            points
                .iter()
                .map(|(m, v)| format!("\"{m}\" = {}", num(*v)))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let mut placements = Vec::new();
        let mut bands = Vec::new();
        for (key, points) in &series {
            if *key == "total" {
                let _ = writeln!(t, "total = {{ {} }}", table(points));
            } else if let Some(id) = key.strip_prefix("placement:") {
                placements.push(format!("{} = {{ {} }}", quote(id), table(points)));
            } else if let Some(id) = key.strip_prefix("band:") {
                bands.push(format!("{} = {{ {} }}", quote(id), table(points)));
            }
        }
        if !placements.is_empty() {
            let _ = writeln!(t, "[history.by_placement]\n{}", placements.join("\n"));
        }
        if !bands.is_empty() {
            let _ = writeln!(t, "[history.by_band]\n{}", bands.join("\n"));
        }
    }

    // The rest of the base: cost lines, budget, strategy, scenarios.
    if let Some(doc) = base_doc {
        let mut rest = toml::Table::new();
        for (k, v) in doc {
            // Calibration writes the demand part (and the history, when it
            // has one) itself.
            let replaced = DEMAND_KEYS.contains(&k.as_str())
                || k == "compare"
                || k == "transition"
                || (k == "history" && !opts.history.is_empty());
            if !replaced {
                rest.insert(k.clone(), v.clone());
            }
        }
        if !rest.is_empty() {
            t.push_str("\n# ---- From the base config ----\n");
            t.push_str(&toml::to_string(&rest).unwrap_or_default());
        }
    } else {
        t.push_str(
            "\n# No [budget]: without --base the run reports demand and cost, and no overspend.\n",
        );
    }
    t
}

/// Whether a normal trend with this mean and sd stays, over the range
/// carecast checks (its 10⁻¹⁵ tails, eight sd either side), inside the
/// limits a config accepts.
fn within_trend_limits(mean: f64, sd: f64) -> bool {
    let (low, high) = crate::config::limits::TREND;
    mean - 8.0 * sd > low && mean + 8.0 * sd < high
}

/// A fitted trend kept inside the limits a config accepts (−99% to +100% a year).
fn trend_value(trend: f64) -> f64 {
    trend.clamp(-0.99, crate::config::limits::TREND.1)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The mean and sd of a PERT (min, mode, max, shape) read back from
    /// its config text.
    fn pert_moments(text: &str) -> (f64, f64) {
        let field = |k: &str| -> f64 {
            let at = text.find(&format!("{k} = ")).unwrap() + k.len() + 3;
            text[at..]
                .split([',', ' '])
                .next()
                .unwrap()
                .parse()
                .unwrap()
        };
        let (a, m, c, g) = (field("min"), field("mode"), field("max"), field("shape"));
        let mean = (a + g * m + c) / (g + 2.0);
        (mean, ((mean - a) * (c - mean) / (g + 3.0)).sqrt())
    }

    #[test]
    fn the_pert_of_a_move_has_the_mean_and_sd_of_its_gamma_posterior() {
        // The reviewer's cell: 5 moves, posterior Gamma(6, 3144), annual
        // probability sd 0.00910 (the PERT written before had 0.01134).
        let shrunk = Shrunk {
            events: 5.0,
            exposure: 3144.0 - 1.0 / 0.002,
            prior: 0.002,
            value: 6.0 / 3144.0,
        };
        let g = posterior(&shrunk);
        assert!((g.events - 6.0).abs() < 1e-12 && (g.exposure - 3144.0).abs() < 1e-9);
        let (mean, var) = annual_moments(&g);
        assert!((var.sqrt() - 0.00910).abs() < 5e-5, "{}", var.sqrt());
        let text = pert_of_annual(&g).unwrap();
        let (m, sd) = pert_moments(&text);
        assert!(
            (m / mean - 1.0).abs() < 1e-3,
            "{text}: mean {m} against {mean}"
        );
        assert!(
            (sd / var.sqrt() - 1.0).abs() < 1e-3,
            "{text}: sd {sd} against {}",
            var.sqrt()
        );
        // Its bounds are the gamma's own 99.9% interval (Gamma(6), not 7).
        let hi = annual(chi2_quantile(12.0, 0.9995) / 2.0 / 3144.0);
        assert!(text.contains(&format!("max = {}", num_sig(hi))), "{text}");
        // From 2 events up mean and sd match; below, the mean does.
        for (d, e) in [
            (2.0, 400.0),
            (3.0, 50.0),
            (20.0, 900.0),
            (300.0, 2.0e4),
            (1.0, 300.0),
        ] {
            let r = Rate::new(d, e, 1.0);
            let (mean, var) = annual_moments(&r);
            let text = pert_of_annual(&r).unwrap();
            let (m, sd) = pert_moments(&text);
            assert!((m / mean - 1.0).abs() < 1e-3, "{d} {e} {text}: {m} {mean}");
            if d >= 2.0 {
                assert!(
                    (sd / var.sqrt() - 1.0).abs() < 1e-3,
                    "{d} {e} {text}: {sd} {}",
                    var.sqrt()
                );
            }
        }
    }

    #[test]
    fn the_format_probe_is_valid_without_the_continuous_time_keys() {
        // Otherwise the probe could fail for another reason and calibrate
        // would keep writing the monthly form after the core lands.
        crate::config::parse_config(&probe(false), "probe").unwrap();
        let with = probe(true);
        assert!(with.contains("[exits.time_in_care]") && with.contains("age_by_year"));
    }
}
