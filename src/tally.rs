//! One output's values across runs, kept in a mergeable form whose size does
//! not grow with the number of runs (docs/outputs.md, "Statistics at any
//! scale").
//!
//! A value is stored as a whole number of units of 1/10,000: money is in
//! pounds rounded to pence and numbers of children are whole (or, for places
//! added, fractional to four places), so every value is exact in these
//! units. A [`Tally`] keeps:
//! - the count, the sum and the sum of squares, as integers (exact, so that
//!   the mean and standard deviation do not depend on the order runs are
//!   added or merged);
//! - the values themselves as a histogram `(value, runs)`, exact while there
//!   are at most [`EXACT_RUNS`] runs or at most [`EXACT_DISTINCT`] distinct
//!   values (numbers of children always are: a count of children takes few
//!   distinct values);
//! - beyond that, a log-linear histogram (the bucketing of HdrHistogram and
//!   DDSketch-like sketches): a bucket holds the values that share their
//!   leading [`SKETCH_BITS`] + 1 binary digits, so its half-width is at most
//!   2⁻¹³ ≈ 0.012% of the values in it. Any order statistic is then known to
//!   within the half-width of its bucket, which is reported in pounds beside
//!   the Monte Carlo error.
//!
//! Every part is a function of the multiset of values alone (the switch to
//! buckets happens when the merged counts cross the thresholds, whoever
//! crossed them), so any split of the runs, in any order of merging, gives
//! the same tally, bit for bit.

use std::cmp::Ordering;

use crate::stats::{Interval, Overspend, PERCENTILES, Summary, quantile_ranks, round_dp, wilson};

/// Units of a value per pound (or per child).
pub const SCALE: f64 = 10_000.0;
/// Percentiles are computed from every value up to this many runs.
pub const EXACT_RUNS: u64 = 10_000;
/// ...and, with more runs, while the values take at most this many
/// distinct values (numbers of children).
pub const EXACT_DISTINCT: usize = 4096;
/// Binary digits kept after the leading one in a bucket of the sketch.
pub const SKETCH_BITS: u32 = 12;

/// A value in units.
pub fn to_units(x: f64) -> i64 {
    round_i64(x * SCALE)
}

/// `x.round() as i64` (halves away from zero, NaN to 0, saturating) without
/// a call to `round`, which targets without SSE4.1 make a library call:
/// below 2⁵² in magnitude the truncation and the fraction left are exact,
/// and from there on every float is already whole.
#[inline]
pub fn round_i64(x: f64) -> i64 {
    if x.abs() < 4_503_599_627_370_496.0 {
        let whole = x as i64;
        let fraction = x - whole as f64;
        if fraction >= 0.5 {
            whole + 1
        } else if fraction <= -0.5 {
            whole - 1
        } else {
            whole
        }
    } else {
        x.round() as i64
    }
}

fn from_units(u: f64) -> f64 {
    u / SCALE
}

/// An unsigned 192-bit sum (of squares of 64-bit values): exact for any
/// number of runs carecast allows.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Wide {
    pub lo: u128,
    pub hi: u64,
}

impl Wide {
    pub fn add(&mut self, x: u128) {
        let (lo, carry) = self.lo.overflowing_add(x);
        self.lo = lo;
        self.hi += carry as u64;
    }

    pub fn merge(&mut self, o: &Wide) {
        self.add(o.lo);
        self.hi += o.hi;
    }

    pub fn to_f64(self) -> f64 {
        self.hi as f64 * 2f64.powi(128) + self.lo as f64
    }

    /// Σ(x − mean)² of `n` values whose sum of squares this is and whose
    /// sum is `sum`: worked out as the integer n·Σx² − (Σx)² (exact, in 256
    /// bits) divided by n, so that no digits cancel however large the values
    /// and however small their spread. (In `f64`, Σx² − Σx·mean lost every
    /// digit of a spread of pence around a trillion pounds.)
    pub fn spread(&self, sum: i128, n: u64) -> f64 {
        if n == 0 {
            return 0.0;
        }
        let mut scaled = product(self.lo, n as u128);
        add_high(&mut scaled, self.hi as u128 * n as u128);
        let s = sum.unsigned_abs();
        let d = difference(scaled, product(s, s));
        let whole = d
            .iter()
            .rev()
            .fold(0.0, |acc, &limb| acc * 2f64.powi(64) + limb as f64);
        whole / n as f64
    }
}

