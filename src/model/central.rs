//! The central projection: the expected path of the same model, with every
//! uncertain input at its mean, computed deterministically (no sampling;
//! fractional children).
//!
//! The expected number of children is carried on a grid of placement ×
//! months since birth × time in care, stepped one day at a time: each day
//! every cell loses `1 − e^(−λ)` of its children to exits and moves, with λ
//! the cell's hazards per day, and entrants arrive at mid-day. Without age
//! bands time in care is counted in days (children who entered on the same
//! day share a cell), which makes the projection exact up to the day's
//! midpoint rule; with age bands, ages and time in care are counted in
//! calendar months since the month of birth or of entry, and a cell whose
//! children cross a band's bound during the month (uniformly, since
//! birthdays and entry dates are uniform within a month) takes the hazards of
//! both bands in the proportions that have crossed by that day. Children
//! leave on their 18th birthday, uniformly over the month in which they turn
//! 18.
//!
//! Each cohort's children have grid cells of their own (a slot is a
//! group — the main children or a cohort — and a placement), since their
//! exit hazards differ; capacity counts every group.
//!
//! Capacity, programmes and prevention act on expectations: a move or an
//! entrant takes a free place only while the expected occupancy leaves one,
//! and a programme acts on at most the expected number of children it can
//! reach. Random runs hit such a limit whenever their own counts reach it,
//! which they do often once the expected count comes within a few standard
//! deviations of it; the mean of runs then differs from this path. So a
//! limit counts as binding when the expected count comes within three
//! Poisson standard deviations (3√n) of it, and the result then says that
//! the central path is an approximation.

use crate::model::accrue::{self, Flows};
use crate::model::draws::Expected;
use crate::model::hazard::{Hazards, IMMEDIATE};
use crate::model::layout::{CohortField, Layout, YearField};
use crate::model::params::RunInputs;
use crate::model::strategy::{CareSpan, Effect};
use crate::model::{AGE_CELLS, DAYS_PER_MONTH, Model};

/// The central path and whether a capacity or programme limit bound on it.
pub struct Central {
    pub row: Vec<f64>,
    /// True when a limit bound, so that the path is an approximation of
    /// the model's expectation.
    pub approximate: bool,
}

/// Which bands a cell's children are in on a day: `(lower, upper, share in upper)`.
#[derive(Clone, Copy, Debug)]
struct Mix {
    lo: usize,
    hi: usize,
    w: f64,
}

impl Mix {
    fn pure(b: usize) -> Mix {
        Mix {
            lo: b,
            hi: b,
            w: 0.0,
        }
    }
    fn is_pure(&self) -> bool {
        self.lo == self.hi || self.w == 0.0 || self.w == 1.0
    }
    fn band(&self) -> usize {
        if self.w >= 1.0 { self.hi } else { self.lo }
    }
    /// Each band with its share of the cell's children.
    fn weights(&self) -> [(usize, f64); 2] {
        [(self.lo, 1.0 - self.w), (self.hi, self.w)]
    }
}

/// The expected path of `model`.
pub fn project(model: &Model, layout: &Layout) -> Central {
    let mut inputs = RunInputs::new(model);
    inputs.fill(model, &mut Expected);
    let mut hazards = Hazards::new(model);
    hazards.fill(&inputs);
    let mut grid = Grid::new(model, &inputs, hazards);
    let mut row = vec![0.0; layout.width()];
    grid.initial_stock();
    grid.initial_leavers();
    for t in 0..model.calendar.months.len() {
        grid.month(t, layout, &mut row);
    }
    grid.flows.close(&model.calendar.month_starts);
    accrue::write(model, layout, &grid.inputs, &grid.flows, &mut row);
    Central {
        row,
        approximate: grid.approximate,
    }
}

struct Grid<'a> {
    model: &'a Model,
    inputs: RunInputs,
    hazards: Hazards,
    places: usize,
    /// Slots: groups (the main children, then each cohort) × placements;
    /// slot s holds group s / places in placement s % places.
    slots: usize,
    /// Age cells: months since the month of birth, 0..=216 (1 without bands).
    ages: usize,
    /// Time-in-care cells (1 without `[exits.time_in_care]`).
    tics: usize,
    /// True when a time-in-care cell is a day (no age bands), false when a month.
    tic_in_days: bool,
    /// Time-in-care band bounds in the cells' unit.
    tic_bounds: Vec<f64>,
    /// Expected children by `[(slot × ages + age) × tics + tic]`.
    x: Vec<f64>,
    next: Vec<f64>,
    /// Expected children in each row of cells (slot and age cell, every
    /// time in care) by `[slot × ages + age]`, and in each slot. The steps
    /// that move children keep them up to date as they go; after the
    /// steps that rebuild the grid (`stale`), [`Grid::refresh`] adds them
    /// up again.
    rows: Vec<f64>,
    next_rows: Vec<f64>,
    totals: Vec<f64>,
    stale: bool,
    /// e^(−λ) of the pure cells by `[(slot × bands + band) × tic bands + tic band]`.
    survive: Vec<f64>,
    /// Places added so far per capacity programme.
    places_added: Vec<f64>,
    flows: Flows,
    approximate: bool,
}

