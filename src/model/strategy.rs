//! The strategy: interventions, shocks, savings plans and
//! investments, as validated model types, and how each acts in a month.

use rust_decimal::Decimal;

use crate::model::{LineAmount, ParamId};

pub use crate::model::finance::Charge;

/// The size of an intervention's effect per year at full capacity, drawn
/// once per run.
#[derive(Clone, Copy, Debug)]
pub enum EffectSize {
    PerYear(ParamId),
    /// Families worked with × success rate × children per family.
    Product {
        families: ParamId,
        success_rate: ParamId,
        children_per_family: ParamId,
    },
}

/// A change to a weekly cost.
#[derive(Clone, Copy, Debug)]
pub enum UnitChange {
    /// Pounds a week added (negative for a reduction).
    Add(ParamId),
    /// A factor applied to the weekly cost.
    Factor(ParamId),
}

/// The children an exit programme works with, by how long they have been
/// in their current period of care: at least `more_than` and less than
/// `less_than` days (0 and infinity when the config gives no limit).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CareSpan {
    pub more_than: f64,
    pub less_than: f64,
}

impl CareSpan {
    /// Every child, whatever its time in care.
    pub const ALL: CareSpan = CareSpan {
        more_than: 0.0,
        less_than: f64::INFINITY,
    };

    pub fn is_all(&self) -> bool {
        *self == CareSpan::ALL
    }

    /// Whether a child `days` into its period of care is one of them.
    #[inline]
    pub fn contains(&self, days: f64) -> bool {
        days >= self.more_than && days < self.less_than
    }
}

/// What an intervention does.
#[derive(Clone, Debug)]
pub enum Effect {
    /// Entrants prevented per year, among entrants of the given bands meant
    /// for the given placements.
    PreventEntry {
        size: EffectSize,
        bands: Vec<bool>,
        placements: Vec<bool>,
    },
    /// Extra exits per year from the given placements, of children whose
    /// time in care is within `span`.
    Exit {
        size: EffectSize,
        from: Vec<bool>,
        span: CareSpan,
    },
    /// Moves per year from one placement to another, into free places only.
    StepDown {
        size: EffectSize,
        from: usize,
        to: usize,
    },
    /// Places added per year to a capacity-limited placement.
    Capacity { size: EffectSize, placement: usize },
    /// A change to a placement's weekly cost.
    UnitCost {
        placement: usize,
        change: UnitChange,
    },
}

impl Effect {
    pub fn kind(&self) -> &'static str {
        match self {
            Effect::PreventEntry { .. } => "prevent_entry",
            Effect::Exit { .. } => "exit",
            Effect::StepDown { .. } => "step_down",
            Effect::Capacity { .. } => "capacity",
            Effect::UnitCost { .. } => "unit_cost",
        }
    }

    pub fn size(&self) -> Option<EffectSize> {
        match self {
            Effect::PreventEntry { size, .. }
            | Effect::Exit { size, .. }
            | Effect::StepDown { size, .. }
            | Effect::Capacity { size, .. } => Some(*size),
            Effect::UnitCost { .. } => None,
        }
    }
}

#[derive(Clone, Debug)]
pub struct Intervention {
    pub id: String,
    pub label: String,
    pub effect: Effect,
    /// First active month (index from the horizon start; negative when the
    /// programme started before it).
    pub start: i64,
    /// Months to reach full effect (0: full from the start).
    pub ramp_up_months: u32,
    /// First month no longer active.
    pub end: Option<i64>,
    /// Full-year running cost per financial year.
    pub cost_per_year: Vec<LineAmount>,
    /// The fund and budget line its cost is charged to.
    pub funding: Charge,
    /// Probability that the programme is delivered at all in a run.
    pub delivery_probability: f64,
    /// Key of the programme's random streams (hash of `intervention.<id>`).
    pub key: u64,
}

impl Intervention {
    /// Whether the programme runs in month `t`.
    pub fn active(&self, t: usize) -> bool {
        let t = t as i64;
        t >= self.start && self.end.is_none_or(|e| t < e)
    }

    /// Share of full effect in month `t`: rising linearly over the ramp-up
    /// (1/R in the first month, 2/R in the second, …), 0 when inactive.
    pub fn ramp(&self, t: usize) -> f64 {
        if !self.active(t) {
            return 0.0;
        }
        let months_in = (t as i64 - self.start + 1) as f64;
        if self.ramp_up_months == 0 {
            1.0
        } else {
            (months_in / self.ramp_up_months as f64).min(1.0)
        }
    }
}

/// When a shock can happen.
#[derive(Clone, Copy, Debug)]
pub enum ShockTiming {
    /// With this probability in each financial year, in a month drawn
    /// uniformly within the year.
    PerYear(f64),
    /// In this month (index from the horizon start), with this
    /// probability (1 for a certain shock).
    Month(i64, f64),
    /// At most once in the horizon: with this probability, in a month drawn
    /// uniformly over the horizon.
    Once(f64),
}

