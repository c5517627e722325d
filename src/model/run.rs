//! One simulated future: draw the run's uncertain inputs, start from the
//! initial stock, step month by month, and write the run's row of results.

use crate::model::draws::{Draws, ONCE, Purpose};
use crate::model::inputs::{self, InputKind, Pin};
use crate::model::layout::{Layout, YearField};
use crate::model::month::{MonthTotals, State};
use crate::model::strategy::{Effect, EffectSize, Funding, Saving, ShockTiming, UnitChange};
use crate::model::{ExitRate, LineAmount, Model, decimal_to_pence};

/// The values of a run's uncertain inputs, turned into what the month uses.
#[derive(Clone, Debug)]
pub struct RunInputs {
    /// Raw draw of every input, in the order of [`Model::params`].
    pub values: Vec<f64>,
    /// Monthly exit hazard by `[placement × bands + band]`.
    pub hazard: Vec<f64>,
    /// True where the hazard is the same in every run (its input is fixed).
    pub hazard_fixed: Vec<bool>,
    /// Weekly cost by `[placement × years + financial year]`.
    pub weekly: Vec<f64>,
    /// Expected entrants in each month (before the month's randomness).
    pub entry_mean: Vec<f64>,
    pub dispersion: Option<f64>,
    /// True when the entry rate is the same in every run and entries are Poisson.
    pub entries_fixed: bool,
    /// Monthly probability of each transition.
    pub move_prob: Vec<f64>,
    /// Per transition: true when its rate is the same in every run.
    pub move_fixed: Vec<bool>,
    /// Weekly cost of a care leaver per financial year.
    pub leaver_weekly: Vec<f64>,
    /// Per intervention: 1 if delivered in this run, else 0 (the
    /// probability in the central projection).
    pub delivered: Vec<f64>,
    /// Per intervention: the effect per year at full capacity (for
    /// `unit_cost`, the change or factor), whether or not delivered.
    pub effect: Vec<f64>,
    /// Shock entrants by `[month × shocks + shock]`.
    pub shock_entrants: Vec<f64>,
    /// Per saving: fraction of the plan delivered, and 1 if it slipped a
    /// year (the probability centrally).
    pub saving_delivered: Vec<f64>,
    pub saving_slipped: Vec<f64>,
    /// Per shock: how many times it happened, and its entrants in all.
    pub shock_count: Vec<f64>,
    pub shock_children: Vec<f64>,
    /// Pin keys of the inputs that a pin can hold (see [`crate::model::inputs`]).
    keys: InputKeys,
    /// Scratch for correlated inputs: their normals before and after mixing.
    copula_eps: Vec<f64>,
    copula_z: Vec<f64>,
}

/// The pin key of every input, worked out once per worker.
#[derive(Clone, Debug, Default)]
struct InputKeys {
    params: Vec<u64>,
    /// Per parameter: true when it is drawn through the copula.
    correlated: Vec<bool>,
    delivery: Vec<u64>,
    slip: Vec<u64>,
    shock_count: Vec<u64>,
}

impl InputKeys {
    fn new(model: &Model) -> InputKeys {
        use crate::model::draws::path_key;
        let strategy = &model.strategy;
        let mut correlated = vec![false; model.params.len()];
        if let Some(c) = &model.copula {
            for id in &c.members {
                correlated[id.0] = true;
            }
        }
        InputKeys {
            params: model.params.iter().map(|p| path_key(&p.path)).collect(),
            correlated,
            delivery: strategy
                .interventions
                .iter()
                .map(|iv| path_key(&inputs::delivery_path(&iv.id)))
                .collect(),
            slip: strategy
                .savings
                .iter()
                .map(|s| path_key(&inputs::slip_path(&s.id)))
                .collect(),
            shock_count: strategy
                .shocks
                .iter()
                .map(|s| path_key(&inputs::shock_count_path(&s.id)))
                .collect(),
        }
    }
}

/// The pinned value when `pin` holds the input with `key`.
fn pinned(pin: Option<Pin>, key: u64) -> Option<f64> {
    pin.filter(|p| p.key == key).map(|p| p.value)
}

