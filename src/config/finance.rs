//! Validation of the money councils report: `[[fund]]`, `[[budget.line]]`,
//! the `funding` and `line` of every item, `[[income]]`, `[[staff]]` and
//! `[[initiative]]`.

use std::collections::HashSet;

use rust_decimal::Decimal;

use crate::config::raw::{RawByBand, RawConfig, RawIncome, RawStaff};
use crate::config::validate::{Builder, Result, check_id, err, money_per_year};
use crate::dist::{Domain, RawDist};
use crate::model::finance::*;
use crate::model::inputs::Unit;
use crate::model::strategy::Strategy;
use crate::model::{Calendar, LineAmount, ParamId, Placement, YearMonth};

/// The funds of a config: the council's budget, the generic grant, then
/// each `[[fund]]`.
pub(super) fn funds(raw: &RawConfig, calendar: &Calendar) -> Result<Vec<Fund>> {
    let mut out = default_funds();
    let n_years = calendar.years.len();
    for (i, f) in raw.fund.iter().enumerate() {
        let path = format!("fund[{i}]");
        check_id(&f.id, &format!("{path}.id"))?;
        if default_funds().iter().any(|o| o.id == f.id) {
            return err(
                format!("{path}.id"),
                format!(
                    "{:?} is a fund carecast provides (\"budget\", the council's budget, and \
                     \"grant\" are built in); choose another id",
                    f.id
                ),
            );
        }
        if out.iter().any(|o| o.id == f.id) {
            return err(
                format!("{path}.id"),
                format!("fund {:?} is declared twice", f.id),
            );
        }
        let Some(kind) = FundKind::parse(&f.kind) else {
            return err(
                format!("{path}.kind"),
                format!(
                    "unknown kind {:?}; expected one of {}",
                    f.kind,
                    FundKind::NAMES.join(", ")
                ),
            );
        };
        let amount = match (&f.amount, &f.per_year) {
            (None, None) => FundAmount::Unlimited,
            (Some(a), None) => {
                if a.0 < Decimal::ZERO {
                    return err(format!("{path}.amount"), "must be 0 or more");
                }
                FundAmount::Total(a.0)
            }
            (None, Some(list)) => {
                if list.len() != n_years {
                    return err(
                        format!("{path}.per_year"),
                        format!(
                            "has {} but the horizon has {}",
                            crate::config::money::amounts(list.len()),
                            years_text(n_years)
                        ),
                    );
                }
                if let Some(k) = list.iter().position(|a| a.0 < Decimal::ZERO) {
                    return err(format!("{path}.per_year[{k}]"), "must be 0 or more");
                }
                FundAmount::PerYear(list.iter().map(|a| a.0).collect())
            }
            (Some(_), Some(_)) => {
                return err(
                    path,
                    "give the fund's `amount` for the whole horizon or its `per_year` amounts, not both",
                );
            }
        };
        let until = match &f.until {
            Some(text) => {
                let ym = YearMonth::parse(text)
                    .map_err(|m| crate::error::FieldError::new(format!("{path}.until"), m))?;
                let start = calendar.start;
                Some(
                    (ym.year as i64 - start.year as i64) * 12 + ym.month as i64
                        - start.month as i64,
                )
            }
            None => None,
        };
        out.push(Fund {
            id: f.id.clone(),
            label: f.label.clone().unwrap_or_else(|| f.id.clone()),
            kind,
            amount,
            until,
        });
    }
    Ok(out)
}

