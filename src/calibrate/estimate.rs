//! Occurrence / exposure estimates of the model's rates from periods of
//! care, over a window of months before the calibration date.
//!
//! - **Entries**: spells that start in the window, by age band at entry and
//!   first placement type, per year of window. The monthly counts give the
//!   overdispersion (negative binomial size by the method of moments,
//!   k = m² / (s² − m)) and a log-linear trend (Poisson regression of the
//!   monthly counts on time, by Newton's method).
//! - **Exits**: exits other than at 18 over the time in care, per
//!   (placement, age band at the time), as a rate per month. Leaving on the
//!   18th birthday (or later) is the model's own exit at 18 and is not
//!   counted as an event; time in care ends at the 18th birthday. (In the
//!   model a child can still leave by the hazard in the month of the
//!   birthday, before ageing takes the rest.)
//! - **Moves**: changes of placement type per (from, to), over the time in
//!   `from`, pooled over age bands.
//! - **Stock**: children in care at the end of the day before the date, by
//!   placement and month of age (from DOB).
//!
//! A rate r = d / E has the exact (Garwood) 95% interval
//! [χ²(0.025; 2d) / 2E, χ²(0.975; 2d + 2) / 2E]. Entry rates are
//! overdispersed: their intervals use the quasi-Poisson scale
//! φ = 1 + m/k (m the cell's mean monthly count), i.e. the exact interval of
//! d/φ events, scaled back by φ.

use statrs::distribution::{ChiSquared, ContinuousCDF};

use crate::calibrate::date::Day;
use crate::calibrate::periods::{End, Spell};

/// Days in an average month (365.25 / 12).
pub const DAYS_PER_MONTH: f64 = 30.4375;

/// An age band: id and whole years `[from, to)`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AgeBand {
    pub id: String,
    pub from: u32,
    pub to: u32,
}

/// Events over exposure, with a 95% interval of their ratio.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Rate {
    pub events: f64,
    pub exposure: f64,
    pub value: f64,
    pub low: f64,
    pub high: f64,
}

impl Rate {
    /// The exact Poisson rate of `events` over `exposure`, with its
    /// interval widened by the overdispersion factor `phi` (1 for Poisson).
    pub fn new(events: f64, exposure: f64, phi: f64) -> Rate {
        if exposure <= 0.0 {
            return Rate {
                events,
                exposure,
                value: 0.0,
                low: 0.0,
                high: f64::INFINITY,
            };
        }
        let d = events / phi;
        let low = if d > 0.0 {
            chi2_quantile(2.0 * d, 0.025) / 2.0
        } else {
            0.0
        };
        let high = chi2_quantile(2.0 * d + 2.0, 0.975) / 2.0;
        Rate {
            events,
            exposure,
            value: events / exposure,
            low: low * phi / exposure,
            high: high * phi / exposure,
        }
    }

    /// Whether `x` lies within the interval.
    pub fn covers(&self, x: f64) -> bool {
        self.low <= x && x <= self.high
    }
}

/// The p-quantile of χ² with `k` degrees of freedom.
pub fn chi2_quantile(k: f64, p: f64) -> f64 {
    ChiSquared::new(k)
        .map(|c| c.inverse_cdf(p))
        .unwrap_or(f64::NAN)
}

/// Negative binomial size of the monthly entries.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Dispersion {
    /// Variance-to-mean ratio of the monthly counts.
    pub ratio: f64,
    /// Size k = m² / (s² − m); `None` when s² ≤ m (no more variable than
    /// Poisson) or k > 10,000 (indistinguishable from it).
    pub size: Option<f64>,
    /// 95% interval of k from the χ² interval of the variance; the upper
    /// end is `None` when the variance's interval reaches the Poisson.
    pub low: Option<f64>,
    pub high: Option<f64>,
}

/// Log-linear trend of the monthly entries.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Trend {
    /// Annual growth exp(12β) − 1, with its 95% interval.
    pub annual: f64,
    pub low: f64,
    pub high: f64,
    /// Standard error of β (per month).
    pub se: f64,
    /// Fitted entries per year at the end of the window.
    pub per_year_at_end: f64,
}

