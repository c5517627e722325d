//! How well `calibrate` + `run` forecast: synthetic councils from a known
//! process (`synthetic.rs`), calibrated on their returns to 31 March 2023
//! (a 24-month window), simulated forward and compared with the truth:
//!
//! - **bias** of the simulated mean against the generator's expected count
//!   (the mean over many continuations of the true process from the same
//!   children in care), relative, at +12 and +24 months, for the total, each
//!   placement type and each age band; its standard error is the standard
//!   deviation over councils / √councils;
//! - **RMSE** of the same relative errors;
//! - **coverage**: the share of councils and months (1 to 24) whose realised
//!   count lies within the simulated P5–P95.
//!
//! Used by the ignored test `accuracy_on_synthetic_councils` and by
//! `cargo run --release --example calibration_accuracy`.

#![allow(dead_code)]

use std::fmt::Write as _;

use carecast::calibrate::date::Day;
use carecast::calibrate::write::TrendUse;
use carecast::calibrate::{self, Request};
use carecast::engine::{self, Settings};

use super::synthetic::{self, BANDS, PLACEMENTS, Truth};

/// What to measure.
#[derive(Clone, Debug)]
pub struct Setup {
    pub truth: Truth,
    pub councils: u64,
    pub runs: u64,
    /// Continuations of the true process for the expected counts.
    pub reps: usize,
    pub first_seed: u64,
    /// The request given to `calibrate` (the date, window, trend…).
    pub request: Request,
}

impl Setup {
    pub fn new(truth: Truth, councils: u64, runs: u64) -> Setup {
        Setup {
            truth,
            councils,
            runs,
            reps: 200,
            first_seed: 1000,
            request: Request {
                at: Day::from_ymd(2023, 4, 1).unwrap(),
                window: 24,
                years: 3,
                uncertain: false,
                trend: TrendUse::Shrunk,
            },
        }
    }
}

/// The forecast horizons scored for bias, in months.
pub const HORIZONS: [usize; 2] = [12, 24];
/// Months scored for coverage.
pub const MONTHS: usize = 24;

/// One series (total, a placement, a band): per council and horizon, the
/// relative error of the mean; per council and month, whether the realised
/// count was inside P5–P95.
#[derive(Clone, Debug, Default)]
pub struct Series {
    pub name: String,
    /// `[horizon][council]` (simulated mean − expected) / expected.
    pub errors: [Vec<f64>; 2],
    /// Expected counts summed over councils, `[horizon]`.
    pub expected: [f64; 2],
    pub inside: usize,
    pub scored: usize,
}

impl Series {
    fn new(name: String) -> Series {
        Series {
            name,
            ..Default::default()
        }
    }

    /// Mean relative error at horizon `h`, and its standard error.
    pub fn bias(&self, h: usize) -> (f64, f64) {
        let e = &self.errors[h];
        let n = e.len() as f64;
        let mean = e.iter().sum::<f64>() / n;
        let var = e.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0).max(1.0);
        (mean, (var / n).sqrt())
    }

    pub fn rmse(&self, h: usize) -> f64 {
        let e = &self.errors[h];
        (e.iter().map(|x| x * x).sum::<f64>() / e.len() as f64).sqrt()
    }

    pub fn coverage(&self) -> f64 {
        self.inside as f64 / self.scored.max(1) as f64
    }
}

/// The total of one council and month, for the decomposition of the
/// forecast error into process noise and estimation error.
#[derive(Clone, Copy, Debug)]
pub struct TotalPoint {
    /// Month of the horizon, from 1.
    pub month: usize,
    /// The simulated mean and standard deviation over the runs.
    pub mean: f64,
    pub sd: f64,
    /// The generator's expectation and the sd of its continuations (the
    /// true process noise given the children in care at the date).
    pub expected: f64,
    pub expected_sd: f64,
    pub realised: f64,
    pub inside: bool,
}

/// The accuracy over all councils: `total`, then placements, then bands.
pub struct Accuracy {
    pub series: Vec<Series>,
    pub councils: u64,
    pub total: Vec<TotalPoint>,
}

fn quantile(sorted: &[f64], q: f64) -> f64 {
    let pos = q * (sorted.len() - 1) as f64;
    let (lo, hi) = (pos.floor() as usize, pos.ceil() as usize);
    sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo as f64)
}

