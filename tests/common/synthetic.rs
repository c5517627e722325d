//! A synthetic council: SSDA903 returns generated from a known process, for
//! testing calibration and backtests against the truth.
//!
//! The process is the model's, in continuous time and real dates:
//! - entrants per month ~ negative binomial (a gamma-mixed Poisson) with
//!   mean `per_month` and size `dispersion`, each on a uniform day of the
//!   month, in an age band by `age_mix` with an age uniform within it (so a
//!   real date of birth), placed by the band's `mix`;
//! - in care, competing exponential hazards per day: leaving with the
//!   monthly hazard `exit[placement][band]` and moving with
//!   `moves[from][to]` (per month, any age), the band following the
//!   child's birthdays; everybody still in care leaves on the 18th birthday;
//! - noise the calibration must see through: legal status changes and
//!   changes of carer within a placement type start new episodes, and
//!   children on short breaks (LS V3) have episodes of a few days.
//!
//! The process starts `burn_in_years` before the first return so that the
//! children in care at the start of the returns have realistic histories.
//! Each return (year Y: 1 April Y−1 to 31 March Y) lists every episode open
//! at some point in its year, with no DEC when still open at its end.

#![allow(dead_code)]

use std::fmt::Write as _;
use std::path::Path;

use carecast::calibrate::date::Day;
use carecast::model::stream::Stream;
use rand::RngExt;
use rand_distr::{Distribution, Gamma, Poisson};

pub const DAYS_PER_MONTH: f64 = 30.4375;

/// Placement types of the synthetic council, their SSDA903 codes and
/// providers (the default mapping sends each to the type of the same name).
pub const PLACEMENTS: [(&str, &str, &str); 5] = [
    ("kinship", "U1", "PR1"),
    ("inhouse_fostering", "U4", "PR1"),
    ("ifa", "U4", "PR4"),
    ("external_residential", "K2", "PR4"),
    ("supported", "H5", "PR4"),
];
/// Another code of the same type, for changes of carer within a type.
pub const OTHER_CODE: [&str; 5] = ["U2", "U5", "U5", "R1", "P2"];
pub const BANDS: [(u32, u32); 4] = [(0, 5), (5, 10), (10, 16), (16, 18)];

/// Lower bounds of the time-in-care bands, in months of the current period.
pub const TIC_BANDS: [f64; 4] = [0.0, 6.0, 24.0, 60.0];

/// The true rates.
#[derive(Clone, Debug)]
pub struct Truth {
    /// Entrants a month on 1 April 2023 (the trend's reference date).
    pub per_month: f64,
    /// Annual growth of the entry rate (0: none).
    pub trend: f64,
    pub dispersion: f64,
    pub age_mix: [f64; 4],
    /// Entrants' ages by single year 0–17 (then `age_mix` is not used);
    /// `None`: uniform within the band drawn from `age_mix`.
    pub age_by_year: Option<[f64; 18]>,
    /// `[band][placement]`.
    pub mix: [[f64; 5]; 4],
    /// Monthly exit hazard `[placement][band]`.
    pub exit: [[f64; 4]; 5],
    /// Monthly move rate `[from][to]`.
    pub moves: [[f64; 5]; 5],
    /// Factor on the move rate into each placement by the child's band
    /// `[to][band]` (1: moves at any age).
    pub move_band: [[f64; 4]; 5],
    /// Factor on the exit hazard by time in the current period of care,
    /// one per band of [`TIC_BANDS`] (all 1: stays exponential).
    pub tic_factor: [f64; 4],
    /// Probability that a child who leaves (not at 18) comes back into care,
    /// after a wait exponential with mean `reentry_months`.
    pub reentry: f64,
    pub reentry_months: f64,
    /// Monthly rate of a new episode that changes only the legal status
    /// or the carer within the placement type.
    pub status_changes: f64,
    /// Short breaks a month (children not otherwise in care).
    pub respite_per_month: f64,
}

