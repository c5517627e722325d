//! One child in care: its date of birth, when its period of care began, its
//! placement, and the random stream that decides its future.
//!
//! Dates are days from the horizon's first day (day 0), as `f64` for event
//! times; a date of birth is a whole day. Ages are exact: a child changes age
//! band on the birthday that crosses the band's bound and leaves care on its
//! 18th birthday.

use rand_distr::{Distribution, Exp1};

use crate::model::calendar::Days;
use crate::model::stream::Stream;
use crate::model::{Ages, DAYS_PER_YEAR};

/// A child in care during one run.
#[derive(Clone, Debug)]
pub struct Child {
    /// Day of birth (0 when ages are not tracked).
    pub born: i32,
    /// Day its current period of care began (negative for the initial stock).
    pub care_start: f64,
    pub placement: u16,
    pub band: u8,
    /// Its cohort: 0 for the main children, c + 1 for cohort c.
    pub cohort: u8,
    pub in_care: bool,
    /// The day it left care (infinite while in care).
    pub left: f64,
    /// A placement it is waiting to move to, at once, when a place frees.
    pub waiting: Option<u16>,
    /// The birthday on which its band (as of the last time it was brought
    /// up to date, see [`Ageing::sync`]) ends: the 18th in the last band;
    /// infinite when ages are not tracked.
    pub band_until: f64,
    /// Its 18th birthday, when it leaves care (infinite without ages).
    pub leaves_at: f64,
    /// What is left of its current exponential draw (see [`crate::model::hazard`]).
    pub clock: f64,
    /// Bumped whenever its scheduled event is replaced, so the old one is ignored.
    pub generation: u32,
    /// Its place in its placement's list of children (kept only for the
    /// placements programmes pick children from).
    pub slot: u32,
    /// Whether the month-end of the day its band ends lists it (see
    /// `simulate::note_band_end`).
    pub noted: bool,
    pub rng: Stream,
}

impl Child {
    /// A new exponential draw for the child's next event.
    #[inline]
    pub fn rewind(&mut self) {
        self.clock = Exp1.sample(&mut self.rng);
    }

    /// A uniform number in [0, 1) from the child's stream.
    #[inline]
    pub fn uniform(&mut self) -> f64 {
        crate::dist::unit(&mut self.rng)
    }
}

/// `x.floor() as i32` without a call to `floor` (which targets without
/// SSE4.1 make a library call).
#[inline]
fn floor_i32(x: f64) -> i32 {
    let t = x as i32;
    if (t as f64) > x {
        t.saturating_sub(1)
    } else {
        t
    }
}

/// A new child's date of birth and band.
#[derive(Clone, Copy, Debug)]
pub struct Aged {
    pub born: i32,
    pub band: usize,
    pub band_until: f64,
    pub leaves_at: f64,
}

/// Exact ages: which band a child is in, and when it next changes.
///
/// Every date of birth a run can meet has its band ends worked out once, by
/// the calendar: `born + ends[(born − first) × bands + b]` is the birthday
/// on which band `b` ends (the 18th for the last band). A child's band and
/// the date it changes are then a lookup. The ends are kept as days from
/// birth (under 18 years, so they fit 16 bits) to keep the table small
/// enough for the processor's cache: it is read for every entrant.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Ageing {
    tracked: bool,
    bands: usize,
    first: i32,
    /// Dates of birth in the table.
    rows: usize,
    ends: Vec<u16>,
    /// Each band's upper bound in years.
    tops: Vec<f64>,
}

impl Ageing {
    pub fn new(ages: &Ages, days: &Days) -> Ageing {
        let bands = ages.bands.len().max(1);
        let (first, last) = days.span();
        let mut ends = Vec::new();
        if ages.tracked {
            ends.reserve((last - first) as usize * bands);
            for born in first..last {
                let birth = days.birth(born);
                ends.extend(ages.bands.iter().map(|b| {
                    // A birthday is never before the birth, and the latest
                    // (the 18th) is under 6,600 days after it.
                    let after = days.birthday_of(birth, b.to_years) - born;
                    u16::try_from(after).unwrap_or(u16::MAX)
                }));
            }
        }
        Ageing {
            tracked: ages.tracked,
            bands,
            first,
            rows: ends.len() / bands,
            ends,
            tops: ages.bands.iter().map(|b| b.to_years as f64).collect(),
        }
    }

    /// The band ends of a child born on day `born` (clamped to the table):
    /// the day they count from, and each as days after it.
    #[inline]
    fn ends_of(&self, born: i32) -> (i32, &[u16]) {
        let i = ((born - self.first).max(0) as usize).min(self.rows - 1);
        (
            self.first + i as i32,
            &self.ends[i * self.bands..(i + 1) * self.bands],
        )
    }

