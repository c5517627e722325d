//! Turns the config as written ([`RawConfig`]) into the validated [`Model`].
//!
//! This is the one place where a config is checked: names resolve to
//! indices, shares sum to one, distributions get their parameters checked
//! against what the field means, and every message names the field path.

use std::collections::HashSet;

use indexmap::IndexMap;
use rust_decimal::Decimal;

use crate::config::limits::{self, Limit};
use crate::config::money::Number;
use crate::config::raw::*;
use crate::config::time_in_care;
use crate::dist::{Dist, Domain, RawDist};
use crate::error::FieldError;
use crate::model::inputs::Unit;
use crate::model::*;

pub(super) type Result<T> = std::result::Result<T, FieldError>;

/// Shares must sum to one within this tolerance.
const SHARE_TOLERANCE: f64 = 1e-6;
const DEFAULT_RUNS: u64 = 10_000;
const DEFAULT_SEED: u64 = 42;
/// The largest `simulation.seed` a config can hold: TOML integers are
/// signed 64-bit (`--seed` on the command line takes any `u64`).
pub const MAX_CONFIG_SEED: u64 = i64::MAX as u64;
pub const MAX_RUNS: u64 = 100_000_000;
/// A month-end count of children in `[history]`: more than England has in
/// care (about 84,000 in 2024), times ten.
const MAX_CHILDREN: f64 = 1_000_000.0;

pub(super) struct Builder {
    params: Vec<Param>,
}

impl Builder {
    pub(super) fn param(
        &mut self,
        raw: &RawDist,
        domain: Domain,
        unit: Unit,
        error_path: &str,
        key_path: String,
    ) -> Result<ParamId> {
        let dist = Dist::build(raw, domain, error_path)?;
        self.params.push(Param {
            path: key_path,
            dist,
            unit,
        });
        Ok(ParamId(self.params.len() - 1))
    }

    /// [`Builder::param`] for an optional input, fixed at `default` when
    /// the config leaves it out.
    pub(super) fn param_or(
        &mut self,
        raw: Option<&RawDist>,
        default: f64,
        domain: Domain,
        unit: Unit,
        error_path: &str,
        key_path: String,
    ) -> Result<ParamId> {
        match raw {
            Some(raw) => self.param(raw, domain, unit, error_path, key_path),
            None => Ok(self.fixed(default, unit, key_path)),
        }
    }

    /// An element's yearly inflation rate at `{path}.inflation` (key
    /// `{key}.inflation`): 0 when left out.
    pub(super) fn inflation(
        &mut self,
        raw: Option<&RawDist>,
        path: &str,
        key: &str,
    ) -> Result<ParamId> {
        self.param_or(
            raw,
            0.0,
            Domain::Rate,
            Unit::ShareAYear,
            &format!("{path}.inflation"),
            format!("{key}.inflation"),
        )
    }

    /// The distribution of an input built already.
    pub(super) fn dist(&self, id: ParamId) -> &Dist {
        &self.params[id.0].dist
    }

    pub(super) fn fixed(&mut self, value: f64, unit: Unit, key_path: String) -> ParamId {
        self.params.push(Param {
            path: key_path,
            dist: Dist::fixed(value),
            unit,
        });
        ParamId(self.params.len() - 1)
    }
}

pub(super) fn err<T>(path: impl Into<String>, message: impl ToString) -> Result<T> {
    Err(FieldError::new(path, message))
}

pub(super) fn check_id(id: &str, path: &str) -> Result<()> {
    if id.is_empty() {
        return err(path, "must not be empty");
    }
    if !id
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '+'))
    {
        return err(
            path,
            format!("{id:?} may use only ASCII letters (a–z, A–Z), digits (0–9), '_', '-' and '+'"),
        );
    }
    Ok(())
}

/// A whole number of children (or places) at `path`, within `limit`.
pub(super) fn whole_count(n: Number, path: &str, what: &str, limit: Limit) -> Result<f64> {
    let v = n.0;
    if !(v.is_finite() && v >= 0.0) {
        return err(path, format!("{what} must be 0 or more, got {v}"));
    }
    if v.fract() != 0.0 {
        return err(path, format!("{what} must be a whole number, got {v}"));
    }
    limit.check(v, path, &format!("{what} is"))?;
    Ok(v)
}

/// Checks a table of shares keyed by names from `names` and returns them in
/// the order of `names` (0 for names not given).
pub(super) fn shares(
    table: &IndexMap<String, Number>,
    names: &[&str],
    path: &str,
    what: &str,
) -> Result<Vec<f64>> {
    let mut out = vec![0.0; names.len()];
    for (key, value) in table {
        let Some(i) = names.iter().position(|n| n == key) else {
            return err(
                format!("{path}.{key}"),
                format!(
                    "unknown {what} {key:?}; expected one of {}",
                    names.join(", ")
                ),
            );
        };
        let v = value.0;
        if !(0.0..=1.0).contains(&v) {
            return err(
                format!("{path}.{key}"),
                format!("a share must be between 0 and 1, got {v}"),
            );
        }
        out[i] = v;
    }
    let total: f64 = out.iter().sum();
    if (total - 1.0).abs() > SHARE_TOLERANCE {
        return err(path, format!("shares must sum to 1, they sum to {total}"));
    }
    Ok(out)
}

/// Validates a config as written.
pub fn validate(raw: RawConfig) -> Result<Model> {
    build(raw, false)
}

/// Validates a scenario: the base with a scenario's patch applied. The
/// base has been validated already, so a `[[correlation]]` naming an input
/// that the scenario removed (a disabled programme) or fixed (a number in
/// place of a distribution) is dropped rather than refused.
pub fn validate_scenario(raw: RawConfig) -> Result<Model> {
    build(raw, true)
}

