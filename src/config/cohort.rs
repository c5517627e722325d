//! Validation of `[[cohort]]`: a group of children with its own entries
//! (in the syntax of `[entries]`), a factor on its exit hazards and its own
//! initial stock.

use std::collections::HashSet;

use crate::config::raw::RawCohort;
use crate::config::validate::{Builder, Result, check_id, entries, err, initial_stock};
use crate::dist::Domain;
use crate::model::inputs::Unit;
use crate::model::{Ages, Cohort};

/// More cohorts than any council needs; a child's cohort fits in a byte.
pub const MAX_COHORTS: usize = 32;

/// The cohorts of a config, in order.
pub(super) fn cohorts(
    b: &mut Builder,
    raw: &[RawCohort],
    ages: &Ages,
    band_ids: &[&str],
    placement_ids: &[&str],
) -> Result<Vec<Cohort>> {
    if raw.len() > MAX_COHORTS {
        return err(
            "cohort",
            format!("at most {MAX_COHORTS} cohorts, got {}", raw.len()),
        );
    }
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    for (i, c) in raw.iter().enumerate() {
        let path = format!("cohort[{i}]");
        let key = format!("cohort.{}", c.id);
        check_id(&c.id, &format!("{path}.id"))?;
        if !seen.insert(c.id.as_str()) {
            return err(
                format!("{path}.id"),
                format!("cohort {:?} is declared twice", c.id),
            );
        }
        if placement_ids.is_empty() {
            return err(path, "a cohort needs at least one [[placement]] to go into");
        }
        let cohort_entries = match &c.entries {
            Some(e) => Some(entries(
                b,
                e,
                ages,
                band_ids,
                placement_ids,
                (&format!("{path}.entries"), &format!("{key}.entries")),
            )?),
            None => None,
        };
        let exit_factor = b.param_or(
            c.exit_factor.as_ref(),
            1.0,
            Domain::NonNegative,
            Unit::Factor,
            &format!("{path}.exit_factor"),
            format!("{key}.exit_factor"),
        )?;
        let mut initial = Vec::new();
        for (id, n) in &c.initial {
            let here = format!("{path}.initial.{id}");
            let Some(p) = placement_ids.iter().position(|q| q == id) else {
                return err(
                    here,
                    crate::config::validate::unknown_placement(id, placement_ids),
                );
            };
            let by_band = initial_stock(Some(n), ages, band_ids, &here)?;
            let groups = (0..ages.bands.len())
                .map(|b| (ages.band_cells(b), by_band[b]))
                .collect();
            initial.push((p, groups));
        }
        out.push(Cohort {
            id: c.id.clone(),
            label: c.label.clone().unwrap_or_else(|| c.id.clone()),
            entries: cohort_entries,
            exit_factor,
            initial,
            key: crate::model::draws::path_key(&key),
        });
    }
    Ok(out)
}