/// `a × b` in four 64-bit limbs, least significant first.
fn product(a: u128, b: u128) -> [u64; 4] {
    let (a0, a1) = (a as u64 as u128, a >> 64);
    let (b0, b1) = (b as u64 as u128, b >> 64);
    let (low, cross0, cross1, high) = (a0 * b0, a0 * b1, a1 * b0, a1 * b1);
    let middle = (low >> 64) + (cross0 as u64 as u128) + (cross1 as u64 as u128);
    // Below 2^128: it is the product's top half.
    let top = high + (cross0 >> 64) + (cross1 >> 64) + (middle >> 64);
    [low as u64, middle as u64, top as u64, (top >> 64) as u64]
}

/// Adds `x × 2^128` to `limbs` (the sum stays below 2^256).
fn add_high(limbs: &mut [u64; 4], x: u128) {
    let top = ((limbs[3] as u128) << 64 | limbs[2] as u128).wrapping_add(x);
    limbs[2] = top as u64;
    limbs[3] = (top >> 64) as u64;
}

/// `a − b`, or 0 when `b` is larger.
fn difference(a: [u64; 4], b: [u64; 4]) -> [u64; 4] {
    let mut out = [0u64; 4];
    let mut borrow = false;
    for k in 0..4 {
        let (d, b1) = a[k].overflowing_sub(b[k]);
        let (d, b2) = d.overflowing_sub(borrow as u64);
        out[k] = d;
        borrow = b1 || b2;
    }
    if borrow { [0; 4] } else { out }
}

/// Exact counts above a threshold (a budget): how many values exceed it by
/// more than the tolerance, and the sum and sum of squares of their excess.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Threshold {
    /// The threshold and the tolerance, in units.
    pub at: i64,
    pub tolerance: i64,
    pub above: u64,
    pub sum: i128,
    pub squares: Wide,
}

impl Threshold {
    pub fn new(at: i64, tolerance: i64) -> Threshold {
        Threshold {
            at,
            tolerance,
            above: 0,
            sum: 0,
            squares: Wide::default(),
        }
    }

    fn add(&mut self, v: i64) {
        let d = v as i128 - self.at as i128;
        if d > self.tolerance as i128 {
            self.above += 1;
            self.sum += d;
            self.squares.add(d.unsigned_abs() * d.unsigned_abs());
        }
    }
}

/// One output across runs (see the module docs).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tally {
    pub n: u64,
    pub sum: i128,
    pub squares: Wide,
    /// Whether `bins` holds buckets of the sketch (else exact values).
    pub sketched: bool,
    /// Sorted `(value or bucket key, runs)`, no zero counts, once compacted.
    pub bins: Vec<(i64, u64)>,
    /// Values added since the last compaction, unsorted.
    pub(crate) pending: Vec<i64>,
    pub threshold: Option<Threshold>,
}

impl Default for Tally {
    fn default() -> Self {
        Tally::new()
    }
}

/// The bucket of a value in units: 0 for zero, the value itself below
/// 2^SKETCH_BITS in magnitude, then 2^SKETCH_BITS buckets per power of two;
/// negative values mirror positive ones, so keys sort as values do.
pub fn bucket(v: i64) -> i64 {
    let m = v.unsigned_abs();
    let k = if m < (1 << SKETCH_BITS) {
        m as i64
    } else {
        let e = 63 - m.leading_zeros();
        let shift = e - SKETCH_BITS;
        let top = (m >> shift) as i64;
        ((shift as i64 + 1) << SKETCH_BITS) + (top - (1 << SKETCH_BITS))
    };
    if v < 0 { -k } else { k }
}

/// The least magnitude in bucket `k ≥ 0` and its width.
fn bucket_range(k: i64) -> (u64, u64) {
    if k < (1 << SKETCH_BITS) {
        return (k as u64, 1);
    }
    let shift = (k >> SKETCH_BITS) - 1;
    let top = (k & ((1 << SKETCH_BITS) - 1)) + (1 << SKETCH_BITS);
    ((top as u64) << shift, 1u64 << shift)
}

/// The value standing for bucket `k` (the middle of its range) and the
/// largest distance from it to a value in the bucket, in units.
pub fn bucket_value(k: i64) -> (f64, f64) {
    let (lo, width) = bucket_range(k.abs());
    let mid = lo as f64 + (width - 1) as f64 / 2.0;
    let half = (width - 1) as f64 / 2.0;
    (if k < 0 { -mid } else { mid }, half)
}

