//! `carecast calibrate`: estimates the demand part of a config from a
//! council's SSDA903 returns and writes a runnable config.
//!
//! - [`ssda903`] reads the returns (and reports the rows it skips);
//! - [`mapping`] maps placement codes to placement types;
//! - [`periods`] turns episodes into periods of care;
//! - [`estimate`] computes the rates by occurrence / exposure;
//! - [`write`](mod@write) writes the config text.

pub mod date;
pub mod estimate;
pub mod mapping;
pub mod periods;
pub mod ssda903;
pub mod write;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use crate::config;
use crate::error::Error;
use date::Day;
use estimate::{AgeBand, Estimates};
use mapping::{DEFAULT_PLACEMENTS, Mapping};
use periods::Spell;
use ssda903::Data;

/// The age bands of a calibrated config without a base.
pub fn default_bands() -> Vec<AgeBand> {
    [
        ("0-4", 0, 5),
        ("5-9", 5, 10),
        ("10-15", 10, 16),
        ("16-17", 16, 18),
    ]
    .iter()
    .map(|(id, from, to)| AgeBand {
        id: id.to_string(),
        from: *from,
        to: *to,
    })
    .collect()
}

/// Parses the calibration date and returns the first day of the horizon.
///
/// - `YYYY-MM`, or the first day of a month (`2023-04-01`, `01/04/2023`):
///   the horizon starts that day, and the stock is the children in care at
///   the end of the day before;
/// - the last day of a month (`2023-03-31`, `31/03/2023`), as councils date
///   their data: the stock is the children in care at the end of that day,
///   and the horizon starts the day after (1 April).
///
/// Any other day is an error: the model's months start on the first.
pub fn parse_at(text: &str) -> Result<Day, Error> {
    let bad = || {
        Error::Usage(format!(
            "--at {text:?}: expected a month (2023-04), its first day (2023-04-01 or 01/04/2023), or the last day of the month before (2023-03-31 or 31/03/2023)"
        ))
    };
    let day = match Day::parse(text) {
        Some(d) => d,
        None => {
            let ym = crate::model::YearMonth::parse(text.trim()).map_err(|_| bad())?;
            Day::from_ymd(ym.year, ym.month, 1).ok_or_else(bad)?
        }
    };
    let (y, m, d) = day.ymd();
    if d == 1 {
        return Ok(day);
    }
    if d == date::days_in_month(y, m) {
        return Ok(Day(day.0 + 1));
    }
    Err(Error::Usage(format!(
        "--at {text:?}: the model's months start on the first; give the last day of a month (in care at the end of that day, e.g. {}) or the first day of the next (e.g. {})",
        Day(Day::month_start(day.month_index()).0 - 1),
        Day::month_start(day.month_index())
    )))
}

/// A base config: its validated model and its document.
pub struct BaseConfig {
    pub path: PathBuf,
    pub doc: toml::Table,
    pub bands: Option<Vec<AgeBand>>,
    pub placements: Vec<String>,
    pub fy_start_month: u32,
    /// The first month of the base's horizon (year, month).
    pub start: (i32, u32),
    /// Financial years of the base's horizon: its amounts per year.
    pub years: usize,
    pub mapping: indexmap::IndexMap<String, String>,
    pub name: String,
}

/// Refuses a base whose horizon starts in another month than the one
/// calibrated at: its amounts by year (budget, cost lines, savings) belong
/// to its own financial years, and the config written starts at `at`, so
/// they would silently move by the difference.
pub fn check_base_start(base: &BaseConfig, at: Day) -> Result<(), Error> {
    let (y, m, _) = at.ymd();
    let (by, bm) = base.start;
    if (y, m) == (by, bm) {
        return Ok(());
    }
    let day_before = Day::from_ymd(by, bm, 1).map(|d| Day(d.0 - 1));
    Err(Error::Usage(format!(
        "--base {}: its horizon starts {by:04}-{bm:02} but --at starts the calibrated horizon {y:04}-{m:02}; the base's amounts by financial year (budget, cost lines, savings) would be applied {} {} than the base meant them, not realigned. Calibrate at the day before the base's start{} (data to that day are needed), or change the base's [horizon] start to {y:04}-{m:02} and its yearly amounts to match",
        base.path.display(),
        match ((y * 12 + m as i32) - (by * 12 + bm as i32)).abs() {
            1 => "1 month".to_string(),
            n => format!("{n} months"),
        },
        if (y, m) < (by, bm) {
            "earlier"
        } else {
            "later"
        },
        day_before
            .map(|d| format!(" (--at {d})"))
            .unwrap_or_default(),
    )))
}

