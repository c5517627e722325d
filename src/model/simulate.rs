//! One simulated future: children one by one, their events in date order.
//!
//! A run draws its inputs ([`RunInputs`]), creates the initial stock, and
//! then, month by month: adds the places capacity programmes have recruited,
//! draws the month's would-be entrants (and removes those prevention
//! programmes keep out of care), schedules the actions of exit and step-down
//! programmes, and processes every event of the month in date order —
//! entrants placed into free places along the overflow chain, exits, moves
//! (into a capacity-limited placement only while a place is free),
//! birthdays that change a child's band and leaving care at 18. At the end
//! of each month the counts are recorded; money is worked out from the
//! placement-days by [`crate::model::accrue`].

use std::collections::VecDeque;
use std::sync::Arc;

use rand_distr::{Distribution, Gamma, Poisson};

use crate::model::accrue::{self, Flows};
use crate::model::child::{Aged, Ageing, Child};
use crate::model::draws::{Purpose, Random};
use crate::model::hazard::{Hazards, IMMEDIATE, Next, Piece, steady_pieces, steady_sample};
use crate::model::layout::{CohortField, Layout, YearField};
use crate::model::params::RunInputs;
use crate::model::queue::{Event, Queue, What};
use crate::model::shared::Use;
use crate::model::strategy::Effect;
use crate::model::stream::Stream;
use crate::model::{Calendar, DAYS_PER_MONTH, DAYS_PER_YEAR, Model};

/// The most children one run may hold: beyond it a config is refused at
/// validation (see `config::limits`), so a run never meets it.
pub const MAX_CHILDREN_PER_RUN: usize = 5_000_000;

/// A would-be entrant of the current month.
#[derive(Clone, Debug)]
pub struct Entrant {
    time: f64,
    born: i32,
    band: u8,
    band_until: f64,
    leaves_at: f64,
    intended: u16,
    prevented: bool,
    /// The shock that brought it, if any.
    shock: Option<u16>,
    /// Its cohort (0 for the main children, c + 1 for cohort c).
    cohort: u8,
    rng: Stream,
    /// Its first event in care, once a simulation of the run has placed it
    /// (kept in the memo of entrants, see [`Shared`]).
    first: Option<First>,
}

/// What a child's admission into care drew: its stream and exponential
/// draw after it, and its first event. The same for the same child in the
/// same placement under the same hazards.
#[derive(Clone, Debug)]
pub struct First {
    placement: u16,
    rng: Stream,
    clock: f64,
    next: Next,
}

impl First {
    /// What `child`'s admission drew, its first event being `next`.
    fn of(child: &Child, next: Next) -> First {
        First {
            placement: child.placement,
            rng: child.rng.clone(),
            clock: child.clock,
            next,
        }
    }
}

/// A worker's memos of the entrants and initial stock of its last run (see
/// [`crate::model::shared`]), and its scratch space.
pub type Shared = crate::model::shared::Shared<Entrant, (Child, Option<First>), Scratch>;

/// The buffers a run grows as it goes, kept once for each worker rather
/// than once for each of its workspaces: a simulation takes them over from
/// the last one (see [`Scratch::lend`]), while they are still in the
/// processor's cache. Each is laid out by the calendar or the placements,
/// the same for every scenario of a config.
#[derive(Debug, Default)]
pub struct Scratch {
    children: Vec<Child>,
    queue: Queue,
    members: Vec<Vec<u32>>,
    band_changes: Vec<Vec<u32>>,
    waiters: Vec<VecDeque<u32>>,
    entrants: Vec<Entrant>,
}

impl Scratch {
    /// Every child of the worker's last simulation, in the order they came
    /// into care (the initial stock first), with the day each left care.
    pub fn children(&self) -> &[Child] {
        &self.children
    }

    /// Lends the buffers to `ws` for a run of `model`, laid out for it.
    fn lend(&mut self, model: &Model, ws: &mut Workspace) {
        if !self.queue.fits(&model.calendar.month_starts) {
            self.queue = Queue::new(&model.calendar.month_starts);
        }
        let places = model.placements.len();
        self.members.resize_with(places, Vec::new);
        self.waiters.resize_with(places, VecDeque::new);
        self.band_changes
            .resize_with(model.calendar.months.len(), Vec::new);
        self.swap(ws);
    }

    /// Takes the buffers back from `ws` once its run is over.
    fn take_back(&mut self, ws: &mut Workspace) {
        self.swap(ws);
    }

    fn swap(&mut self, ws: &mut Workspace) {
        std::mem::swap(&mut ws.children, &mut self.children);
        std::mem::swap(&mut ws.queue, &mut self.queue);
        std::mem::swap(&mut ws.members, &mut self.members);
        std::mem::swap(&mut ws.band_changes, &mut self.band_changes);
        std::mem::swap(&mut ws.waiters, &mut self.waiters);
        std::mem::swap(&mut ws.entrants, &mut self.entrants);
    }
}

/// Everything a run works in, kept from run to run by the worker that owns
/// it, so that a run allocates nothing once the buffers have grown.
pub struct Workspace {
    /// Band ends by date of birth: the same for every scenario of a config,
    /// so one table serves all of a worker's workspaces (see
    /// [`Workspace::share_ageing`]).
    ageing: Arc<Ageing>,
    inputs: RunInputs,
    hazards: Hazards,
    /// The run's queue and children (and below, the lists of the children
    /// in each listed placement, of those whose band changes each month, of
    /// those waiting for a place and of the month's entrants): the worker's
    /// [`Scratch`], lent to this workspace while it simulates a run, empty
    /// otherwise.
    queue: Queue,
    children: Vec<Child>,
    /// Each placement's count of children, room and placement-days.
    places: Vec<Place>,
    /// The children in each placement a programme picks from (see
    /// [`Place::listed`]; indices into `children`, empty for the others).
    members: Vec<Vec<u32>>,
    /// Children in care in each age band.
    band_count: Vec<u32>,
    /// Children of each cohort in care.
    cohort_count: Vec<u32>,
    /// Cohorts' children in care, their days accrued this month and when
    /// the count last changed, by [`Flows::cohort_cell`].
    cohort_cell_count: Vec<f64>,
    cohort_cell_days: Vec<f64>,
    cohort_cell_last: Vec<f64>,
    /// Per month: children whose band changes in it (see [`Run::advance`]).
    band_changes: Vec<Vec<u32>>,
    /// Children waiting for a place in each placement, first come first served.
    waiters: Vec<VecDeque<u32>>,
    /// Places added by capacity programmes so far, per intervention, and the
    /// whole extra places each placement has this month.
    places_added: Vec<f64>,
    extra_capacity: Vec<f64>,
    entrants: Vec<Entrant>,
    eligible: Vec<u32>,
    /// An initial child's exit rates by time-in-care band (scratch).
    tic_rates: Vec<f64>,
    /// The steady-state profile of time in care of each (group, placement,
    /// band) as [`Piece`]s, `tics` to a cell, worked out once a run where
    /// the initial stock needs it (`steady_built`).
    steady: Vec<Piece>,
    steady_built: Vec<bool>,
    /// Each intervention's stream for the current month.
    programme_rng: Vec<Stream>,
    /// An initial child's chance of each band of time in care.
    tic_chances: Vec<f64>,
    flows: Flows,
    /// Month index → its financial year, and the horizon's end.
    end: f64,
    /// What the main entries' would-be entrants and the initial stock
    /// depend on in the config, as text (the keys of their memos), and the
    /// run's values they depend on.
    entrant_spec: String,
    stock_spec: String,
    key: Vec<f64>,
}