fn build(raw: RawConfig, scenario: bool) -> Result<Model> {
    let mut b = Builder { params: Vec::new() };

    if raw.name.trim().is_empty() {
        return err("name", "must not be empty");
    }

    let (default_runs, default_seed) = match &raw.simulation {
        Some(s) => {
            let runs = s.runs.unwrap_or(DEFAULT_RUNS);
            if runs == 0 || runs > MAX_RUNS {
                return err(
                    "simulation.runs",
                    format!("must be between 1 and {MAX_RUNS}, got {runs}"),
                );
            }
            let seed = s.seed.unwrap_or(DEFAULT_SEED);
            // The parser reads up to `u64::MAX`, but a TOML integer (and so
            // the same config read as a document, for scenarios or a
            // calibration base) stops at `i64::MAX`.
            if seed > MAX_CONFIG_SEED {
                return err(
                    "simulation.seed",
                    format!(
                        "{seed} is too large: {}",
                        limits::expected_at("simulation.seed")
                    ),
                );
            }
            (runs, seed)
        }
        None => (DEFAULT_RUNS, DEFAULT_SEED),
    };

    // Horizon.
    let start =
        YearMonth::parse(&raw.horizon.start).map_err(|m| FieldError::new("horizon.start", m))?;
    let years = raw.horizon.years;
    if !limits::YEARS.contains(&years) {
        return err(
            "horizon.years",
            format!(
                "must be between {} and {} financial years, got {years}",
                limits::YEARS.start(),
                limits::YEARS.end()
            ),
        );
    }
    let fy_start_month = raw.horizon.fy_start_month.unwrap_or(4);
    if !limits::FY_START_MONTH.contains(&fy_start_month) {
        return err(
            "horizon.fy_start_month",
            format!("must be a month number 1–12, got {fy_start_month}"),
        );
    }
    let calendar = Calendar::new(start, years as usize, fy_start_month as u32);

    // Budget, budget lines and funds: every item names where its money goes.
    let budget = match &raw.budget {
        None => None,
        Some(budget) => Some(budget_per_year(budget, &calendar)?),
    };
    let funds = crate::config::finance::funds(&raw, &calendar)?;
    let budget_lines = crate::config::finance::lines(&raw, &calendar, budget.as_ref())?;
    let charges = crate::config::finance::Charges {
        funds: &funds,
        lines: &budget_lines,
    };
    let mut placement_charge = Vec::new();
    let mut cost_line_charge = Vec::new();

    // Age bands.
    let ages = age_bands(&raw.age_band)?;
    let band_ids: Vec<&str> = ages.bands.iter().map(|b| b.id.as_str()).collect();

    // Placements.
    let mut seen = HashSet::new();
    for (i, p) in raw.placement.iter().enumerate() {
        check_id(&p.id, &format!("placement[{i}].id"))?;
        if !seen.insert(p.id.as_str()) {
            return err(
                format!("placement[{i}].id"),
                format!("placement {:?} is declared twice", p.id),
            );
        }
    }
    let placement_ids: Vec<&str> = raw.placement.iter().map(|p| p.id.as_str()).collect();
    let tic_raw = raw.exits.as_ref().and_then(|e| e.time_in_care.as_ref());
    let tic_bands = match tic_raw {
        Some(t) => Some(time_in_care::bounds(t)?.len()),
        None => None,
    };
    let mut placements = Vec::new();
    for (i, p) in raw.placement.iter().enumerate() {
        let path = format!("placement[{i}]");
        let key = format!("placement.{}", p.id);
        let weekly_cost = b.param(
            &p.weekly_cost,
            Domain::NonNegative,
            Unit::PoundsAWeek,
            &format!("{path}.weekly_cost"),
            format!("{key}.weekly_cost"),
        )?;
        let inflation = b.inflation(p.inflation.as_ref(), &path, &key)?;
        let (initial, initial_groups) = match &p.initial_by_age {
            None => {
                let initial = initial_stock(
                    p.initial.as_ref(),
                    &ages,
                    &band_ids,
                    &format!("{path}.initial"),
                )?;
                let groups = (0..ages.bands.len())
                    .map(|b| (ages.band_cells(b), initial[b]))
                    .collect();
                (initial, groups)
            }
            Some(by_age) => {
                if p.initial.is_some() {
                    return err(
                        format!("{path}.initial_by_age"),
                        "give the initial stock either by band (`initial`) or by age (`initial_by_age`), not both",
                    );
                }
                initial_by_age(by_age, &ages, &format!("{path}.initial_by_age"))?
            }
        };
        let initial_time_in_care = match &p.initial_time_in_care {
            Some(r) => Some(time_in_care::initial(
                r,
                tic_bands,
                &initial,
                &ages,
                &band_ids,
                &format!("{path}.initial_time_in_care"),
            )?),
            None => None,
        };
        let capacity = match p.capacity {
            Some(c) => Some(whole_count(
                c,
                &format!("{path}.capacity"),
                "capacity",
                limits::CAPACITY,
            )?),
            None => None,
        };
        let overflow = match &p.overflow {
            Some(o) => {
                let Some(j) = placement_ids.iter().position(|id| id == o) else {
                    return err(
                        format!("{path}.overflow"),
                        unknown_placement(o, &placement_ids),
                    );
                };
                if capacity.is_none() {
                    return err(
                        format!("{path}.overflow"),
                        "an overflow placement only applies to a placement with a `capacity`",
                    );
                }
                Some(j)
            }
            None => {
                if capacity.is_some() {
                    return err(
                        format!("{path}.overflow"),
                        "a placement with a `capacity` needs an `overflow` placement for the children it cannot take",
                    );
                }
                None
            }
        };
        placement_charge.push(charges.charge(p.funding.as_ref(), p.line.as_ref(), &path)?);
        placements.push(Placement {
            id: p.id.clone(),
            label: p.label.clone().unwrap_or_else(|| p.id.clone()),
            weekly_cost,
            inflation,
            initial,
            initial_groups,
            initial_time_in_care,
            capacity,
            overflow,
        });
    }
    // Every overflow chain must end in a placement without a capacity limit.
    for start in 0..placements.len() {
        let mut chain = vec![start];
        let mut at = start;
        while let Some(next) = placements[at].overflow {
            if chain.contains(&next) {
                let names: Vec<&str> = chain
                    .iter()
                    .chain([&next])
                    .map(|&k| placements[k].id.as_str())
                    .collect();
                return err(
                    format!("placement[{start}].overflow"),
                    format!("overflow placements form a cycle: {}", names.join(" → ")),
                );
            }
            chain.push(next);
            at = next;
        }
    }

    // Entries.
    let entries = match &raw.entries {
        None => None,
        Some(e) => {
            if placements.is_empty() {
                return err(
                    "entries",
                    "entries need at least one [[placement]] to go into",
                );
            }
            Some(entries(
                &mut b,
                e,
                &ages,
                &band_ids,
                &placement_ids,
                ("entries", "entries"),
            )?)
        }
    };

    let cohorts =
        crate::config::cohort::cohorts(&mut b, &raw.cohort, &ages, &band_ids, &placement_ids)?;

    // Exits.
    let exits = exits(&mut b, raw.exits.as_ref(), &ages, &band_ids, &placement_ids)?;
    let time_in_care = match (tic_raw, tic_bands) {
        (Some(t), Some(n)) => Some(time_in_care::factors(&mut b, t, n, &placement_ids)?),
        _ => None,
    };

    // Transitions.
    let mut transitions = Vec::new();
    for (i, t) in raw.transition.iter().enumerate() {
        let path = format!("transition[{i}]");
        let find = |id: &str, field: &str| {
            placement_ids.iter().position(|p| *p == id).ok_or_else(|| {
                FieldError::new(
                    format!("{path}.{field}"),
                    unknown_placement(id, &placement_ids),
                )
            })
        };
        let from = find(&t.from, "from")?;
        let to = find(&t.to, "to")?;
        if from == to {
            return err(
                format!("{path}.to"),
                "a move must go to a different placement",
            );
        }
        let annual_rate = transition_rates(&mut b, t, &path, &ages, &band_ids)?;
        if let Some(j) = transitions.iter().position(|o: &Transition| {
            o.from == from
                && o.to == to
                && (0..ages.bands.len()).any(|band| o.applies(band) && annual_rate[band].is_some())
        }) {
            return err(
                format!("{path}.bands"),
                format!(
                    "transition[{j}] already moves children from {:?} to {:?} in some of these age bands",
                    t.from, t.to
                ),
            );
        }
        transitions.push(Transition {
            from,
            to,
            annual_rate,
        });
    }

    // Cost lines.
    let mut line_ids: HashSet<&str> = placement_ids.iter().copied().collect();
    let mut cost_lines = Vec::new();
    for (i, l) in raw.cost_line.iter().enumerate() {
        let path = format!("cost_line[{i}]");
        check_id(&l.id, &format!("{path}.id"))?;
        if l.id == "care_leavers" || l.id == "total" {
            return err(
                format!("{path}.id"),
                format!(
                    "{:?} is a name carecast keeps for its own line (the care leavers' cost, and \
                     the total); choose another id",
                    l.id
                ),
            );
        }
        if !line_ids.insert(l.id.as_str()) {
            return err(
                format!("{path}.id"),
                format!("{:?} is already the name of a placement or cost line", l.id),
            );
        }
        let labels: Vec<&str> = calendar.years.iter().map(|y| y.label.as_str()).collect();
        let per_year = money_per_year(
            &mut b,
            &l.per_year,
            &labels,
            &format!("{path}.per_year"),
            &format!("cost_line.{}", l.id),
        )?;
        cost_line_charge.push(charges.charge(l.funding.as_ref(), l.line.as_ref(), &path)?);
        cost_lines.push(CostLine {
            id: l.id.clone(),
            label: l.label.clone().unwrap_or_else(|| l.id.clone()),
            per_year,
        });
    }

    // Care leavers.
    let care_leavers = match &raw.care_leavers {
        None => None,
        Some(c) => {
            if !ages.tracked {
                return err(
                    "care_leavers",
                    "care leavers need [[age_band]]s, so that children reach 18",
                );
            }
            if !limits::SUPPORT_MONTHS.contains(&c.months) {
                return err(
                    "care_leavers.months",
                    format!(
                        "must be {}–{} months of support, got {}",
                        limits::SUPPORT_MONTHS.start(),
                        limits::SUPPORT_MONTHS.end(),
                        c.months
                    ),
                );
            }
            let weekly_cost = b.param(
                &c.weekly_cost,
                Domain::NonNegative,
                Unit::PoundsAWeek,
                "care_leavers.weekly_cost",
                "care_leavers.weekly_cost".into(),
            )?;
            let inflation = b.inflation(c.inflation.as_ref(), "care_leavers", "care_leavers")?;
            let initial = match c.initial {
                Some(n) => whole_count(
                    n,
                    "care_leavers.initial",
                    "a number of care leavers",
                    limits::CARE_LEAVERS,
                )?,
                None => 0.0,
            };
            Some(CareLeavers {
                label: c.label.clone().unwrap_or_else(|| "Care leavers".into()),
                weekly_cost,
                inflation,
                months: c.months as usize,
                initial,
            })
        }
    };

    let care_leavers_charge = match &raw.care_leavers {
        Some(c) => charges.charge(c.funding.as_ref(), c.line.as_ref(), "care_leavers")?,
        None => Default::default(),
    };
    let history = match &raw.history {
        None => None,
        Some(h) => Some(history(
            h,
            &band_ids,
            &placement_ids,
            ages.tracked,
            fy_start_month as u32,
        )?),
    };
    if let Some(c) = &raw.calibration {
        calibration_mapping(&c.mapping, &placement_ids)?;
    }

    let mut taken_ids: HashSet<String> = placement_ids.iter().map(|s| s.to_string()).collect();
    taken_ids.extend(cost_lines.iter().map(|l| l.id.clone()));
    let strategy = crate::config::strategy::build(
        &mut b,
        &raw,
        crate::config::strategy::Context {
            calendar: &calendar,
            band_ids: &band_ids,
            bands_tracked: ages.tracked,
            placements: &placements,
            taken_ids: taken_ids.clone(),
            charges: &charges,
        },
    )?;
    let mut taken = taken_ids;
    taken.extend(strategy.interventions.iter().map(|x| x.id.clone()));
    taken.extend(strategy.investments.iter().map(|x| x.id.clone()));
    taken.extend(strategy.savings.iter().map(|x| x.id.clone()));
    let income = crate::config::finance::incomes(
        &mut b,
        &raw.income,
        &calendar,
        &placements,
        &charges,
        &mut taken,
        crate::config::finance::IncomeContext {
            has_leavers: care_leavers.is_some(),
            band_ids: &band_ids,
            cohorts: &cohorts,
        },
    )?;
    let staff = crate::config::finance::staff(
        &mut b,
        &raw.staff,
        &calendar,
        !placements.is_empty(),
        &charges,
        &mut taken,
    )?;
    let initiatives = crate::config::finance::initiatives(&raw, &strategy)?;
    {
        use crate::config::finance::spends;
        let mut items = Vec::new();
        for (k, l) in cost_lines.iter().enumerate() {
            items.push((
                format!("cost_line[{k}]"),
                cost_line_charge[k],
                l.per_year.iter().map(spends).collect::<Vec<_>>(),
            ));
        }
        for (k, iv) in strategy.interventions.iter().enumerate() {
            let by_year = calendar
                .years
                .iter()
                .enumerate()
                .map(|(y, year)| {
                    let active = (year.first_month..=year.last_month()).any(|t| iv.active(t));
                    if active {
                        spends(&iv.cost_per_year[y])
                    } else {
                        Some(false)
                    }
                })
                .collect();
            items.push((format!("intervention[{k}]"), iv.funding, by_year));
        }
        for (k, inv) in strategy.investments.iter().enumerate() {
            items.push((
                format!("investment[{k}]"),
                inv.funding,
                inv.per_year.iter().map(spends).collect(),
            ));
        }
        for (k, st) in staff.iter().enumerate() {
            items.push((
                format!("staff[{k}]"),
                st.charge,
                vec![None; calendar.years.len()],
            ));
        }
        crate::config::finance::check_until(&funds, &calendar, &items)?;
    }
    let finance = crate::model::finance::Finance {
        funds,
        lines: budget_lines,
        income,
        staff,
        initiatives,
        placement_charge,
        cost_line_charge,
        care_leavers_charge,
    };
    if placements.is_empty() && !(raw.intervention.is_empty() && raw.shock.is_empty()) {
        return err(
            "intervention",
            "interventions and shocks need at least one [[placement]]",
        );
    }

    let copula =
        crate::config::correlation::build(&raw.correlation, &b.params, &strategy, scenario)?;
    crate::config::limits::check(&raw)?;

    let stock_time_in_care = time_in_care.is_some() || strategy.selects_by_time_in_care();
    if let Some(t) = &time_in_care {
        let bounds: Vec<f64> = t.bounds_days().collect();
        for (i, p) in placements.iter_mut().enumerate() {
            if let Some(split) = &mut p.initial_time_in_care {
                split.fit(&p.initial_groups, &ages, &bounds).map_err(|m| {
                    FieldError::new(format!("placement[{i}].initial_time_in_care"), m)
                })?;
            }
        }
    }
    if stock_time_in_care && !ages.tracked {
        stock_has_a_steady_state(
            &placements,
            &cohorts,
            &exits,
            time_in_care.as_ref(),
            &b.params,
        )?;
    }
    Ok(Model {
        name: raw.name,
        description: raw.description,
        calendar,
        ages,
        placements,
        entries,
        cohorts,
        exits,
        time_in_care,
        stock_time_in_care,
        transitions,
        cost_lines,
        care_leavers,
        budget,
        history,
        strategy,
        finance,
        params: b.params,
        copula,
        default_runs,
        default_seed,
    })
}

