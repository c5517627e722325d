//! Validation of the strategy tables: `[[intervention]]`, `[[shock]]`,
//! `[[saving]]` and `[[investment]]`.

use std::collections::HashSet;

use crate::config::limits;
use crate::config::money::Number;
use crate::config::raw::{RawConfig, RawIntervention, RawShock};
use crate::config::validate::{
    Builder, Result, check_id, err, money_per_year, shares, unknown_band,
};
use crate::dist::{Domain, RawDist};
use crate::model::draws::path_key;
use crate::model::inputs::Unit;
use crate::model::strategy::*;
use crate::model::{Calendar, DAYS_PER_MONTH, Placement, YearMonth};

/// What the strategy tables refer to.
pub(super) struct Context<'a> {
    pub calendar: &'a Calendar,
    pub band_ids: &'a [&'a str],
    pub bands_tracked: bool,
    pub placements: &'a [Placement],
    /// Ids already used by placements and cost lines (components of cost).
    pub taken_ids: HashSet<String>,
    /// Funds and budget lines that items are charged to.
    pub charges: &'a crate::config::finance::Charges<'a>,
}

impl<'a> Context<'a> {
    fn placement(&self, id: &str, path: &str) -> Result<usize> {
        self.placements.iter().position(|p| p.id == id).map_or_else(
            || {
                let ids: Vec<&str> = self.placements.iter().map(|p| p.id.as_str()).collect();
                err(
                    path.to_string(),
                    crate::config::validate::unknown_placement(id, &ids),
                )
            },
            Ok,
        )
    }

    fn placement_set(&self, list: Option<&Vec<String>>, path: &str) -> Result<Vec<bool>> {
        match list {
            None => Ok(vec![true; self.placements.len()]),
            Some(ids) => {
                let mut mask = vec![false; self.placements.len()];
                for (k, id) in ids.iter().enumerate() {
                    mask[self.placement(id, &format!("{path}[{k}]"))?] = true;
                }
                Ok(mask)
            }
        }
    }

    fn band_set(&self, list: Option<&Vec<String>>, path: &str) -> Result<Vec<bool>> {
        match list {
            None => Ok(vec![true; self.band_ids.len()]),
            Some(ids) => {
                let mut mask = vec![false; self.band_ids.len()];
                for (k, id) in ids.iter().enumerate() {
                    let Some(j) = self.band_ids.iter().position(|b| b == id) else {
                        return err(format!("{path}[{k}]"), unknown_band(id, self.band_ids));
                    };
                    mask[j] = true;
                }
                Ok(mask)
            }
        }
    }

    /// A month `YYYY-MM` as an index from the horizon start.
    fn month(&self, text: &str, path: &str) -> Result<i64> {
        let ym = YearMonth::parse(text).map_err(|m| crate::error::FieldError::new(path, m))?;
        let start = self.calendar.start;
        Ok((ym.year as i64 - start.year as i64) * 12 + ym.month as i64 - start.month as i64)
    }

    fn labels(&self) -> Vec<&'a str> {
        self.calendar
            .years
            .iter()
            .map(|y| y.label.as_str())
            .collect()
    }

    fn claim(&mut self, id: &str, path: &str) -> Result<()> {
        check_id(id, path)?;
        if matches!(id, "care_leavers" | "total") || !self.taken_ids.insert(id.to_string()) {
            return err(
                path.to_string(),
                format!(
                    "{id:?} is already the name of a placement, cost line, intervention, saving or investment"
                ),
            );
        }
        Ok(())
    }
}

