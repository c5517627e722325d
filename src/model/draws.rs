//! Where random numbers come from.
//!
//! Every stream is keyed by (seed, run, purpose, month, index): the same key
//! gives the same numbers whatever thread runs it and whatever else the run
//! draws, which makes runs reproducible and lets scenarios share their random
//! numbers. A child's stream is keyed by its identity (its place in the
//! initial stock, or its source, month and index among that month's
//! would-be entrants), so preventing one child changes no other child's
//! draws.
//!
//! The run's inputs are drawn through [`Draws`]: [`Random`] samples them,
//! [`Expected`] gives their means (the central projection).

use rand::RngExt;
use rand_distr::Distribution;

use crate::model::Param;
use crate::model::inputs::Pin;
use crate::model::stream::Stream;

/// What a stream of random numbers is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Purpose {
    /// An uncertain input, keyed by the hash of its config path.
    Param = 1,
    /// A child of the initial stock, keyed by its place in the stock.
    InitialChild = 2,
    /// Care leavers supported at the start, keyed by their place.
    InitialLeaver = 3,
    /// The number of would-be entrants in a month.
    Entries = 5,
    /// A would-be entrant, keyed by its month and index in the month.
    Entrant = 6,
    /// A shock's entrant, keyed by the shock, month and index.
    ShockEntrant = 7,
    /// An intervention's or shock's own draws, keyed by the hash of its id.
    Strategy = 8,
    /// The number of a cohort's would-be entrants in a month, keyed by the
    /// cohort.
    CohortEntries = 9,
    /// A cohort's entrant, keyed by the cohort, month and index.
    CohortEntrant = 10,
    /// A child of a cohort's initial stock, keyed by the cohort and its place.
    CohortInitial = 11,
}

/// The month field of streams drawn once per run (an intervention's
/// delivery, a fixed-month shock), apart from every simulated month.
pub const ONCE: usize = 0xFFFF;

/// SplitMix64's finaliser: a bijective mix of 64 bits.
#[inline]
pub fn mix64(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// FNV-1a hash of a config path, the stable key of an input's stream.
pub fn path_key(path: &str) -> u64 {
    path.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ b as u64).wrapping_mul(0x0100_0000_01b3)
    })
}

/// The seed of the stream for `(seed, run, purpose, month, index)`.
#[inline]
pub fn stream_seed(seed: u64, run: u64, purpose: Purpose, month: u64, index: u64) -> u64 {
    stream_seed_from(run_base(seed, run), purpose, month, index)
}

/// The part of a stream's seed that depends on the seed and run only.
#[inline]
fn run_base(seed: u64, run: u64) -> u64 {
    mix64(mix64(seed ^ 0x6361_7265_6361_7374) ^ run)
}

#[inline]
fn stream_seed_from(base: u64, purpose: Purpose, month: u64, index: u64) -> u64 {
    mix64(base ^ mix64(((purpose as u64) << 56) ^ (month << 32) ^ index))
}

/// Random draws and their expectations behind one interface.
pub trait Draws {
    /// Starts the stream for one purpose; the draws that follow come from it.
    fn begin(&mut self, purpose: Purpose, month: usize, index: u64);
    /// The value of an uncertain input for this run.
    fn param(&mut self, param: &Param) -> f64;
    /// 1 with probability `p`, else 0 (the expectation `p` centrally).
    fn chance(&mut self, p: f64) -> f64;
    /// One draw of a distribution (its mean centrally).
    fn sample(&mut self, dist: &crate::dist::Dist) -> f64;
    /// True for the central projection.
    fn is_central(&self) -> bool;
    /// A whole number uniform in 0..n (0 centrally).
    fn pick(&mut self, n: usize) -> usize;
    /// A standard normal draw (0 centrally).
    fn std_normal(&mut self) -> f64;
    /// The input held fixed in every run, if any (never centrally).
    fn pin(&self) -> Option<Pin> {
        None
    }
}

/// Random draws for one run.
pub struct Random {
    seed: u64,
    /// `run_base(seed, run)` of the current run.
    base: u64,
    rng: Stream,
    /// The stream most recently begun, seeded only when a draw needs it.
    pending: Option<(Purpose, u64, u64)>,
    /// An input held at one value in every run (sensitivity analysis).
    pin: Option<Pin>,
}