/// The budget lines, checked against the envelope.
pub(super) fn lines(
    raw: &RawConfig,
    calendar: &Calendar,
    budget: Option<&Vec<Decimal>>,
) -> Result<Vec<BudgetLine>> {
    let Some(rb) = &raw.budget else {
        return Ok(Vec::new());
    };
    let Some(budget) = budget else {
        return Ok(Vec::new());
    };
    let n_years = calendar.years.len();
    let mut out: Vec<BudgetLine> = Vec::new();
    for (i, l) in rb.line.iter().enumerate() {
        let path = format!("budget.line[{i}]");
        check_id(&l.id, &format!("{path}.id"))?;
        if l.id == "other" || out.iter().any(|o| o.id == l.id) {
            return err(
                format!("{path}.id"),
                format!(
                    "{:?} is already a budget line (`other` is what the lines leave of the envelope)",
                    l.id
                ),
            );
        }
        if l.per_year.len() != n_years {
            return err(
                format!("{path}.per_year"),
                format!(
                    "has {} but the horizon has {}",
                    crate::config::money::amounts(l.per_year.len()),
                    years_text(n_years)
                ),
            );
        }
        if let Some(k) = l.per_year.iter().position(|a| a.0 < Decimal::ZERO) {
            return err(
                format!("{path}.per_year[{k}]"),
                "a budget line must be 0 or more",
            );
        }
        out.push(BudgetLine {
            id: l.id.clone(),
            label: l.label.clone().unwrap_or_else(|| l.id.clone()),
            per_year: l.per_year.iter().map(|a| a.0).collect(),
        });
    }
    for (y, total) in budget.iter().enumerate() {
        let sum: Decimal = out.iter().map(|l| l.per_year[y]).sum();
        if sum > *total {
            return err(
                "budget.line",
                format!(
                    "the lines add up to {} in {}, more than the budget of {}",
                    crate::config::money::pounds_text(sum),
                    calendar.years[y].label,
                    crate::config::money::pounds_text(*total)
                ),
            );
        }
    }
    Ok(out)
}

/// What `funding` and `line` keys can name.
pub(super) struct Charges<'a> {
    pub funds: &'a [Fund],
    pub lines: &'a [BudgetLine],
}

impl Charges<'_> {
    /// The fund and line named at `path.funding` and `path.line`.
    pub fn charge(
        &self,
        funding: Option<&String>,
        line: Option<&String>,
        path: &str,
    ) -> Result<Charge> {
        let fund = match funding {
            None => COUNCIL,
            Some(id) => match self.funds.iter().position(|f| &f.id == id) {
                Some(f) => f,
                None => {
                    let ids: Vec<&str> = self.funds.iter().map(|f| f.id.as_str()).collect();
                    return err(
                        format!("{path}.funding"),
                        format!("{id:?} is not a fund; expected one of {}", ids.join(", ")),
                    );
                }
            },
        };
        let line = match line {
            None => None,
            Some(id) if id == "other" => None,
            Some(id) => {
                if fund != COUNCIL {
                    return err(
                        format!("{path}.line"),
                        "only spending from the council's budget sits on a budget line",
                    );
                }
                match self.lines.iter().position(|l| &l.id == id) {
                    Some(l) => Some(l),
                    None => {
                        let mut ids: Vec<&str> = self.lines.iter().map(|l| l.id.as_str()).collect();
                        ids.push("other");
                        return err(
                            format!("{path}.line"),
                            format!(
                                "{id:?} is not a budget line; expected one of {} (declare lines with [[budget.line]])",
                                ids.join(", ")
                            ),
                        );
                    }
                }
            }
        };
        Ok(Charge { fund, line })
    }
}

/// The `[[income]]` items.
/// What incomes refer to besides placements: the age bands and the cohorts.
pub(super) struct IncomeContext<'a> {
    pub has_leavers: bool,
    pub band_ids: &'a [&'a str],
    pub cohorts: &'a [crate::model::Cohort],
}