/// Loads and validates a base config.
pub fn load_base(path: &Path) -> Result<BaseConfig, Error> {
    let cfg = config::load_config(path)?;
    let text = cfg.text.clone();
    let model = &cfg.scenarios[0].model;
    let doc: toml::Table = text.parse().map_err(|e: toml::de::Error| {
        Error::Usage(format!("{}: {}", path.display(), e.message()))
    })?;
    let mapping = doc
        .get("calibration")
        .and_then(|c| c.get("mapping"))
        .and_then(|m| m.as_table())
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
                .collect()
        })
        .unwrap_or_default();
    Ok(BaseConfig {
        path: path.to_path_buf(),
        bands: model.ages.tracked.then(|| {
            model
                .ages
                .bands
                .iter()
                .map(|b| AgeBand {
                    id: b.id.clone(),
                    from: b.from_years,
                    to: b.to_years,
                })
                .collect()
        }),
        placements: model.placements.iter().map(|p| p.id.clone()).collect(),
        fy_start_month: model.calendar.fy_start_month,
        start: (model.calendar.start.year, model.calendar.start.month),
        years: model.calendar.years.len(),
        name: model.name.clone(),
        mapping,
        doc,
    })
}

/// The data, mapped to placement types and cut into spells.
pub struct Prepared {
    pub data: Data,
    pub spells: Vec<Spell>,
    pub bands: Vec<AgeBand>,
    pub placements: Vec<String>,
}

/// Reads nothing: maps `data` with the mapping (and the base's placements
/// when given) and builds the spells.
pub fn prepare(mut data: Data, base: Option<&BaseConfig>) -> Result<Prepared, Error> {
    let mapping = match base {
        Some(b) => Mapping::with_overrides(&b.mapping),
        None => Mapping::default(),
    };
    // The placement types: the base's, or the default ones the data use
    // (plus any the mapping adds), in the default order.
    let used: Vec<&str> = {
        let mut v: Vec<&str> = Vec::new();
        for e in &data.episodes {
            if let Some(id) = mapping.placement_of(&e.place, &e.provider)
                && !v.contains(&id)
            {
                v.push(id);
            }
        }
        v
    };
    let placements: Vec<String> = match base {
        Some(b) => {
            let missing: Vec<String> = data
                .episodes
                .iter()
                .filter_map(|e| {
                    let id = mapping.placement_of(&e.place, &e.provider)?;
                    (!b.placements.iter().any(|p| p == id))
                        .then(|| format!("{}/{} → {id}", e.place, e.provider))
                })
                .collect::<std::collections::BTreeSet<_>>()
                .into_iter()
                .collect();
            if !missing.is_empty() {
                return Err(Error::Usage(format!(
                    "{}: the data have placements the base config does not declare ({}); add a [calibration.mapping] table mapping these codes to its placements, e.g. \"U4/PR4\" = \"ifa\"",
                    b.path.display(),
                    missing.join(", ")
                )));
            }
            b.placements.clone()
        }
        None => {
            let mut out: Vec<String> = DEFAULT_PLACEMENTS
                .iter()
                .map(|(id, _)| id.to_string())
                .filter(|id| used.contains(&id.as_str()))
                .collect();
            for id in used {
                if !out.iter().any(|p| p == id) {
                    out.push(id.to_string());
                }
            }
            out
        }
    };
    let index = |e: &ssda903::Episode| {
        mapping
            .placement_of(&e.place, &e.provider)
            .and_then(|id| placements.iter().position(|p| p == id))
    };
    // Every SSDA903 code has a type in the default mapping, and overrides
    // only change targets; an episode without one is reported all the same.
    let mut unmapped = Vec::new();
    data.episodes.retain(|e| {
        let ok = index(e).is_some();
        if !ok {
            unmapped.push(ssda903::Problem {
                file: PathBuf::new(),
                row: e.row,
                reason: format!(
                    "child {}: placement {}/{} has no placement type in the mapping",
                    e.child, e.place, e.provider
                ),
            });
        }
        ok
    });
    data.problems.extend(unmapped);
    let spells = periods::spells(&data, |e| index(e).unwrap_or(0));
    let bands = base
        .and_then(|b| b.bands.clone())
        .unwrap_or_else(default_bands);
    Ok(Prepared {
        data,
        spells,
        bands,
        placements,
    })
}