/// Without ages, a child of the initial stock whose time in care the config
/// does not give has it drawn from the steady-state profile of its
/// placement, density proportional to its survival S(τ) on [0, ∞). There is
/// none when its stays may never end: an exit hazard fixed at 0 in the last
/// band of time in care (or throughout).
fn stock_has_a_steady_state(
    placements: &[crate::model::Placement],
    cohorts: &[crate::model::Cohort],
    exits: &[Vec<crate::model::ExitRate>],
    time_in_care: Option<&crate::model::TimeInCare>,
    params: &[crate::model::Param],
) -> Result<()> {
    use crate::model::ExitRate;
    let fixed_at = |id: crate::model::ParamId, value: f64| {
        let d = &params[id.0].dist;
        d.is_fixed() && d.mean() == value
    };
    for (p, placement) in placements.iter().enumerate() {
        let base_zero = match exits[p].first() {
            Some(ExitRate::AnnualProbability(id)) => fixed_at(*id, 0.0),
            Some(ExitRate::MeanMonths(id)) => fixed_at(*id, f64::INFINITY),
            None => false,
        };
        let last_zero = time_in_care
            .and_then(|t| t.factor.get(p)?.last().copied())
            .is_some_and(|id| fixed_at(id, 0.0));
        let from = match time_in_care {
            Some(t) if last_zero && !base_zero => {
                let months = t.bounds_months.last().copied().unwrap_or(0.0);
                format!("from {months} months in care on")
            }
            _ => "throughout".to_string(),
        };
        let main: f64 = placement.initial_groups.iter().map(|(_, n)| n).sum();
        if (base_zero || last_zero) && main > 0.0 && placement.initial_time_in_care.is_none() {
            return err(
                format!("placement[{p}].initial"),
                format!(
                    "the {main} children of `{}` in care at the start need a time in care, \
                     and with an exit hazard of 0 {from} their stays may never end, so without \
                     ages there is no steady state to draw it from: give `initial_time_in_care` \
                     for this placement, or age bands",
                    placement.id
                ),
            );
        }
        // A cohort's children take no split: they always need the steady
        // state, and a cohort's own exit factor of 0 ends none of its stays.
        for (c, cohort) in cohorts.iter().enumerate() {
            let never = base_zero || last_zero || fixed_at(cohort.exit_factor, 0.0);
            let children: f64 = cohort
                .initial
                .iter()
                .filter(|(q, _)| *q == p)
                .flat_map(|(_, groups)| groups.iter().map(|(_, n)| n))
                .sum();
            if never && children > 0.0 {
                return err(
                    format!("cohort[{c}].initial.{}", placement.id),
                    format!(
                        "the {children} children of cohort `{}` in `{}` at the start need a time \
                         in care, and their stays may never end (an exit hazard of 0), so without \
                         ages there is no steady state to draw it from (a placement's \
                         `initial_time_in_care` is not applied to a cohort): give age bands",
                        cohort.id, placement.id
                    ),
                );
            }
        }
    }
    Ok(())
}