impl Tally {
    pub fn new() -> Tally {
        Tally {
            n: 0,
            sum: 0,
            squares: Wide::default(),
            sketched: false,
            bins: Vec::new(),
            pending: Vec::new(),
            threshold: None,
        }
    }

    /// A tally that also counts the values above `at` by more than
    /// `tolerance` (both in units).
    pub fn with_threshold(at: i64, tolerance: i64) -> Tally {
        Tally {
            threshold: Some(Threshold::new(at, tolerance)),
            ..Tally::new()
        }
    }

    /// Adds one run's value (in pounds or children).
    #[inline]
    pub fn add(&mut self, x: f64) {
        self.add_units(to_units(x));
    }

    #[inline]
    pub fn add_units(&mut self, v: i64) {
        self.n += 1;
        self.sum += v as i128;
        self.squares
            .add(v.unsigned_abs() as u128 * v.unsigned_abs() as u128);
        if let Some(t) = &mut self.threshold {
            t.add(v);
        }
        self.pending.push(if self.sketched { bucket(v) } else { v });
        if self.pending.len() >= 1024.max(self.bins.len()) {
            self.compact();
        }
    }

    /// Sorts the pending values into the histogram, and switches it to
    /// buckets once the thresholds are crossed.
    pub fn compact(&mut self) {
        if !self.pending.is_empty() {
            let fresh = match whole_span(&self.pending) {
                Some((least, span)) => count_whole(&self.pending, least, span),
                None => sort_and_count(&mut self.pending),
            };
            self.pending.clear();
            self.bins = merge_bins(&self.bins, &fresh);
        }
        if !self.sketched && self.n > EXACT_RUNS && self.bins.len() > EXACT_DISTINCT {
            self.switch_to_buckets();
        }
    }

    fn switch_to_buckets(&mut self) {
        let mut buckets: Vec<(i64, u64)> = Vec::new();
        for &(v, c) in &self.bins {
            let k = bucket(v);
            match buckets.last_mut() {
                Some((last, n)) if *last == k => *n += c,
                _ => buckets.push((k, c)),
            }
        }
        self.bins = buckets;
        self.sketched = true;
    }

    /// Adds another tally of the same output (other runs), reusing its
    /// buffers.
    pub fn absorb(&mut self, mut other: Tally) {
        other.compact();
        self.compact();
        if self.sketched != other.sketched {
            // The exact one has fewer runs or distinct values than the
            // thresholds allow: bring it to buckets.
            let exact = if self.sketched {
                &mut other
            } else {
                &mut *self
            };
            exact.switch_to_buckets();
        }
        self.n += other.n;
        self.sum += other.sum;
        self.squares.merge(&other.squares);
        match (&mut self.threshold, &other.threshold) {
            (Some(a), Some(b)) => {
                a.above += b.above;
                a.sum += b.sum;
                a.squares.merge(&b.squares);
            }
            (None, None) => {}
            _ => debug_assert!(false, "tallies of different outputs merged"),
        }
        self.bins = merge_bins(&self.bins, &other.bins);
        self.compact();
    }

    /// The tally in its canonical form (compacted): what is written to a
    /// partial file and summarised.
    pub fn normalized(mut self) -> Tally {
        self.normalize();
        self
    }

    /// Puts the tally in its canonical form, holding no more memory than
    /// its histogram needs.
    pub fn normalize(&mut self) {
        self.compact();
        self.pending = Vec::new();
        self.bins.shrink_to_fit();
    }

    pub fn mean(&self) -> f64 {
        if self.n == 0 {
            return 0.0;
        }
        from_units(self.sum as f64 / self.n as f64)
    }

    /// Sample standard deviation (n − 1), from the exact sums.
    pub fn sd(&self) -> f64 {
        if self.n < 2 {
            return 0.0;
        }
        let ss = self.squares.spread(self.sum, self.n);
        from_units((ss / (self.n as f64 - 1.0)).sqrt())
    }

    /// Runs whose value is above zero (`at_least_zero`: at least zero):
    /// exact in both forms, zero being a bucket of its own.
    pub fn count_positive(&self, at_least_zero: bool) -> u64 {
        debug_assert!(self.pending.is_empty());
        self.bins
            .iter()
            .filter(|(k, _)| if at_least_zero { *k >= 0 } else { *k > 0 })
            .map(|(_, c)| c)
            .sum()
    }