/// The months of data before `at` available for the window: at most
/// `window`, and none before the first return.
pub fn window_months(data: &Data, at: Day, window: usize) -> Result<usize, Error> {
    let folder = || data.folder.display();
    let (Some(first), Some(last)) = (data.first_day(), data.last_day()) else {
        return Err(Error::Usage(format!(
            "{}: the SSDA903 folder holds no returns",
            folder()
        )));
    };
    let eve = Day(at.0 - 1);
    if at > Day(last.0 + 1) {
        return Err(Error::Usage(format!(
            "{}: the returns end on {last}, before --at (in care at the end of {eve}): the stock at that date is not known",
            folder()
        )));
    }
    let available = at.month_index() - first.month_index();
    if available < 1 {
        return Err(Error::Usage(format!(
            "{}: the returns begin on {first}, not before --at (in care at the end of {eve}): there is no data before it",
            folder()
        )));
    }
    Ok(window.min(available as usize))
}

/// What `calibrate` asks for.
#[derive(Clone, Debug)]
pub struct Request {
    /// The first day of the horizon (see [`parse_at`]).
    pub at: Day,
    pub window: usize,
    pub years: usize,
    pub uncertain: bool,
    pub trend: write::TrendUse,
}

/// Estimates at `req.at` and writes the config text.
pub fn calibrate_prepared(
    prep: &Prepared,
    base: Option<&BaseConfig>,
    req: &Request,
    history: Vec<(String, String, f64)>,
    history_source: Option<String>,
) -> Result<(Estimates, String), Error> {
    let window = window_months(&prep.data, req.at, req.window)?;
    let est = estimate::estimate(
        &prep.spells,
        req.at,
        window,
        &prep.bands,
        &prep.placements,
        prep.data.first_day().unwrap_or(req.at),
    );
    let d = &prep.data;
    let (first_year, last_year) = (
        d.years.first().copied().unwrap_or(0),
        d.years.last().copied().unwrap_or(0),
    );
    // The collection year holding the day before the date: the last whose
    // data the estimates use.
    let (ey, em, _) = Day(req.at.0 - 1).ymd();
    let used_to = if em >= 4 { ey + 1 } else { ey };
    let read = format!(
        "{} episodes after removing {} repeated in later returns; {} short-break episodes (LS V3/V4) left out; {} rows skipped as unusable",
        d.episodes.len(),
        d.duplicates,
        d.respite,
        d.problems.len()
    );
    let used = if used_to < last_year {
        format!(
            "Returns {first_year}–{last_year} read ({read}). Only data before {} were used for the estimates: the returns {first_year}–{used_to}, {} episodes starting before that day; the later returns give only the observed history.",
            req.at,
            d.episodes.iter().filter(|e| e.start < req.at).count()
        )
    } else {
        format!("Returns {first_year}–{last_year}: {read}.")
    };
    let provenance = vec![
        used,
        format!(
            "{} periods in care; {} children in the header tables.",
            prep.spells.len(),
            d.dob.len()
        ),
    ];
    let opts = write::WriteOptions {
        format: write::Format::supported(),
        name: match base {
            Some(b) => format!("{} (calibrated at {})", b.name, req.at),
            None => format!("Calibrated from SSDA903 at {}", req.at),
        },
        years: req.years,
        fy_start_month: base.map_or(4, |b| b.fy_start_month),
        uncertain: req.uncertain,
        trend: req.trend,
        provenance,
        history,
        history_source,
    };
    let text = write::config_text(
        &est,
        base.map(|b| write::Base { doc: &b.doc }).as_ref(),
        &opts,
    );
    // The config written must run: check it as `run` would.
    config::parse_config(&text, "the calibrated config").map_err(|e| {
        Error::Runtime(format!(
            "the calibrated config does not validate (a bug): {e}"
        ))
    })?;
    Ok((est, text))
}

