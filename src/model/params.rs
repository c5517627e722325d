//! A run's uncertain inputs, drawn once per run and turned into what the
//! simulation uses: daily hazards, weekly prices by year, expected entrants
//! by month, programme sizes, shock entrants, savings delivered.
//!
//! Rates are converted to hazards per day: a mean stay of
//! M months is a hazard of 1/M a month of 365.25/12 days; an annual
//! probability p is a hazard of −ln(1 − p) a year of 365.25 days.

use crate::model::copula::Normals;
use crate::model::draws::{Draws, ONCE, Purpose};
use crate::model::hazard::IMMEDIATE;
use crate::model::inputs::{self, Pin};
use crate::model::shared::Quantiles;
use crate::model::strategy::{Effect, EffectSize, ShockTiming, UnitChange, chances_by_year};
use crate::model::{DAYS_PER_MONTH, DAYS_PER_YEAR, ExitRate, Model};

/// The hazard per day of an annual probability `p` (at most
/// [`IMMEDIATE`], which p = 1 gives).
pub fn daily_from_annual(p: f64) -> f64 {
    (-(-p).ln_1p() / DAYS_PER_YEAR).min(IMMEDIATE)
}

/// The hazard per day of a mean stay of `months` months.
pub fn daily_from_mean_months(months: f64) -> f64 {
    (1.0 / (months * DAYS_PER_MONTH)).min(IMMEDIATE)
}

