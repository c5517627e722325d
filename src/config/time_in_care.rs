//! Validation of the keys that describe children's time in care and exact
//! ages: `[exits.time_in_care]`, a placement's `initial_time_in_care` and
//! `entries.age_by_year`.

use crate::config::money::Number;
use crate::config::raw::{RawFactors, RawInitialTimeInCare, RawTimeInCare, RawTimeInCareSplit};
use crate::config::validate::{Builder, Result, err, unknown_band, whole_count};
use crate::dist::Domain;
use crate::model::inputs::Unit;
use crate::model::{Ages, InitialTimeInCare, ParamId, TimeInCare};

/// Bands of time in care may reach at most 18 years.
const MAX_MONTHS: f64 = 216.0;

/// The lower bounds of the time-in-care bands, in months.
pub fn bounds(raw: &RawTimeInCare) -> Result<Vec<f64>> {
    let path = "exits.time_in_care.bands";
    if raw.bands.is_empty() {
        return err(
            path,
            "give at least one band, starting at 0: e.g. [0, 6, 24, 60]",
        );
    }
    let mut out = Vec::new();
    for (i, b) in raw.bands.iter().enumerate() {
        let v = b.0;
        let here = format!("{path}[{i}]");
        if i == 0 && v != 0.0 {
            return err(
                here,
                format!("the first band must start at 0 months, got {v}"),
            );
        }
        if !v.is_finite() || v > MAX_MONTHS {
            return err(
                here,
                format!("a bound must be 0–{MAX_MONTHS} months, got {v}"),
            );
        }
        if let Some(&before) = out.last()
            && v <= before
        {
            return err(
                here,
                format!("bounds must increase: {v} does not come after {before}"),
            );
        }
        out.push(v);
    }
    Ok(out)
}

/// The factors by `[placement][band]` (1 for placements not named).
pub fn factors(
    b: &mut Builder,
    raw: &RawTimeInCare,
    bands: usize,
    placement_ids: &[&str],
) -> Result<TimeInCare> {
    let bounds_months = bounds(raw)?;
    fn build(
        b: &mut Builder,
        bands: usize,
        list: &[crate::dist::RawDist],
        path: &str,
        key: &str,
    ) -> Result<Vec<ParamId>> {
        if list.len() != bands {
            return err(
                path,
                format!(
                    "needs one factor per time-in-care band ({bands}), got {}",
                    list.len()
                ),
            );
        }
        list.iter()
            .enumerate()
            .map(|(k, d)| {
                b.param(
                    d,
                    Domain::NonNegative,
                    Unit::Factor,
                    &format!("{path}[{k}]"),
                    format!("{key}[{k}]"),
                )
            })
            .collect()
    }
    let factor = match &raw.factor {
        RawFactors::All(list) => {
            let ids = build(
                b,
                bands,
                list,
                "exits.time_in_care.factor",
                "exits.time_in_care.factor",
            )?;
            vec![ids; placement_ids.len()]
        }
        RawFactors::ByPlacement(table) => {
            for key in table.keys() {
                if !placement_ids.contains(&key.as_str()) {
                    return err(
                        format!("exits.time_in_care.factor.{key}"),
                        crate::config::validate::unknown_placement(key, placement_ids),
                    );
                }
            }
            let mut out = Vec::new();
            for id in placement_ids {
                out.push(match table.get(*id) {
                    Some(list) => build(
                        b,
                        bands,
                        list,
                        &format!("exits.time_in_care.factor.{id}"),
                        &format!("exits.time_in_care.factor.{id}"),
                    )?,
                    None => (0..bands)
                        .map(|k| {
                            b.fixed(
                                1.0,
                                Unit::Factor,
                                format!("exits.time_in_care.factor.{id}[{k}]"),
                            )
                        })
                        .collect(),
                });
            }
            out
        }
    };
    Ok(TimeInCare {
        bounds_months,
        factor,
    })
}

/// The children of a stock of `stock` in each band of time in care, as
/// `shares` of it: the expected numbers, which a run's children meet on
/// average (see [`InitialTimeInCare::fit`]).
fn by_shares(stock: f64, shares: &[f64]) -> Vec<f64> {
    shares.iter().map(|s| s * stock).collect()
}

/// A split as given: shares (summing to 1) or whole counts.
enum Split {
    Shares(Vec<f64>),
    Counts(Vec<f64>),
}

