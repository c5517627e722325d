//! The uncertain inputs of a model, one by one: what sensitivity analysis
//! holds at a percentile and what contribution to variance ranks.
//!
//! An input is anything drawn once per run that the config makes uncertain:
//! every distribution (unit prices, inflation, entry rate and dispersion,
//! stays, move rates, intervention effects, savings delivery, cost lines,
//! shock sizes) and every chance event (an intervention delivered or not, a
//! saving slipping a year, the number of shocks over the horizon). Each is
//! named by its config path, e.g. `placement.ifa.weekly_cost`.
//!
//! A [`Pin`] holds one input at a value in every run while everything else
//! stays random on its own streams, so the difference a pin makes is
//! measured with common random numbers.

use serde::{Deserialize, Serialize};

use crate::model::draws::path_key;
use crate::model::strategy::{ShockTiming, chances_by_year};
use crate::model::{Model, ParamId};

/// What an input's value measures, so that reports can write it with its
/// unit: set where the config is validated, by the field the input comes
/// from.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Unit {
    /// A number with no unit (a dispersion).
    #[default]
    Number,
    /// Pounds: a cost line's, an investment's or an income's amount in a
    /// financial year, a payment by results.
    Pounds,
    /// Pounds a week: a placement's price, an income a child's week, a
    /// change in a price.
    PoundsAWeek,
    /// Pounds a night.
    PoundsANight,
    /// Pounds a year: the cost of a post.
    PoundsAYear,
    /// A fraction shown as a percentage: a share, a success rate, a
    /// vacancy rate, the share of a saving delivered.
    Share,
    /// A fraction a year shown as a percentage: inflation, a trend, an
    /// annual probability of leaving care or of a move.
    ShareAYear,
    /// A mean stay in months.
    Months,
    /// Children (the size of a shock).
    Children,
    /// Children (or places) a year: entrants, a programme's effect.
    AYear,
    /// Families a programme works with.
    Families,
    /// Children a family.
    ChildrenAFamily,
    /// Children a worker.
    ChildrenAWorker,
    /// Full-time-equivalent posts.
    Posts,
    /// A factor on a rate or a price.
    Factor,
    /// Whether a programme is delivered: 0 or 1.
    Delivered,
    /// Whether a saving slips a year: 0 or 1.
    Slipped,
    /// How many times a shock happens over the horizon.
    Times,
}

/// What kind of draw an input is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InputKind {
    /// A distribution drawn once per run.
    Param(ParamId),
    /// The size of shock `s`, drawn each time it happens; a run records the
    /// shock's entrants over the horizon.
    ShockSize(usize),
    /// Whether intervention `i` is delivered (1) or not (0).
    Delivery(usize),
    /// Whether saving `k` slips a year (1) or not (0).
    Slip(usize),
    /// How many times shock `s` (with a probability per year) happens over
    /// the horizon: Binomial(years, probability).
    ShockCount(usize),
}

/// One uncertain input.
#[derive(Clone, Debug)]
pub struct Input {
    /// The config path naming it.
    pub path: String,
    pub kind: InputKind,
    /// Hash of the path: how a [`Pin`] finds it.
    pub key: u64,
}

/// One input held at `value`, its `level` quantile, in every run.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Pin {
    pub key: u64,
    pub value: f64,
    pub level: f64,
}

impl Input {
    fn new(path: String, kind: InputKind) -> Input {
        Input {
            key: path_key(&path),
            path,
            kind,
        }
    }

    /// The input's quantile at `level` (the least value v with
    /// P(input ≤ v) ≥ level).
    pub fn quantile(&self, model: &Model, level: f64) -> f64 {
        let bernoulli = |p: f64| if level <= 1.0 - p { 0.0 } else { 1.0 };
        match self.kind {
            InputKind::Param(id) => model.param(id).dist.quantile(level),
            InputKind::ShockSize(s) => {
                let d = &model.param(model.strategy.shocks[s].children).dist;
                d.quantile(level).round()
            }
            InputKind::Delivery(i) => {
                bernoulli(model.strategy.interventions[i].delivery_probability)
            }
            InputKind::Slip(k) => bernoulli(model.strategy.savings[k].slip_probability),
            InputKind::ShockCount(s) => match model.strategy.shocks[s].timing {
                ShockTiming::PerYear(p) => {
                    count_quantile(&chances_by_year(p, &model.calendar), level)
                }
                ShockTiming::Month(_, p) | ShockTiming::Once(p) => bernoulli(p),
            },
        }
    }

    /// What the input's value measures.
    pub fn unit(&self, model: &Model) -> Unit {
        match self.kind {
            InputKind::Param(id) => model.param(id).unit,
            InputKind::ShockSize(_) => Unit::Children,
            InputKind::Delivery(_) => Unit::Delivered,
            InputKind::Slip(_) => Unit::Slipped,
            InputKind::ShockCount(_) => Unit::Times,
        }
    }

