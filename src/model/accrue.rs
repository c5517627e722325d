//! Where money accrues: each month's placement-days priced at the weekly
//! cost / 7 in force that month, care leavers' days of support, and the
//! yearly lines (other costs, programmes, investments, savings), summed in
//! pence so that a year's components add up exactly to its total.
//!
//! Prices change at the start of each financial year (inflation) and with
//! `unit_cost` programmes from their first month, ramping up month by month;
//! within a month a price is constant, so a month's cost is its
//! placement-days times the day's price.

use crate::model::calendar::Calendar;
use crate::model::finance::COUNCIL;
use crate::model::layout::{CohortField, Layout, Slot, YearField};
use crate::model::params::RunInputs;
use crate::model::strategy::{Effect, Saving, UnitChange};
use crate::model::{LineAmount, Model, decimal_to_pence};

/// What a run counted that costs money, month by month.
#[derive(Clone, Debug)]
pub struct Flows {
    /// Placement-days by `[month × placements + placement]`.
    pub placement_days: Vec<f64>,
    /// Days of care leavers' support in each month.
    pub leaver_days: Vec<f64>,
    /// Care leavers supported through the whole of each month, as
    /// differences: `whole[t]` is the change from month t − 1 (summed once,
    /// in [`Flows::leaver_days`]'s final pass).
    whole: Vec<f64>,
    /// Cells of the cohorts' placement-days in a month: cohorts ×
    /// placements × age bands.
    pub cohort_cells: usize,
    /// Cohorts' placement-days by `[month × cohort cells + (cohort ×
    /// placements + placement) × bands + band]`.
    pub cohort_days: Vec<f64>,
    /// Days of support of each cohort's care leavers, by
    /// `[cohort × months + month]`, and their whole months as differences,
    /// by `[cohort × (months + 1) + month]`.
    pub cohort_leaver_days: Vec<f64>,
    cohort_whole: Vec<f64>,
    places: usize,
    bands: usize,
}

impl Flows {
    pub fn new(model: &Model) -> Flows {
        let months = model.calendar.months.len();
        let cohorts = model.cohorts.len();
        let cohort_cells = cohorts * model.placements.len() * model.ages.bands.len();
        Flows {
            placement_days: vec![0.0; months * model.placements.len()],
            leaver_days: vec![0.0; months],
            whole: vec![0.0; months + 1],
            cohort_cells,
            cohort_days: vec![0.0; months * cohort_cells],
            cohort_leaver_days: vec![0.0; cohorts * months],
            cohort_whole: vec![0.0; cohorts * (months + 1)],
            places: model.placements.len(),
            bands: model.ages.bands.len(),
        }
    }

    pub fn clear(&mut self) {
        self.placement_days.fill(0.0);
        self.leaver_days.fill(0.0);
        self.whole.fill(0.0);
        self.cohort_days.fill(0.0);
        self.cohort_leaver_days.fill(0.0);
        self.cohort_whole.fill(0.0);
    }

    /// The cell of cohort `c`'s children in placement `p` and band `b`
    /// within a month's cohort days.
    #[inline]
    pub fn cohort_cell(&self, c: usize, p: usize, b: usize) -> usize {
        (c * self.places + p) * self.bands + b
    }

    /// Adds `weight` care leavers supported from day `from` to day `to`: the
    /// part months at either end directly, the whole months between as a
    /// difference, so that a leaver costs the same however long its support.
    pub fn support(&mut self, calendar: &Calendar, from: f64, to: f64, weight: f64) {
        spread(
            &mut self.leaver_days,
            &mut self.whole,
            calendar,
            (from, to),
            weight,
        );
    }

    /// The same for care leavers of cohort `c` (counted in [`Flows::support`]
    /// too).
    pub fn support_cohort(
        &mut self,
        c: usize,
        calendar: &Calendar,
        from: f64,
        to: f64,
        weight: f64,
    ) {
        let months = self.leaver_days.len();
        spread(
            &mut self.cohort_leaver_days[c * months..(c + 1) * months],
            &mut self.cohort_whole[c * (months + 1)..(c + 1) * (months + 1)],
            calendar,
            (from, to),
            weight,
        );
    }

