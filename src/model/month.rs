//! One month of the model, in the order of SPEC §2.3:
//! exits, ageing, moves, entries, (prevention,) placement of entrants; the
//! caller then costs the month from the start and end stock.
//!
//! The stock is held as counts by placement and age cell. When age bands
//! are declared a cell is one month of age (0 to 18 years), so a child
//! changes band in the month of the birthday that crosses the bound and
//! leaves care in the month of its 18th birthday; otherwise a placement has a
//! single cell. Counts are `f64` so that the central projection can carry
//! fractional children; random runs only ever hold whole numbers.

use crate::model::draws::{Draws, Purpose};
use crate::model::run::RunInputs;
use crate::model::strategy::Effect;
use crate::model::{AGE_CELLS, Model};

/// What happened in a month, for costing and reporting.
#[derive(Clone, Debug)]
pub struct MonthTotals {
    /// Children in each placement at the start of the month.
    pub start: Vec<f64>,
    /// Children in each placement at the end of the month.
    pub end: Vec<f64>,
    pub entries: f64,
    /// Exits other than at 18.
    pub exits: f64,
    pub left_at_18: f64,
    /// Care leavers being supported at the start and end of the month.
    pub leavers_start: f64,
    pub leavers_end: f64,
    /// Per intervention: children prevented, exited or moved, or places
    /// added, this month.
    pub intervention_children: Vec<f64>,
    /// Per shock: entrants this month.
    pub shock_entries: Vec<f64>,
}

impl MonthTotals {
    pub fn new(model: &Model) -> MonthTotals {
        let placements = model.placements.len();
        MonthTotals {
            intervention_children: vec![0.0; model.strategy.interventions.len()],
            shock_entries: vec![0.0; model.strategy.shocks.len()],
            start: vec![0.0; placements],
            end: vec![0.0; placements],
            entries: 0.0,
            exits: 0.0,
            left_at_18: 0.0,
            leavers_start: 0.0,
            leavers_end: 0.0,
        }
    }
}

/// The children in care during one run.
#[derive(Clone, Debug)]
pub struct State {
    /// Counts by `[placement × cells + age cell]`.
    cells: Vec<f64>,
    width: usize,
    /// Care leavers by months since their 18th birthday.
    leavers: Vec<f64>,
    scratch: Vec<f64>,
    band_counts: Vec<f64>,
    place_counts: Vec<f64>,
    /// Entrants placed this month by `[placement × bands + band]`.
    placed: Vec<f64>,
    /// Children moving this month, by destination and age cell, and their
    /// total by destination.
    incoming: Vec<f64>,
    incoming_total: Vec<f64>,
    /// Entrants of the month by `[band × placements + placement]` meant for.
    intended: Vec<f64>,
    /// Places added so far by each capacity intervention, and the extra
    /// places each placement has this month.
    places_added: Vec<f64>,
    extra_capacity: Vec<f64>,
    /// Scratch for the cells a prevention can act on.
    eligible: Vec<f64>,
    taken: Vec<f64>,
    /// Children by `[placement × bands + band]`, kept in step with `cells`
    /// so that totals need no pass over the age cells.
    totals: Vec<f64>,
    bands: usize,
    /// Moves arriving this month by `[placement × bands + band]`.
    incoming_band: Vec<f64>,
}

impl State {
    pub fn new(model: &Model) -> State {
        let width = model.ages.cells();
        State {
            cells: vec![0.0; model.placements.len() * width],
            width,
            leavers: vec![0.0; model.care_leavers.as_ref().map_or(0, |c| c.months)],
            scratch: vec![0.0; width],
            band_counts: vec![0.0; model.ages.bands.len()],
            place_counts: vec![0.0; model.placements.len()],
            placed: vec![0.0; model.placements.len() * model.ages.bands.len()],
            incoming: vec![
                0.0;
                if model.transitions.is_empty() {
                    0
                } else {
                    model.placements.len() * width
                }
            ],
            incoming_total: vec![0.0; model.placements.len()],
            intended: vec![0.0; model.placements.len() * model.ages.bands.len()],
            places_added: vec![0.0; model.strategy.interventions.len()],
            extra_capacity: vec![0.0; model.placements.len()],
            eligible: Vec::new(),
            taken: Vec::new(),
            totals: vec![0.0; model.placements.len() * model.ages.bands.len()],
            bands: model.ages.bands.len(),
            incoming_band: vec![0.0; model.placements.len() * model.ages.bands.len()],
        }
    }