impl RunInputs {
    /// Buffers sized for `model`, filled by [`RunInputs::fill`]; what is the
    /// same in every run (which inputs are fixed) is worked out here, once.
    pub fn new(model: &Model) -> RunInputs {
        let is_fixed = |id: crate::model::ParamId| model.param(id).dist.is_fixed();
        RunInputs {
            values: Vec::with_capacity(model.params.len()),
            hazard: Vec::new(),
            hazard_fixed: model
                .exits
                .iter()
                .flatten()
                .map(|&(ExitRate::MeanMonths(id) | ExitRate::AnnualProbability(id))| is_fixed(id))
                .collect(),
            weekly: Vec::new(),
            entry_mean: Vec::new(),
            dispersion: None,
            entries_fixed: model.entries.as_ref().is_some_and(|e| {
                e.dispersion.is_none() && is_fixed(e.per_year) && is_fixed(e.trend)
            }),
            move_prob: Vec::new(),
            move_fixed: model
                .transitions
                .iter()
                .map(|t| is_fixed(t.annual_rate))
                .collect(),
            leaver_weekly: Vec::new(),
            delivered: Vec::new(),
            effect: Vec::new(),
            shock_entrants: Vec::new(),
            saving_delivered: Vec::new(),
            saving_slipped: Vec::new(),
            shock_count: Vec::new(),
            shock_children: Vec::new(),
            keys: InputKeys::new(model),
            copula_eps: Vec::new(),
            copula_z: Vec::new(),
        }
    }

    /// Draws a run's inputs, reusing the buffers of the previous run.
    pub fn fill<D: Draws>(&mut self, model: &Model, draws: &mut D) {
        let pin = draws.pin();
        let keys = &self.keys;
        self.values.clear();
        self.values
            .extend(model.params.iter().enumerate().map(|(i, p)| {
                match pinned(pin, keys.params[i]) {
                    Some(v) => v,
                    None if keys.correlated[i] => 0.0,
                    None => draws.param(p),
                }
            }));
        if let Some(c) = &model.copula {
            if draws.is_central() {
                for id in &c.members {
                    self.values[id.0] = model.param(*id).dist.mean();
                }
            } else {
                self.copula_eps.clear();
                for id in &c.members {
                    draws.begin(Purpose::Param, 0, keys.params[id.0]);
                    self.copula_eps.push(draws.std_normal());
                }
                c.fill(
                    model,
                    &self.copula_eps,
                    pin,
                    &keys.params,
                    &mut self.copula_z,
                    &mut self.values,
                );
            }
        }
        let values = &self.values;
        let v = |id: crate::model::ParamId| values[id.0];
        let years = model.calendar.years.len();
        let hazard_of = |rate: &ExitRate| match *rate {
            ExitRate::MeanMonths(m) => (1.0 / v(m)).min(1.0),
            ExitRate::AnnualProbability(p) => crate::config::validate::monthly_from_annual(v(p)),
        };
        self.hazard.clear();
        self.hazard
            .extend(model.exits.iter().flatten().map(hazard_of));
        let uplift =
            |base: f64, rate: f64| (0..years).map(move |y| base * (1.0 + rate).powi(y as i32));
        self.weekly.clear();
        for p in &model.placements {
            self.weekly.extend(uplift(v(p.weekly_cost), v(p.inflation)));
        }
        self.entry_mean.clear();
        self.dispersion = None;
        if let Some(e) = &model.entries {
            // Growth compounds monthly: (1 + trend)^(t/12) in month t.
            let monthly_growth = (1.0 + v(e.trend)).powf(1.0 / 12.0);
            let mut level = v(e.per_year) / 12.0;
            self.entry_mean
                .extend(model.calendar.months.iter().map(|m| {
                    let mean = level * e.seasonality[m.date.month as usize - 1];
                    level *= monthly_growth;
                    mean
                }));
            self.dispersion = e.dispersion.map(v);
        } else {
            self.entry_mean.resize(model.calendar.months.len(), 0.0);
        }
        self.move_prob.clear();
        self.move_prob.extend(
            model
                .transitions
                .iter()
                .map(|t| crate::config::validate::monthly_from_annual(v(t.annual_rate))),
        );
        self.leaver_weekly.clear();
        match &model.care_leavers {
            Some(c) => self
                .leaver_weekly
                .extend(uplift(v(c.weekly_cost), v(c.inflation))),
            None => self.leaver_weekly.resize(years, 0.0),
        }
        let strategy = &model.strategy;
        self.delivered.clear();
        self.effect.clear();
        for (i, iv) in strategy.interventions.iter().enumerate() {
            self.delivered
                .push(pinned(pin, keys.delivery[i]).unwrap_or_else(|| {
                    draws.begin(Purpose::Strategy, ONCE, iv.key);
                    draws.chance(iv.delivery_probability)
                }));
            self.effect.push(match (iv.effect.size(), &iv.effect) {
                (Some(EffectSize::PerYear(id)), _) => v(id),
                (
                    Some(EffectSize::Product {
                        families,
                        success_rate,
                        children_per_family,
                    }),
                    _,
                ) => v(families) * v(success_rate) * v(children_per_family),
                (
                    None,
                    Effect::UnitCost {
                        change: UnitChange::Add(id) | UnitChange::Factor(id),
                        ..
                    },
                ) => v(*id),
                (None, _) => 0.0,
            });
        }
        shock_entrants(
            model,
            draws,
            pin,
            keys,
            &mut self.shock_entrants,
            &mut self.shock_count,
            &mut self.shock_children,
        );
        self.saving_delivered.clear();
        self.saving_slipped.clear();
        for (k, saving) in strategy.savings.iter().enumerate() {
            self.saving_delivered.push(v(saving.delivery));
            self.saving_slipped
                .push(pinned(pin, keys.slip[k]).unwrap_or_else(|| {
                    draws.begin(Purpose::Strategy, ONCE, saving.slip_key);
                    draws.chance(saving.slip_probability)
                }));
        }
    }
}

