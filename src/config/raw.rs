//! The config file as written: serde types that mirror the TOML one to one.
//!
//! Every table denies unknown keys, so a misspelt key is an error rather than
//! a silently ignored line. Nothing here is checked beyond its type (and
//! text shown in reports: labels, names and descriptions hold no control
//! characters); the checks that need the whole config live in `validate`.

use indexmap::IndexMap;
use serde::{Deserialize, Deserializer};

use crate::config::money::{Amount, Number};
use crate::dist::RawDist;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawConfig {
    #[serde(deserialize_with = "one_line")]
    pub name: String,
    #[serde(default, deserialize_with = "lines")]
    pub description: Option<String>,
    pub simulation: Option<RawSimulation>,
    pub horizon: RawHorizon,
    #[serde(default)]
    pub age_band: Vec<RawAgeBand>,
    #[serde(default)]
    pub placement: Vec<RawPlacement>,
    pub entries: Option<RawEntries>,
    pub exits: Option<RawExits>,
    #[serde(default)]
    pub transition: Vec<RawTransition>,
    #[serde(default)]
    pub cost_line: Vec<RawCostLine>,
    pub care_leavers: Option<RawCareLeavers>,
    /// Without a budget, runs report demand and cost but no overspend.
    pub budget: Option<RawBudget>,
    #[serde(default)]
    pub intervention: Vec<RawIntervention>,
    #[serde(default)]
    pub shock: Vec<RawShock>,
    #[serde(default)]
    pub saving: Vec<RawSaving>,
    #[serde(default)]
    pub investment: Vec<RawInvestment>,
    /// Rank correlations between uncertain inputs.
    #[serde(default)]
    pub correlation: Vec<RawCorrelation>,
    /// Funds other than the council's budget.
    #[serde(default)]
    pub fund: Vec<RawFund>,
    /// Income tied to activity, and fixed grants.
    #[serde(default)]
    pub income: Vec<RawIncome>,
    /// Posts and their cost.
    #[serde(default)]
    pub staff: Vec<RawStaff>,
    /// Groups of children with their own entries, exits and income.
    #[serde(default)]
    pub cohort: Vec<RawCohort>,
    /// Labels of initiatives named by `initiative` keys.
    #[serde(default)]
    pub initiative: Vec<RawInitiative>,
    /// Scenarios, as patches to the rest of the config (see `config::scenario`).
    #[serde(default)]
    pub scenario: Vec<toml::Table>,
    /// Pairs of scenario ids to compare, `[from, to]`; by default every
    /// scenario is compared with the first.
    pub compare: Option<Vec<[String; 2]>>,
    /// Observed month-end counts, scored against the simulated months.
    pub history: Option<RawHistory>,
    /// Settings `carecast calibrate` reads from a base config.
    pub calibration: Option<RawCalibration>,
}