    /// Recomputes the totals from the age cells (after changes that cross bands).
    fn recount(&mut self, model: &Model) {
        self.totals = self.counted(model);
    }

    /// Recomputes the totals of placement `p` from its age cells.
    fn recount_placement(&mut self, model: &Model, p: usize) {
        for b in 0..self.bands {
            let range = model.ages.band_cells(b);
            self.totals[p * self.bands + b] = self.cells
                [p * self.width + range.start..p * self.width + range.end]
                .iter()
                .sum();
        }
    }

    /// The totals by `[placement × bands + band]`, counted from the age cells.
    fn counted(&self, model: &Model) -> Vec<f64> {
        let mut totals = vec![0.0; self.totals.len()];
        for p in 0..model.placements.len() {
            for b in 0..self.bands {
                let range = model.ages.band_cells(b);
                totals[p * self.bands + b] = self.cells
                    [p * self.width + range.start..p * self.width + range.end]
                    .iter()
                    .sum();
            }
        }
        totals
    }

    /// The initial stock, with ages spread uniformly over each group of ages
    /// (a band, or a year of age).
    pub fn reset<D: Draws>(&mut self, model: &Model, draws: &mut D) {
        self.cells.fill(0.0);
        self.leavers.fill(0.0);
        self.places_added.fill(0.0);
        self.extra_capacity.fill(0.0);
        draws.begin(Purpose::InitialAges, 0, 0);
        if let Some(c) = &model.care_leavers {
            draws.spread(&mut self.leavers, c.initial);
        }
        for (p, placement) in model.placements.iter().enumerate() {
            let base = p * self.width;
            for (range, n) in &placement.initial_groups {
                draws.spread(&mut self.cells[base + range.start..base + range.end], *n);
            }
        }
        self.recount(model);
    }

    pub fn placement_total(&self, p: usize) -> f64 {
        self.totals[p * self.bands..(p + 1) * self.bands]
            .iter()
            .sum()
    }

    pub fn band_total(&self, model: &Model, b: usize) -> f64 {
        (0..model.placements.len())
            .map(|p| self.totals[p * self.bands + b])
            .sum()
    }

    /// Children in placement `p` of ages in `range`.
    fn compartment(&mut self, p: usize, range: &std::ops::Range<usize>) -> &mut [f64] {
        let base = p * self.width;
        &mut self.cells[base + range.start..base + range.end]
    }

    /// Free places in placement `p` once `pending` more children arrive
    /// (infinite without a capacity).
    fn free(&self, model: &Model, p: usize, pending: f64) -> f64 {
        match model.placements[p].capacity {
            Some(cap) => {
                (cap + self.extra_capacity[p] - self.placement_total(p) - pending).max(0.0)
            }
            None => f64::INFINITY,
        }
    }

    /// Removes `wanted` children, at most all of them, chosen uniformly
    /// from the placements in `from`; returns how many.
    fn remove_from<D: Draws>(
        &mut self,
        model: &Model,
        from: &[bool],
        wanted: f64,
        draws: &mut D,
    ) -> f64 {
        let totals: Vec<f64> = (0..model.placements.len())
            .map(|p| {
                if from[p] {
                    self.placement_total(p)
                } else {
                    0.0
                }
            })
            .collect();
        let available: f64 = totals.iter().sum();
        let k = wanted.min(available);
        if k <= 0.0 {
            return 0.0;
        }
        let shares: Vec<f64> = totals.iter().map(|n| n / available).collect();
        let mut per_placement = vec![0.0; totals.len()];
        draws.multinomial(k, &shares, &mut per_placement);
        let mut gone = std::mem::take(&mut self.scratch);
        for (p, &kp) in per_placement.iter().enumerate() {
            if kp > 0.0 {
                gone.fill(0.0);
                let width = self.width;
                draws.take(&mut self.cells[p * width..(p + 1) * width], kp, &mut gone);
            }
        }
        self.scratch = gone;
        k
    }