pub(super) fn incomes(
    b: &mut Builder,
    raw: &[RawIncome],
    calendar: &Calendar,
    placements: &[Placement],
    charges: &Charges,
    taken: &mut HashSet<String>,
    context: IncomeContext,
) -> Result<Vec<Income>> {
    let labels: Vec<&str> = calendar.years.iter().map(|y| y.label.as_str()).collect();
    let mut out = Vec::new();
    for (i, r) in raw.iter().enumerate() {
        let path = format!("income[{i}]");
        let key = format!("income.{}", r.id);
        check_id(&r.id, &format!("{path}.id"))?;
        if !taken.insert(r.id.clone()) {
            return err(
                format!("{path}.id"),
                format!("{:?} is already the name of another item", r.id),
            );
        }
        let given = [
            ("placements", r.placements.is_some()),
            ("weekly", r.weekly.is_some()),
            ("nightly", r.nightly.is_some()),
            ("cohort", r.cohort.is_some()),
            ("outcomes_per_year", r.outcomes_per_year.is_some()),
            ("success_rate", r.success_rate.is_some()),
            ("payment", r.payment.is_some()),
            ("per_year", r.per_year.is_some()),
            ("inflation", r.inflation.is_some()),
        ];
        let allowed: &[&str] = match r.kind.as_str() {
            "per_child_week" => &["placements", "weekly", "nightly", "cohort", "inflation"],
            "per_leaver_week" => &["weekly", "cohort", "inflation"],
            "per_outcome" => &["outcomes_per_year", "success_rate", "payment"],
            "fixed" => &["per_year"],
            other => {
                return err(
                    format!("{path}.kind"),
                    format!(
                        "unknown kind {other:?}; expected per_child_week, per_leaver_week, per_outcome or fixed"
                    ),
                );
            }
        };
        for (field, present) in given {
            if present && !allowed.contains(&field) {
                return err(
                    format!("{path}.{field}"),
                    format!("an income of kind `{}` does not take `{field}`", r.kind),
                );
            }
        }
        let need = |field: &str| {
            Err(crate::error::FieldError::new(
                format!("{path}.{field}"),
                format!("a {} income needs `{field}`", r.kind),
            ))
        };
        let inflation = b.inflation(r.inflation.as_ref(), &path, &key)?;
        let basis = match r.kind.as_str() {
            "per_child_week" | "per_leaver_week" => {
                let cohort = match &r.cohort {
                    None => None,
                    Some(id) => {
                        let found = context.cohorts.iter().position(|c| &c.id == id);
                        let Some(c) = found else {
                            let known: Vec<&str> =
                                context.cohorts.iter().map(|c| c.id.as_str()).collect();
                            return err(
                                format!("{path}.cohort"),
                                if known.is_empty() {
                                    format!(
                                        "unknown cohort {id:?}: the config declares no [[cohort]]"
                                    )
                                } else {
                                    format!(
                                        "unknown cohort {id:?}; expected one of {}",
                                        known.join(", ")
                                    )
                                },
                            );
                        };
                        Some(c)
                    }
                };
                let rate = match (&r.weekly, &r.nightly) {
                    (Some(_), Some(_)) => {
                        return err(
                            format!("{path}.nightly"),
                            "give the rate a week (`weekly`) or a night (`nightly`), not both",
                        );
                    }
                    (None, None) if r.kind == "per_child_week" => {
                        return err(
                            path.clone(),
                            "a per_child_week income needs its rate: `weekly` (pounds a week) \
                             or `nightly` (pounds a night, optionally by age band)",
                        );
                    }
                    (None, None) => return need("weekly"),
                    (Some(w), None) => ChildRate::Weekly(b.param(
                        w,
                        Domain::NonNegative,
                        Unit::PoundsAWeek,
                        &format!("{path}.weekly"),
                        format!("{key}.weekly"),
                    )?),
                    (None, Some(n)) => {
                        ChildRate::Nightly(nightly(b, n, &path, &key, context.band_ids, cohort)?)
                    }
                };
                if r.kind == "per_leaver_week" {
                    if !context.has_leavers {
                        return err(
                            format!("{path}.kind"),
                            "income per care leaver needs [care_leavers]",
                        );
                    }
                    // `nightly` was refused above for this kind.
                    let ChildRate::Weekly(weekly) = rate else {
                        return err(
                            format!("{path}.nightly"),
                            "income per care leaver is paid a week: give `weekly`",
                        );
                    };
                    IncomeBasis::PerLeaverWeek { weekly, cohort }
                } else {
                    let mask = match &r.placements {
                        None => vec![true; placements.len()],
                        Some(ids) => {
                            let mut mask = vec![false; placements.len()];
                            for (k, id) in ids.iter().enumerate() {
                                let Some(p) = placements.iter().position(|p| &p.id == id) else {
                                    return err(
                                        format!("{path}.placements[{k}]"),
                                        crate::config::validate::unknown_placement(
                                            id,
                                            &placements
                                                .iter()
                                                .map(|p| p.id.as_str())
                                                .collect::<Vec<_>>(),
                                        ),
                                    );
                                };
                                mask[p] = true;
                            }
                            mask
                        }
                    };
                    if placements.is_empty() {
                        return err(
                            format!("{path}.kind"),
                            "income per child-week needs [[placement]]s",
                        );
                    }
                    IncomeBasis::PerChildWeek {
                        placements: mask,
                        cohort,
                        rate,
                    }
                }
            }
            "per_outcome" => {
                let (Some(o), Some(s), Some(p)) =
                    (&r.outcomes_per_year, &r.success_rate, &r.payment)
                else {
                    let missing = if r.outcomes_per_year.is_none() {
                        "outcomes_per_year"
                    } else if r.success_rate.is_none() {
                        "success_rate"
                    } else {
                        "payment"
                    };
                    return need(missing);
                };
                let outcomes = money_per_year(
                    b,
                    o,
                    &labels,
                    &format!("{path}.outcomes_per_year"),
                    &format!("{key}.outcomes"),
                )?;
                if let Some(y) = outcomes
                    .iter()
                    .position(|a| matches!(a, LineAmount::Exact(x) if *x < Decimal::ZERO))
                {
                    return err(
                        format!("{path}.outcomes_per_year[{y}]"),
                        "must be 0 or more",
                    );
                }
                IncomeBasis::PerOutcome {
                    outcomes,
                    success_rate: b.param(
                        s,
                        Domain::Fraction,
                        Unit::Share,
                        &format!("{path}.success_rate"),
                        format!("{key}.success_rate"),
                    )?,
                    payment: b.param(
                        p,
                        Domain::NonNegative,
                        Unit::Pounds,
                        &format!("{path}.payment"),
                        format!("{key}.payment"),
                    )?,
                }
            }
            _ => {
                let Some(p) = &r.per_year else {
                    return need("per_year");
                };
                IncomeBasis::Fixed {
                    per_year: money_per_year(b, p, &labels, &format!("{path}.per_year"), &key)?,
                }
            }
        };
        out.push(Income {
            id: r.id.clone(),
            label: r.label.clone().unwrap_or_else(|| r.id.clone()),
            basis,
            inflation,
            charge: charges.charge(r.funding.as_ref(), r.line.as_ref(), &path)?,
        });
    }
    Ok(out)
}