impl Truth {
    /// A council of about 500 children in care, scaled by `scale`.
    pub fn typical(scale: f64) -> Truth {
        Truth {
            per_month: 14.0 * scale,
            trend: 0.0,
            dispersion: 20.0,
            age_mix: [0.35, 0.2, 0.3, 0.15],
            age_by_year: None,
            mix: [
                [0.25, 0.45, 0.30, 0.0, 0.0],
                [0.20, 0.40, 0.35, 0.05, 0.0],
                [0.15, 0.35, 0.35, 0.15, 0.0],
                [0.10, 0.20, 0.30, 0.15, 0.25],
            ],
            exit: [
                [0.030, 0.022, 0.018, 0.020],
                [0.035, 0.020, 0.015, 0.020],
                [0.030, 0.016, 0.012, 0.016],
                [0.050, 0.030, 0.020, 0.030],
                [0.050, 0.050, 0.050, 0.045],
            ],
            moves: [
                [0.0, 0.004, 0.002, 0.0, 0.0],
                [0.002, 0.0, 0.006, 0.002, 0.0],
                [0.0, 0.003, 0.0, 0.004, 0.0],
                [0.0, 0.002, 0.005, 0.0, 0.0],
                [0.0, 0.0, 0.0, 0.0, 0.0],
            ],
            move_band: [[1.0; 4]; 5],
            tic_factor: [1.0; 4],
            reentry: 0.0,
            reentry_months: 12.0,
            status_changes: 0.01,
            respite_per_month: 2.0 * scale,
        }
    }

    /// The process the calibration must forecast well (issue 12): stays
    /// that shorten the chance of leaving the longer a child is in care,
    /// many babies among the 0–4 entrants, moves into supported
    /// accommodation only at 16–17, and re-entries. No trend.
    pub fn realistic(scale: f64) -> Truth {
        let mut t = Truth::typical(scale);
        t.per_month = 12.0 * scale;
        // Stays: 1.6 × the base hazard in the first 6 months, 0.5 × after
        // five years.
        t.tic_factor = [1.6, 1.0, 0.7, 0.5];
        t.exit = [
            [0.030, 0.022, 0.018, 0.020],
            [0.035, 0.020, 0.015, 0.020],
            [0.030, 0.016, 0.012, 0.016],
            [0.050, 0.030, 0.020, 0.030],
            [0.050, 0.050, 0.050, 0.045],
        ];
        // A third of the 0–4 entrants are babies under one.
        let mut ages = [0.0; 18];
        let weights = [
            0.14, 0.05, 0.045, 0.04, 0.035, 0.04, 0.04, 0.04, 0.04, 0.04, 0.05, 0.05, 0.06, 0.07,
            0.08, 0.09, 0.09, 0.05,
        ];
        let total: f64 = weights.iter().sum();
        for (a, w) in ages.iter_mut().zip(weights) {
            *a = w / total;
        }
        t.age_by_year = Some(ages);
        // Into supported accommodation from fostering and residential, at
        // 16–17 only.
        t.moves[1][4] = 0.02;
        t.moves[2][4] = 0.02;
        t.moves[3][4] = 0.03;
        t.move_band[4] = [0.0, 0.0, 0.0, 1.0];
        t.reentry = 0.15;
        t.reentry_months = 9.0;
        t
    }

    /// Entrants a year in (band, placement), at the trend's reference date
    /// and without re-entries (with `age_mix`).
    pub fn entries_per_year(&self, band: usize, placement: usize) -> f64 {
        12.0 * self.per_month * self.age_mix[band] * self.mix[band][placement]
    }

    /// The expected new entrants in the month starting `m0`.
    fn per_month_at(&self, m0: Day) -> f64 {
        if self.trend == 0.0 {
            return self.per_month;
        }
        let reference = Day::from_ymd(2023, 4, 1).unwrap();
        let years = (m0.0 - reference.0) as f64 / 365.25;
        self.per_month * (1.0 + self.trend).powf(years)
    }

    /// The exit hazard factor after `months` in care.
    fn tic(&self, months: f64) -> (f64, f64) {
        let k = TIC_BANDS.iter().rposition(|b| *b <= months).unwrap_or(0);
        let next = TIC_BANDS.get(k + 1).copied().unwrap_or(f64::INFINITY);
        (self.tic_factor[k], next)
    }

    fn tic_matters(&self) -> bool {
        self.tic_factor.iter().any(|f| *f != 1.0)
    }
}

/// One generated episode.
#[derive(Clone, Debug)]
pub struct Episode {
    pub child: usize,
    pub start: Day,
    pub end: Option<Day>,
    pub ls: &'static str,
    pub place: &'static str,
    pub provider: &'static str,
    pub rne: &'static str,
    pub rec: &'static str,
}