/// Amounts for each financial year, written once for all years or as a
/// list with one per year; `labels` are the years' labels.
pub(super) fn money_per_year(
    b: &mut Builder,
    raw: &RawPerYear<RawMoney>,
    labels: &[&str],
    path: &str,
    key: &str,
) -> Result<Vec<LineAmount>> {
    let n_years = labels.len();
    let amounts: Vec<&RawMoney> = match raw {
        RawPerYear::All(m) => vec![m; n_years],
        RawPerYear::Each(list) => {
            if list.len() != n_years {
                return err(
                    path.to_string(),
                    format!(
                        "has {} but the horizon has {}",
                        crate::config::money::amounts(list.len()),
                        crate::config::finance::years_text(n_years)
                    ),
                );
            }
            list.iter().collect()
        }
    };
    let mut out = Vec::new();
    for (y, m) in amounts.into_iter().enumerate() {
        out.push(match m {
            RawMoney::Exact(a) => LineAmount::Exact(a.0),
            RawMoney::Uncertain(d) => LineAmount::Uncertain(b.param(
                d,
                Domain::Any,
                Unit::Pounds,
                &format!("{path}[{y}]"),
                format!("{key}.{}", labels[y]),
            )?),
        });
    }
    Ok(out)
}

/// An unknown placement id, with the ids there are.
pub(super) fn unknown_placement(id: &str, placement_ids: &[&str]) -> String {
    format!(
        "unknown placement {id:?}; expected one of {}",
        placement_ids.join(", ")
    )
}

