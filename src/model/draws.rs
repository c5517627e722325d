//! Where random numbers come from, and the central projection that replaces
//! them by expectations.
//!
//! The model's month is written once, generic over [`Draws`]. [`Random`]
//! draws from streams keyed by (seed, run, purpose, month, index): the same
//! key gives the same numbers whatever thread runs it and whatever else the
//! run draws, which makes runs reproducible and lets scenarios share their
//! random numbers. [`Expected`] gives the expectation of every draw (the
//! spreadsheet's view), with fractional children.

use rand::RngExt;
use rand_distr::{Binomial, Distribution, Gamma, Poisson};

use crate::model::Param;
use crate::model::inputs::Pin;
use crate::model::stream::Stream;

/// What a stream of random numbers is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Purpose {
    /// An uncertain input, keyed by the hash of its config path.
    Param = 1,
    InitialAges = 2,
    Exits = 3,
    Moves = 4,
    Entries = 5,
    EntryMix = 6,
    EntryAges = 7,
    /// An intervention's or shock's own draws, keyed by the hash of its id.
    Strategy = 8,
    /// The placement and age split of a shock's entrants.
    ShockMix = 9,
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
    /// Binomial(n, p).
    fn binomial(&mut self, n: f64, p: f64) -> f64;
    /// Binomial(n, p) for a `p` that is the same in every run (a fixed
    /// input): the same distribution as [`Draws::binomial`], drawn by
    /// inversion of a cached table, which is much faster when the same
    /// (n, p) recurs month after month and run after run.
    /// `slot` names where the draw is made (e.g. a compartment) so that its
    /// table is found without a search.
    fn binomial_fixed_p(&mut self, n: f64, p: f64, slot: usize) -> f64 {
        let _ = slot;
        self.binomial(n, p)
    }
    /// A count with the given mean: Poisson, or negative binomial with size
    /// `dispersion` (a gamma-mixed Poisson: variance mean + mean²/size).
    fn count(&mut self, mean: f64, dispersion: Option<f64>) -> f64;
    /// A Poisson count whose mean is the same in every run: drawn by
    /// inversion of a cached table, like [`Draws::binomial_fixed_p`].
    fn poisson_fixed_mean(&mut self, mean: f64, slot: usize) -> f64 {
        let _ = slot;
        self.count(mean, None)
    }
    /// Splits `n` into `out` with probabilities `probs` (summing to 1).
    fn multinomial(&mut self, n: f64, probs: &[f64], out: &mut [f64]);
    /// Removes `k` children chosen uniformly from `cells`, adding each to the
    /// same cell of `taken`.
    fn take(&mut self, cells: &mut [f64], k: f64, taken: &mut [f64]);
    /// Adds `k` children to `cells`, each in a cell chosen uniformly.
    fn spread(&mut self, cells: &mut [f64], k: f64);
    /// 1 with probability `p`, else 0 (the expectation `p` centrally).
    fn chance(&mut self, p: f64) -> f64;
    /// One draw of a distribution (its mean centrally).
    fn sample(&mut self, dist: &crate::dist::Dist) -> f64;
    /// A whole number of children or places from a real amount: rounded
    /// down in random runs, kept as it is centrally.
    fn whole(&mut self, x: f64) -> f64;
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
    /// The stream most recently begun, seeded only when a draw needs it:
    /// most purposes draw nothing in most compartments.
    pending: Option<(Purpose, u64, u64)>,
    /// Sampling tables, kept from run to run by the worker that owns this.
    tables: SlotTables,
    /// An input held at one value in every run (sensitivity analysis).
    pin: Option<Pin>,
}

/// Sampling tables for draws whose parameters are the same in every run,
/// found by a slot number that the caller gives (a compartment, a month)
/// rather than by hashing. A table depends only on the distribution's
/// parameters, which are checked on every use, so a table found or built
/// never changes a draw.
#[derive(Default)]
struct SlotTables {
    binomial: Vec<BinomialSlot>,
    poisson: Vec<Option<(u64, Alias)>>,
}

/// Binomial tables of one slot, for one p and every n seen.
#[derive(Default)]
struct BinomialSlot {
    p_bits: u64,
    by_n: Vec<Option<Alias>>,
}

