//! The limits of what carecast simulates, checked once the config is
//! otherwise valid: how many children, how fast entries may grow, how large
//! a rate or an amount of money may be.
//!
//! Every limit is far beyond any council, and each exists for a reason a
//! user can see: a run must finish in a time its size predicts, sums of
//! pence must stay exact (an `i64` of pence holds about £92 trillion, and
//! `f64` money is exact to the penny below about £90 billion), and an input
//! must mean something (entries that grow a hundredfold a year do not). A
//! value beyond a limit is a config error naming the field, the value and
//! the limit. `docs/reliability.md` lists them.
//!
//! An uncertain input is checked at the ends of its range: its bounds where
//! it has them, else its quantiles at 10⁻¹⁵ and 1 − 10⁻¹⁵ (a draw beyond
//! those is a one-in-a-million-billion event).

use std::ops::RangeInclusive;

use crate::config::raw::*;
use crate::dist::{Dist, Domain, RawDist};
use crate::error::FieldError;

type Result<T> = std::result::Result<T, FieldError>;

/// Placement types: SSDA903 has about thirty placement codes.
pub const MAX_PLACEMENTS: usize = 100;
/// Children in care at the start: England has about 84,000 in all.
pub const MAX_STOCK: f64 = 100_000.0;
/// Children entering care (or prevented, moved, freed) in one year, from one
/// source: England's entrants are about 33,000 a year.
pub const MAX_PER_YEAR: f64 = 100_000.0;
/// Children simulated in one run: the stock plus every entrant over the horizon.
pub const MAX_CHILDREN_PER_RUN: f64 = 1_000_000.0;
/// Annual growth of entries (`entries.trend`): at most +100% a year (any
/// decline above −100% is allowed: a fitted trend of a small council can be
/// steep, and a decline cannot make a run longer).
pub const TREND: (f64, f64) = (-1.0, 1.0);
/// Annual inflation of a price: from −50% to +100% a year.
pub const INFLATION: (f64, f64) = (-0.5, 1.0);
/// Children per family in an edge-of-care programme.
pub const MAX_CHILDREN_PER_FAMILY: f64 = 20.0;
/// A weekly price (a placement, a care leaver's support): £10m a week.
pub const MAX_WEEKLY: f64 = 1e7;
/// Any one amount of money for a year (a cost line, a budget, a saving, a
/// programme's cost): £1 trillion.
pub const MAX_AMOUNT: f64 = 1e12;
/// Everything one year can cost, at the ends of every input: £10 trillion.
pub const MAX_YEAR_TOTAL: f64 = 1e13;

/// Whole-number fields: the values each takes.
pub const YEARS: RangeInclusive<i64> = 1..=50;
pub const FY_START_MONTH: RangeInclusive<i64> = 1..=12;
pub const AGE: RangeInclusive<i64> = 0..=18;
pub const SUPPORT_MONTHS: RangeInclusive<i64> = 1..=120;
pub const RAMP_UP_MONTHS: RangeInclusive<i64> = 0..=120;
pub const SPREAD_MONTHS: RangeInclusive<i64> = 1..=60;
pub const COST_MONTHS: RangeInclusive<i64> = 1..=600;

/// A limit on one quantity, as every message about it states it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Limit {
    pub max: f64,
    /// Whether the quantity is money, written with a £.
    pub pounds: bool,
    /// What is counted, after the number.
    pub of: &'static str,
}

