//! A run's events in date order: a calendar queue with one bucket per day.
//!
//! An event goes into the bucket of its day; a day's bucket is sorted when
//! the day comes (a handful of events), and an event that falls later on the
//! day being processed is inserted in place. Events at or beyond the
//! horizon's end are dropped. Ties are taken in the order they were pushed,
//! so the order never depends on anything but the run's draws.

/// What an event does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum What {
    /// Child `id`'s next event, valid while its generation is `generation`:
    /// its 18th birthday, or its hazard coming due.
    Child {
        id: u32,
        generation: u32,
        eighteen: bool,
    },
    /// The `index`-th entrant waiting to be placed this month.
    Entrant { index: u32 },
    /// One action of intervention `index` (an exit or a step-down).
    Programme { index: u32 },
}

#[derive(Clone, Copy, Debug)]
pub struct Event {
    pub time: f64,
    pub what: What,
}

/// The events of one run, by day.
#[derive(Debug, Default)]
pub struct Queue {
    /// Start day of every month, and the horizon's end last.
    starts: Vec<f64>,
    buckets: Vec<Vec<Event>>,
    /// The day being processed and its remaining events, latest first.
    day: usize,
    current: Vec<Event>,
    /// The first day after the current month.
    month_end: usize,
    /// False until the first month begins: until then every event goes to
    /// its day's bucket.
    started: bool,
}

impl Queue {
    pub fn new(month_starts: &[f64]) -> Queue {
        let days = month_starts.last().copied().unwrap_or(0.0) as usize;
        Queue {
            starts: month_starts.to_vec(),
            buckets: vec![Vec::new(); days],
            day: 0,
            current: Vec::new(),
            month_end: 0,
            started: false,
        }
    }

    /// Whether the queue is laid out for months starting on `month_starts`.
    pub fn fits(&self, month_starts: &[f64]) -> bool {
        self.starts == month_starts
    }

    /// Empties the queue for a new run.
    pub fn clear(&mut self) {
        for b in &mut self.buckets {
            b.clear();
        }
        self.current.clear();
        self.day = 0;
        self.month_end = 0;
        self.started = false;
    }

    /// Schedules an event; one at or after the horizon's end is dropped.
    #[inline]
    pub fn push(&mut self, event: Event) {
        // (Through i32: cheaper than a saturating cast to usize; a time
        // beyond any bucket, infinity included, is still dropped.)
        let day = event.time as i32 as usize;
        if self.started && day == self.day {
            // Latest first, popped from the end: insert after every later
            // event and before those at the same time (pushed earlier, so
            // taken first).
            let at = self.current.partition_point(|e| e.time > event.time);
            self.current.insert(at, event);
        } else if let Some(bucket) = self.buckets.get_mut(day) {
            bucket.push(event);
        }
    }

    /// Starts month `t`: its days' events come out of [`Queue::pop`].
    pub fn begin_month(&mut self, t: usize) {
        self.started = true;
        self.day = self.starts[t] as usize;
        self.month_end = self.starts[t + 1] as usize;
        self.load();
    }

    /// Makes `self.day`'s bucket the current events, latest first.
    fn load(&mut self) {
        self.current.clear();
        let Some(bucket) = self.buckets.get_mut(self.day) else {
            return;
        };
        // Reversed, then stably sorted latest first: ties end up
        // last-pushed first, so the first pushed is popped first. Times are
        // never negative, so their bits order them.
        bucket.reverse();
        bucket.sort_by_key(|e| std::cmp::Reverse((e.time + 0.0).to_bits()));
        std::mem::swap(&mut self.current, bucket);
    }

    /// The next event of the current month, if any.
    #[inline]
    pub fn pop(&mut self) -> Option<Event> {
        loop {
            if let Some(e) = self.current.pop() {
                return Some(e);
            }
            if self.day + 1 >= self.month_end {
                return None;
            }
            self.day += 1;
            self.load();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(time: f64, id: u32) -> Event {
        Event {
            time,
            what: What::Entrant { index: id },
        }
    }

    fn drain(q: &mut Queue, order: &mut Vec<u32>) {
        while let Some(e) = q.pop() {
            if let What::Entrant { index } = e.what {
                order.push(index);
            }
        }
    }

    #[test]
    fn events_come_out_in_date_order_ties_first_pushed_first() {
        let mut q = Queue::new(&[0.0, 30.0, 61.0]);
        q.push(ev(40.0, 0));
        q.push(ev(5.5, 1));
        q.push(ev(35.0, 2));
        q.push(ev(35.0, 3));
        q.push(ev(70.0, 4)); // beyond the horizon: dropped
        q.begin_month(0);
        q.push(ev(2.0, 5));
        let mut order = Vec::new();
        // Day 2's event, then day 5's; an event pushed while day 5 is being
        // processed, later that day, comes out next.
        let first = q.pop().unwrap();
        assert_eq!(first.time, 2.0);
        let second = q.pop().unwrap();
        assert_eq!(second.time, 5.5);
        q.push(ev(5.75, 6));
        q.push(ev(5.75, 7));
        drain(&mut q, &mut order);
        q.begin_month(1);
        drain(&mut q, &mut order);
        assert_eq!(order, [6, 7, 2, 3, 0]);
    }
}