    /// Adds the whole months of support to the months' days: called once,
    /// when the run is over.
    pub fn close(&mut self, month_starts: &[f64]) {
        close(&mut self.leaver_days, &mut self.whole, month_starts);
        let months = self.leaver_days.len();
        for (days, whole) in self
            .cohort_leaver_days
            .chunks_mut(months.max(1))
            .zip(self.cohort_whole.chunks_mut(months + 1))
        {
            close(days, whole, month_starts);
        }
    }
}

/// Adds `weight` care leavers supported from `from` to `to` to the days of
/// each month (`days`), whole months as differences in `whole`.
fn spread(
    days: &mut [f64],
    whole: &mut [f64],
    calendar: &Calendar,
    (from, to): (f64, f64),
    weight: f64,
) {
    let month_starts = &calendar.month_starts;
    let end = month_starts[days.len()];
    let (from, to) = (from.max(0.0), to.min(end));
    if to <= from {
        return;
    }
    let (first, last) = (calendar.month_within(from), calendar.month_within(to));
    if first == last {
        days[first] += weight * (to - from);
        return;
    }
    days[first] += weight * (month_starts[first + 1] - from);
    days[last] += weight * (to - month_starts[last]);
    whole[first + 1] += weight;
    whole[last] -= weight;
}

/// Adds the whole months kept as differences in `whole` to `days`.
fn close(days: &mut [f64], whole: &mut [f64], month_starts: &[f64]) {
    let mut supported = 0.0;
    for (t, d) in days.iter_mut().enumerate() {
        supported += whole[t];
        *d += supported * (month_starts[t + 1] - month_starts[t]);
    }
    whole.fill(0.0);
}

/// The weekly price of each placement in month `t`: the year's price after
/// inflation, changed by any `unit_cost` programme in force.
pub fn weekly_prices(model: &Model, inputs: &RunInputs, t: usize, out: &mut [f64]) {
    let n_years = model.calendar.years.len();
    let fy = model.calendar.months[t].fy;
    for (p, w) in out.iter_mut().enumerate() {
        *w = inputs.weekly[p * n_years + fy];
    }
    for (i, iv) in model.strategy.interventions.iter().enumerate() {
        if let Effect::UnitCost { placement, change } = iv.effect {
            let r = iv.ramp(t) * inputs.delivered[i];
            match change {
                UnitChange::Add(_) => out[placement] += inputs.effect[i] * r,
                UnitChange::Factor(_) => out[placement] *= 1.0 + (inputs.effect[i] - 1.0) * r,
            }
        }
    }
    for w in out.iter_mut() {
        *w = w.max(0.0);
    }
}