/// A generated council: children's births and their episodes.
#[derive(Clone, Debug, Default)]
pub struct Council {
    pub dob: Vec<Day>,
    pub episodes: Vec<Episode>,
    /// The true placement of each episode (index into PLACEMENTS); none for
    /// short breaks.
    pub placement: Vec<Option<usize>>,
    /// The day the period of care of each episode began.
    pub period_start: Vec<Day>,
    /// The period of care the episodes being pushed belong to.
    current_period: Option<Day>,
}

fn day_plus(d: Day, days: f64) -> Day {
    Day(d.0 + days.floor() as i32)
}

fn band_of(dob: Day, on: Day) -> usize {
    let years = (dob.months_of_age(on) / 12) as u32;
    BANDS
        .iter()
        .position(|(a, b)| *a <= years && years < *b)
        .unwrap_or(3)
}

fn pick(rng: &mut Stream, weights: &[f64]) -> usize {
    let total: f64 = weights.iter().sum();
    let mut u = rng.random::<f64>() * total;
    for (i, w) in weights.iter().enumerate() {
        if u < *w {
            return i;
        }
        u -= w;
    }
    weights.len() - 1
}

/// Generates the council from `start` (first month) to `end` (exclusive).
pub fn generate(truth: &Truth, start: Day, end: Day, seed: u64) -> Council {
    let mut rng = Stream::new(seed);
    let mut c = Council::default();
    entrants(truth, &mut c, &mut rng, start, end);
    c
}

/// Adds the entrants from `start` to `end` and their stays.
fn entrants(truth: &Truth, c: &mut Council, rng: &mut Stream, start: Day, end: Day) {
    let mut month = start.month_index();
    while Day::month_start(month) < end {
        let m0 = Day::month_start(month);
        let days_in = Day::month_start(month + 1).0 - m0.0;
        let per_month = truth.per_month_at(m0);
        let mean = Gamma::new(truth.dispersion, per_month / truth.dispersion)
            .unwrap()
            .sample(rng);
        let n = if mean > 0.0 {
            Poisson::new(mean).unwrap().sample(rng) as usize
        } else {
            0
        };
        for _ in 0..n {
            let entry = Day(m0.0 + (rng.random::<f64>() * days_in as f64) as i32);
            let (band, age_days) = match &truth.age_by_year {
                Some(ages) => {
                    let year = pick(rng, ages);
                    let band = BANDS
                        .iter()
                        .position(|(a, b)| *a as usize <= year && year < *b as usize)
                        .unwrap_or(3);
                    (band, (year as f64 + rng.random::<f64>()) * 365.25)
                }
                None => {
                    let band = pick(rng, &truth.age_mix);
                    let (from, to) = BANDS[band];
                    // An age uniform within the band, in days.
                    (
                        band,
                        (from as f64 + rng.random::<f64>() * (to - from) as f64) * 365.25,
                    )
                }
            };
            let mut dob = Day(entry.0 - age_days as i32);
            // Guard the band at entry against calendar rounding.
            while band_of(dob, entry) > band {
                dob = Day(dob.0 + 1);
            }
            while band_of(dob, entry) < band {
                dob = Day(dob.0 - 1);
            }
            let placement = pick(rng, &truth.mix[band]);
            stay(truth, c, rng, dob, entry, placement, end);
        }
        if truth.respite_per_month > 0.0 {
            let k = Poisson::new(truth.respite_per_month).unwrap().sample(rng) as usize;
            for _ in 0..k {
                let s = Day(m0.0 + (rng.random::<f64>() * days_in as f64) as i32);
                let dob = Day(s.0 - (365.25 * (2.0 + 14.0 * rng.random::<f64>())) as i32);
                c.dob.push(dob);
                let e = Day(s.0 + 1 + (rng.random::<f64>() * 5.0) as i32);
                c.episodes.push(Episode {
                    child: c.dob.len() - 1,
                    start: s,
                    end: (e < end).then_some(e),
                    ls: "V3",
                    place: "U4",
                    provider: "PR1",
                    rne: "S",
                    rec: if e < end { "E13" } else { "" },
                });
                c.placement.push(None);
                c.period_start.push(s);
            }
        }
        month += 1;
    }
}

/// One child's spell in care from `entry`.
fn stay(
    truth: &Truth,
    c: &mut Council,
    rng: &mut Stream,
    dob: Day,
    entry: Day,
    first: usize,
    end: Day,
) {
    c.dob.push(dob);
    let child = c.dob.len() - 1;
    stay_from(truth, c, rng, child, entry, entry, first, end);
}