/// Every estimate of one calibration.
#[derive(Clone, Debug)]
pub struct Estimates {
    pub at: Day,
    pub window_start: Day,
    pub window_months: usize,
    pub bands: Vec<AgeBand>,
    pub placements: Vec<String>,
    /// Entrants per year by `[band][placement]`; exposure in years.
    pub entries: Vec<Vec<Rate>>,
    pub entries_total: Rate,
    pub monthly_entries: Vec<f64>,
    pub dispersion: Dispersion,
    pub trend: Option<Trend>,
    /// Exit hazard per month by `[placement][band]`; exposure in months.
    pub exits: Vec<Vec<Rate>>,
    /// Move rate per month by `[from][to]`.
    pub moves: Vec<Vec<Rate>>,
    /// Children who left on their 18th birthday or later.
    pub left_at_18: usize,
    /// Exit hazard per month by time since entering care, pooled over
    /// placements and bands: (label, rate).
    pub by_duration: Vec<(String, Rate)>,
    /// Children in care at the date by `[placement][month of age]`.
    pub stock: Vec<Vec<u32>>,
    /// Children in care at the date aged 18 or over (left out of the stock).
    pub stock_over_18: usize,
}

impl Estimates {
    /// The stock by `[placement][band]`.
    pub fn stock_by_band(&self) -> Vec<Vec<u32>> {
        self.stock
            .iter()
            .map(|ages| {
                self.bands
                    .iter()
                    .map(|b| ages[b.from as usize * 12..b.to as usize * 12].iter().sum())
                    .collect()
            })
            .collect()
    }
}

/// The band of a child born on `dob` on `day` (0 for ages out of range).
fn band_on(bands: &[AgeBand], dob: Day, day: Day) -> usize {
    let years = (dob.months_of_age(day).max(0) / 12) as u32;
    bands
        .iter()
        .position(|b| b.from <= years && years < b.to)
        .unwrap_or(bands.len() - 1)
}

