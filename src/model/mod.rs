//! The validated model: what a config means, with every name resolved to an
//! index and every distribution built. Nothing here does I/O.
//!
//! A simulated future follows children one by one in continuous time:
//! - [`params`] draws a run's uncertain inputs and turns them into daily
//!   hazards, prices and entry rates;
//! - [`child`] is one child: its birthdays, its time in care, and where its
//!   next event falls ([`hazard`] draws it by inversion of piecewise-constant
//!   hazards);
//! - [`queue`] orders a run's events by date;
//! - [`simulate`] processes them: entries, prevention, exits, moves, birthdays
//!   and programmes, with capacity checked at the moment of arrival;
//!   simulations of the same run copy the entrants and initial stock they
//!   share ([`shared`]);
//! - [`accrue`] turns placement-days and the month's prices into money, and
//!   writes the run's row of results ([`layout`]).
//!
//! [`central`] computes the expected path of the same model deterministically.

pub mod accrue;
pub mod calendar;
pub mod central;
pub mod child;
pub mod copula;
pub mod draws;
pub mod finance;
pub mod hazard;
pub mod inputs;
pub mod layout;
pub mod params;
pub mod queue;
pub mod shared;
pub mod simulate;
pub mod strategy;
pub mod stream;

use std::ops::Range;

use rust_decimal::Decimal;

use crate::dist::Dist;
pub use calendar::{Calendar, FinancialYear, Month, YearMonth};

/// Months of age from birth to the 18th birthday.
pub const AGE_CELLS: usize = 18 * 12;

/// Days in an average year and month: the units of rates "per year" and
/// "per month".
pub const DAYS_PER_YEAR: f64 = 365.25;
pub const DAYS_PER_MONTH: f64 = DAYS_PER_YEAR / 12.0;

/// Index of an uncertain input in [`Model::params`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ParamId(pub usize);

/// An uncertain input, drawn once per run.
#[derive(Clone, Debug)]
pub struct Param {
    /// The input's config path, e.g. `placement.ifa.weekly_cost`. Its random
    /// stream is keyed by this path, so adding or reordering inputs never
    /// changes the draws of the others.
    pub path: String,
    pub dist: Dist,
    /// What its value measures.
    pub unit: inputs::Unit,
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
    /// True when bands were declared: every child has a date of birth, moves
    /// band on the birthday that crosses a bound and leaves care at 18.
    pub tracked: bool,
}

impl Ages {
    /// The band of a child `months` months old (whole months since birth).
    pub fn band_of_month(&self, months: usize) -> usize {
        if !self.tracked {
            return 0;
        }
        self.bands
            .iter()
            .position(|b| months < b.to_years as usize * 12)
            .unwrap_or(self.bands.len() - 1)
    }

    /// The months of age of band `b`.
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
    /// The same children as groups of months of age, each child's age
    /// uniform over its group: one group per band for `initial`, one per
    /// year or month of age for `initial_by_age`.
    pub initial_groups: Vec<(Range<usize>, f64)>,
    /// The initial stock's time in care, when the config gives it.
    pub initial_time_in_care: Option<InitialTimeInCare>,
    /// Places available; entrants and step-downs beyond them go to `overflow`.
    pub capacity: Option<f64>,
    pub overflow: Option<usize>,
}

/// How children leave care from one (placement, band).
#[derive(Clone, Copy, Debug)]
pub enum ExitRate {
    /// Mean stay in months M: hazard 1/M a month.
    MeanMonths(ParamId),
    /// Probability of leaving within a year p: hazard −ln(1 − p) a year.
    AnnualProbability(ParamId),
}

/// Factors on the exit hazard by time in the current period of care
/// (`[exits.time_in_care]`).
#[derive(Clone, Debug)]
pub struct TimeInCare {
    /// Lower bounds of the bands in months, the first 0, the last open-ended.
    pub bounds_months: Vec<f64>,
    /// Factor per `[placement][band]`.
    pub factor: Vec<Vec<ParamId>>,
}

impl TimeInCare {
    /// The lower bounds in days.
    pub fn bounds_days(&self) -> impl Iterator<Item = f64> + '_ {
        self.bounds_months.iter().map(|m| m * DAYS_PER_MONTH)
    }
}

/// How the initial stock of a placement splits by time in care: children
/// per time-in-care band, for each age band (the same split for every age
/// band when the config gives one).
#[derive(Clone, Debug)]
pub struct InitialTimeInCare {
    /// Per age band: children per time-in-care band, summing to the band's
    /// stock (whole numbers when the config gives counts by age band).
    pub counts: Vec<Vec<f64>>,
    /// Per age band: each time-in-care band's weight (see
    /// [`InitialTimeInCare::fit`]); set once the model is built.
    pub weights: Vec<Vec<f64>>,
}