impl Workspace {
    /// Prices the run `from` has just simulated (its placement-days and
    /// days of support) as a run of `model` would: `model` must have the
    /// same children, differing from `from`'s only in prices and money
    /// (see [`crate::results::InitiativePlan::priced_only`]). `draws` must
    /// be restarted at the run's index; `row` gets the money, laid out by
    /// `layout`. `shared` holds the quantiles the run's other simulations
    /// have worked out.
    pub fn price(
        &mut self,
        model: &Model,
        layout: &Layout,
        draws: &mut Random,
        from: &Workspace,
        shared: &mut Shared,
        row: &mut [f64],
    ) {
        let quantiles = shared.quantiles.of_run(draws.base());
        self.inputs.fill_with(model, draws, quantiles);
        row.fill(0.0);
        accrue::write(model, layout, &self.inputs, &from.flows, row);
    }

    /// Uses `other`'s table of band ends when it is the same as this one's,
    /// so that the workspaces of a config's scenarios read one table.
    pub fn share_ageing(&mut self, other: &Workspace) {
        if self.ageing == other.ageing {
            self.ageing = Arc::clone(&other.ageing);
        }
    }

    pub fn new(model: &Model) -> Workspace {
        let n_place = model.placements.len();
        let n_cells = n_place * model.ages.bands.len();
        Workspace {
            ageing: Arc::new(Ageing::new(&model.ages, &model.calendar.days)),
            inputs: RunInputs::new(model),
            hazards: Hazards::new(model),
            queue: Queue::default(),
            children: Vec::new(),
            places: start_places(model),
            members: Vec::new(),
            band_count: vec![0; model.ages.bands.len()],
            cohort_count: vec![0; model.cohorts.len()],
            cohort_cell_count: vec![0.0; n_cells * model.cohorts.len()],
            cohort_cell_days: vec![0.0; n_cells * model.cohorts.len()],
            cohort_cell_last: vec![0.0; n_cells * model.cohorts.len()],
            band_changes: Vec::new(),
            waiters: Vec::new(),
            places_added: vec![0.0; model.strategy.interventions.len()],
            extra_capacity: vec![0.0; n_place],
            entrants: Vec::new(),
            eligible: Vec::new(),
            tic_rates: Vec::new(),
            steady: Vec::new(),
            steady_built: Vec::new(),
            programme_rng: vec![Stream::new(0); model.strategy.interventions.len()],
            tic_chances: Vec::new(),
            flows: Flows::new(model),
            end: *model.calendar.month_starts.last().unwrap_or(&0.0),
            entrant_spec: entrant_spec(model),
            stock_spec: stock_spec(model),
            key: Vec::new(),
        }
    }
}

/// What a run keeps of one placement, in one record so that counting a
/// child in or out reads one place in memory.
#[derive(Clone, Copy, Debug)]
struct Place {
    /// Children in care in it.
    count: u32,
    /// Whether a programme picks children from it: only then is the list
    /// of its children kept (in [`Workspace::members`]).
    listed: bool,
    /// Its capacity with the places programmes have added this month
    /// (infinite without a capacity).
    room: f64,
    /// Placement-days accrued this month, and when the count last changed.
    days: f64,
    last_change: f64,
}

impl Place {
    /// The record of a placement at the start of a run.
    fn new(capacity: Option<f64>, listed: bool) -> Place {
        Place {
            count: 0,
            listed,
            room: capacity.unwrap_or(f64::INFINITY),
            days: 0.0,
            last_change: 0.0,
        }
    }

    /// Back to the start of a run: no children, no places added.
    fn reset(&mut self, capacity: Option<f64>) {
        *self = Place::new(capacity, self.listed);
    }

    /// Accrues its days up to `now` (its count is about to change).
    #[inline(always)]
    fn accrue(&mut self, now: f64) {
        self.days += self.count as f64 * (now - self.last_change);
        self.last_change = now;
    }
}

/// One run in progress: the model, the run's draws and its row of results.
struct Run<'a> {
    model: &'a Model,
    layout: &'a Layout,
    ws: &'a mut Workspace,
    row: &'a mut [f64],
    ageing: &'a Ageing,
    shared: &'a mut Shared,
    /// Whether the main entries' would-be entrants are copied from `shared`.
    entrants_use: Use,
    /// The initial stock's key: the first `hazard_key` values of `ws.key`.
    hazard_key: usize,
    /// The current month, and how many of its entrants (the first ones in
    /// `ws.entrants`) are the main entries'.
    month: usize,
    main_entrants: usize,
    /// Financial year of the current month.
    fy: usize,
}

/// Simulates one run of `model` with `draws` (already restarted at the
/// run's index) and writes its results into `row` (laid out by `layout`).
/// `shared` holds the entrants and initial stock the worker's last
/// simulation drew: when that was of the same run and they would come out
/// the same here, they are copied, not drawn again.
pub fn simulate(
    model: &Model,
    layout: &Layout,
    draws: &mut Random,
    ws: &mut Workspace,
    shared: &mut Shared,
    row: &mut [f64],
) {
    let quantiles = shared.quantiles.of_run(draws.base());
    ws.inputs.fill_with(model, draws, quantiles);
    ws.hazards.fill(&ws.inputs);
    row.fill(0.0);
    // The initial stock's key is the hazards (which set its children's
    // first events and any times in care drawn from the steady state); the
    // main entrants' is the hazards and the run's entry rates and dispersion.
    ws.key.clear();
    ws.hazards.key(&mut ws.key);
    let hazard_key = ws.key.len();
    ws.key.extend_from_slice(&ws.inputs.entry_mean);
    ws.key.extend_from_slice(&match ws.inputs.dispersion {
        Some(k) => [1.0, k],
        None => [0.0, 0.0],
    });
    let entrants_use = shared
        .entrants
        .begin(shared.on, draws.base(), &ws.entrant_spec, &ws.key);
    let ageing = Arc::clone(&ws.ageing);
    shared.scratch.lend(model, ws);
    let mut run = Run {
        model,
        layout,
        ws,
        row,
        ageing: &ageing,
        shared,
        entrants_use,
        hazard_key,
        month: 0,
        main_entrants: 0,
        fy: 0,
    };
    run.reset();
    run.initial_stock(draws);
    run.initial_leavers(draws);
    for t in 0..model.calendar.months.len() {
        run.fy = model.calendar.months[t].fy;
        run.add_places(t);
        // The month's arrivals and programme actions join its bucket before
        // the bucket is sorted.
        run.entrants(t, draws);
        run.programme_actions(t, draws);
        run.ws.queue.begin_month(t);
        while let Some(event) = run.ws.queue.pop() {
            run.handle(event);
        }
        run.month_end(t);
    }
    if run.entrants_use == Use::Write {
        run.shared.entrants.finish();
    }
    run.ws.flows.close(&model.calendar.month_starts);
    accrue::write(model, layout, &run.ws.inputs, &run.ws.flows, run.row);
    shared.scratch.take_back(ws);
}