pub const STOCK: Limit = Limit::count(
    MAX_STOCK,
    "children in care at the start, all placements and cohorts together",
);
pub const CAPACITY: Limit = Limit::count(MAX_CHILDREN_PER_RUN, "places");
pub const CARE_LEAVERS: Limit = Limit::count(MAX_STOCK, "care leavers at the start");
pub const ENTRANTS: Limit = Limit::count(
    MAX_PER_YEAR,
    "entrants a year (of `entries` or of one cohort, at the top of their range)",
);
pub const SHOCK: Limit = Limit::count(MAX_PER_YEAR, "children of one shock");
pub const PROGRAMME: Limit = Limit::count(
    MAX_PER_YEAR,
    "children (or families) a year for one programme",
);
pub const PER_FAMILY: Limit = Limit::count(MAX_CHILDREN_PER_FAMILY, "children per family");
pub const RUN: Limit = Limit::count(MAX_CHILDREN_PER_RUN, "children simulated in one run");
pub const WEEKLY: Limit = Limit::money(MAX_WEEKLY, "a week for a price, or a change to one");
pub const AMOUNT: Limit = Limit::money(MAX_AMOUNT, "for any one amount in a year");

impl Limit {
    /// A limit on a number of children, places or families.
    const fn count(max: f64, of: &'static str) -> Limit {
        Limit {
            max,
            pounds: false,
            of,
        }
    }

    /// A limit on an amount of money.
    const fn money(max: f64, of: &'static str) -> Limit {
        Limit {
            max,
            pounds: true,
            of,
        }
    }

    /// `at most £10,000,000 a week for a price, or a change to one`.
    pub fn stated(&self) -> String {
        format!("at most {} {}", self.show(self.max), self.of)
    }

    fn show(&self, x: f64) -> String {
        if self.pounds {
            format!("£{}", show(x))
        } else {
            show(x)
        }
    }

    /// Refuses `value` at `path` beyond the limit (or NaN); `says` is what
    /// the message says before the value (`the weekly cost reaches`).
    pub fn check(&self, value: f64, path: &str, says: &str) -> Result<()> {
        if value.is_nan() || value > self.max {
            return err(path, self.beyond(says, value));
        }
        Ok(())
    }

    /// `{says} {value}; carecast accepts at most {max} {of}`.
    pub fn beyond(&self, says: &str, value: f64) -> String {
        format!(
            "{says} {}; carecast accepts {}",
            self.show(value),
            self.stated()
        )
    }
}

/// `cohort[1].initial.a` → `cohort[].initial.a`.
fn shape(path: &str) -> String {
    let mut shape = String::with_capacity(path.len());
    let mut in_index = false;
    for c in path.chars() {
        match c {
            '[' => {
                in_index = true;
                shape.push(c);
            }
            ']' => {
                in_index = false;
                shape.push(c);
            }
            _ if in_index => {}
            _ => shape.push(c),
        }
    }
    shape
}

/// The limit of the quantity a field holds (`placement[2].weekly_cost.max`
/// holds a weekly price), for fields whose quantity has one.
pub fn of_field(path: &str) -> Option<Limit> {
    let shape = shape(path);
    const FIELDS: &[(&str, Limit)] = &[
        ("placement[].initial", STOCK),
        ("placement[].initial_by_age", STOCK),
        ("placement[].initial_time_in_care.counts", STOCK),
        ("cohort[].initial", STOCK),
        ("care_leavers.initial", CARE_LEAVERS),
        ("entries.per_year", ENTRANTS),
        ("cohort[].entries.per_year", ENTRANTS),
        ("shock[].children", SHOCK),
        ("intervention[].per_year", PROGRAMME),
        ("intervention[].families", PROGRAMME),
        ("intervention[].children_per_family", PER_FAMILY),
        ("intervention[].change", WEEKLY),
        ("placement[].weekly_cost", WEEKLY),
        ("care_leavers.weekly_cost", WEEKLY),
        ("cost_line[].per_year", AMOUNT),
        ("intervention[].cost_per_year", AMOUNT),
        ("investment[].per_year", AMOUNT),
        ("saving[].per_year", AMOUNT),
        ("budget.per_year", AMOUNT),
    ];
    FIELDS.iter().find_map(|(field, limit)| {
        let rest = shape.strip_prefix(field)?;
        (rest.is_empty() || rest.starts_with(['.', '['])).then_some(*limit)
    })
}