    /// Runs month `t` and reports its totals.
    pub fn step<D: Draws>(
        &mut self,
        model: &Model,
        inputs: &RunInputs,
        t: usize,
        draws: &mut D,
        out: &mut MonthTotals,
    ) {
        let n_place = model.placements.len();
        let n_bands = model.ages.bands.len();
        for p in 0..n_place {
            out.start[p] = self.placement_total(p);
        }
        out.leavers_start = self.leavers.iter().sum();
        out.exits = 0.0;
        out.left_at_18 = 0.0;
        out.entries = 0.0;
        out.intervention_children.fill(0.0);
        out.shock_entries.fill(0.0);
        let interventions = &model.strategy.interventions;
        // Monthly effect of each intervention: per-year size / 12 × ramp,
        // zero when not delivered in this run.
        let monthly =
            |i: usize| inputs.effect[i] / 12.0 * interventions[i].ramp(t) * inputs.delivered[i];

        // 1. Exits: a binomial draw per (placement, band); the children who
        //    leave are drawn uniformly from the band's ages.
        for p in 0..n_place {
            draws.begin(Purpose::Exits, t, p as u64);
            for b in 0..n_bands {
                let h = inputs.hazard[p * n_bands + b];
                if h <= 0.0 {
                    continue;
                }
                let range = model.ages.band_cells(b);
                let mut scratch = std::mem::take(&mut self.scratch);
                let n = self.totals[p * n_bands + b];
                let cells = self.compartment(p, &range);
                let k = if inputs.hazard_fixed[p * n_bands + b] {
                    draws.binomial_fixed_p(n, h, p * n_bands + b)
                } else {
                    draws.binomial(n, h)
                };
                scratch[..cells.len()].fill(0.0);
                draws.take(cells, k, &mut scratch[..range.len()]);
                self.scratch = scratch;
                self.totals[p * n_bands + b] -= k;
                out.exits += k;
            }
        }

        // 1b. Extra exits from interventions (special guardianship,
        //     reunification): a Poisson number a month, never more than the
        //     children in the placements they work with, chosen uniformly.
        for (i, iv) in interventions.iter().enumerate() {
            let Effect::Exit { from, .. } = &iv.effect else {
                continue;
            };
            let wanted = programme_count(draws, t, iv.key, monthly(i));
            if wanted <= 0.0 {
                continue;
            }
            let k = self.remove_from(model, from, wanted, draws);
            for (p, _) in from.iter().enumerate().filter(|(_, inside)| **inside) {
                self.recount_placement(model, p);
            }
            out.exits += k;
            out.intervention_children[i] += k;
        }

        // 2. Ageing: every child is a month older; those reaching 18 leave.
        if model.ages.tracked {
            if !self.leavers.is_empty() {
                self.leavers.rotate_right(1);
                self.leavers[0] = 0.0;
            }
            for p in 0..n_place {
                // The oldest month of each band moves into the next band.
                for b in 0..n_bands {
                    let last = model.ages.band_cells(b).end - 1;
                    let moving = self.cells[p * self.width + last];
                    self.totals[p * n_bands + b] -= moving;
                    if b + 1 < n_bands {
                        self.totals[p * n_bands + b + 1] += moving;
                    }
                }
                let cells = &mut self.cells[p * self.width..(p + 1) * self.width];
                let leaving = cells[AGE_CELLS - 1];
                cells.copy_within(0..AGE_CELLS - 1, 1);
                cells[0] = 0.0;
                out.left_at_18 += leaving;
                if !self.leavers.is_empty() {
                    self.leavers[0] += leaving;
                }
            }
        }

        // Places added by capacity interventions so far (whole places in
        // random runs).
        if interventions
            .iter()
            .any(|iv| matches!(iv.effect, Effect::Capacity { .. }))
        {
            self.extra_capacity.fill(0.0);
            for (i, iv) in interventions.iter().enumerate() {
                let Effect::Capacity { placement, .. } = iv.effect else {
                    continue;
                };
                let added = monthly(i);
                self.places_added[i] += added;
                out.intervention_children[i] += added;
                self.extra_capacity[placement] += self.places_added[i];
            }
            for extra in self.extra_capacity.iter_mut() {
                *extra = draws.whole(*extra);
            }
        }

        // 3. Moves between placements: a multinomial per (placement, band)
        //    over its destinations, drawn from the stock after ageing. Moved
        //    children arrive only once every compartment has been drawn, so
        //    no child moves twice in a month. A move into a capacity-limited
        //    placement happens only into a free place (counted as the month's
        //    moves are made, in config order); a child whose move finds no
        //    place stays where it is.
        if !model.transitions.is_empty() {
            self.incoming.fill(0.0);
            self.incoming_total.fill(0.0);
            self.incoming_band.fill(0.0);
            for p in 0..n_place {
                if !model.transitions.iter().any(|tr| tr.from == p) {
                    continue;
                }
                draws.begin(Purpose::Moves, t, p as u64);
                for b in 0..n_bands {
                    let range = model.ages.band_cells(b);
                    let mut remaining = self.totals[p * n_bands + b];
                    let mut rest = 1.0;
                    let mut fixed_so_far = true;
                    for (i, tr) in model.transitions.iter().enumerate() {
                        if tr.from != p || !tr.bands[b] || remaining <= 0.0 {
                            continue;
                        }
                        let q = inputs.move_prob[i];
                        let conditional = (q / rest).min(1.0);
                        // The conditional probability is the same in every run only
                        // while every rate drawn so far in this compartment is.
                        fixed_so_far &= inputs.move_fixed[i];
                        let drawn = if fixed_so_far {
                            // Slots after the exits' (placement × band) slots.
                            let slot = n_place * n_bands + (i * n_bands + b);
                            draws.binomial_fixed_p(remaining, conditional, slot)
                        } else {
                            draws.binomial(remaining, conditional)
                        };
                        remaining -= drawn;
                        rest -= q;
                        let k = drawn.min(self.free(model, tr.to, self.incoming_total[tr.to]));
                        if k <= 0.0 {
                            continue;
                        }
                        let base = p * self.width;
                        let dest = tr.to * self.width;
                        let (cells, incoming) = (&mut self.cells, &mut self.incoming);
                        draws.take(
                            &mut cells[base + range.start..base + range.end],
                            k,
                            &mut incoming[dest + range.start..dest + range.end],
                        );
                        self.incoming_total[tr.to] += k;
                        self.incoming_band[tr.to * n_bands + b] += k;
                        self.totals[p * n_bands + b] -= k;
                    }
                }
            }
            for (c, i) in self.cells.iter_mut().zip(&self.incoming) {
                *c += i;
            }
            for (total, i) in self.totals.iter_mut().zip(&self.incoming_band) {
                *total += i;
            }
        }

        // 3b. Step-downs by interventions: a Poisson number a month, limited
        //     by the children in the source and the free places at the
        //     destination; children keep their ages.
        for (i, iv) in interventions.iter().enumerate() {
            let Effect::StepDown { from, to, .. } = iv.effect else {
                continue;
            };
            let wanted = programme_count(draws, t, iv.key, monthly(i));
            let k = wanted
                .min(self.placement_total(from))
                .min(self.free(model, to, 0.0));
            if k <= 0.0 {
                continue;
            }
            let mut moved = std::mem::take(&mut self.scratch);
            moved.fill(0.0);
            let width = self.width;
            draws.take(
                &mut self.cells[from * width..(from + 1) * width],
                k,
                &mut moved,
            );
            for (dst, m) in self.cells[to * width..(to + 1) * width]
                .iter_mut()
                .zip(&moved)
            {
                *dst += m;
            }
            self.scratch = moved;
            self.recount_placement(model, from);
            self.recount_placement(model, to);
            out.intervention_children[i] += k;
        }

        // 4. Entries, split by age band and by the placement each entrant
        //    is meant for.
        let mut intended = std::mem::take(&mut self.intended);
        intended.fill(0.0);
        if let Some(entries) = &model.entries {
            draws.begin(Purpose::Entries, t, 0);
            let n = if inputs.entries_fixed {
                draws.poisson_fixed_mean(inputs.entry_mean[t], t)
            } else {
                draws.count(inputs.entry_mean[t], inputs.dispersion)
            };
            draws.begin(Purpose::EntryMix, t, 0);
            draws.multinomial(n, &entries.age_mix, &mut self.band_counts);
            for b in 0..n_bands {
                if self.band_counts[b] > 0.0 {
                    draws.multinomial(
                        self.band_counts[b],
                        &entries.mix[b],
                        &mut intended[b * n_place..(b + 1) * n_place],
                    );
                }
            }

            // 5. Prevention: each edge-of-care programme removes entrants of
            //    its bands and placements before they are placed, a Poisson
            //    number a month, never more than the eligible entrants.
            for (i, iv) in interventions.iter().enumerate() {
                let Effect::PreventEntry {
                    bands, placements, ..
                } = &iv.effect
                else {
                    continue;
                };
                let wanted = programme_count(draws, t, iv.key, monthly(i));
                if wanted <= 0.0 {
                    continue;
                }
                self.eligible.clear();
                for (b, &in_band) in bands.iter().enumerate() {
                    for (p, &in_placement) in placements.iter().enumerate() {
                        if in_band && in_placement {
                            self.eligible.push(intended[b * n_place + p]);
                        }
                    }
                }
                let available: f64 = self.eligible.iter().sum();
                let k = wanted.min(available);
                if k <= 0.0 {
                    continue;
                }
                self.taken.clear();
                self.taken.resize(self.eligible.len(), 0.0);
                draws.take(&mut self.eligible, k, &mut self.taken);
                let mut e = 0;
                for (b, &in_band) in bands.iter().enumerate() {
                    for (p, &in_placement) in placements.iter().enumerate() {
                        if in_band && in_placement {
                            intended[b * n_place + p] = self.eligible[e];
                            e += 1;
                        }
                    }
                }
                out.intervention_children[i] += k;
            }
        }

        // Shock entrants arrive with their own age and placement mix; they
        // are not prevented.
        for (s, shock) in model.strategy.shocks.iter().enumerate() {
            let n = inputs.shock_entrants[t * model.strategy.shocks.len() + s];
            if n <= 0.0 {
                continue;
            }
            out.shock_entries[s] = n;
            draws.begin(Purpose::ShockMix, t, shock.key);
            draws.multinomial(n, &shock.age_mix, &mut self.band_counts);
            for b in 0..n_bands {
                if self.band_counts[b] > 0.0 {
                    draws.multinomial(self.band_counts[b], &shock.mix, &mut self.place_counts);
                    for (x, add) in intended[b * n_place..(b + 1) * n_place]
                        .iter_mut()
                        .zip(&self.place_counts)
                    {
                        *x += add;
                    }
                }
            }
        }

        // 6. Placement: into free places along each placement's overflow
        //    chain; entrants' ages uniform over the months of their band.
        let mut placed = std::mem::take(&mut self.placed);
        placed.fill(0.0);
        for b in 0..n_bands {
            for p in 0..n_place {
                let mut count = intended[b * n_place + p];
                let mut at = p;
                while count > 0.0 {
                    let already = placed[at * n_bands..(at + 1) * n_bands].iter().sum::<f64>();
                    let here = count.min(self.free(model, at, already));
                    placed[at * n_bands + b] += here;
                    count -= here;
                    match model.placements[at].overflow {
                        Some(next) => at = next,
                        None => break,
                    }
                }
            }
        }
        draws.begin(Purpose::EntryAges, t, 0);
        for p in 0..n_place {
            for b in 0..n_bands {
                let k = placed[p * n_bands + b];
                if k > 0.0 {
                    out.entries += k;
                    let range = model.ages.band_cells(b);
                    draws.spread(self.compartment(p, &range), k);
                    self.totals[p * n_bands + b] += k;
                }
            }
        }
        self.placed = placed;
        self.intended = intended;

        // Debug builds (the tests) check the running totals against a recount.
        #[cfg(debug_assertions)]
        for (kept, counted) in self.totals.iter().zip(self.counted(model)) {
            debug_assert!(
                (kept - counted).abs() <= 1e-6 * counted.abs().max(1.0),
                "totals out of step: {kept} vs {counted}"
            );
        }
        for p in 0..n_place {
            out.end[p] = self.placement_total(p);
        }
        out.leavers_end = self.leavers.iter().sum();
    }
}

/// The number of children a programme acts on this month: a Poisson draw
/// with the month's mean (effect / 12 × ramp, 0 when it is not delivered
/// or not active) from the programme's own stream.
fn programme_count<D: Draws>(draws: &mut D, t: usize, key: u64, mean: f64) -> f64 {
    if mean <= 0.0 {
        return 0.0;
    }
    draws.begin(Purpose::Strategy, t, key);
    draws.count(mean, None)
}