impl Run<'_> {
    fn reset(&mut self) {
        let ws = &mut *self.ws;
        ws.queue.clear();
        ws.children.clear();
        for (place, p) in ws.places.iter_mut().zip(&self.model.placements) {
            place.reset(p.capacity);
        }
        for m in &mut ws.members {
            m.clear();
        }
        for w in &mut ws.waiters {
            w.clear();
        }
        for c in &mut ws.band_changes {
            c.clear();
        }
        ws.band_count.fill(0);
        ws.cohort_count.fill(0);
        ws.cohort_cell_count.fill(0.0);
        ws.cohort_cell_days.fill(0.0);
        ws.cohort_cell_last.fill(0.0);
        ws.places_added.fill(0.0);
        ws.extra_capacity.fill(0.0);
        ws.flows.clear();
    }

    /// The initial stock: each child's age uniform over its group of ages,
    /// its time in care from the config's split or the steady-state profile.
    /// Copied from the last run's when that had the same key.
    fn initial_stock(&mut self, draws: &Random) {
        let model = self.model;
        let stock_use = self.shared.stock.begin(
            self.shared.on,
            draws.base(),
            &self.ws.stock_spec,
            &self.ws.key[..self.hazard_key],
        );
        if stock_use == Use::Read {
            for i in 0..self.shared.stock.group(0).len() {
                let (child, first) = self.shared.stock.group(0)[i].clone();
                self.admit(child, 0.0, first.as_ref());
            }
            return;
        }
        let write = stock_use == Use::Write;
        // No steady-state profile is worked out yet for this run's hazards.
        let cells = (model.cohorts.len() + 1) * model.placements.len() * model.ages.bands.len();
        let ws = &mut *self.ws;
        ws.steady
            .resize(cells * ws.hazards.tics(), Piece::default());
        ws.steady_built.clear();
        ws.steady_built.resize(cells, false);
        ws.tic_chances.clear();
        ws.tic_chances.resize(ws.hazards.tics(), 0.0);
        let mut index = 0u64;
        for (p, placement) in model.placements.iter().enumerate() {
            for (range, n) in &placement.initial_groups {
                for _ in 0..*n as u64 {
                    let mut rng = draws.stream(Purpose::InitialChild, 0, index);
                    index += 1;
                    let years = if model.ages.tracked {
                        let u = crate::dist::unit(&mut rng);
                        (range.start as f64 + u * range.len() as f64) / 12.0
                    } else {
                        0.0
                    };
                    let Aged {
                        born,
                        band,
                        band_until,
                        leaves_at,
                    } = self.ageing.aged(0.0, years);
                    let care_start = -self.initial_time_in_care(p, band, 0, born, &mut rng);
                    let child = Child {
                        born,
                        care_start,
                        placement: p as u16,
                        band: band as u8,
                        cohort: 0,
                        in_care: false,
                        left: f64::INFINITY,
                        waiting: None,
                        band_until,
                        leaves_at,
                        clock: 0.0,
                        generation: 0,
                        slot: 0,
                        noted: false,
                        rng,
                    };
                    self.admit_initial(child, write);
                }
            }
        }
        for (c, cohort) in model.cohorts.iter().enumerate() {
            let mut index = 0u64;
            for (p, groups) in &cohort.initial {
                for (range, n) in groups {
                    for _ in 0..*n as u64 {
                        let mut rng = draws.stream(Purpose::CohortInitial, 0, cohort.key ^ index);
                        index += 1;
                        let u = crate::dist::unit(&mut rng);
                        let years = (range.start as f64 + u * range.len() as f64) / 12.0;
                        let years = if model.ages.tracked { years } else { 0.0 };
                        let aged = self.ageing.aged(0.0, years);
                        let care_start =
                            -self.initial_time_in_care(*p, aged.band, c + 1, aged.born, &mut rng);
                        let child = Child {
                            born: aged.born,
                            care_start,
                            placement: *p as u16,
                            band: aged.band as u8,
                            cohort: (c + 1) as u8,
                            in_care: false,
                            left: f64::INFINITY,
                            waiting: None,
                            band_until: aged.band_until,
                            leaves_at: aged.leaves_at,
                            clock: 0.0,
                            generation: 0,
                            slot: 0,
                            noted: false,
                            rng,
                        };
                        self.admit_initial(child, write);
                    }
                }
            }
        }
        if write {
            self.shared.stock.close_group();
            self.shared.stock.finish();
        }
    }

    /// Days an initial child of (placement, band) and group (0 the main
    /// children, c + 1 cohort c) has been in care: from the placement's
    /// split for the main children, else the steady-state profile.
    fn initial_time_in_care(
        &mut self,
        p: usize,
        band: usize,
        group: usize,
        born: i32,
        rng: &mut Stream,
    ) -> f64 {
        let model = self.model;
        if !model.stock_time_in_care {
            return 0.0;
        }
        let age = if model.ages.tracked {
            -(born as f64)
        } else {
            f64::INFINITY
        };
        let bounds = &self.ws.hazards.tic_bounds;
        let u = crate::dist::unit(rng);
        let split = model.placements[p]
            .initial_time_in_care
            .as_ref()
            .filter(|_| group == 0);
        match split {
            Some(split) => {
                // A band it is old enough for, by the split's fitted
                // weights (the same chances the central projection uses).
                let chances = &mut self.ws.tic_chances;
                split.chances(band, age, bounds, chances);
                let k = pick(chances, crate::dist::unit(rng));
                let lo = bounds[k];
                let hi = bounds.get(k + 1).copied().unwrap_or(f64::INFINITY);
                let hi = hi.min(age);
                if lo >= hi {
                    age.min(lo)
                } else if hi.is_finite() {
                    lo + u * (hi - lo)
                } else {
                    // Open-ended band without a known age: a year beyond its bound on average.
                    lo - DAYS_PER_YEAR * (1.0 - u).ln()
                }
            }
            None => {
                let ws = &mut *self.ws;
                let hz = &ws.hazards;
                let tics = hz.tics();
                let cell = (group * model.placements.len() + p) * model.ages.bands.len() + band;
                let pieces = &mut ws.steady[cell * tics..(cell + 1) * tics];
                if !ws.steady_built[cell] {
                    let rates = &mut ws.tic_rates;
                    rates.clear();
                    rates.extend((0..tics).map(|k| hz.exit_of(group, p, band, k)));
                    steady_pieces(rates, &hz.tic_bounds, pieces);
                    ws.steady_built[cell] = true;
                }
                steady_sample(pieces, age, u)
            }
        }
    }

    /// Care leavers already supported at the start: each has a uniform share
    /// of the support period left.
    fn initial_leavers(&mut self, draws: &Random) {
        let Some(c) = &self.model.care_leavers else {
            return;
        };
        let span = c.months as f64 * DAYS_PER_MONTH;
        for i in 0..c.initial as u64 {
            let mut rng = draws.stream(Purpose::InitialLeaver, 0, i);
            let left = (1.0 - crate::dist::unit(&mut rng)) * span;
            self.ws.flows.support(&self.model.calendar, 0.0, left, 1.0);
        }
    }

    /// Admits a child of the initial stock, keeping it and its first event
    /// in the memo when `write`.
    fn admit_initial(&mut self, child: Child, write: bool) {
        if !write {
            self.admit(child, 0.0, None);
            return;
        }
        let kept = child.clone();
        let id = self.ws.children.len();
        let next = self.admit(child, 0.0, None);
        let first = First::of(&self.ws.children[id], next);
        self.shared.stock.push((kept, Some(first)));
    }

    /// Puts a child into care in its placement at `now` and schedules its
    /// next event: drawn, or `known` from another simulation of the run.
    /// Returns that event.
    #[inline(always)]
    fn admit(&mut self, mut child: Child, now: f64, known: Option<&First>) -> Next {
        let id = self.ws.children.len() as u32;
        child.in_care = true;
        if child.band_until <= now {
            // Its band has already ended: a child is always admitted within
            // its band, so this only guards the counts below.
            catch_up(self.ageing, &mut child, now);
        }
        match known {
            Some(f) => {
                child.rng = f.rng.clone();
                child.clock = f.clock;
            }
            None => child.rewind(),
        }
        self.ws.band_count[child.band as usize] += 1;
        if child.cohort > 0 {
            self.ws.cohort_count[child.cohort as usize - 1] += 1;
            // A cohort child's days move with its band (see `change_band`):
            // its band end is listed at once, in the order children came in.
            self.note_band_change(id, child.band_until);
            child.noted = true;
        }
        // Counted in and its next event queued before it is stored, so that
        // its record is read from where it is being built.
        let ws = &mut *self.ws;
        place_in(&mut ws.places, &mut ws.members, &mut child, id, now);
        let (p, b) = (child.placement as usize, child.band as usize);
        self.cohort_in(child.cohort, p, b, now, 1.0);
        let ws = &mut *self.ws;
        let next = match known {
            Some(f) => f.next,
            None => ws.hazards.next(&child, now, ws.end, self.ageing),
        };
        let calendar = &self.model.calendar;
        note_band_end(calendar, &mut ws.band_changes, id, &mut child, next);
        queue_next(&mut ws.queue, id, &mut child, next);
        ws.children.push(child);
        next
    }

    /// Notes that child `id`'s band changes on day `until`, so that the
    /// month's end brings it up to date.
    fn note_band_change(&mut self, id: u32, until: f64) {
        if let Some(m) = self.model.calendar.month_of_day(until) {
            self.ws.band_changes[m].push(id);
        }
    }

    /// Brings child `id`'s band up to day `on`, moving it between the
    /// bands' counts.
    #[inline(always)]
    fn advance(&mut self, id: u32, on: f64) {
        if self.ws.children[id as usize].band_until <= on {
            self.change_band(id, on);
        }
    }

    /// The rest of [`Run::advance`], for a child whose band may have ended.
    #[cold]
    fn change_band(&mut self, id: u32, on: f64) {
        let child = &mut self.ws.children[id as usize];
        let (band, until) =
            self.ageing
                .band_at(child.born, child.band as usize, child.band_until, on);
        if band == child.band as usize {
            return;
        }
        self.ws.band_count[child.band as usize] -= 1;
        self.ws.band_count[band] += 1;
        let (old, since) = (child.band as usize, child.band_until);
        child.band = band as u8;
        child.band_until = until;
        let (cohort, p, in_care) = (
            child.cohort as usize,
            child.placement as usize,
            child.in_care,
        );
        if cohort > 0 && in_care {
            // The child changed band on its birthday, `since`: its days from
            // then are moved to the new band.
            let from = self.ws.flows.cohort_cell(cohort - 1, p, old);
            let to = self.ws.flows.cohort_cell(cohort - 1, p, band);
            self.cohort_shift(from, on, -1.0);
            self.cohort_shift(to, on, 1.0);
            self.ws.cohort_cell_days[from] -= on - since;
            self.ws.cohort_cell_days[to] += on - since;
        }
        self.note_band_change(id, until);
        self.ws.children[id as usize].noted = true;
    }

    /// Accrues a cohort cell's days up to `now` and changes its count by `by`.
    #[inline]
    fn cohort_shift(&mut self, cell: usize, now: f64, by: f64) {
        let ws = &mut *self.ws;
        ws.cohort_cell_days[cell] += ws.cohort_cell_count[cell] * (now - ws.cohort_cell_last[cell]);
        ws.cohort_cell_last[cell] = now;
        ws.cohort_cell_count[cell] += by;
    }

    /// Counts child `id`, if of a cohort, into (or, `by` = −1, out of) its
    /// cohort's cell.
    #[inline(always)]
    fn cohort_join(&mut self, id: u32, now: f64, by: f64) {
        let child = &self.ws.children[id as usize];
        if child.cohort > 0 {
            let (p, b) = (child.placement as usize, child.band as usize);
            self.cohort_in(child.cohort, p, b, now, by);
        }
    }

    /// Counts a child of group `cohort` (0 the main children, which have
    /// no cell) in placement `p` and band `b` into (or out of) its cell.
    #[inline(always)]
    fn cohort_in(&mut self, cohort: u8, p: usize, b: usize, now: f64, by: f64) {
        if cohort > 0 {
            let cell = self.ws.flows.cohort_cell(cohort as usize - 1, p, b);
            self.cohort_shift(cell, now, by);
        }
    }

    /// Counts child `id` into its placement from `now`.
    #[inline(always)]
    fn join(&mut self, id: u32, now: f64) {
        let ws = &mut *self.ws;
        place_in(
            &mut ws.places,
            &mut ws.members,
            &mut ws.children[id as usize],
            id,
            now,
        );
        self.cohort_join(id, now, 1.0);
    }

    /// Counts child `id` out of its placement from `now`.
    #[inline(always)]
    fn part(&mut self, id: u32, now: f64) {
        self.cohort_join(id, now, -1.0);
        let ws = &mut *self.ws;
        let child = &ws.children[id as usize];
        let (p, slot) = (child.placement as usize, child.slot as usize);
        let place = &mut ws.places[p];
        place.accrue(now);
        place.count -= 1;
        if place.listed {
            ws.members[p].swap_remove(slot);
            if let Some(&moved) = ws.members[p].get(slot) {
                ws.children[moved as usize].slot = slot as u32;
            }
        }
    }

    /// Schedules child `id`'s next event after `now` (none beyond the
    /// horizon), and returns it.
    #[inline(always)]
    fn schedule(&mut self, id: u32, now: f64) -> Next {
        self.advance(id, now);
        let ws = &mut *self.ws;
        let child = &mut ws.children[id as usize];
        let next = ws.hazards.next(child, now, ws.end, self.ageing);
        let calendar = &self.model.calendar;
        note_band_end(calendar, &mut ws.band_changes, id, child, next);
        queue_next(&mut ws.queue, id, child, next);
        next
    }

    /// Free places in placement `p` (unlimited without a capacity).
    fn free(&self, p: usize) -> f64 {
        let place = &self.ws.places[p];
        place.room - place.count as f64
    }

    fn handle(&mut self, event: Event) {
        match event.what {
            What::Child {
                id,
                generation,
                eighteen,
            } => {
                let child = &self.ws.children[id as usize];
                if !child.in_care || child.generation != generation {
                    return;
                }
                if eighteen {
                    self.eighteen(id, event.time);
                } else {
                    self.exit_or_move(id, event.time);
                }
            }
            What::Entrant { index } => self.place_entrant(index as usize, event.time),
            What::Programme { index } => self.programme_action(index as usize, event.time),
        }
    }

    /// The child's 18th birthday: it leaves care, and joins the care
    /// leavers if the config supports them.
    fn eighteen(&mut self, id: u32, now: f64) {
        self.leave(id, now);
        self.row[self.layout.year(self.fy, YearField::LeftAt18)] += 1.0;
        self.row[self.layout.year(self.fy, YearField::Exits)] += 1.0;
        if let Some(c) = &self.model.care_leavers {
            let span = c.months as f64 * DAYS_PER_MONTH;
            let calendar = &self.model.calendar;
            self.ws.flows.support(calendar, now, now + span, 1.0);
            let cohort = self.ws.children[id as usize].cohort as usize;
            if cohort > 0 {
                self.ws
                    .flows
                    .support_cohort(cohort - 1, calendar, now, now + span, 1.0);
            }
        }
    }

    /// Takes child `id` out of care at `now`.
    fn leave(&mut self, id: u32, now: f64) {
        self.advance(id, now);
        self.part(id, now);
        let ws = &mut *self.ws;
        let child = &mut ws.children[id as usize];
        child.in_care = false;
        child.left = now;
        let (from, band, cohort) = (
            child.placement as usize,
            child.band as usize,
            child.cohort as usize,
        );
        ws.band_count[band] -= 1;
        if cohort > 0 {
            ws.cohort_count[cohort - 1] -= 1;
        }
        self.wake(from, now);
    }

    /// The child's hazard came due: it leaves care or moves, by the rates
    /// in force now.
    fn exit_or_move(&mut self, id: u32, now: f64) {
        self.advance(id, now);
        let hz = &self.ws.hazards;
        let child = &mut self.ws.children[id as usize];
        let (p, b, g) = (
            child.placement as usize,
            child.band as usize,
            child.cohort as usize,
        );
        let k = hz.tic_band(now - child.care_start);
        let waiting = child.waiting.map(|q| q as usize);
        let excluded = waiting.map_or(0.0, |q| hz.move_rate_to(p, b, q));
        let mut u = child.uniform() * (hz.total_of(g, p, b, k) - excluded).max(0.0);
        u -= hz.exit_of(g, p, b, k);
        if u < 0.0 {
            self.leave(id, now);
            self.row[self.layout.year(self.fy, YearField::Exits)] += 1.0;
            return;
        }
        let mut to = None;
        for (dest, _, rate) in hz.moves(p, b).filter(|&(q, _, _)| Some(q) != waiting) {
            to = Some((dest, rate));
            u -= rate;
            if u < 0.0 {
                break;
            }
        }
        // (Rounding can leave u just above the last rate: the last move.)
        if let Some((to, rate)) = to {
            if self.free(to) >= 1.0 {
                self.relocate(id, to, now);
            } else if rate >= IMMEDIATE {
                // A move "at once" waits for the next free place.
                self.ws.children[id as usize].waiting = Some(to as u16);
                self.ws.waiters[to].push_back(id);
            }
            // Otherwise the move is lost: the child tries again at its rate.
        }
        self.ws.children[id as usize].rewind();
        self.schedule(id, now);
    }

    /// Moves child `id` to placement `to` at `now`.
    fn relocate(&mut self, id: u32, to: usize, now: f64) {
        self.advance(id, now);
        let from = self.ws.children[id as usize].placement as usize;
        self.part(id, now);
        let child = &mut self.ws.children[id as usize];
        child.placement = to as u16;
        child.waiting = None;
        self.join(id, now);
        self.wake(from, now);
    }

    /// Places free in `p`: children waiting to move there at once take them,
    /// first come first served.
    #[inline(always)]
    fn wake(&mut self, p: usize, now: f64) {
        if !self.ws.waiters[p].is_empty() {
            self.wake_waiters(p, now);
        }
    }

    /// The rest of [`Run::wake`], for a placement with children waiting.
    fn wake_waiters(&mut self, p: usize, now: f64) {
        while !self.ws.waiters[p].is_empty() && self.free(p) >= 1.0 {
            let Some(id) = self.ws.waiters[p].pop_front() else {
                return;
            };
            let child = &self.ws.children[id as usize];
            if !child.in_care || child.waiting != Some(p as u16) {
                continue;
            }
            self.advance(id, now);
            let child = &self.ws.children[id as usize];
            let (from, band) = (child.placement as usize, child.band as usize);
            self.ws.children[id as usize].waiting = None;
            if self.ws.hazards.move_rate_to(from, band, p) >= IMMEDIATE {
                self.relocate(id, p, now);
            }
            self.ws.children[id as usize].rewind();
            self.schedule(id, now);
        }
    }

    /// Places added by capacity programmes up to month `t` (whole places).
    fn add_places(&mut self, t: usize) {
        let model = self.model;
        let mut any = false;
        for (i, iv) in model.strategy.interventions.iter().enumerate() {
            if let Effect::Capacity { .. } = iv.effect {
                let added = self.monthly(i, t);
                self.ws.places_added[i] += added;
                self.row[self.layout.intervention_children(self.fy, i)] += added;
                any = true;
            }
        }
        if !any {
            return;
        }
        self.ws.extra_capacity.fill(0.0);
        for (i, iv) in model.strategy.interventions.iter().enumerate() {
            if let Effect::Capacity { placement, .. } = iv.effect {
                self.ws.extra_capacity[placement] += self.ws.places_added[i];
            }
        }
        for extra in &mut self.ws.extra_capacity {
            *extra = extra.floor();
        }
        let places = self.ws.places.iter_mut().zip(&model.placements);
        for ((place, p), extra) in places.zip(&self.ws.extra_capacity) {
            place.room = p.capacity.map_or(f64::INFINITY, |cap| cap + extra);
        }
        let start = model.calendar.month_starts[t];
        for p in 0..model.placements.len() {
            self.wake(p, start);
        }
    }

    /// Intervention `i`'s mean number of children (or places) in month `t`:
    /// its yearly effect / 12, times its ramp, 0 when not delivered.
    fn monthly(&self, i: usize, t: usize) -> f64 {
        let inputs = &self.ws.inputs;
        let iv = &self.model.strategy.interventions[i];
        inputs.effect[i] / 12.0 * iv.ramp(t) * inputs.delivered[i]
    }

    /// Draws month `t`'s would-be entrants, removes those prevented, adds
    /// shock entrants, and schedules each one's arrival.
    fn entrants(&mut self, t: usize, draws: &Random) {
        let model = self.model;
        let start = model.calendar.month_starts[t];
        let days = model.calendar.months[t].days as f64;
        self.ws.entrants.clear();
        if self.entrants_use == Use::Read && model.entries.is_some() {
            let group = self.shared.entrants.group(t);
            self.ws.entrants.extend_from_slice(group);
            self.prevent(t, draws);
        } else if let Some(entries) = &model.entries {
            let mut rng = draws.stream(Purpose::Entries, t, 0);
            let n = count(
                &mut rng,
                self.ws.inputs.entry_mean[t],
                self.ws.inputs.dispersion,
            );
            for j in 0..n {
                let mut rng = draws.stream(Purpose::Entrant, t, j);
                let time = start + crate::dist::unit(&mut rng) * days;
                let years = match &entries.age_by_year {
                    Some(shares) => {
                        let year = pick(shares, crate::dist::unit(&mut rng));
                        year as f64 + crate::dist::unit(&mut rng)
                    }
                    None => {
                        let band = pick(&entries.age_mix, crate::dist::unit(&mut rng));
                        self.age_in_band(band, crate::dist::unit(&mut rng))
                    }
                };
                self.push_entrant(time, years, &entries.mix, None, rng);
            }
            if self.entrants_use == Use::Write {
                self.shared.entrants.record(&self.ws.entrants);
            }
            self.prevent(t, draws);
        }
        self.month = t;
        self.main_entrants = self.ws.entrants.len();
        for (s, shock) in model.strategy.shocks.iter().enumerate() {
            let n = self.ws.inputs.shock_entrants[t * model.strategy.shocks.len() + s];
            for j in 0..n as u64 {
                let mut rng = draws.stream(Purpose::ShockEntrant, t, shock.key ^ j);
                let time = start + crate::dist::unit(&mut rng) * days;
                let band = pick(&shock.age_mix, crate::dist::unit(&mut rng));
                let years = self.age_in_band(band, crate::dist::unit(&mut rng));
                self.push_entrant(time, years, &shock.mix, Some(s as u16), rng);
            }
        }
        self.cohort_entrants(t, draws);
        for (index, e) in self.ws.entrants.iter().enumerate() {
            if !e.prevented {
                self.ws.queue.push(Event {
                    time: e.time,
                    what: What::Entrant {
                        index: index as u32,
                    },
                });
            }
        }
    }

    /// Month `t`'s entrants of each cohort, from the cohort's own streams
    /// (so that a cohort changes no other child's draws); no programme
    /// prevents them.
    fn cohort_entrants(&mut self, t: usize, draws: &Random) {
        let model = self.model;
        let start = model.calendar.month_starts[t];
        let days = model.calendar.months[t].days as f64;
        let months = model.calendar.months.len();
        for (c, cohort) in model.cohorts.iter().enumerate() {
            let Some(entries) = &cohort.entries else {
                continue;
            };
            let mut rng = draws.stream(Purpose::CohortEntries, t, cohort.key);
            let n = count(
                &mut rng,
                self.ws.inputs.cohort_entry_mean[c * months + t],
                self.ws.inputs.cohort_dispersion[c],
            );
            for j in 0..n {
                let mut rng = draws.stream(Purpose::CohortEntrant, t, cohort.key ^ j);
                let time = start + crate::dist::unit(&mut rng) * days;
                let years = entrant_age(self.model, entries, &mut rng);
                self.push_entrant(time, years, &entries.mix, None, rng);
                if let Some(e) = self.ws.entrants.last_mut() {
                    e.cohort = (c + 1) as u8;
                }
            }
        }
    }

    /// An age in years uniform within band `band` (any age under 18 when
    /// ages are not tracked: it is not used).
    fn age_in_band(&self, band: usize, u: f64) -> f64 {
        let b = &self.model.ages.bands[band];
        b.from_years as f64 + u * (b.to_years - b.from_years) as f64
    }

    /// Adds a would-be entrant aged `years` arriving at `time`, meant for a
    /// placement drawn from its band's row of `mix` (or the only row).
    fn push_entrant(
        &mut self,
        time: f64,
        years: f64,
        mix: &[Vec<f64>],
        shock: Option<u16>,
        mut rng: Stream,
    ) {
        let Aged {
            born,
            band,
            band_until,
            leaves_at,
        } = self.ageing.aged(time, years);
        let row = &mix[band.min(mix.len() - 1)];
        let intended = pick(row, crate::dist::unit(&mut rng));
        self.ws.entrants.push(Entrant {
            time,
            born,
            band: band as u8,
            band_until,
            leaves_at,
            intended: intended as u16,
            prevented: false,
            shock,
            cohort: 0,
            rng,
            first: None,
        });
    }

    /// Edge-of-care programmes keep would-be entrants out of care: a Poisson
    /// number a month, chosen uniformly among the eligible, never more than
    /// there are.
    fn prevent(&mut self, t: usize, draws: &Random) {
        let model = self.model;
        for (i, iv) in model.strategy.interventions.iter().enumerate() {
            let Effect::PreventEntry {
                bands, placements, ..
            } = &iv.effect
            else {
                continue;
            };
            let mean = self.monthly(i, t);
            if mean <= 0.0 {
                continue;
            }
            let mut rng = draws.stream(Purpose::Strategy, t, iv.key);
            let wanted = poisson(&mut rng, mean);
            if wanted == 0 {
                continue;
            }
            let ws = &mut *self.ws;
            ws.eligible.clear();
            ws.eligible.extend(
                ws.entrants
                    .iter()
                    .enumerate()
                    .filter(|(_, e)| {
                        !e.prevented && bands[e.band as usize] && placements[e.intended as usize]
                    })
                    .map(|(j, _)| j as u32),
            );
            let k = (wanted as usize).min(ws.eligible.len());
            // A partial Fisher–Yates shuffle picks k of them uniformly.
            for c in 0..k {
                let r = c + below(&mut rng, ws.eligible.len() - c);
                ws.eligible.swap(c, r);
                ws.entrants[ws.eligible[c] as usize].prevented = true;
            }
            self.row[self.layout.intervention_children(self.fy, i)] += k as f64;
        }
    }

    /// An entrant arrives: into its placement if a place is free, otherwise
    /// along the overflow chain.
    fn place_entrant(&mut self, index: usize, now: f64) {
        let e = &self.ws.entrants[index];
        let mut at = e.intended as usize;
        while self.free(at) < 1.0 {
            match self.model.placements[at].overflow {
                Some(next) => at = next,
                None => break,
            }
        }
        let child = Child {
            born: e.born,
            care_start: e.time,
            placement: at as u16,
            band: e.band,
            cohort: e.cohort,
            in_care: false,
            left: f64::INFINITY,
            waiting: None,
            band_until: e.band_until,
            leaves_at: e.leaves_at,
            clock: 0.0,
            generation: 0,
            slot: 0,
            noted: false,
            rng: e.rng.clone(),
        };
        let (shock, cohort) = (e.shock, e.cohort);
        // Its first event, when another simulation of the run placed it here.
        let known = e.first.clone().filter(|f| f.placement as usize == at);
        self.row[self.layout.year(self.fy, YearField::Entries)] += 1.0;
        if let Some(s) = shock {
            self.row[self.layout.shock_entries(self.fy, s as usize)] += 1.0;
        }
        if cohort > 0 {
            let c = cohort as usize - 1;
            self.row[self.layout.cohort(self.fy, c, CohortField::Entries)] += 1.0;
        }
        let id = self.ws.children.len();
        let next = self.admit(child, now, known.as_ref());
        if self.entrants_use == Use::Write && index < self.main_entrants && known.is_none() {
            let first = First::of(&self.ws.children[id], next);
            if let Some(e) = self.shared.entrants.item_mut(self.month, index) {
                e.first = Some(first);
            }
        }
    }

    /// Schedules this month's actions of exit and step-down programmes: a
    /// Poisson number, each on a uniform date in the month.
    fn programme_actions(&mut self, t: usize, draws: &Random) {
        let model = self.model;
        let start = model.calendar.month_starts[t];
        let days = model.calendar.months[t].days as f64;
        for (i, iv) in model.strategy.interventions.iter().enumerate() {
            if !matches!(iv.effect, Effect::Exit { .. } | Effect::StepDown { .. }) {
                continue;
            }
            let mean = self.monthly(i, t);
            if mean <= 0.0 {
                continue;
            }
            let mut rng = draws.stream(Purpose::Strategy, t, iv.key);
            let n = poisson(&mut rng, mean);
            for _ in 0..n {
                let time = start + crate::dist::unit(&mut rng) * days;
                self.ws.queue.push(Event {
                    time,
                    what: What::Programme { index: i as u32 },
                });
            }
            self.ws.programme_rng[i] = rng;
        }
    }

    /// One action of a programme: a child chosen uniformly among those in
    /// its placements leaves care, or steps down if a place is free.
    fn programme_action(&mut self, i: usize, now: f64) {
        let model = self.model;
        let ws = &mut *self.ws;
        let rng = &mut ws.programme_rng[i];
        match &model.strategy.interventions[i].effect {
            Effect::Exit { from, span, .. } => {
                let within = || from.iter().enumerate().filter(|(_, inside)| **inside);
                let children = &ws.children;
                let members = &ws.members;
                // The children it may choose, in its placements' order.
                let candidates = || {
                    within()
                        .flat_map(|(p, _)| &members[p])
                        .filter(|&&id| span.contains(now - children[id as usize].care_start))
                };
                // Every child of its placements qualifies without a span: then
                // counting and finding the chosen one need no walk through them.
                let total: usize = if span.is_all() {
                    within().map(|(p, _)| members[p].len()).sum()
                } else {
                    candidates().count()
                };
                if total == 0 {
                    return;
                }
                let mut r = below(rng, total);
                let chosen = if span.is_all() {
                    within().find_map(|(p, _)| match members[p].get(r) {
                        Some(&id) => Some(id),
                        None => {
                            r -= members[p].len();
                            None
                        }
                    })
                } else {
                    candidates().nth(r).copied()
                };
                if let Some(id) = chosen {
                    self.leave(id, now);
                    self.row[self.layout.year(self.fy, YearField::Exits)] += 1.0;
                    self.row[self.layout.intervention_children(self.fy, i)] += 1.0;
                }
            }
            &Effect::StepDown { from, to, .. } => {
                if ws.members[from].is_empty() {
                    return;
                }
                let r = below(rng, ws.members[from].len());
                let id = ws.members[from][r];
                if self.free(to) < 1.0 {
                    return;
                }
                self.relocate(id, to, now);
                self.ws.children[id as usize].rewind();
                self.schedule(id, now);
                self.row[self.layout.intervention_children(self.fy, i)] += 1.0;
            }
            _ => {}
        }
    }

    /// Records the end of month `t`: counts, and the month's placement-days.
    fn month_end(&mut self, t: usize) {
        let model = self.model;
        let end = model.calendar.month_starts[t + 1];
        // Bands as at the end of the month's last day.
        let changing = std::mem::take(&mut self.ws.band_changes[t]);
        for &id in &changing {
            if self.ws.children[id as usize].in_care {
                self.advance(id, end - 0.5);
            }
        }
        self.ws.band_changes[t] = changing;
        let ws = &mut *self.ws;
        let mut lac = 0.0;
        for p in 0..model.placements.len() {
            let place = &mut ws.places[p];
            let n = place.count as f64;
            place.accrue(end);
            ws.flows.placement_days[t * model.placements.len() + p] = place.days;
            place.days = 0.0;
            self.row[self.layout.lac_placement(t, p)] = n;
            lac += n;
        }
        self.row[self.layout.lac(t)] = lac;
        for b in 0..self.layout.bands {
            self.row[self.layout.lac_band(t, b)] = ws.band_count[b] as f64;
        }
        let cells = ws.flows.cohort_cells;
        for cell in 0..cells {
            let days = &mut ws.cohort_cell_days[cell];
            *days += ws.cohort_cell_count[cell] * (end - ws.cohort_cell_last[cell]);
            ws.cohort_cell_last[cell] = end;
            ws.flows.cohort_days[t * cells + cell] = *days;
            *days = 0.0;
        }
        let year_end = t == model.calendar.years[self.fy].last_month();
        for (c, &n) in ws.cohort_count.iter().enumerate() {
            self.row[self.layout.lac_cohort(t, c)] = n as f64;
            if year_end {
                self.row[self.layout.cohort(self.fy, c, CohortField::LacEnd)] = n as f64;
            }
        }
        if year_end {
            self.row[self.layout.year(self.fy, YearField::LacEnd)] = lac;
        }
    }
}