/// Calibrates and runs every council. `progress` is called after each.
pub fn measure(setup: &Setup, progress: &dyn Fn(u64)) -> Accuracy {
    let at = setup.request.at;
    let mut series: Vec<Series> = std::iter::once("total".to_string())
        .chain(
            PLACEMENTS
                .iter()
                .map(|(id, _, _)| format!("placement:{id}")),
        )
        .chain(BANDS.iter().map(|(a, b)| format!("band:{a}-{}", b - 1)))
        .map(Series::new)
        .collect();
    let mut total_points = Vec::new();
    for k in 0..setup.councils {
        let seed = setup.first_seed + k;
        let dir = tempfile::tempdir().unwrap();
        let (y, _, _) = Day(at.0 - 1).ymd();
        let council = synthetic::council_until(&setup.truth, dir.path(), y - 4, y, y + 3, seed);
        let data = calibrate::ssda903::read_dir(dir.path(), &Default::default()).unwrap();
        let prep = calibrate::prepare(data, None).unwrap();
        let (_, text) =
            calibrate::calibrate_prepared(&prep, None, &setup.request, Vec::new(), None).unwrap();
        let cfg = carecast::config::parse_config(&text, "calibrated").unwrap();
        let settings = Settings {
            runs: setup.runs,
            seed,
            threads: None,
            central: false,
        };
        let runs = engine::with_threads(None, || engine::run_config(&cfg, &settings, &|_| {}))
            .unwrap()
            .unwrap();
        let runs = &runs[0];
        let layout = &runs.layout;
        let (expected, expected_sd) =
            council.expected_counts_and_spread(&setup.truth, at, MONTHS, setup.reps, seed);
        // Calibrated placement index of each synthetic placement.
        let index: Vec<Option<usize>> = PLACEMENTS
            .iter()
            .map(|(id, _, _)| prep.placements.iter().position(|p| p == id))
            .collect();
        for (m, exp) in expected.iter().enumerate().take(MONTHS) {
            let day = Day(Day::month_start(at.month_index() + m as i32 + 1).0 - 1);
            let real = council.in_care(day);
            // (series, column of the runs, expected, realised)
            let mut cells: Vec<(usize, Option<usize>, f64, f64)> = Vec::new();
            let total_exp: f64 = exp.iter().flatten().sum();
            let total_real: f64 = real.iter().flatten().map(|&n| n as f64).sum();
            cells.push((0, Some(layout.lac(m)), total_exp, total_real));
            for p in 0..PLACEMENTS.len() {
                cells.push((
                    1 + p,
                    index[p].map(|i| layout.lac_placement(m, i)),
                    exp[p].iter().sum(),
                    real[p].iter().map(|&n| n as f64).sum(),
                ));
            }
            for b in 0..BANDS.len() {
                cells.push((
                    1 + PLACEMENTS.len() + b,
                    Some(layout.lac_band(m, b)),
                    exp.iter().map(|row| row[b]).sum(),
                    real.iter().map(|row| row[b] as f64).sum(),
                ));
            }
            for (s, col, e, r) in cells {
                let mut values = match col {
                    Some(c) => runs.column(c),
                    None => vec![0.0; runs.runs()],
                };
                values.sort_by(f64::total_cmp);
                let mean = values.iter().sum::<f64>() / values.len() as f64;
                let (p5, p95) = (quantile(&values, 0.05), quantile(&values, 0.95));
                let series = &mut series[s];
                series.scored += 1;
                if p5 <= r && r <= p95 {
                    series.inside += 1;
                }
                if s == 0 {
                    let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>()
                        / (values.len() as f64 - 1.0).max(1.0);
                    total_points.push(TotalPoint {
                        month: m + 1,
                        mean,
                        sd: var.sqrt(),
                        expected: e,
                        expected_sd: expected_sd[m],
                        realised: r,
                        inside: p5 <= r && r <= p95,
                    });
                }
                if let Some(h) = HORIZONS.iter().position(|h| *h == m + 1) {
                    series.expected[h] += e;
                    if e > 0.0 {
                        series.errors[h].push((mean - e) / e);
                    }
                }
            }
        }
        progress(k + 1);
    }
    Accuracy {
        series,
        councils: setup.councils,
        total: total_points,
    }
}

