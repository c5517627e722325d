//! Scores a simulation against what was observed: month-end counts of
//! children in care from a config's `[history]`, or from the data after the
//! calibration date in `carecast backtest`.
//!
//! Each observed count y is set against the simulated distribution of the
//! same month and series (total, a placement type or an age band):
//! - coverage: whether y lies in the P5–P95 band (90% of futures) and in the
//!   P25–P75 band (50%), both bounds included;
//! - error: the simulated mean minus y (positive when the forecast is high);
//! - pinball loss: the mean over the seven reported quantiles τ (P5 … P95)
//!   of ρτ(y − qτ), where ρτ(u) = u·(τ − 𝟙(u < 0)). Lower is better; it is a
//!   discrete approximation of the CRPS, in children;
//! - the continuous ranked probability score, where the simulated runs are
//!   at hand (`carecast backtest`): CRPS = E|X − y| − ½E|X − X′| over the
//!   runs' values X (Gneiting & Raftery 2007, eq. 21), computed exactly from
//!   the sorted values. Lower is better; in children.
//!
//! Cost outturns are scored in the same way against the simulated cost of
//! the same financial year (what is charged to the council's budget), in
//! pounds, as a series of their own (`cost`) that the `all` score of the
//! counts leaves out.
//!
//! Months of the history outside the simulated horizon are not scored (the
//! HTML fan chart still draws them), nor are outturns of years outside it or
//! of a year the horizon covers only in part.

use serde::{Deserialize, Serialize};

use crate::model::{History, Model, Series, YearMonth};
use crate::report::{MonthReport, YearReport};
use crate::stats::{PERCENTILES, Summary, round_dp};

/// One observed count against its simulated distribution.
#[derive(Clone, Debug, PartialEq)]
pub struct Point {
    /// `total`, `placement:<id>`, `band:<id>` or `cost`.
    pub series: String,
    /// The month (`2024-03`) of a count, the financial year of an outturn.
    pub month: String,
    pub observed: f64,
    pub forecast: Summary,
    /// CRPS of the observed count against the runs, when they are at hand.
    pub crps: Option<f64>,
}

/// The CRPS of `y` against the empirical distribution of `values`:
/// (1/n)Σ|xᵢ − y| − (1/n²)Σᵢ(2i − n + 1)x₍ᵢ₎ with x₍ᵢ₎ sorted (i from 0).
pub fn crps(values: &[f64], y: f64) -> f64 {
    let n = values.len();
    if n == 0 {
        return f64::NAN;
    }
    let mut x = values.to_vec();
    x.sort_by(f64::total_cmp);
    let m = n as f64;
    let abs: f64 = x.iter().map(|v| (v - y).abs()).sum::<f64>() / m;
    let spread: f64 = x
        .iter()
        .enumerate()
        .map(|(i, v)| (2.0 * i as f64 - m + 1.0) * v)
        .sum::<f64>()
        / (m * m);
    abs - spread
}

impl Point {
    pub fn in_90(&self) -> bool {
        self.forecast.p5 <= self.observed && self.observed <= self.forecast.p95
    }

    pub fn in_50(&self) -> bool {
        self.forecast.p25 <= self.observed && self.observed <= self.forecast.p75
    }

    pub fn error(&self) -> f64 {
        self.forecast.mean - self.observed
    }

    /// Mean pinball loss over the reported quantiles.
    pub fn pinball(&self) -> f64 {
        let s = &self.forecast;
        let q = [s.p5, s.p10, s.p25, s.p50, s.p75, s.p90, s.p95];
        PERCENTILES
            .iter()
            .zip(q)
            .map(|((_, tau), q)| {
                let u = self.observed - q;
                u * (tau - if u < 0.0 { 1.0 } else { 0.0 })
            })
            .sum::<f64>()
            / q.len() as f64
    }
}