/// The chance that a shock with chance `p` a year happens in a financial
/// year of `months` months: `p` in a full year; in a partial year, that of
/// the same constant hazard over its share of a year, 1 − (1 − p)^(months / 12).
pub fn chance_in_year(p: f64, months: usize) -> f64 {
    if months >= 12 || p <= 0.0 || p >= 1.0 {
        p.clamp(0.0, 1.0)
    } else {
        1.0 - (1.0 - p).powf(months as f64 / 12.0)
    }
}

/// [`chance_in_year`] for each financial year of `calendar`.
pub fn chances_by_year(p: f64, calendar: &crate::model::calendar::Calendar) -> Vec<f64> {
    calendar
        .years
        .iter()
        .map(|year| chance_in_year(p, year.months))
        .collect()
}

impl ShockTiming {
    /// The chance that the shock happens, when it happens at most once
    /// (`None` for a shock that may happen every year).
    pub fn once_probability(self) -> Option<f64> {
        match self {
            ShockTiming::Month(_, p) | ShockTiming::Once(p) => Some(p),
            ShockTiming::PerYear(_) => None,
        }
    }
}

#[derive(Clone, Debug)]
pub struct Shock {
    pub id: String,
    pub label: String,
    pub timing: ShockTiming,
    /// Extra entrants when the shock happens.
    pub children: ParamId,
    /// Months over which they arrive (equal shares, any remainder first).
    pub spread_months: usize,
    /// Share of the shock's entrants in each age band, and the placement
    /// mix of each band (one row for every band when a single mix is given).
    pub age_mix: Vec<f64>,
    pub mix: Vec<Vec<f64>>,
    /// Costs that come with the shock (legal costs, temporary posts): a
    /// full-year amount per financial year, accruing monthly for
    /// `cost_months` months from the month it happens, only in runs where
    /// it happens.
    pub cost_per_year: Vec<LineAmount>,
    pub cost_months: usize,
    pub funding: Charge,
    /// Key of the shock's random streams (hash of `shock.<id>`).
    pub key: u64,
}

impl Shock {
    /// Whether costs come with the shock.
    pub fn has_cost(&self) -> bool {
        self.cost_per_year
            .iter()
            .any(|a| !matches!(a, LineAmount::Exact(x) if x.is_zero()))
    }
}

#[derive(Clone, Debug)]
pub struct Saving {
    pub id: String,
    pub label: String,
    /// Planned saving per financial year, exact (full-year amounts).
    pub per_year: Vec<Decimal>,
    /// Fraction of the plan delivered in a run.
    pub delivery: ParamId,
    /// Probability that the whole plan slips by one year.
    pub slip_probability: f64,
    /// A recurrent saving's amounts are each year's full-year level, and a
    /// slip delays the whole profile by a year; a one-off saving's amount
    /// belongs to its year, and a slip loses it (it was not planned for the
    /// year it would land in).
    pub recurrent: bool,
    /// The fund whose spending it reduces, and its budget line.
    pub funding: Charge,
    /// Key of the slip's random stream (hash of `saving.<id>.slip`).
    pub slip_key: u64,
}

#[derive(Clone, Debug)]
pub struct Investment {
    pub id: String,
    pub label: String,
    pub per_year: Vec<LineAmount>,
    pub funding: Charge,
}

/// The strategy of a scenario.
#[derive(Clone, Debug, Default)]
pub struct Strategy {
    pub interventions: Vec<Intervention>,
    pub shocks: Vec<Shock>,
    pub savings: Vec<Saving>,
    pub investments: Vec<Investment>,
}

impl Strategy {
    /// Whether an exit programme chooses children by their time in care.
    pub fn selects_by_time_in_care(&self) -> bool {
        self.interventions
            .iter()
            .any(|iv| matches!(iv.effect, Effect::Exit { span, .. } if !span.is_all()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn programme(start: i64, ramp: u32, end: Option<i64>) -> Intervention {
        Intervention {
            id: "x".into(),
            label: "x".into(),
            effect: Effect::UnitCost {
                placement: 0,
                change: UnitChange::Add(ParamId(0)),
            },
            start,
            ramp_up_months: ramp,
            end,
            cost_per_year: vec![],
            funding: Charge::default(),
            delivery_probability: 1.0,
            key: 0,
        }
    }

    #[test]
    fn ramp_rises_linearly_and_stops_at_the_end() {
        let p = programme(6, 4, Some(20));
        let ramps: Vec<f64> = [5, 6, 7, 8, 9, 10, 19, 20]
            .iter()
            .map(|&t| p.ramp(t))
            .collect();
        assert_eq!(ramps, [0.0, 0.25, 0.5, 0.75, 1.0, 1.0, 1.0, 0.0]);
        assert_eq!(programme(-3, 0, None).ramp(0), 1.0);
        assert_eq!(programme(-3, 6, None).ramp(0), 4.0 / 6.0);
    }
}
