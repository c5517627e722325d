//! What simulations of the same run can share.
//!
//! Every scenario of a run, and every run without one initiative that
//! measures cost avoided, draws from the same streams. Where their configs
//! and the run's inputs agree, the run's would-be entrants (before any are
//! prevented) and its initial stock come out the same bits in each, and so
//! does each child's first event wherever it starts in the same placement.
//! The first simulation of a run keeps them in a [`Memo`]; the next ones with
//! the same key copy them rather than draw them again. A memo is only read when
//! its key matches in full, so what a simulation reads is exactly what it
//! would have drawn: results do not change.

use crate::dist::Dist;

/// A worker's memos: one for the main entries' would-be entrants, one for
/// the initial stock, one for the quantiles of the run's correlated inputs.
/// Kept by the worker from run to run, with the scratch
/// space every simulation of the worker works in (`scratch`: one for all
/// its scenarios, so that the memory a simulation works in is still in the
/// processor's cache from the one before).
#[derive(Debug, Default)]
pub struct Shared<E, C, S> {
    /// Off for callers that never simulate one run twice.
    pub on: bool,
    pub entrants: Memo<E>,
    pub stock: Memo<C>,
    pub quantiles: Quantiles,
    pub scratch: S,
}

impl<E, C, S: Default> Shared<E, C, S> {
    pub fn new(on: bool) -> Shared<E, C, S> {
        Shared {
            on,
            entrants: Memo::default(),
            stock: Memo::default(),
            quantiles: Quantiles::default(),
            scratch: S::default(),
        }
    }
}

/// The quantiles of distributions a worker has worked out in its current
/// run. Correlated inputs are drawn by inverting each input's distribution
/// (a search costing thousands of operations for a PERT or beta input), and
/// every simulation of a run inverts the same distributions at the same
/// points. A quantile is a function of the distribution and the point
/// alone, so one kept here is the one that would be worked out again.
#[derive(Debug, Default)]
pub struct Quantiles {
    /// The run they belong to (see [`crate::model::draws::Random::base`]).
    run: u64,
    kept: Vec<(Dist, u64, f64)>,
}

impl Quantiles {
    /// The memo for the run `base`, emptied when that is a new run.
    pub fn of_run(&mut self, base: u64) -> &mut Quantiles {
        if self.run != base {
            self.run = base;
            self.kept.clear();
        }
        self
    }

    /// `dist`'s quantile at `u`: kept, or worked out and kept.
    pub fn quantile(&mut self, dist: &Dist, u: f64) -> f64 {
        let bits = u.to_bits();
        if let Some(&(_, _, x)) = self.kept.iter().find(|(d, b, _)| *b == bits && d == dist) {
            return x;
        }
        let x = dist.quantile(u);
        self.kept.push((dist.clone(), bits, x));
        x
    }
}

/// How a simulation uses a memo.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Use {
    /// It holds what this simulation would draw: copy it.
    Read,
    /// It is being filled by this simulation.
    Write,
    /// Sharing is off.
    Off,
}

/// The most items a memo keeps: a run with more children than this draws
/// them again in each simulation rather than hold a second copy of them.
pub const MAX_ITEMS: usize = 200_000;

/// Items a simulation drew, in the order drawn, grouped by month, with the
/// key they were drawn under.
#[derive(Debug)]
pub struct Memo<T> {
    /// The run's stream base (seed and run).
    base: u64,
    /// The config the items depend on, as text.
    spec: String,
    /// The run's inputs they depend on.
    values: Vec<f64>,
    complete: bool,
    /// Set when the items would exceed [`MAX_ITEMS`]: the memo is then
    /// emptied and never read.
    abandoned: bool,
    items: Vec<T>,
    /// End of each group's items in `items`.
    ends: Vec<usize>,
}

impl<T> Default for Memo<T> {
    fn default() -> Memo<T> {
        Memo {
            base: 0,
            spec: String::new(),
            values: Vec::new(),
            complete: false,
            abandoned: false,
            items: Vec::new(),
            ends: Vec::new(),
        }
    }
}

impl<T: Clone> Memo<T> {
    /// Whether this memo holds the items of the key (`base`, `spec`,
    /// `values`): if not, it is emptied to record them.
    pub fn begin(&mut self, on: bool, base: u64, spec: &str, values: &[f64]) -> Use {
        if !on {
            return Use::Off;
        }
        let same_values = self.values.len() == values.len()
            && self
                .values
                .iter()
                .zip(values)
                .all(|(a, b)| a.to_bits() == b.to_bits());
        if self.complete && self.base == base && same_values && self.spec == spec {
            return Use::Read;
        }
        self.base = base;
        if self.spec != spec {
            self.spec.clear();
            self.spec.push_str(spec);
        }
        self.values.clear();
        self.values.extend_from_slice(values);
        self.complete = false;
        self.abandoned = false;
        self.items.clear();
        self.ends.clear();
        Use::Write
    }

    /// Whether `more` items fit; if not, the memo is abandoned.
    fn room(&mut self, more: usize) -> bool {
        if !self.abandoned && self.items.len() + more > MAX_ITEMS {
            self.abandoned = true;
            self.items = Vec::new();
            self.ends = Vec::new();
        }
        !self.abandoned
    }

    /// Records the next group's items.
    pub fn record(&mut self, items: &[T]) {
        if self.room(items.len()) {
            self.items.extend_from_slice(items);
            self.close_group();
        }
    }

    /// Adds one item to the group being recorded.
    pub fn push(&mut self, item: T) {
        if self.room(1) {
            self.items.push(item);
        }
    }