/// What the field at `path` accepts, for a number too large to read there:
/// the limit of its quantity, the range of a whole-number field, or else
/// the bound on every number.
pub fn expected_at(path: &str) -> String {
    if let Some(limit) = of_field(path) {
        return format!("carecast accepts {}", limit.stated());
    }
    whole_expected_at(path).unwrap_or_else(|| crate::config::money::BELOW_LIMIT.to_string())
}

/// What a whole-number field at `path` accepts; None for other fields.
pub fn whole_expected_at(path: &str) -> Option<String> {
    let whole = |from: f64, to: f64| {
        format!(
            "expected a whole number from {} to {}",
            show(from),
            show(to)
        )
    };
    let range = |r: RangeInclusive<i64>| whole(*r.start() as f64, *r.end() as f64);
    Some(match shape(path).as_str() {
        "horizon.years" => range(YEARS),
        "horizon.fy_start_month" => range(FY_START_MONTH),
        "age_band[].from" | "age_band[].to" => range(AGE),
        "care_leavers.months" => range(SUPPORT_MONTHS),
        "intervention[].ramp_up_months" => range(RAMP_UP_MONTHS),
        "shock[].spread_months" => range(SPREAD_MONTHS),
        "shock[].cost_months" => range(COST_MONTHS),
        "simulation.runs" => whole(1.0, crate::config::validate::MAX_RUNS as f64),
        "simulation.seed" => format!(
            "expected a whole number from 0 to {} (the largest TOML integer; --seed on the command line takes up to {})",
            crate::config::validate::MAX_CONFIG_SEED,
            u64::MAX
        ),
        _ => return None,
    })
}

/// Tail probability beyond which an unbounded input is not followed.
const TAIL: f64 = 1e-15;

fn err<T>(path: impl Into<String>, message: impl ToString) -> Result<T> {
    Err(FieldError::new(path, message))
}

/// The range an input takes in practice: its bounds where it has them, else
/// its quantiles at 10⁻¹⁵ and 1 − 10⁻¹⁵. None for an input that does not build
/// (validation has already reported those).
fn range(raw: &RawDist, path: &str) -> Option<(f64, f64)> {
    Dist::build(raw, Domain::Any, path).ok().map(|d| ends(&d))
}

/// The range a built input takes in practice: its bounds where it has them,
/// else its quantiles at 10⁻¹⁵ and 1 − 10⁻¹⁵ (within its field's domain).
pub fn ends(d: &Dist) -> (f64, f64) {
    d.range(TAIL)
}

/// The largest value an input takes in practice (0 when it does not build).
fn upper(raw: &RawDist, path: &str) -> f64 {
    range(raw, path).map_or(0.0, |r| r.1)
}

/// A number for a message: whole, in groups of three digits
/// (`1,000,000,000,000`), up to 10¹⁵; beyond, `1.5e300`.
fn show(x: f64) -> String {
    if !x.is_finite() || x.abs() >= 1e15 {
        // Beyond any amount written out in full: three figures are plenty.
        return format!("{x:.2e}");
    }
    let digits = format!("{:.0}", x.abs());
    let mut out = String::new();
    for (k, d) in digits.chars().enumerate() {
        if k > 0 && (digits.len() - k) % 3 == 0 {
            out.push(',');
        }
        out.push(d);
    }
    if x.round() < 0.0 {
        out.insert(0, '-');
    }
    out
}

fn within(raw: &RawDist, (lo, hi): (f64, f64), path: &str, what: &str) -> Result<()> {
    if let Some((a, b)) = range(raw, path)
        && (a < lo || b > hi)
    {
        return err(
            path,
            format!(
                "{what} ranges from {a} to {b}; carecast accepts {lo} to {hi} ({}% to +{}% a year)",
                lo * 100.0,
                hi * 100.0
            ),
        );
    }
    Ok(())
}