/// The time in care an exit programme works with, from its
/// `in_care_more_than_months` and `in_care_less_than_months`.
fn care_span(r: &RawIntervention, path: &str) -> Result<CareSpan> {
    const LIMIT: f64 = 18.0 * 12.0;
    let months = |raw: Option<Number>, field: &str, positive: bool| -> Result<Option<f64>> {
        let Some(Number(m)) = raw else {
            return Ok(None);
        };
        let low_enough = if positive { m > 0.0 } else { m >= 0.0 };
        if !(m.is_finite() && low_enough && m <= LIMIT) {
            return err(
                format!("{path}.{field}"),
                format!(
                    "months in care must be {} and at most {LIMIT} (18 years), got {m}",
                    if positive { "above 0" } else { "0 or more" }
                ),
            );
        }
        Ok(Some(m))
    };
    let less = months(r.in_care_less_than_months, "in_care_less_than_months", true)?;
    let more = months(
        r.in_care_more_than_months,
        "in_care_more_than_months",
        false,
    )?;
    if let (Some(less), Some(more)) = (less, more)
        && more >= less
    {
        return err(
            format!("{path}.in_care_more_than_months"),
            format!(
                "{more} months is not below in_care_less_than_months ({less}): no child would qualify"
            ),
        );
    }
    Ok(CareSpan {
        more_than: more.unwrap_or(0.0) * DAYS_PER_MONTH,
        less_than: less.map_or(f64::INFINITY, |m| m * DAYS_PER_MONTH),
    })
}

fn probability(raw: Option<Number>, default: f64, path: &str) -> Result<f64> {
    let p = raw.map_or(default, |n| n.0);
    if !(0.0..=1.0).contains(&p) {
        return err(
            path.to_string(),
            format!("a probability must be between 0 and 1, got {p}"),
        );
    }
    Ok(p)
}

/// Refuses `unit_cost` changes that could take a weekly price below zero
/// (the model would clamp it to £0, silently): in each month, every price
/// at the low end of its range and of its inflation's, every programme in
/// force at its ramp, each change at the low end of its range and each
/// factor at whichever end lowers the price most, applied in the order the
/// programmes are written, as a run applies them. A programme whose change
/// takes the price below zero is named.
fn prices_stay_at_or_above_zero(
    b: &Builder,
    interventions: &[Intervention],
    ctx: &Context,
) -> Result<()> {
    for (p, placement) in ctx.placements.iter().enumerate() {
        let on_it: Vec<(usize, &Intervention, UnitChange)> = interventions
            .iter()
            .enumerate()
            .filter_map(|(i, iv)| match iv.effect {
                Effect::UnitCost { placement, change } if placement == p => Some((i, iv, change)),
                _ => None,
            })
            .collect();
        if !on_it
            .iter()
            .any(|(_, _, c)| matches!(c, UnitChange::Add(_)))
        {
            continue;
        }
        let (cheapest, dearest) = limits::ends(b.dist(placement.weekly_cost));
        let least_inflation = limits::ends(b.dist(placement.inflation)).0;
        for (t, month) in ctx.calendar.months.iter().enumerate() {
            let base = cheapest * (1.0 + least_inflation).powi(month.fy as i32);
            let mut price = base;
            let mut culprit = None;
            let mut in_force = Vec::new();
            for &(i, iv, change) in &on_it {
                let r = iv.ramp(t);
                if r == 0.0 {
                    continue;
                }
                in_force.push(i);
                match change {
                    UnitChange::Add(id) => {
                        let before = price;
                        price += (limits::ends(b.dist(id)).0 * r).min(0.0);
                        if before >= 0.0 && price < 0.0 {
                            culprit = Some((i, id));
                        }
                    }
                    UnitChange::Factor(id) => {
                        let (low, high) = limits::ends(b.dist(id));
                        let by = |f: f64| 1.0 + (f - 1.0) * r;
                        price *= if price >= 0.0 {
                            by(low).min(1.0)
                        } else {
                            by(high).max(1.0)
                        };
                    }
                }
            }
            let Some((i, id)) = culprit.filter(|_| price < 0.0) else {
                continue;
            };
            let (low, high) = limits::ends(b.dist(id));
            let change = if low == high {
                format!("a change of {} a week", pounds(low))
            } else {
                format!("a change of {} to {} a week", pounds(low), pounds(high))
            };
            let others: Vec<String> = in_force
                .iter()
                .filter(|&&k| k != i)
                .map(|&k| format!("intervention[{k}] ({})", interventions[k].id))
                .collect();
            let others = if others.is_empty() {
                String::new()
            } else {
                format!(", with {} in force too", others.join(", "))
            };
            let inflated = if base == cheapest {
                String::new()
            } else {
                format!(
                    ", {} after inflation at the low end of its range",
                    pounds(base)
                )
            };
            return err(
                format!("intervention[{i}].change"),
                format!(
                    "{change} would take the weekly cost of placement {:?} below zero in {} \
                     (to {} at the low end of every input{others}): its price ranges from {} \
                     to {}{inflated}, and a price must stay at £0 or more over its whole range",
                    placement.id,
                    month.date,
                    pounds(price),
                    pounds(cheapest),
                    pounds(dearest),
                ),
            );
        }
    }
    Ok(())
}