    /// The order statistics of 0-based ranks `ranks` (each below n), with
    /// the largest distance from each to the true value (0 when exact), in
    /// units. One pass over the histogram.
    fn order_stats(&self, ranks: &[u64]) -> Vec<(f64, f64)> {
        debug_assert!(self.pending.is_empty());
        let mut order: Vec<usize> = (0..ranks.len()).collect();
        order.sort_by_key(|&i| ranks[i]);
        let mut out = vec![(f64::NAN, 0.0); ranks.len()];
        let mut seen = 0u64;
        let mut bins = self.bins.iter();
        let mut current: Option<&(i64, u64)> = None;
        for i in order {
            let r = ranks[i];
            while current.is_none_or(|_| seen <= r) {
                match bins.next() {
                    Some(b) => {
                        seen += b.1;
                        current = Some(b);
                    }
                    None => break,
                }
            }
            if let Some(&(k, _)) = current {
                out[i] = if self.sketched {
                    bucket_value(k)
                } else {
                    (k as f64, 0.0)
                };
            }
        }
        out
    }

    /// The mean of the largest `k` values of g(value), g non-decreasing,
    /// in units, with the largest distance from the true mean (sketch).
    fn top_mean(&self, k: u64, g: &dyn Fn(f64) -> f64) -> (f64, f64) {
        if k == 0 {
            return (f64::NAN, 0.0);
        }
        let (mut left, mut total, mut err) = (k, 0.0, 0.0f64);
        for &(key, c) in self.bins.iter().rev() {
            let take = c.min(left);
            let (v, half) = if self.sketched {
                bucket_value(key)
            } else {
                (key as f64, 0.0)
            };
            total += g(v) * take as f64;
            err = err.max(half);
            left -= take;
            if left == 0 {
                break;
            }
        }
        (total / k as f64, err)
    }

    /// The summary statistics of the output, with their Monte Carlo error
    /// (see [`crate::stats`]) and, once the values are in buckets, the
    /// largest sketch error of a percentile.
    pub fn summary(&self) -> Summary {
        self.summary_of(&|x| x)
    }

    /// [`Tally::summary`] of g(value) for a non-decreasing g (of units).
    fn summary_of(&self, g: &dyn Fn(f64) -> f64) -> Summary {
        let n = self.n;
        if n == 0 {
            return Summary::default();
        }
        let mut wanted: Vec<u64> = Vec::new();
        let mut interp = Vec::new();
        for (_, p) in PERCENTILES_99 {
            let h = (n - 1) as f64 * p;
            let lo = h.floor() as u64;
            interp.push((wanted.len(), h - lo as f64));
            wanted.push(lo);
            wanted.push((lo + 1).min(n - 1));
        }
        let bounds_at = wanted.len();
        let ranks: Vec<(Option<usize>, Option<usize>)> = if n < 2 {
            vec![(None, None); PERCENTILES_99.len()]
        } else {
            percentile_ranks(n as usize)
        };
        for &(l, u) in &ranks {
            wanted.push(l.map_or(0, |l| l as u64 - 1));
            wanted.push(u.map_or(0, |u| u as u64 - 1));
        }
        let stats = self.order_stats(&wanted);
        let mut sketch_error = 0.0f64;
        let value = |i: usize| {
            let (v, e) = stats[i];
            (from_units(g(v)), e)
        };
        let mut q = Vec::new();
        for &(i, frac) in &interp {
            let (a, ea) = value(i);
            let (b, eb) = value(i + 1);
            sketch_error = sketch_error.max(ea).max(eb);
            q.push(a + frac * (b - a));
        }
        let mut ci = Vec::new();
        for (j, &(l, u)) in ranks.iter().enumerate() {
            let lo = l.map(|_| value(bounds_at + 2 * j).0);
            let hi = u.map(|_| value(bounds_at + 2 * j + 1).0);
            ci.push((lo, hi));
        }
        let k = n.div_ceil(20);
        let (es, es_err) = self.top_mean(k, g);
        sketch_error = sketch_error.max(es_err);
        let (mean, sd) = (self.mean(), self.sd());
        Summary {
            mean,
            sd,
            p5: q[0],
            p10: q[1],
            p25: q[2],
            p50: q[3],
            p75: q[4],
            p90: q[5],
            p95: q[6],
            p99: q[7],
            expected_shortfall: from_units(es),
            mean_se: (n > 1).then(|| sd / (n as f64).sqrt()),
            p5_lo: ci[0].0,
            p5_hi: ci[0].1,
            p10_lo: ci[1].0,
            p10_hi: ci[1].1,
            p25_lo: ci[2].0,
            p25_hi: ci[2].1,
            p50_lo: ci[3].0,
            p50_hi: ci[3].1,
            p75_lo: ci[4].0,
            p75_hi: ci[4].1,
            p90_lo: ci[5].0,
            p90_hi: ci[5].1,
            p95_lo: ci[6].0,
            p95_hi: ci[6].1,
            p99_lo: ci[7].0,
            p99_hi: ci[7].1,
            sketch_error: self.sketched.then(|| from_units(sketch_error)),
        }
    }