/// What the main entries' would-be entrants depend on in `model`, as text:
/// their ages and placements, the age bands and the calendar. The run's
/// entry rates and dispersion (their numbers) and hazards (their first
/// events) are the rest of their key.
fn entrant_spec(model: &Model) -> String {
    let entries = model
        .entries
        .as_ref()
        .map(|e| (&e.age_mix, &e.age_by_year, &e.mix));
    format!(
        "{entries:?} {:?} {:?} {:?}",
        model.ages, model.calendar.start, model.calendar.month_starts
    )
}

/// What the initial stock depends on in `model`, as text: each placement's
/// and cohort's children by age and time in care, the time-in-care bands,
/// the age bands and the calendar. The run's hazards, which set the
/// children's first events (and any times in care drawn from the steady
/// state), are the rest of its key.
fn stock_spec(model: &Model) -> String {
    let placements: Vec<_> = model
        .placements
        .iter()
        .map(|p| (&p.initial_groups, &p.initial_time_in_care))
        .collect();
    let cohorts: Vec<_> = model.cohorts.iter().map(|c| (&c.initial, c.key)).collect();
    format!(
        "{placements:?} {cohorts:?} {:?} {} {:?} {:?} {:?}",
        model.time_in_care,
        model.stock_time_in_care,
        model.ages,
        model.calendar.start,
        model.calendar.month_starts
    )
}

