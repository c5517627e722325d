//! The money councils report beside the cost of care: who pays for each
//! item (funds), which budget line it sits on, income tied to activity,
//! staffing, and the initiatives whose cost avoided is measured.
//!
//! Every cost component is charged to a fund. Fund 0 is the council's
//! budget (the envelope the budget is compared with); fund 1 is a generic
//! grant, and `[[fund]]`s add named grants, the Dedicated Schools Grant or
//! its high-needs block, reserves and capital receipts. Only what is charged
//! to fund 0 counts against the envelope; income credited to fund 0 reduces
//! the cost compared with it (net cost = gross cost − income).

use rust_decimal::Decimal;

use crate::model::{LineAmount, ParamId};

/// Index of the council's budget among the funds.
pub const COUNCIL: usize = 0;
/// Index of the generic grant (`funding = "grant"`).
pub const GRANT: usize = 1;

/// What a fund is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FundKind {
    Council,
    Grant,
    Dsg,
    HighNeeds,
    Reserve,
    CapitalReceipts,
}

impl FundKind {
    pub fn name(self) -> &'static str {
        match self {
            FundKind::Council => "council",
            FundKind::Grant => "grant",
            FundKind::Dsg => "dsg",
            FundKind::HighNeeds => "high_needs",
            FundKind::Reserve => "reserve",
            FundKind::CapitalReceipts => "capital_receipts",
        }
    }

    pub const NAMES: [&'static str; 5] =
        ["grant", "dsg", "high_needs", "reserve", "capital_receipts"];

    pub fn parse(s: &str) -> Option<FundKind> {
        Some(match s {
            "grant" => FundKind::Grant,
            "dsg" => FundKind::Dsg,
            "high_needs" => FundKind::HighNeeds,
            "reserve" => FundKind::Reserve,
            "capital_receipts" => FundKind::CapitalReceipts,
            _ => return None,
        })
    }
}

/// How much a fund holds.
#[derive(Clone, Debug)]
pub enum FundAmount {
    /// No amount given: spending is reported, never "exhausted".
    Unlimited,
    /// One amount for the whole horizon (a reserve, capital receipts).
    Total(Decimal),
    /// An amount per financial year (a grant, the DSG).
    PerYear(Vec<Decimal>),
}

#[derive(Clone, Debug)]
pub struct Fund {
    pub id: String,
    pub label: String,
    pub kind: FundKind,
    pub amount: FundAmount,
    /// Last month (index from the horizon start) in which the fund may be
    /// spent (capital receipts' flexibility).
    pub until: Option<i64>,
}

/// The funds every model has before any `[[fund]]`.
pub fn default_funds() -> Vec<Fund> {
    vec![
        Fund {
            id: "budget".into(),
            label: "Council budget".into(),
            kind: FundKind::Council,
            amount: FundAmount::Unlimited,
            until: None,
        },
        Fund {
            id: "grant".into(),
            label: "Grant".into(),
            kind: FundKind::Grant,
            amount: FundAmount::Unlimited,
            until: None,
        },
    ]
}

/// A line of the council budget (`[budget] lines`).
#[derive(Clone, Debug)]
pub struct BudgetLine {
    pub id: String,
    pub label: String,
    /// Full-year amounts, one per financial year.
    pub per_year: Vec<Decimal>,
}

/// Where an item's money goes: its fund and its budget line.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Charge {
    pub fund: usize,
    /// Index into [`Finance::lines`]; `None` for the remainder line `other`.
    pub line: Option<usize>,
}

/// What an income is paid for.
#[derive(Clone, Debug)]
pub enum IncomeBasis {
    /// A rate per child-week (or child-night) in the given placements (a
    /// mask), for every child or only for those of one cohort.
    PerChildWeek {
        placements: Vec<bool>,
        cohort: Option<usize>,
        rate: ChildRate,
    },
    /// A rate per week of care leavers' support, for every care leaver or
    /// only for those of one cohort.
    PerLeaverWeek {
        weekly: ParamId,
        cohort: Option<usize>,
    },
    /// Payment by results: outcomes attempted per year × success rate ×
    /// payment per success, each drawn once per run.
    PerOutcome {
        outcomes: Vec<LineAmount>,
        success_rate: ParamId,
        payment: ParamId,
    },
    /// A grant of a fixed amount per year.
    Fixed { per_year: Vec<LineAmount> },
}

