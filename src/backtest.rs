//! `carecast backtest`: how well would carecast have forecast the past?
//!
//! Calibrates on the data before a date, writes the month-end counts the
//! data show after it (total, by placement type and by age band) into the
//! config as `[history]`, runs the config, and scores each observed count
//! against its simulated distribution with [`crate::score`]: coverage of
//! the P5–P95 and P25–P75 bands, mean error, pinball loss and the CRPS from
//! the runs themselves.
//!
//! A rolling-origin backtest ([`rolling`]) does this at several dates
//! (`--at` repeated, or `--every 6m` from the first), each calibrated only
//! on the data before it, and scores every series over all origins.

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
    let (runs, report) = engine::with_threads(settings.threads, || -> Result<_, Error> {
        let runs = engine::run_config(&cfg, settings, &|_| {})?;
        let report = Report::for_config(&cfg, &runs, settings);
        Ok((runs, report))
    })??;
    let model = &cfg.scenarios[0].model;
    let scenario = &report.scenarios[0];
    let mut points = match &model.history {
        Some(h) => crate::score::points(model, h, &scenario.months),
        None => Vec::new(),
    };
    // The CRPS of each point from the runs' values of its month and series.
    let layout = &runs[0].layout;
    for p in &mut points {
        let Some(m) = scenario.months.iter().position(|r| r.month == p.month) else {
            continue;
        };
        let column = if p.series == "total" {
            Some(layout.lac(m))
        } else if let Some(id) = p.series.strip_prefix("placement:") {
            model
                .placements
                .iter()
                .position(|x| x.id == id)
                .map(|i| layout.lac_placement(m, i))
        } else if let Some(id) = p.series.strip_prefix("band:") {
            model
                .ages
                .bands
                .iter()
                .position(|x| x.id == id)
                .map(|i| layout.lac_band(m, i))
        } else {
            None
        };
        p.crps = column.map(|c| crate::score::crps(&runs[0].column(c), p.observed));
    }
    Ok(Backtest {
        config_text: text,
        months,
        all: Score::of("all", &points),
        series: crate::score::by_series(&points),
        points,
    })
}

/// Backtests at several origins.
pub struct Rolling {
    /// Each origin and its backtest.
    pub origins: Vec<(Day, Backtest)>,
    /// Every point of every origin together, then each series.
    pub all: Option<Score>,
    pub series: Vec<Score>,
}

/// Backtests at each of `origins`, each calibrated only on the data before
/// it, and scores each series over all of them.
pub fn rolling(
    prep: &Prepared,
    base: Option<&BaseConfig>,
    req: &Request,
    origins: &[Day],
    horizon: usize,
    settings: &Settings,
) -> Result<Rolling, Error> {
    let mut out = Vec::new();
    for at in origins {
        let req = Request {
            at: *at,
            ..req.clone()
        };
        out.push((*at, backtest(prep, base, &req, horizon, settings)?));
    }
    let points: Vec<Point> = out
        .iter()
        .flat_map(|(_, b)| b.points.iter().cloned())
        .collect();
    Ok(Rolling {
        all: Score::of("all", &points),
        series: crate::score::by_series(&points),
        origins: out,
    })
}

/// Parses the `--at` origins of a backtest, in the order given. The same
/// origin given twice (even written two ways, `2021-03-31` and `2021-04`)
/// is refused: it would be scored twice and weigh double in the pooled
/// scores.
pub fn parse_origins(texts: &[String]) -> Result<Vec<Day>, Error> {
    let mut origins: Vec<(Day, &str)> = Vec::with_capacity(texts.len());
    for text in texts {
        let at = crate::calibrate::parse_at(text)?;
        if let Some((_, first)) = origins.iter().find(|(day, _)| *day == at) {
            let same = if *first == text.as_str() {
                format!("--at {text} is given twice")
            } else {
                format!("--at {first} and --at {text} are the same origin")
            };
            return Err(Error::Usage(format!(
                "{same} (the horizon starting {at}); give each origin once"
            )));
        }
        origins.push((at, text));
    }
    Ok(origins.into_iter().map(|(at, _)| at).collect())
}

/// Parses `--every`: a number of months (`6m`, `6`) or years (`1y`).
pub fn parse_every(text: &str) -> Result<u32, Error> {
    let t = text.trim();
    let (n, unit) = match t.strip_suffix(['m', 'y']) {
        Some(n) => (n, t.chars().last()),
        None => (t, Some('m')),
    };
    let months = n
        .parse::<u32>()
        .ok()
        .filter(|n| *n > 0)
        .map(|n| if unit == Some('y') { n * 12 } else { n });
    months.filter(|m| *m <= 120).ok_or_else(|| {
        Error::Usage(format!(
            "--every {text:?}: expected a number of months (6m) or years (1y), at most 10 years"
        ))
    })
}