/// Writes the money of a run (and the value each uncertain input took) into
/// `row`, from its flows.
pub fn write(model: &Model, layout: &Layout, inputs: &RunInputs, flows: &Flows, row: &mut [f64]) {
    let n_place = model.placements.len();
    let mut weekly = vec![0.0; n_place];
    for (fy, year) in model.calendar.years.iter().enumerate() {
        let mut cost = vec![0.0; n_place];
        let mut leaver_cost = 0.0;
        for t in year.first_month..=year.last_month() {
            weekly_prices(model, inputs, t, &mut weekly);
            for (p, c) in cost.iter_mut().enumerate() {
                *c += flows.placement_days[t * n_place + p] * weekly[p] / 7.0;
            }
            leaver_cost += flows.leaver_days[t] * inputs.leaver_weekly[fy] / 7.0;
        }
        let mut days = vec![0.0; n_place];
        let mut leaver_days = 0.0;
        let cells = flows.cohort_cells;
        let months = model.calendar.months.len();
        let mut cohort_days = vec![0.0; cells];
        let mut cohort_leaver_days = vec![0.0; model.cohorts.len()];
        for t in year.first_month..=year.last_month() {
            for (p, d) in days.iter_mut().enumerate() {
                *d += flows.placement_days[t * n_place + p];
            }
            leaver_days += flows.leaver_days[t];
            for (cell, d) in cohort_days.iter_mut().enumerate() {
                *d += flows.cohort_days[t * cells + cell];
            }
            for (c, d) in cohort_leaver_days.iter_mut().enumerate() {
                *d += flows.cohort_leaver_days[c * months + t];
            }
        }
        let year_days = model.calendar.month_starts[year.last_month() + 1]
            - model.calendar.month_starts[year.first_month];
        let per_cohort = cells / model.cohorts.len().max(1);
        for c in 0..model.cohorts.len() {
            let total: f64 = cohort_days[c * per_cohort..(c + 1) * per_cohort]
                .iter()
                .sum();
            row[layout.cohort(fy, c, CohortField::MeanInCare)] = total / year_days.max(1.0);
        }
        let flows = YearFlows {
            placement_cost: cost,
            leaver_cost,
            mean_in_care: days.iter().sum::<f64>() / year_days.max(1.0),
            placement_days: days,
            leaver_days,
            cohort_days,
            cohort_leaver_days,
            cohort_cells: per_cohort,
        };
        write_year(model, layout, inputs, fy, &flows, row);
    }
    write_inputs(layout, inputs, row);
}