/// Pounds for a message: whole pounds, or pence where there are any.
fn pounds(x: f64) -> String {
    crate::config::money::pounds_text_f64(x)
}

pub(super) fn build(b: &mut Builder, raw: &RawConfig, mut ctx: Context) -> Result<Strategy> {
    let mut strategy = Strategy::default();
    for (i, r) in raw.intervention.iter().enumerate() {
        strategy
            .interventions
            .push(intervention(b, r, &format!("intervention[{i}]"), &mut ctx)?);
    }
    prices_stay_at_or_above_zero(b, &strategy.interventions, &ctx)?;
    let mut shock_ids = HashSet::new();
    for (i, r) in raw.shock.iter().enumerate() {
        let path = format!("shock[{i}]");
        check_id(&r.id, &format!("{path}.id"))?;
        if !shock_ids.insert(r.id.clone()) {
            return err(
                format!("{path}.id"),
                format!("shock {:?} is declared twice", r.id),
            );
        }
        let shock = shock(b, r, &path, &ctx)?;
        if shock.has_cost() {
            ctx.claim(&r.id, &format!("{path}.id"))?;
        }
        strategy.shocks.push(shock);
    }
    let labels = ctx.labels();
    for (i, r) in raw.saving.iter().enumerate() {
        let path = format!("saving[{i}]");
        ctx.claim(&r.id, &format!("{path}.id"))?;
        if r.per_year.len() != labels.len() {
            return err(
                format!("{path}.per_year"),
                format!(
                    "has {} but the horizon has {}",
                    crate::config::money::amounts(r.per_year.len()),
                    crate::config::finance::years_text(labels.len())
                ),
            );
        }
        let delivery = b.param_or(
            r.delivery.as_ref(),
            1.0,
            Domain::Fraction,
            Unit::Share,
            &format!("{path}.delivery"),
            format!("saving.{}.delivery", r.id),
        )?;
        strategy.savings.push(Saving {
            id: r.id.clone(),
            label: r.label.clone().unwrap_or_else(|| r.id.clone()),
            per_year: r.per_year.iter().map(|a| a.0).collect(),
            delivery,
            slip_probability: probability(
                r.slip_probability,
                0.0,
                &format!("{path}.slip_probability"),
            )?,
            slip_key: path_key(&format!("saving.{}.slip", r.id)),
            recurrent: r.recurrent.unwrap_or(true),
            funding: ctx
                .charges
                .charge(r.funding.as_ref(), r.line.as_ref(), &path)?,
        });
    }
    for (i, r) in raw.investment.iter().enumerate() {
        let path = format!("investment[{i}]");
        ctx.claim(&r.id, &format!("{path}.id"))?;
        let per_year = money_per_year(
            b,
            &r.per_year,
            &labels,
            &format!("{path}.per_year"),
            &format!("investment.{}", r.id),
        )?;
        strategy.investments.push(Investment {
            id: r.id.clone(),
            label: r.label.clone().unwrap_or_else(|| r.id.clone()),
            per_year,
            funding: ctx
                .charges
                .charge(r.funding.as_ref(), r.line.as_ref(), &path)?,
        });
    }
    Ok(strategy)
}