/// The values of a run's uncertain inputs, turned into what the month uses.
#[derive(Clone, Debug)]
pub struct RunInputs {
    /// Raw draw of every input, in the order of [`Model::params`].
    pub values: Vec<f64>,
    /// Exit hazard per day by `[placement × bands + band]`.
    pub hazard: Vec<f64>,
    /// Time-in-care factor by `[placement × time-in-care bands + band]`
    /// (a single band of factor 1 without `[exits.time_in_care]`).
    pub tic_factor: Vec<f64>,
    /// Weekly cost by `[placement × years + financial year]`.
    pub weekly: Vec<f64>,
    /// Expected entrants in each month (before the month's randomness).
    pub entry_mean: Vec<f64>,
    pub dispersion: Option<f64>,
    /// Per cohort: expected entrants in each month, by `[cohort × months +
    /// month]`, their dispersion, and the factor on its exit hazards.
    pub cohort_entry_mean: Vec<f64>,
    pub cohort_dispersion: Vec<Option<f64>>,
    pub cohort_exit_factor: Vec<f64>,
    /// Move hazard per day by `[transition × bands + band]` (0 where the
    /// move does not apply).
    pub move_rate: Vec<f64>,
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
    /// Occurrences of each shock whose costs run in each month, by
    /// `[month × shocks + shock]` (their probability centrally).
    pub shock_cost_months: Vec<f64>,
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
    copula_normals: Normals,
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
        RunInputs {
            values: Vec::with_capacity(model.params.len()),
            hazard: Vec::new(),
            tic_factor: Vec::new(),
            weekly: Vec::new(),
            entry_mean: Vec::new(),
            dispersion: None,
            cohort_entry_mean: Vec::new(),
            cohort_dispersion: Vec::new(),
            cohort_exit_factor: Vec::new(),
            move_rate: Vec::new(),
            leaver_weekly: Vec::new(),
            delivered: Vec::new(),
            effect: Vec::new(),
            shock_entrants: Vec::new(),
            shock_cost_months: Vec::new(),
            saving_delivered: Vec::new(),
            saving_slipped: Vec::new(),
            shock_count: Vec::new(),
            shock_children: Vec::new(),
            keys: InputKeys::new(model),
            copula_normals: Normals::default(),
        }
    }

    /// Draws a run's inputs, reusing the buffers of the previous run.
    pub fn fill<D: Draws>(&mut self, model: &Model, draws: &mut D) {
        self.fill_with(model, draws, &mut Quantiles::default());
    }

    /// The same, with the quantiles of the correlated inputs kept in
    /// `quantiles` for the run's other simulations.
    pub fn fill_with<D: Draws>(&mut self, model: &Model, draws: &mut D, quantiles: &mut Quantiles) {
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
                self.copula_normals.drawn.clear();
                for id in &c.members {
                    draws.begin(Purpose::Param, 0, keys.params[id.0]);
                    self.copula_normals.drawn.push(draws.std_normal());
                }
                c.fill(
                    model,
                    &mut self.copula_normals,
                    pin,
                    &keys.params,
                    &mut self.values,
                    quantiles,
                );
            }
        }
        let values = &self.values;
        let v = |id: crate::model::ParamId| values[id.0];
        let years = model.calendar.years.len();
        let hazard_of = |rate: &ExitRate| match *rate {
            ExitRate::MeanMonths(m) => daily_from_mean_months(v(m)),
            ExitRate::AnnualProbability(p) => daily_from_annual(v(p)),
        };
        self.hazard.clear();
        self.hazard
            .extend(model.exits.iter().flatten().map(hazard_of));
        self.tic_factor.clear();
        match &model.time_in_care {
            Some(tic) => self
                .tic_factor
                .extend(tic.factor.iter().flatten().map(|&id| v(id))),
            None => self.tic_factor.resize(model.placements.len(), 1.0),
        }
        let uplift =
            |base: f64, rate: f64| (0..years).map(move |y| base * (1.0 + rate).powi(y as i32));
        self.weekly.clear();
        for p in &model.placements {
            self.weekly.extend(uplift(v(p.weekly_cost), v(p.inflation)));
        }
        self.entry_mean.clear();
        self.dispersion = None;
        match &model.entries {
            Some(e) => {
                entry_means(model, e, values, &mut self.entry_mean);
                self.dispersion = e.dispersion.map(v);
            }
            None => self.entry_mean.resize(model.calendar.months.len(), 0.0),
        }
        self.cohort_entry_mean.clear();
        self.cohort_dispersion.clear();
        self.cohort_exit_factor.clear();
        for c in &model.cohorts {
            match &c.entries {
                Some(e) => {
                    entry_means(model, e, values, &mut self.cohort_entry_mean);
                    self.cohort_dispersion.push(e.dispersion.map(v));
                }
                None => {
                    let n = self.cohort_entry_mean.len() + model.calendar.months.len();
                    self.cohort_entry_mean.resize(n, 0.0);
                    self.cohort_dispersion.push(None);
                }
            }
            self.cohort_exit_factor.push(v(c.exit_factor));
        }
        self.move_rate.clear();
        self.move_rate.extend(
            model
                .transitions
                .iter()
                .flat_map(|t| t.annual_rate.iter())
                .map(|rate| rate.map_or(0.0, |id| daily_from_annual(v(id)))),
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
            ShockOut {
                entrants: &mut self.shock_entrants,
                costs: &mut self.shock_cost_months,
                count: &mut self.shock_count,
                children: &mut self.shock_children,
            },
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

/// Appends the expected entrants of each month of `e` to `out`: the yearly
/// rate / 12, grown by the trend compounded monthly ((1 + trend)^(t/12) in
/// month t) and times the month's seasonal factor.
fn entry_means(model: &Model, e: &crate::model::Entries, values: &[f64], out: &mut Vec<f64>) {
    let monthly_growth = (1.0 + values[e.trend.0]).powf(1.0 / 12.0);
    let mut level = values[e.per_year.0] / 12.0;
    out.extend(model.calendar.months.iter().map(|m| {
        let mean = level * e.seasonality[m.date.month as usize - 1];
        level *= monthly_growth;
        mean
    }));
}

/// Where [`shock_entrants`] writes: entrants and occurrences whose costs
/// run, by month and shock; each shock's occurrences and entrants in all.
struct ShockOut<'a> {
    entrants: &'a mut Vec<f64>,
    costs: &'a mut Vec<f64>,
    count: &'a mut Vec<f64>,
    children: &'a mut Vec<f64>,
}