/// Origins every `step` months from `first` while the data go on after
/// them (at least one month to compare), at most 100.
pub fn origins_every(first: Day, step: u32, last_day: Day) -> Vec<Day> {
    (0..100)
        .map(|k| Day::month_start(first.month_index() + (k * step) as i32))
        .take_while(|at| Day(Day::month_start(at.month_index() + 1).0 - 1) <= last_day)
        .collect()
}

/// The rolling backtest's scores as a table: each series over all origins,
/// then the whole of each origin.
pub fn rolling_table(r: &Rolling) -> String {
    let f = |x: f64| format!("{x:.2}");
    let pct = |x: f64| format!("{:.0}%", 100.0 * x);
    let row = |name: String, s: &Score| {
        vec![
            name,
            s.months.to_string(),
            pct(s.coverage_90),
            pct(s.coverage_50),
            f(s.mean_error),
            s.crps.map_or("–".into(), f),
            f(s.pinball),
        ]
    };
    let mut rows = vec![
        [
            "Series",
            "Points",
            "In P5–P95",
            "In P25–P75",
            "Bias",
            "CRPS",
            "Pinball",
        ]
        .map(String::from)
        .to_vec(),
    ];
    for s in r.all.iter().chain(&r.series) {
        rows.push(row(s.series.clone(), s));
    }
    let mut text = format!(
        "Over {} origin(s): bias = mean of (simulated mean − observed), CRPS and pinball loss in children\n",
        r.origins.len()
    );
    text.push_str(&crate::output::table::layout(&rows));
    if r.origins.len() > 1 {
        let mut rows = vec![
            [
                "Origin",
                "Months",
                "In P5–P95",
                "In P25–P75",
                "Bias",
                "CRPS",
                "Pinball",
            ]
            .map(String::from)
            .to_vec(),
        ];
        for (at, b) in &r.origins {
            if let Some(s) = b.series.iter().find(|s| s.series == "total") {
                let mut cells = row(at.to_string(), s);
                cells[1] = b.months.to_string();
                rows.push(cells);
            }
        }
        text.push_str("\nThe total, origin by origin\n");
        text.push_str(&crate::output::table::layout(&rows));
    }
    text
}

/// The per-month points as CSV: origin, series, month, observed, mean,
/// P5 … P95, whether the count fell within P5–P95 and P25–P75, the pinball
/// loss and the CRPS.
pub fn rolling_csv(r: &Rolling) -> String {
    let mut out = String::from(
        "origin,series,month,observed,mean,p5,p25,p50,p75,p95,in_p5_p95,in_p25_p75,pinball,crps\n",
    );
    for (at, b) in &r.origins {
        for line in points_csv(&b.points).lines().skip(1) {
            out.push_str(&format!("{at},{line}\n"));
        }
    }
    out
}

/// The per-month points as CSV: series, month, observed, mean, P5 … P95,
/// whether the count fell within P5–P95 and P25–P75, pinball loss and CRPS.
fn points_csv(points: &[Point]) -> String {
    let mut out = String::from(
        "series,month,observed,mean,p5,p25,p50,p75,p95,in_p5_p95,in_p25_p75,pinball,crps\n",
    );
    for p in points {
        let f = &p.forecast;
        out.push_str(&format!(
            "{},{},{},{},{},{},{},{},{},{},{},{:.4},{}\n",
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
            p.pinball(),
            p.crps.map(|c| format!("{c:.4}")).unwrap_or_default()
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

    #[test]
    fn origins_step_while_data_remain() {
        let at = Day::from_ymd(2021, 4, 1).unwrap();
        let last = Day::from_ymd(2023, 3, 31).unwrap();
        let o = origins_every(at, 6, last);
        let months: Vec<String> = o.iter().map(|d| d.to_string()).collect();
        assert_eq!(
            months,
            ["2021-04-01", "2021-10-01", "2022-04-01", "2022-10-01"]
        );
        assert_eq!(parse_every("6m").unwrap(), 6);
        assert_eq!(parse_every("1y").unwrap(), 12);
        assert_eq!(parse_every("3").unwrap(), 3);
        for bad in ["0m", "x", "-1", "11y", ""] {
            assert!(parse_every(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn an_origin_is_given_once() {
        let texts = |t: &[&str]| t.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let o = parse_origins(&texts(&["2022-03-31", "2021-03-31"])).unwrap();
        assert_eq!(
            o.iter().map(|d| d.to_string()).collect::<Vec<_>>(),
            ["2022-04-01", "2021-04-01"]
        );
        let e = parse_origins(&texts(&["2022-03-31", "2021-03-31", "2021-03-31"])).unwrap_err();
        assert!(
            matches!(&e, Error::Usage(m) if m.contains("--at 2021-03-31 is given twice")),
            "{e}"
        );
        let e = parse_origins(&texts(&["2021-04", "01/04/2021"])).unwrap_err();
        assert!(
            matches!(&e, Error::Usage(m) if m.contains("--at 2021-04 and --at 01/04/2021 are the same origin (the horizon starting 2021-04-01)")),
            "{e}"
        );
    }
}
