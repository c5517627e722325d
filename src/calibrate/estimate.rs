//! Occurrence / exposure estimates of the model's rates from periods of
//! care, over a window of months before the calibration date.
//!
//! - **Entries**: spells that start in the window, by age band at entry and
//!   first placement type, per year of window. The monthly counts give the
//!   overdispersion (negative binomial size by the method of moments,
//!   k = m² / (s² − m)) and a log-linear trend (Poisson regression of the
//!   monthly counts on time, by Newton's method).
//!   Entrants' ages are also counted by single year of age at entry.
//! - **Trend**: the log-linear fit is made on every month the returns hold
//!   before the date (not only the window), with a quasi-Poisson standard
//!   error, and shrunk towards no trend: with β̂ ± s, the prior β ~ N(0, τ²)
//!   with τ² = max(0, β̂² − 9s²) gives the posterior mean β̂·τ²/(τ² + s²) and
//!   sd s·τ/√(τ² + s²). A slope within three standard errors of 0 is taken
//!   as 0 ([`TREND_Z2`]).
//! - **Exits**: exits other than at 18 over the time in care, per
//!   (placement, age band at the time), as a rate per month. Leaving on the
//!   18th birthday (or later) is the model's own exit at 18 and is not
//!   counted as an event; time in care ends at the 18th birthday.
//! - **Time in care**: the exit hazard is λ(placement, band) × f(k) for the
//!   band k of time in the current period of care ([`TIC_BANDS`]); the
//!   exposure is split at those durations and the piecewise-exponential
//!   likelihood (the one a Kaplan–Meier fit maximises in the limit of fine
//!   bands; open periods are censored at the date) is maximised by
//!   alternating the two occurrence / exposure equations
//!   f(k) = d(k) / Σ λ·E(k) and λ = d / Σ f(k)·E(k). The factors are relative
//!   to 6–24 months, with the 95% interval exp(±1.96 √(1/d(k) + 1/d(ref))).
//!   Spells whose period began before the first return (time in care not
//!   known) count only where they are surely in the last band.
//! - **Moves**: changes of placement type per (from, to, age band at the
//!   move), over the time in `from` at that band.
//! - **Thin cells** are shrunk towards a coarser rate λ₀ by a gamma prior
//!   worth [`PRIOR_EVENTS`] event: λ = (d + 1) / (E + 1/λ₀). A cell with no
//!   exposure takes λ₀ itself (and the config says so). For exits λ₀ is the
//!   main-effects fit α(placement)·β(band) (indirect standardisation), or the
//!   overall rate when the placement never sees an exit; for moves it is the
//!   pooled rate of (from, to) times the age profile of all moves into `to`
//!   (so that moves seen only at 16–17 stay at 16–17).
//! - **Stock**: children in care at the end of the day before the date, by
//!   placement and month of age (from DOB), and by time in care.
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

/// Lower bounds of the time-in-care bands, in months of the current period.
pub const TIC_BANDS: [f64; 4] = [0.0, 6.0, 24.0, 60.0];
/// The band the time-in-care factors are relative to (6–24 months).
pub const TIC_REFERENCE: usize = 1;
/// Weight of the coarser rate in a thin cell, in events.
pub const PRIOR_EVENTS: f64 = 1.0;

/// A rate shrunk towards a coarser one: (d + K) / (E + K/λ₀).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Shrunk {
    pub events: f64,
    pub exposure: f64,
    /// The coarser rate λ₀.
    pub prior: f64,
    pub value: f64,
}

impl Shrunk {
    pub fn new(events: f64, exposure: f64, prior: f64) -> Shrunk {
        let value = if exposure <= 0.0 {
            prior
        } else if prior <= 0.0 {
            events / exposure
        } else {
            (events + PRIOR_EVENTS) / (exposure + PRIOR_EVENTS / prior)
        };
        Shrunk {
            events,
            exposure,
            prior,
            value,
        }
    }

    /// True when the cell had no exposure and takes the coarser rate.
    pub fn pooled(&self) -> bool {
        self.exposure <= 0.0
    }
}