/// Reads the effect size: `per_year`, or families × success rate × children per family.
fn effect_size(b: &mut Builder, r: &RawIntervention, path: &str) -> Result<EffectSize> {
    let key = format!("intervention.{}", r.id);
    let product = [&r.families, &r.success_rate, &r.children_per_family];
    match (&r.per_year, product.iter().any(|x| x.is_some())) {
        (Some(d), false) => Ok(EffectSize::PerYear(b.param(
            d,
            Domain::NonNegative,
            Unit::AYear,
            &format!("{path}.per_year"),
            format!("{key}.per_year"),
        )?)),
        (None, true) => {
            let mut get = |d: &Option<RawDist>,
                           field: &str,
                           domain: Domain,
                           unit: Unit|
             -> Result<_> {
                match d {
                    Some(d) => b.param(
                        d,
                        domain,
                        unit,
                        &format!("{path}.{field}"),
                        format!("{key}.{field}"),
                    ),
                    None => err(
                        path.to_string(),
                        format!(
                            "`{field}` is needed with families × success_rate × children_per_family"
                        ),
                    ),
                }
            };
            Ok(EffectSize::Product {
                families: get(&r.families, "families", Domain::NonNegative, Unit::Families)?,
                success_rate: get(
                    &r.success_rate,
                    "success_rate",
                    Domain::Fraction,
                    Unit::Share,
                )?,
                children_per_family: get(
                    &r.children_per_family,
                    "children_per_family",
                    Domain::NonNegative,
                    Unit::ChildrenAFamily,
                )?,
            })
        }
        (Some(_), true) => err(
            path.to_string(),
            "give the effect either as `per_year` or as families × success_rate × children_per_family, not both",
        ),
        (None, false) => err(
            path.to_string(),
            "give the effect as `per_year` or as families × success_rate × children_per_family",
        ),
    }
}

