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
    /// Income credited to the council's budget (the cost compared with the
    /// budget is net of it).
    Income = 6,
    /// The cost charged to the council's budget before income.
    GrossCost = 7,
}

const YEAR_FIXED: usize = 8;

/// Per-year figures of each cohort.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CohortField {
    /// Its children in care at the end of the year.
    LacEnd = 0,
    /// Its children who entered care in the year.
    Entries = 1,
    /// Its children in care on an average day of the year.
    MeanInCare = 2,
    /// Income tied to it (`[[income]]` items with its `cohort`), whatever
    /// fund it is credited to.
    Income = 3,
}

const COHORT_FIELDS: usize = 4;

/// Where an item's money is written: a component of the cost compared with
/// the budget, or an item paid from another fund.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Slot {
    Component(usize),
    Grant(usize),
}

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
    /// Where each item is written, in the order of [`Layout::items`]:
    /// placements, cost lines, care leavers, staff, interventions,
    /// investments, savings, shock costs.
    pub slots: Vec<Slot>,
    pub interventions: usize,
    pub shocks: usize,
    /// Budget lines reported (the declared lines and `other`; none without
    /// declared lines).
    pub lines: usize,
    /// Funds other than the council's budget.
    pub funds: usize,
    pub incomes: usize,
    pub staff: usize,
    pub cohorts: usize,
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
    /// `placement`, `cost_line`, `care_leavers`, `staff`, `intervention`,
    /// `investment`, `saving` or `shock`.
    pub kind: &'static str,
    /// The fund it is charged to and its budget line.
    pub charge: crate::model::finance::Charge,
}

impl Layout {
    pub fn new(model: &Model) -> Layout {
        let mut components = Vec::new();
        let mut grants = Vec::new();
        let mut slots = Vec::new();
        for c in Layout::items(model) {
            if c.charge.fund == crate::model::finance::COUNCIL {
                slots.push(Slot::Component(components.len()));
                components.push(c);
            } else {
                slots.push(Slot::Grant(grants.len()));
                grants.push(c);
            }
        }
        let strategy = &model.strategy;
        let placements = model.placements.len();
        let bands = if model.ages.tracked {
            model.ages.bands.len()
        } else {
            0
        };
        let interventions = strategy.interventions.len();
        let shocks = strategy.shocks.len();
        let finance = &model.finance;
        let lines = if finance.lines.is_empty() {
            0
        } else {
            finance.lines.len() + 1
        };
        let funds = finance.funds.len() - 1;
        let incomes = finance.income.len();
        let staff = finance.staff.len();
        let cohorts = model.cohorts.len();
        Layout {
            years: model.calendar.years.len(),
            months: model.calendar.months.len(),
            placements,
            year_width: YEAR_FIXED
                + components.len()
                + grants.len()
                + 3 * interventions
                + shocks
                + lines
                + funds
                + incomes
                + 2 * staff
                + COHORT_FIELDS * cohorts,
            month_width: 1 + placements + bands + cohorts,
            components,
            grants,
            slots,
            interventions,
            shocks,
            lines,
            funds,
            incomes,
            staff,
            cohorts,
            bands,
            inputs: model.inputs(),
        }
    }

    /// Every item of cost, in a fixed order: placements, cost lines, care
    /// leavers, staff, interventions, investments, savings, shock costs.
    pub fn items(model: &Model) -> Vec<Component> {
        let component = |id: &str, label: &str, kind, charge| Component {
            id: id.to_string(),
            label: label.to_string(),
            kind,
            charge,
        };
        let f = &model.finance;
        let strategy = &model.strategy;
        let mut out: Vec<Component> = model
            .placements
            .iter()
            .enumerate()
            .map(|(p, pl)| {
                let charge = f.placement_charge.get(p).copied().unwrap_or_default();
                component(&pl.id, &pl.label, "placement", charge)
            })
            .collect();
        for (k, l) in model.cost_lines.iter().enumerate() {
            let charge = f.cost_line_charge.get(k).copied().unwrap_or_default();
            out.push(component(&l.id, &l.label, "cost_line", charge));
        }
        if let Some(c) = &model.care_leavers {
            out.push(component(
                "care_leavers",
                &c.label,
                "care_leavers",
                f.care_leavers_charge,
            ));
        }
        for st in &f.staff {
            out.push(component(&st.id, &st.label, "staff", st.charge));
        }
        for iv in &strategy.interventions {
            out.push(component(&iv.id, &iv.label, "intervention", iv.funding));
        }
        for inv in &strategy.investments {
            out.push(component(&inv.id, &inv.label, "investment", inv.funding));
        }
        for s in &strategy.savings {
            out.push(component(&s.id, &s.label, "saving", s.funding));
        }
        for sh in &strategy.shocks {
            if sh.has_cost() {
                out.push(component(&sh.id, &sh.label, "shock", sh.funding));
            }
        }
        out
    }

    /// Where item `k` (in the order of [`Layout::items`]) is written in year `fy`.
    pub fn item(&self, fy: usize, k: usize) -> usize {
        match self.slots[k] {
            Slot::Component(c) => self.component(fy, c),
            Slot::Grant(g) => self.grant(fy, g),
        }
    }

    /// Cost of budget line `l` in year `fy`: the declared lines in order,
    /// then `other`.
    pub fn line(&self, fy: usize, l: usize) -> usize {
        self.shock_entries(fy, self.shocks) + l
    }

    /// Net spending from fund `f` (1 onwards: the council's budget is the
    /// year's cost) in year `fy`.
    pub fn fund(&self, fy: usize, f: usize) -> usize {
        self.line(fy, self.lines) + f - 1
    }

    /// Income item `i` in year `fy`.
    pub fn income(&self, fy: usize, i: usize) -> usize {
        self.fund(fy, self.funds + 1) + i
    }

    /// Filled posts (FTE) of staff group `s` in year `fy`.
    pub fn staff_fte(&self, fy: usize, s: usize) -> usize {
        self.income(fy, self.incomes) + 2 * s
    }

    /// Of those, posts filled by agency workers.
    pub fn staff_agency(&self, fy: usize, s: usize) -> usize {
        self.staff_fte(fy, s) + 1
    }

    /// A figure of cohort `c` in year `fy`.
    pub fn cohort(&self, fy: usize, c: usize, field: CohortField) -> usize {
        self.staff_fte(fy, self.staff) + COHORT_FIELDS * c + field as usize
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

    /// Children of cohort `c` in care at the end of month `m`.
    pub fn lac_cohort(&self, m: usize, c: usize) -> usize {
        self.month_base(m) + 1 + self.placements + self.bands + c
    }
}
