//! Where each output of a run sits in its row of results.
//!
//! A run writes one row of `f64`: a block per financial year, a block per
//! month, then the value each uncertain input took. Money is in pounds, already rounded to pence, so that the
//! components of a year add up exactly to its total.

use crate::model::Model;
use crate::model::inputs::Input;

/// Per-year figures, in the order of a year block.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum YearField {
    /// Total cost counted against the budget.
    Cost = 0,
    /// Children in care at the end of the year.
    LacEnd = 1,
    /// Children who entered care.
    Entries = 2,
    /// Children who left care, for any reason.
    Exits = 3,
    /// Of those, children who left on their 18th birthday.
    LeftAt18 = 4,
    /// Grant-funded spend, reported but not compared with the budget.
    GrantFunded = 5,
}

const YEAR_FIXED: usize = 6;

#[derive(Clone, Debug)]
pub struct Layout {
    pub years: usize,
    pub months: usize,
    pub placements: usize,
    /// Components of the cost compared with the budget, in this order:
    /// placements, cost lines, care leavers, budget-funded interventions and
    /// investments, then savings (negative).
    pub components: Vec<Component>,
    /// Grant-funded interventions and investments.
    pub grants: Vec<Component>,
    pub interventions: usize,
    pub shocks: usize,
    /// Age bands reported by month (none when ages are not tracked).
    pub bands: usize,
    /// The uncertain inputs, whose per-run values close the row.
    pub inputs: Vec<Input>,
    year_width: usize,
    month_width: usize,
}

#[derive(Clone, Debug)]
pub struct Component {
    pub id: String,
    pub label: String,
    /// `placement`, `cost_line`, `care_leavers`, `intervention`,
    /// `investment` or `saving`.
    pub kind: &'static str,
}

impl Layout {
    pub fn new(model: &Model) -> Layout {
        use crate::model::strategy::Funding;
        let component = |id: &str, label: &str, kind| Component {
            id: id.to_string(),
            label: label.to_string(),
            kind,
        };
        let strategy = &model.strategy;
        let mut components: Vec<Component> = model
            .placements
            .iter()
            .map(|p| component(&p.id, &p.label, "placement"))
            .collect();
        components.extend(
            model
                .cost_lines
                .iter()
                .map(|l| component(&l.id, &l.label, "cost_line")),
        );
        if let Some(c) = &model.care_leavers {
            components.push(component("care_leavers", &c.label, "care_leavers"));
        }
        let mut grants = Vec::new();
        for iv in &strategy.interventions {
            let c = component(&iv.id, &iv.label, "intervention");
            if iv.funding == Funding::Budget {
                components.push(c)
            } else {
                grants.push(c)
            }
        }
        for inv in &strategy.investments {
            let c = component(&inv.id, &inv.label, "investment");
            if inv.funding == Funding::Budget {
                components.push(c)
            } else {
                grants.push(c)
            }
        }
        components.extend(
            strategy
                .savings
                .iter()
                .map(|s| component(&s.id, &s.label, "saving")),
        );
        let placements = model.placements.len();
        let bands = if model.ages.tracked {
            model.ages.bands.len()
        } else {
            0
        };
        let interventions = strategy.interventions.len();
        let shocks = strategy.shocks.len();
        Layout {
            years: model.calendar.years.len(),
            months: model.calendar.months.len(),
            placements,
            year_width: YEAR_FIXED + components.len() + grants.len() + 3 * interventions + shocks,
            month_width: 1 + placements + bands,
            components,
            grants,
            interventions,
            shocks,
            bands,
            inputs: model.inputs(),
        }
    }

    /// Values in one run's row.
    pub fn width(&self) -> usize {
        self.years * self.year_width + self.months * self.month_width + self.inputs.len()
    }

    /// The value input `k` took in the run.
    pub fn input(&self, k: usize) -> usize {
        self.years * self.year_width + self.months * self.month_width + k
    }

    pub fn year(&self, fy: usize, field: YearField) -> usize {
        fy * self.year_width + field as usize
    }

    pub fn component(&self, fy: usize, c: usize) -> usize {
        fy * self.year_width + YEAR_FIXED + c
    }

    /// Grant-funded item `g` in year `fy`.
    pub fn grant(&self, fy: usize, g: usize) -> usize {
        self.component(fy, self.components.len() + g)
    }

    /// Children prevented, exited or moved (or places added) by intervention `i`.
    pub fn intervention_children(&self, fy: usize, i: usize) -> usize {
        self.grant(fy, self.grants.len() + 3 * i)
    }

    /// Running cost of intervention `i`, whatever its funding.
    pub fn intervention_cost(&self, fy: usize, i: usize) -> usize {
        self.intervention_children(fy, i) + 1
    }

    /// 1 when intervention `i` is delivered in the run.
    pub fn intervention_delivered(&self, fy: usize, i: usize) -> usize {
        self.intervention_children(fy, i) + 2
    }

    /// Entrants brought by shock `s`.
    pub fn shock_entries(&self, fy: usize, s: usize) -> usize {
        self.grant(fy, self.grants.len() + 3 * self.interventions + s)
    }

    fn month_base(&self, m: usize) -> usize {
        self.years * self.year_width + m * self.month_width
    }

    /// Children in care at the end of month `m`.
    pub fn lac(&self, m: usize) -> usize {
        self.month_base(m)
    }

    pub fn lac_placement(&self, m: usize, p: usize) -> usize {
        self.month_base(m) + 1 + p
    }

    pub fn lac_band(&self, m: usize, b: usize) -> usize {
        self.month_base(m) + 1 + self.placements + b
    }
}