impl SlotTables {
    /// A Binomial(n, p) draw with uniform `u`; `None` when no table can be built.
    #[inline]
    fn binomial(&mut self, slot: usize, n: u64, p: f64, u: f64) -> Option<f64> {
        if self.binomial.len() <= slot {
            self.binomial.resize_with(slot + 1, BinomialSlot::default);
        }
        let tables = &mut self.binomial[slot];
        if tables.p_bits != p.to_bits() {
            tables.p_bits = p.to_bits();
            tables.by_n.clear();
        }
        let n_index = n as usize;
        if tables.by_n.len() <= n_index {
            tables.by_n.resize_with(n_index + 1, || None);
        }
        if tables.by_n[n_index].is_none() {
            tables.by_n[n_index] = Some(Alias::from_cdf(&binomial_cdf(n, p)?));
        }
        tables.by_n[n_index].as_ref().map(|t| t.sample(u))
    }

    /// A Poisson(mean) draw with uniform `u`; `None` when no table can be built.
    #[inline]
    fn poisson(&mut self, slot: usize, mean: f64, u: f64) -> Option<f64> {
        if self.poisson.len() <= slot {
            self.poisson.resize_with(slot + 1, || None);
        }
        let entry = &mut self.poisson[slot];
        if !matches!(entry, Some((bits, _)) if *bits == mean.to_bits()) {
            *entry = Some((mean.to_bits(), Alias::from_cdf(&poisson_cdf(mean)?)));
        }
        entry.as_ref().map(|(_, t)| t.sample(u))
    }
}

/// Walker's alias table (Vose's construction) for a distribution on
/// 0..K: one uniform and one table entry per draw, whatever K.
#[derive(Clone, Debug)]
struct Alias {
    /// For column i: the probability of keeping i, and the value taken otherwise.
    columns: Vec<(f64, u32)>,
}

impl Alias {
    fn from_cdf(cdf: &[f64]) -> Alias {
        let k = cdf.len();
        let total = cdf[k - 1];
        let mut scaled: Vec<f64> = (0..k)
            .map(|i| (cdf[i] - if i == 0 { 0.0 } else { cdf[i - 1] }) / total * k as f64)
            .collect();
        let mut columns = vec![(1.0, 0u32); k];
        let (mut small, mut large): (Vec<usize>, Vec<usize>) =
            (0..k).partition(|&i| scaled[i] < 1.0);
        while let (Some(&s), Some(&l)) = (small.last(), large.last()) {
            small.pop();
            columns[s] = (scaled[s], l as u32);
            scaled[l] -= 1.0 - scaled[s];
            if scaled[l] < 1.0 {
                large.pop();
                small.push(l);
            }
        }
        // Whatever is left has probability 1 up to rounding.
        for i in small.into_iter().chain(large) {
            columns[i] = (1.0, i as u32);
        }
        Alias { columns }
    }

    #[inline]
    fn sample(&self, u: f64) -> f64 {
        let x = u * self.columns.len() as f64;
        let i = (x as usize).min(self.columns.len() - 1);
        let (keep, alias) = self.columns[i];
        if x - (i as f64) < keep {
            i as f64
        } else {
            alias as f64
        }
    }
}

/// The Poisson CDF from 0 until it reaches 1 to double precision; `None`
/// when e^−mean underflows.
fn poisson_cdf(mean: f64) -> Option<Vec<f64>> {
    if mean > 700.0 {
        return None;
    }
    let mut pmf = (-mean).exp();
    let mut acc = pmf;
    let mut cdf = vec![acc];
    let mut k = 0u64;
    while !(k as f64 > mean && pmf < acc * 1e-17) {
        k += 1;
        pmf *= mean / k as f64;
        acc += pmf;
        cdf.push(acc);
    }
    Some(cdf)
}

/// Largest n drawn by table inversion.
const TABLE_MAX_N: u64 = 20_000;