/// Exit hazard factors by time in care.
#[derive(Clone, Debug, PartialEq)]
pub struct TimeInCare {
    /// Lower bounds in months.
    pub bands: Vec<f64>,
    /// Exits and child-months (raw) by band.
    pub events: Vec<f64>,
    pub exposure: Vec<f64>,
    /// Factors relative to [`TIC_REFERENCE`], with 95% intervals.
    pub factor: Vec<f64>,
    pub low: Vec<f64>,
    pub high: Vec<f64>,
    /// Child-months left out: periods begun before the first return whose
    /// band is not known.
    pub left_out: f64,
    /// Exits left out with them (the base hazards count the others, so
    /// the config says how many, to add up to the exits in the data).
    pub left_out_events: f64,
}

/// Index of the time-in-care band of `months`.
pub fn tic_band(months: f64) -> usize {
    TIC_BANDS.iter().rposition(|b| *b <= months).unwrap_or(0)
}

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
#[derive(Clone, Copy, Debug, PartialEq, Default)]
pub struct Trend {
    /// Months fitted.
    pub months: usize,
    /// Quasi-Poisson scale (≥ 1) the standard error is inflated by.
    pub phi: f64,
    /// The shrunk annual growth and its sd (0 and 0: no trend).
    pub shrunk: f64,
    pub shrunk_sd: f64,
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
    /// Entrants in the window by single year of age at entry (0–17).
    pub age_by_year: Vec<f64>,
    /// Exit hazard factors by time in care (`None` with too few exits).
    pub time_in_care: Option<TimeInCare>,
    /// Base exit hazard per month (times the time-in-care factor), shrunk,
    /// by `[placement][band]`.
    pub exits_base: Vec<Vec<Shrunk>>,
    /// Exit hazard per month without time in care, shrunk.
    pub exits_plain: Vec<Vec<Shrunk>>,
    /// Move hazard per month by `[from][to][band]`, shrunk.
    pub moves_by_band: Vec<Vec<Vec<Shrunk>>>,
    /// Children in care at the date by `[placement][band][time-in-care band]`.
    pub stock_tic: Vec<Vec<Vec<u32>>>,
    /// Of those, children whose period began before the first return,
    /// counted in the band of their known time in care (a lower bound).
    pub stock_tic_unknown: usize,
    /// Entries a year at the start of the horizon with the shrunk trend.
    pub per_year_shrunk: f64,
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
/// `at` (the first day of a month); the trend from every month from
/// `data_start` (the first day of the first return) to `at`.
pub fn estimate(
    spells: &[Spell],
    at: Day,
    window_months: usize,
    bands: &[AgeBand],
    placements: &[String],
    data_start: Day,
) -> Estimates {
    let n_p = placements.len();
    let n_b = bands.len();
    let n_k = TIC_BANDS.len();
    let first_month = at.month_index() - window_months as i32;
    let ws = Day::month_start(first_month);
    let we = at;
    let all_first = data_start.month_index().min(first_month);
    let all_start = Day::month_start(data_start.month_index());
    let mut all_monthly = vec![0.0; (at.month_index() - all_first).max(0) as usize];
    let mut entries = vec![vec![0.0; n_p]; n_b];
    let mut monthly = vec![0.0; window_months];
    let mut age_by_year = vec![0.0; 18];
    let mut exits = vec![vec![0.0; n_b]; n_p];
    let mut exit_exposure = vec![vec![0.0; n_b]; n_p];
    let mut tic_events = vec![vec![vec![0.0; n_k]; n_b]; n_p];
    let mut tic_exposure = vec![vec![vec![0.0; n_k]; n_b]; n_p];
    let mut left_out = 0.0;
    let mut left_out_events = 0.0;
    let mut moves = vec![vec![vec![0.0; n_b]; n_p]; n_p];
    let mut left_at_18 = 0;
    let mut stock = vec![vec![0u32; crate::model::AGE_CELLS]; n_p];
    let mut stock_tic = vec![vec![vec![0u32; n_k]; n_b]; n_p];
    let mut stock_tic_unknown = 0;
    let mut stock_over_18 = 0;
    let last_bound = TIC_BANDS[n_k - 1];

    for spell in spells {
        let dob = spell.dob;
        let eighteen = dob.plus_years(18);
        let entry = spell.start();
        let months_in = |d: Day| (d.0 - entry.0) as f64 / DAYS_PER_MONTH;
        if all_start <= entry && entry < we && spell.start_known {
            let m = (entry.month_index() - all_first) as usize;
            if m < all_monthly.len() {
                all_monthly[m] += 1.0;
            }
        }
        if ws <= entry && entry < we {
            let b = band_on(bands, dob, entry);
            entries[b][spell.segments[0].placement] += 1.0;
            let years = (dob.months_of_age(entry).max(0) / 12).min(17) as usize;
            age_by_year[years] += 1.0;
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
                // Time in care, split at the bounds of its bands.
                let (d0, d1) = (months_in(t0), months_in(piece_end));
                for (i, lo) in TIC_BANDS.iter().enumerate() {
                    let hi = TIC_BANDS.get(i + 1).copied().unwrap_or(f64::INFINITY);
                    let overlap = (d1.min(hi) - d0.max(*lo)).max(0.0);
                    if spell.start_known || *lo >= last_bound {
                        tic_exposure[seg.placement][b][i] += overlap;
                    } else {
                        left_out += overlap;
                    }
                }
                t0 = piece_end;
            }
            if !(ws <= seg.end && seg.end < we) {
                continue;
            }
            // The band on the day of the event (a move on the 16th
            // birthday is a move at 16).
            let b = band_on(bands, dob, seg.end);
            match seg.how {
                End::Exit if seg.end >= eighteen => left_at_18 += 1,
                End::Exit => {
                    exits[seg.placement][b] += 1.0;
                    let d = months_in(seg.end);
                    if spell.start_known || d >= last_bound {
                        tic_events[seg.placement][b][tic_band(d)] += 1.0;
                    } else {
                        left_out_events += 1.0;
                    }
                }
                End::Move => {
                    if let Some(next) = spell.segments.get(k + 1) {
                        moves[seg.placement][next.placement][b] += 1.0;
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
                let tic = months_in(at);
                if !spell.start_known && tic < last_bound {
                    stock_tic_unknown += 1;
                }
                stock_tic[seg.placement][band_on(bands, dob, eve)][tic_band(tic)] += 1;
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
                .map(|q| Rate::new(moves[p][q].iter().sum(), time_in[p], 1.0))
                .collect()
        })
        .collect();
    let exits_plain = shrink_exits(&exits, &exit_exposure);
    let (time_in_care, exits_base) = match fit_time_in_care(&tic_events, &tic_exposure) {
        Some((tic, weighted)) => {
            let d: Vec<Vec<f64>> = tic_events
                .iter()
                .map(|row| row.iter().map(|k| k.iter().sum()).collect())
                .collect();
            let base = shrink_exits(&d, &weighted);
            (
                Some(TimeInCare {
                    left_out,
                    left_out_events,
                    ..tic
                }),
                base,
            )
        }
        None => (None, exits_plain.clone()),
    };
    let moves_by_band = shrink_moves(&moves, &exit_exposure);
    // The trend on every month before the date; the level from the window.
    let trend = trend(&all_monthly).map(|mut tr| {
        let (beta, sd) = shrink_slope((1.0 + tr.annual).ln() / 12.0, tr.se * tr.phi.sqrt());
        tr.shrunk = (12.0 * beta).exp() - 1.0;
        tr.shrunk_sd = 12.0 * sd * (12.0 * beta).exp();
        tr
    });
    let per_year_shrunk = level_per_year(&monthly, trend.map_or(0.0, |t| t.shrunk));
    Estimates {
        at,
        window_start: ws,
        window_months,
        bands: bands.to_vec(),
        placements: placements.to_vec(),
        entries: entries_rates,
        entries_total,
        trend,
        monthly_entries: monthly,
        dispersion,
        exits: exit_rates,
        moves: move_rates,
        left_at_18,
        age_by_year,
        time_in_care,
        exits_base,
        exits_plain,
        moves_by_band,
        stock_tic,
        stock_tic_unknown,
        per_year_shrunk,
        stock,
        stock_over_18,
    }
}

/// Exit hazards `[placement][band]` shrunk towards the main-effects fit
/// α(placement)·β(band), or the overall rate where that is 0.
pub fn shrink_exits(events: &[Vec<f64>], exposure: &[Vec<f64>]) -> Vec<Vec<Shrunk>> {
    let prior = main_effects(events, exposure);
    let d: f64 = events.iter().flatten().sum();
    let e: f64 = exposure.iter().flatten().sum();
    let overall = if e > 0.0 { d / e } else { 0.0 };
    events
        .iter()
        .zip(exposure)
        .zip(&prior)
        .map(|((d, e), p)| {
            d.iter()
                .zip(e)
                .zip(p)
                .map(|((d, e), p)| Shrunk::new(*d, *e, if *p > 0.0 { *p } else { overall }))
                .collect()
        })
        .collect()
}

/// The main-effects (row × column) Poisson fit of `events` over `exposure`,
/// by alternating the two margins' occurrence / exposure equations.
pub fn main_effects(events: &[Vec<f64>], exposure: &[Vec<f64>]) -> Vec<Vec<f64>> {
    let rows = events.len();
    let cols = events.first().map_or(0, |r| r.len());
    let row_d: Vec<f64> = events.iter().map(|r| r.iter().sum()).collect();
    let col_d: Vec<f64> = (0..cols)
        .map(|c| events.iter().map(|r| r[c]).sum())
        .collect();
    let mut a = vec![1.0; rows];
    let mut b = vec![1.0; cols];
    for _ in 0..200 {
        for c in 0..cols {
            let w: f64 = (0..rows).map(|r| a[r] * exposure[r][c]).sum();
            b[c] = if w > 0.0 { col_d[c] / w } else { 0.0 };
        }
        for r in 0..rows {
            let w: f64 = (0..cols).map(|c| b[c] * exposure[r][c]).sum();
            a[r] = if w > 0.0 { row_d[r] / w } else { 0.0 };
        }
    }
    (0..rows)
        .map(|r| (0..cols).map(|c| a[r] * b[c]).collect())
        .collect()
}

/// Move hazards `[from][to][band]` shrunk towards the pooled rate of
/// (from, to) times the age profile of all moves into `to`.
pub fn shrink_moves(moves: &[Vec<Vec<f64>>], exposure: &[Vec<f64>]) -> Vec<Vec<Vec<Shrunk>>> {
    let n_p = moves.len();
    let n_b = exposure.first().map_or(0, |r| r.len());
    let e_band: Vec<f64> = (0..n_b)
        .map(|b| exposure.iter().map(|r| r[b]).sum())
        .collect();
    let e_all: f64 = e_band.iter().sum();
    (0..n_p)
        .map(|p| {
            let e_p: f64 = exposure[p].iter().sum();
            (0..n_p)
                .map(|q| {
                    let into_q: Vec<f64> = (0..n_b)
                        .map(|b| (0..n_p).map(|r| moves[r][q][b]).sum())
                        .collect();
                    let all_q: f64 = into_q.iter().sum();
                    let m_pq: f64 = moves[p][q].iter().sum();
                    (0..n_b)
                        .map(|b| {
                            let profile = if all_q > 0.0 && e_band[b] > 0.0 {
                                (into_q[b] / e_band[b]) / (all_q / e_all)
                            } else {
                                0.0
                            };
                            let pooled = if e_p > 0.0 { m_pq / e_p } else { 0.0 };
                            Shrunk::new(moves[p][q][b], exposure[p][b], pooled * profile)
                        })
                        .collect()
                })
                .collect()
        })
        .collect()
}

/// The piecewise-exponential fit λ(p, b)·f(k) of exits `[p][b][k]` over
/// child-months `[p][b][k]`. Returns the factors (relative to
/// [`TIC_REFERENCE`]) and the factor-weighted exposure Σₖ f(k)·E(p, b, k)
/// of each cell; `None` when the reference band has no exit or no band
/// has more than one.
pub fn fit_time_in_care(
    events: &[Vec<Vec<f64>>],
    exposure: &[Vec<Vec<f64>>],
) -> Option<(TimeInCare, Vec<Vec<f64>>)> {
    let n_k = TIC_BANDS.len();
    let cells: Vec<(&Vec<f64>, &Vec<f64>)> = events
        .iter()
        .flatten()
        .zip(exposure.iter().flatten())
        .collect();
    let d_k: Vec<f64> = (0..n_k)
        .map(|k| cells.iter().map(|(d, _)| d[k]).sum())
        .collect();
    let e_k: Vec<f64> = (0..n_k)
        .map(|k| cells.iter().map(|(_, e)| e[k]).sum())
        .collect();
    if d_k[TIC_REFERENCE] <= 0.0 {
        return None;
    }
    let d_cell: Vec<f64> = cells.iter().map(|(d, _)| d.iter().sum()).collect();
    let mut f = vec![1.0; n_k];
    let mut lambda = vec![0.0; cells.len()];
    for _ in 0..500 {
        for (i, (_, e)) in cells.iter().enumerate() {
            let w: f64 = (0..n_k).map(|k| f[k] * e[k]).sum();
            lambda[i] = if w > 0.0 { d_cell[i] / w } else { 0.0 };
        }
        let mut next = vec![0.0; n_k];
        for k in 0..n_k {
            let w: f64 = cells.iter().zip(&lambda).map(|((_, e), l)| l * e[k]).sum();
            next[k] = if w > 0.0 { d_k[k] / w } else { 0.0 };
        }
        let reference = next[TIC_REFERENCE];
        if reference <= 0.0 {
            return None;
        }
        let change = next
            .iter()
            .zip(&f)
            .map(|(a, b)| (a / reference - b).abs())
            .fold(0.0, f64::max);
        f = next.iter().map(|x| x / reference).collect();
        if change < 1e-12 {
            break;
        }
    }
    // A band without exposure keeps the factor of the band before it.
    for k in 1..n_k {
        if e_k[k] <= 0.0 {
            f[k] = f[k - 1];
        }
    }
    let z = 1.959_963_984_540_054;
    // Without exits in a band, or in the reference band, the data set no
    // bound on the factor: its interval runs from 0 to infinity.
    let half = |k: usize| {
        if k == TIC_REFERENCE {
            0.0
        } else if d_k[k] > 0.0 && d_k[TIC_REFERENCE] > 0.0 {
            z * (1.0 / d_k[k] + 1.0 / d_k[TIC_REFERENCE]).sqrt()
        } else {
            f64::INFINITY
        }
    };
    let weighted = events
        .iter()
        .zip(exposure)
        .map(|(_, e)| {
            e.iter()
                .map(|ek| (0..n_k).map(|k| f[k] * ek[k]).sum())
                .collect()
        })
        .collect();
    Some((
        TimeInCare {
            bands: TIC_BANDS.to_vec(),
            low: (0..n_k)
                .map(|k| {
                    if half(k).is_finite() {
                        f[k] * (-half(k)).exp()
                    } else {
                        0.0
                    }
                })
                .collect(),
            high: (0..n_k)
                .map(|k| {
                    if half(k).is_finite() {
                        f[k] * half(k).exp()
                    } else {
                        f64::INFINITY
                    }
                })
                .collect(),
            events: d_k,
            exposure: e_k,
            factor: f,
            left_out: 0.0,
            left_out_events: 0.0,
        },
        weighted,
    ))
}

/// How many squared standard errors of the slope are taken as noise before
/// the rest counts as a trend: a slope must lie 3 standard errors from 0
/// to be used at all (chosen on synthetic councils: docs/calibration.md).
pub const TREND_Z2: f64 = 9.0;

/// The empirical-Bayes posterior of a slope estimated as `beta` ± `se`
/// under the prior N(0, τ²) with τ² = max(0, beta² − 9·se²): (mean, sd).
pub fn shrink_slope(beta: f64, se: f64) -> (f64, f64) {
    let tau2 = (beta * beta - TREND_Z2 * se * se).max(0.0);
    if tau2 <= 0.0 || se.is_nan() || se <= 0.0 {
        return (0.0, 0.0);
    }
    let w = tau2 / (tau2 + se * se);
    (beta * w, se * w.sqrt())
}

/// Entries a year at the start of the horizon that follows the monthly
/// counts `monthly`, under an annual growth `annual`: the level L that
/// makes Σ L/12 · (1 + annual)^((m − n)/12) over the n months equal the
/// entrants counted.
pub fn level_per_year(monthly: &[f64], annual: f64) -> f64 {
    let n = monthly.len() as f64;
    let beta = (1.0 + annual).ln() / 12.0;
    let weight: f64 = (0..monthly.len())
        .map(|m| (beta * (m as f64 - n)).exp())
        .sum();
    if weight > 0.0 && beta.is_finite() {
        12.0 * monthly.iter().sum::<f64>() / weight
    } else {
        0.0
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
    // Quasi-Poisson scale: Pearson's χ² over its degrees of freedom.
    let pearson: f64 = ts
        .iter()
        .zip(counts)
        .map(|(t, y)| {
            let mu = (a + b * t).exp();
            (y - mu).powi(2) / mu
        })
        .sum();
    let phi = (pearson / (n as f64 - 2.0)).max(1.0);
    let trend = Trend {
        months: n,
        phi,
        shrunk: 0.0,
        shrunk_sd: 0.0,
        annual: growth(b),
        low: growth(b - 1.96 * se * phi.sqrt()),
        high: growth(b + 1.96 * se * phi.sqrt()),
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

    use crate::calibrate::periods::{End, Segment, Spell};

    fn day(y: i32, m: u32, d: u32) -> Day {
        Day::from_ymd(y, m, d).unwrap()
    }

    fn spell(start: Day, end: Day, how: End, start_known: bool) -> Spell {
        Spell {
            dob: day(2010, 1, 1),
            segments: vec![Segment {
                placement: 0,
                start,
                end,
                how,
            }],
            start_known,
        }
    }

    fn one_band() -> Vec<AgeBand> {
        vec![AgeBand {
            id: "all".into(),
            from: 0,
            to: 18,
        }]
    }

    #[test]
    fn exposure_is_split_by_time_in_care_and_open_periods_are_censored() {
        let at = day(2023, 4, 1);
        let m = |days: i32| days as f64 / DAYS_PER_MONTH;
        let spells = vec![
            // Enters on the first day of the window, leaves after 100 days.
            spell(day(2021, 4, 1), day(2021, 7, 10), End::Exit, true),
            // Enters then, still in care at the date: censored.
            spell(day(2021, 4, 1), day(2023, 6, 1), End::Censored, true),
            // In care since 2016 (over 60 months), leaves on 1 April 2022.
            spell(day(2016, 1, 1), day(2022, 4, 1), End::Exit, true),
            // Began before the first return: time in care only known to be
            // at least 30 months at the window's start, so its exposure
            // below 60 months (apparent) is left out, the rest counted.
            spell(day(2018, 10, 1), day(2023, 6, 1), End::Censored, false),
        ];
        let e = estimate(&spells, at, 24, &one_band(), &["p".into()], day(2019, 4, 1));
        assert_eq!(e.exits[0][0].events, 2.0);
        let days_a = 100;
        let days_b = 730; // 2021-04-01 to 2023-04-01
        let days_c = 365; // 2021-04-01 to 2022-04-01
        let days_d = 730;
        let total = m(days_a + days_b + days_c + days_d);
        assert!((e.exits[0][0].exposure - total).abs() < 1e-9);
        // The time-in-care bands of the exposure: A all in 0–6 months; B 6
        // months then the rest in 6–24; C all in 60+; D counted only from
        // apparent month 60, i.e. 2023-10-01 is beyond the date: none.
        let tic = e.time_in_care.as_ref().map(|t| t.exposure.clone());
        let expect = [m(days_a) + 6.0, m(days_b) - 6.0, 0.0, m(days_c)];
        // No exit in 6–24 months (the reference band): no factors fitted.
        assert!(tic.is_none());
        let left_out = m(days_d);
        // Check the split through a second spell set that has a reference exit.
        let mut more = spells.clone();
        more.push(spell(day(2021, 4, 1), day(2022, 4, 1), End::Exit, true));
        let e = estimate(&more, at, 24, &one_band(), &["p".into()], day(2019, 4, 1));
        let t = e.time_in_care.unwrap();
        let extra = m(365);
        let expect = [expect[0] + 6.0, expect[1] + extra - 6.0, 0.0, expect[3]];
        for (k, (got, want)) in t.exposure.iter().zip(expect).enumerate() {
            assert!((got - want).abs() < 1e-9, "{k}: {got} {want}");
        }
        assert!((t.left_out - left_out).abs() < 1e-9);
        assert_eq!(t.events, vec![1.0, 1.0, 0.0, 1.0]);
        // One cell: the factors are the band rates over the reference's.
        let rate = |k: usize| t.events[k] / t.exposure[k];
        assert!((t.factor[0] - rate(0) / rate(1)).abs() < 1e-9);
        assert!((t.factor[3] - rate(3) / rate(1)).abs() < 1e-9);
        assert_eq!(t.factor[1], 1.0);
        // The stock at the date: A and C left, B (23.98 months: 6-24) and
        // D in care, D in the band of its known time (54 months: 24-60).
        assert_eq!(e.stock_tic[0][0], vec![0, 1, 1, 0]);
        assert_eq!(e.stock_tic_unknown, 1);
    }

    #[test]
    fn the_piecewise_exponential_fit_recovers_exact_factors() {
        // Two cells with rates 1 and 2 (per month) times factors 2, 1, ½, ¼:
        // events equal to their expectation.
        let f = [2.0, 1.0, 0.5, 0.25];
        let exposure = vec![vec![vec![10.0; 4], vec![5.0, 7.0, 3.0, 11.0]]];
        let events: Vec<Vec<Vec<f64>>> = vec![vec![
            (0..4).map(|k| 1.0 * f[k] * 10.0).collect(),
            (0..4).map(|k| 2.0 * f[k] * exposure[0][1][k]).collect(),
        ]];
        let (t, weighted) = fit_time_in_care(&events, &exposure).unwrap();
        for (got, want) in t.factor.iter().zip(f) {
            assert!((got - want).abs() < 1e-9, "{:?}", t.factor);
        }
        // λ = d / Σ f·E: 1 and 2.
        let d0: f64 = events[0][0].iter().sum();
        let d1: f64 = events[0][1].iter().sum();
        assert!((d0 / weighted[0][0] - 1.0).abs() < 1e-9);
        assert!((d1 / weighted[0][1] - 2.0).abs() < 1e-9);
        // The interval of a factor: exp(±1.96 √(1/d + 1/d_ref)).
        let d = t.events[0];
        let dr = t.events[1];
        let half = 1.959_963_984_540_054 * (1.0 / d + 1.0 / dr).sqrt();
        assert!((t.high[0] - 2.0 * half.exp()).abs() < 1e-9);
        assert!((t.low[0] - 2.0 * (-half).exp()).abs() < 1e-9);
    }

    #[test]
    fn a_band_without_exits_has_an_interval_from_zero_to_infinity() {
        // No exits in the first band: its factor is 0 and the data set no
        // upper bound on it (the interval's top was 0 × ∞, NaN).
        let exposure = vec![vec![vec![10.0, 20.0, 5.0, 5.0]]];
        let events = vec![vec![vec![0.0, 4.0, 1.0, 1.0]]];
        let (t, _) = fit_time_in_care(&events, &exposure).unwrap();
        assert_eq!(t.factor[0], 0.0);
        assert_eq!((t.low[0], t.high[0]), (0.0, f64::INFINITY));
        for k in 0..4 {
            assert!(!t.low[k].is_nan() && !t.high[k].is_nan(), "{t:?}");
        }
    }

    #[test]
    fn thin_cells_are_shrunk_and_cells_without_exposure_take_the_pooled_rate() {
        let none = Shrunk::new(0.0, 0.0, 0.03);
        assert!(none.pooled());
        assert_eq!(none.value, 0.03);
        // (2 + 1) / (100 + 1/0.05) = 3 / 120.
        assert!((Shrunk::new(2.0, 100.0, 0.05).value - 0.025).abs() < 1e-15);
        // Much data: the cell's own rate.
        let big = Shrunk::new(1000.0, 10_000.0, 0.5);
        assert!((big.value - 0.1).abs() < 1e-3);
        // A multiplicative table is its own main-effects fit.
        let e = vec![vec![10.0, 20.0], vec![30.0, 5.0]];
        let (a, b) = ([1.0, 3.0], [0.1, 0.2]);
        let d: Vec<Vec<f64>> = (0..2)
            .map(|r| (0..2).map(|c| a[r] * b[c] * e[r][c]).collect())
            .collect();
        let fit = main_effects(&d, &e);
        for r in 0..2 {
            for c in 0..2 {
                assert!((fit[r][c] - a[r] * b[c]).abs() < 1e-9);
            }
        }
        // A placement and band never seen: the main-effects rate, not 0.
        let d = vec![vec![4.0, 2.0], vec![6.0, 0.0]];
        let e = vec![vec![100.0, 100.0], vec![100.0, 0.0]];
        let s = shrink_exits(&d, &e);
        assert!(s[1][1].pooled() && s[1][1].value > 0.0);
        let fit = main_effects(&d, &e);
        assert_eq!(s[1][1].value, fit[1][1]);
    }

    #[test]
    fn moves_seen_only_at_one_age_stay_at_that_age() {
        // Two placements, two bands; moves 0 → 1 only in band 1.
        let mut moves = vec![vec![vec![0.0; 2]; 2]; 2];
        moves[0][1][1] = 6.0;
        let exposure = vec![vec![200.0, 100.0], vec![50.0, 0.0]];
        let s = shrink_moves(&moves, &exposure);
        // Band 0: exposure but no move into 1 at that age anywhere: 0.
        assert_eq!(s[0][1][0].value, 0.0);
        // Band 1: (6 + 1) / (100 + 1/λ₀), λ₀ = pooled 6/300 × profile
        // (6/100) / (6/350).
        let prior = 6.0 / 300.0 * (6.0 / 100.0) / (6.0 / 350.0);
        assert!((s[0][1][1].value - 7.0 / (100.0 + 1.0 / prior)).abs() < 1e-12);
        // No move 1 → 0 ever: none written at any age.
        assert!(s[1][0].iter().all(|r| r.value == 0.0));
    }

    #[test]
    fn a_slope_within_three_standard_errors_is_no_trend() {
        assert_eq!(shrink_slope(0.02, 0.01), (0.0, 0.0));
        // τ² = 0.04² − 9·0.01² = 0.0007; weight 0.0007 / 0.0008.
        let (b, sd) = shrink_slope(0.04, 0.01);
        assert!((b - 0.035).abs() < 1e-12);
        assert!((sd - 0.01 * 0.875f64.sqrt()).abs() < 1e-12);
        // The level: flat counts give their mean whatever the window.
        assert!((level_per_year(&[10.0; 24], 0.0) - 120.0).abs() < 1e-9);
        // Counts growing 10% a year give the rate reached at the end.
        let g = 1.1f64;
        let counts: Vec<f64> = (0..24).map(|m| g.powf((m as f64 - 24.0) / 12.0)).collect();
        assert!((level_per_year(&counts, 0.1) - 12.0).abs() < 1e-9);
    }
}