    /// Whether the input is an event that happens or not in a run (a
    /// programme delivered, a saving slipping, a shock happening).
    pub fn is_event(&self) -> bool {
        matches!(
            self.kind,
            InputKind::Delivery(_) | InputKind::Slip(_) | InputKind::ShockCount(_)
        )
    }

    /// The two values the tornado holds the input at: its P10 and P90, or,
    /// for an event whose P10 and P90 are the same (a programme delivered
    /// with probability 0.95, a shock at 0.05), "does not happen" (0) and
    /// "happens" (1); true in the second case.
    pub fn tornado_pins(&self, model: &Model, low: f64, high: f64) -> (Pin, Pin, bool) {
        let (lo, hi) = (self.pin_at(model, low), self.pin_at(model, high));
        if self.is_event() && lo.value == hi.value {
            let at = |value: f64, level: f64| Pin {
                key: self.key,
                value,
                level,
            };
            return (at(0.0, low), at(1.0, high), true);
        }
        (lo, hi, false)
    }

    /// The pin holding this input at its `level` quantile.
    pub fn pin_at(&self, model: &Model, level: f64) -> Pin {
        Pin {
            key: self.key,
            value: self.quantile(model, level),
            level,
        }
    }
}

/// The path naming whether intervention `id` is delivered.
pub fn delivery_path(id: &str) -> String {
    format!("intervention.{id}.delivery_probability")
}

/// The path naming whether saving `id` slips a year.
pub fn slip_path(id: &str) -> String {
    format!("saving.{id}.slip_probability")
}

/// The path naming how many times shock `id` happens.
pub fn shock_count_path(id: &str) -> String {
    format!("shock.{id}.probability_per_year")
}

/// The `level` quantile of the number of independent events with chances
/// `chances` (a binomial when they are equal).
fn count_quantile(chances: &[f64], level: f64) -> f64 {
    // pmf[r]: the chance of exactly r events among the years so far.
    let mut pmf = vec![1.0];
    for &c in chances {
        let mut next = vec![0.0; pmf.len() + 1];
        for (r, &q) in pmf.iter().enumerate() {
            next[r] += q * (1.0 - c);
            next[r + 1] += q * c;
        }
        pmf = next;
    }
    let mut cdf = 0.0;
    for (k, q) in pmf.iter().enumerate() {
        cdf += q;
        if cdf >= level {
            return k as f64;
        }
    }
    chances.len() as f64
}

impl Model {
    /// Every input that varies from run to run, in a fixed order: the
    /// distributions in the order of the config, then deliveries, slips
    /// and shock counts.
    pub fn inputs(&self) -> Vec<Input> {
        let strategy = &self.strategy;
        let mut out = Vec::new();
        for (i, param) in self.params.iter().enumerate() {
            if param.dist.is_fixed() {
                continue;
            }
            let kind = match strategy.shocks.iter().position(|s| s.children.0 == i) {
                Some(s) => InputKind::ShockSize(s),
                None => InputKind::Param(ParamId(i)),
            };
            out.push(Input::new(param.path.clone(), kind));
        }
        for (i, iv) in strategy.interventions.iter().enumerate() {
            if iv.delivery_probability > 0.0 && iv.delivery_probability < 1.0 {
                out.push(Input::new(delivery_path(&iv.id), InputKind::Delivery(i)));
            }
        }
        for (k, saving) in strategy.savings.iter().enumerate() {
            if saving.slip_probability > 0.0 && saving.slip_probability < 1.0 {
                out.push(Input::new(slip_path(&saving.id), InputKind::Slip(k)));
            }
        }
        for (s, shock) in strategy.shocks.iter().enumerate() {
            let p = match shock.timing {
                ShockTiming::PerYear(p) | ShockTiming::Month(_, p) | ShockTiming::Once(p) => p,
            };
            if p > 0.0 && p < 1.0 {
                out.push(Input::new(
                    shock_count_path(&shock.id),
                    InputKind::ShockCount(s),
                ));
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binomial_quantiles_by_hand() {
        // Binomial(4, 0.1): P(0) = 0.6561, P(≤1) = 0.9477, P(≤2) = 0.9963.
        let four = [0.1; 4];
        assert_eq!(count_quantile(&four, 0.1), 0.0);
        assert_eq!(count_quantile(&four, 0.6561), 0.0);
        assert_eq!(count_quantile(&four, 0.66), 1.0);
        assert_eq!(count_quantile(&four, 0.9), 1.0);
        assert_eq!(count_quantile(&four, 0.99), 2.0);
        // Chances 0.5 and 0.2: P(0) = 0.4, P(1) = 0.5, P(2) = 0.1.
        assert_eq!(count_quantile(&[0.5, 0.2], 0.4), 0.0);
        assert_eq!(count_quantile(&[0.5, 0.2], 0.41), 1.0);
        assert_eq!(count_quantile(&[0.5, 0.2], 0.95), 2.0);
    }
}