/// An income's rate a night: one amount for every band, or a table by
/// band (only for a cohort, whose days are counted by band).
fn nightly(
    b: &mut Builder,
    raw: &RawByBand<RawDist>,
    path: &str,
    key: &str,
    band_ids: &[&str],
    cohort: Option<usize>,
) -> Result<Vec<Option<ParamId>>> {
    match raw {
        RawByBand::One(d) => {
            let id = b.param(
                d,
                Domain::NonNegative,
                Unit::PoundsANight,
                &format!("{path}.nightly"),
                format!("{key}.nightly"),
            )?;
            Ok(vec![Some(id); band_ids.len()])
        }
        RawByBand::PerBand(table) => {
            if cohort.is_none() {
                return err(
                    format!("{path}.nightly"),
                    "a rate by age band is paid for a cohort's children: give its `cohort`",
                );
            }
            let mut out = vec![None; band_ids.len()];
            for (band, d) in table {
                let Some(j) = band_ids.iter().position(|id| id == band) else {
                    return err(
                        format!("{path}.nightly.{band}"),
                        crate::config::validate::unknown_band(band, band_ids),
                    );
                };
                out[j] = Some(b.param(
                    d,
                    Domain::NonNegative,
                    Unit::PoundsANight,
                    &format!("{path}.nightly.{band}"),
                    format!("{key}.nightly.{band}"),
                )?);
            }
            Ok(out)
        }
    }
}