/// Estimates the rates from `spells` over the `window_months` months before
/// `at` (the first day of a month).
pub fn estimate(
    spells: &[Spell],
    at: Day,
    window_months: usize,
    bands: &[AgeBand],
    placements: &[String],
    with_trend: bool,
) -> Estimates {
    let n_p = placements.len();
    let n_b = bands.len();
    let first_month = at.month_index() - window_months as i32;
    let ws = Day::month_start(first_month);
    let we = at;
    let mut entries = vec![vec![0.0; n_p]; n_b];
    let mut monthly = vec![0.0; window_months];
    let mut exits = vec![vec![0.0; n_b]; n_p];
    let mut exit_exposure = vec![vec![0.0; n_b]; n_p];
    let mut moves = vec![vec![0.0; n_p]; n_p];
    let mut left_at_18 = 0;
    let durations = [(0.0, 6.0), (6.0, 24.0), (24.0, f64::INFINITY)];
    let mut dur_events = [0.0; 3];
    let mut dur_exposure = [0.0; 3];
    let mut stock = vec![vec![0u32; crate::model::AGE_CELLS]; n_p];
    let mut stock_over_18 = 0;

    for spell in spells {
        let dob = spell.dob;
        let eighteen = dob.plus_years(18);
        let entry = spell.start();
        if ws <= entry && entry < we {
            let b = band_on(bands, dob, entry);
            entries[b][spell.segments[0].placement] += 1.0;
            let m = (entry.month_index() - first_month) as usize;
            if m < window_months {
                monthly[m] += 1.0;
            }
        }
        for (k, seg) in spell.segments.iter().enumerate() {
            // Exposure within the window, split at birthdays that change band.
            let mut t0 = seg.start.max(ws);
            let t1 = seg.end.min(we).min(eighteen);
            while t0 < t1 {
                let b = band_on(bands, dob, t0);
                let boundary = dob.plus_years(bands[b].to as i32);
                let piece_end = t1.min(boundary).max(Day(t0.0 + 1));
                let days = (piece_end.0 - t0.0) as f64;
                exit_exposure[seg.placement][b] += days / DAYS_PER_MONTH;
                // Time since entering care, split at the duration bounds.
                let d0 = (t0.0 - entry.0) as f64 / DAYS_PER_MONTH;
                let d_end = (piece_end.0 - entry.0) as f64 / DAYS_PER_MONTH;
                for (i, (lo, hi)) in durations.iter().enumerate() {
                    dur_exposure[i] += (d_end.min(*hi) - d0.max(*lo)).max(0.0);
                }
                t0 = piece_end;
            }
            if !(ws <= seg.end && seg.end < we) {
                continue;
            }
            let last_day = Day(seg.end.0 - 1).max(seg.start);
            let b = band_on(bands, dob, last_day);
            match seg.how {
                End::Exit if seg.end >= eighteen => left_at_18 += 1,
                End::Exit => {
                    exits[seg.placement][b] += 1.0;
                    let d = (seg.end.0 - entry.0) as f64 / DAYS_PER_MONTH;
                    if let Some(i) = durations.iter().position(|(lo, hi)| *lo <= d && d < *hi) {
                        dur_events[i] += 1.0;
                    }
                }
                End::Move => {
                    if let Some(next) = spell.segments.get(k + 1) {
                        moves[seg.placement][next.placement] += 1.0;
                    }
                }
                End::Censored => {}
            }
        }
        // The stock at the start of the month of `at`.
        let eve = Day(at.0 - 1);
        if let Some(seg) = spell.on(eve) {
            let age = dob.months_of_age(eve);
            if age >= crate::model::AGE_CELLS as i32 {
                stock_over_18 += 1;
            } else {
                stock[seg.placement][age.max(0) as usize] += 1;
            }
        }
    }

    let years = window_months as f64 / 12.0;
    let total: f64 = monthly.iter().sum();
    let dispersion = dispersion(&monthly);
    let phi_for = |cell_per_month: f64| match dispersion.size {
        Some(k) => 1.0 + cell_per_month / k,
        None => 1.0,
    };
    let entries_rates = entries
        .iter()
        .map(|row| {
            row.iter()
                .map(|&n| Rate::new(n, years, phi_for(n / window_months.max(1) as f64)))
                .collect()
        })
        .collect();
    let entries_total = Rate::new(total, years, phi_for(total / window_months.max(1) as f64));
    let exit_rates = (0..n_p)
        .map(|p| {
            (0..n_b)
                .map(|b| Rate::new(exits[p][b], exit_exposure[p][b], 1.0))
                .collect()
        })
        .collect();
    let time_in: Vec<f64> = exit_exposure.iter().map(|r| r.iter().sum()).collect();
    let move_rates = (0..n_p)
        .map(|p| {
            (0..n_p)
                .map(|q| Rate::new(moves[p][q], time_in[p], 1.0))
                .collect()
        })
        .collect();
    let labels = ["under 6 months", "6 to 24 months", "24 months or more"];
    Estimates {
        at,
        window_start: ws,
        window_months,
        bands: bands.to_vec(),
        placements: placements.to_vec(),
        entries: entries_rates,
        entries_total,
        trend: if with_trend { trend(&monthly) } else { None },
        monthly_entries: monthly,
        dispersion,
        exits: exit_rates,
        moves: move_rates,
        left_at_18,
        by_duration: (0..3)
            .map(|i| {
                (
                    labels[i].to_string(),
                    Rate::new(dur_events[i], dur_exposure[i], 1.0),
                )
            })
            .collect(),
        stock,
        stock_over_18,
    }
}

/// Method-of-moments negative binomial size of monthly counts.
pub fn dispersion(counts: &[f64]) -> Dispersion {
    let n = counts.len();
    if n < 2 {
        return Dispersion {
            ratio: 1.0,
            size: None,
            low: None,
            high: None,
        };
    }
    let m = counts.iter().sum::<f64>() / n as f64;
    let var = counts.iter().map(|c| (c - m).powi(2)).sum::<f64>() / (n - 1) as f64;
    // A size above 10,000 is Poisson for any council's monthly entries.
    let size_at = |v: f64| {
        let k = m * m / (v - m);
        (v > m && m > 0.0 && k.is_finite() && k <= 1e4).then_some(k)
    };
    let df = (n - 1) as f64;
    // A larger variance means a smaller size.
    let var_high = var * df / chi2_quantile(df, 0.025);
    let var_low = var * df / chi2_quantile(df, 0.975);
    Dispersion {
        ratio: if m > 0.0 { var / m } else { 1.0 },
        size: size_at(var),
        low: size_at(var_high),
        high: size_at(var_low),
    }
}

