//! The hazards a child faces, and the date of its next event drawn from them
//! by inversion.
//!
//! A child in placement p, age band b and time-in-care band k leaves care at
//! rate `exit[p, b] × factor[p, k]` (times its cohort's exit factor, for a
//! child of a cohort) and moves to placement q at rate
//! `move[p → q, b]`, all per day. These are constant between the dates on
//! which the child's age band or time-in-care band changes, so the
//! cumulative hazard is piecewise linear in time: with E ~ Exp(1) the next
//! event falls where the cumulative hazard since the last event reaches E
//! (Cox & Lewis's inversion). Which event it is follows from the rates in
//! force at that date.

use crate::model::Model;
use crate::model::child::{Ageing, Child};
use crate::model::params::RunInputs;

/// The largest hazard per day: an annual probability of 1 ("at once") is
/// taken as this rate, so that every hazard is finite. A move at this rate
/// into a full placement waits for a place rather than retrying.
pub const IMMEDIATE: f64 = 1e6;

/// A run's hazards, laid out for the walk over a child's future.
#[derive(Clone, Debug)]
pub struct Hazards {
    bands: usize,
    tics: usize,
    /// Cells of one group of children (the main children, then each cohort).
    group_cells: usize,
    /// Lower bounds of the time-in-care bands in days (the first 0).
    pub tic_bounds: Vec<f64>,
    /// Exit hazard by `[group × group cells + (placement × bands + band) ×
    /// tics + tic]`, group 0 the main children and c + 1 cohort c.
    exit: Vec<f64>,
    /// Exits and moves together, same layout.
    total: Vec<f64>,
    /// Moves out of `(placement, band)`: `moves[move_start[pb]..move_start[pb + 1]]`.
    move_start: Vec<usize>,
    /// (destination, transition index) of each move, in config order.
    move_to: Vec<(usize, usize)>,
    /// Hazard per day of each move, same order.
    move_rate: Vec<f64>,
}

/// What a child's next event is.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Next {
    /// An exit or a move, decided when it happens.
    Hazard(f64),
    /// Its 18th birthday, when it leaves care.
    Eighteen(f64),
    /// Nothing before the horizon ends.
    Beyond,
}

impl Hazards {
    /// The layout for `model`; rates are set by [`Hazards::fill`].
    pub fn new(model: &Model) -> Hazards {
        let bands = model.ages.bands.len();
        let tic_bounds: Vec<f64> = match &model.time_in_care {
            Some(t) => t.bounds_days().collect(),
            None => vec![0.0],
        };
        let tics = tic_bounds.len();
        let mut move_start = vec![0];
        let mut move_to = Vec::new();
        for p in 0..model.placements.len() {
            for b in 0..bands {
                for (i, tr) in model.transitions.iter().enumerate() {
                    if tr.from == p && tr.applies(b) {
                        move_to.push((tr.to, i));
                    }
                }
                move_start.push(move_to.len());
            }
        }
        let group_cells = model.placements.len() * bands * tics;
        let cells = group_cells * (model.cohorts.len() + 1);
        Hazards {
            bands,
            tics,
            group_cells,
            tic_bounds,
            exit: vec![0.0; cells],
            total: vec![0.0; cells],
            move_start,
            move_rate: vec![0.0; move_to.len()],
            move_to,
        }
    }

    /// Sets this run's rates.
    pub fn fill(&mut self, inputs: &RunInputs) {
        for (m, &(_, i)) in self.move_to.iter().enumerate() {
            // The move's band is found from where it sits in `move_start`.
            let pb = self.move_start.partition_point(|&s| s <= m) - 1;
            let b = pb % self.bands;
            self.move_rate[m] = inputs.move_rate[i * self.bands + b];
        }
        for pb in 0..self.move_start.len() - 1 {
            let p = pb / self.bands;
            let moves: f64 = self.move_rate[self.move_start[pb]..self.move_start[pb + 1]]
                .iter()
                .sum();
            let factors = std::iter::once(1.0).chain(inputs.cohort_exit_factor.iter().copied());
            for (g, factor) in factors.enumerate() {
                for k in 0..self.tics {
                    let exit = inputs.hazard[pb] * inputs.tic_factor[p * self.tics + k] * factor;
                    let cell = g * self.group_cells + pb * self.tics + k;
                    self.exit[cell] = exit;
                    self.total[cell] = exit + moves;
                }
            }
        }
    }