/// Checks a config, already valid in every other respect, against the limits.
pub fn check(raw: &RawConfig) -> Result<()> {
    let years = raw.horizon.years.clamp(*YEARS.start(), *YEARS.end());
    if raw.placement.len() > MAX_PLACEMENTS {
        return err(
            format!("placement[{MAX_PLACEMENTS}]"),
            format!(
                "{} placement types; carecast accepts at most {MAX_PLACEMENTS}",
                raw.placement.len()
            ),
        );
    }
    let stock = stock(raw)?;
    let (entrants, entrants_path) = entries(raw, years)?;
    let shocks = shocks(raw, years)?;
    interventions(raw)?;
    let children = stock + entrants + shocks;
    if children > MAX_CHILDREN_PER_RUN {
        let path = if entrants >= stock && entrants >= shocks {
            entrants_path.as_str()
        } else if stock >= shocks {
            "placement"
        } else {
            "shock"
        };
        let why = if path.ends_with(".dispersion") {
            " (so small a dispersion lets a month bring many times its mean: the entrants are \
             those a run exceeds with a chance of 1 in 10¹⁵)"
        } else {
            ""
        };
        return err(
            path,
            format!(
                "a run could simulate {} children (the stock {}, entrants {}, children of shocks {} \
                 over {years} years){why}; carecast accepts {}",
                show(children),
                show(stock),
                show(entrants),
                show(shocks),
                RUN.stated()
            ),
        );
    }
    money(raw, years, children)
}

/// The children in care at the start, each placement's and in all.
fn stock(raw: &RawConfig) -> Result<f64> {
    let mut total = 0.0;
    for (i, p) in raw.placement.iter().enumerate() {
        let counts: Vec<f64> = match (&p.initial, &p.initial_by_age) {
            (Some(RawByBand::One(n)), _) => vec![n.0],
            (Some(RawByBand::PerBand(t)), _) => t.values().map(|n| n.0).collect(),
            (None, Some(by_age)) => by_age.values().map(|n| n.0).collect(),
            (None, None) => Vec::new(),
        };
        total += counts.iter().filter(|n| n.is_finite()).sum::<f64>();
        if total > MAX_STOCK {
            return err(
                format!("placement[{i}].initial"),
                STOCK.beyond(
                    "with this placement, the children in care at the start reach",
                    total,
                ),
            );
        }
    }
    for (i, c) in raw.cohort.iter().enumerate() {
        for (id, n) in &c.initial {
            let counts: Vec<f64> = match n {
                RawByBand::One(n) => vec![n.0],
                RawByBand::PerBand(t) => t.values().map(|n| n.0).collect(),
            };
            total += counts.iter().filter(|n| n.is_finite()).sum::<f64>();
            if total > MAX_STOCK {
                return err(
                    format!("cohort[{i}].initial.{id}"),
                    STOCK.beyond(
                        "with this cohort's, the children in care at the start reach",
                        total,
                    ),
                );
            }
        }
    }
    if let Some(c) = &raw.care_leavers
        && let Some(n) = c.initial
    {
        CARE_LEAVERS.check(n.0, "care_leavers.initial", "the care leavers number")?;
    }
    Ok(total)
}

/// Entrants over the horizon, the main entries' and every cohort's, and
/// the field that sets the most of them.
fn entries(raw: &RawConfig, years: i64) -> Result<(f64, String)> {
    let mut total = 0.0;
    let mut most = (0.0, "entries.per_year".to_string());
    let sources = raw
        .entries
        .iter()
        .map(|e| (e, "entries".to_string()))
        .chain(raw.cohort.iter().enumerate().filter_map(|(i, c)| {
            let e = c.entries.as_ref()?;
            Some((e, format!("cohort[{i}].entries")))
        }));
    for (e, path) in sources {
        let (n, field) = entries_of(e, &path, years)?;
        total += n;
        if n > most.0 {
            most = (n, field);
        }
    }
    Ok((total, most.1))
}