pub(super) fn unknown_band(id: &str, band_ids: &[&str]) -> String {
    if band_ids.len() == 1 && band_ids[0] == "all" {
        format!("unknown age band {id:?}: no [[age_band]] is declared")
    } else {
        format!(
            "unknown age band {id:?}; expected one of {}",
            band_ids.join(", ")
        )
    }
}

/// A transition's annual move probability per age band (`None` where it
/// does not apply): one rate for the bands listed in `bands` (all by
/// default), or a table by band.
fn transition_rates(
    b: &mut Builder,
    t: &RawTransition,
    path: &str,
    ages: &Ages,
    band_ids: &[&str],
) -> Result<Vec<Option<ParamId>>> {
    let mut out = vec![None; ages.bands.len()];
    match &t.annual_rate {
        RawByBand::One(d) => {
            let mask = match &t.bands {
                None => vec![true; ages.bands.len()],
                Some(list) => {
                    if list.is_empty() {
                        return err(
                            format!("{path}.bands"),
                            "an empty list of bands would make a move that never happens: \
                             name at least one band, or leave `bands` out for every band",
                        );
                    }
                    let mut mask = vec![false; ages.bands.len()];
                    for (k, id) in list.iter().enumerate() {
                        let Some(j) = band_ids.iter().position(|b| b == id) else {
                            return err(format!("{path}.bands[{k}]"), unknown_band(id, band_ids));
                        };
                        if mask[j] {
                            return err(
                                format!("{path}.bands[{k}]"),
                                format!("band \"{id}\" is named twice"),
                            );
                        }
                        mask[j] = true;
                    }
                    mask
                }
            };
            // The input's key names the bands when they are given, so two
            // transitions between the same placements draw independently.
            let key = match &t.bands {
                Some(list) => format!(
                    "transition.{}.{}.{}.annual_rate",
                    t.from,
                    t.to,
                    list.join("+")
                ),
                None => format!("transition.{}.{}.annual_rate", t.from, t.to),
            };
            let id = b.param(
                d,
                Domain::Fraction,
                Unit::ShareAYear,
                &format!("{path}.annual_rate"),
                key,
            )?;
            for (slot, on) in out.iter_mut().zip(mask) {
                if on {
                    *slot = Some(id);
                }
            }
        }
        RawByBand::PerBand(table) => {
            if t.bands.is_some() {
                return err(
                    format!("{path}.bands"),
                    "give the bands either in `bands` or as the keys of `annual_rate`, not both",
                );
            }
            if !ages.tracked {
                return err(
                    format!("{path}.annual_rate"),
                    "a rate per age band needs [[age_band]]s to be declared",
                );
            }
            if table.is_empty() {
                return err(
                    format!("{path}.annual_rate"),
                    "an empty table of rates would make a move that never happens: give a rate \
                     for at least one age band, or one rate for all",
                );
            }
            for (band, d) in table {
                let Some(j) = band_ids.iter().position(|b| b == band) else {
                    return err(
                        format!("{path}.annual_rate.{band}"),
                        unknown_band(band, band_ids),
                    );
                };
                out[j] = Some(b.param(
                    d,
                    Domain::Fraction,
                    Unit::ShareAYear,
                    &format!("{path}.annual_rate.{band}"),
                    format!("transition.{}.{}.{band}.annual_rate", t.from, t.to),
                )?);
            }
        }
    }
    Ok(out)
}

fn age_bands(raw: &[RawAgeBand]) -> Result<Ages> {
    if raw.is_empty() {
        let all = Band {
            id: "all".into(),
            label: "All ages".into(),
            from_years: 0,
            to_years: 18,
        };
        return Ok(Ages {
            bands: vec![all],
            tracked: false,
        });
    }
    let mut bands = Vec::new();
    let mut expect_from = 0;
    let mut seen = HashSet::new();
    for (i, a) in raw.iter().enumerate() {
        let path = format!("age_band[{i}]");
        check_id(&a.id, &format!("{path}.id"))?;
        if !seen.insert(a.id.as_str()) {
            return err(
                format!("{path}.id"),
                format!("age band {:?} is declared twice", a.id),
            );
        }
        if a.from != expect_from {
            return err(
                format!("{path}.from"),
                format!(
                    "age bands must run on from 0 without gaps: expected from = {expect_from}, got {}",
                    a.from
                ),
            );
        }
        if a.to <= a.from || a.to > *limits::AGE.end() {
            return err(
                format!("{path}.to"),
                format!(
                    "must be above `from` ({}) and at most {}, got {}",
                    a.from,
                    limits::AGE.end(),
                    a.to
                ),
            );
        }
        expect_from = a.to;
        bands.push(Band {
            id: a.id.clone(),
            label: a.label.clone().unwrap_or_else(|| a.id.clone()),
            from_years: a.from as u32,
            to_years: a.to as u32,
        });
    }
    if expect_from != 18 {
        return err(
            format!("age_band[{}].to", raw.len() - 1),
            format!(
                "the last age band must end at 18, when children leave care; it ends at {expect_from}"
            ),
        );
    }
    Ok(Ages {
        bands,
        tracked: true,
    })
}

