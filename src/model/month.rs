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
}

impl MonthTotals {
    pub fn new(placements: usize) -> MonthTotals {
        MonthTotals {
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
        }
    }

    /// The initial stock, with ages spread uniformly over each band.
    pub fn reset<D: Draws>(&mut self, model: &Model, draws: &mut D) {
        self.cells.fill(0.0);
        self.leavers.fill(0.0);
        draws.begin(Purpose::InitialAges, 0, 0);
        if let Some(c) = &model.care_leavers {
            draws.spread(&mut self.leavers, c.initial);
        }
        for (p, placement) in model.placements.iter().enumerate() {
            for (b, &n) in placement.initial.iter().enumerate() {
                let range = model.ages.band_cells(b);
                let base = p * self.width;
                draws.spread(&mut self.cells[base + range.start..base + range.end], n);
            }
        }
    }

    pub fn placement_total(&self, p: usize) -> f64 {
        self.cells[p * self.width..(p + 1) * self.width]
            .iter()
            .sum()
    }

    pub fn band_total(&self, model: &Model, b: usize) -> f64 {
        let range = model.ages.band_cells(b);
        (0..model.placements.len())
            .map(|p| {
                self.cells[p * self.width + range.start..p * self.width + range.end]
                    .iter()
                    .sum::<f64>()
            })
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
            Some(cap) => (cap - self.placement_total(p) - pending).max(0.0),
            None => f64::INFINITY,
        }
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

        // 1. Exits: a binomial draw per (placement, band); the children who
        //    leave are drawn uniformly from the band's ages.
        for p in 0..n_place {
            draws.begin(Purpose::Exits, t, p as u64);
            for b in 0..n_bands {
                let h = inputs.hazard[p][b];
                if h <= 0.0 {
                    continue;
                }
                let range = model.ages.band_cells(b);
                let mut scratch = std::mem::take(&mut self.scratch);
                let cells = self.compartment(p, &range);
                let n: f64 = cells.iter().sum();
                let k = if inputs.hazard_fixed[p][b] {
                    draws.binomial_fixed_p(n, h, p * n_bands + b)
                } else {
                    draws.binomial(n, h)
                };
                scratch[..cells.len()].fill(0.0);
                draws.take(cells, k, &mut scratch[..range.len()]);
                self.scratch = scratch;
                out.exits += k;
            }
        }

        // 2. Ageing: every child is a month older; those reaching 18 leave.
        if model.ages.tracked {
            if !self.leavers.is_empty() {
                self.leavers.rotate_right(1);
                self.leavers[0] = 0.0;
            }
            for p in 0..n_place {
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
            for p in 0..n_place {
                if !model.transitions.iter().any(|tr| tr.from == p) {
                    continue;
                }
                draws.begin(Purpose::Moves, t, p as u64);
                for b in 0..n_bands {
                    let range = model.ages.band_cells(b);
                    let mut remaining: f64 = self.compartment(p, &range).iter().sum();
                    let mut rest = 1.0;
                    for (i, tr) in model.transitions.iter().enumerate() {
                        if tr.from != p || !tr.bands[b] || remaining <= 0.0 {
                            continue;
                        }
                        let q = inputs.move_prob[i];
                        let drawn = draws.binomial(remaining, (q / rest).min(1.0));
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
                    }
                }
            }
            for (c, i) in self.cells.iter_mut().zip(&self.incoming) {
                *c += i;
            }
        }

        // 4. Entries.
        if let Some(entries) = &model.entries {
            draws.begin(Purpose::Entries, t, 0);
            let n = if inputs.entries_fixed {
                draws.poisson_fixed_mean(inputs.entry_mean[t], t)
            } else {
                draws.count(inputs.entry_mean[t], inputs.dispersion)
            };
            out.entries = n;

            // 5. Prevention comes with interventions.

            // 6. Placement: split by age band, then by placement, then into
            //    free places along each placement's overflow chain.
            draws.begin(Purpose::EntryMix, t, 0);
            let mut band_counts = std::mem::take(&mut self.band_counts);
            let mut place_counts = std::mem::take(&mut self.place_counts);
            let mut placed = std::mem::take(&mut self.placed);
            placed.fill(0.0);
            draws.multinomial(n, &entries.age_mix, &mut band_counts);
            for b in 0..n_bands {
                if band_counts[b] <= 0.0 {
                    continue;
                }
                draws.multinomial(band_counts[b], &entries.mix[b], &mut place_counts);
                for (p, &count) in place_counts.iter().enumerate() {
                    let mut count = count;
                    let mut at = p;
                    while count > 0.0 {
                        let already = placed[at * n_bands..(at + 1) * n_bands].iter().sum::<f64>();
                        let free = self.free(model, at, already);
                        let here = count.min(free);
                        placed[at * n_bands + b] += here;
                        count -= here;
                        match model.placements[at].overflow {
                            Some(next) => at = next,
                            None => break,
                        }
                    }
                }
            }
            // Entrants' ages: uniform over the months of their band.
            draws.begin(Purpose::EntryAges, t, 0);
            for p in 0..n_place {
                for b in 0..n_bands {
                    let k = placed[p * n_bands + b];
                    if k > 0.0 {
                        let range = model.ages.band_cells(b);
                        draws.spread(self.compartment(p, &range), k);
                    }
                }
            }
            self.band_counts = band_counts;
            self.place_counts = place_counts;
            self.placed = placed;
        }

        for p in 0..n_place {
            out.end[p] = self.placement_total(p);
        }
        out.leavers_end = self.leavers.iter().sum();
    }
}