/// A summary of what was read and estimated, for people.
pub fn summary(prep: &Prepared, est: &Estimates) -> String {
    let d = &prep.data;
    let mut s = String::new();
    let _ = writeln!(
        s,
        "Read {} return(s) ({}): {} episodes, {} repeated in later returns merged, {} short breaks left out, {} rows skipped",
        d.years.len(),
        d.years
            .iter()
            .map(|y| y.to_string())
            .collect::<Vec<_>>()
            .join(", "),
        d.episodes.len(),
        d.duplicates,
        d.respite,
        d.problems.len()
    );
    if d.corrected > 0 {
        let _ = writeln!(
            s,
            "{} episodes overlapping one of a later return were corrected by it (the later return's dates kept)",
            d.corrected
        );
    }
    let _ = writeln!(
        s,
        "Window: {} months from {} to the day before {}; {} periods in care",
        est.window_months,
        est.window_start,
        est.at,
        prep.spells.len()
    );
    let stock = est.stock_by_band();
    let total: u32 = stock.iter().flatten().sum();
    let _ = writeln!(s, "In care at {}: {total}", est.at);
    let mut rows = vec![
        std::iter::once("Placement".to_string())
            .chain(est.bands.iter().map(|b| b.id.clone()))
            .chain(["In care", "Entries/yr", "Exits/month (per child)"].map(String::from))
            .collect::<Vec<_>>(),
    ];
    for (p, id) in est.placements.iter().enumerate() {
        let entries: f64 = est.entries.iter().map(|row| row[p].value).sum();
        let exits: f64 = est.exits[p].iter().map(|r| r.events).sum();
        let exposure: f64 = est.exits[p].iter().map(|r| r.exposure).sum();
        rows.push(
            std::iter::once(id.clone())
                .chain(stock[p].iter().map(|n| n.to_string()))
                .chain([
                    stock[p].iter().sum::<u32>().to_string(),
                    format!("{entries:.1}"),
                    if exposure > 0.0 {
                        format!("{:.4}", exits / exposure)
                    } else {
                        "–".into()
                    },
                ])
                .collect(),
        );
    }
    s.push_str(&crate::output::table::layout(&rows));
    let t = &est.entries_total;
    let _ = writeln!(
        s,
        "Entries: {:.1} a year (95% {:.1}–{:.1}); left at 18 in the window: {}",
        t.value, t.low, t.high, est.left_at_18
    );
    if let Some(k) = est.dispersion.size {
        let _ = writeln!(
            s,
            "Monthly entries vary more than Poisson: negative binomial size {k:.1}"
        );
    }
    if let Some(tr) = &est.trend {
        let _ = writeln!(
            s,
            "Trend of entries over {} months: {:+.1}% a year (95% {:+.1}% to {:+.1}%), shrunk to {:+.1}%",
            tr.months,
            100.0 * tr.annual,
            100.0 * tr.low,
            100.0 * tr.high,
            100.0 * tr.shrunk
        );
    }
    if let Some(tic) = &est.time_in_care {
        let parts: Vec<String> = tic
            .bands
            .iter()
            .enumerate()
            .map(|(k, b)| {
                let high = if tic.high[k].is_finite() {
                    format!("{:.2}", tic.high[k])
                } else {
                    "∞".to_string()
                };
                format!(
                    "from {b} months {:.2} (95% {:.2}–{high})",
                    tic.factor[k], tic.low[k]
                )
            })
            .collect();
        let _ = writeln!(
            s,
            "Exit hazard by time in care, relative to 6–24 months: {}",
            parts.join(", ")
        );
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn at_is_a_month_its_first_day_or_the_last_day_of_the_month_before() {
        let april = Day::from_ymd(2023, 4, 1).unwrap();
        for text in [
            "2023-04",
            "2023-04-01",
            "01/04/2023",
            "2023-03-31",
            "31/03/2023",
        ] {
            assert_eq!(parse_at(text).unwrap(), april, "{text}");
        }
        // The last day of February, in a leap year and not.
        assert_eq!(
            parse_at("29/02/2024").unwrap(),
            Day::from_ymd(2024, 3, 1).unwrap()
        );
        assert_eq!(
            parse_at("2023-02-28").unwrap(),
            Day::from_ymd(2023, 3, 1).unwrap()
        );
        for bad in [
            "2023-03-30",
            "15/04/2023",
            "2024-02-28",
            "2023-13",
            "31/04/2023",
            "x",
        ] {
            assert!(matches!(parse_at(bad), Err(Error::Usage(_))), "{bad}");
        }
    }
}