fn split(raw: &RawTimeInCareSplit, bands: usize, path: &str) -> Result<Split> {
    let list = |values: &[Number], what: &str| -> Result<Vec<f64>> {
        if values.len() != bands {
            return err(
                format!("{path}.{what}"),
                format!(
                    "needs one entry per time-in-care band ({bands}), got {}",
                    values.len()
                ),
            );
        }
        Ok(values.iter().map(|n| n.0).collect())
    };
    match (&raw.shares, &raw.counts) {
        (Some(s), None) => {
            let shares = list(s, "shares")?;
            for (k, v) in shares.iter().enumerate() {
                if !(0.0..=1.0).contains(v) {
                    return err(
                        format!("{path}.shares[{k}]"),
                        format!("a share must be between 0 and 1, got {v}"),
                    );
                }
            }
            let total: f64 = shares.iter().sum();
            if (total - 1.0).abs() > 1e-6 {
                return err(
                    format!("{path}.shares"),
                    format!("shares must sum to 1, they sum to {total}"),
                );
            }
            Ok(Split::Shares(shares))
        }
        (None, Some(c)) => {
            let counts = list(c, "counts")?;
            for (k, v) in c.iter().enumerate() {
                whole_count(
                    *v,
                    &format!("{path}.counts[{k}]"),
                    "a number of children",
                    crate::config::limits::STOCK,
                )?;
            }
            Ok(Split::Counts(counts))
        }
        _ => err(
            path,
            "give either `shares` or `counts`, one per time-in-care band",
        ),
    }
}

/// A placement's initial stock by age band and time-in-care band.
pub fn initial(
    raw: &RawInitialTimeInCare,
    tic_bands: Option<usize>,
    stock: &[f64],
    ages: &Ages,
    band_ids: &[&str],
    path: &str,
) -> Result<InitialTimeInCare> {
    let Some(n) = tic_bands else {
        return err(
            path,
            "needs [exits.time_in_care] bands to say which time in care each entry is",
        );
    };
    let whole_placement = |s: Split| -> Result<Vec<Vec<f64>>> {
        let shares = match s {
            Split::Shares(shares) => shares,
            Split::Counts(counts) => {
                let total: f64 = counts.iter().sum();
                let expected: f64 = stock.iter().sum();
                if total != expected {
                    return err(
                        format!("{path}.counts"),
                        format!(
                            "counts sum to {total}, but the placement starts with {expected} children"
                        ),
                    );
                }
                counts.iter().map(|c| c / total.max(1.0)).collect()
            }
        };
        Ok(stock.iter().map(|&s| by_shares(s, &shares)).collect())
    };
    let counts = match raw {
        RawInitialTimeInCare::One(s) => whole_placement(split(s, n, path)?)?,
        RawInitialTimeInCare::PerBand(table) => {
            if !ages.tracked {
                return err(
                    path,
                    "a split per age band needs [[age_band]]s to be declared",
                );
            }
            let mut out = vec![vec![0.0; n]; stock.len()];
            for (band, s) in table {
                let Some(j) = band_ids.iter().position(|b| b == band) else {
                    return err(format!("{path}.{band}"), unknown_band(band, band_ids));
                };
                let here = format!("{path}.{band}");
                out[j] = match split(s, n, &here)? {
                    Split::Shares(shares) => by_shares(stock[j], &shares),
                    Split::Counts(counts) => {
                        let total: f64 = counts.iter().sum();
                        if total != stock[j] {
                            return err(
                                format!("{here}.counts"),
                                format!(
                                    "counts sum to {total}, but band {band:?} starts with {} children",
                                    stock[j]
                                ),
                            );
                        }
                        counts
                    }
                };
            }
            for (j, band) in band_ids.iter().enumerate() {
                if stock[j] > 0.0 && !table.contains_key(*band) {
                    return err(
                        path,
                        format!(
                            "no split for age band {band:?}, which starts with {} children",
                            stock[j]
                        ),
                    );
                }
            }
            out
        }
    };
    Ok(InitialTimeInCare {
        counts,
        weights: Vec::new(),
    })
}

/// `entries.age_by_year` (at `path`): 18 shares for ages 0–17.
pub fn age_by_year(raw: &[Number], ages: &Ages, path: &str) -> Result<Vec<f64>> {
    if !ages.tracked {
        return err(path, "needs [[age_band]]s to be declared");
    }
    if raw.len() != 18 {
        return err(
            path,
            format!("needs 18 shares, for ages 0 to 17; got {}", raw.len()),
        );
    }
    for (i, v) in raw.iter().enumerate() {
        if !(0.0..=1.0).contains(&v.0) {
            return err(
                format!("{path}[{i}]"),
                format!("a share must be between 0 and 1, got {}", v.0),
            );
        }
    }
    let shares: Vec<f64> = raw.iter().map(|n| n.0).collect();
    let total: f64 = shares.iter().sum();
    if (total - 1.0).abs() > 1e-6 {
        return err(path, format!("shares must sum to 1, they sum to {total}"));
    }
    Ok(shares)
}