/// Extra entrants from shocks by month, for one run; with each shock's
/// number of occurrences and its entrants in all.
fn shock_entrants<D: Draws>(
    model: &Model,
    draws: &mut D,
    pin: Option<Pin>,
    keys: &InputKeys,
    out: &mut Vec<f64>,
    count: &mut Vec<f64>,
    children: &mut Vec<f64>,
) {
    let shocks = &model.strategy.shocks;
    let months = model.calendar.months.len();
    let years = model.calendar.years.len();
    out.clear();
    out.resize(months * shocks.len(), 0.0);
    count.clear();
    children.clear();
    for (s, shock) in shocks.iter().enumerate() {
        let dist = &model.param(shock.children).dist;
        let size_pin = pinned(pin, keys.params[shock.children.0]);
        // Spreads `n` children over the months from `first` on: equal whole
        // shares with any remainder in the first months (or exact shares
        // centrally); months beyond the horizon are lost.
        let arrive = |first: i64, n: f64, out: &mut [f64], central: bool| {
            let k = shock.spread_months as f64;
            let base = if central { n / k } else { (n / k).floor() };
            let mut rest = n - base * k;
            for m in 0..shock.spread_months as i64 {
                let t = first + m;
                let extra = if !central && rest > 0.0 { 1.0 } else { 0.0 };
                rest -= extra;
                if t >= 0 && (t as usize) < months {
                    out[t as usize * shocks.len() + s] += base + extra;
                }
            }
        };
        let (mut happened, mut total) = (0.0, 0.0);
        match shock.timing {
            ShockTiming::Month(m) => {
                draws.begin(Purpose::Strategy, ONCE, shock.key);
                let central = draws.is_central();
                let drawn = draws.sample(dist);
                let n = size_pin.unwrap_or(if central { drawn } else { drawn.round() });
                arrive(m, n, out, central);
                (happened, total) = (1.0, n);
            }
            ShockTiming::PerYear(p) => {
                // With the number of occurrences held, the years they fall in
                // are drawn uniformly from the shock's own stream.
                let held_years = pinned(pin, keys.shock_count[s]).map(|k| {
                    draws.begin(Purpose::Strategy, ONCE, shock.key);
                    let mut order: Vec<usize> = (0..years).collect();
                    for i in 0..years {
                        let j = i + draws.pick(years - i);
                        order.swap(i, j);
                    }
                    let mut chosen = vec![false; years];
                    for &y in order.iter().take(k as usize) {
                        chosen[y] = true;
                    }
                    chosen
                });
                for (y, year) in model.calendar.years.iter().enumerate() {
                    draws.begin(Purpose::Strategy, y, shock.key);
                    if draws.is_central() {
                        // Expected entrants, spread over the year's months.
                        let each = p * dist.mean() / year.months as f64;
                        for t in year.first_month..=year.last_month() {
                            out[t * shocks.len() + s] += each;
                        }
                        (happened, total) = (happened + p, total + p * dist.mean());
                        continue;
                    }
                    // The chance is drawn even when the count is held, so the
                    // month and size that follow are those of the free run.
                    let hit = draws.chance(p) > 0.0;
                    if held_years.as_ref().map_or(hit, |chosen| chosen[y]) {
                        let offset = draws.pick(year.months);
                        let drawn = draws.sample(dist).round();
                        let n = size_pin.unwrap_or(drawn);
                        arrive((year.first_month + offset) as i64, n, out, false);
                        (happened, total) = (happened + 1.0, total + n);
                    }
                }
            }
        }
        count.push(happened);
        children.push(total);
    }
}