impl Accuracy {
    /// The estimation error of the total at `month` against the spread the
    /// forecast gives the rates: per council z = (simulated mean −
    /// expected) / σₚ, with σₚ² = (the runs' variance) − (the true process
    /// variance), the part of the forecast's variance that is not process
    /// noise. Honest parameter uncertainty makes z about N(0, 1), so the
    /// mean of z² is 1 with standard error √(2/n); a forecast without it
    /// has σₚ ≈ 0 and z² without bound. Returns (mean of z², councils).
    pub fn estimation_z2(&self, month: usize) -> (f64, usize) {
        let z2: Vec<f64> = self
            .total
            .iter()
            .filter(|p| p.month == month)
            .map(|p| {
                let param = p.sd * p.sd - p.expected_sd * p.expected_sd;
                let err = (p.mean - p.expected).powi(2);
                if param > 0.0 {
                    err / param
                } else {
                    f64::INFINITY
                }
            })
            .collect();
        (z2.iter().sum::<f64>() / z2.len() as f64, z2.len())
    }

    /// The share of months 1–24 inside P5–P95 for each council (total).
    pub fn coverage_by_council(&self) -> Vec<f64> {
        let mut inside = vec![0.0; self.councils as usize];
        let mut scored = vec![0.0; self.councils as usize];
        for (i, p) in self.total.iter().enumerate() {
            let k = i / MONTHS;
            scored[k] += 1.0;
            if p.inside {
                inside[k] += 1.0;
            }
        }
        inside.iter().zip(&scored).map(|(i, n)| i / n).collect()
    }

    /// Where the forecast error of the total comes from, by month: the
    /// forecast's sd (over the runs), the true process noise (the sd of the
    /// generator's continuations), the estimation error (simulated mean −
    /// expectation) and the error against the realised count, as root mean
    /// squares over councils, relative to the expectation; and the coverage.
    /// The rates' spread is √(sd² − noise²), the part of the forecast's
    /// spread that is not process noise: a calibrated forecast has it about
    /// equal to the estimation error.
    pub fn decomposition(&self) -> String {
        let mut t = String::from(
            "| month | forecast sd | process noise | rates' spread | estimation error | realised − mean | in P5–P95 |\n|---:|---:|---:|---:|---:|---:|---:|\n",
        );
        for month in [1, 3, 6, 12, 18, 24] {
            let pts: Vec<&TotalPoint> = self.total.iter().filter(|p| p.month == month).collect();
            if pts.is_empty() {
                continue;
            }
            let n = pts.len() as f64;
            let rms = |f: &dyn Fn(&TotalPoint) -> f64| {
                100.0 * (pts.iter().map(|p| f(p).powi(2)).sum::<f64>() / n).sqrt()
            };
            let (sd, noise) = (
                rms(&|p| p.sd / p.expected),
                rms(&|p| p.expected_sd / p.expected),
            );
            let _ = writeln!(
                t,
                "| {month} | {sd:.2}% | {noise:.2}% | {:.2}% | {:.2}% | {:.2}% | {:.0}% |",
                (sd * sd - noise * noise).max(0.0).sqrt(),
                rms(&|p| (p.mean - p.expected) / p.expected),
                rms(&|p| (p.realised - p.mean) / p.expected),
                100.0 * pts.iter().filter(|p| p.inside).count() as f64 / n
            );
        }
        t
    }

    /// The table: bias ± standard error and RMSE at +12 and +24 months,
    /// and coverage of P5–P95 over months 1–24, per series.
    pub fn table(&self) -> String {
        let mut t = String::new();
        let _ = writeln!(
            t,
            "| series | bias +12m | RMSE +12m | bias +24m | RMSE +24m | in P5–P95 |\n|---|---:|---:|---:|---:|---:|"
        );
        for s in &self.series {
            let cell = |h: usize| {
                if s.errors[h].is_empty() {
                    ("–".to_string(), "–".to_string())
                } else {
                    let (b, se) = s.bias(h);
                    (
                        format!("{:+.1}% ± {:.1}", 100.0 * b, 100.0 * se),
                        format!("{:.1}%", 100.0 * s.rmse(h)),
                    )
                }
            };
            let (b12, r12) = cell(0);
            let (b24, r24) = cell(1);
            let _ = writeln!(
                t,
                "| {} | {b12} | {r12} | {b24} | {r24} | {:.0}% |",
                s.name,
                100.0 * s.coverage()
            );
        }
        let _ = writeln!(
            t,
            "\n{} councils; bias = mean of (simulated mean − expected) / expected ± its standard error; coverage over councils × months 1–24.",
            self.councils
        );
        t
    }
}
