//! The validated model: what a config means, with every name resolved to an
//! index and every distribution built. Nothing here does I/O; one month of
//! the model is in [`month`], one simulated future in [`run`].

pub mod calendar;
pub mod copula;
pub mod draws;
pub mod inputs;
pub mod layout;
pub mod month;
pub mod run;
pub mod strategy;
pub mod stream;

use std::ops::Range;

use rust_decimal::Decimal;

use crate::dist::Dist;
pub use calendar::{Calendar, FinancialYear, Month, YearMonth};

/// Children's ages are tracked in months from 0 to 18 years.
pub const AGE_CELLS: usize = 18 * 12;

/// Index of an uncertain input in [`Model::params`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ParamId(pub usize);

/// An uncertain input, drawn once per run (SPEC §2.6–2.7).
#[derive(Clone, Debug)]
pub struct Param {
    /// The input's config path, e.g. `placement.ifa.weekly_cost`. Its random
    /// stream is keyed by this path, so adding or reordering inputs never
    /// changes the draws of the others.
    pub path: String,
    pub dist: Dist,
}

/// An age band of whole years, `[from, to)`.
#[derive(Clone, Debug)]
pub struct Band {
    pub id: String,
    pub label: String,
    pub from_years: u32,
    pub to_years: u32,
}

/// Age bands and how ages are stored.
#[derive(Clone, Debug)]
pub struct Ages {
    pub bands: Vec<Band>,
    /// True when bands were declared: ages are tracked month by month, children
    /// move band on the birthday that crosses a bound and leave care at 18.
    pub tracked: bool,
}

impl Ages {
    /// Age cells per placement: one per month of age when ages are tracked,
    /// otherwise a single cell.
    pub fn cells(&self) -> usize {
        if self.tracked { AGE_CELLS } else { 1 }
    }

    /// The cells of band `b`.
    pub fn band_cells(&self, b: usize) -> Range<usize> {
        if self.tracked {
            let band = &self.bands[b];
            band.from_years as usize * 12..band.to_years as usize * 12
        } else {
            0..1
        }
    }
}

#[derive(Clone, Debug)]
pub struct Placement {
    pub id: String,
    pub label: String,
    pub weekly_cost: ParamId,
    /// Annual price inflation, applied at the start of each financial year
    /// after the first.
    pub inflation: ParamId,
    /// Children in this placement at the start, per band.
    pub initial: Vec<f64>,
    /// The same children as groups of age cells, each group's children
    /// spread uniformly over its cells: one group per band for `initial`,
    /// one per year or month of age for `initial_by_age`.
    pub initial_groups: Vec<(Range<usize>, f64)>,
    /// Places available; entrants and step-downs beyond them go to `overflow`.
    pub capacity: Option<f64>,
    pub overflow: Option<usize>,
}

/// How children leave care from one (placement, band).
#[derive(Clone, Copy, Debug)]
pub enum ExitRate {
    /// Mean stay in months M: monthly hazard 1/M.
    MeanMonths(ParamId),
    /// Probability of leaving within a year p: monthly hazard 1 − (1 − p)^(1/12).
    AnnualProbability(ParamId),
}

#[derive(Clone, Debug)]
pub struct Entries {
    pub per_year: ParamId,
    /// Negative binomial size k; Poisson entries when absent.
    pub dispersion: Option<ParamId>,
    /// Annual growth of the entry rate, compounded monthly from the start.
    pub trend: ParamId,
    /// Factors by calendar month, January first, averaging 1.
    pub seasonality: [f64; 12],
    /// Share of entrants in each age band.
    pub age_mix: Vec<f64>,
    /// Share of each band's entrants placed in each placement: `[band][placement]`.
    pub mix: Vec<Vec<f64>>,
}

/// Moves from one placement to another.
#[derive(Clone, Debug)]
pub struct Transition {
    pub from: usize,
    pub to: usize,
    /// Probability of a move within a year; monthly 1 − (1 − p)^(1/12).
    pub annual_rate: ParamId,
    /// Bands the move applies to.
    pub bands: Vec<bool>,
}

/// One year's amount of a cost line.
#[derive(Clone, Debug)]
pub enum LineAmount {
    Exact(Decimal),
    Uncertain(ParamId),
}

#[derive(Clone, Debug)]
pub struct CostLine {
    pub id: String,
    pub label: String,
    /// Full-year amounts, one per financial year; a partial year accrues its
    /// months' share.
    pub per_year: Vec<LineAmount>,
}

/// Support after leaving care at 18, costed per week per young person.
#[derive(Clone, Debug)]
pub struct CareLeavers {
    pub label: String,
    pub weekly_cost: ParamId,
    pub inflation: ParamId,
    pub months: usize,
    /// Care leavers already supported at the start, spread evenly over the
    /// months of support.
    pub initial: f64,
}

/// A validated config.
#[derive(Clone, Debug)]
pub struct Model {
    pub name: String,
    pub description: Option<String>,
    pub calendar: Calendar,
    pub ages: Ages,
    pub placements: Vec<Placement>,
    pub entries: Option<Entries>,
    pub exits: Vec<Vec<ExitRate>>,
    pub transitions: Vec<Transition>,
    pub cost_lines: Vec<CostLine>,
    pub care_leavers: Option<CareLeavers>,
    /// Envelope per financial year (full-year amounts; a partial year is
    /// compared with its months' share). Without one, runs report demand
    /// and cost but no overspend.
    pub budget: Option<Vec<Decimal>>,
    /// Observed month-end counts to score the simulation against.
    pub history: Option<History>,
    pub strategy: strategy::Strategy,
    pub params: Vec<Param>,
    /// Inputs drawn jointly with rank correlations, when the config has any.
    pub copula: Option<copula::Copula>,
    pub default_runs: u64,
    pub default_seed: u64,
}

impl Model {
    pub fn param(&self, id: ParamId) -> &Param {
        &self.params[id.0]
    }

    /// The budget a financial year is compared with, in pence: the full-year
    /// envelope, or its months' share for a partial year; `None` without a
    /// budget.
    pub fn budget_pence(&self, fy: usize) -> Option<i64> {
        let budget = self.budget.as_ref()?;
        let year = &self.calendar.years[fy];
        let share = budget[fy] * Decimal::from(year.months as u64) / Decimal::from(12u64);
        Some(decimal_to_pence(share))
    }
}

/// What a month-end count in `[history]` counts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Series {
    Total,
    Placement(usize),
    Band(usize),
}

/// Observed counts of children in care at the end of months.
#[derive(Clone, Debug)]
pub struct History {
    pub source: Option<String>,
    /// Each series with its points: (month, count), in month order.
    pub series: Vec<(Series, Vec<(YearMonth, f64)>)>,
}

/// Rounds an exact amount of pounds to whole pence (half away from zero).
pub fn decimal_to_pence(amount: Decimal) -> i64 {
    use rust_decimal::prelude::ToPrimitive;
    (amount * Decimal::ONE_HUNDRED)
        .round_dp_with_strategy(0, rust_decimal::RoundingStrategy::MidpointAwayFromZero)
        .to_i64()
        .unwrap_or(i64::MAX)
}