pub(super) fn initial_stock(
    raw: Option<&RawByBand<Number>>,
    ages: &Ages,
    band_ids: &[&str],
    path: &str,
) -> Result<Vec<f64>> {
    let mut out = vec![0.0; ages.bands.len()];
    match raw {
        None => {}
        Some(RawByBand::One(n)) => {
            if ages.tracked {
                return err(
                    path,
                    format!(
                        "give the children per age band, e.g. {{ {} = 10, … }}",
                        band_ids[0]
                    ),
                );
            }
            out[0] = whole_count(*n, path, "a number of children", limits::STOCK)?;
        }
        Some(RawByBand::PerBand(table)) => {
            for (band, n) in table {
                let Some(j) = band_ids.iter().position(|b| b == band) else {
                    return err(format!("{path}.{band}"), unknown_band(band, band_ids));
                };
                out[j] = whole_count(
                    *n,
                    &format!("{path}.{band}"),
                    "a number of children",
                    limits::STOCK,
                )?;
            }
        }
    }
    Ok(out)
}

/// Entries as written at `path` (`entries`, or a cohort's), their inputs
/// keyed from `key`.
pub(super) fn entries(
    b: &mut Builder,
    e: &RawEntries,
    ages: &Ages,
    band_ids: &[&str],
    placement_ids: &[&str],
    (path, key): (&str, &str),
) -> Result<Entries> {
    let per_year = b.param(
        &e.per_year,
        Domain::NonNegative,
        Unit::AYear,
        &format!("{path}.per_year"),
        format!("{key}.per_year"),
    )?;
    limits::ENTRANTS.check(
        b.params[per_year.0].dist.mean(),
        &format!("{path}.per_year"),
        "the mean entrants a year reach",
    )?;
    let dispersion = match &e.dispersion {
        Some(d) => Some(b.param(
            d,
            Domain::Positive,
            Unit::Number,
            &format!("{path}.dispersion"),
            format!("{key}.dispersion"),
        )?),
        None => None,
    };
    let trend = b.param_or(
        e.trend.as_ref(),
        0.0,
        Domain::Rate,
        Unit::ShareAYear,
        &format!("{path}.trend"),
        format!("{key}.trend"),
    )?;
    let mut seasonality = [1.0; 12];
    if let Some(s) = &e.seasonality {
        if s.len() != 12 {
            return err(
                format!("{path}.seasonality"),
                format!("needs 12 factors, January to December; got {}", s.len()),
            );
        }
        for (i, f) in s.iter().enumerate() {
            if !(f.0.is_finite() && f.0 >= 0.0) {
                return err(
                    format!("{path}.seasonality[{i}]"),
                    format!("a factor must be 0 or more, got {}", f.0),
                );
            }
            seasonality[i] = f.0;
        }
        let total: f64 = seasonality.iter().sum();
        if (total - 12.0).abs() > 1e-6 {
            return err(
                format!("{path}.seasonality"),
                format!("the 12 factors must average 1 (sum to 12); they sum to {total}"),
            );
        }
    }
    let age_by_year = match &e.age_by_year {
        Some(years) => {
            if e.age_mix.is_some() {
                return err(
                    format!("{path}.age_by_year"),
                    "give entrants' ages either by band (`age_mix`) or by year (`age_by_year`), not both",
                );
            }
            Some(time_in_care::age_by_year(
                years,
                ages,
                &format!("{path}.age_by_year"),
            )?)
        }
        None => None,
    };
    let age_mix = match (&e.age_mix, ages.tracked) {
        (Some(m), true) => shares(m, band_ids, &format!("{path}.age_mix"), "age band")?,
        (None, true) if age_by_year.is_some() => {
            let years = age_by_year.as_deref().unwrap_or(&[]);
            ages.bands
                .iter()
                .map(|b| {
                    years[b.from_years as usize..b.to_years as usize]
                        .iter()
                        .sum()
                })
                .collect()
        }
        (None, true) => {
            return err(
                format!("{path}.age_mix"),
                "with [[age_band]]s declared, give the share of entrants in each band",
            );
        }
        (Some(_), false) => {
            return err(
                format!("{path}.age_mix"),
                "needs [[age_band]]s to be declared",
            );
        }
        (None, false) => vec![1.0],
    };
    let common = match &e.mix {
        Some(m) => Some(shares(
            m,
            placement_ids,
            &format!("{path}.mix"),
            "placement",
        )?),
        None => None,
    };
    let mut mix: Vec<Option<Vec<f64>>> = vec![common; band_ids.len()];
    if let Some(by_band) = &e.mix_by_band {
        if !ages.tracked {
            return err(
                format!("{path}.mix_by_band"),
                "needs [[age_band]]s to be declared",
            );
        }
        for (band, m) in by_band {
            let Some(j) = band_ids.iter().position(|id| id == band) else {
                return err(
                    format!("{path}.mix_by_band.{band}"),
                    unknown_band(band, band_ids),
                );
            };
            mix[j] = Some(shares(
                m,
                placement_ids,
                &format!("{path}.mix_by_band.{band}"),
                "placement",
            )?);
        }
    }
    let mut out_mix = Vec::new();
    for (j, m) in mix.into_iter().enumerate() {
        match m {
            Some(m) => out_mix.push(m),
            None if age_mix[j] == 0.0 => {
                out_mix.push(vec![1.0 / placement_ids.len() as f64; placement_ids.len()])
            }
            None => {
                return err(
                    format!("{path}.mix"),
                    format!(
                        "give the placements entrants go to (`mix`, or `mix_by_band` for band {:?})",
                        band_ids[j]
                    ),
                );
            }
        }
    }
    Ok(Entries {
        per_year,
        dispersion,
        trend,
        seasonality,
        age_mix,
        age_by_year,
        mix: out_mix,
    })
}