/// Everything a run writes to besides its row, kept from run to run so
/// that a run allocates nothing.
pub struct Workspace {
    pub state: State,
    inputs: RunInputs,
    totals: MonthTotals,
    cost: Vec<f64>,
    weekly: Vec<f64>,
    active_months: Vec<usize>,
    pence: Vec<i64>,
    grants: Vec<i64>,
}

impl Workspace {
    pub fn new(model: &Model) -> Workspace {
        Workspace {
            state: State::new(model),
            inputs: RunInputs::new(model),
            totals: MonthTotals::new(model),
            cost: vec![0.0; model.placements.len()],
            weekly: vec![0.0; model.placements.len()],
            active_months: vec![0; model.strategy.interventions.len()],
            pence: Vec::new(),
            grants: Vec::new(),
        }
    }
}

/// Simulates one run of `model` with `draws` and writes its results into
/// `row` (laid out by `layout`).
pub fn simulate<D: Draws>(
    model: &Model,
    layout: &Layout,
    draws: &mut D,
    ws: &mut Workspace,
    row: &mut [f64],
) {
    let Workspace {
        state,
        inputs,
        totals,
        cost,
        weekly,
        active_months,
        pence,
        grants,
    } = ws;
    inputs.fill(model, draws);
    let inputs = &*inputs;
    state.reset(model, draws);
    row.fill(0.0);
    cost.fill(0.0);
    active_months.fill(0);

    let n_place = model.placements.len();
    let n_years = model.calendar.years.len();
    let strategy = &model.strategy;
    let mut leaver_cost = 0.0;

    for (t, month) in model.calendar.months.iter().enumerate() {
        state.step(model, inputs, t, draws, totals);
        let fy = month.fy;
        let days = month.days as f64;
        // Weekly costs this month, after any unit-cost interventions.
        for (p, w) in weekly.iter_mut().enumerate() {
            *w = inputs.weekly[p * n_years + fy];
        }
        for (i, iv) in strategy.interventions.iter().enumerate() {
            if iv.active(t) {
                active_months[i] += 1;
            }
            if let Effect::UnitCost { placement, change } = iv.effect {
                let r = iv.ramp(t) * inputs.delivered[i];
                match change {
                    UnitChange::Add(_) => weekly[placement] += inputs.effect[i] * r,
                    UnitChange::Factor(_) => {
                        weekly[placement] *= 1.0 + (inputs.effect[i] - 1.0) * r
                    }
                }
            }
        }
        // Placement-days by the trapezoid rule over the month.
        // (days × (start + end) / 2 placement-days at weekly / 7 a day.)
        let per_child_day = days * (0.5 / 7.0);
        for (p, c) in cost.iter_mut().enumerate() {
            *c += (totals.start[p] + totals.end[p]) * per_child_day * weekly[p].max(0.0);
        }
        leaver_cost += days * (totals.leavers_start + totals.leavers_end) / 2.0
            * inputs.leaver_weekly[fy]
            / 7.0;

        row[layout.year(fy, YearField::Entries)] += totals.entries;
        row[layout.year(fy, YearField::Exits)] += totals.exits + totals.left_at_18;
        row[layout.year(fy, YearField::LeftAt18)] += totals.left_at_18;
        for (i, k) in totals.intervention_children.iter().enumerate() {
            row[layout.intervention_children(fy, i)] += k;
        }
        for (s, k) in totals.shock_entries.iter().enumerate() {
            row[layout.shock_entries(fy, s)] += k;
        }
        let lac: f64 = totals.end.iter().sum();
        row[layout.lac(t)] = lac;
        for p in 0..n_place {
            row[layout.lac_placement(t, p)] = totals.end[p];
        }
        for b in 0..layout.bands {
            row[layout.lac_band(t, b)] = state.band_total(model, b);
        }

        let year = &model.calendar.years[fy];
        if t == year.last_month() {
            row[layout.year(fy, YearField::LacEnd)] = lac;
            // Every component in pence, in the layout's order; the year's
            // cost is their exact sum.
            pence.clear();
            pence.extend(cost.iter().map(|c| pounds_to_pence(*c)));
            cost.fill(0.0);
            let share = year.months as f64 / 12.0;
            let line = |amount: &LineAmount, scale: f64| match amount {
                LineAmount::Exact(a) => scaled_pence(*a, scale),
                LineAmount::Uncertain(id) => pounds_to_pence(inputs.values[id.0] * scale),
            };
            pence.extend(
                model
                    .cost_lines
                    .iter()
                    .map(|l| line(&l.per_year[fy], share)),
            );
            if model.care_leavers.is_some() {
                pence.push(pounds_to_pence(leaver_cost));
                leaver_cost = 0.0;
            }
            grants.clear();
            for (i, iv) in strategy.interventions.iter().enumerate() {
                let months = active_months[i] as f64 / 12.0;
                let p = line(&iv.cost_per_year[fy], months * inputs.delivered[i]);
                row[layout.intervention_cost(fy, i)] = p as f64 / 100.0;
                row[layout.intervention_delivered(fy, i)] = inputs.delivered[i];
                if iv.funding == Funding::Budget {
                    pence.push(p)
                } else {
                    grants.push(p)
                }
                active_months[i] = 0;
            }
            for inv in &strategy.investments {
                let p = line(&inv.per_year[fy], share);
                if inv.funding == Funding::Budget {
                    pence.push(p)
                } else {
                    grants.push(p)
                }
            }
            for (k, saving) in strategy.savings.iter().enumerate() {
                pence.push(-saving_pence(
                    saving,
                    fy,
                    share,
                    inputs.saving_delivered[k],
                    inputs.saving_slipped[k],
                ));
            }
            let mut total: i64 = 0;
            for (c, p) in pence.iter().enumerate() {
                row[layout.component(fy, c)] = *p as f64 / 100.0;
                total = total.saturating_add(*p);
            }
            let mut grant_total: i64 = 0;
            for (g, p) in grants.iter().enumerate() {
                row[layout.grant(fy, g)] = *p as f64 / 100.0;
                grant_total = grant_total.saturating_add(*p);
            }
            row[layout.year(fy, YearField::Cost)] = total as f64 / 100.0;
            row[layout.year(fy, YearField::GrantFunded)] = grant_total as f64 / 100.0;
        }
    }
    for (k, input) in layout.inputs.iter().enumerate() {
        row[layout.input(k)] = match input.kind {
            InputKind::Param(id) => inputs.values[id.0],
            InputKind::ShockSize(s) => inputs.shock_children[s],
            InputKind::Delivery(i) => inputs.delivered[i],
            InputKind::Slip(k) => inputs.saving_slipped[k],
            InputKind::ShockCount(s) => inputs.shock_count[s],
        };
    }
}