/// The child comes back into care after leaving on `left`, or not: with
/// probability `p`, after an exponential wait of mean `reentry_months`.
fn maybe_reenter(
    truth: &Truth,
    c: &mut Council,
    rng: &mut Stream,
    child: usize,
    left: Day,
    p: f64,
    end: Day,
) {
    if p <= 0.0 || rng.random::<f64>() >= p {
        return;
    }
    let wait = -(1.0 - rng.random::<f64>()).ln() * truth.reentry_months * DAYS_PER_MONTH;
    let back = Day(left.0 + 1 + wait as i32);
    let dob = c.dob[child];
    if back >= end || back >= dob.plus_years(18) {
        return;
    }
    let placement = pick(rng, &truth.mix[band_of(dob, back)]);
    stay_from(truth, c, rng, child, back, back, placement, end);
}

/// The spell of `child` in a period of care that began on `period`, from
/// `from` on in placement `first`.
#[allow(clippy::too_many_arguments)]
fn stay_from(
    truth: &Truth,
    c: &mut Council,
    rng: &mut Stream,
    child: usize,
    period: Day,
    from: Day,
    first: usize,
    end: Day,
) {
    let dob = c.dob[child];
    c.current_period = Some(period);
    let eighteen = dob.plus_years(18);
    let mut t = from.0 as f64;
    let mut p = first;
    let mut ep_start = from;
    let mut rne = if from == period { "S" } else { "P" };
    let mut ls = "C2";
    let mut code = PLACEMENTS[p].1;
    loop {
        let now = Day(t as i32);
        let band = band_of(dob, now);
        let next_birthday = dob.plus_years(BANDS[band].1 as i32);
        let mut horizon = next_birthday.min(eighteen).min(end);
        let mut factor = 1.0;
        if truth.tic_matters() {
            let (f, next) = truth.tic((t - period.0 as f64) / DAYS_PER_MONTH);
            factor = f;
            if next.is_finite() {
                let boundary = Day(period.0 + (next * DAYS_PER_MONTH).ceil() as i32);
                horizon = horizon.min(boundary.max(Day(now.0 + 1)));
            }
        }
        let exit = truth.exit[p][band] * factor;
        let move_to: Vec<f64> = (0..5)
            .map(|q| truth.moves[p][q] * truth.move_band[q][band])
            .collect();
        let moves: f64 = move_to.iter().sum();
        let total = (exit + moves + truth.status_changes) / DAYS_PER_MONTH;
        let wait = -(1.0 - rng.random::<f64>()).ln() / total;
        let at = t + wait;
        if at >= horizon.0 as f64 {
            // The band changes (hazards change: draw again), the child turns
            // 18 (leaves), or the simulation ends (still open).
            t = horizon.0 as f64;
            if horizon == end {
                push(
                    c,
                    child,
                    ep_start,
                    None,
                    ls,
                    code,
                    PLACEMENTS[p].2,
                    rne,
                    "",
                    Some(p),
                );
                return;
            }
            if horizon == eighteen {
                push(
                    c,
                    child,
                    ep_start,
                    Some(eighteen),
                    ls,
                    code,
                    PLACEMENTS[p].2,
                    rne,
                    "E8",
                    Some(p),
                );
                return;
            }
            continue;
        }
        t = at;
        // Episodes last at least a day, so that no two start on the same day.
        let day = Day(t as i32).max(Day(ep_start.0 + 1));
        if day >= horizon {
            continue;
        }
        let u = rng.random::<f64>() * (exit + moves + truth.status_changes);
        if u < exit {
            push(
                c,
                child,
                ep_start,
                Some(day),
                ls,
                code,
                PLACEMENTS[p].2,
                rne,
                "E11",
                Some(p),
            );
            maybe_reenter(truth, c, rng, child, day, truth.reentry, end);
            return;
        }
        if u < exit + moves {
            let q = pick(rng, &move_to);
            push(
                c,
                child,
                ep_start,
                Some(day),
                ls,
                code,
                PLACEMENTS[p].2,
                rne,
                "X1",
                Some(p),
            );
            p = q;
            code = PLACEMENTS[p].1;
            rne = "P";
        } else {
            // A new episode that the model must not see as a move: the legal
            // status changes, or the carer within the same type.
            push(
                c,
                child,
                ep_start,
                Some(day),
                ls,
                code,
                PLACEMENTS[p].2,
                rne,
                "X1",
                Some(p),
            );
            if rng.random::<f64>() < 0.5 {
                ls = if ls == "C2" { "C1" } else { "C2" };
                rne = "L";
            } else {
                code = if code == PLACEMENTS[p].1 {
                    OTHER_CODE[p]
                } else {
                    PLACEMENTS[p].1
                };
                rne = "P";
            }
        }
        ep_start = day;
    }
}