/// Brings `child`'s band up to day `on` (before it is counted anywhere).
#[cold]
fn catch_up(ageing: &Ageing, child: &mut Child, on: f64) {
    let (band, until) = ageing.band_at(child.born, child.band as usize, child.band_until, on);
    child.band = band as u8;
    child.band_until = until;
}

/// Counts `child` (number `id`) into its placement's count and days from
/// `now`, and into its list where the placement keeps one.
#[inline(always)]
fn place_in(places: &mut [Place], members: &mut [Vec<u32>], child: &mut Child, id: u32, now: f64) {
    let p = child.placement as usize;
    let place = &mut places[p];
    place.accrue(now);
    place.count += 1;
    if place.listed {
        child.slot = members[p].len() as u32;
        members[p].push(id);
    }
}

/// Lists `child` (number `id`) for the month-end of the day its band ends,
/// unless it is listed already or `next`, its next event, comes first: that
/// event takes it out of care or schedules it again (and lists it then if
/// need be), so the months between never see it change band.
#[inline(always)]
fn note_band_end(
    calendar: &Calendar,
    band_changes: &mut [Vec<u32>],
    id: u32,
    child: &mut Child,
    next: Next,
) {
    let first = match next {
        Next::Hazard(t) | Next::Eighteen(t) => t,
        Next::Beyond => f64::INFINITY,
    };
    if child.noted || first <= child.band_until {
        return;
    }
    if let Some(m) = calendar.month_of_day(child.band_until) {
        band_changes[m].push(id);
    }
    child.noted = true;
}