/// Entrants of the entries at `path` over the horizon, at the top of their
/// range, with the trend compounding year on year, and the field that sets
/// them: `per_year`, or `dispersion` where overdispersed months could bring
/// more (see [`overdispersed`]).
fn entries_of(e: &RawEntries, path: &str, years: i64) -> Result<(f64, String)> {
    let per_year_path = format!("{path}.per_year");
    let trend_path = format!("{path}.trend");
    let per_year = upper(&e.per_year, &per_year_path);
    ENTRANTS.check(per_year, &per_year_path, "the entrants a year reach")?;
    let growth = match &e.trend {
        Some(t) => {
            within(t, TREND, &trend_path, "the trend")?;
            range(t, &trend_path).map_or(0.0, |r| r.1)
        }
        None => 0.0,
    };
    let mut total = 0.0;
    let mut busiest = per_year;
    let mut this_year = per_year;
    for y in 0..years {
        if y > 0 {
            this_year *= 1.0 + growth;
        }
        if this_year > MAX_PER_YEAR {
            return err(
                trend_path,
                ENTRANTS.beyond(
                    &format!(
                        "with entries of up to {} a year growing by up to {}% a year, year {} \
                         would see",
                        show(per_year),
                        growth * 100.0,
                        y + 1
                    ),
                    this_year,
                ),
            );
        }
        busiest = busiest.max(this_year);
        total += this_year;
    }
    let dispersion_path = format!("{path}.dispersion");
    let least_k = e
        .dispersion
        .as_ref()
        .and_then(|k| range(k, &dispersion_path))
        .map(|r| r.0);
    if let Some(k) = least_k.filter(|k| *k > 0.0) {
        let season = e.seasonality.as_ref().map_or(1.0, |s| {
            let factors: Vec<f64> = s.iter().map(|f| f.0).filter(|f| f.is_finite()).collect();
            let mean = factors.iter().sum::<f64>() / factors.len().max(1) as f64;
            let top = factors.iter().copied().fold(0.0, f64::max);
            if mean > 0.0 { top / mean } else { 1.0 }
        });
        let tail = overdispersed(busiest / 12.0 * season, (years * 12) as f64, k);
        if tail > total {
            return Ok((tail, dispersion_path));
        }
    }
    Ok((total, per_year_path))
}