/// The `[[staff]]` groups.
pub(super) fn staff(
    b: &mut Builder,
    raw: &[RawStaff],
    calendar: &Calendar,
    has_children: bool,
    charges: &Charges,
    taken: &mut HashSet<String>,
) -> Result<Vec<Staff>> {
    let n_years = calendar.years.len();
    let labels: Vec<&str> = calendar.years.iter().map(|y| y.label.as_str()).collect();
    let mut out = Vec::new();
    for (i, r) in raw.iter().enumerate() {
        let path = format!("staff[{i}]");
        let key = format!("staff.{}", r.id);
        check_id(&r.id, &format!("{path}.id"))?;
        if !taken.insert(r.id.clone()) || matches!(r.id.as_str(), "care_leavers" | "total") {
            return err(
                format!("{path}.id"),
                format!("{:?} is already the name of another item", r.id),
            );
        }
        // One value per year from a number, a distribution (drawn per year)
        // or a list.
        let per_year = |b: &mut Builder,
                        raw: &crate::config::raw::RawPerYear<crate::dist::RawDist>,
                        field: &str,
                        domain: Domain,
                        unit: Unit|
         -> Result<Vec<crate::model::ParamId>> {
            use crate::config::raw::RawPerYear;
            let items: Vec<&crate::dist::RawDist> = match raw {
                RawPerYear::All(d) => vec![d; n_years],
                RawPerYear::Each(list) => {
                    if list.len() != n_years {
                        return err(
                            format!("{path}.{field}"),
                            format!(
                                "has {} values but the horizon has {n_years} financial years",
                                list.len()
                            ),
                        );
                    }
                    list.iter().collect()
                }
            };
            items
                .into_iter()
                .enumerate()
                .map(|(y, d)| {
                    let error_path = match raw {
                        RawPerYear::All(_) => format!("{path}.{field}"),
                        RawPerYear::Each(_) => format!("{path}.{field}[{y}]"),
                    };
                    b.param(
                        d,
                        domain,
                        unit,
                        &error_path,
                        format!("{key}.{field}.{}", labels[y]),
                    )
                })
                .collect()
        };
        let posts = match (&r.fte, &r.children_per_worker) {
            (Some(f), None) => {
                Posts::Fixed(per_year(b, f, "fte", Domain::NonNegative, Unit::Posts)?)
            }
            (None, Some(c)) => {
                if !has_children {
                    return err(
                        format!("{path}.children_per_worker"),
                        "posts that follow demand need [[placement]]s",
                    );
                }
                Posts::PerChildren(b.param(
                    c,
                    Domain::Positive,
                    Unit::ChildrenAWorker,
                    &format!("{path}.children_per_worker"),
                    format!("{key}.children_per_worker"),
                )?)
            }
            _ => {
                return err(
                    path,
                    "give the posts either as `fte` or as `children_per_worker`, one of the two",
                );
            }
        };
        let agency_share = match &r.agency_share {
            Some(a) => per_year(b, a, "agency_share", Domain::Fraction, Unit::Share)?,
            None => {
                let id = b.fixed(0.0, Unit::Share, format!("{key}.agency_share"));
                vec![id; n_years]
            }
        };
        let permanent_cost = b.param(
            &r.permanent_cost,
            Domain::NonNegative,
            Unit::PoundsAYear,
            &format!("{path}.permanent_cost"),
            format!("{key}.permanent_cost"),
        )?;
        let agency_cost = match &r.agency_cost {
            Some(d) => b.param(
                d,
                Domain::NonNegative,
                Unit::PoundsAYear,
                &format!("{path}.agency_cost"),
                format!("{key}.agency_cost"),
            )?,
            None => {
                if r.agency_share.is_some() {
                    return err(
                        format!("{path}.agency_cost"),
                        "with an `agency_share`, give the `agency_cost` per FTE",
                    );
                }
                b.fixed(0.0, Unit::PoundsAYear, format!("{key}.agency_cost"))
            }
        };
        let vacancy_rate = b.param_or(
            r.vacancy_rate.as_ref(),
            0.0,
            Domain::Fraction,
            Unit::Share,
            &format!("{path}.vacancy_rate"),
            format!("{key}.vacancy_rate"),
        )?;
        let inflation = b.inflation(r.inflation.as_ref(), &path, &key)?;
        out.push(Staff {
            id: r.id.clone(),
            label: r.label.clone().unwrap_or_else(|| r.id.clone()),
            posts,
            permanent_cost,
            agency_cost,
            agency_share,
            vacancy_rate,
            inflation,
            charge: charges.charge(r.funding.as_ref(), r.line.as_ref(), &path)?,
        });
    }
    Ok(out)
}