/// Queues `next` as the next event of `child` (number `id`), replacing any
/// other it had: the old one no longer matches its generation.
#[inline(always)]
fn queue_next(queue: &mut Queue, id: u32, child: &mut Child, next: Next) {
    child.generation = child.generation.wrapping_add(1);
    let (time, eighteen) = match next {
        Next::Hazard(t) => (t, false),
        Next::Eighteen(t) => (t, true),
        Next::Beyond => return,
    };
    queue.push(Event {
        time,
        what: What::Child {
            id,
            generation: child.generation,
            eighteen,
        },
    });
}

/// Each placement's record at the start of a run.
fn start_places(model: &Model) -> Vec<Place> {
    model
        .placements
        .iter()
        .zip(picked_from(model))
        .map(|(p, listed)| Place::new(p.capacity, listed))
        .collect()
}

/// Whether an exit or step-down programme picks children from each
/// placement.
fn picked_from(model: &Model) -> Vec<bool> {
    let mut picked = vec![false; model.placements.len()];
    for iv in &model.strategy.interventions {
        match &iv.effect {
            Effect::Exit { from, .. } => {
                for (p, &inside) in picked.iter_mut().zip(from) {
                    *p |= inside;
                }
            }
            Effect::StepDown { from, .. } => picked[*from] = true,
            _ => {}
        }
    }
    picked
}