    /// The overspend measures against the tally's threshold (see
    /// [`Overspend`]); `None` without one.
    pub fn overspend(&self) -> Option<Overspend> {
        let t = self.threshold.as_ref()?;
        let runs = self.n;
        let n = runs.max(1) as f64;
        let pounds = t.sum as f64 / SCALE;
        let mean = pounds / n;
        let mean_se = (runs > 1).then(|| {
            // Σ(over − mean)² over every run, the runs within budget at 0.
            let squares = t.squares.spread(t.sum, runs) / (SCALE * SCALE);
            round_dp((squares / (n - 1.0)).sqrt() / n.sqrt(), 2)
        });
        let interval = if runs > 1 {
            wilson(t.above as usize, runs as usize)
        } else {
            None
        };
        // The overspend of a run is a non-decreasing function of its cost.
        let (at, tol) = (t.at as f64, t.tolerance as f64);
        let over = move |v: f64| if v - at > tol { v - at } else { 0.0 };
        let s = self.summary_of(&over);
        Some(Overspend {
            probability: t.above as f64 / n,
            mean: round_dp(mean, 2),
            mean_if_overspent: (t.above > 0).then(|| round_dp(pounds / t.above as f64, 2)),
            tolerance: t.tolerance as f64 / SCALE,
            probability_lo: interval.map(|i| i.0),
            probability_hi: interval.map(|i| i.1),
            mean_se,
            p95: Some(round_dp(s.p95, 2)),
            p99: Some(round_dp(s.p99, 2)),
            expected_shortfall: Some(round_dp(s.expected_shortfall, 2)),
            sketch_error: s.sketch_error.map(|e| round_dp(e, 2)),
        })
    }

    /// The share of runs above zero (at least zero), with its Wilson
    /// interval when there is more than one run.
    pub fn share_positive(&self, at_least_zero: bool) -> (f64, Option<f64>, Option<f64>) {
        let hits = self.count_positive(at_least_zero);
        let share = hits as f64 / self.n.max(1) as f64;
        match wilson(hits as usize, self.n as usize).filter(|_| self.n > 1) {
            Some((lo, hi)) => (share, Some(lo), Some(hi)),
            None => (share, None, None),
        }
    }

    /// The values with their runs, in order (bucket values once sketched).
    pub fn values(&self) -> impl Iterator<Item = (f64, u64)> + '_ {
        self.bins.iter().map(|&(k, c)| {
            let v = if self.sketched {
                bucket_value(k).0
            } else {
                k as f64
            };
            (from_units(v), c)
        })
    }

    /// Memory held, in bytes (for the benchmarks).
    pub fn bytes(&self) -> usize {
        self.bins.capacity() * 16 + self.pending.capacity() * 8 + std::mem::size_of::<Tally>()
    }
}

/// The reported percentiles and P99, in the order of a summary.
pub const PERCENTILES_99: [(&str, f64); 8] = [
    PERCENTILES[0],
    PERCENTILES[1],
    PERCENTILES[2],
    PERCENTILES[3],
    PERCENTILES[4],
    PERCENTILES[5],
    PERCENTILES[6],
    ("p99", 0.99),
];

/// The most whole units apart that [`count_whole`] takes values: a
/// counting array of this many entries is a few pages.
const WHOLE_SPAN: i64 = 4096;