/// What a child in care earns.
#[derive(Clone, Debug)]
pub enum ChildRate {
    /// Pounds a week.
    Weekly(ParamId),
    /// Pounds a night, per age band (`None` where the band earns nothing);
    /// by band only for a cohort's children, whose placement-days are
    /// counted by band.
    Nightly(Vec<Option<ParamId>>),
}

#[derive(Clone, Debug)]
pub struct Income {
    pub id: String,
    pub label: String,
    pub basis: IncomeBasis,
    /// Annual uplift of the weekly rates.
    pub inflation: ParamId,
    pub charge: Charge,
}

impl Income {
    /// The cohort it is paid for, if any.
    pub fn cohort(&self) -> Option<usize> {
        match self.basis {
            IncomeBasis::PerChildWeek { cohort, .. }
            | IncomeBasis::PerLeaverWeek { cohort, .. } => cohort,
            _ => None,
        }
    }
}

/// Posts and what they cost (`[[staff]]`).
#[derive(Clone, Debug)]
pub struct Staff {
    pub id: String,
    pub label: String,
    /// Posts (FTE) per financial year, or posts following demand.
    pub posts: Posts,
    /// Cost of a permanent and of an agency worker, per FTE per year.
    pub permanent_cost: ParamId,
    pub agency_cost: ParamId,
    /// Share of filled posts held by agency workers, per year.
    pub agency_share: Vec<ParamId>,
    /// Share of posts vacant (and unpaid).
    pub vacancy_rate: ParamId,
    /// Annual uplift of both costs.
    pub inflation: ParamId,
    pub charge: Charge,
}

#[derive(Clone, Debug)]
pub enum Posts {
    /// FTE per financial year.
    Fixed(Vec<ParamId>),
    /// One post per this many children in care (the year's average).
    PerChildren(ParamId),
}

/// An initiative whose cost avoided is measured: a group of interventions,
/// investments and savings removed together.
#[derive(Clone, Debug)]
pub struct Initiative {
    pub id: String,
    pub label: String,
    pub interventions: Vec<usize>,
    pub investments: Vec<usize>,
    pub savings: Vec<usize>,
}

/// The finance of a model.
#[derive(Clone, Debug)]
pub struct Finance {
    pub funds: Vec<Fund>,
    /// Declared budget lines (the remainder `other` is implicit).
    pub lines: Vec<BudgetLine>,
    pub income: Vec<Income>,
    pub staff: Vec<Staff>,
    pub initiatives: Vec<Initiative>,
    /// Charges of the items that are not part of the strategy.
    pub placement_charge: Vec<Charge>,
    pub cost_line_charge: Vec<Charge>,
    pub care_leavers_charge: Charge,
}

impl Default for Finance {
    fn default() -> Finance {
        Finance {
            funds: default_funds(),
            lines: Vec::new(),
            income: Vec::new(),
            staff: Vec::new(),
            initiatives: Vec::new(),
            placement_charge: Vec::new(),
            cost_line_charge: Vec::new(),
            care_leavers_charge: Charge::default(),
        }
    }
}

impl Finance {
    /// The id of budget line `line` (`other` for the remainder).
    pub fn line_id(&self, line: Option<usize>) -> &str {
        line.map_or("other", |l| self.lines[l].id.as_str())
    }
}

impl crate::model::Model {
    /// The same model without initiative `k`: its interventions,
    /// investments and savings removed. Every other draw keeps its stream
    /// (streams are keyed by ids and config paths), so run i of this model
    /// is run i of the full one with the initiative alone taken away.
    pub fn without_initiative(&self, k: usize) -> crate::model::Model {
        let initiative = &self.finance.initiatives[k];
        let mut m = self.clone();
        let keep = |list: &[usize], n: usize| -> Vec<bool> {
            (0..n).map(|i| !list.contains(&i)).collect()
        };
        let strategy = &mut m.strategy;
        let kept = keep(&initiative.interventions, strategy.interventions.len());
        let mut it = kept.iter();
        strategy
            .interventions
            .retain(|_| *it.next().unwrap_or(&true));
        let kept = keep(&initiative.investments, strategy.investments.len());
        let mut it = kept.iter();
        strategy.investments.retain(|_| *it.next().unwrap_or(&true));
        let kept = keep(&initiative.savings, strategy.savings.len());
        let mut it = kept.iter();
        strategy.savings.retain(|_| *it.next().unwrap_or(&true));
        m.finance.initiatives.clear();
        m
    }
}