/// Extra entrants from shocks by month, for one run; with each shock's
/// number of occurrences and its entrants in all.
fn shock_entrants<D: Draws>(
    model: &Model,
    draws: &mut D,
    pin: Option<Pin>,
    keys: &InputKeys,
    o: ShockOut,
) {
    let ShockOut {
        entrants: out,
        costs,
        count,
        children,
    } = o;
    let shocks = &model.strategy.shocks;
    let months = model.calendar.months.len();
    out.clear();
    out.resize(months * shocks.len(), 0.0);
    costs.clear();
    costs.resize(months * shocks.len(), 0.0);
    count.clear();
    children.clear();
    for (s, shock) in shocks.iter().enumerate() {
        let dist = &model.param(shock.children).dist;
        let size_pin = pinned(pin, keys.params[shock.children.0]);
        // Spreads `n` children over the months from `first` on: equal whole
        // shares with any remainder in the first months (exact shares when n
        // is not whole, as it can be centrally), each month's count times
        // `weight`; months beyond the horizon are lost.
        let arrive = |first: i64, n: f64, weight: f64, out: &mut [f64]| {
            let k = shock.spread_months as f64;
            let whole = n.fract() == 0.0;
            let base = if whole { (n / k).floor() } else { n / k };
            let mut rest = n - base * k;
            for m in 0..shock.spread_months as i64 {
                let t = first + m;
                let extra = if whole && rest > 0.0 { 1.0 } else { 0.0 };
                rest -= extra;
                if t >= 0 && (t as usize) < months {
                    out[t as usize * shocks.len() + s] += (base + extra) * weight;
                }
            }
        };
        // The number of children a shock brings: whole in random runs, and
        // centrally too when its size is fixed.
        let size = |drawn: f64, central: bool| {
            if central && !dist.is_fixed() {
                drawn
            } else {
                drawn.round()
            }
        };
        // The months in which the costs of an occurrence from month
        // `first` run, with weight `weight`.
        let cost_run = |first: i64, weight: f64, costs: &mut [f64]| {
            for t in first..first + shock.cost_months as i64 {
                if t >= 0 && (t as usize) < months {
                    costs[t as usize * shocks.len() + s] += weight;
                }
            }
        };
        let held_count = pinned(pin, keys.shock_count[s]);
        let (mut happened, mut total) = (0.0, 0.0);
        match shock.timing {
            ShockTiming::Month(m, p) => {
                draws.begin(Purpose::Strategy, ONCE, shock.key);
                let central = draws.is_central();
                // A certain shock draws nothing here, so its size is drawn
                // as it always was.
                let hit = draws.chance(p);
                let hit = held_count.unwrap_or(hit);
                let drawn = draws.sample(dist);
                let n = size_pin.unwrap_or(size(drawn, central));
                if hit > 0.0 {
                    arrive(m, n, hit, out);
                    cost_run(m, hit, costs);
                    (happened, total) = (hit, hit * n);
                }
            }
            ShockTiming::Once(p) => {
                draws.begin(Purpose::Strategy, ONCE, shock.key);
                if draws.is_central() {
                    let n = size(dist.mean(), true);
                    let weight = p / months.max(1) as f64;
                    for t in 0..months as i64 {
                        arrive(t, n, weight, out);
                        cost_run(t, weight, costs);
                    }
                    (happened, total) = (p, p * n);
                } else {
                    let hit = held_count.unwrap_or(draws.chance(p));
                    let t = draws.pick(months) as i64;
                    let drawn = draws.sample(dist).round();
                    let n = size_pin.unwrap_or(drawn);
                    if hit > 0.0 {
                        arrive(t, n, 1.0, out);
                        cost_run(t, 1.0, costs);
                        (happened, total) = (1.0, n);
                    }
                }
            }
            ShockTiming::PerYear(p) => {
                // A partial year carries its share of the year's chance.
                let chances = chances_by_year(p, &model.calendar);
                // With the number of occurrences held, the years they fall in
                // are drawn from the shock's own stream, each set of years
                // with its chance given the count.
                let held_years = held_count.map(|k| {
                    draws.begin(Purpose::Strategy, ONCE, shock.key);
                    held_years(draws, &chances, k as usize)
                });
                for (y, year) in model.calendar.years.iter().enumerate() {
                    draws.begin(Purpose::Strategy, y, shock.key);
                    if draws.is_central() {
                        // Expected entrants: the shock starts in each of the
                        // year's months with probability p / months.
                        let (n, p) = (size(dist.mean(), true), chances[y]);
                        let weight = p / year.months as f64;
                        for offset in 0..year.months {
                            arrive((year.first_month + offset) as i64, n, weight, out);
                            cost_run((year.first_month + offset) as i64, weight, costs);
                        }
                        (happened, total) = (happened + p, total + p * n);
                        continue;
                    }
                    // The chance is drawn even when the count is held, so the
                    // month and size that follow are those of the free run.
                    let hit = draws.chance(chances[y]) > 0.0;
                    if held_years.as_ref().map_or(hit, |chosen| chosen[y]) {
                        let offset = draws.pick(year.months);
                        let drawn = draws.sample(dist).round();
                        let n = size_pin.unwrap_or(drawn);
                        arrive((year.first_month + offset) as i64, n, 1.0, out);
                        cost_run((year.first_month + offset) as i64, 1.0, costs);
                        (happened, total) = (happened + 1.0, total + n);
                    }
                }
            }
        }
        count.push(happened);
        children.push(total);
    }
}