/// The scores of a set of points: one series, or all of them.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Score {
    /// `total`, `placement:<id>`, `band:<id>`, `all` (every count) or
    /// `cost` (outturns, in pounds).
    pub series: String,
    /// Observations scored: months of counts, or years of outturns.
    pub months: usize,
    /// Share of months whose observed count lies within P5–P95.
    pub coverage_90: f64,
    /// Share within P25–P75.
    pub coverage_50: f64,
    /// Mean of (simulated mean − observed).
    pub mean_error: f64,
    /// Mean absolute error of the simulated mean.
    pub mean_absolute_error: f64,
    /// Mean pinball loss over P5 … P95.
    pub pinball: f64,
    /// Mean CRPS, when every point has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub crps: Option<f64>,
}

impl Score {
    /// Scores `points` under the name `series`; `None` when there are none.
    pub fn of<'a>(series: &str, points: impl IntoIterator<Item = &'a Point>) -> Option<Score> {
        let (mut n, mut in90, mut in50, mut err, mut abs, mut pin) = (0usize, 0, 0, 0.0, 0.0, 0.0);
        let mut crps = Some(0.0);
        for p in points {
            crps = crps.zip(p.crps).map(|(a, b)| a + b);
            n += 1;
            in90 += p.in_90() as usize;
            in50 += p.in_50() as usize;
            err += p.error();
            abs += p.error().abs();
            pin += p.pinball();
        }
        if n == 0 {
            return None;
        }
        let m = n as f64;
        Some(Score {
            series: series.to_string(),
            months: n,
            coverage_90: round_dp(in90 as f64 / m, 4),
            coverage_50: round_dp(in50 as f64 / m, 4),
            mean_error: round_dp(err / m, 4),
            mean_absolute_error: round_dp(abs / m, 4),
            pinball: round_dp(pin / m, 4),
            crps: crps.map(|c| round_dp(c / m, 4)),
        })
    }
}

/// How a scenario's simulation compares with the config's `[history]`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HistoryScore {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// Observations given (counts and outturns), and those within the
    /// horizon (scored).
    pub given: usize,
    pub scored: usize,
    /// Every scored count together, then each series (outturns last).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub all: Option<Score>,
    pub series: Vec<Score>,
}

/// The name of a series in scores and outputs.
pub fn series_name(model: &Model, series: &Series) -> String {
    match series {
        Series::Total => "total".to_string(),
        Series::Placement(p) => format!("placement:{}", model.placements[*p].id),
        Series::Band(b) => format!("band:{}", model.ages.bands[*b].id),
    }
}

/// The observed counts of `history` that fall within the simulated
/// `months`, each with its simulated distribution.
pub fn points(model: &Model, history: &History, months: &[MonthReport]) -> Vec<Point> {
    let mut out = Vec::new();
    for (series, observed) in &history.series {
        let name = series_name(model, series);
        for (ym, y) in observed {
            let Some(month) = month_report(model, months, *ym) else {
                continue;
            };
            let forecast = match series {
                Series::Total => Some(month.lac),
                Series::Placement(p) => month
                    .lac_by_placement
                    .get(&model.placements[*p].id)
                    .copied(),
                Series::Band(b) => month.lac_by_band.get(&model.ages.bands[*b].id).copied(),
            };
            if let Some(forecast) = forecast {
                out.push(Point {
                    series: name.clone(),
                    month: ym.to_string(),
                    observed: *y,
                    forecast,
                    crps: None,
                });
            }
        }
    }
    out
}

fn month_report<'a>(
    model: &Model,
    months: &'a [MonthReport],
    ym: YearMonth,
) -> Option<&'a MonthReport> {
    let k = model.calendar.start.months_until(ym);
    usize::try_from(k).ok().and_then(|k| months.get(k))
}

/// The cost outturns of `history` for whole financial years of the
/// horizon, each with the simulated distribution of that year's cost.
pub fn outturns(history: &History, years: &[YearReport]) -> Vec<Point> {
    history
        .cost
        .iter()
        .filter_map(|(fy, pounds)| {
            let year = years.iter().find(|y| &y.fy == fy && !y.partial)?;
            Some(Point {
                series: "cost".to_string(),
                month: fy.clone(),
                observed: *pounds,
                forecast: year.cost,
                crps: None,
            })
        })
        .collect()
}