/// The binomial CDF from 0 up to where it reaches 1 to double precision,
/// by the recurrence P(k+1) = P(k)·(n−k)/(k+1)·p/q from P(0) = qⁿ.
/// `None` when qⁿ underflows (then the caller uses BTPE).
fn binomial_cdf(n: u64, p: f64) -> Option<Vec<f64>> {
    let log_p0 = n as f64 * (-p).ln_1p();
    if log_p0 < -700.0 {
        return None;
    }
    let ratio = p / (1.0 - p);
    let mut pmf = log_p0.exp();
    let mut cdf = Vec::with_capacity(16);
    let mut acc = pmf;
    cdf.push(acc);
    let mut k = 0u64;
    let mode = (n as f64 + 1.0) * p;
    // Past the mode the terms only shrink: stop once they no longer change
    // the sum in double precision.
    while k < n && !(k as f64 > mode && pmf < acc * 1e-17) {
        pmf *= (n - k) as f64 / (k + 1) as f64 * ratio;
        acc += pmf;
        k += 1;
        cdf.push(acc);
    }
    Some(cdf)
}

impl Random {
    pub fn new(seed: u64, run: u64) -> Random {
        Random {
            seed,
            base: run_base(seed, run),
            rng: Stream::new(stream_seed(seed, run, Purpose::Param, 0, 0)),
            pending: None,
            tables: SlotTables::default(),
            pin: None,
        }
    }

    /// Holds one input at a value in every run from now on (or none).
    pub fn set_pin(&mut self, pin: Option<Pin>) {
        self.pin = pin;
    }

    /// Moves on to run `run`, keeping the table cache.
    pub fn restart(&mut self, run: u64) {
        self.base = run_base(self.seed, run);
        self.pending = None;
    }

    /// The generator of the current stream.
    #[inline]
    fn rng(&mut self) -> &mut Stream {
        if let Some((purpose, month, index)) = self.pending.take() {
            self.rng = Stream::new(stream_seed_from(self.base, purpose, month, index));
        }
        &mut self.rng
    }