/// The entrants over `months` that a run exceeds only with a chance of
/// [`TAIL`], when each month's count is negative binomial of size `k` and
/// mean at most `monthly`: the months' gamma-distributed rates sum to no
/// more (in distribution) than a gamma of shape `months × k` and scale
/// `monthly / k`, whose upper quantile this is. A small `k` gives months
/// of many times the mean, and a run whose entrants are beyond anything
/// the mean suggests.
fn overdispersed(monthly: f64, months: f64, k: f64) -> f64 {
    use statrs::distribution::{ContinuousCDF, Gamma};
    let shape = months * k;
    let scale = monthly / k;
    if !(shape.is_finite() && shape > 0.0 && scale.is_finite() && scale > 0.0) {
        return f64::INFINITY;
    }
    if shape > 1e6 {
        // So large a shape is a normal to well within the tail's chance:
        // eight and a half standard deviations hold more than 1 − 10⁻¹⁵.
        return (shape + 8.5 * shape.sqrt()) * scale;
    }
    let Ok(unit) = Gamma::new(shape, 1.0) else {
        return f64::INFINITY;
    };
    // The quantile of the unit-scale gamma by bisection, between its mean
    // and a point beyond any tail of 10⁻¹⁵ (the survival function is
    // accurate there, and every argument stays finite).
    let (mut lo, mut hi) = (shape, shape + 20.0 * shape.sqrt() + 100.0);
    if unit.sf(hi) > TAIL {
        return f64::INFINITY;
    }
    for _ in 0..100 {
        let mid = 0.5 * (lo + hi);
        if unit.sf(mid) > TAIL {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    hi * scale
}

/// Children brought by shocks over the horizon, at the top of their range
/// (a shock with a yearly probability may happen every year).
fn shocks(raw: &RawConfig, years: i64) -> Result<f64> {
    let mut total = 0.0;
    for (i, s) in raw.shock.iter().enumerate() {
        let path = format!("shock[{i}].children");
        let children = upper(&s.children, &path);
        SHOCK.check(children, &path, "the children of one shock reach")?;
        let times = if s.probability_per_year.is_some() {
            years as f64
        } else {
            1.0
        };
        total += children * times;
    }
    Ok(total)
}

/// Programme effects: children a year, directly or as families × success
/// rate × children per family.
fn interventions(raw: &RawConfig) -> Result<()> {
    for (i, r) in raw.intervention.iter().enumerate() {
        let path = format!("intervention[{i}]");
        if r.kind == "unit_cost" {
            if let Some(c) = &r.change {
                let p = format!("{path}.change");
                if let Some((lo, hi)) = range(c, &p) {
                    WEEKLY.check(
                        lo.abs().max(hi.abs()),
                        &p,
                        "the weekly change reaches, in size,",
                    )?;
                }
            }
            continue;
        }
        if let Some(d) = &r.per_year {
            let p = format!("{path}.per_year");
            PROGRAMME.check(upper(d, &p), &p, "the children a year reach")?;
        }
        let families = r.families.as_ref().map(|d| {
            let p = format!("{path}.families");
            (upper(d, &p), p)
        });
        if let Some((f, p)) = &families {
            PROGRAMME.check(*f, p, "the families a year reach")?;
        }
        let per_family = r.children_per_family.as_ref().map(|d| {
            let p = format!("{path}.children_per_family");
            (upper(d, &p), p)
        });
        if let Some((c, p)) = &per_family {
            PER_FAMILY.check(*c, p, "the children per family reach")?;
        }
        if let (Some((f, p)), Some((c, _))) = (&families, &per_family) {
            PROGRAMME.check(
                f * c,
                p,
                "families × children_per_family (children a year) reaches",
            )?;
        }
    }
    Ok(())
}

/// The largest magnitude of a year's amount.
fn amount(m: &RawMoney, path: &str) -> f64 {
    match m {
        RawMoney::Exact(a) => a.to_f64().abs(),
        RawMoney::Uncertain(d) => range(d, path).map_or(0.0, |(lo, hi)| lo.abs().max(hi.abs())),
    }
}

/// The largest magnitude of each year's amount, with the path of each.
fn per_year(raw: &RawPerYear<RawMoney>, path: &str, years: i64) -> Vec<(String, f64)> {
    match raw {
        RawPerYear::All(m) => vec![(path.to_string(), amount(m, path)); years as usize],
        RawPerYear::Each(list) => list
            .iter()
            .enumerate()
            .map(|(y, m)| {
                let p = format!("{path}[{y}]");
                let a = amount(m, &p);
                (p, a)
            })
            .collect(),
    }
}

/// Money: each weekly price, each amount, and what a whole year could cost.
fn money(raw: &RawConfig, years: i64, children: f64) -> Result<()> {
    // Terms of the largest possible year: (path, pounds).
    let mut terms: Vec<(String, f64)> = Vec::new();
    let growth_over = |r: Option<&RawDist>, path: &str| -> Result<f64> {
        match r {
            Some(r) => {
                within(r, INFLATION, path, "the inflation")?;
                let hi = range(r, path).map_or(0.0, |x| x.1).max(0.0);
                Ok((1.0 + hi).powi(years as i32))
            }
            None => Ok(1.0),
        }
    };
    let mut dearest = (String::new(), 0.0);
    for (i, p) in raw.placement.iter().enumerate() {
        let path = format!("placement[{i}].weekly_cost");
        let weekly = upper(&p.weekly_cost, &path);
        WEEKLY.check(weekly, &path, "the weekly cost reaches")?;
        let grown =
            weekly * growth_over(p.inflation.as_ref(), &format!("placement[{i}].inflation"))?;
        if grown > dearest.1 {
            dearest = (path, grown);
        }
    }
    // Every child at once in the dearest placement, for a 53-week year.
    terms.push((dearest.0, dearest.1 * 53.0 * children));
    if let Some(c) = &raw.care_leavers {
        let weekly = upper(&c.weekly_cost, "care_leavers.weekly_cost");
        WEEKLY.check(
            weekly,
            "care_leavers.weekly_cost",
            "the weekly cost reaches",
        )?;
        let grown = weekly * growth_over(c.inflation.as_ref(), "care_leavers.inflation")?;
        terms.push(("care_leavers.weekly_cost".into(), grown * 53.0 * children));
    }
    let mut yearly: Vec<(String, f64)> = Vec::new();
    for (i, l) in raw.cost_line.iter().enumerate() {
        yearly.extend(per_year(
            &l.per_year,
            &format!("cost_line[{i}].per_year"),
            years,
        ));
    }
    for (i, r) in raw.intervention.iter().enumerate() {
        if let Some(c) = &r.cost_per_year {
            yearly.extend(per_year(
                c,
                &format!("intervention[{i}].cost_per_year"),
                years,
            ));
        }
    }
    for (i, inv) in raw.investment.iter().enumerate() {
        yearly.extend(per_year(
            &inv.per_year,
            &format!("investment[{i}].per_year"),
            years,
        ));
    }
    for (i, s) in raw.saving.iter().enumerate() {
        for (y, a) in s.per_year.iter().enumerate() {
            yearly.push((format!("saving[{i}].per_year[{y}]"), a.to_f64().abs()));
        }
    }
    if let Some(b) = &raw.budget {
        for (y, a) in b.per_year.iter().enumerate() {
            AMOUNT.check(
                a.to_f64().abs(),
                &format!("budget.per_year[{y}]"),
                "the budget is",
            )?;
        }
    }
    for (path, a) in &yearly {
        AMOUNT.check(*a, path, "the amount reaches, in size,")?;
    }
    // Amounts of a year add up; a list's amounts fall one in each year, so
    // each list counts once, at its largest.
    let mut lines: Vec<(String, f64)> = Vec::new();
    for (path, a) in yearly {
        let line = path.split('[').take(2).collect::<Vec<_>>().join("[");
        match lines.iter_mut().find(|(l, _)| *l == line) {
            Some((_, most)) => *most = most.max(a),
            None => lines.push((line, a)),
        }
    }
    terms.extend(lines);
    let total: f64 = terms.iter().map(|t| t.1).sum();
    if total.is_nan() || total > MAX_YEAR_TOTAL {
        let largest = terms
            .iter()
            .max_by(|a, b| a.1.total_cmp(&b.1))
            .map_or("placement".to_string(), |t| t.0.clone());
        return err(
            largest,
            format!(
                "at the top of every input's range a year could cost £{}, beyond the \
                 £{} that carecast adds up exactly; this is the largest part",
                show(total),
                show(MAX_YEAR_TOTAL)
            ),
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    fn config(extra: &str) -> std::result::Result<crate::model::Model, crate::error::ConfigError> {
        let text = format!(
            "name = \"limits\"\n[horizon]\nstart = \"2024-04\"\nyears = 3\n\n\
             [[placement]]\nid = \"a\"\nweekly_cost = 500\ninitial = 10\n\n\
             [exits]\nmean_months = {{ a = 24 }}\n\n{extra}"
        );
        crate::config::parse(&text, "l.toml")
    }

    #[test]
    fn a_config_inside_the_limits_passes() {
        config("[entries]\nper_year = 20\ntrend = 0.05\nmix = { a = 1 }\n").unwrap();
    }

    #[test]
    fn a_trend_beyond_its_limit_names_the_field() {
        let e = config("[entries]\nper_year = 20\ntrend = 100\nmix = { a = 1 }\n").unwrap_err();
        assert_eq!(e.path, "entries.trend", "{e}");
    }

    #[test]
    fn a_dispersion_that_lets_months_bring_a_run_past_its_limit_is_refused() {
        // Mean entrants of 200,000 over ten years are within the limit, but
        // with a dispersion of 0.0001 a month's count is a gamma-mixed
        // Poisson with a tail far beyond it: runs ran out of memory.
        let at = |k: &str| {
            let text = format!(
                "name = \"nb\"\n[horizon]\nstart = \"2024-04\"\nyears = 10\n\
                 [[placement]]\nid = \"a\"\nweekly_cost = 700\ninitial = 100\n\
                 [entries]\nper_year = 20000\ndispersion = {k}\nmix = {{ a = 1 }}\n\
                 [exits]\nmean_months = {{ a = 1000 }}\n"
            );
            crate::config::parse(&text, "nb.toml")
        };
        for k in [
            "0.0001",
            "0.1",
            "{ dist = \"uniform\", min = 0.05, max = 5 }",
        ] {
            let e = at(k).unwrap_err();
            assert_eq!(e.path, "entries.dispersion", "{k}: {e}");
            assert!(e.message.contains("1 in 10¹⁵"), "{e}");
        }
        // A dispersion of 1 (a month's sd about its mean) is within it.
        at("1").unwrap();
        // Fuzzing found a panic inside the gamma's survival function for a
        // dispersion of 10⁶ (an argument beyond its range): extremes are
        // answered, never a panic.
        at("1000000").unwrap();
        at("1e14").unwrap();
        assert_eq!(at("1e-300").unwrap_err().path, "entries.dispersion");
        // A gamma of shape 1,200 and mean 200,000: its 1 − 10⁻¹⁵ quantile
        // is about 8.2 sd above the mean (the normal's is 7.9; the gamma's
        // right tail is a little longer).
        let q = super::overdispersed(20_000.0 / 12.0, 120.0, 10.0);
        let sd = (120.0f64 * 10.0).sqrt() * 20_000.0 / 12.0 / 10.0;
        assert!(
            (q - 200_000.0) / sd > 7.9 && (q - 200_000.0) / sd < 9.0,
            "{q}"
        );
    }

    #[test]
    fn entries_compounding_past_the_yearly_limit_are_refused() {
        let e = config("[entries]\nper_year = 60000\ntrend = 0.9\nmix = { a = 1 }\n").unwrap_err();
        assert_eq!(e.path, "entries.trend", "{e}");
        assert!(e.message.contains("year 2"), "{e}");
    }

    #[test]
    fn amounts_that_could_overflow_a_year_are_refused() {
        let lines: String = (0..100)
            .map(|i| format!("[[cost_line]]\nid = \"l{i}\"\nper_year = -1e11\n"))
            .collect();
        let e = config(&lines).unwrap_err();
        assert!(e.path.starts_with("cost_line["), "{e}");
        assert!(e.message.contains("adds up exactly"), "{e}");
        let e = config("[[cost_line]]\nid = \"x\"\nper_year = -1e13\n").unwrap_err();
        assert_eq!(e.path, "cost_line[0].per_year", "{e}");
    }

    #[test]
    fn a_weekly_cost_with_a_heavy_tail_is_checked_at_its_tail() {
        let e = crate::config::parse(
            "name = \"x\"\n[horizon]\nstart = \"2024-04\"\nyears = 1\n[[placement]]\nid = \"a\"\n\
             weekly_cost = { dist = \"lognormal\", median = 1000, p90 = 1e6 }\ninitial = 1\n\
             [exits]\nmean_months = { a = 24 }\n",
            "l.toml",
        )
        .unwrap_err();
        assert_eq!(e.path, "placement[0].weekly_cost", "{e}");
    }
}