/// An entrant's age in years, from the entries' ages by year or by band.
fn entrant_age(model: &Model, entries: &crate::model::Entries, rng: &mut Stream) -> f64 {
    match &entries.age_by_year {
        Some(shares) => {
            let year = pick(shares, crate::dist::unit(rng));
            year as f64 + crate::dist::unit(rng)
        }
        None => {
            let band = pick(&entries.age_mix, crate::dist::unit(rng));
            let b = &model.ages.bands[band];
            let u = crate::dist::unit(rng);
            b.from_years as f64 + u * (b.to_years - b.from_years) as f64
        }
    }
}

/// The index drawn from `shares` (summing to 1) by a uniform `u`.
/// Only positive shares can be drawn: when rounding leaves `u` above their
/// sum, the last positive one is.
fn pick(shares: &[f64], u: f64) -> usize {
    // A share of 0 leaves the running sum as it was, so the first sum above
    // `u` is always reached at a positive share.
    let mut acc = 0.0;
    for (i, &s) in shares.iter().enumerate() {
        acc += s;
        if u < acc {
            return i;
        }
    }
    shares.iter().rposition(|&s| s > 0.0).unwrap_or(0)
}

/// A whole number uniform in 0..n (n > 0).
fn below(rng: &mut Stream, n: usize) -> usize {
    ((crate::dist::unit(rng) * n as f64) as usize).min(n - 1)
}