fn exits(
    b: &mut Builder,
    raw: Option<&RawExits>,
    ages: &Ages,
    band_ids: &[&str],
    placement_ids: &[&str],
) -> Result<Vec<Vec<ExitRate>>> {
    if raw.is_none() && !placement_ids.is_empty() {
        return err(
            "exits",
            "give each placement's exits: [exits] mean_months = { … } or annual_probability = { … }",
        );
    }
    let empty = RawExits {
        mean_months: IndexMap::new(),
        annual_probability: IndexMap::new(),
        time_in_care: None,
    };
    let raw = raw.unwrap_or(&empty);
    for (table, name) in [
        (&raw.mean_months, "mean_months"),
        (&raw.annual_probability, "annual_probability"),
    ] {
        for key in table.keys() {
            if !placement_ids.contains(&key.as_str()) {
                return err(
                    format!("exits.{name}.{key}"),
                    unknown_placement(key, placement_ids),
                );
            }
        }
    }
    let mut out = Vec::new();
    for id in placement_ids {
        let (table, name, is_stay) = match (
            raw.mean_months.get(*id),
            raw.annual_probability.get(*id),
        ) {
            (Some(_), Some(_)) => {
                return err(
                    format!("exits.annual_probability.{id}"),
                    "give either mean_months or annual_probability, not both",
                );
            }
            (Some(m), None) => (m, "mean_months", true),
            (None, Some(p)) => (p, "annual_probability", false),
            (None, None) => {
                return err(
                    "exits",
                    format!(
                        "no exit rate for placement {id:?}: add it to mean_months or annual_probability (annual_probability = 0 for none)"
                    ),
                );
            }
        };
        let path = format!("exits.{name}.{id}");
        let mut rates = Vec::new();
        let mut build = |raw: &RawDist, path: &str, key: String| -> Result<ExitRate> {
            if is_stay {
                let id = b.param(raw, Domain::Positive, Unit::Months, path, key)?;
                let lo = b.params[id.0].dist.lower_bound();
                if lo < 1.0 {
                    return err(
                        path,
                        format!("a mean stay must be at least 1 month, this one can be {lo}"),
                    );
                }
                Ok(ExitRate::MeanMonths(id))
            } else {
                Ok(ExitRate::AnnualProbability(b.param(
                    raw,
                    Domain::Fraction,
                    Unit::ShareAYear,
                    path,
                    key,
                )?))
            }
        };
        match table {
            RawByBand::One(d) => {
                let rate = build(d, &path, format!("exits.{id}"))?;
                rates = vec![rate; ages.bands.len()];
            }
            RawByBand::PerBand(per_band) => {
                if !ages.tracked {
                    return err(
                        &path,
                        "a rate per age band needs [[age_band]]s to be declared",
                    );
                }
                for key in per_band.keys() {
                    if !band_ids.contains(&key.as_str()) {
                        return err(format!("{path}.{key}"), unknown_band(key, band_ids));
                    }
                }
                for band in band_ids {
                    let Some(d) = per_band.get(*band) else {
                        return err(&path, format!("no rate for age band {band:?}"));
                    };
                    rates.push(build(
                        d,
                        &format!("{path}.{band}"),
                        format!("exits.{id}.{band}"),
                    )?);
                }
            }
        }
        out.push(rates);
    }
    Ok(out)
}

