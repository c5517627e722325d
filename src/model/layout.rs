//! Where each output of a run sits in its row of results.
//!
//! A run writes one row of `f64`: a block per financial year, then a block
//! per month. Money is in pounds, already rounded to pence, so that the
//! components of a year add up exactly to its total.

use crate::model::Model;

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
}

const YEAR_FIXED: usize = 5;

#[derive(Clone, Debug)]
pub struct Layout {
    pub years: usize,
    pub months: usize,
    pub placements: usize,
    /// Components of cost: placements, cost lines, then care leavers.
    pub components: Vec<Component>,
    /// Age bands reported by month (none when ages are not tracked).
    pub bands: usize,
    year_width: usize,
    month_width: usize,
}

#[derive(Clone, Debug)]
pub struct Component {
    pub id: String,
    pub label: String,
}

impl Layout {
    pub fn new(model: &Model) -> Layout {
        let mut components: Vec<Component> = model
            .placements
            .iter()
            .map(|p| Component {
                id: p.id.clone(),
                label: p.label.clone(),
            })
            .collect();
        components.extend(model.cost_lines.iter().map(|l| Component {
            id: l.id.clone(),
            label: l.label.clone(),
        }));
        if let Some(c) = &model.care_leavers {
            components.push(Component {
                id: "care_leavers".into(),
                label: c.label.clone(),
            });
        }
        let placements = model.placements.len();
        let bands = if model.ages.tracked {
            model.ages.bands.len()
        } else {
            0
        };
        Layout {
            years: model.calendar.years.len(),
            months: model.calendar.months.len(),
            placements,
            year_width: YEAR_FIXED + components.len(),
            month_width: 1 + placements + bands,
            components,
            bands,
        }
    }

    /// Values in one run's row.
    pub fn width(&self) -> usize {
        self.years * self.year_width + self.months * self.month_width
    }

    pub fn year(&self, fy: usize, field: YearField) -> usize {
        fy * self.year_width + field as usize
    }

    pub fn component(&self, fy: usize, c: usize) -> usize {
        fy * self.year_width + YEAR_FIXED + c
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