    /// A child aged `years` (fractional, under 18) on day `on`: its day of
    /// birth, its band, the day that band ends and its 18th birthday. The
    /// date of birth is rounded down to a whole day, then moved later if need
    /// be so that the child is in the band `years` is in (and under 18) on
    /// day `on`: rounding down can make a child a day older, and a child
    /// drawn for the last day of a band would then start in the next.
    #[inline(always)]
    pub fn aged(&self, on: f64, years: f64) -> Aged {
        if !self.tracked {
            return Aged {
                born: 0,
                band: 0,
                band_until: f64::INFINITY,
                leaves_at: f64::INFINITY,
            };
        }
        let mut born = floor_i32(on - years * DAYS_PER_YEAR).max(self.first);
        let (mut from, mut ends) = self.ends_of(born);
        while (from + ends[self.bands - 1] as i32) as f64 <= on {
            born += 1;
            (from, ends) = self.ends_of(born);
        }
        let mut band = ends
            .iter()
            .position(|&e| (from + e as i32) as f64 > on)
            .unwrap_or(self.bands - 1);
        if band > 0 && years < self.tops[band - 1] {
            // Rounding down made it a day older, into the next band.
            (born, band) = self.nearer(on, born, band, true);
            (from, ends) = self.ends_of(born);
        } else if band + 1 < self.bands && years >= self.tops[band] {
            // Born on a whole day, a child dated within a day can fall short
            // of the birthday that begins its band.
            (born, band) = self.nearer(on, born, band, false);
            (from, ends) = self.ends_of(born);
        }
        Aged {
            born,
            band,
            band_until: (from + ends[band] as i32) as f64,
            leaves_at: (from + ends[self.bands - 1] as i32) as f64,
        }
    }

    /// The band a child born on `born`, in `band` until `until`, is in on
    /// day `on`, and when that band ends.
    #[inline]
    pub fn band_at(&self, born: i32, mut band: usize, mut until: f64, on: f64) -> (usize, f64) {
        while until <= on && band + 1 < self.bands {
            band += 1;
            until = self.band_end(born, band);
        }
        (band, until)
    }

    /// The birthday after which a child in `band` is in the next band (or
    /// leaves care at 18).
    /// A child born on `born`, in `band` on day `on` but drawn for the band
    /// below (`younger`) or above: its birth moved a day at a time (at most
    /// a few, as only rounding put it there) until it is in that band.
    #[cold]
    fn nearer(&self, on: f64, born: i32, band: usize, younger: bool) -> (i32, usize) {
        for days in 1..=3 {
            if younger {
                let b = born + days;
                let (from, ends) = self.ends_of(b);
                if (from + ends[band - 1] as i32) as f64 > on {
                    return (b, band - 1);
                }
            } else {
                let b = born - days;
                let (from, ends) = self.ends_of(b);
                if (from + ends[band] as i32) as f64 <= on {
                    return (b, band + 1);
                }
            }
        }
        (born, band)
    }

    #[inline]
    pub fn band_end(&self, born: i32, band: usize) -> f64 {
        let (from, ends) = self.ends_of(born);
        (from + ends[band] as i32) as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::calendar::{Calendar, YearMonth};
    use crate::model::{Ages, Band};

    #[test]
    fn bands_change_on_birthdays() {
        let cal = Calendar::new(YearMonth::parse("2024-04").unwrap(), 4, 4);
        let band = |id: &str, from, to| Band {
            id: id.into(),
            label: id.into(),
            from_years: from,
            to_years: to,
        };
        let ages = Ages {
            bands: vec![band("0-9", 0, 10), band("10-17", 10, 18)],
            tracked: true,
        };
        let a = Ageing::new(&ages, &cal.days);
        // Born 1 April 2014: ten on 1 April 2024 (day 0), 18 on 1 April 2032.
        let born = -(365 * 10 + 3);
        let eighteen = cal.days.birthday(born, 18) as f64;
        let young = a.aged(-1.0, 9.99);
        assert_eq!(young.band, 0);
        assert_eq!(young.band_until, cal.days.birthday(young.born, 10) as f64);
        assert!(young.band_until > -1.0);
        let ten = a.aged(0.0, 10.0);
        assert_eq!(
            (ten.born, ten.band, ten.band_until, ten.leaves_at),
            (born, 1, eighteen, eighteen)
        );
        assert_eq!(a.band_end(born, 0), 0.0);
        // Drawn aged exactly 10 at 0.7 of day 0: born on a whole day, the
        // rounding would leave it 9 until day 1; it is moved to its band.
        let late = a.aged(0.7, 10.0);
        assert_eq!(late.band, 1, "{late:?}");
        assert!(late.band_until > 0.7 && a.band_end(late.born, 0) <= 0.7);
        // Drawn a breath under 10 at 0.3: born a day later, still 9.
        let early = a.aged(0.3, 10.0 - 1e-9);
        assert_eq!(early.band, 0, "{early:?}");
        assert_eq!(a.band_at(born, 0, 0.0, 5.0), (1, eighteen));
        // Aged exactly 18 years by the day count on day 0: moved to the
        // latest date of birth that is still under 18.
        let old = a.aged(0.0, 18.0);
        assert_eq!(old.leaves_at, 1.0);
        assert_eq!(old.born, -6574);
    }
}