/// The initiatives: interventions by their `initiative` (their own id by
/// default, none for `"none"`), and investments and savings that name one.
pub(super) fn initiatives(raw: &RawConfig, strategy: &Strategy) -> Result<Vec<Initiative>> {
    let mut out: Vec<Initiative> = Vec::new();
    let find = |out: &mut Vec<Initiative>, id: &str, label: &str| -> usize {
        match out.iter().position(|x| x.id == id) {
            Some(k) => k,
            None => {
                let label = raw
                    .initiative
                    .iter()
                    .find(|r| r.id == id)
                    .and_then(|r| r.label.clone())
                    .unwrap_or_else(|| label.to_string());
                out.push(Initiative {
                    id: id.to_string(),
                    label,
                    interventions: Vec::new(),
                    investments: Vec::new(),
                    savings: Vec::new(),
                });
                out.len() - 1
            }
        }
    };
    for (i, (r, iv)) in raw
        .intervention
        .iter()
        .zip(&strategy.interventions)
        .enumerate()
    {
        let id = r.initiative.as_deref().unwrap_or(&iv.id);
        if id == "none" {
            continue;
        }
        check_id(id, &format!("intervention[{i}].initiative"))?;
        let k = find(&mut out, id, &iv.label);
        out[k].interventions.push(i);
    }
    for (i, (r, inv)) in raw.investment.iter().zip(&strategy.investments).enumerate() {
        if let Some(id) = r.initiative.as_deref().filter(|id| *id != "none") {
            check_id(id, &format!("investment[{i}].initiative"))?;
            let k = find(&mut out, id, &inv.label);
            out[k].investments.push(i);
        }
    }
    for (i, (r, s)) in raw.saving.iter().zip(&strategy.savings).enumerate() {
        if let Some(id) = r.initiative.as_deref().filter(|id| *id != "none") {
            check_id(id, &format!("saving[{i}].initiative"))?;
            let k = find(&mut out, id, &s.label);
            out[k].savings.push(i);
        }
    }
    // A declared initiative with no members (a scenario that drops them)
    // is simply not measured; its id must still be well formed.
    for (i, r) in raw.initiative.iter().enumerate() {
        check_id(&r.id, &format!("initiative[{i}].id"))?;
    }
    Ok(out)
}

/// Capital receipts (and any fund with `until`) may not be spent after
/// their last month: an item charged to such a fund may have no amount in a
/// financial year that ends after it.
pub(super) fn check_until(
    funds: &[Fund],
    calendar: &Calendar,
    items: &[(String, Charge, Vec<Option<bool>>)],
) -> Result<()> {
    for (path, charge, spends) in items {
        let fund = &funds[charge.fund];
        let Some(until) = fund.until else { continue };
        for (y, year) in calendar.years.iter().enumerate() {
            if (year.last_month() as i64) > until && spends[y] != Some(false) {
                return err(
                    format!("{path}.funding"),
                    format!(
                        "fund {:?} may be spent only until its `until` month, but this item may spend in {}",
                        fund.id, year.label
                    ),
                );
            }
        }
    }
    Ok(())
}

/// Whether an amount may be other than zero (`Some(false)` when it is
/// exactly zero).
pub(super) fn spends(a: &LineAmount) -> Option<bool> {
    match a {
        LineAmount::Exact(x) if x.is_zero() => Some(false),
        _ => None,
    }
}

/// `1 financial year`, `4 financial years`.
pub(super) fn years_text(n: usize) -> String {
    if n == 1 {
        "1 financial year".to_string()
    } else {
        format!("{n} financial years")
    }
}