/// Counts of children in care at the end of past months, keyed `YYYY-MM`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawHistory {
    /// Where the counts come from.
    #[serde(default, deserialize_with = "one_line")]
    pub source: Option<String>,
    #[serde(default)]
    pub total: IndexMap<String, Number>,
    /// Per placement id, month → count.
    #[serde(default)]
    pub by_placement: IndexMap<String, IndexMap<String, Number>>,
    /// Per age band id, month → count.
    #[serde(default)]
    pub by_band: IndexMap<String, IndexMap<String, Number>>,
    /// Cost outturns: financial year (`"2017/18"`) → pounds charged to the
    /// council's budget.
    #[serde(default)]
    pub cost: IndexMap<String, Number>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCalibration {
    /// SSDA903 placement code (`U4`), or code and provider (`U4/PR1`), →
    /// placement id; overrides carecast's default mapping.
    #[serde(default)]
    pub mapping: IndexMap<String, String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSimulation {
    pub runs: Option<u64>,
    pub seed: Option<u64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawHorizon {
    pub start: String,
    pub years: i64,
    pub fy_start_month: Option<i64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawAgeBand {
    pub id: String,
    #[serde(default, deserialize_with = "one_line")]
    pub label: Option<String>,
    /// First age in the band, in whole years.
    pub from: i64,
    /// First age beyond the band, in whole years (the last band ends at 18).
    pub to: i64,
}

/// Why `text`, shown in reports as a label, name or id (or, with `lines`,
/// as a description of several lines), cannot be: it holds a control
/// character (a NUL, an escape, a tab) or a noncharacter, which terminals
/// act on and XML (the HTML report's SVG) forbids.
pub fn check_text(text: &str, lines: bool) -> Result<(), String> {
    let chars: Vec<char> = text.chars().collect();
    let bad = chars.iter().enumerate().find(|&(k, &c)| {
        let line_break = c == '\n' || (c == '\r' && chars.get(k + 1) == Some(&'\n'));
        (c.is_control() && !(lines && line_break)) || matches!(c, '\u{FFFE}' | '\u{FFFF}')
    });
    match bad {
        None => Ok(()),
        Some((k, c)) => Err(format!(
            "{text:?} holds the character U+{:04X} (character {}); expected {}",
            u32::from(*c),
            k + 1,
            if lines {
                "text without control characters other than line breaks"
            } else {
                "one line of text without control characters (no tabs or line breaks)"
            }
        )),
    }
}

/// A label, name or id shown in reports, checked by [`check_text`].
fn one_line<'de, D: Deserializer<'de>, T: Text>(d: D) -> Result<T, D::Error> {
    let value = T::deserialize(d)?;
    if let Some(text) = value.text() {
        check_text(text, false).map_err(serde::de::Error::custom)?;
        if text.trim().is_empty() {
            return Err(serde::de::Error::custom(
                "is empty: give some text, or leave the field out where it is optional (a label \
                 left out shows the id)",
            ));
        }
    }
    Ok(value)
}

/// A description, which may have several lines, checked by [`check_text`].
fn lines<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    let value = Option::<String>::deserialize(d)?;
    if let Some(text) = &value {
        check_text(text, true).map_err(serde::de::Error::custom)?;
    }
    Ok(value)
}

/// A text field, given or optional.
trait Text: for<'de> Deserialize<'de> {
    fn text(&self) -> Option<&str>;
}

impl Text for String {
    fn text(&self) -> Option<&str> {
        Some(self)
    }
}

impl Text for Option<String> {
    fn text(&self) -> Option<&str> {
        self.as_deref()
    }
}

/// A value given once for the whole placement, or per age band as a table
/// keyed by band id. A table with a `dist` key is one distribution, not a
/// table of bands.
#[derive(Debug)]
pub enum RawByBand<T> {
    One(T),
    PerBand(IndexMap<String, T>),
}

fn reread<'de, T: Deserialize<'de>, E: serde::de::Error>(value: toml::Value) -> Result<T, E> {
    T::deserialize(value).map_err(|e| E::custom(e.message()))
}

impl<'de, T: for<'a> Deserialize<'a>> Deserialize<'de> for RawByBand<T> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let value = toml::Value::deserialize(d)?;
        match value {
            toml::Value::Table(table) if !table.contains_key("dist") => {
                let mut out = IndexMap::new();
                for (band, v) in table {
                    let item = reread::<T, D::Error>(v)
                        .map_err(|e| serde::de::Error::custom(format!("band {band:?}: {e}")))?;
                    out.insert(band, item);
                }
                Ok(RawByBand::PerBand(out))
            }
            other => reread(other).map(RawByBand::One),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPlacement {
    pub id: String,
    #[serde(default, deserialize_with = "one_line")]
    pub label: Option<String>,
    pub weekly_cost: RawDist,
    pub inflation: Option<RawDist>,
    pub initial: Option<RawByBand<Number>>,
    /// The initial stock by age instead of by band: `"7" = 3` (children
    /// aged 7, spread over the year's months) or `"17y04m" = 2` (aged 17
    /// years and 4 months).
    pub initial_by_age: Option<IndexMap<String, Number>>,
    pub capacity: Option<Number>,
    pub overflow: Option<String>,
    /// The initial stock's time in care: `{ shares = [..] }` or
    /// `{ counts = [..] }`, one entry per band of `exits.time_in_care`, or a
    /// table of these keyed by age band.
    pub initial_time_in_care: Option<RawInitialTimeInCare>,
    /// The fund its cost is charged to (default the council's budget).
    pub funding: Option<String>,
    /// Its budget line (default the remainder, `other`).
    pub line: Option<String>,
}

/// How a placement's initial stock splits by time in care.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTimeInCareSplit {
    pub shares: Option<Vec<Number>>,
    pub counts: Option<Vec<Number>>,
}

#[derive(Debug)]
pub enum RawInitialTimeInCare {
    One(RawTimeInCareSplit),
    PerBand(IndexMap<String, RawTimeInCareSplit>),
}

impl<'de> Deserialize<'de> for RawInitialTimeInCare {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let value = toml::Value::deserialize(d)?;
        match value {
            toml::Value::Table(table)
                if !table.contains_key("shares") && !table.contains_key("counts") =>
            {
                let mut out = IndexMap::new();
                for (band, v) in table {
                    if !v.is_table() {
                        // A misspelt `shares` or `counts` reads as a band.
                        return Err(serde::de::Error::custom(format!(
                            "unknown key `{band}`: give `{{ shares = [...] }}` or \
                             `{{ counts = [...] }}`, or a table of these keyed by age band"
                        )));
                    }
                    let item = reread::<RawTimeInCareSplit, D::Error>(v)
                        .map_err(|e| serde::de::Error::custom(format!("band {band:?}: {e}")))?;
                    out.insert(band, item);
                }
                Ok(RawInitialTimeInCare::PerBand(out))
            }
            toml::Value::Table(_) => reread(value).map(RawInitialTimeInCare::One),
            other => Err(serde::de::Error::custom(format!(
                "expected a table, found {}: give `{{ shares = [...] }}` or \
                 `{{ counts = [...] }}`, or a table of these keyed by age band",
                other.type_str()
            ))),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawEntries {
    pub per_year: RawDist,
    pub dispersion: Option<RawDist>,
    pub trend: Option<RawDist>,
    pub seasonality: Option<Vec<Number>>,
    pub mix: Option<IndexMap<String, Number>>,
    pub age_mix: Option<IndexMap<String, Number>>,
    pub mix_by_band: Option<IndexMap<String, IndexMap<String, Number>>>,
    /// Shares of entrants at each age 0–17 (18 numbers summing to 1).
    pub age_by_year: Option<Vec<Number>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawExits {
    #[serde(default)]
    pub mean_months: IndexMap<String, RawByBand<RawDist>>,
    #[serde(default)]
    pub annual_probability: IndexMap<String, RawByBand<RawDist>>,
    pub time_in_care: Option<RawTimeInCare>,
}

/// Factors on the exit hazard by time in the current period of care.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTimeInCare {
    /// Lower bounds in months, the first 0.
    pub bands: Vec<Number>,
    pub factor: RawFactors,
}

/// One list of factors for every placement, or lists by placement id.
#[derive(Debug)]
pub enum RawFactors {
    All(Vec<RawDist>),
    ByPlacement(IndexMap<String, Vec<RawDist>>),
}

impl<'de> Deserialize<'de> for RawFactors {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let value = toml::Value::deserialize(d)?;
        match value {
            toml::Value::Table(_) => reread(value).map(RawFactors::ByPlacement),
            other => reread(other).map(RawFactors::All),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTransition {
    /// An optional name, so that a scenario can change or drop it.
    #[serde(default, deserialize_with = "one_line")]
    pub id: Option<String>,
    pub from: String,
    pub to: String,
    /// Probability that a child moves within a year, or a table of such
    /// probabilities by age band.
    pub annual_rate: RawByBand<RawDist>,
    pub bands: Option<Vec<String>>,
}

/// A money amount for one year: fixed (an exact decimal) or uncertain.
#[derive(Debug)]
pub enum RawMoney {
    Exact(Amount),
    Uncertain(RawDist),
}

impl<'de> Deserialize<'de> for RawMoney {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let value = toml::Value::deserialize(d)?;
        match value {
            toml::Value::Table(_) => reread(value).map(RawMoney::Uncertain),
            other => reread(other).map(RawMoney::Exact),
        }
    }
}

/// One amount for every year, or a list with one amount per year.
#[derive(Debug)]
pub enum RawPerYear<T> {
    Each(Vec<T>),
    All(T),
}

impl<'de, T: for<'a> Deserialize<'a>> Deserialize<'de> for RawPerYear<T> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let value = toml::Value::deserialize(d)?;
        match value {
            toml::Value::Array(items) => {
                let mut out = Vec::with_capacity(items.len());
                for (i, v) in items.into_iter().enumerate() {
                    let item = reread::<T, D::Error>(v)
                        .map_err(|e| serde::de::Error::custom(format!("year {}: {e}", i + 1)))?;
                    out.push(item);
                }
                Ok(RawPerYear::Each(out))
            }
            other => reread(other).map(RawPerYear::All),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCostLine {
    pub id: String,
    #[serde(default, deserialize_with = "one_line")]
    pub label: Option<String>,
    pub per_year: RawPerYear<RawMoney>,
    pub funding: Option<String>,
    pub line: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCareLeavers {
    #[serde(default, deserialize_with = "one_line")]
    pub label: Option<String>,
    pub weekly_cost: RawDist,
    /// Months of support after the 18th birthday.
    pub months: i64,
    /// Care leavers already supported at the start.
    pub initial: Option<Number>,
    pub inflation: Option<RawDist>,
    pub funding: Option<String>,
    pub line: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawBudget {
    pub per_year: Vec<Amount>,
    /// Budget lines within the envelope; what they leave is line `other`.
    #[serde(default)]
    pub line: Vec<RawBudgetLine>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawBudgetLine {
    pub id: String,
    #[serde(default, deserialize_with = "one_line")]
    pub label: Option<String>,
    pub per_year: Vec<Amount>,
}

/// A source of money other than the council's budget.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawFund {
    pub id: String,
    #[serde(default, deserialize_with = "one_line")]
    pub label: Option<String>,
    /// `grant`, `dsg`, `high_needs`, `reserve` or `capital_receipts`.
    pub kind: String,
    /// One amount for the whole horizon …
    pub amount: Option<Amount>,
    /// … or one per financial year.
    pub per_year: Option<Vec<Amount>>,
    /// Last month the fund may be spent, `YYYY-MM`.
    pub until: Option<String>,
}

/// A group of children with its own entries, exits and income
/// (unaccompanied asylum-seeking children above all).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCohort {
    pub id: String,
    #[serde(default, deserialize_with = "one_line")]
    pub label: Option<String>,
    /// Its entrants, in the syntax of `[entries]`.
    pub entries: Option<RawEntries>,
    /// A factor on its children's exit hazards (default 1).
    pub exit_factor: Option<RawDist>,
    /// Its children in care at the start, per placement id: a number, or a
    /// table by age band.
    #[serde(default)]
    pub initial: IndexMap<String, RawByBand<Number>>,
}

/// Income tied to activity, or a fixed grant.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawIncome {
    pub id: String,
    #[serde(default, deserialize_with = "one_line")]
    pub label: Option<String>,
    /// `per_child_week`, `per_leaver_week`, `per_outcome` or `fixed`.
    pub kind: String,
    /// `per_child_week`: the placements it is paid for (default all).
    pub placements: Option<Vec<String>>,
    /// `per_child_week`, `per_leaver_week`: pounds a week …
    pub weekly: Option<RawDist>,
    /// … or, for `per_child_week`, pounds a night: one amount, or a table
    /// by age band id (bands not named earn nothing).
    pub nightly: Option<RawByBand<RawDist>>,
    /// `per_child_week`, `per_leaver_week`: only the children (or the care
    /// leavers) of this cohort.
    pub cohort: Option<String>,
    pub inflation: Option<RawDist>,
    /// `per_outcome`: outcomes attempted per year, the share achieved and
    /// the payment for each.
    pub outcomes_per_year: Option<RawPerYear<RawMoney>>,
    pub success_rate: Option<RawDist>,
    pub payment: Option<RawDist>,
    /// `fixed`: amounts per year.
    pub per_year: Option<RawPerYear<RawMoney>>,
    /// The fund credited (default the council's budget), and the line.
    pub funding: Option<String>,
    pub line: Option<String>,
}

/// Posts and their cost.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawStaff {
    pub id: String,
    #[serde(default, deserialize_with = "one_line")]
    pub label: Option<String>,
    /// Posts (FTE), one number or one per year …
    pub fte: Option<RawPerYear<RawDist>>,
    /// … or one post per this many children in care.
    pub children_per_worker: Option<RawDist>,
    /// Cost per FTE per year of a permanent and of an agency worker.
    pub permanent_cost: RawDist,
    pub agency_cost: Option<RawDist>,
    /// Share of filled posts held by agency workers, one or one per year.
    pub agency_share: Option<RawPerYear<RawDist>>,
    pub vacancy_rate: Option<RawDist>,
    pub inflation: Option<RawDist>,
    pub funding: Option<String>,
    pub line: Option<String>,
}

/// An initiative's label.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawInitiative {
    pub id: String,
    #[serde(default, deserialize_with = "one_line")]
    pub label: Option<String>,
}

/// An edge-of-care or placement programme.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawIntervention {
    pub id: String,
    #[serde(default, deserialize_with = "one_line")]
    pub label: Option<String>,
    /// `prevent_entry`, `exit`, `step_down`, `capacity` or `unit_cost`.
    pub kind: String,
    /// First month of the programme, `YYYY-MM`.
    pub start: String,
    pub ramp_up_months: Option<i64>,
    /// First month without the programme, `YYYY-MM`.
    pub end: Option<String>,
    pub cost_per_year: Option<RawPerYear<RawMoney>>,
    /// `budget` (default) or `grant`.
    pub funding: Option<String>,
    pub delivery_probability: Option<Number>,
    /// Children (or places) per year at full effect.
    pub per_year: Option<RawDist>,
    /// Or the effect as families × success rate × children per family.
    pub families: Option<RawDist>,
    pub success_rate: Option<RawDist>,
    pub children_per_family: Option<RawDist>,
    /// `prevent_entry`: the age bands it works with.
    pub bands: Option<Vec<String>>,
    /// `prevent_entry`: the entry placements it prevents; `exit`: the
    /// placements children leave from.
    pub placements: Option<Vec<String>>,
    /// `exit`: only children in their current period of care for less
    /// than, or for at least, so many months.
    pub in_care_less_than_months: Option<Number>,
    pub in_care_more_than_months: Option<Number>,
    /// `step_down`: from and to placements.
    pub from: Option<String>,
    pub to: Option<String>,
    /// `capacity` and `unit_cost`: the placement affected.
    pub placement: Option<String>,
    /// `unit_cost`: pounds a week added (negative for a reduction) …
    pub change: Option<RawDist>,
    /// … or a factor applied to the weekly cost.
    pub factor: Option<RawDist>,
    /// The budget line of its cost.
    pub line: Option<String>,
    /// The initiative it belongs to (default its own id; `"none"` for none).
    pub initiative: Option<String>,
}

/// A rare event that brings extra children into care.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawShock {
    pub id: String,
    #[serde(default, deserialize_with = "one_line")]
    pub label: Option<String>,
    pub probability_per_year: Option<Number>,
    /// A fixed month, `YYYY-MM`, instead of a probability.
    pub month: Option<String>,
    /// The probability that it happens at all: at most once in the horizon
    /// (in a uniform month, or in `month`).
    pub probability: Option<Number>,
    pub children: RawDist,
    pub spread_months: Option<i64>,
    pub mix: Option<IndexMap<String, Number>>,
    /// Placement mix per age band, overriding `mix`.
    pub mix_by_band: Option<IndexMap<String, IndexMap<String, Number>>>,
    pub age_mix: Option<IndexMap<String, Number>>,
    /// Costs that come with it, full-year amounts, for `cost_months`
    /// months from the month it happens.
    pub cost_per_year: Option<RawPerYear<RawMoney>>,
    pub cost_months: Option<i64>,
    pub funding: Option<String>,
    pub line: Option<String>,
}

/// A savings plan.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSaving {
    pub id: String,
    #[serde(default, deserialize_with = "one_line")]
    pub label: Option<String>,
    /// Planned saving per financial year, exact.
    pub per_year: Vec<Amount>,
    /// Fraction of the plan delivered, drawn once per run (default 1).
    pub delivery: Option<RawDist>,
    /// Chance that the whole plan slips by a year.
    pub slip_probability: Option<Number>,
    /// Levels that continue, and slip as a profile (default), or one-off
    /// amounts lost when they slip.
    pub recurrent: Option<bool>,
    pub funding: Option<String>,
    pub line: Option<String>,
    pub initiative: Option<String>,
}

/// A rank correlation between two uncertain inputs, named by config path.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCorrelation {
    /// An optional name, so that a scenario can change or drop it.
    #[serde(default, deserialize_with = "one_line")]
    pub id: Option<String>,
    pub inputs: Vec<String>,
    pub rank: Number,
}

/// A one-off or recurring investment outside the interventions.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawInvestment {
    pub id: String,
    #[serde(default, deserialize_with = "one_line")]
    pub label: Option<String>,
    pub per_year: RawPerYear<RawMoney>,
    pub funding: Option<String>,
    pub line: Option<String>,
    pub initiative: Option<String>,
}