impl Random {
    pub fn new(seed: u64, run: u64) -> Random {
        Random {
            seed,
            base: run_base(seed, run),
            rng: Stream::new(stream_seed(seed, run, Purpose::Param, 0, 0)),
            pending: None,
            pin: None,
        }
    }

    /// Holds one input at a value in every run from now on (or none).
    pub fn set_pin(&mut self, pin: Option<Pin>) {
        self.pin = pin;
    }

    /// Moves on to run `run`.
    pub fn restart(&mut self, run: u64) {
        self.base = run_base(self.seed, run);
        self.pending = None;
    }

    /// The part of every stream's key that names the seed and run: equal
    /// only for the same run.
    pub fn base(&self) -> u64 {
        self.base
    }

    /// The stream for `(purpose, month, index)` of the current run, on its own.
    #[inline]
    pub fn stream(&self, purpose: Purpose, month: usize, index: u64) -> Stream {
        Stream::new(stream_seed_from(self.base, purpose, month as u64, index))
    }

    /// The generator of the current stream.
    #[inline]
    fn rng(&mut self) -> &mut Stream {
        if let Some((purpose, month, index)) = self.pending.take() {
            self.rng = Stream::new(stream_seed_from(self.base, purpose, month, index));
        }
        &mut self.rng
    }
}

impl Draws for Random {
    #[inline]
    fn begin(&mut self, purpose: Purpose, month: usize, index: u64) {
        self.pending = Some((purpose, month as u64, index));
    }

    fn param(&mut self, param: &Param) -> f64 {
        if param.dist.is_fixed() {
            return param.dist.mean();
        }
        self.begin(Purpose::Param, 0, path_key(&param.path));
        param.dist.sample(self.rng())
    }

    fn chance(&mut self, p: f64) -> f64 {
        if p >= 1.0 {
            return 1.0;
        }
        if p <= 0.0 {
            return 0.0;
        }
        if crate::dist::unit(self.rng()) < p {
            1.0
        } else {
            0.0
        }
    }

    fn sample(&mut self, dist: &crate::dist::Dist) -> f64 {
        if dist.is_fixed() {
            return dist.mean();
        }
        dist.sample(self.rng())
    }

    fn is_central(&self) -> bool {
        false
    }

    fn pick(&mut self, n: usize) -> usize {
        if n <= 1 {
            0
        } else {
            self.rng().random_range(0..n as u64) as usize
        }
    }

    fn std_normal(&mut self) -> f64 {
        rand_distr::StandardNormal.sample(self.rng())
    }

    fn pin(&self) -> Option<Pin> {
        self.pin
    }
}

/// Expectations in place of draws: the central projection's inputs.
pub struct Expected;

impl Draws for Expected {
    fn begin(&mut self, _: Purpose, _: usize, _: u64) {}

    fn param(&mut self, param: &Param) -> f64 {
        param.dist.mean()
    }

    fn chance(&mut self, p: f64) -> f64 {
        p.clamp(0.0, 1.0)
    }

    fn sample(&mut self, dist: &crate::dist::Dist) -> f64 {
        dist.mean()
    }

    fn is_central(&self) -> bool {
        true
    }

    fn pick(&mut self, _: usize) -> usize {
        0
    }

    fn std_normal(&mut self) -> f64 {
        0.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_depend_on_every_part_of_the_key() {
        let a = stream_seed(1, 2, Purpose::Entrant, 3, 4);
        assert_ne!(a, stream_seed(2, 2, Purpose::Entrant, 3, 4));
        assert_ne!(a, stream_seed(1, 3, Purpose::Entrant, 3, 4));
        assert_ne!(a, stream_seed(1, 2, Purpose::InitialChild, 3, 4));
        assert_ne!(a, stream_seed(1, 2, Purpose::Entrant, 4, 4));
        assert_ne!(a, stream_seed(1, 2, Purpose::Entrant, 3, 5));
        assert_eq!(a, stream_seed(1, 2, Purpose::Entrant, 3, 4));
    }
}