fn budget_per_year(raw: &RawBudget, calendar: &Calendar) -> Result<Vec<Decimal>> {
    let n_years = calendar.years.len();
    if raw.per_year.len() != n_years {
        return err(
            "budget.per_year",
            format!(
                "has {} but the horizon has {} ({})",
                crate::config::money::amounts(raw.per_year.len()),
                crate::config::finance::years_text(n_years),
                calendar
                    .years
                    .iter()
                    .map(|y| y.label.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        );
    }
    let budget: Vec<Decimal> = raw.per_year.iter().map(|a| a.0).collect();
    if let Some(i) = budget.iter().position(|a| *a < Decimal::ZERO) {
        return err(
            format!("budget.per_year[{i}]"),
            format!("a budget must be 0 or more, got {}", budget[i]),
        );
    }
    Ok(budget)
}

/// An age written as `"7"` (whole years) or `"17y04m"` (years and months):
/// the age cells it covers.
pub fn age_cells(key: &str) -> std::result::Result<std::ops::Range<usize>, String> {
    let bad = || {
        format!(
            "{key:?} is not an age: write whole years (\"7\") or years and months (\"17y04m\"), under 18 years"
        )
    };
    let (years, months) = match key.split_once('y') {
        None => (key, None),
        Some((y, rest)) => {
            let m = rest.strip_suffix('m').ok_or_else(bad)?;
            (y, Some(m))
        }
    };
    let all_digits =
        |t: &str| !t.is_empty() && t.len() <= 2 && t.bytes().all(|c| c.is_ascii_digit());
    if !all_digits(years) || !months.is_none_or(all_digits) {
        return Err(bad());
    }
    let years: usize = years.parse().map_err(|_| bad())?;
    if years >= 18 {
        return Err(bad());
    }
    match months {
        None => Ok(years * 12..years * 12 + 12),
        Some(m) => {
            let m: usize = m.parse().map_err(|_| bad())?;
            if m >= 12 {
                return Err(format!("{key:?}: months must be 0–11, got {m}"));
            }
            Ok(years * 12 + m..years * 12 + m + 1)
        }
    }
}

/// Groups of age cells, each with the children spread over it.
type AgeGroups = Vec<(std::ops::Range<usize>, f64)>;

/// The initial stock of a placement by year (or month) of age: per-band
/// totals and the groups of cells to spread each count over.
fn initial_by_age(
    table: &IndexMap<String, Number>,
    ages: &Ages,
    path: &str,
) -> Result<(Vec<f64>, AgeGroups)> {
    if !ages.tracked {
        return err(
            path,
            "an initial stock by age needs [[age_band]]s, so that ages are tracked",
        );
    }
    let mut per_band = vec![0.0; ages.bands.len()];
    let mut groups: Vec<(std::ops::Range<usize>, f64)> = Vec::new();
    let mut total = 0.0;
    for (key, n) in table {
        let here = format!("{path}.{key}");
        let cells = age_cells(key).map_err(|m| FieldError::new(&here, m))?;
        if let Some((other, _)) = groups
            .iter()
            .find(|(g, _)| g.start < cells.end && cells.start < g.end)
        {
            return err(
                here,
                format!(
                    "overlaps another age given (months {}–{} of age)",
                    other.start,
                    other.end - 1
                ),
            );
        }
        let n = whole_count(*n, &here, "a number of children", limits::STOCK)?;
        total += n;
        limits::STOCK.check(total, path, "the children of this placement reach")?;
        let band = (0..ages.bands.len())
            .find(|&b| ages.band_cells(b).contains(&cells.start))
            .unwrap_or(0);
        per_band[band] += n;
        groups.push((cells, n));
    }
    Ok((per_band, groups))
}

fn history(
    raw: &RawHistory,
    band_ids: &[&str],
    placement_ids: &[&str],
    tracked: bool,
    fy_start_month: u32,
) -> Result<History> {
    let points = |table: &IndexMap<String, Number>, path: &str| -> Result<Vec<(YearMonth, f64)>> {
        let mut out = Vec::new();
        for (month, n) in table {
            let here = format!("{path}.{month}");
            let ym = YearMonth::parse(month).map_err(|m| FieldError::new(&here, m))?;
            let v = n.0;
            if !(v.is_finite() && (0.0..=MAX_CHILDREN).contains(&v)) {
                return err(
                    here,
                    format!("a count of children must be 0 to {MAX_CHILDREN}, got {v}"),
                );
            }
            if v.fract() != 0.0 {
                return err(
                    here,
                    format!("a count of children in care is a whole number, got {v}"),
                );
            }
            out.push((ym, v));
        }
        out.sort_by_key(|(ym, _)| (ym.year, ym.month));
        if let Some(w) = out.windows(2).find(|w| w[0].0 == w[1].0) {
            return err(path, format!("month {} is given twice", w[0].0));
        }
        Ok(out)
    };
    let mut series = Vec::new();
    if !raw.total.is_empty() {
        series.push((Series::Total, points(&raw.total, "history.total")?));
    }
    for (id, table) in &raw.by_placement {
        let path = format!("history.by_placement.{id}");
        let Some(p) = placement_ids.iter().position(|x| x == id) else {
            return err(path, unknown_placement(id, placement_ids));
        };
        series.push((Series::Placement(p), points(table, &path)?));
    }
    for (id, table) in &raw.by_band {
        let path = format!("history.by_band.{id}");
        if !tracked {
            return err(path, "counts by age band need [[age_band]]s to be declared");
        }
        let Some(b) = band_ids.iter().position(|x| x == id) else {
            return err(path, unknown_band(id, band_ids));
        };
        series.push((Series::Band(b), points(table, &path)?));
    }
    let cost = outturns(&raw.cost, fy_start_month)?;
    if series.is_empty() && cost.is_empty() {
        return err(
            "history",
            "give at least one series: `total`, `by_placement`, `by_band` or `cost`",
        );
    }
    Ok(History {
        source: raw.source.clone(),
        series,
        cost,
    })
}

/// Cost outturns by financial year, in year order: the keys are written as
/// the run labels its years (`"2017/18"`, or `"2017"` when years start in
/// January), the amounts in pounds as money is written anywhere else.
fn outturns(table: &IndexMap<String, Number>, fy_start_month: u32) -> Result<Vec<(String, f64)>> {
    let mut out: Vec<(i32, String, f64)> = Vec::new();
    for (fy, amount) in table {
        let here = format!("history.cost.{fy}");
        let Some(first) = fy_first_year(fy, fy_start_month) else {
            let example = if fy_start_month == 1 {
                "\"2017\""
            } else {
                "\"2017/18\""
            };
            return err(
                here,
                format!(
                    "expected a financial year written as the run writes it, such as {example}"
                ),
            );
        };
        let v = amount.0;
        if !(v.is_finite() && (0.0..=crate::config::limits::MAX_YEAR_TOTAL).contains(&v)) {
            return err(
                here,
                format!("a cost outturn must be £0 to £10 trillion, got {v}"),
            );
        }
        out.push((first, fy.clone(), v));
    }
    out.sort_by_key(|(first, _, _)| *first);
    if let Some(w) = out.windows(2).find(|w| w[0].0 == w[1].0) {
        return err(
            "history.cost",
            format!(
                "financial year {} is given twice ({} and {})",
                w[0].0, w[0].1, w[1].1
            ),
        );
    }
    Ok(out.into_iter().map(|(_, fy, v)| (fy, v)).collect())
}

/// The first calendar year of a financial year label: `"2017/18"` (years
/// starting in any month but January; the second year must follow the
/// first) or `"2017"` (years starting in January).
fn fy_first_year(label: &str, fy_start_month: u32) -> Option<i32> {
    let digits = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_digit());
    if fy_start_month == 1 {
        return digits(label, 4).then(|| label.parse().ok()).flatten();
    }
    let (first, second) = label.split_once('/')?;
    if !(digits(first, 4) && digits(second, 2)) {
        return None;
    }
    let first: i32 = first.parse().ok()?;
    let second: i32 = second.parse().ok()?;
    ((first + 1).rem_euclid(100) == second).then_some(first)
}

/// Checks a `[calibration.mapping]`: keys are SSDA903 placement codes,
/// optionally with a provider code (`U4/PR1`), that the calibrator reads
/// (ignoring case, as it does), and values placement ids.
fn calibration_mapping(mapping: &IndexMap<String, String>, placement_ids: &[&str]) -> Result<()> {
    use crate::calibrate::ssda903::{PLACEMENTS, PROVIDERS};
    for (key, target) in mapping {
        let path = format!("calibration.mapping.{key}");
        let (code, provider) = match key.split_once('/') {
            Some((c, p)) => (c, Some(p)),
            None => (key.as_str(), None),
        };
        let known =
            |codes: &[&str], text: &str| codes.contains(&text.to_ascii_uppercase().as_str());
        // `"U4/PR9": ` before the part at fault when the key has two.
        let within = if provider.is_some() {
            format!("{key:?}: ")
        } else {
            String::new()
        };
        if !known(&PLACEMENTS, code) {
            return err(
                path,
                format!(
                    "{within}{code:?} is not an SSDA903 placement code; expected one of {}, alone or with a provider code (\"U4/PR1\")",
                    PLACEMENTS.join(", ")
                ),
            );
        }
        if let Some(provider) = provider
            && !known(&PROVIDERS, provider)
        {
            return err(
                path,
                format!(
                    "{within}{provider:?} is not an SSDA903 placement provider code; expected one of {}",
                    PROVIDERS.join(", ")
                ),
            );
        }
        if !placement_ids.contains(&target.as_str()) {
            return err(path, unknown_placement(target, placement_ids));
        }
    }
    Ok(())
}