impl InitialTimeInCare {
    /// Fits the weights with which a child of the stock takes its band of
    /// time in care. A child can only be in a band whose lower bound is
    /// below its age (a one-year-old has not been in care for two years),
    /// so a band is drawn among those, with chance proportional to its
    /// weight; the weights are scaled (iterative proportional fitting) until
    /// the expected children in each band are the split's, given how the
    /// age band's children spread over ages (`groups`: months of age and
    /// children, uniform within each). Where every child is old enough for
    /// every band the weights are the split itself.
    ///
    /// A split no stock of these ages can have is refused: children in a
    /// band of time in care that no child of their age band is old enough
    /// for. (A split the ages allow only in part, say more infants in care
    /// six months or more than the spread of ages within a year puts past
    /// six months, is fitted as closely as they allow: a council's returns,
    /// whose children are each as old as their time in care, can give one.)
    pub fn fit(
        &mut self,
        groups: &[(Range<usize>, f64)],
        ages: &Ages,
        bounds_days: &[f64],
    ) -> Result<(), String> {
        let tics = bounds_days.len();
        self.weights = self.counts.clone();
        for (band, counts) in self.counts.iter().enumerate() {
            // Children of the band by how many bands they are old enough
            // for: `mass[m]`, m = 1..=tics.
            let mut mass = vec![0.0; tics + 1];
            for (range, n) in groups {
                if ages.band_of_month(range.start) != band || *n <= 0.0 {
                    continue;
                }
                let (a0, a1) = if ages.tracked {
                    (
                        range.start as f64 * DAYS_PER_MONTH,
                        range.end as f64 * DAYS_PER_MONTH,
                    )
                } else {
                    (f64::INFINITY, f64::INFINITY)
                };
                for m in 1..=tics {
                    let lo = bounds_days[m - 1];
                    let hi = bounds_days.get(m).copied().unwrap_or(f64::INFINITY);
                    let share = if a1 <= a0 {
                        ((lo < a0) && (a0 <= hi)) as u8 as f64
                    } else {
                        ((a1.min(hi) - a0.max(lo)) / (a1 - a0)).max(0.0)
                    };
                    mass[m] += n * share;
                }
            }
            // Children in band k or above must be old enough for band k.
            for k in 1..tics {
                let asked: f64 = counts[k..].iter().sum();
                let old_enough: f64 = mass[k + 1..].iter().sum();
                if asked > 0.0 && old_enough <= 0.0 {
                    let name = ages.bands.get(band).map_or("all", |b| b.id.as_str());
                    return Err(format!(
                        "the split puts {} of age band {name:?} in care for {} months or more, but \
                         none of them is old enough to have been in care that long",
                        round_for_message(asked),
                        round_for_message(bounds_days[k] / DAYS_PER_MONTH),
                    ));
                }
            }
            let w = &mut self.weights[band];
            for _ in 0..500 {
                let mut expected = vec![0.0; tics];
                for (m, &n) in mass.iter().enumerate().skip(1) {
                    let sum: f64 = w[..m].iter().sum();
                    if n <= 0.0 || sum <= 0.0 {
                        continue;
                    }
                    for k in 0..m {
                        expected[k] += n * w[k] / sum;
                    }
                }
                let mut moved = 0.0f64;
                for k in 0..tics {
                    if expected[k] > 0.0 && counts[k] > 0.0 {
                        let f = counts[k] / expected[k];
                        moved = moved.max((f - 1.0).abs());
                        w[k] *= f;
                    }
                }
                if moved < 1e-13 {
                    break;
                }
            }
        }
        Ok(())
    }

    /// The chance that a child of age band `band` aged `age_days` (infinite
    /// without ages) is in each time-in-care band, into `out`.
    pub fn chances(&self, band: usize, age_days: f64, bounds_days: &[f64], out: &mut [f64]) {
        let w = &self.weights[band];
        let mut sum = 0.0;
        for (k, o) in out.iter_mut().enumerate() {
            *o = if k == 0 || bounds_days[k] < age_days {
                w[k]
            } else {
                0.0
            };
            sum += *o;
        }
        if sum > 0.0 {
            out.iter_mut().for_each(|o| *o /= sum);
        } else {
            out.iter_mut().for_each(|o| *o = 0.0);
            out[0] = 1.0;
        }
    }
}