    /// Appends to `key` everything a child's next event depends on here:
    /// the layout, the bands of time in care and every rate.
    pub fn key(&self, key: &mut Vec<f64>) {
        key.extend([self.bands, self.tics, self.group_cells].map(|n| n as f64));
        key.extend_from_slice(&self.tic_bounds);
        key.extend(self.move_start.iter().map(|&n| n as f64));
        key.extend(self.move_to.iter().map(|&(to, _)| to as f64));
        key.extend_from_slice(&self.exit);
        key.extend_from_slice(&self.total);
        key.extend_from_slice(&self.move_rate);
    }

    pub fn tics(&self) -> usize {
        self.tics
    }

    /// The time-in-care band of a child `days` into its period of care.
    #[inline]
    pub fn tic_band(&self, days: f64) -> usize {
        self.tic_bounds.partition_point(|&b| b <= days).max(1) - 1
    }

    #[inline]
    fn cell(&self, placement: usize, band: usize, tic: usize) -> usize {
        (placement * self.bands + band) * self.tics + tic
    }

    /// The exit hazard per day of (placement, band, time-in-care band) for
    /// the main children.
    pub fn exit(&self, placement: usize, band: usize, tic: usize) -> f64 {
        self.exit[self.cell(placement, band, tic)]
    }

    /// The same for group `group` (0 the main children, c + 1 cohort c).
    #[inline]
    pub fn exit_of(&self, group: usize, placement: usize, band: usize, tic: usize) -> f64 {
        self.exit[group * self.group_cells + self.cell(placement, band, tic)]
    }

    /// The hazard of any exit or move for the main children.
    pub fn total(&self, placement: usize, band: usize, tic: usize) -> f64 {
        self.total[self.cell(placement, band, tic)]
    }

    /// The same for group `group`.
    #[inline]
    pub fn total_of(&self, group: usize, placement: usize, band: usize, tic: usize) -> f64 {
        self.total[group * self.group_cells + self.cell(placement, band, tic)]
    }

    /// The hazard per day of moving from `placement` to `to` in `band`.
    pub fn move_rate_to(&self, placement: usize, band: usize, to: usize) -> f64 {
        self.moves(placement, band)
            .filter(|&(q, _, _)| q == to)
            .map(|(_, _, r)| r)
            .sum()
    }

    /// The moves out of (placement, band): destination, transition index and
    /// hazard per day.
    pub fn moves(
        &self,
        placement: usize,
        band: usize,
    ) -> impl Iterator<Item = (usize, usize, f64)> + '_ {
        let pb = placement * self.bands + band;
        let range = self.move_start[pb]..self.move_start[pb + 1];
        self.move_to[range.clone()]
            .iter()
            .zip(&self.move_rate[range])
            .map(|(&(to, i), &r)| (to, i, r))
    }

    /// The date of `child`'s next event after `now`, spending the
    /// exponential draw the child carries (`child.clock`) as the cumulative
    /// hazard grows through its coming bands of age and time in care.
    /// `child.band` must be up to date at `now`.
    #[inline]
    pub fn next(&self, child: &Child, now: f64, end: f64, ageing: &Ageing) -> Next {
        match child.waiting {
            None => self.walk::<false>(child, now, end, ageing),
            Some(_) => self.walk::<true>(child, now, end, ageing),
        }
    }

    /// [`Hazards::next`] for a child waiting for a place (`WAITING`) or
    /// not: one walk, compiled twice, so that the common case carries no
    /// code for the rare one.
    #[inline]
    fn walk<const WAITING: bool>(
        &self,
        child: &Child,
        now: f64,
        end: f64,
        ageing: &Ageing,
    ) -> Next {
        let mut t = now;
        let mut clock = child.clock;
        let p = child.placement as usize;
        let (mut b, mut band_until) = (child.band as usize, child.band_until);
        // Time-in-care bands are followed by index, not recomputed from the
        // date, so rounding at a bound cannot hold the walk in place.
        let mut k = if self.tics == 1 {
            0
        } else {
            self.tic_band(t - child.care_start)
        };
        // The child's rates: `total[first + band × tics + tic]`.
        let first = child.cohort as usize * self.group_cells + self.cell(p, 0, 0);
        let stop = earlier(child.leaves_at, end);
        loop {
            let tic_end = if k + 1 < self.tics {
                child.care_start + self.tic_bounds[k + 1]
            } else {
                f64::INFINITY
            };
            let seg_end = earlier(earlier(tic_end, band_until), stop);
            let mut rate = self.total[first + b * self.tics + k];
            if WAITING && let Some(q) = child.waiting {
                // A child waiting for a place does not try that move meanwhile.
                rate = (rate - self.move_rate_to(p, b, q as usize)).max(0.0);
            }
            if rate > 0.0 {
                let span = rate * (seg_end - t);
                if clock <= span {
                    return Next::Hazard(t + clock / rate);
                }
                clock -= span;
            }
            t = seg_end;
            if t >= end {
                return Next::Beyond;
            }
            if t >= child.leaves_at {
                return Next::Eighteen(t);
            }
            if t >= band_until {
                b += 1;
                band_until = ageing.band_end(child.born, b);
            }
            if t >= tic_end {
                k += 1;
            }
        }
    }
}