/// `k` of the years with chances `chances`, drawn as the years a shock
/// happens in given that it happens `k` times: any `k` alike when the
/// chances are equal (a shuffle), else year by year with its chance given
/// the occurrences left to place.
fn held_years<D: Draws>(draws: &mut D, chances: &[f64], k: usize) -> Vec<bool> {
    let years = chances.len();
    let mut chosen = vec![false; years];
    if chances.iter().all(|&c| c == chances[0]) {
        let mut order: Vec<usize> = (0..years).collect();
        for i in 0..years {
            let j = i + draws.pick(years - i);
            order.swap(i, j);
        }
        for &y in order.iter().take(k) {
            chosen[y] = true;
        }
        return chosen;
    }
    // ways[i][r]: the chance that years i.. hold exactly r occurrences.
    let mut ways = vec![vec![0.0; k + 1]; years + 1];
    ways[years][0] = 1.0;
    for i in (0..years).rev() {
        for r in 0..=k {
            let hit = if r > 0 { ways[i + 1][r - 1] } else { 0.0 };
            ways[i][r] = (1.0 - chances[i]) * ways[i + 1][r] + chances[i] * hit;
        }
    }
    let mut left = k;
    for (i, c) in chances.iter().enumerate() {
        if left == 0 {
            break;
        }
        let given = if ways[i][left] > 0.0 {
            c * ways[i + 1][left - 1] / ways[i][left]
        } else {
            // A count the chances cannot give (held beyond them): the
            // earliest years take it.
            1.0
        };
        if draws.chance(given) > 0.0 {
            chosen[i] = true;
            left -= 1;
        }
    }
    chosen
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::draws::Random;

    #[test]
    fn held_years_follow_their_chances_given_the_count() {
        // Chances 0.2 and 0.6 and one occurrence: it falls in the first
        // year with chance 0.2 · 0.4 / (0.2 · 0.4 + 0.8 · 0.6) = 1/7.
        let n = 20_000;
        let mut first = 0;
        for run in 0..n {
            let mut draws = Random::new(11, run);
            draws.begin(Purpose::Strategy, ONCE, 1);
            let chosen = held_years(&mut draws, &[0.2, 0.6], 1);
            assert_eq!(chosen.iter().filter(|&&c| c).count(), 1);
            first += chosen[0] as u32;
        }
        let share = first as f64 / n as f64;
        let se = (1.0 / 7.0 * 6.0 / 7.0 / n as f64).sqrt();
        // One comparison: |z| ≤ Φ⁻¹(1 − 0.001/2) = 3.29.
        assert!((share - 1.0 / 7.0).abs() <= 3.29 * se, "{share}");
        // Equal chances, every year held: all of them.
        let mut draws = Random::new(11, 0);
        draws.begin(Purpose::Strategy, ONCE, 1);
        assert_eq!(held_years(&mut draws, &[0.3; 3], 3), vec![true; 3]);
        // A count beyond what the chances allow takes the earliest years.
        assert_eq!(held_years(&mut draws, &[0.0, 0.5], 2), vec![true, true]);
    }
}