/// A number of children (expected, so perhaps fractional) or of months,
/// as a message shows it: whole when it is, else to two decimals.
fn round_for_message(x: f64) -> String {
    if (x - x.round()).abs() < 1e-9 {
        format!("{:.0}", x.round())
    } else {
        format!("{x:.2}")
    }
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
    /// Share of entrants at each year of age 0–17 (`entries.age_by_year`);
    /// without it ages are uniform within each band.
    pub age_by_year: Option<Vec<f64>>,
    /// Share of each band's entrants placed in each placement: `[band][placement]`.
    pub mix: Vec<Vec<f64>>,
}

/// Children as groups of months of age, each with its count.
pub type AgeGroups = Vec<(Range<usize>, f64)>;

/// A group of children with its own entries and exits (`[[cohort]]`):
/// counted in every total, and reported apart.
#[derive(Clone, Debug)]
pub struct Cohort {
    pub id: String,
    pub label: String,
    /// Its own entrants, arriving besides the main entries.
    pub entries: Option<Entries>,
    /// A factor on its children's exit hazards.
    pub exit_factor: ParamId,
    /// Its children at the start: per placement, groups of months of age
    /// with their counts (ages uniform within each group).
    pub initial: Vec<(usize, AgeGroups)>,
    /// The key of its children's random streams (the hash of its path), so
    /// that adding a cohort changes no other child's draws.
    pub key: u64,
}

/// Moves from one placement to another.
#[derive(Clone, Debug)]
pub struct Transition {
    pub from: usize,
    pub to: usize,
    /// Per age band, the probability of a move within a year (a hazard of
    /// −ln(1 − p) a year); `None` where the move does not apply.
    pub annual_rate: Vec<Option<ParamId>>,
}

impl Transition {
    pub fn applies(&self, band: usize) -> bool {
        self.annual_rate[band].is_some()
    }
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
    /// Cohorts, each with its own entrants; a child of cohort c carries
    /// c + 1 (0 for the main children).
    pub cohorts: Vec<Cohort>,
    pub exits: Vec<Vec<ExitRate>>,
    pub time_in_care: Option<TimeInCare>,
    /// Whether the initial stock's children have a time in care (drawn
    /// from the split or the steady state): with `time_in_care`, or when
    /// an exit programme of any of the config's scenarios chooses children
    /// by it. The same for every scenario, so their stocks stay alike.
    pub stock_time_in_care: bool,
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
    /// Funds, budget lines, income, staffing and initiatives.
    pub finance: finance::Finance,
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

    /// The same model with every distribution held at its mean: random runs
    /// of it average to the central projection wherever no limit binds
    /// (chance events stay random, since the model is linear in them).
    pub fn at_means(&self) -> Model {
        let mut m = self.clone();
        for p in &mut m.params {
            p.dist = Dist::fixed(p.dist.mean());
        }
        m
    }

    /// The budget of line `line` (`None` for the remainder `other`) in
    /// financial year `fy`, in pence, pro rata for a partial year; `None`
    /// without budget lines.
    pub fn line_budget_pence(&self, fy: usize, line: Option<usize>) -> Option<i64> {
        if self.finance.lines.is_empty() {
            return None;
        }
        let total = self.budget.as_ref()?[fy];
        let full = match line {
            Some(l) => self.finance.lines[l].per_year[fy],
            None => {
                total
                    - self
                        .finance
                        .lines
                        .iter()
                        .map(|l| l.per_year[fy])
                        .sum::<Decimal>()
            }
        };
        let year = &self.calendar.years[fy];
        Some(decimal_to_pence(
            full * Decimal::from(year.months as u64) / Decimal::from(12u64),
        ))
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

/// Observed counts of children in care at the end of months, and cost
/// outturns by financial year.
#[derive(Clone, Debug)]
pub struct History {
    pub source: Option<String>,
    /// Each series with its points: (month, count), in month order.
    pub series: Vec<(Series, Vec<(YearMonth, f64)>)>,
    /// Cost outturns: (financial year's label, pounds charged to the
    /// council's budget), in year order.
    pub cost: Vec<(String, f64)>,
}

/// Rounds an exact amount of pounds to whole pence (half away from zero).
pub fn decimal_to_pence(amount: Decimal) -> i64 {
    use rust_decimal::prelude::ToPrimitive;
    (amount * Decimal::ONE_HUNDRED)
        .round_dp_with_strategy(0, rust_decimal::RoundingStrategy::MidpointAwayFromZero)
        .to_i64()
        .unwrap_or(i64::MAX)
}
