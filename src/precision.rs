//! Precision-driven runs (`carecast run --precision`): keep adding batches
//! of runs until the Monte Carlo error of the headline figures is inside a
//! target, or a maximum number of runs is reached.
//!
//! # What is checked
//! For every scenario and financial year: the 95% intervals of the cost's
//! P50 and P90 (order statistics) and of P(overspend) (Wilson), as defined
//! in [`crate::stats`]. A target bounds the **half-width**: an interval
//! `[lo, hi]` around the estimate `x` meets a target `t` when
//! `max(x − lo, hi − x) ≤ t`, i.e. the interval lies within `x ± t`.
//! - `0.5%`: money half-widths within 0.5% of that year's budget, and
//!   P(overspend) within 0.5 percentage points (unless `pt` says otherwise).
//!   A year without a budget (0) has no money check from a percentage, and
//!   no P(overspend) check: against no budget every run overspends, so
//!   there is nothing to estimate.
//! - `£50k` (any money form a config accepts): money half-widths within £50k.
//! - `1pt`: P(overspend) within 1 percentage point.
//! - A comma-separated combination, e.g. `£50k,1pt`: every part must hold.
//!
//! # Batches
//! The first batch is `--runs` (1,000 by default). After each batch, with
//! `r` the largest ratio of a half-width to what its target allows, the next
//! total is `⌈n · min(1.1·r², 16)⌉` runs — half-widths shrink as `1/√n`, so
//! `n·r²` is the estimate of the runs needed and 1.1 a margin — at least
//! `n + first batch`, and never more than `--max-runs`. The rule reads only
//! the results, and run i always draws from the streams keyed by
//! `(seed, i, …)`, so the outcome — and every byte of the results — is the
//! same as a plain run of the final number of runs, whatever the threads.
//! Each batch adds runs `[n, next)` to the same mergeable results
//! ([`crate::results`]): memory does not grow with the runs.

use serde::{Deserialize, Serialize};

use crate::config::Config;
use crate::config::money::parse_amount;
use crate::engine;
use crate::error::Error;
use crate::model::layout::YearField;
use crate::report::cost_figures;
use crate::results::{Plan, Results};
use crate::stats::round_dp;

/// Runs in the first batch when `--runs` is not given.
pub const FIRST_BATCH: u64 = 1000;
/// The most runs `--max-runs` defaults to.
pub const DEFAULT_MAX_RUNS: u64 = 1_000_000;
/// The most a batch may multiply the runs by.
const MAX_GROWTH: f64 = 16.0;
/// Margin on the estimated runs needed.
const MARGIN: f64 = 1.1;

/// A validated precision target (see the module docs).
#[derive(Clone, Debug, PartialEq)]
pub struct Target {
    /// As written on the command line.
    pub text: String,
    /// Money half-widths as a share of the year's budget (0.005 for 0.5%).
    pub budget_share: Option<f64>,
    /// Money half-widths in pounds.
    pub money: Option<f64>,
    /// P(overspend) half-width as a probability (0.01 for 1 point).
    pub probability: Option<f64>,
}

const EXPECTED: &str = "a share of the budget such as 0.5%, an amount such as £50k, points of \
                        probability such as 1pt, or a comma-separated combination such as £50k,1pt";

impl Target {
    /// Parses `--precision`; the error says what was expected.
    pub fn parse(text: &str) -> Result<Target, String> {
        let bad = |why: String| format!("--precision {text:?}: {why}; expected {EXPECTED}");
        // Split on commas, gluing thousands groups back on: `£50,000,1pt`.
        let mut parts: Vec<String> = Vec::new();
        for piece in text.split(',') {
            let piece = piece.trim();
            let glue = piece.len() >= 3
                && piece.as_bytes()[..3].iter().all(u8::is_ascii_digit)
                && piece.as_bytes().get(3).is_none_or(|b| !b.is_ascii_digit())
                && parts
                    .last()
                    .is_some_and(|p| p.ends_with(|c: char| c.is_ascii_digit()));
            match parts.last_mut() {
                Some(last) if glue => {
                    last.push(',');
                    last.push_str(piece);
                }
                _ => parts.push(piece.to_string()),
            }
        }
        let mut target = Target {
            text: text.to_string(),
            budget_share: None,
            money: None,
            probability: None,
        };
        let mut share_probability = None;
        for part in &parts {
            if part.is_empty() {
                return Err(bad("an empty part".into()));
            }
            let lower = part.to_ascii_lowercase();
            let number = |digits: &str| -> Result<f64, String> {
                digits
                    .trim()
                    .parse::<f64>()
                    .ok()
                    .filter(|x| x.is_finite())
                    .ok_or_else(|| bad(format!("{part:?} is not a number")))
            };
            if let Some(digits) = lower
                .strip_suffix("pts")
                .or_else(|| lower.strip_suffix("pt"))
            {
                let x = number(digits)?;
                if !(x > 0.0 && x < 100.0) {
                    return Err(bad(format!(
                        "{part:?} must be above 0 and below 100 points"
                    )));
                }
                if target.probability.replace(x / 100.0).is_some() {
                    return Err(bad("points given twice".into()));
                }
            } else if let Some(digits) = lower.strip_suffix('%') {
                let x = number(digits)?;
                if !(x > 0.0 && x < 100.0) {
                    return Err(bad(format!("{part:?} must be above 0% and below 100%")));
                }
                if target.budget_share.replace(x / 100.0).is_some() {
                    return Err(bad("a percentage given twice".into()));
                }
                share_probability = Some(x / 100.0);
            } else {
                use rust_decimal::prelude::ToPrimitive;
                let amount = parse_amount(part).map_err(bad)?;
                let x = amount.to_f64().unwrap_or(0.0);
                if x <= 0.0 {
                    return Err(bad(format!("{part:?} must be more than £0")));
                }
                if target.money.replace(x).is_some() {
                    return Err(bad("an amount given twice".into()));
                }
            }
        }
        if target.probability.is_none() {
            target.probability = share_probability;
        }
        Ok(target)
    }