/// The earlier of two dates, neither NaN (cheaper than `f64::min`, which
/// must handle NaN).
#[inline(always)]
fn earlier(a: f64, b: f64) -> f64 {
    if a < b { a } else { b }
}

/// The mean and median length of a stay, in days, under a piecewise-constant
/// exit hazard (`rates[k]` from `bounds[k]` days on): ∫S and the τ where
/// S(τ) = ½ (infinite when the hazard ends at 0).
pub fn stay(rates: &[f64], bounds: &[f64]) -> (f64, f64) {
    let (mut mean, mut median, mut s) = (0.0, f64::INFINITY, 1.0);
    for (k, &lo) in bounds.iter().enumerate() {
        let hi = bounds.get(k + 1).copied().unwrap_or(f64::INFINITY);
        let h = rates[k];
        let width = hi - lo;
        let end = if h > 0.0 { s * (-h * width).exp() } else { s };
        if median.is_infinite() && end <= 0.5 && h > 0.0 {
            median = lo + (s / 0.5).ln() / h;
        }
        mean += if h > 0.0 {
            s * -(-h * width).exp_m1() / h
        } else if width.is_finite() {
            s * width
        } else {
            f64::INFINITY
        };
        s = end;
    }
    (mean, median)
}

/// Each (placement, age band)'s implied mean and median stay in months from
/// its exit hazard and time-in-care factors, with every input at its mean
/// (moves between placements and the 18th birthday not counted).
pub fn implied_stays(model: &Model) -> Vec<Vec<(f64, f64)>> {
    let mut inputs = RunInputs::new(model);
    inputs.fill(model, &mut crate::model::draws::Expected);
    let mut hz = Hazards::new(model);
    hz.fill(&inputs);
    (0..model.placements.len())
        .map(|p| {
            (0..hz.bands)
                .map(|b| {
                    let rates: Vec<f64> = (0..hz.tics).map(|k| hz.exit(p, b, k)).collect();
                    let (mean, median) = stay(&rates, &hz.tic_bounds);
                    (
                        mean / crate::model::DAYS_PER_MONTH,
                        median / crate::model::DAYS_PER_MONTH,
                    )
                })
                .collect()
        })
        .collect()
}

/// One band of time in care in the steady-state profile of a stay: where
/// it starts and ends (days), the exit hazard in it, the survival `S` at
/// its start and the area under `S` across the whole band.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Piece {
    lo: f64,
    hi: f64,
    h: f64,
    s: f64,
    area: f64,
}

/// ∫ S over a band of hazard `h` and width `width`, S being `s` at its start.
#[inline]
fn area(s: f64, h: f64, width: f64) -> f64 {
    if h > 0.0 {
        s * -(-h * width).exp_m1() / h
    } else {
        s * width
    }
}

/// Writes to `out` (one [`Piece`] for each bound) the bands of the
/// steady-state profile of a piecewise-constant exit hazard (`rates[k]`
/// from `bounds[k]` days on). Worked out once, they serve every child drawn
/// from the profile, whatever its age.
pub fn steady_pieces(rates: &[f64], bounds: &[f64], out: &mut [Piece]) {
    let mut s = 1.0;
    for (k, (&lo, piece)) in bounds.iter().zip(out).enumerate() {
        let hi = bounds.get(k + 1).copied().unwrap_or(f64::INFINITY);
        let h = rates.get(k).copied().unwrap_or(0.0);
        *piece = Piece {
            lo,
            hi,
            h,
            s,
            area: area(s, h, hi - lo),
        };
        s *= (-h * (hi - lo)).exp();
    }
}