/// Poisson regression log μ_t = a + β t of monthly counts, by Newton's
/// method; `None` when it cannot be fitted (fewer than 3 months, no
/// entries, or a fit that does not converge to a growth above −99% a year).
pub fn trend(counts: &[f64]) -> Option<Trend> {
    let n = counts.len();
    if n < 3 || counts.iter().sum::<f64>() <= 0.0 {
        return None;
    }
    let mid = (n as f64 - 1.0) / 2.0;
    let ts: Vec<f64> = (0..n).map(|t| t as f64 - mid).collect();
    let mean = counts.iter().sum::<f64>() / n as f64;
    let (mut a, mut b) = (mean.ln(), 0.0);
    let mut info_bb = 0.0;
    let mut converged = false;
    for _ in 0..50 {
        let (mut ga, mut gb, mut haa, mut hab, mut hbb) = (0.0, 0.0, 0.0, 0.0, 0.0);
        for (t, y) in ts.iter().zip(counts) {
            let mu = (a + b * t).exp();
            ga += y - mu;
            gb += (y - mu) * t;
            haa += mu;
            hab += mu * t;
            hbb += mu * t * t;
        }
        let det = haa * hbb - hab * hab;
        if det <= 0.0 || !det.is_finite() {
            return None;
        }
        let da = (hbb * ga - hab * gb) / det;
        let db = (haa * gb - hab * ga) / det;
        a += da;
        b += db;
        info_bb = haa / det;
        if da.abs() < 1e-10 && db.abs() < 1e-10 {
            converged = true;
            break;
        }
    }
    let se = info_bb.sqrt();
    let growth = |beta: f64| (12.0 * beta).exp() - 1.0;
    let trend = Trend {
        annual: growth(b),
        low: growth(b - 1.96 * se),
        high: growth(b + 1.96 * se),
        se,
        per_year_at_end: 12.0 * (a + b * (n as f64 - mid)).exp(),
    };
    // A fit that runs off (all entrants in the first or last months) says
    // nothing usable about a trend.
    let usable = converged
        && [trend.annual, trend.se, trend.per_year_at_end]
            .iter()
            .all(|x| x.is_finite())
        && trend.annual > -0.99;
    usable.then_some(trend)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn garwood_interval_by_table() {
        // 10 events in 5 units: 95% interval 0.959 to 3.678 (exact Poisson
        // limits 4.795 and 18.390 for 10 events).
        let r = Rate::new(10.0, 5.0, 1.0);
        assert!((r.value - 2.0).abs() < 1e-12);
        assert!((r.low - 4.7954 / 5.0).abs() < 1e-3, "{}", r.low);
        assert!((r.high - 18.3904 / 5.0).abs() < 1e-3, "{}", r.high);
        // No events: the upper limit is −ln(0.025) = 3.689.
        let z = Rate::new(0.0, 1.0, 1.0);
        assert_eq!(z.low, 0.0);
        assert!((z.high - 3.6889).abs() < 1e-3);
    }

    #[test]
    fn dispersion_of_poisson_like_counts_is_none() {
        let d = dispersion(&[5.0, 5.0, 5.0, 5.0]);
        assert_eq!(d.size, None);
        let d = dispersion(&[0.0, 10.0, 0.0, 10.0]);
        // m = 5, s² = 100/3: k = 25 / (100/3 − 5).
        assert!((d.size.unwrap() - 25.0 / (100.0 / 3.0 - 5.0)).abs() < 1e-12);
    }

    #[test]
    fn trend_recovers_an_exact_exponential() {
        let counts: Vec<f64> = (0..24).map(|t| 10.0 * (0.02 * t as f64).exp()).collect();
        let t = trend(&counts).unwrap();
        assert!(
            (t.annual - ((0.24f64).exp() - 1.0)).abs() < 1e-9,
            "{}",
            t.annual
        );
        assert!((t.per_year_at_end - 120.0 * (0.02f64 * 24.0).exp()).abs() < 1e-6);
    }
}