/// An exact amount times a factor, in pence: exact when the factor is 1.
fn scaled_pence(amount: rust_decimal::Decimal, scale: f64) -> i64 {
    use rust_decimal::prelude::FromPrimitive;
    if scale == 1.0 {
        return decimal_to_pence(amount);
    }
    match rust_decimal::Decimal::from_f64(scale).and_then(|s| amount.checked_mul(s)) {
        Some(x) => decimal_to_pence(x),
        None => pounds_to_pence(crate::config::money::Amount(amount).to_f64() * scale),
    }
}

/// A saving delivered in financial year `fy`: the plan for the year (or for
/// the year before, if the plan slipped), times the fraction delivered and
/// the year's share of twelve months. Centrally `slipped` is the
/// probability of a slip, and the plan is the expected mixture of the two.
fn saving_pence(saving: &Saving, fy: usize, share: f64, delivered: f64, slipped: f64) -> i64 {
    use rust_decimal::Decimal;
    use rust_decimal::prelude::FromPrimitive;
    let this = saving.per_year[fy];
    let before = if fy > 0 {
        saving.per_year[fy - 1]
    } else {
        Decimal::ZERO
    };
    let plan = if slipped == 0.0 {
        this
    } else if slipped == 1.0 {
        before
    } else {
        let q = Decimal::from_f64(slipped).unwrap_or(Decimal::ZERO);
        this * (Decimal::ONE - q) + before * q
    };
    scaled_pence(plan, delivered * share)
}

fn pounds_to_pence(x: f64) -> i64 {
    (x * 100.0).round() as i64
}