    /// What a money half-width may be in a year with this budget (pounds);
    /// `None` when nothing bounds it.
    fn money_allowed(&self, budget: f64) -> Option<f64> {
        let share = self
            .budget_share
            .filter(|_| budget > 0.0)
            .map(|s| s * budget);
        match (share, self.money) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }
}

/// How a precision-driven run ended (the JSON's `precision`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Precision {
    /// The target as written (`0.5%`, `£50k,1pt`).
    pub target: String,
    /// Money half-widths allowed as a share of each year's budget.
    pub budget_share: Option<f64>,
    /// Money half-widths allowed, in pounds.
    pub money: Option<f64>,
    /// P(overspend) half-width allowed, as a probability.
    pub probability: Option<f64>,
    /// Whether every interval checked is inside its target.
    pub met: bool,
    /// Runs simulated (per scenario): the `runs` of the report.
    pub runs: u64,
    pub max_runs: u64,
    /// Total runs after each batch.
    pub batches: Vec<u64>,
    /// The figure whose interval is widest compared with its target after
    /// the last batch; null when no figure is checked.
    pub limiting: Option<Limiting>,
}

/// One checked figure: where it is, its half-width and what was allowed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Limiting {
    pub scenario: String,
    pub fy: String,
    /// `cost.p50`, `cost.p90` or `overspend.probability`.
    pub figure: String,
    /// Half-width of the 95% interval (pounds, or a probability); null when
    /// the runs are still too few to bound the interval.
    pub half_width: Option<f64>,
    pub allowed: f64,
}

/// How far the results are from the target.
#[derive(Clone, Debug, PartialEq)]
pub struct Assessment {
    /// The largest half-width / allowed over every figure checked (0 when
    /// none is checked; infinite when an interval is unbounded).
    pub ratio: f64,
    pub limiting: Option<Limiting>,
}

impl Assessment {
    pub fn met(&self) -> bool {
        self.ratio <= 1.0
    }
}

/// Checks the cost P50, P90 and P(overspend) of every year of every
/// scenario against the target, from the figures exactly as reported.
pub fn assess(config: &Config, plan: &Plan, results: &Results, target: &Target) -> Assessment {
    let mut worst = Assessment {
        ratio: 0.0,
        limiting: None,
    };
    for ((scenario, plan), runs) in config
        .scenarios
        .iter()
        .zip(&plan.scenarios)
        .zip(&results.scenarios)
    {
        let model = &scenario.model;
        let layout = &plan.layout;
        for fy in 0..layout.years {
            let (cost, overspend) = cost_figures(&runs.columns[layout.year(fy, YearField::Cost)]);
            // Without a budget (none in the config, or zero) there is no
            // share of it to aim at and no overspend to estimate.
            let budget = model.budget_pence(fy).map_or(0.0, |b| b as f64 / 100.0);
            let mut checks = Vec::new();
            if let Some(allowed) = target.money_allowed(budget) {
                checks.push(("cost.p50", cost.p50_interval().half_width(), allowed));
                checks.push(("cost.p90", cost.p90_interval().half_width(), allowed));
            }
            if let (Some(allowed), Some(o)) =
                (target.probability.filter(|_| budget > 0.0), &overspend)
            {
                checks.push((
                    "overspend.probability",
                    o.probability_interval().half_width(),
                    allowed,
                ));
            }
            for (figure, half_width, allowed) in checks {
                let ratio = half_width / allowed;
                // Money to the penny, as everywhere in the report.
                let tidy = |x: f64| {
                    if figure.starts_with("cost") {
                        round_dp(x, 2)
                    } else {
                        x
                    }
                };
                if worst.limiting.is_none() || ratio > worst.ratio {
                    worst = Assessment {
                        ratio,
                        limiting: Some(Limiting {
                            scenario: scenario.id.clone(),
                            fy: model.calendar.years[fy].label.clone(),
                            figure: figure.to_string(),
                            half_width: half_width.is_finite().then(|| tidy(half_width)),
                            allowed: tidy(allowed),
                        }),
                    };
                }
            }
        }
    }
    worst
}