fn intervention(
    b: &mut Builder,
    r: &RawIntervention,
    path: &str,
    ctx: &mut Context,
) -> Result<Intervention> {
    ctx.claim(&r.id, &format!("{path}.id"))?;
    // Fields that belong to other kinds are refused, so a misplaced key is not ignored.
    let given: [(&str, bool); 11] = [
        ("bands", r.bands.is_some()),
        ("placements", r.placements.is_some()),
        ("from", r.from.is_some()),
        ("to", r.to.is_some()),
        ("placement", r.placement.is_some()),
        ("change", r.change.is_some()),
        ("factor", r.factor.is_some()),
        ("per_year", r.per_year.is_some()),
        (
            "in_care_less_than_months",
            r.in_care_less_than_months.is_some(),
        ),
        (
            "in_care_more_than_months",
            r.in_care_more_than_months.is_some(),
        ),
        (
            "families",
            r.families.is_some() || r.success_rate.is_some() || r.children_per_family.is_some(),
        ),
    ];
    let allowed: &[&str] = match r.kind.as_str() {
        "prevent_entry" => &["bands", "placements", "per_year", "families"],
        "exit" => &[
            "placements",
            "per_year",
            "families",
            "in_care_less_than_months",
            "in_care_more_than_months",
        ],
        "step_down" => &["from", "to", "per_year", "families"],
        "capacity" => &["placement", "per_year", "families"],
        "unit_cost" => &["placement", "change", "factor"],
        other => {
            return err(
                format!("{path}.kind"),
                format!(
                    "unknown kind {other:?}; expected prevent_entry, exit, step_down, capacity or unit_cost"
                ),
            );
        }
    };
    for (field, present) in given {
        if present && !allowed.contains(&field) {
            return err(
                format!("{path}.{field}"),
                format!(
                    "an intervention of kind `{}` does not take `{field}`",
                    r.kind
                ),
            );
        }
    }
    let effect = match r.kind.as_str() {
        "prevent_entry" => {
            if r.bands.is_some() && !ctx.bands_tracked {
                return err(
                    format!("{path}.bands"),
                    "needs [[age_band]]s to be declared",
                );
            }
            Effect::PreventEntry {
                size: effect_size(b, r, path)?,
                bands: ctx.band_set(r.bands.as_ref(), &format!("{path}.bands"))?,
                placements: ctx
                    .placement_set(r.placements.as_ref(), &format!("{path}.placements"))?,
            }
        }
        "exit" => Effect::Exit {
            size: effect_size(b, r, path)?,
            from: ctx.placement_set(r.placements.as_ref(), &format!("{path}.placements"))?,
            span: care_span(r, path)?,
        },
        "step_down" => {
            let (Some(from), Some(to)) = (&r.from, &r.to) else {
                return err(
                    path.to_string(),
                    "a step_down needs `from` and `to` placements",
                );
            };
            let from = ctx.placement(from, &format!("{path}.from"))?;
            let to = ctx.placement(to, &format!("{path}.to"))?;
            if from == to {
                return err(
                    format!("{path}.to"),
                    "a step-down must go to a different placement",
                );
            }
            Effect::StepDown {
                size: effect_size(b, r, path)?,
                from,
                to,
            }
        }
        "capacity" => {
            let Some(id) = &r.placement else {
                return err(
                    path.to_string(),
                    "a capacity intervention needs the `placement` it adds places to",
                );
            };
            let placement = ctx.placement(id, &format!("{path}.placement"))?;
            if ctx.placements[placement].capacity.is_none() {
                return err(
                    format!("{path}.placement"),
                    format!("placement {id:?} has no `capacity` to add places to"),
                );
            }
            Effect::Capacity {
                size: effect_size(b, r, path)?,
                placement,
            }
        }
        _ => {
            let Some(id) = &r.placement else {
                return err(
                    path.to_string(),
                    "a unit_cost intervention needs the `placement` whose cost changes",
                );
            };
            let placement = ctx.placement(id, &format!("{path}.placement"))?;
            let key = format!("intervention.{}", r.id);
            let change = match (&r.change, &r.factor) {
                (Some(d), None) => UnitChange::Add(b.param(
                    d,
                    Domain::Any,
                    Unit::PoundsAWeek,
                    &format!("{path}.change"),
                    format!("{key}.change"),
                )?),
                (None, Some(d)) => UnitChange::Factor(b.param(
                    d,
                    Domain::NonNegative,
                    Unit::Factor,
                    &format!("{path}.factor"),
                    format!("{key}.factor"),
                )?),
                _ => {
                    return err(
                        path.to_string(),
                        "give exactly one of `change` (£ a week) or `factor`",
                    );
                }
            };
            Effect::UnitCost { placement, change }
        }
    };
    let start = ctx.month(&r.start, &format!("{path}.start"))?;
    let end = match &r.end {
        Some(e) => {
            let end = ctx.month(e, &format!("{path}.end"))?;
            if end <= start {
                return err(
                    format!("{path}.end"),
                    format!("must be after the start ({})", r.start),
                );
            }
            Some(end)
        }
        None => None,
    };
    let ramp_up_months = r.ramp_up_months.unwrap_or(0);
    if !limits::RAMP_UP_MONTHS.contains(&ramp_up_months) {
        return err(
            format!("{path}.ramp_up_months"),
            format!(
                "must be {}–{} months, got {ramp_up_months}",
                limits::RAMP_UP_MONTHS.start(),
                limits::RAMP_UP_MONTHS.end()
            ),
        );
    }
    let labels = ctx.labels();
    let cost_per_year = match &r.cost_per_year {
        Some(c) => money_per_year(
            b,
            c,
            &labels,
            &format!("{path}.cost_per_year"),
            &format!("intervention.{}.cost", r.id),
        )?,
        None => vec![crate::model::LineAmount::Exact(rust_decimal::Decimal::ZERO); labels.len()],
    };
    Ok(Intervention {
        id: r.id.clone(),
        label: r.label.clone().unwrap_or_else(|| r.id.clone()),
        effect,
        start,
        ramp_up_months: ramp_up_months as u32,
        end,
        cost_per_year,
        funding: ctx
            .charges
            .charge(r.funding.as_ref(), r.line.as_ref(), path)?,
        delivery_probability: probability(
            r.delivery_probability,
            1.0,
            &format!("{path}.delivery_probability"),
        )?,
        key: path_key(&format!("intervention.{}", r.id)),
    })
}