/// A Poisson count with the given mean.
fn poisson(rng: &mut Stream, mean: f64) -> u64 {
    if mean.is_nan() || mean <= 0.0 {
        return 0;
    }
    match Poisson::new(mean) {
        Ok(d) => d.sample(rng) as u64,
        Err(_) => 0,
    }
}

/// Entrants in a month: Poisson with the given mean, or negative binomial
/// with size `dispersion` (a gamma-mixed Poisson: variance mean + mean²/size).
/// Validation refuses a config whose entrants could exceed a million in a
/// run but for a chance of 1 in 10¹⁵ (`config::limits`); the cap at
/// [`MAX_CHILDREN_PER_RUN`] is a last guard, so that no single month's
/// draw asks for more than a run's whole allowance.
fn count(rng: &mut Stream, mean: f64, dispersion: Option<f64>) -> u64 {
    if mean.is_nan() || mean <= 0.0 {
        return 0;
    }
    let lambda = match dispersion.map(|k| Gamma::new(k, mean / k)) {
        Some(Ok(g)) => g.sample(rng),
        _ => mean,
    };
    poisson(rng, lambda).min(MAX_CHILDREN_PER_RUN as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pick_follows_the_shares() {
        let shares = [0.2, 0.0, 0.8];
        assert_eq!(pick(&shares, 0.1), 0);
        assert_eq!(pick(&shares, 0.2), 2);
        assert_eq!(pick(&shares, 0.999_999), 2);
        assert_eq!(pick(&[1.0], 0.5), 0);
        // Leading and trailing zeros are never drawn, even when rounding
        // leaves u at or above the sum.
        let padded = [0.0, 0.5, 0.5, 0.0];
        assert_eq!(pick(&padded, 0.0), 1);
        assert_eq!(pick(&padded, 0.5), 2);
        assert_eq!(pick(&padded, 1.0), 2);
    }
}