/// The items of year `fy` in pence (in the order of [`Layout::items`]),
/// written to their columns, and the year's totals: gross cost, income and
/// net cost to the council's budget, each budget line and each fund.
fn write_year(
    model: &Model,
    layout: &Layout,
    inputs: &RunInputs,
    fy: usize,
    flows: &YearFlows,
    row: &mut [f64],
) {
    let strategy = &model.strategy;
    let finance = &model.finance;
    let year = &model.calendar.years[fy];
    let share = year.months as f64 / 12.0;
    let line = |amount: &LineAmount, scale: f64| match amount {
        LineAmount::Exact(a) => scaled_pence(*a, scale),
        LineAmount::Uncertain(id) => pounds_to_pence(inputs.values[id.0] * scale),
    };
    let mut pence: Vec<i64> = flows
        .placement_cost
        .iter()
        .map(|c| pounds_to_pence(*c))
        .collect();
    pence.extend(
        model
            .cost_lines
            .iter()
            .map(|l| line(&l.per_year[fy], share)),
    );
    if model.care_leavers.is_some() {
        pence.push(pounds_to_pence(flows.leaver_cost));
    }
    for (s, st) in finance.staff.iter().enumerate() {
        let (fte, agency, cost) = staff_year(inputs, st, fy, flows.mean_in_care);
        row[layout.staff_fte(fy, s)] = fte;
        row[layout.staff_agency(fy, s)] = agency;
        pence.push(pounds_to_pence(cost * share));
    }
    for (i, iv) in strategy.interventions.iter().enumerate() {
        let active = (year.first_month..=year.last_month())
            .filter(|&t| iv.active(t))
            .count();
        let p = line(
            &iv.cost_per_year[fy],
            active as f64 / 12.0 * inputs.delivered[i],
        );
        row[layout.intervention_cost(fy, i)] = p as f64 / 100.0;
        row[layout.intervention_delivered(fy, i)] = inputs.delivered[i];
        pence.push(p);
    }
    for inv in &strategy.investments {
        pence.push(line(&inv.per_year[fy], share));
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
    let n_shocks = strategy.shocks.len();
    for (s, shock) in strategy.shocks.iter().enumerate() {
        if shock.has_cost() {
            let months: f64 = (year.first_month..=year.last_month())
                .map(|t| inputs.shock_cost_months[t * n_shocks + s])
                .sum();
            pence.push(line(&shock.cost_per_year[fy], months / 12.0));
        }
    }
    let items = &layout.slots;
    let (mut gross, mut grant_total) = (0i64, 0i64);
    let mut by_line = vec![0i64; layout.lines];
    let mut by_fund = vec![0i64; layout.funds + 1];
    let line_index =
        |charge: crate::model::finance::Charge| charge.line.unwrap_or(finance.lines.len());
    for (k, p) in pence.iter().enumerate() {
        row[layout.item(fy, k)] = *p as f64 / 100.0;
        let charge = match items[k] {
            Slot::Component(c) => {
                gross = gross.saturating_add(*p);
                layout.components[c].charge
            }
            Slot::Grant(g) => {
                grant_total = grant_total.saturating_add(*p);
                layout.grants[g].charge
            }
        };
        by_fund[charge.fund] = by_fund[charge.fund].saturating_add(*p);
        if charge.fund == COUNCIL && layout.lines > 0 {
            by_line[line_index(charge)] += p;
        }
    }
    let mut income_total = 0i64;
    for (i, income) in finance.income.iter().enumerate() {
        let p = income_pence(model, inputs, income, fy, flows);
        row[layout.income(fy, i)] = p as f64 / 100.0;
        if let Some(c) = income.cohort() {
            row[layout.cohort(fy, c, CohortField::Income)] += p as f64 / 100.0;
        }
        let charge = income.charge;
        by_fund[charge.fund] = by_fund[charge.fund].saturating_sub(p);
        if charge.fund == COUNCIL {
            income_total = income_total.saturating_add(p);
            if layout.lines > 0 {
                by_line[line_index(charge)] -= p;
            }
        }
    }
    for (l, p) in by_line.iter().enumerate() {
        row[layout.line(fy, l)] = *p as f64 / 100.0;
    }
    for (f, p) in by_fund.iter().enumerate().skip(1) {
        row[layout.fund(fy, f)] = *p as f64 / 100.0;
    }
    row[layout.year(fy, YearField::GrossCost)] = gross as f64 / 100.0;
    row[layout.year(fy, YearField::Income)] = income_total as f64 / 100.0;
    row[layout.year(fy, YearField::Cost)] = gross.saturating_sub(income_total) as f64 / 100.0;
    row[layout.year(fy, YearField::GrantFunded)] = grant_total as f64 / 100.0;
}

/// What a year of a run counted that costs money or earns income.
struct YearFlows {
    /// Cost of each placement.
    placement_cost: Vec<f64>,
    leaver_cost: f64,
    /// Placement-days of each placement.
    placement_days: Vec<f64>,
    leaver_days: f64,
    /// Children in care on an average day of the year.
    mean_in_care: f64,
    /// Cohorts' placement-days by [`Flows::cohort_cell`], and each
    /// cohort's days of care leavers' support.
    cohort_days: Vec<f64>,
    cohort_leaver_days: Vec<f64>,
    /// Cells of one cohort: placements × bands.
    cohort_cells: usize,
}

/// Posts filled, of which agency, and their cost for a full year, of staff
/// group `st` in year `fy`.
fn staff_year(
    inputs: &RunInputs,
    st: &crate::model::finance::Staff,
    fy: usize,
    mean_in_care: f64,
) -> (f64, f64, f64) {
    use crate::model::finance::Posts;
    let v = |id: crate::model::ParamId| inputs.values[id.0];
    let posts = match &st.posts {
        Posts::Fixed(per_year) => v(per_year[fy]),
        Posts::PerChildren(per) => mean_in_care / v(*per).max(f64::MIN_POSITIVE),
    };
    let filled = posts * (1.0 - v(st.vacancy_rate));
    let agency = filled * v(st.agency_share[fy]);
    let uplift = (1.0 + v(st.inflation)).powi(fy as i32);
    let cost = ((filled - agency) * v(st.permanent_cost) + agency * v(st.agency_cost)) * uplift;
    (filled, agency, cost)
}

/// Income item `income` in year `fy`, in pence.
fn income_pence(
    model: &Model,
    inputs: &RunInputs,
    income: &crate::model::finance::Income,
    fy: usize,
    flows: &YearFlows,
) -> i64 {
    use crate::model::finance::{ChildRate, IncomeBasis};
    let v = |id: crate::model::ParamId| inputs.values[id.0];
    let share = model.calendar.years[fy].months as f64 / 12.0;
    let uplift = (1.0 + v(income.inflation)).powi(fy as i32);
    let amount = |a: &LineAmount, scale: f64| match a {
        LineAmount::Exact(x) => scaled_pence(*x, scale),
        LineAmount::Uncertain(id) => pounds_to_pence(v(*id) * scale),
    };
    match &income.basis {
        IncomeBasis::PerChildWeek {
            placements,
            cohort,
            rate,
        } => {
            // Pounds a day in each band (one band for a weekly rate).
            let daily: Vec<f64> = match rate {
                ChildRate::Weekly(w) => vec![v(*w) / 7.0],
                ChildRate::Nightly(by_band) => by_band.iter().map(|r| r.map_or(0.0, v)).collect(),
            };
            let pounds = match cohort {
                None => {
                    let days: f64 = flows
                        .placement_days
                        .iter()
                        .zip(placements)
                        .filter(|(_, inside)| **inside)
                        .map(|(d, _)| d)
                        .sum();
                    days * daily[0]
                }
                Some(c) => {
                    let bands = flows.cohort_cells / placements.len().max(1);
                    let cells = &flows.cohort_days[c * flows.cohort_cells..];
                    placements
                        .iter()
                        .enumerate()
                        .filter(|(_, inside)| **inside)
                        .flat_map(|(p, _)| (0..bands).map(move |b| (p, b)))
                        .map(|(p, b)| cells[p * bands + b] * daily[b.min(daily.len() - 1)])
                        .sum()
                }
            };
            pounds_to_pence(pounds * uplift)
        }
        IncomeBasis::PerLeaverWeek { weekly, cohort } => {
            let days = match cohort {
                None => flows.leaver_days,
                Some(c) => flows.cohort_leaver_days[*c],
            };
            pounds_to_pence(days * v(*weekly) * uplift / 7.0)
        }
        IncomeBasis::PerOutcome {
            outcomes,
            success_rate,
            payment,
        } => {
            let per = v(*success_rate) * v(*payment) * share;
            match &outcomes[fy] {
                LineAmount::Exact(n) => scaled_pence(*n, per),
                LineAmount::Uncertain(id) => pounds_to_pence(v(*id) * per),
            }
        }
        IncomeBasis::Fixed { per_year } => amount(&per_year[fy], share),
    }
}

/// The value each uncertain input took in the run.
fn write_inputs(layout: &Layout, inputs: &RunInputs, row: &mut [f64]) {
    use crate::model::inputs::InputKind;
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

/// A saving delivered in financial year `fy`: the plan for the year (or, if
/// the plan slipped, the plan for the year before when the saving is
/// recurrent and nothing when it is one-off), times the fraction delivered and
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
    // A one-off saving that slips is lost: what it would bring the year
    // after was not planned for that year.
    let before = if saving.recurrent {
        before
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

/// An amount in pounds to whole pence, halves away from zero.
pub(crate) fn pounds_to_pence(x: f64) -> i64 {
    crate::tally::round_i64(x * 100.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn support_is_split_over_the_months_it_spans() {
        let model = crate::config::parse(
            include_str!("../../tests/configs/immigration_death.toml"),
            "t.toml",
        )
        .unwrap();
        let mut flows = Flows::new(&model);
        let calendar = &model.calendar;
        // From 20 April (day 19) for 40 days: 11 days in April, 29 in May.
        flows.support(calendar, 19.0, 59.0, 1.0);
        // From 1 May (day 30) to the end of July: all of May, June and July.
        flows.support(calendar, 30.0, 122.0, 2.0);
        flows.close(&calendar.month_starts);
        assert_eq!(flows.leaver_days[0], 11.0);
        assert_eq!(flows.leaver_days[1], 29.0 + 62.0);
        assert_eq!(flows.leaver_days[2], 60.0);
        assert_eq!(flows.leaver_days[3], 62.0);
        assert_eq!(flows.leaver_days[4], 0.0);
    }
}