/// Scores a scenario's months and years against the model's `[history]`.
pub fn history(
    model: &Model,
    months: &[MonthReport],
    years: &[YearReport],
) -> Option<HistoryScore> {
    let history = model.history.as_ref()?;
    let points = points(model, history, months);
    let outturns = outturns(history, years);
    let given = history.series.iter().map(|(_, p)| p.len()).sum::<usize>() + history.cost.len();
    let mut series = by_series(&points);
    series.extend(Score::of("cost", &outturns));
    Some(HistoryScore {
        source: history.source.clone(),
        given,
        scored: points.len() + outturns.len(),
        all: Score::of("all", &points),
        series,
    })
}

/// One score per series, in the order the series first appear.
pub fn by_series(points: &[Point]) -> Vec<Score> {
    let mut names: Vec<&str> = Vec::new();
    for p in points {
        if !names.contains(&p.series.as_str()) {
            names.push(&p.series);
        }
    }
    names
        .iter()
        .filter_map(|name| Score::of(name, points.iter().filter(|p| p.series == *name)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn point(observed: f64) -> Point {
        // Built from a summary and then set field by field, so that fields
        // added to `Summary` later need no change here.
        let mut forecast = Summary::of(&mut [100.0]);
        forecast.sd = 10.0;
        forecast.p5 = 80.0;
        forecast.p10 = 85.0;
        forecast.p25 = 93.0;
        forecast.p50 = 100.0;
        forecast.p75 = 107.0;
        forecast.p90 = 115.0;
        forecast.p95 = 120.0;
        Point {
            series: "total".into(),
            month: "2024-04".into(),
            observed,
            forecast,
            crps: None,
        }
    }

    #[test]
    fn coverage_includes_the_bounds() {
        assert!(point(80.0).in_90() && !point(79.9).in_90());
        assert!(point(107.0).in_50() && !point(108.0).in_50());
    }

    #[test]
    fn pinball_by_hand() {
        // y = 100: quantiles below y score τ(y − q), above (1 − τ)(q − y).
        let p = point(100.0);
        let by_hand =
            (0.05 * 20.0 + 0.10 * 15.0 + 0.25 * 7.0 + 0.0 + 0.25 * 7.0 + 0.10 * 15.0 + 0.05 * 20.0)
                / 7.0;
        assert!((p.pinball() - by_hand).abs() < 1e-12);
        // Far above every quantile: each scores τ(y − q).
        let far = point(200.0);
        let expect = (0.05 * 120.0
            + 0.10 * 115.0
            + 0.25 * 107.0
            + 0.5 * 100.0
            + 0.75 * 93.0
            + 0.90 * 85.0
            + 0.95 * 80.0)
            / 7.0;
        assert!((far.pinball() - expect).abs() < 1e-9);
    }

    #[test]
    fn a_score_summarises_its_points() {
        let pts = [point(100.0), point(79.0), point(110.0), point(120.0)];
        let s = Score::of("total", &pts).unwrap();
        assert_eq!(s.months, 4);
        assert_eq!(s.coverage_90, 0.75);
        assert_eq!(s.coverage_50, 0.25);
        assert_eq!(s.mean_error, (0.0 + 21.0 - 10.0 - 20.0) / 4.0);
        assert!(Score::of("none", &[]).is_none());
    }

    #[test]
    fn crps_by_hand() {
        // One run at 3, y = 1: |3 − 1| = 2.
        assert!((crps(&[3.0], 1.0) - 2.0).abs() < 1e-12);
        // Runs {0, 2}, y = 1: E|X − y| = 1, ½E|X − X′| = ½ · (0 + 2 + 2 + 0)/4.
        assert!((crps(&[2.0, 0.0], 1.0) - 0.5).abs() < 1e-12);
        // Against the pairwise definition on uneven values.
        let x = [5.0, 1.0, 4.0, 4.0, 9.0];
        let y = 3.5;
        let n = x.len() as f64;
        let a: f64 = x.iter().map(|v: &f64| (v - y).abs()).sum::<f64>() / n;
        let b: f64 = x
            .iter()
            .flat_map(|u| x.iter().map(move |v| (u - v).abs()))
            .sum::<f64>()
            / (n * n);
        assert!((crps(&x, y) - (a - 0.5 * b)).abs() < 1e-12);
    }
}