/// Samples a time in care τ on `[0, limit]` with density proportional to
/// the survival curve `S(τ) = exp(−∫₀^τ h(s) ds)` of a piecewise-constant
/// exit hazard, given its bands (see [`steady_pieces`]) and a uniform `u`:
/// the time-in-care profile of a stock in steady state.
pub fn steady_sample(pieces: &[Piece], limit: f64, u: f64) -> f64 {
    // The bands below `limit`, the last cut at it: (start, hazard, S at
    // the start, area), the cut one worked out here.
    let cut = |p: &Piece| -> (f64, f64, f64, f64) {
        if p.hi <= limit {
            (p.lo, p.h, p.s, p.area)
        } else {
            (p.lo, p.h, p.s, area(p.s, p.h, limit - p.lo))
        }
    };
    let within = || pieces.iter().take_while(|p| p.lo < limit).map(cut);
    let (mut total, mut n) = (0.0, 0);
    for (lo, _, _, a) in within() {
        if !a.is_finite() {
            // An open-ended band without exits and no age limit: no steady state.
            return lo;
        }
        total += a;
        n += 1;
    }
    let mut target = u * total;
    for (i, (lo, h, s0, a)) in within().enumerate() {
        if target <= a || i + 1 == n {
            // Solve s0 ∫₀^x e^(−h y) dy = target for x.
            let target = target.min(a);
            let x = if h > 0.0 {
                -(1.0 - target * h / s0).max(f64::MIN_POSITIVE).ln() / h
            } else {
                target / s0
            };
            return lo + x;
        }
        target -= a;
    }
    0.0
}

#[cfg(test)]
mod tests {
    use super::*;

    /// [`steady_sample`] of the hazard `rates[k]` from `bounds[k]` days on.
    fn steady_time_in_care(rates: &[f64], bounds: &[f64], limit: f64, u: f64) -> f64 {
        let mut pieces = vec![Piece::default(); bounds.len()];
        steady_pieces(rates, bounds, &mut pieces);
        steady_sample(&pieces, limit, u)
    }

    #[test]
    fn steady_profile_of_a_constant_hazard_is_exponential() {
        // Density ∝ e^(−hτ) on [0, ∞): the median is ln 2 / h.
        let h = 0.01;
        let median = steady_time_in_care(&[h], &[0.0], f64::INFINITY, 0.5);
        assert!((median - 2f64.ln() / h).abs() < 1e-9, "{median}");
        // Truncated at L: the CDF is (1 − e^(−hτ)) / (1 − e^(−hL)).
        let l = 100.0;
        let x = steady_time_in_care(&[h], &[0.0], l, 0.5);
        let cdf = (1.0 - (-h * x).exp()) / (1.0 - (-h * l).exp());
        assert!((cdf - 0.5).abs() < 1e-12);
    }

    #[test]
    fn stays_of_a_constant_and_a_two_band_hazard() {
        let (mean, median) = stay(&[0.1], &[0.0]);
        assert!((mean - 10.0).abs() < 1e-12 && (median - 2f64.ln() / 0.1).abs() < 1e-12);
        // Hazard 0 for 5 days, then 0.1: mean 5 + 10, median 5 + ln 2 / 0.1.
        let (mean, median) = stay(&[0.0, 0.1], &[0.0, 5.0]);
        assert!((mean - 15.0).abs() < 1e-12);
        assert!((median - (5.0 + 2f64.ln() / 0.1)).abs() < 1e-12);
        assert_eq!(stay(&[0.0], &[0.0]), (f64::INFINITY, f64::INFINITY));
    }

    #[test]
    fn steady_profile_takes_every_band_however_many() {
        // One hazard cut into 20 bands of 10 days is still exponential: its
        // 95th percentile, −ln 0.05 / h ≈ 300 days, lies in the last band
        // (from 190 days), well past the first 16 bands.
        let h = 0.01;
        let bounds: Vec<f64> = (0..20).map(|k| 10.0 * k as f64).collect();
        let x = steady_time_in_care(&[h; 20], &bounds, f64::INFINITY, 0.95);
        assert!((x - -(0.05f64).ln() / h).abs() < 1e-9, "{x}");
    }

    #[test]
    fn steady_profile_crosses_bands() {
        // Hazard 0 for 10 days then 0.1: ∫S = 10 + 10 = 20; u = 0.75 lies
        // 5 into the second piece's area of 10: x = −ln(1 − 0.5)/0.1.
        let x = steady_time_in_care(&[0.0, 0.1], &[0.0, 10.0], f64::INFINITY, 0.75);
        assert!((x - (10.0 + 2f64.ln() / 0.1)).abs() < 1e-9, "{x}");
        let x = steady_time_in_care(&[0.0, 0.1], &[0.0, 10.0], f64::INFINITY, 0.25);
        assert!((x - 5.0).abs() < 1e-12);
    }
}