/// When every value is a whole number of children (a multiple of
/// [`SCALE`]) and they lie within [`WHOLE_SPAN`] children of each other, as
/// counts of children do: the least of them and how many whole units they
/// span.
fn whole_span(values: &[i64]) -> Option<(i64, usize)> {
    const STEP: i64 = SCALE as i64;
    let (mut least, mut most, mut whole) = (i64::MAX, i64::MIN, true);
    for &v in values {
        least = least.min(v);
        most = most.max(v);
        whole &= v % STEP == 0;
    }
    let span = most.checked_sub(least)? / STEP + 1;
    (whole && span <= WHOLE_SPAN).then_some((least, span as usize))
}

/// The histogram of `values`, found by [`whole_span`] to be whole units
/// from `least` over `span` units, by counting them: the same as
/// [`sort_and_count`], in a few operations a value instead of a sort.
fn count_whole(values: &[i64], least: i64, span: usize) -> Vec<(i64, u64)> {
    const STEP: i64 = SCALE as i64;
    let mut counts = vec![0u64; span];
    for &v in values {
        counts[((v - least) / STEP) as usize] += 1;
    }
    let mut out = Vec::new();
    for (k, &c) in counts.iter().enumerate() {
        if c > 0 {
            out.push((least + k as i64 * STEP, c));
        }
    }
    out
}

/// The histogram of `values` (sorted in place): each distinct value with
/// how many times it occurs, in increasing order.
fn sort_and_count(values: &mut [i64]) -> Vec<(i64, u64)> {
    values.sort_unstable();
    let mut out: Vec<(i64, u64)> = Vec::new();
    for &v in values.iter() {
        match out.last_mut() {
            Some((last, c)) if *last == v => *c += 1,
            _ => out.push((v, 1)),
        }
    }
    out
}

fn merge_bins(a: &[(i64, u64)], b: &[(i64, u64)]) -> Vec<(i64, u64)> {
    let mut out = Vec::with_capacity(a.len() + b.len());
    let (mut i, mut j) = (0, 0);
    while i < a.len() && j < b.len() {
        match a[i].0.cmp(&b[j].0) {
            Ordering::Less => {
                out.push(a[i]);
                i += 1;
            }
            Ordering::Greater => {
                out.push(b[j]);
                j += 1;
            }
            Ordering::Equal => {
                out.push((a[i].0, a[i].1 + b[j].1));
                i += 1;
                j += 1;
            }
        }
    }
    out.extend_from_slice(&a[i..]);
    out.extend_from_slice(&b[j..]);
    out
}

/// The interval of a percentile from a summary, for callers that want it
/// with its sketch error.
pub fn widened(i: Interval, sketch_error: Option<f64>) -> Interval {
    let e = sketch_error.unwrap_or(0.0);
    Interval {
        estimate: i.estimate,
        lo: i.lo.map(|x| x - e),
        hi: i.hi.map(|x| x + e),
    }
}

