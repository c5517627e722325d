//! `carecast backtest`: how well would carecast have forecast the past?
//!
//! Calibrates on the data before a date, writes the month-end counts the
//! data show after it (total, by placement type and by age band) into the
//! config as `[history]`, runs the config, and scores each observed count
//! against its simulated distribution with [`crate::score`]: coverage of
//! the P5–P95 and P25–P75 bands, mean error and pinball loss.

use crate::calibrate::date::Day;
use crate::calibrate::estimate::AgeBand;
use crate::calibrate::{BaseConfig, Prepared, Request, calibrate_prepared};
use crate::config;
use crate::engine::{self, Settings};
use crate::error::Error;
use crate::report::Report;
use crate::score::{Point, Score};

/// Month-end counts observed in the data for the `months` months from
/// `at`: (series, `YYYY-MM`, count). Months the data do not reach (after the
/// last return) are left out.
pub fn observed(prep: &Prepared, at: Day, months: usize) -> Vec<(String, String, f64)> {
    let Some(last) = prep.data.last_day() else {
        return Vec::new();
    };
    let n_p = prep.placements.len();
    let n_b = prep.bands.len();
    let mut out = Vec::new();
    let mut by_series: Vec<Vec<(String, f64)>> = vec![Vec::new(); 1 + n_p + n_b];
    for k in 0..months as i32 {
        let month = at.month_index() + k;
        let day = Day(Day::month_start(month + 1).0 - 1);
        if day > last {
            break;
        }
        let mut placement = vec![0.0; n_p];
        let mut band = vec![0.0; n_b];
        for spell in &prep.spells {
            let Some(seg) = spell.on(day) else { continue };
            let age = spell.dob.months_of_age(day);
            if !(0..crate::model::AGE_CELLS as i32).contains(&age) {
                continue;
            }
            placement[seg.placement] += 1.0;
            band[band_of(&prep.bands, age)] += 1.0;
        }
        let label = format!(
            "{:04}-{:02}",
            month.div_euclid(12),
            month.rem_euclid(12) + 1
        );
        by_series[0].push((label.clone(), placement.iter().sum()));
        for p in 0..n_p {
            by_series[1 + p].push((label.clone(), placement[p]));
        }
        for b in 0..n_b {
            by_series[1 + n_p + b].push((label.clone(), band[b]));
        }
    }
    let names = std::iter::once("total".to_string())
        .chain(prep.placements.iter().map(|p| format!("placement:{p}")))
        .chain(prep.bands.iter().map(|b| format!("band:{}", b.id)));
    for (name, points) in names.zip(by_series) {
        for (month, v) in points {
            out.push((name.clone(), month, v));
        }
    }
    out
}

fn band_of(bands: &[AgeBand], age_months: i32) -> usize {
    let years = (age_months / 12) as u32;
    bands
        .iter()
        .position(|b| b.from <= years && years < b.to)
        .unwrap_or(bands.len() - 1)
}

/// Financial years needed to cover `months` months from `at`.
pub fn years_for(at: Day, months: usize, fy_start_month: u32) -> usize {
    let (_, m, _) = at.ymd();
    let into_year = (m + 12 - fy_start_month) % 12;
    (into_year as usize + months).div_ceil(12).max(1)
}

/// What a backtest found.
pub struct Backtest {
    /// The calibrated config with the observed counts as `[history]`.
    pub config_text: String,
    /// Months of the horizon the data cover.
    pub months: usize,
    pub points: Vec<Point>,
    pub all: Option<Score>,
    pub series: Vec<Score>,
}

/// Calibrates at `req.at` on the data before it, simulates `horizon`
/// months and scores them against the data after it.
pub fn backtest(
    prep: &Prepared,
    base: Option<&BaseConfig>,
    req: &Request,
    horizon: usize,
    settings: &Settings,
) -> Result<Backtest, Error> {
    let history = observed(prep, req.at, horizon);
    let months = history.iter().filter(|(s, _, _)| s == "total").count();
    if months == 0 {
        return Err(Error::Usage(format!(
            "--at {}: the returns end before the first month after it, so there is nothing to compare with",
            req.at
        )));
    }
    let needed = years_for(req.at, months, base.map_or(4, |b| b.fy_start_month));
    // A base's amounts are per year of its horizon: keep its length.
    let years = match base {
        Some(b) if b.years < needed => {
            return Err(Error::Usage(format!(
                "{}: its horizon has {} financial year(s), fewer than the {needed} the backtest's {months} months need",
                b.path.display(),
                b.years
            )));
        }
        Some(b) => b.years,
        None => needed,
    };
    let req = Request {
        years,
        ..req.clone()
    };
    let (_, text) = calibrate_prepared(
        prep,
        base,
        &req,
        history,
        Some(format!("SSDA903 month-end counts after {}", req.at)),
    )?;
    let cfg = config::parse_config(&text, "the backtest config")?;
    let report = engine::with_threads(settings.threads, || -> Result<Report, Error> {
        let runs = engine::run_config(&cfg, settings, &|_| {})?;
        Ok(Report::for_config(&cfg, &runs, settings))
    })??;
    let model = &cfg.scenarios[0].model;
    let scenario = &report.scenarios[0];
    let points = match &model.history {
        Some(h) => crate::score::points(model, h, &scenario.months),
        None => Vec::new(),
    };
    Ok(Backtest {
        config_text: text,
        months,
        all: Score::of("all", &points),
        series: crate::score::by_series(&points),
        points,
    })
}

/// The per-month points as CSV: series, month, observed, mean, P5 … P95,
/// and whether the count fell within P5–P95 and P25–P75.
pub fn points_csv(points: &[Point]) -> String {
    let mut out = String::from(
        "series,month,observed,mean,p5,p25,p50,p75,p95,in_p5_p95,in_p25_p75,pinball\n",
    );
    for p in points {
        let f = &p.forecast;
        out.push_str(&format!(
            "{},{},{},{},{},{},{},{},{},{},{},{:.4}\n",
            p.series,
            p.month,
            p.observed,
            f.mean,
            f.p5,
            f.p25,
            f.p50,
            f.p75,
            f.p95,
            p.in_90(),
            p.in_50(),
            p.pinball()
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn financial_years_cover_the_horizon() {
        let april = Day::from_ymd(2022, 4, 1).unwrap();
        assert_eq!(years_for(april, 24, 4), 2);
        assert_eq!(years_for(april, 25, 4), 3);
        let october = Day::from_ymd(2022, 10, 1).unwrap();
        assert_eq!(years_for(october, 12, 4), 2);
        assert_eq!(years_for(october, 6, 4), 1);
    }
}