    #[inline]
    fn below(&mut self, n: u64) -> u64 {
        self.rng().random_range(0..n)
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

    #[inline]
    fn binomial(&mut self, n: f64, p: f64) -> f64 {
        if n <= 0.0 || p <= 0.0 {
            return 0.0;
        }
        if p >= 1.0 {
            return n;
        }
        match Binomial::new(n as u64, p) {
            Ok(d) => d.sample(self.rng()) as f64,
            Err(_) => 0.0,
        }
    }

    #[inline]
    fn binomial_fixed_p(&mut self, n: f64, p: f64, slot: usize) -> f64 {
        if n <= 0.0 || p <= 0.0 {
            return 0.0;
        }
        if p >= 1.0 {
            return n;
        }
        let n = n as u64;
        if n > TABLE_MAX_N {
            return self.binomial(n as f64, p);
        }
        let u = crate::dist::unit(self.rng());
        match self.tables.binomial(slot, n, p, u) {
            Some(k) => k,
            None => self.binomial(n as f64, p),
        }
    }

    #[inline]
    fn poisson_fixed_mean(&mut self, mean: f64, slot: usize) -> f64 {
        if mean <= 0.0 {
            return 0.0;
        }
        let u = crate::dist::unit(self.rng());
        match self.tables.poisson(slot, mean, u) {
            Some(k) => k,
            None => self.count(mean, None),
        }
    }

    #[inline]
    fn count(&mut self, mean: f64, dispersion: Option<f64>) -> f64 {
        if mean <= 0.0 {
            return 0.0;
        }
        let lambda = match dispersion {
            Some(k) => match Gamma::new(k, mean / k) {
                Ok(g) => g.sample(self.rng()),
                Err(_) => mean,
            },
            None => mean,
        };
        if lambda <= 0.0 {
            return 0.0;
        }
        match Poisson::new(lambda) {
            Ok(d) => d.sample(self.rng()),
            Err(_) => 0.0,
        }
    }

    fn multinomial(&mut self, n: f64, probs: &[f64], out: &mut [f64]) {
        if probs.len() == 1 {
            out[0] = n;
            return;
        }
        let mut remaining = n;
        let mut rest = 1.0;
        let last = probs.iter().rposition(|&p| p > 0.0).unwrap_or(0);
        for (i, (&p, o)) in probs.iter().zip(out.iter_mut()).enumerate() {
            if i == last {
                *o = remaining;
                remaining = 0.0;
            } else if p <= 0.0 || remaining <= 0.0 {
                *o = 0.0;
            } else {
                let k = self.binomial(remaining, (p / rest).min(1.0));
                *o = k;
                remaining -= k;
                rest -= p;
            }
        }
    }

    fn take(&mut self, cells: &mut [f64], k: f64, taken: &mut [f64]) {
        if k <= 0.0 {
            return;
        }
        let total: f64 = cells.iter().sum();
        if k >= total {
            for (c, t) in cells.iter_mut().zip(taken.iter_mut()) {
                *t += *c;
                *c = 0.0;
            }
            return;
        }
        if cells.len() == 1 {
            cells[0] -= k;
            taken[0] += k;
            return;
        }
        // Sampling without replacement: pick one of the remaining children at
        // random, k times (a multivariate hypergeometric draw).
        let mut remaining = total as u64;
        for _ in 0..k as u64 {
            let mut r = self.below(remaining) as f64;
            for (c, t) in cells.iter_mut().zip(taken.iter_mut()) {
                if r < *c {
                    *c -= 1.0;
                    *t += 1.0;
                    break;
                }
                r -= *c;
            }
            remaining -= 1;
        }
    }

    fn spread(&mut self, cells: &mut [f64], k: f64) {
        if cells.len() == 1 {
            cells[0] += k;
            return;
        }
        let n = cells.len() as u64;
        for _ in 0..k as u64 {
            let i = self.below(n) as usize;
            cells[i] += 1.0;
        }
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

    fn whole(&mut self, x: f64) -> f64 {
        x.floor()
    }

    fn is_central(&self) -> bool {
        false
    }

    fn pick(&mut self, n: usize) -> usize {
        if n <= 1 {
            0
        } else {
            self.below(n as u64) as usize
        }
    }

    fn std_normal(&mut self) -> f64 {
        rand_distr::StandardNormal.sample(self.rng())
    }

    fn pin(&self) -> Option<Pin> {
        self.pin
    }
}

/// Expectations in place of draws: the central projection.
pub struct Expected;

impl Draws for Expected {
    fn begin(&mut self, _: Purpose, _: usize, _: u64) {}

    fn param(&mut self, param: &Param) -> f64 {
        param.dist.mean()
    }

    fn binomial(&mut self, n: f64, p: f64) -> f64 {
        n * p.clamp(0.0, 1.0)
    }

    fn count(&mut self, mean: f64, _: Option<f64>) -> f64 {
        mean.max(0.0)
    }

    fn multinomial(&mut self, n: f64, probs: &[f64], out: &mut [f64]) {
        for (o, p) in out.iter_mut().zip(probs) {
            *o = n * p;
        }
    }

    fn take(&mut self, cells: &mut [f64], k: f64, taken: &mut [f64]) {
        let total: f64 = cells.iter().sum();
        if total <= 0.0 || k <= 0.0 {
            return;
        }
        let share = (k / total).min(1.0);
        for (c, t) in cells.iter_mut().zip(taken.iter_mut()) {
            let moved = *c * share;
            *c -= moved;
            *t += moved;
        }
    }

    fn spread(&mut self, cells: &mut [f64], k: f64) {
        let each = k / cells.len() as f64;
        for c in cells.iter_mut() {
            *c += each;
        }
    }

    fn chance(&mut self, p: f64) -> f64 {
        p.clamp(0.0, 1.0)
    }

    fn sample(&mut self, dist: &crate::dist::Dist) -> f64 {
        dist.mean()
    }

    fn whole(&mut self, x: f64) -> f64 {
        x
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
        let a = stream_seed(1, 2, Purpose::Exits, 3, 4);
        assert_ne!(a, stream_seed(2, 2, Purpose::Exits, 3, 4));
        assert_ne!(a, stream_seed(1, 3, Purpose::Exits, 3, 4));
        assert_ne!(a, stream_seed(1, 2, Purpose::Moves, 3, 4));
        assert_ne!(a, stream_seed(1, 2, Purpose::Exits, 4, 4));
        assert_ne!(a, stream_seed(1, 2, Purpose::Exits, 3, 5));
        assert_eq!(a, stream_seed(1, 2, Purpose::Exits, 3, 4));
    }

    #[test]
    fn binomial_by_table_inversion_has_the_binomial_moments() {
        let mut d = Random::new(3, 0);
        d.begin(Purpose::Exits, 0, 0);
        let (n, p, draws) = (500.0, 0.04, 200_000);
        let xs: Vec<f64> = (0..draws).map(|_| d.binomial_fixed_p(n, p, 0)).collect();
        let mean = xs.iter().sum::<f64>() / draws as f64;
        let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (draws - 1) as f64;
        let m4 = xs.iter().map(|x| (x - mean).powi(4)).sum::<f64>() / draws as f64;
        assert!(
            (mean - n * p).abs() <= 4.0 * (var / draws as f64).sqrt(),
            "{mean}"
        );
        let se_var = ((m4 - var * var) / draws as f64).sqrt();
        assert!((var - n * p * (1.0 - p)).abs() <= 4.0 * se_var, "{var}");
        // Probabilities of single values against the exact pmf (chi-square-like check).
        let cdf = binomial_cdf(500, 0.04).unwrap();
        for k in [10usize, 20, 30] {
            let pk = cdf[k] - cdf[k - 1];
            let observed = xs.iter().filter(|&&x| x == k as f64).count() as f64 / draws as f64;
            assert!(
                (observed - pk).abs() <= 4.0 * (pk * (1.0 - pk) / draws as f64).sqrt(),
                "P({k})"
            );
        }
        assert!((cdf.last().unwrap() - 1.0).abs() < 1e-12);
    }

    #[test]
    fn poisson_by_table_inversion_has_the_poisson_moments() {
        let mut d = Random::new(4, 0);
        d.begin(Purpose::Entries, 0, 0);
        let (mean, draws) = (20.0, 200_000);
        let xs: Vec<f64> = (0..draws).map(|_| d.poisson_fixed_mean(mean, 0)).collect();
        let m = xs.iter().sum::<f64>() / draws as f64;
        let var = xs.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (draws - 1) as f64;
        let m4 = xs.iter().map(|x| (x - m).powi(4)).sum::<f64>() / draws as f64;
        assert!((m - mean).abs() <= 4.0 * (var / draws as f64).sqrt(), "{m}");
        assert!(
            (var - mean).abs() <= 4.0 * ((m4 - var * var) / draws as f64).sqrt(),
            "{var}"
        );
        let cdf = poisson_cdf(mean).unwrap();
        assert!((cdf.last().unwrap() - 1.0).abs() < 1e-12);
        assert!((cdf[0] - (-20.0f64).exp()).abs() < 1e-20);
    }

    #[test]
    fn take_removes_exactly_k_without_replacement() {
        let mut d = Random::new(9, 0);
        d.begin(Purpose::Exits, 0, 0);
        let mut cells = vec![3.0, 0.0, 5.0, 2.0];
        let mut taken = vec![0.0; 4];
        d.take(&mut cells, 7.0, &mut taken);
        assert_eq!(cells.iter().sum::<f64>(), 3.0);
        assert_eq!(taken.iter().sum::<f64>(), 7.0);
        assert!(cells.iter().all(|&c| c >= 0.0));
        assert_eq!(taken[1], 0.0);
    }

    #[test]
    fn expected_take_is_proportional() {
        let mut cells = vec![10.0, 30.0];
        let mut taken = vec![0.0; 2];
        Expected.take(&mut cells, 8.0, &mut taken);
        assert_eq!(taken, vec![2.0, 6.0]);
        assert_eq!(cells, vec![8.0, 24.0]);
    }

    #[test]
    fn multinomial_conserves_the_total() {
        let mut d = Random::new(5, 1);
        d.begin(Purpose::EntryMix, 0, 0);
        let mut out = vec![0.0; 3];
        for n in [0.0, 1.0, 17.0, 400.0] {
            d.multinomial(n, &[0.2, 0.0, 0.8], &mut out);
            assert_eq!(out.iter().sum::<f64>(), n);
            assert_eq!(out[1], 0.0);
        }
    }
}