impl<'a> Grid<'a> {
    fn new(model: &'a Model, inputs: &RunInputs, hazards: Hazards) -> Grid<'a> {
        let places = model.placements.len();
        let ages = if model.ages.tracked { AGE_CELLS + 1 } else { 1 };
        let tic_in_days = !model.ages.tracked;
        let unit = if tic_in_days { 1.0 } else { DAYS_PER_MONTH };
        let tic_bounds: Vec<f64> = match &model.time_in_care {
            None => vec![0.0],
            Some(t) if tic_in_days => t.bounds_days().collect(),
            Some(t) => t.bounds_months.clone(),
        };
        // The cells reach past the last time-in-care bound and past every
        // bound of an exit programme's span, so that the last cell, which
        // holds everyone beyond, is beyond them all.
        let spans = model
            .strategy
            .interventions
            .iter()
            .filter_map(|iv| match iv.effect {
                Effect::Exit { span, .. } if !span.is_all() => Some(span),
                _ => None,
            });
        let mut far = tic_bounds.last().copied().unwrap_or(0.0);
        let mut tracked = model.time_in_care.is_some();
        for span in spans {
            tracked = true;
            for bound in [span.more_than, span.less_than] {
                if bound.is_finite() {
                    far = far.max(bound / unit);
                }
            }
        }
        let tics = if tracked { far.ceil() as usize + 2 } else { 1 };
        let bands = model.ages.bands.len();
        let tic_bands = hazards.tics();
        let slots = places * (model.cohorts.len() + 1);
        let mut survive = vec![0.0; slots * bands * tic_bands];
        for s in 0..slots {
            let (g, p) = (s / places, s % places);
            for b in 0..bands {
                for k in 0..tic_bands {
                    survive[(s * bands + b) * tic_bands + k] =
                        (-hazards.total_of(g, p, b, k)).exp();
                }
            }
        }
        let cells = slots * ages * tics;
        Grid {
            model,
            inputs: inputs.clone(),
            hazards,
            places,
            slots,
            ages,
            tics,
            tic_in_days,
            tic_bounds,
            x: vec![0.0; cells],
            next: vec![0.0; cells],
            rows: vec![0.0; slots * ages],
            next_rows: vec![0.0; slots * ages],
            totals: vec![0.0; slots],
            stale: true,
            survive,
            places_added: vec![0.0; model.strategy.interventions.len()],
            flows: Flows::new(model),
            approximate: false,
        }
    }

    #[inline]
    fn idx(&self, s: usize, a: usize, k: usize) -> usize {
        (s * self.ages + a) * self.tics + k
    }

    /// Expected children in slot `s`.
    fn slot_total(&self, s: usize) -> f64 {
        debug_assert!(!self.stale, "slot totals used after the grid changed");
        self.totals[s]
    }

    /// Expected children in slot `s` aged `a` (every time in care).
    #[inline]
    fn row_total(&self, s: usize, a: usize) -> f64 {
        debug_assert!(!self.stale, "row totals used after the grid changed");
        self.rows[s * self.ages + a]
    }

    /// Adds `n` children to the count of row (`s`, `a`) and of its slot,
    /// for a step that has just added them to the row's cells.
    #[inline]
    fn count(&mut self, s: usize, a: usize, n: f64) {
        self.rows[s * self.ages + a] += n;
        self.totals[s] += n;
    }

    /// Works out slot `s`'s total from its rows.
    fn total_rows(&mut self, s: usize) {
        self.totals[s] = sum(&self.rows[s * self.ages..(s + 1) * self.ages]);
    }

    /// Adds up every row and slot again if the grid has been rebuilt.
    fn refresh(&mut self) {
        if self.stale {
            for s in 0..self.slots {
                for a in 0..self.ages {
                    let i = self.idx(s, a, 0);
                    self.rows[s * self.ages + a] = sum(&self.x[i..i + self.tics]);
                }
                self.total_rows(s);
            }
            self.stale = false;
        }
    }

    /// Expected children in placement `p`, of every group.
    fn placement_total(&self, p: usize) -> f64 {
        (p..self.slots)
            .step_by(self.places)
            .map(|s| self.slot_total(s))
            .sum()
    }

    /// The slots of placement `p`, one per group.
    fn slots_of(&self, p: usize) -> impl Iterator<Item = usize> + use<> {
        (p..self.slots).step_by(self.places)
    }

    /// The bands of age cell `a` (months since the month of birth) at
    /// fraction `f` of the current month: a child of cell a is a − 1 + u + f
    /// months old, u uniform.
    fn age_mix(&self, a: usize, f: f64) -> Mix {
        let ages = &self.model.ages;
        if !ages.tracked {
            return Mix::pure(0);
        }
        for (b, band) in ages.bands.iter().enumerate() {
            let bound = band.to_years as f64 * 12.0;
            if b + 1 == ages.bands.len() {
                return Mix::pure(b);
            }
            let d = bound - (a as f64 - 1.0);
            if d >= 2.0 {
                return Mix::pure(b);
            }
            if d > 0.0 {
                return Mix {
                    lo: b,
                    hi: b + 1,
                    w: (1.0 - d + f).clamp(0.0, 1.0),
                };
            }
        }
        Mix::pure(ages.bands.len() - 1)
    }

    /// The time-in-care bands of cell `k` at fraction `f` of the current
    /// month (or day).
    fn tic_mix(&self, k: usize, f: f64) -> Mix {
        let n = self.tic_bounds.len();
        for j in 1..n {
            let bound = self.tic_bounds[j];
            // A child of cell k is k − 1 + u + f units into care (u uniform
            // for the initial stock; ½ for a day's entrants, for whom this is
            // a ramp centred on the moment they cross): past the bound in the
            // share k + f − bound.
            let past = (k as f64 + f - bound).clamp(0.0, 1.0);
            if past < 1.0 {
                return if past > 0.0 {
                    Mix {
                        lo: j - 1,
                        hi: j,
                        w: past,
                    }
                } else {
                    Mix::pure(j - 1)
                };
            }
        }
        Mix::pure(n - 1)
    }

    /// The initial stock, ages uniform over each group and time in care from
    /// the config's split or the steady-state profile (as in random runs).
    fn initial_stock(&mut self) {
        let model = self.model;
        let main = model
            .placements
            .iter()
            .enumerate()
            .map(|(p, placement)| (0, p, &placement.initial_groups));
        let cohorts = model.cohorts.iter().enumerate().flat_map(|(c, cohort)| {
            cohort
                .initial
                .iter()
                .map(move |(p, groups)| (c + 1, *p, groups))
        });
        for (g, p, groups) in main.chain(cohorts) {
            for (range, n) in groups {
                let cells: Vec<usize> = if model.ages.tracked {
                    // Aged range.start + u·len months at the start: born in the month
                    // ceil(age) before it, so in cell ⌈age⌉.
                    (range.start + 1..=range.end).collect()
                } else {
                    vec![0]
                };
                let each = n / cells.len() as f64;
                for a in cells {
                    let band = model.ages.band_of_month(a.saturating_sub(1));
                    let shares = self.initial_tic_shares(p, band, g, a);
                    for (k, s) in shares.iter().enumerate() {
                        let i = self.idx(g * self.places + p, a, k);
                        self.x[i] += each * s;
                    }
                }
            }
        }
        self.stale = true;
    }

    /// How an initial child of (placement, band) and group `g` aged about
    /// `a` months spreads over the time-in-care cells.
    fn initial_tic_shares(&self, p: usize, band: usize, g: usize, a: usize) -> Vec<f64> {
        let model = self.model;
        let mut shares = vec![0.0; self.tics];
        if self.tics == 1 {
            shares[0] = 1.0;
            return shares;
        }
        let unit = if self.tic_in_days {
            1.0
        } else {
            DAYS_PER_MONTH
        };
        let age_days = if model.ages.tracked {
            a as f64 * DAYS_PER_MONTH
        } else {
            f64::INFINITY
        };
        let bounds = &self.hazards.tic_bounds;
        // The density of τ over each cell, by the mid-point rule on a fine split.
        // Cell k holds children k − 1 to k units into care at the start (the
        // last cell: all beyond); cell 0 holds only today's or this month's entrants.
        let split = model.placements[p]
            .initial_time_in_care
            .as_ref()
            .filter(|_| g == 0);
        let density: Vec<f64> = match split {
            Some(split) => {
                // Each band's children uniform over its span of time in care
                // (cut at the child's age); an open-ended span goes to the
                // last cell, beyond every bound.
                // The band is one the child is old enough for, by the
                // split's fitted weights (as in a random run).
                let mut chances = vec![0.0; bounds.len()];
                split.chances(band, age_days, bounds, &mut chances);
                let mut density = vec![0.0; self.tics];
                for (j, &lo) in bounds.iter().enumerate() {
                    let share = chances[j];
                    let hi = bounds.get(j + 1).copied().unwrap_or(f64::INFINITY);
                    let (lo, hi) = (lo.min(age_days), hi.min(age_days));
                    if !hi.is_finite() {
                        density[self.tics - 1] += share;
                        continue;
                    }
                    if hi <= lo {
                        let k = ((lo / unit).ceil() as usize).clamp(1, self.tics - 1);
                        density[k] += share;
                        continue;
                    }
                    for (k, d) in density.iter_mut().enumerate().skip(1) {
                        let a = (k - 1) as f64 * unit;
                        let b = if k + 1 == self.tics {
                            f64::INFINITY
                        } else {
                            k as f64 * unit
                        };
                        let overlap = (b.min(hi) - a.max(lo)).max(0.0);
                        *d += share * overlap / (hi - lo);
                    }
                }
                density
            }
            None => {
                let mut s = 1.0;
                (0..self.tics)
                    .map(|k| {
                        if k == 0 {
                            return 0.0;
                        }
                        let lo = (k - 1) as f64 * unit;
                        let h = self.hazards.exit_of(g, p, band, self.hazards.tic_band(lo));
                        let last = k + 1 == self.tics;
                        let width = if last { f64::INFINITY } else { unit };
                        let width = width.min((age_days - lo).max(0.0));
                        let area = if h > 0.0 {
                            s * -(-h * width).exp_m1() / h
                        } else if width.is_finite() {
                            s * width
                        } else {
                            s * 365.25
                        };
                        s *= (-h * width.min(1e9)).exp();
                        area
                    })
                    .collect()
            }
        };
        let total: f64 = density.iter().sum();
        if total > 0.0 {
            for (s, d) in shares.iter_mut().zip(&density) {
                *s = d / total;
            }
        } else {
            shares[0] = 1.0;
        }
        shares
    }

    fn initial_leavers(&mut self) {
        let Some(c) = &self.model.care_leavers else {
            return;
        };
        let span = c.months as f64 * DAYS_PER_MONTH;
        let starts = &self.model.calendar.month_starts;
        for (t, days) in self.flows.leaver_days.iter_mut().enumerate() {
            let (a, b) = (starts[t], starts[t + 1]);
            if a >= span {
                break;
            }
            // E[overlap of [0, r) with [a, b)] for r uniform on [0, span].
            let top = b.min(span);
            *days += c.initial * ((top - a).powi(2) / 2.0 + (b - a) * (span - b).max(0.0)) / span;
        }
    }

    /// Steps through month `t` a day at a time and records its end.
    fn month(&mut self, t: usize, layout: &Layout, row: &mut [f64]) {
        let model = self.model;
        let fy = model.calendar.months[t].fy;
        let days = model.calendar.months[t].days as usize;
        let start = model.calendar.month_starts[t];
        self.add_places(t, fy, layout, row);
        for d in 0..days {
            self.check_capacity();
            // Children waiting for places take those free at the day's start.
            self.fill_places((d as f64 + 0.5) / days as f64);
            let f = (d as f64 + 0.5) / days as f64;
            self.refresh();
            let before: Vec<f64> = (0..self.places).map(|p| self.placement_total(p)).collect();
            let cohorts_before = self.cohort_cells(f);
            self.hazards_for_a_day(f, fy, layout, row);
            self.leave_at_18(d, days, start + d as f64 + 0.5, fy, layout, row);
            self.programmes_for_a_day(t, days, f, fy, layout, row);
            self.entrants_for_a_day(t, days, f, fy, layout, row);
            self.refresh();
            for (p, b) in before.iter().enumerate() {
                self.flows.placement_days[t * self.places + p] +=
                    (b + self.placement_total(p)) / 2.0;
            }
            let cells = self.flows.cohort_cells;
            for (i, (b, a)) in cohorts_before.iter().zip(self.cohort_cells(f)).enumerate() {
                self.flows.cohort_days[t * cells + i] += (b + a) / 2.0;
            }
            if self.tic_in_days {
                self.shift_tic();
            }
        }
        self.refresh();
        self.record(t, fy, layout, row);
        self.shift_ages();
        if !self.tic_in_days {
            self.shift_tic();
        }
    }

    /// Expected children of each cohort by placement and age band at
    /// fraction `f` of the month, by [`Flows::cohort_cell`].
    fn cohort_cells(&self, f: f64) -> Vec<f64> {
        let mut out = vec![0.0; self.flows.cohort_cells];
        for s in self.places..self.slots {
            let (c, p) = (s / self.places - 1, s % self.places);
            for a in 0..self.ages {
                let n = self.row_total(s, a);
                if n == 0.0 {
                    continue;
                }
                for (b, w) in self.age_mix(a, f).weights() {
                    out[self.flows.cohort_cell(c, p, b)] += n * w;
                }
            }
        }
        out
    }

    fn add_places(&mut self, t: usize, fy: usize, layout: &Layout, row: &mut [f64]) {
        for (i, iv) in self.model.strategy.interventions.iter().enumerate() {
            if let Effect::Capacity { .. } = iv.effect {
                let added = self.monthly(i, t);
                self.places_added[i] += added;
                row[layout.intervention_children(fy, i)] += added;
            }
        }
    }

    /// Marks the path approximate when a capacity-limited placement's
    /// expected occupancy comes near its places.
    fn check_capacity(&mut self) {
        self.refresh();
        for p in 0..self.places {
            let used = self.placement_total(p);
            if self.free(p, used, 0.0).is_finite() && near(used + self.free(p, used, 0.0), used) {
                self.approximate = true;
            }
        }
    }

    fn monthly(&self, i: usize, t: usize) -> f64 {
        let iv = &self.model.strategy.interventions[i];
        self.inputs.effect[i] / 12.0 * iv.ramp(t) * self.inputs.delivered[i]
    }

    /// Free places in `p` given its expected occupancy and `pending` arrivals.
    fn free(&self, p: usize, occupancy: f64, pending: f64) -> f64 {
        match self.model.placements[p].capacity {
            Some(cap) => {
                let extra: f64 = self
                    .model
                    .strategy
                    .interventions
                    .iter()
                    .enumerate()
                    .filter(|(_, iv)| matches!(iv.effect, Effect::Capacity { placement, .. } if placement == p))
                    .map(|(i, _)| self.places_added[i])
                    .sum();
                (cap + extra - occupancy - pending).max(0.0)
            }
            None => f64::INFINITY,
        }
    }

    /// Whether a move to `to` at hazard `rate` is a move "at once" into a
    /// capacity-limited placement: children wait for places and take them
    /// as they free ([`Grid::fill_places`]), rather than moving at a rate.
    fn waits(&self, to: usize, rate: f64) -> bool {
        rate >= IMMEDIATE && self.model.placements[to].capacity.is_some()
    }

    /// Moves "at once" into capacity-limited placements: as many children as
    /// there are free places move, in proportion from every cell that waits.
    fn fill_places(&mut self, f: f64) {
        self.refresh();
        for q in 0..self.places {
            if self.model.placements[q].capacity.is_none() {
                continue;
            }
            for p in 0..self.places {
                // The share of each age cell of p that waits for q.
                let waiting: Vec<f64> = (0..self.ages)
                    .map(|a| {
                        self.age_mix(a, f)
                            .weights()
                            .iter()
                            .filter(|&&(b, _)| {
                                self.hazards
                                    .moves(p, b)
                                    .any(|(to, _, r)| to == q && r >= IMMEDIATE)
                            })
                            .map(|&(_, w)| w)
                            .sum()
                    })
                    .collect();
                if waiting.iter().all(|&w| w == 0.0) {
                    continue;
                }
                let mass: f64 = self
                    .slots_of(p)
                    .map(|s| {
                        (0..self.ages)
                            .map(|a| waiting[a] * self.row_total(s, a))
                            .sum::<f64>()
                    })
                    .sum();
                let free = self.free(q, self.placement_total(q), 0.0);
                let k = free.min(mass);
                if k <= 0.0 {
                    continue;
                }
                let share = k / mass;
                for (s, r) in self.slots_of(p).zip(self.slots_of(q)) {
                    for (a, w) in waiting.iter().enumerate() {
                        let mut row_moved = 0.0;
                        for t in 0..self.tics {
                            let (from, to) = (self.idx(s, a, t), self.idx(r, a, t));
                            let moved = self.x[from] * w * share;
                            self.x[from] -= moved;
                            self.x[to] += moved;
                            row_moved += moved;
                        }
                        self.count(s, a, -row_moved);
                        self.count(r, a, row_moved);
                    }
                }
            }
        }
    }

    /// One day of exits and moves for every cell.
    fn hazards_for_a_day(&mut self, f: f64, fy: usize, layout: &Layout, row: &mut [f64]) {
        let model = self.model;
        let bands = model.ages.bands.len();
        let tic_bands = self.hazards.tics();
        // Moves into a capacity-limited placement are scaled down to the
        // places free (to first order in a day).
        let mut scale = vec![1.0; self.places];
        if model
            .transitions
            .iter()
            .any(|tr| model.placements[tr.to].capacity.is_some())
        {
            let mut wanted = vec![0.0; self.places];
            for s in 0..self.slots {
                let p = s % self.places;
                for a in 0..self.ages {
                    let mass = self.row_total(s, a);
                    if mass == 0.0 {
                        continue;
                    }
                    for (b, w) in self.age_mix(a, f).weights() {
                        for (to, _, rate) in self.hazards.moves(p, b) {
                            if self.waits(to, rate) {
                                continue;
                            }
                            wanted[to] += mass * w * rate;
                        }
                    }
                }
            }
            for q in 0..self.places {
                let free = self.free(q, self.placement_total(q), 0.0);
                if wanted[q] > free {
                    scale[q] = if wanted[q] > 0.0 {
                        free / wanted[q]
                    } else {
                        1.0
                    };
                    self.approximate = true;
                }
            }
        }
        self.next.fill(0.0);
        self.next_rows.fill(0.0);
        // The bands of every age and time-in-care cell today, worked out once.
        let age_mixes: Vec<Mix> = (0..self.ages).map(|a| self.age_mix(a, f)).collect();
        // Cells of a day are a day apart: the day's step is taken at its
        // middle, whatever the day of the month.
        let tic_f = if self.tic_in_days { 0.5 } else { f };
        let tic_mixes: Vec<Mix> = (0..self.tics).map(|k| self.tic_mix(k, tic_f)).collect();
        // Moves into a placement that is scaled or waiting make the cached
        // survival (which counts every move at its full rate) inapplicable.
        let scaled = scale.iter().any(|&s| s < 1.0);
        let mut exits = 0.0;
        let mut moves: Vec<(usize, f64)> = Vec::new();
        // Of a row's cells in time-in-care band j alone: the share of the
        // day's survivors, and of those who leave, the share who leave care.
        let mut band_stay = vec![0.0; tic_bands];
        let mut band_exit_share = vec![0.0; tic_bands];
        // And the share of those who leave who move by each of the row's
        // moves, by `[band × moves + move]`.
        let mut band_move_share = Vec::new();
        let mut moved = Vec::new();
        let mut shares = Vec::new();
        for slot in 0..self.slots {
            let (g, p) = (slot / self.places, slot % self.places);
            for (a, &am) in age_mixes.iter().enumerate() {
                // A row that holds no children adds nothing.
                if self.row_total(slot, a) == 0.0 {
                    continue;
                }
                // This row's moves: (destination, hazard per day).
                moves.clear();
                let mut waiting = false;
                for (b, w) in am.weights() {
                    if w == 0.0 {
                        continue;
                    }
                    for (to, _, rate) in self.hazards.moves(p, b) {
                        if self.waits(to, rate) {
                            waiting = true;
                            continue;
                        }
                        let r = rate * w * scale[to];
                        match moves.iter_mut().find(|(q, _)| *q == to) {
                            Some(m) => m.1 += r,
                            None => moves.push((to, r)),
                        }
                    }
                }
                let move_total: f64 = moves.iter().map(|m| m.1).sum();
                let cached = am.is_pure() && !scaled && !waiting;
                let n_moves = moves.len();
                band_move_share.resize(tic_bands * n_moves, 0.0);
                for j in 0..tic_bands {
                    let exit = blend(am, Mix::pure(j), |b, j| self.hazards.exit_of(g, p, b, j));
                    band_stay[j] = if cached {
                        self.survive[(slot * bands + am.band()) * tic_bands + j]
                    } else {
                        (-(exit + move_total)).exp()
                    };
                    shares_of_leavers(
                        exit,
                        &moves,
                        &mut band_exit_share[j],
                        &mut band_move_share[j * n_moves..(j + 1) * n_moves],
                    );
                }
                let (mut kept, mut row_exits) = (0.0, 0.0);
                moved.clear();
                moved.resize(n_moves, 0.0);
                shares.resize(n_moves, 0.0);
                let base = self.idx(slot, a, 0);
                for (k, &km) in tic_mixes.iter().enumerate() {
                    let x = self.x[base + k];
                    if x == 0.0 {
                        continue;
                    }
                    let (stay, exit_share, move_shares) = if km.is_pure() {
                        let j = km.band();
                        (
                            band_stay[j],
                            band_exit_share[j],
                            &band_move_share[j * n_moves..(j + 1) * n_moves],
                        )
                    } else {
                        // A cell crossing a time-in-care bound today.
                        let exit = blend(am, km, |b, j| self.hazards.exit_of(g, p, b, j));
                        let mut exit_share = 0.0;
                        shares_of_leavers(exit, &moves, &mut exit_share, &mut shares);
                        ((-(exit + move_total)).exp(), exit_share, &shares[..])
                    };
                    self.next[base + k] += x * stay;
                    kept += x * stay;
                    let out = x * (1.0 - stay);
                    row_exits += out * exit_share;
                    for (m, (&(to, _), share)) in moves.iter().zip(move_shares).enumerate() {
                        let into = out * share;
                        self.next[(((g * self.places + to) * self.ages + a) * self.tics) + k] +=
                            into;
                        moved[m] += into;
                    }
                }
                exits += row_exits;
                self.next_rows[slot * self.ages + a] += kept;
                for (m, &(to, _)) in moves.iter().enumerate() {
                    self.next_rows[(g * self.places + to) * self.ages + a] += moved[m];
                }
            }
        }
        std::mem::swap(&mut self.x, &mut self.next);
        std::mem::swap(&mut self.rows, &mut self.next_rows);
        for s in 0..self.slots {
            self.total_rows(s);
        }
        row[layout.year(fy, YearField::Exits)] += exits;
    }

    /// Children turning 18 today leave care (and join the care leavers).
    fn leave_at_18(
        &mut self,
        d: usize,
        days: usize,
        now: f64,
        fy: usize,
        layout: &Layout,
        row: &mut [f64],
    ) {
        if !self.model.ages.tracked {
            return;
        }
        let share = 1.0 / (days - d) as f64;
        let mut left = 0.0;
        let mut cohort_left = vec![0.0; self.model.cohorts.len()];
        for s in 0..self.slots {
            let mut row_gone = 0.0;
            for k in 0..self.tics {
                let i = self.idx(s, AGE_CELLS, k);
                let gone = self.x[i] * share;
                self.x[i] -= gone;
                row_gone += gone;
            }
            self.count(s, AGE_CELLS, -row_gone);
            left += row_gone;
            if s >= self.places {
                cohort_left[s / self.places - 1] += row_gone;
            }
        }
        row[layout.year(fy, YearField::LeftAt18)] += left;
        row[layout.year(fy, YearField::Exits)] += left;
        if let Some(c) = &self.model.care_leavers
            && left > 0.0
        {
            let span = c.months as f64 * DAYS_PER_MONTH;
            let calendar = &self.model.calendar;
            self.flows.support(calendar, now, now + span, left);
            for (c, &n) in cohort_left.iter().enumerate() {
                if n > 0.0 {
                    self.flows.support_cohort(c, calendar, now, now + span, n);
                }
            }
        }
    }

    /// Exit and step-down programmes: a day's share of their monthly
    /// number, taken from their placements in proportion.
    fn programmes_for_a_day(
        &mut self,
        t: usize,
        days: usize,
        f: f64,
        fy: usize,
        layout: &Layout,
        row: &mut [f64],
    ) {
        let model = self.model;
        let ages = self.ages;
        for (i, iv) in model.strategy.interventions.iter().enumerate() {
            let wanted = self.monthly(i, t) / days as f64;
            if wanted <= 0.0 {
                continue;
            }
            self.refresh();
            match &iv.effect {
                Effect::Exit { from, span, .. } => {
                    self.exit_within(i, wanted, from, *span, f, days, fy, layout, row);
                }
                &Effect::StepDown { from, to, .. } => {
                    let available = self.placement_total(from);
                    let free = self.free(to, self.placement_total(to), 0.0);
                    let k = wanted.min(available).min(free);
                    if near(available.min(free), wanted * days as f64) {
                        self.approximate = true;
                    }
                    if k <= 0.0 {
                        continue;
                    }
                    let share = k / available;
                    for (s, r) in self.slots_of(from).zip(self.slots_of(to)) {
                        for a in 0..ages {
                            let mut row_moved = 0.0;
                            for k in 0..self.tics {
                                let (c, d) = (self.idx(s, a, k), self.idx(r, a, k));
                                let moved = self.x[c] * share;
                                self.x[c] -= moved;
                                self.x[d] += moved;
                                row_moved += moved;
                            }
                            self.count(s, a, -row_moved);
                            self.count(r, a, row_moved);
                        }
                    }
                    row[layout.intervention_children(fy, i)] += k;
                }
                _ => {}
            }
        }
    }

    /// A day's share of exit programme `i`, taken in proportion from the
    /// children of its placements whose time in care is within `span`.
    #[allow(clippy::too_many_arguments)]
    fn exit_within(
        &mut self,
        i: usize,
        wanted: f64,
        from: &[bool],
        span: CareSpan,
        f: f64,
        days: usize,
        fy: usize,
        layout: &Layout,
        row: &mut [f64],
    ) {
        let shares = self.span_shares(span, f);
        let chosen: Vec<usize> = (0..self.slots).filter(|&s| from[s % self.places]).collect();
        let mut available = 0.0;
        for &s in &chosen {
            for a in 0..self.ages {
                let base = self.idx(s, a, 0);
                for (x, w) in self.x[base..base + self.tics].iter().zip(&shares) {
                    available += x * w;
                }
            }
        }
        let k = wanted.min(available);
        if near(available, wanted * days as f64) {
            self.approximate = true;
        }
        if k <= 0.0 {
            return;
        }
        let taken = k / available;
        for &s in &chosen {
            for a in 0..self.ages {
                let base = self.idx(s, a, 0);
                let mut gone = 0.0;
                for (x, w) in self.x[base..base + self.tics].iter_mut().zip(&shares) {
                    let out = *x * w * taken;
                    *x -= out;
                    gone += out;
                }
                self.count(s, a, -gone);
            }
        }
        row[layout.year(fy, YearField::Exits)] += k;
        row[layout.intervention_children(fy, i)] += k;
    }

    /// The share of each time-in-care cell's children whose time in care
    /// is within `span` at fraction `f` of the month: a child of cell k is
    /// k − 1 + u + f units into care (u uniform; for cells of a day, half
    /// way through the day), the last cell holding all beyond.
    fn span_shares(&self, span: CareSpan, f: f64) -> Vec<f64> {
        let unit = if self.tic_in_days {
            1.0
        } else {
            DAYS_PER_MONTH
        };
        let f = if self.tic_in_days { 0.5 } else { f };
        // The share of cell k's span [start, start + 1) of time in care
        // that lies below a limit; `open` when the config gives none.
        let below = |limit: f64, start: f64, open: f64| {
            if limit > 0.0 && limit.is_finite() {
                (limit / unit - start).clamp(0.0, 1.0)
            } else {
                open
            }
        };
        (0..self.tics)
            .map(|k| {
                if k + 1 == self.tics {
                    // Beyond every finite limit (see `Grid::new`).
                    return if span.less_than.is_finite() { 0.0 } else { 1.0 };
                }
                let start = k as f64 - 1.0 + f;
                (below(span.less_than, start, 1.0) - below(span.more_than, start, 0.0)).max(0.0)
            })
            .collect()
    }

    /// A day's entrants, less those prevented, placed into free places
    /// along the overflow chains; with the day's shock entrants.
    fn entrants_for_a_day(
        &mut self,
        t: usize,
        days: usize,
        f: f64,
        fy: usize,
        layout: &Layout,
        row: &mut [f64],
    ) {
        let model = self.model;
        let bands = model.ages.bands.len();
        // Entrants meant for each (age cell, slot).
        let slots = self.slots;
        let mut intended = vec![0.0; self.ages * slots];
        if let Some(e) = &model.entries {
            let today = self.inputs.entry_mean[t] / days as f64;
            let mut by_band = vec![0.0; bands * self.places];
            let cells_of_band = self.entry_cells_by_band(e, f);
            for b in 0..bands {
                let band_share: f64 = cells_of_band[b].iter().sum();
                for p in 0..self.places {
                    by_band[b * self.places + p] = today * band_share * e.mix[b][p];
                }
            }
            self.prevent(t, days, &mut by_band, fy, layout, row);
            for b in 0..bands {
                let band_share: f64 = cells_of_band[b].iter().sum();
                if band_share <= 0.0 {
                    continue;
                }
                for (a, w) in cells_of_band[b].iter().enumerate() {
                    for p in 0..self.places {
                        intended[a * slots + p] += by_band[b * self.places + p] * w / band_share;
                    }
                }
            }
        }
        let months = model.calendar.months.len();
        for (c, cohort) in model.cohorts.iter().enumerate() {
            let Some(e) = &cohort.entries else {
                continue;
            };
            let today = self.inputs.cohort_entry_mean[c * months + t] / days as f64;
            if today <= 0.0 {
                continue;
            }
            let base = (c + 1) * self.places;
            for (b, cells) in self.entry_cells_by_band(e, f).iter().enumerate() {
                for (a, w) in cells.iter().enumerate() {
                    for p in 0..self.places {
                        intended[a * slots + base + p] += today * w * e.mix[b][p];
                    }
                }
            }
        }
        let shocks = model.strategy.shocks.len();
        for (s, shock) in model.strategy.shocks.iter().enumerate() {
            let month = self.inputs.shock_entrants[t * shocks + s];
            let today = month / days as f64;
            if today <= 0.0 {
                continue;
            }
            // Counted whole for the month on its first day, so that a year's
            // count is exactly the shock's size.
            if f * (days as f64) < 1.0 {
                row[layout.shock_entries(fy, s)] += month;
            }
            for (b, share) in shock.age_mix.iter().enumerate() {
                for (a, w) in self.band_entry_cells(b, f).iter().enumerate() {
                    for p in 0..self.places {
                        let mix = &shock.mix[b.min(shock.mix.len() - 1)];
                        intended[a * slots + p] += today * share * w * mix[p];
                    }
                }
            }
        }
        self.place(&intended, f, fy, layout, row);
    }

    /// How entrants of `e` at fraction `f` of the month spread over the
    /// age cells, by the band they enter in: `[band][age cell]`, summing to 1.
    fn entry_cells_by_band(&self, e: &crate::model::Entries, f: f64) -> Vec<Vec<f64>> {
        let model = self.model;
        let mut cells_of_band = vec![vec![0.0; self.ages]; model.ages.bands.len()];
        match &e.age_by_year {
            Some(years) => {
                for (y, share) in years.iter().enumerate() {
                    let band = model.ages.band_of_month(y * 12);
                    let cells = self.entry_cells(y * 12, y * 12 + 12, f);
                    for (a, w) in cells.iter().enumerate() {
                        cells_of_band[band][a] += share * w;
                    }
                }
            }
            None => {
                for (b, share) in e.age_mix.iter().enumerate() {
                    for (a, w) in self.band_entry_cells(b, f).iter().enumerate() {
                        cells_of_band[b][a] += share * w;
                    }
                }
            }
        }
        cells_of_band
    }

    /// How entrants of band `b`, ages uniform within it, spread over the
    /// age cells (one cell without age bands).
    fn band_entry_cells(&self, b: usize, f: f64) -> Vec<f64> {
        if !self.model.ages.tracked {
            return vec![1.0];
        }
        let band = &self.model.ages.bands[b];
        self.entry_cells(
            band.from_years as usize * 12,
            band.to_years as usize * 12,
            f,
        )
    }

    /// How entrants aged uniformly in [lo, hi) months spread over age cells
    /// at fraction `f` of the month: cell ⌈age − f⌉.
    fn entry_cells(&self, lo: usize, hi: usize, f: f64) -> Vec<f64> {
        let mut w = vec![0.0; self.ages];
        let len = (hi - lo) as f64;
        w[lo] += f / len;
        for c in w.iter_mut().take(hi).skip(lo + 1) {
            *c += 1.0 / len;
        }
        w[hi.min(AGE_CELLS)] += (1.0 - f) / len;
        w
    }

    /// Prevention takes a day's share of each programme's monthly number
    /// from the eligible entrants, in proportion.
    fn prevent(
        &mut self,
        t: usize,
        days: usize,
        by_band: &mut [f64],
        fy: usize,
        layout: &Layout,
        row: &mut [f64],
    ) {
        for (i, iv) in self.model.strategy.interventions.iter().enumerate() {
            let Effect::PreventEntry {
                bands, placements, ..
            } = &iv.effect
            else {
                continue;
            };
            let wanted = self.monthly(i, t) / days as f64;
            if wanted <= 0.0 {
                continue;
            }
            let eligible = |b: usize, p: usize| bands[b] && placements[p];
            let mut available = 0.0;
            for b in 0..bands.len() {
                for p in 0..self.places {
                    if eligible(b, p) {
                        available += by_band[b * self.places + p];
                    }
                }
            }
            let k = wanted.min(available);
            // Compared month by month, as random runs draw them.
            if near(available * days as f64, wanted * days as f64) {
                self.approximate = true;
            }
            if k <= 0.0 {
                continue;
            }
            let keep = 1.0 - k / available;
            for b in 0..bands.len() {
                for p in 0..self.places {
                    if eligible(b, p) {
                        by_band[b * self.places + p] *= keep;
                    }
                }
            }
            row[layout.intervention_children(fy, i)] += k;
        }
    }

    /// Places a day's entrants (by age cell and intended placement) into
    /// free places along the overflow chains, at mid-day: they face half a
    /// day of hazards.
    fn place(&mut self, intended: &[f64], f: f64, fy: usize, layout: &Layout, row: &mut [f64]) {
        let model = self.model;
        self.refresh();
        let mut occupancy: Vec<f64> = (0..self.places).map(|p| self.placement_total(p)).collect();
        let slots = self.slots;
        let mut placed = vec![0.0; self.ages * slots];
        for s in 0..slots {
            let wanted: f64 = (0..self.ages).map(|a| intended[a * slots + s]).sum();
            if wanted <= 0.0 {
                continue;
            }
            let (base, p) = (s - s % self.places, s % self.places);
            let mut left = 1.0;
            let mut at = p;
            loop {
                let free = self.free(at, occupancy[at], 0.0);
                let here = (wanted * left).min(free);
                if here < wanted * left {
                    self.approximate = true;
                }
                let share = here / wanted;
                for a in 0..self.ages {
                    placed[a * slots + base + at] += intended[a * slots + s] * share;
                }
                occupancy[at] += here;
                left -= share;
                match model.placements[at].overflow {
                    Some(next) if left > 0.0 => at = next,
                    _ => break,
                }
            }
        }
        let mut entries = 0.0;
        let mut cohort_entries = vec![0.0; model.cohorts.len()];
        let mut exits = 0.0;
        for a in 0..self.ages {
            let am = self.age_mix(a, f);
            let km = self.tic_mix(0, if self.tic_in_days { 0.5 } else { f });
            for s in 0..slots {
                let n = placed[a * slots + s];
                if n <= 0.0 {
                    continue;
                }
                let (g, p) = (s / self.places, s % self.places);
                entries += n;
                if g > 0 {
                    cohort_entries[g - 1] += n;
                }
                let exit = blend(am, km, |b, j| self.hazards.exit_of(g, p, b, j));
                let stay = (-0.5 * exit).exp();
                exits += n * (1.0 - stay);
                let i = self.idx(s, a, 0);
                self.x[i] += n * stay;
                self.count(s, a, n * stay);
            }
        }
        for (c, n) in cohort_entries.iter().enumerate() {
            row[layout.cohort(fy, c, CohortField::Entries)] += n;
        }
        row[layout.year(fy, YearField::Entries)] += entries;
        row[layout.year(fy, YearField::Exits)] += exits;
    }

    /// One more month (or day) in care for every cell; the last cell is open.
    fn shift_tic(&mut self) {
        if self.tics == 1 {
            return;
        }
        // Each block is one row: its total does not change.
        let k = self.tics;
        for block in self.x.chunks_mut(k) {
            let merged = block[k - 1] + block[k - 2];
            block.copy_within(0..k - 2, 1);
            block[0] = 0.0;
            block[k - 1] = merged;
        }
    }

    /// One more month of age for every cell (the last is empty by now).
    fn shift_ages(&mut self) {
        if !self.model.ages.tracked {
            return;
        }
        let n = self.ages * self.tics;
        self.stale = true;
        for block in self.x.chunks_mut(n) {
            block.copy_within(0..n - self.tics, self.tics);
            block[..self.tics].fill(0.0);
        }
    }

    /// The end of month `t`: counts by placement and band.
    fn record(&self, t: usize, fy: usize, layout: &Layout, row: &mut [f64]) {
        let model = self.model;
        let mut lac = 0.0;
        for p in 0..self.places {
            let n = self.placement_total(p);
            row[layout.lac_placement(t, p)] = n;
            lac += n;
        }
        row[layout.lac(t)] = lac;
        if layout.bands > 0 {
            for a in 0..self.ages {
                // At the month's end a child of cell a is a − 1 + u + 1 months old.
                let band = model.ages.band_of_month(a.min(AGE_CELLS - 1));
                let n: f64 = (0..self.slots).map(|s| self.row_total(s, a)).sum();
                row[layout.lac_band(t, band)] += n;
            }
        }
        let year_end = t == model.calendar.years[fy].last_month();
        for c in 0..model.cohorts.len() {
            let n: f64 = ((c + 1) * self.places..(c + 2) * self.places)
                .map(|s| self.slot_total(s))
                .sum();
            row[layout.lac_cohort(t, c)] = n;
            if year_end {
                row[layout.cohort(fy, c, CohortField::LacEnd)] = n;
            }
        }
        if year_end {
            row[layout.year(fy, YearField::LacEnd)] = lac;
        }
    }
}

/// Of the children who leave a cell in a day, the share who leave care
/// (`exit` against the cell's `moves`) and the share who move by each of
/// them; all zero when nothing happens to the cell.
fn shares_of_leavers(
    exit: f64,
    moves: &[(usize, f64)],
    exit_share: &mut f64,
    move_shares: &mut [f64],
) {
    let total = exit + moves.iter().map(|m| m.1).sum::<f64>();
    if total > 0.0 {
        *exit_share = exit / total;
        for (share, &(_, r)) in move_shares.iter_mut().zip(moves) {
            *share = r / total;
        }
    } else {
        *exit_share = 0.0;
        move_shares.fill(0.0);
    }
}

/// The sum of `xs`, in four running sums (which the compiler can keep in
/// one vector register) rather than one long chain of additions.
fn sum(xs: &[f64]) -> f64 {
    let mut acc = [0.0; 4];
    let mut chunks = xs.chunks_exact(4);
    for c in &mut chunks {
        for (a, x) in acc.iter_mut().zip(c) {
            *a += x;
        }
    }
    let rest: f64 = chunks.remainder().iter().sum();
    (acc[0] + acc[1]) + (acc[2] + acc[3]) + rest
}

/// Whether a count with expectation `used` is likely to reach `limit` in
/// random runs: within three Poisson standard deviations.
fn near(limit: f64, used: f64) -> bool {
    limit - used < 3.0 * used.max(1.0).sqrt()
}

/// A hazard blended over the bands a cell's children are in.
#[inline]
fn blend(am: Mix, km: Mix, rate: impl Fn(usize, usize) -> f64) -> f64 {
    if am.lo == am.hi && km.lo == km.hi {
        return rate(am.lo, km.lo);
    }
    let mut total = 0.0;
    for (b, x) in am.weights() {
        for (j, y) in km.weights() {
            if x * y > 0.0 {
                total += x * y * rate(b, j);
            }
        }
    }
    total
}