/// The total runs after the next batch (see the module docs).
pub fn next_runs(runs: u64, ratio: f64, first: u64, max_runs: u64) -> u64 {
    let growth = if ratio.is_finite() {
        (MARGIN * ratio * ratio).min(MAX_GROWTH)
    } else {
        MAX_GROWTH
    };
    let wanted = (runs as f64 * growth).ceil() as u64;
    wanted.max(runs.saturating_add(first)).min(max_runs)
}

/// Simulates every scenario in batches until `target` is met or `max_runs`
/// are done (on the current rayon pool). Returns the runs and how it ended.
pub fn run(
    config: &Config,
    plan: Plan,
    seed: u64,
    target: &Target,
    first: u64,
    max_runs: u64,
    progress: &(dyn Fn(u64, u64) + Sync),
) -> Result<(Plan, Results, Precision), Error> {
    let mut results = plan.empty();
    let mut batches = Vec::new();
    let mut runs = first.min(max_runs);
    loop {
        let more = engine::tally(config, &plan, seed, results.runs..runs, &|n| {
            progress(n, runs)
        })?;
        results.absorb(more);
        batches.push(runs);
        let assessment = assess(config, &plan, &results, target);
        if assessment.met() || runs >= max_runs {
            let precision = Precision {
                target: target.text.clone(),
                budget_share: target.budget_share,
                money: target.money,
                probability: target.probability,
                met: assessment.met(),
                runs,
                max_runs,
                batches,
                limiting: assessment.limiting,
            };
            return Ok((plan, results, precision));
        }
        runs = next_runs(runs, assessment.ratio, first, max_runs);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(text: &str) -> Target {
        Target::parse(text).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn targets_read_as_written() {
        let half = t("0.5%");
        assert_eq!(half.budget_share, Some(0.005));
        assert_eq!(half.probability, Some(0.005));
        assert_eq!(half.money, None);
        let money = t("£50k");
        assert_eq!((money.money, money.probability), (Some(50_000.0), None));
        assert_eq!(t("1pt").probability, Some(0.01));
        let both = t("£50,000, 2pts");
        assert_eq!((both.money, both.probability), (Some(50_000.0), Some(0.02)));
        // Points given beside a percentage take over the probability.
        let mixed = t("1%,0.25pt");
        assert_eq!(
            (mixed.budget_share, mixed.probability),
            (Some(0.01), Some(0.0025))
        );
        assert_eq!(t("£1,250,000,1pt").money, Some(1_250_000.0));
    }

    #[test]
    fn bad_targets_say_what_was_expected() {
        for (text, why) in [
            ("", "empty"),
            ("abc", "is not a number"),
            ("0%", "above 0%"),
            ("150%", "below 100%"),
            ("-1pt", "above 0"),
            ("£0", "more than £0"),
            ("1pt,2pt", "twice"),
            ("£5k,£6k", "twice"),
            ("1%,", "empty"),
            ("xpt", "not a number"),
            ("£5k,100pt", "below 100 points"),
        ] {
            let e = Target::parse(text).unwrap_err();
            assert!(e.contains(why) && e.contains("expected"), "{text}: {e}");
        }
    }

    #[test]
    fn a_year_without_a_budget_has_no_percentage_money_check() {
        assert_eq!(t("1%").money_allowed(0.0), None);
        assert_eq!(t("1%").money_allowed(2e6), Some(20_000.0));
        assert_eq!(t("1%,£5k").money_allowed(2e6), Some(5_000.0));
        assert_eq!(t("1%,£5k").money_allowed(0.0), Some(5_000.0));
    }

    #[test]
    fn batches_grow_with_the_squared_ratio_within_bounds() {
        // Twice too wide: about 4.4 times the runs.
        assert_eq!(next_runs(1000, 2.0, 1000, 1_000_000), 4400);
        // Nearly there: at least one more first batch.
        assert_eq!(next_runs(10_000, 1.01, 1000, 1_000_000), 11_222);
        assert_eq!(next_runs(10_000, 1.01, 5000, 1_000_000), 15_000);
        // Far off or unbounded: at most 16 times; never past the maximum.
        assert_eq!(next_runs(1000, 100.0, 1000, 1_000_000), 16_000);
        assert_eq!(next_runs(1000, f64::INFINITY, 1000, 1_000_000), 16_000);
        assert_eq!(next_runs(1000, 100.0, 1000, 5000), 5000);
    }
}