fn shock(b: &mut Builder, r: &RawShock, path: &str, ctx: &Context) -> Result<Shock> {
    let once = match r.probability {
        Some(p) => Some(probability(Some(p), 0.0, &format!("{path}.probability"))?),
        None => None,
    };
    let timing = match (&r.probability_per_year, &r.month, once) {
        (Some(p), None, None) => ShockTiming::PerYear(probability(
            Some(*p),
            0.0,
            &format!("{path}.probability_per_year"),
        )?),
        (None, Some(m), p) => {
            ShockTiming::Month(ctx.month(m, &format!("{path}.month"))?, p.unwrap_or(1.0))
        }
        (None, None, Some(p)) => ShockTiming::Once(p),
        _ => {
            return err(
                path.to_string(),
                "give exactly one of `probability_per_year`, a fixed `month` (optionally with a `probability`), or a `probability` of happening once in the horizon",
            );
        }
    };
    let spread_months = r.spread_months.unwrap_or(1);
    if !limits::SPREAD_MONTHS.contains(&spread_months) {
        return err(
            format!("{path}.spread_months"),
            format!(
                "must be {}–{} months, got {spread_months}",
                limits::SPREAD_MONTHS.start(),
                limits::SPREAD_MONTHS.end()
            ),
        );
    }
    let children = b.param(
        &r.children,
        Domain::NonNegative,
        Unit::Children,
        &format!("{path}.children"),
        format!("shock.{}.children", r.id),
    )?;
    let placement_ids: Vec<&str> = ctx.placements.iter().map(|p| p.id.as_str()).collect();
    let common = match &r.mix {
        Some(m) => Some(shares(
            m,
            &placement_ids,
            &format!("{path}.mix"),
            "placement",
        )?),
        None => None,
    };
    let mix = match &r.mix_by_band {
        None => match common {
            Some(m) => vec![m],
            None => {
                return err(
                    format!("{path}.mix"),
                    "give the shock's placement `mix` (or `mix_by_band`)",
                );
            }
        },
        Some(by_band) => {
            if !ctx.bands_tracked {
                return err(
                    format!("{path}.mix_by_band"),
                    "needs [[age_band]]s to be declared",
                );
            }
            let mut rows = Vec::new();
            for (k, band) in ctx.band_ids.iter().enumerate() {
                match by_band.get(*band) {
                    Some(m) => rows.push(shares(
                        m,
                        &placement_ids,
                        &format!("{path}.mix_by_band.{band}"),
                        "placement",
                    )?),
                    None => match &common {
                        Some(m) => rows.push(m.clone()),
                        None => {
                            return err(
                                format!("{path}.mix_by_band"),
                                format!(
                                    "band {:?} has no mix: give it one or a common `mix`",
                                    ctx.band_ids[k]
                                ),
                            );
                        }
                    },
                }
            }
            for key in by_band.keys() {
                if !ctx.band_ids.contains(&key.as_str()) {
                    return err(
                        format!("{path}.mix_by_band.{key}"),
                        unknown_band(key, ctx.band_ids),
                    );
                }
            }
            rows
        }
    };
    let age_mix = match (&r.age_mix, ctx.bands_tracked) {
        (Some(m), true) => shares(m, ctx.band_ids, &format!("{path}.age_mix"), "age band")?,
        (None, true) => {
            return err(
                format!("{path}.age_mix"),
                "with [[age_band]]s declared, give the shock's share in each band",
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
    let labels = ctx.labels();
    let cost_per_year = match &r.cost_per_year {
        Some(c) => money_per_year(
            b,
            c,
            &labels,
            &format!("{path}.cost_per_year"),
            &format!("shock.{}.cost", r.id),
        )?,
        None => vec![crate::model::LineAmount::Exact(rust_decimal::Decimal::ZERO); labels.len()],
    };
    let cost_months = r.cost_months.unwrap_or(12);
    if !limits::COST_MONTHS.contains(&cost_months) {
        return err(
            format!("{path}.cost_months"),
            format!(
                "must be {}–{} months, got {cost_months}",
                limits::COST_MONTHS.start(),
                limits::COST_MONTHS.end()
            ),
        );
    }
    if r.cost_months.is_some() && r.cost_per_year.is_none() {
        return err(
            format!("{path}.cost_months"),
            "applies only with a `cost_per_year`",
        );
    }
    Ok(Shock {
        id: r.id.clone(),
        label: r.label.clone().unwrap_or_else(|| r.id.clone()),
        timing,
        children,
        spread_months: spread_months as usize,
        age_mix,
        mix,
        cost_per_year,
        cost_months: cost_months as usize,
        funding: ctx
            .charges
            .charge(r.funding.as_ref(), r.line.as_ref(), path)?,
        key: path_key(&format!("shock.{}", r.id)),
    })
}