    /// Ends the group being recorded.
    pub fn close_group(&mut self) {
        if !self.abandoned {
            self.ends.push(self.items.len());
        }
    }

    /// Marks the memo whole: later simulations of the key may read it
    /// (unless it was abandoned).
    pub fn finish(&mut self) {
        self.complete = !self.abandoned;
    }

    /// Group `g`'s items.
    pub fn group(&self, g: usize) -> &[T] {
        let start = if g == 0 { 0 } else { self.ends[g - 1] };
        &self.items[start..self.ends[g]]
    }

    /// Item `i` of group `g`, to add what the recording simulation learns
    /// of it later (none once the memo is abandoned).
    pub fn item_mut(&mut self, g: usize, i: usize) -> Option<&mut T> {
        let start = if g == 0 { 0 } else { *self.ends.get(g - 1)? };
        let end = *self.ends.get(g)?;
        self.items[start..end].get_mut(i)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Fills `m` under a key with three groups: [1, 2], [], [3].
    fn fill(m: &mut Memo<u32>, base: u64, spec: &str, values: &[f64]) {
        assert_eq!(m.begin(true, base, spec, values), Use::Write);
        m.record(&[1, 2]);
        m.record(&[]);
        m.record(&[3]);
        m.finish();
    }

    /// A PERT distribution from `min` to `max` with mode `mode`.
    fn pert(min: f64, mode: f64, max: f64) -> Dist {
        use crate::config::money::Number;
        use crate::dist::{Domain, RawDist, RawDistSpec};
        let spec = RawDistSpec {
            dist: "pert".into(),
            min: Some(Number(min)),
            mode: Some(Number(mode)),
            max: Some(Number(max)),
            ..Default::default()
        };
        Dist::build(&RawDist::Spec(Box::new(spec)), Domain::Any, "x").unwrap()
    }

    #[test]
    fn a_kept_quantile_is_the_one_worked_out_and_only_for_its_distribution() {
        let (a, b) = (pert(780.0, 820.0, 950.0), pert(0.03, 0.06, 0.12));
        let mut q = Quantiles::default();
        let memo = q.of_run(5);
        for u in [0.1, 0.5, 0.97] {
            // Worked out, then kept: the same bits either way.
            assert_eq!(memo.quantile(&a, u).to_bits(), a.quantile(u).to_bits());
            assert_eq!(memo.quantile(&a, u).to_bits(), a.quantile(u).to_bits());
            // Another distribution at the same point is its own.
            assert_eq!(memo.quantile(&b, u).to_bits(), b.quantile(u).to_bits());
        }
        assert_eq!(memo.kept.len(), 6);
        // The same run keeps them; a new run starts afresh.
        assert_eq!(q.of_run(5).kept.len(), 6);
        assert!(q.of_run(6).kept.is_empty());
    }

    #[test]
    fn a_memo_is_read_only_when_whole_and_under_the_same_key() {
        let mut m: Memo<u32> = Memo::default();
        assert_eq!(m.begin(true, 7, "a", &[1.0, 2.0]), Use::Write);
        m.record(&[1, 2]);
        // Not finished: not read.
        assert_eq!(m.begin(true, 7, "a", &[1.0, 2.0]), Use::Write);
        fill(&mut m, 7, "a", &[1.0, 2.0]);
        assert_eq!(m.begin(true, 7, "a", &[1.0, 2.0]), Use::Read);
        assert_eq!(
            (m.group(0), m.group(1), m.group(2)),
            (&[1, 2][..], &[][..], &[3][..])
        );
        assert_eq!(m.begin(false, 7, "a", &[1.0, 2.0]), Use::Off);
        // Any part of the key differing, down to the sign of a zero, is
        // another key: the memo is emptied to record it.
        let others: [(u64, &str, &[f64]); 5] = [
            (8, "a", &[1.0, 2.0]),
            (7, "b", &[1.0, 2.0]),
            (7, "a", &[1.0, 2.5]),
            (7, "a", &[1.0]),
            (7, "a", &[1.0, -2.0]),
        ];
        for (base, spec, values) in others {
            assert_eq!(m.begin(true, 7, "a", &[1.0, 2.0]), Use::Read);
            assert_eq!(m.begin(true, base, spec, values), Use::Write);
            assert!(m.items.is_empty() && m.ends.is_empty());
            fill(&mut m, 7, "a", &[1.0, 2.0]);
        }
        fill(&mut m, 1, "z", &[0.0]);
        assert_eq!(m.begin(true, 1, "z", &[-0.0]), Use::Write);
    }

    #[test]
    fn a_memo_too_large_to_keep_is_never_read() {
        let mut m: Memo<u32> = Memo::default();
        assert_eq!(m.begin(true, 3, "big", &[]), Use::Write);
        m.record(&[1; 10]);
        assert_eq!(m.item_mut(0, 9).map(|x| *x), Some(1));
        assert!(m.item_mut(0, 10).is_none() && m.item_mut(1, 0).is_none());
        m.record(&vec![2; MAX_ITEMS]);
        assert!(m.abandoned && m.items.capacity() == 0);
        m.push(3);
        m.close_group();
        assert!(m.item_mut(0, 0).is_none());
        m.finish();
        assert_eq!(m.begin(true, 3, "big", &[]), Use::Write);
        // A memo of the same key that fits is kept again.
        m.record(&[4]);
        m.finish();
        assert_eq!(m.begin(true, 3, "big", &[]), Use::Read);
        assert_eq!(m.group(0), &[4]);
    }
}
