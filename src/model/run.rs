//! One simulated future: draw the run's uncertain inputs, start from the
//! initial stock, step month by month, and write the run's row of results.

use crate::model::draws::Draws;
use crate::model::layout::{Layout, YearField};
use crate::model::month::{MonthTotals, State};
use crate::model::{ExitRate, LineAmount, Model, decimal_to_pence};

/// The values of a run's uncertain inputs, turned into what the month uses.
#[derive(Clone, Debug)]
pub struct RunInputs {
    /// Raw draw of every input, in the order of [`Model::params`].
    pub values: Vec<f64>,
    /// Monthly exit hazard `[placement][band]`.
    pub hazard: Vec<Vec<f64>>,
    /// True where the hazard is the same in every run (its input is fixed).
    pub hazard_fixed: Vec<Vec<bool>>,
    /// Weekly cost `[placement][financial year]`.
    pub weekly: Vec<Vec<f64>>,
    /// Expected entrants in each month (before the month's randomness).
    pub entry_mean: Vec<f64>,
    pub dispersion: Option<f64>,
    /// True when the entry rate is the same in every run and entries are Poisson.
    pub entries_fixed: bool,
    /// Monthly probability of each transition.
    pub move_prob: Vec<f64>,
    /// Weekly cost of a care leaver per financial year.
    pub leaver_weekly: Vec<f64>,
}

impl RunInputs {
    pub fn draw<D: Draws>(model: &Model, draws: &mut D) -> RunInputs {
        let values: Vec<f64> = model.params.iter().map(|p| draws.param(p)).collect();
        let v = |id: crate::model::ParamId| values[id.0];
        let years = model.calendar.years.len();
        let hazard_of = |rate: &ExitRate| match *rate {
            ExitRate::MeanMonths(m) => (1.0 / v(m)).min(1.0),
            ExitRate::AnnualProbability(p) => crate::config::validate::monthly_from_annual(v(p)),
        };
        let hazard = model
            .exits
            .iter()
            .map(|bands| bands.iter().map(hazard_of).collect())
            .collect();
        let hazard_fixed = model
            .exits
            .iter()
            .map(|bands| {
                bands
                    .iter()
                    .map(
                        |&(ExitRate::MeanMonths(id) | ExitRate::AnnualProbability(id))| {
                            model.param(id).dist.is_fixed()
                        },
                    )
                    .collect()
            })
            .collect();
        let uplift = |base: f64, rate: f64| {
            (0..years)
                .map(|y| base * (1.0 + rate).powi(y as i32))
                .collect::<Vec<_>>()
        };
        let weekly = model
            .placements
            .iter()
            .map(|p| uplift(v(p.weekly_cost), v(p.inflation)))
            .collect();
        let (entry_mean, dispersion) = match &model.entries {
            Some(e) => {
                // Growth compounds monthly: (1 + trend)^(t/12) in month t.
                let monthly_growth = (1.0 + v(e.trend)).powf(1.0 / 12.0);
                let mut level = v(e.per_year) / 12.0;
                let means = model
                    .calendar
                    .months
                    .iter()
                    .map(|m| {
                        let mean = level * e.seasonality[m.date.month as usize - 1];
                        level *= monthly_growth;
                        mean
                    })
                    .collect();
                (means, e.dispersion.map(v))
            }
            None => (vec![0.0; model.calendar.months.len()], None),
        };
        let entries_fixed = model.entries.as_ref().is_some_and(|e| {
            e.dispersion.is_none()
                && model.param(e.per_year).dist.is_fixed()
                && model.param(e.trend).dist.is_fixed()
        });
        let move_prob = model
            .transitions
            .iter()
            .map(|t| crate::config::validate::monthly_from_annual(v(t.annual_rate)))
            .collect();
        let leaver_weekly = match &model.care_leavers {
            Some(c) => uplift(v(c.weekly_cost), v(c.inflation)),
            None => vec![0.0; years],
        };
        RunInputs {
            values,
            hazard,
            hazard_fixed,
            weekly,
            entry_mean,
            dispersion,
            entries_fixed,
            move_prob,
            leaver_weekly,
        }
    }
}

/// Simulates run `draws` of `model` and writes its results into `row`
/// (laid out by `layout`). `state` is reusable scratch space.
pub fn simulate<D: Draws>(
    model: &Model,
    layout: &Layout,
    draws: &mut D,
    state: &mut State,
    row: &mut [f64],
) {
    let inputs = RunInputs::draw(model, draws);
    state.reset(model, draws);
    row.fill(0.0);

    let n_place = model.placements.len();
    let mut cost = vec![0.0; n_place];
    let mut leaver_cost = 0.0;
    let mut totals = MonthTotals::new(n_place);

    for (t, month) in model.calendar.months.iter().enumerate() {
        state.step(model, &inputs, t, draws, &mut totals);
        let fy = month.fy;
        let days = month.days as f64;
        // Placement-days by the trapezoid rule over the month.
        for (p, c) in cost.iter_mut().enumerate() {
            let placement_days = days * (totals.start[p] + totals.end[p]) / 2.0;
            *c += placement_days * inputs.weekly[p][fy] / 7.0;
        }
        leaver_cost += days * (totals.leavers_start + totals.leavers_end) / 2.0
            * inputs.leaver_weekly[fy]
            / 7.0;

        row[layout.year(fy, YearField::Entries)] += totals.entries;
        row[layout.year(fy, YearField::Exits)] += totals.exits + totals.left_at_18;
        row[layout.year(fy, YearField::LeftAt18)] += totals.left_at_18;
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
            let mut total_pence: i64 = 0;
            let mut put = |c: usize, pence: i64, row: &mut [f64]| {
                row[layout.component(fy, c)] = pence as f64 / 100.0;
                total_pence = total_pence.saturating_add(pence);
            };
            for (p, c) in cost.iter_mut().enumerate() {
                put(p, pounds_to_pence(*c), row);
                *c = 0.0;
            }
            let share = year.months as f64 / 12.0;
            for (l, line) in model.cost_lines.iter().enumerate() {
                let pence = match &line.per_year[fy] {
                    LineAmount::Exact(a) => decimal_to_pence(
                        *a * rust_decimal::Decimal::from(year.months as u64)
                            / rust_decimal::Decimal::from(12u64),
                    ),
                    LineAmount::Uncertain(id) => pounds_to_pence(inputs.values[id.0] * share),
                };
                put(n_place + l, pence, row);
            }
            if model.care_leavers.is_some() {
                put(
                    n_place + model.cost_lines.len(),
                    pounds_to_pence(leaver_cost),
                    row,
                );
                leaver_cost = 0.0;
            }
            row[layout.year(fy, YearField::Cost)] = total_pence as f64 / 100.0;
        }
    }
}

fn pounds_to_pence(x: f64) -> i64 {
    (x * 100.0).round() as i64
}
