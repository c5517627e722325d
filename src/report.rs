//! The statistics of a simulation, in the shape of the JSON contract
//! (SPEC §3.2). Every output format is rendered from a [`Report`].

use indexmap::IndexMap;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use std::path::Path;

use crate::engine::{ScenarioRuns, Settings};
use crate::error::Error;
use crate::model::Model;
use crate::model::layout::YearField;
use crate::stats::{Overspend, Summary, round_dp};

/// Decimal places kept for counts of children.
const COUNT_DP: i32 = 4;

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Report {
    pub carecast_version: String,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// `risk` (random runs) or `central` (one expected-value projection).
    pub mode: String,
    pub runs: u64,
    pub seed: u64,
    pub scenarios: Vec<ScenarioReport>,
    pub differences: Vec<Difference>,
    /// The config text as run, so a report can be reproduced from its JSON
    /// alone (last, so the keys before it keep their places).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config: Option<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ScenarioReport {
    pub id: String,
    pub years: Vec<YearReport>,
    pub months: Vec<MonthReport>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct YearReport {
    pub fy: String,
    /// Simulated months in the year (12 unless the horizon starts mid-year).
    pub months: usize,
    pub partial: bool,
    /// The envelope the year's cost is compared with (pro rata for a partial year).
    pub budget: f64,
    pub cost: Summary,
    pub overspend: Overspend,
    pub lac_end: Summary,
    pub entries: Summary,
    pub exits: Summary,
    pub left_at_18: Summary,
    pub prevented: IndexMap<String, Summary>,
    pub components: IndexMap<String, Summary>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct MonthReport {
    pub month: String,
    pub lac: Summary,
    pub lac_by_placement: IndexMap<String, Summary>,
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub lac_by_band: IndexMap<String, Summary>,
}

/// The difference between two scenarios (filled in by scenario comparison).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Difference {
    pub from: String,
    pub to: String,
    /// Per financial year, the saving of `to` against `from` (SPEC §3.2).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub years: Vec<DifferenceYear>,
}

/// The saving in one financial year: cost of `from` minus cost of `to`,
/// run by run (common random numbers).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct DifferenceYear {
    pub fy: String,
    pub saving: Summary,
    /// Share of runs in which the saving is positive.
    pub probability_positive: f64,
}

impl Report {
    pub fn new(model: &Model, settings: &Settings, scenarios: &[ScenarioRuns]) -> Report {
        Report {
            carecast_version: env!("CARGO_PKG_VERSION").to_string(),
            name: model.name.clone(),
            description: model.description.clone(),
            mode: if settings.central { "central" } else { "risk" }.to_string(),
            runs: if settings.central { 1 } else { settings.runs },
            seed: settings.seed,
            scenarios: scenarios.iter().map(|s| scenario(model, s)).collect(),
            differences: Vec::new(),
            config: None,
        }
    }
}

fn scenario(model: &Model, runs: &ScenarioRuns) -> ScenarioReport {
    let layout = &runs.layout;
    let summary = |col: usize, dp: i32| Summary::of(&mut runs.column(col)).rounded(dp);

    let years = (0..layout.years)
        .into_par_iter()
        .map(|fy| {
            let year = &model.calendar.years[fy];
            let budget_pence = model.budget_pence(fy);
            let cost_col = runs.column(layout.year(fy, YearField::Cost));
            let cost_pence: Vec<i64> = cost_col
                .iter()
                .map(|c| (c * 100.0).round() as i64)
                .collect();
            let components = layout
                .components
                .iter()
                .enumerate()
                .map(|(c, comp)| (comp.id.clone(), summary(layout.component(fy, c), 2)))
                .collect();
            YearReport {
                fy: year.label.clone(),
                months: year.months,
                partial: year.is_partial(),
                budget: budget_pence as f64 / 100.0,
                cost: Summary::of(&mut cost_col.clone()).rounded(2),
                overspend: Overspend::of(&cost_pence, budget_pence),
                lac_end: summary(layout.year(fy, YearField::LacEnd), COUNT_DP),
                entries: summary(layout.year(fy, YearField::Entries), COUNT_DP),
                exits: summary(layout.year(fy, YearField::Exits), COUNT_DP),
                left_at_18: summary(layout.year(fy, YearField::LeftAt18), COUNT_DP),
                prevented: IndexMap::new(),
                components,
            }
        })
        .collect();

    let months = (0..layout.months)
        .into_par_iter()
        .map(|m| MonthReport {
            month: model.calendar.months[m].date.to_string(),
            lac: summary(layout.lac(m), COUNT_DP),
            lac_by_placement: model
                .placements
                .iter()
                .enumerate()
                .map(|(p, pl)| (pl.id.clone(), summary(layout.lac_placement(m, p), COUNT_DP)))
                .collect(),
            lac_by_band: (0..layout.bands)
                .map(|b| {
                    (
                        model.ages.bands[b].id.clone(),
                        summary(layout.lac_band(m, b), COUNT_DP),
                    )
                })
                .collect(),
        })
        .collect();

    ScenarioReport {
        id: runs.id.clone(),
        years,
        months,
    }
}

impl Report {
    /// Reads a report saved with `--json`, for rendering without re-running.
    /// Unknown keys are ignored (a newer carecast may add some); a missing or
    /// mistyped key is an error naming the file, the key path and the line.
    pub fn read(path: &Path) -> Result<Report, Error> {
        let fail = |message: String| Error::Results {
            path: path.to_path_buf(),
            message,
        };
        let bytes =
            std::fs::read(path).map_err(|e| fail(format!("cannot read the results: {e}")))?;
        let mut de = serde_json::Deserializer::from_slice(&bytes);
        let report: Report = serde_path_to_error::deserialize(&mut de).map_err(|e| {
            let at = e.path().to_string();
            let inner = e.into_inner();
            let key = if at == "." { String::new() } else { format!("{at}: ") };
            fail(format!(
                "not a carecast results file (the JSON written by `carecast run --json`): {key}{inner}"
            ))
        })?;
        de.end()
            .map_err(|e| fail(format!("unexpected text after the JSON object: {e}")))?;
        Ok(report)
    }
}

/// Rounds money to pence (exposed for the output modules).
pub fn pence(x: f64) -> f64 {
    round_dp(x, 2)
}