#[allow(clippy::too_many_arguments)]
fn push(
    c: &mut Council,
    child: usize,
    start: Day,
    end: Option<Day>,
    ls: &'static str,
    place: &'static str,
    provider: &'static str,
    rne: &'static str,
    rec: &'static str,
    placement: Option<usize>,
) {
    c.episodes.push(Episode {
        child,
        start,
        end,
        ls,
        place,
        provider,
        rne,
        rec,
    });
    c.placement.push(placement);
    c.period_start.push(c.current_period.unwrap_or(start));
}

impl Council {
    /// The true expected number in care at the end of each of the `months`
    /// months from `at`, by `[placement][band]`, given who is in care the
    /// day before: the mean over `reps` continuations of the true process
    /// (memoryless, so each child in care simply carries on).
    pub fn expected_counts(
        &self,
        truth: &Truth,
        at: Day,
        months: usize,
        reps: usize,
        seed: u64,
    ) -> Vec<[[f64; 4]; 5]> {
        self.expected_counts_and_spread(truth, at, months, reps, seed)
            .0
    }

    /// As [`Council::expected_counts`], with the standard deviation of the
    /// total over the continuations, month by month: the process noise of
    /// the true process around its expectation, given who is in care at
    /// `at`.
    pub fn expected_counts_and_spread(
        &self,
        truth: &Truth,
        at: Day,
        months: usize,
        reps: usize,
        seed: u64,
    ) -> (Vec<[[f64; 4]; 5]>, Vec<f64>) {
        let eve = Day(at.0 - 1);
        // Who is in care the day before: birth, placement, start of the period.
        let stock: Vec<(Day, usize, Day)> = self
            .episodes
            .iter()
            .zip(&self.placement)
            .zip(&self.period_start)
            .filter_map(|((e, p), period)| {
                let p = (*p)?;
                let open = e.start <= eve && e.end.is_none_or(|d| eve < d);
                (open && self.dob[e.child].months_of_age(eve) < 216).then_some((
                    self.dob[e.child],
                    p,
                    *period,
                ))
            })
            .collect();
        // Who left care (not at 18) and may come back: birth, the day left
        // and the chance of coming back after `at`, given not back by then.
        let mut last: std::collections::BTreeMap<usize, &Episode> = Default::default();
        for (e, p) in self.episodes.iter().zip(&self.placement) {
            if p.is_some() && e.start <= eve {
                let slot = last.entry(e.child).or_insert(e);
                if slot.start < e.start {
                    *slot = e;
                }
            }
        }
        let mut away: Vec<(Day, Day, f64)> = Vec::new();
        if truth.reentry > 0.0 {
            for e in last.values() {
                if let Some(left) = e.end
                    && left <= eve
                    && e.rec == "E11"
                {
                    let s = (at.0 - left.0) as f64 / DAYS_PER_MONTH;
                    let w = truth.reentry * (-s / truth.reentry_months).exp();
                    away.push((
                        self.dob[e.child],
                        Day(at.0 - 1),
                        w / (1.0 - truth.reentry + w),
                    ));
                }
            }
            away.sort_by_key(|(dob, left, _)| (*dob, *left));
        }
        let end = Day::month_start(at.month_index() + months as i32);
        let quiet = Truth {
            respite_per_month: 0.0,
            status_changes: 0.0,
            ..truth.clone()
        };
        let mut sum = vec![[[0.0; 4]; 5]; months];
        let (mut total, mut total2) = (vec![0.0; months], vec![0.0; months]);
        for r in 0..reps {
            let mut rng = Stream::new(seed ^ (r as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15));
            let mut c = Council::default();
            for (dob, p, period) in &stock {
                c.dob.push(*dob);
                let child = c.dob.len() - 1;
                stay_from(&quiet, &mut c, &mut rng, child, *period, at, *p, end);
            }
            for (dob, eve, chance) in &away {
                c.dob.push(*dob);
                let child = c.dob.len() - 1;
                maybe_reenter(&quiet, &mut c, &mut rng, child, *eve, *chance, end);
            }
            entrants(&quiet, &mut c, &mut rng, at, end);
            for (k, out) in sum.iter_mut().enumerate() {
                let day = Day(Day::month_start(at.month_index() + k as i32 + 1).0 - 1);
                let n = c.in_care(day);
                for p in 0..5 {
                    for b in 0..4 {
                        out[p][b] += n[p][b] as f64 / reps as f64;
                    }
                }
                let all = n.iter().flatten().sum::<u32>() as f64;
                total[k] += all;
                total2[k] += all * all;
            }
        }
        let r = reps as f64;
        let sd = total
            .iter()
            .zip(&total2)
            .map(|(s, s2)| ((s2 - s * s / r) / (r - 1.0).max(1.0)).max(0.0).sqrt())
            .collect();
        (sum, sd)
    }