/// The interval ranks of every percentile of [`PERCENTILES_99`] for n runs.
/// Every summary of a report has the same n and the exact ranks cost O(n)
/// each, so the last answer is kept per thread.
fn percentile_ranks(n: usize) -> Vec<(Option<usize>, Option<usize>)> {
    type Ranks = Vec<(Option<usize>, Option<usize>)>;
    thread_local! {
        static LAST: std::cell::RefCell<Option<(usize, Ranks)>> = const { std::cell::RefCell::new(None) };
    }
    LAST.with(|last| {
        let mut last = last.borrow_mut();
        match &*last {
            Some((m, ranks)) if *m == n => ranks.clone(),
            _ => {
                let ranks: Ranks = PERCENTILES_99
                    .iter()
                    .map(|&(_, p)| quantile_ranks(n, p))
                    .collect();
                *last = Some((n, ranks.clone()));
                ranks
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counting_whole_values_gives_the_histogram_sorting_does() {
        const STEP: i64 = SCALE as i64;
        // Counts of children (whole, negative too: differences between
        // scenarios), money (pence), a span just inside and just beyond the
        // limit, and extremes whose span does not fit in an i64.
        let cases: Vec<Vec<i64>> = vec![
            vec![
                175 * STEP,
                170 * STEP,
                175 * STEP,
                0,
                181 * STEP,
                170 * STEP,
            ],
            vec![-3 * STEP, 4 * STEP, 0, -3 * STEP, 4 * STEP, 4 * STEP],
            vec![1_234_567, 1_234_567, 89, 10_000, 20_000],
            vec![0, (WHOLE_SPAN - 1) * STEP, 7 * STEP],
            vec![0, WHOLE_SPAN * STEP, 7 * STEP],
            vec![i64::MIN / STEP * STEP, 0, i64::MAX / STEP * STEP],
            vec![42 * STEP],
        ];
        for case in cases {
            let mut sorted = case.clone();
            let expected = sort_and_count(&mut sorted);
            let mut t = Tally::new();
            for &v in &case {
                t.add_units(v);
            }
            t.compact();
            assert_eq!(t.bins, expected, "{case:?}");
            let counted = whole_span(&case).map(|(least, span)| count_whole(&case, least, span));
            let whole = case.iter().all(|v| v % STEP == 0);
            let spread = *case.iter().max().unwrap() as i128 - *case.iter().min().unwrap() as i128;
            if whole && spread < (WHOLE_SPAN * STEP) as i128 {
                assert_eq!(counted.as_ref(), Some(&expected), "{case:?}");
            } else {
                assert_eq!(counted, None, "{case:?}");
            }
        }
    }

    #[test]
    fn rounding_to_whole_units_is_that_of_round() {
        let cases = [
            0.0,
            -0.0,
            0.5,
            -0.5,
            1.5,
            -1.5,
            2.5,
            -2.5,
            0.499_999_999_999_999_94,
            -0.499_999_999_999_999_94,
            1e15 + 0.5,
            -1e15 - 0.5,
            4_503_599_627_370_495.5,
            -4_503_599_627_370_495.5,
            4_503_599_627_370_496.0,
            9.3e18,
            -9.3e18,
            1e300,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::NAN,
            123_456.789,
            -123_456.789,
        ];
        for x in cases {
            assert_eq!(round_i64(x), x.round() as i64, "{x}");
        }
        // And a sweep of quarters and random-looking values around them.
        for k in -2000i64..2000 {
            for x in [k as f64 / 4.0, k as f64 * 0.37 + 0.13, k as f64 * 1e9 + 0.5] {
                assert_eq!(round_i64(x), x.round() as i64, "{x}");
            }
        }
    }

    fn tally(values: &[f64]) -> Tally {
        let mut t = Tally::new();
        for &v in values {
            t.add(v);
        }
        t.normalized()
    }

    #[test]
    fn exact_statistics_match_the_sorted_values() {
        let values: Vec<f64> = (1..=10).rev().map(f64::from).collect();
        let s = tally(&values).summary();
        let mut v = values.clone();
        let want = Summary::of(&mut v);
        assert_eq!(
            (s.p10, s.p50, s.p90, s.p95),
            (want.p10, want.p50, want.p90, want.p95)
        );
        assert_eq!(s.mean, 5.5);
        assert!((s.sd - want.sd).abs() < 1e-12);
        // P99 of 1..10: 9 + 0.91 = 9.91; the worst 5% of ten runs is the largest.
        assert!((s.p99 - 9.91).abs() < 1e-12);
        assert_eq!(s.expected_shortfall, 10.0);
        assert_eq!(s.sketch_error, None);
    }

    #[test]
    fn expected_shortfall_is_the_mean_of_the_worst_twentieth() {
        // 40 runs: the worst 2 are 39 and 40.
        let values: Vec<f64> = (1..=40).map(f64::from).collect();
        assert_eq!(tally(&values).summary().expected_shortfall, 39.5);
        // 41 runs: ⌈41/20⌉ = 3 worst, 39, 40 and 41.
        let values: Vec<f64> = (1..=41).map(f64::from).collect();
        assert_eq!(tally(&values).summary().expected_shortfall, 40.0);
    }

    #[test]
    fn buckets_keep_order_and_bound_their_error() {
        let mut last = i64::MIN;
        for v in [
            -1_000_000_007i64,
            -5000,
            -4096,
            -4095,
            -1,
            0,
            1,
            4095,
            4096,
            4097,
            8191,
            8192,
            1 << 40,
        ] {
            let k = bucket(v);
            assert!(k >= last, "{v}");
            last = k;
            let (mid, half) = bucket_value(k);
            assert!((mid - v as f64).abs() <= half, "{v}: {mid} ± {half}");
            assert!(half <= (v.unsigned_abs() as f64) * 2f64.powi(-(SKETCH_BITS as i32) - 1));
        }
        // Small values are their own buckets.
        assert_eq!(bucket_value(bucket(-17)), (-17.0, 0.0));
        assert_eq!(bucket(0), 0);
    }

    #[test]
    fn any_split_in_any_order_gives_the_same_tally() {
        // Enough distinct values, and runs, for the sketch.
        let values: Vec<f64> = (0..30_000u64)
            .map(|i| ((i.wrapping_mul(2_654_435_761) % 1_000_003) as f64) * 12.34 - 5e5)
            .collect();
        let whole = tally(&values);
        assert!(whole.sketched);
        for parts in [2usize, 3, 7] {
            let size = values.len().div_ceil(parts);
            let mut chunks: Vec<Tally> = values.chunks(size).map(tally).collect();
            chunks.reverse();
            let mut merged = Tally::new();
            for c in chunks {
                merged.absorb(c);
            }
            assert_eq!(merged.normalized(), whole, "{parts} parts");
        }
        // A small exact part merged into a sketched one.
        let mut big = tally(&values[..29_000]);
        big.absorb(tally(&values[29_000..]));
        assert_eq!(big.normalized(), whole);
        let mut small = tally(&values[29_000..]);
        small.absorb(tally(&values[..29_000]));
        assert_eq!(small.normalized(), whole);
    }

    #[test]
    fn sketched_percentiles_are_within_their_stated_error() {
        let values: Vec<f64> = (0..20_000u64)
            .map(|i| 2e7 + ((i.wrapping_mul(48_271) % 2_147_483_647) % 10_000_000) as f64 * 1.01)
            .collect();
        let t = tally(&values);
        assert!(t.sketched);
        let s = t.summary();
        let mut v = values.clone();
        let exact = Summary::of(&mut v);
        let e = s.sketch_error.unwrap();
        assert!(e > 0.0 && e <= 3e7 * 2f64.powi(-13));
        for (a, b) in [(s.p5, exact.p5), (s.p50, exact.p50), (s.p95, exact.p95)] {
            assert!((a - b).abs() <= e, "{a} vs {b} ± {e}");
        }
        assert!((s.mean - exact.mean).abs() < 1e-6);
    }

    #[test]
    fn counts_of_children_stay_exact_at_any_number_of_runs() {
        let values: Vec<f64> = (0..50_000u64).map(|i| (i % 700) as f64).collect();
        let t = tally(&values);
        assert!(!t.sketched);
        assert_eq!(t.bins.len(), 700);
    }

    #[test]
    fn overspend_from_the_exact_threshold_counts() {
        // Budget £100, tolerance £1: costs £90, £100, £110, £130.
        let mut t = Tally::with_threshold(to_units(100.0), to_units(1.0));
        for c in [90.0, 100.0, 110.0, 130.0] {
            t.add(c);
        }
        let o = t.normalized().overspend().unwrap();
        let want = Overspend::of(&[9000, 10000, 11000, 13000], 10000);
        assert_eq!(o.probability, want.probability);
        assert_eq!(o.mean, want.mean);
        assert_eq!(o.mean_if_overspent, want.mean_if_overspent);
        assert_eq!(o.mean_se, want.mean_se);
        // Overspends 0, 0, 10, 30: the worst 5% of four runs is 30.
        assert_eq!(o.expected_shortfall, Some(30.0));
    }

    #[test]
    fn the_spread_of_pence_around_a_trillion_pounds_is_exact() {
        // A trillion pounds plus 0, 1, ..., 999 pence: the sample variance
        // of 0..n in pence is n(n + 1)/12. In f64, Σx² − Σx·mean lost every
        // digit of it (sd £10,791 at 100 runs, £0 at 5,000).
        let n = 1000u64;
        let mut t = Tally::with_threshold(to_units(1e12) - 500 * 100, 0);
        for k in 0..n {
            t.add(1e12 + k as f64 / 100.0);
        }
        let want = ((n * (n + 1)) as f64 / 12.0).sqrt() / 100.0;
        assert!(
            (t.sd() - want).abs() < 1e-12 * want,
            "{} against {want}",
            t.sd()
        );
        // Every run is over the threshold (£5 below the least value), so
        // the overspend is the value less a constant and its standard error
        // is sd / √n.
        t.normalize();
        let o = t.overspend().unwrap();
        assert_eq!(o.mean_se, Some(round_dp(want / (n as f64).sqrt(), 2)));
        // Values of the largest size a tally takes: squares near 2^190.
        let mut big = Tally::new();
        for v in [i64::MAX / 2, i64::MAX / 2 + 2] {
            big.add_units(v);
        }
        assert_eq!(big.sd(), from_units(2f64.sqrt()));
    }
}