    /// Children in care on `day` by `[placement][band]`, from the truth.
    pub fn in_care(&self, day: Day) -> [[u32; 4]; 5] {
        let mut out = [[0u32; 4]; 5];
        for (e, p) in self.episodes.iter().zip(&self.placement) {
            let Some(p) = p else { continue };
            if e.start <= day && e.end.is_none_or(|d| day < d) {
                let dob = self.dob[e.child];
                if dob.months_of_age(day) < 216 {
                    out[*p][band_of(dob, day)] += 1;
                }
            }
        }
        out
    }

    /// Writes the returns for collection years `first..=last` into `dir`
    /// (`dir/YEAR/header.csv`, `dir/YEAR/episodes.csv`). Years listed in
    /// `iso_years` write ISO dates, the others dd/mm/yyyy.
    pub fn write_returns(&self, dir: &Path, first: i32, last: i32, iso_years: &[i32]) {
        for year in first..=last {
            let from = Day::from_ymd(year - 1, 4, 1).unwrap();
            let to = Day::from_ymd(year, 3, 31).unwrap();
            let iso = iso_years.contains(&year);
            let date = |d: Day| {
                let (y, m, dd) = d.ymd();
                if iso {
                    format!("{y:04}-{m:02}-{dd:02}")
                } else {
                    format!("{dd:02}/{m:02}/{y:04}")
                }
            };
            let mut episodes = String::from(
                "CHILD,DECOM,RNE,LS,CIN,PLACE,PLACE_PROVIDER,DEC,REC,REASON_PLACE_CHANGE,HOME_POST,PL_POST,URN\n",
            );
            let mut children = std::collections::BTreeSet::new();
            for e in &self.episodes {
                if e.start > to || e.end.is_some_and(|d| d < from) {
                    continue;
                }
                let (dec, rec) = match e.end {
                    Some(d) if d <= to => (date(d), e.rec),
                    _ => (String::new(), ""),
                };
                children.insert(e.child);
                let _ = writeln!(
                    episodes,
                    "{},{},{},{},N1,{},{},{},{},,AB1,CD2,SC000000",
                    1_000_000 + e.child,
                    date(e.start),
                    e.rne,
                    e.ls,
                    e.place,
                    e.provider,
                    dec,
                    rec
                );
            }
            let mut header = String::from("CHILD,SEX,DOB,ETHNIC,UPN,MOTHER,MC_DOB\n");
            for child in children {
                let _ = writeln!(
                    header,
                    "{},{},{},WBRI,,,",
                    1_000_000 + child,
                    1 + child % 2,
                    date(self.dob[child])
                );
            }
            let folder = dir.join(year.to_string());
            std::fs::create_dir_all(&folder).unwrap();
            std::fs::write(folder.join("header.csv"), header).unwrap();
            std::fs::write(folder.join("episodes.csv"), episodes).unwrap();
        }
    }
}

/// Generates a council and writes its returns for `first..=last` into
/// `dir`; the process runs from `burn_in_years` before the first return.
pub fn council(truth: &Truth, dir: &Path, first: i32, last: i32, seed: u64) -> Council {
    council_until(truth, dir, first, last, last, seed)
}

/// As [`council`], with the process run on to 1 April of `until` (so that
/// what happened after the last return is known).
pub fn council_until(
    truth: &Truth,
    dir: &Path,
    first: i32,
    last: i32,
    until: i32,
    seed: u64,
) -> Council {
    let burn_in_years = 12;
    let start = Day::from_ymd(first - 1 - burn_in_years, 4, 1).unwrap();
    let end = Day::from_ymd(until.max(last), 4, 1).unwrap();
    let c = generate(truth, start, end, seed);
    c.write_returns(dir, first, last, &[first + 1]);
    c
}
