//! Scenarios: each `[[scenario]]` is a patch to the rest of the
//! config, applied to the TOML before validation, so that a scenario is an
//! ordinary validated model and every check applies to it.
//!
//! A scenario may
//! - `disable = ["id", …]`: drop interventions, shocks, savings,
//!   investments, cohorts and other elements by id;
//! - change fields of one element by id: `[scenario.intervention.<id>]`,
//!   `[scenario.shock.<id>]`, `[scenario.saving.<id>]`,
//!   `[scenario.investment.<id>]`, `[scenario.placement.<id>]`,
//!   `[scenario.cost_line.<id>]`, `[scenario.cohort.<id>]`;
//! - change fields of a table: `[scenario.budget]`, `[scenario.entries]`,
//!   `[scenario.exits]`, `[scenario.care_leavers]`.
//!
//! Scenarios share the horizon, so their years can be compared.

use toml::{Table, Value};

use crate::config::raw::check_text;
use crate::error::FieldError;

/// Arrays of tables whose elements a scenario can change by id
/// (transitions and correlations by the optional `id` they may carry).
const BY_ID: [&str; 12] = [
    "cohort",
    "intervention",
    "shock",
    "saving",
    "investment",
    "placement",
    "cost_line",
    "income",
    "staff",
    "fund",
    "transition",
    "correlation",
];
/// Arrays whose elements a scenario can drop.
const DISABLE: [&str; 10] = [
    "intervention",
    "shock",
    "saving",
    "investment",
    "cost_line",
    "income",
    "staff",
    "transition",
    "correlation",
    "cohort",
];
/// Arrays a scenario can add elements to (`add.<array> = [...]`).
const ADD: [&str; 11] = [
    "cohort",
    "intervention",
    "shock",
    "saving",
    "investment",
    "cost_line",
    "income",
    "staff",
    "fund",
    "transition",
    "correlation",
];
/// Tables whose fields a scenario can change.
const TABLES: [&str; 4] = ["budget", "entries", "exits", "care_leavers"];

/// A scenario's id and label, and the config it describes.
#[derive(Debug)]
pub struct ScenarioDoc {
    pub id: String,
    pub label: String,
    pub doc: Table,
}

/// Applies scenario `index` to the base document.
pub fn apply(base: &Table, scenario: &Table, index: usize) -> Result<ScenarioDoc, FieldError> {
    let path = format!("scenario[{index}]");
    let id = match scenario.get("id") {
        Some(Value::String(s)) if !s.is_empty() => s.clone(),
        _ => {
            return Err(FieldError::new(
                format!("{path}.id"),
                "every scenario needs a non-empty string `id`",
            ));
        }
    };
    let label = match scenario.get("label") {
        Some(Value::String(s)) => s.clone(),
        Some(_) => return Err(FieldError::new(format!("{path}.label"), "must be a string")),
        None => id.clone(),
    };
    check_text(&id, false).map_err(|m| FieldError::new(format!("{path}.id"), m))?;
    if id.trim() != id || id.trim().is_empty() {
        // A blank id, or one padded with spaces, reads as no id or as
        // another scenario's in every table that names it.
        return Err(FieldError::new(
            format!("{path}.id"),
            format!("{id:?} must not be blank or begin or end with a space"),
        ));
    }
    check_text(&label, false).map_err(|m| FieldError::new(format!("{path}.label"), m))?;
    if let Some(Value::String(d)) = scenario.get("description") {
        check_text(d, true).map_err(|m| FieldError::new(format!("{path}.description"), m))?;
    }
    let mut doc = base.clone();
    doc.remove("scenario");
    doc.remove("compare");
    for (key, value) in scenario {
        let here = format!("{path}.{key}");
        match key.as_str() {
            "id" | "label" | "description" => {}
            "disable" => {
                let Value::Array(ids) = value else {
                    return Err(FieldError::new(here, "must be a list of ids"));
                };
                for (k, v) in ids.iter().enumerate() {
                    let Value::String(target) = v else {
                        return Err(FieldError::new(
                            format!("{here}[{k}]"),
                            "must be an id (a string)",
                        ));
                    };
                    if ids[..k].contains(v) {
                        return Err(FieldError::new(
                            format!("{here}[{k}]"),
                            format!("names {target:?} a second time"),
                        ));
                    }
                    // The id must name one element: ids are unique within a
                    // section but not across them.
                    let named: Vec<&str> = DISABLE
                        .iter()
                        .copied()
                        .filter(|section| match doc.get(*section) {
                            Some(Value::Array(items)) => items.iter().any(|v| has_id(v, target)),
                            _ => false,
                        })
                        .collect();
                    match named.as_slice() {
                        [] => {
                            return Err(FieldError::new(
                                format!("{here}[{k}]"),
                                format!("no {} has the id {target:?}", DISABLE.join(", ")),
                            ));
                        }
                        [section] => {
                            remove_by_id(&mut doc, section, target);
                        }
                        several => {
                            return Err(FieldError::new(
                                format!("{here}[{k}]"),
                                format!(
                                    "{target:?} is the id of more than one element ({}), so it \
                                     is not clear which to disable; give them different ids",
                                    several.join(" and ")
                                ),
                            ));
                        }
                    }
                }
            }
            "add" => {
                let Value::Table(arrays) = value else {
                    return Err(FieldError::new(
                        here,
                        "must be a table of arrays, e.g. add.intervention = [{ ... }]",
                    ));
                };
                for (section, items) in arrays {
                    if !ADD.contains(&section.as_str()) {
                        return Err(FieldError::new(
                            format!("{here}.{section}"),
                            format!(
                                "a scenario cannot add to {section:?}; expected one of {}",
                                ADD.join(", ")
                            ),
                        ));
                    }
                    let Value::Array(items) = items else {
                        return Err(FieldError::new(
                            format!("{here}.{section}"),
                            "must be a list of tables",
                        ));
                    };
                    let list = doc
                        .entry(section.clone())
                        .or_insert_with(|| Value::Array(Vec::new()));
                    let Value::Array(list) = list else {
                        return Err(FieldError::new(
                            format!("{here}.{section}"),
                            format!("the config's {section} is not a list"),
                        ));
                    };
                    list.extend(items.iter().cloned());
                }
            }
            section if BY_ID.contains(&section) => {
                let Value::Table(changes) = value else {
                    return Err(FieldError::new(
                        here,
                        format!("must be a table of {section} ids"),
                    ));
                };
                for (target, fields) in changes {
                    let Value::Table(fields) = fields else {
                        return Err(FieldError::new(
                            format!("{here}.{target}"),
                            "must be a table of fields to change",
                        ));
                    };
                    let Some(element) = find_by_id(&mut doc, section, target) else {
                        return Err(FieldError::new(
                            format!("{here}.{target}"),
                            format!("no {section} has the id {target:?}"),
                        ));
                    };
                    for (field, v) in fields {
                        if field == "id" {
                            return Err(FieldError::new(
                                format!("{here}.{target}.id"),
                                "a scenario cannot change an id",
                            ));
                        }
                        element.insert(field.clone(), v.clone());
                    }
                }
            }
            section if TABLES.contains(&section) => {
                let Value::Table(fields) = value else {
                    return Err(FieldError::new(here, "must be a table of fields to change"));
                };
                let Some(Value::Table(target)) = doc.get_mut(section) else {
                    return Err(FieldError::new(
                        here,
                        format!("the config has no [{section}] to change"),
                    ));
                };
                for (field, v) in fields {
                    target.insert(field.clone(), v.clone());
                }
            }
            other => {
                return Err(FieldError::new(
                    here,
                    format!(
                        "{other:?} cannot be changed by a scenario; expected id, label, description, disable, add, {}, {}",
                        BY_ID.join(", "),
                        TABLES.join(", ")
                    ),
                ));
            }
        }
    }
    Ok(ScenarioDoc { id, label, doc })
}

fn elements<'a>(doc: &'a mut Table, section: &str) -> Option<&'a mut Vec<Value>> {
    match doc.get_mut(section) {
        Some(Value::Array(items)) => Some(items),
        _ => None,
    }
}

fn has_id(v: &Value, id: &str) -> bool {
    matches!(v.get("id"), Some(Value::String(s)) if s == id)
}

fn find_by_id<'a>(doc: &'a mut Table, section: &str, id: &str) -> Option<&'a mut Table> {
    elements(doc, section)?
        .iter_mut()
        .find(|v| has_id(v, id))
        .and_then(Value::as_table_mut)
}

fn remove_by_id(doc: &mut Table, section: &str, id: &str) -> bool {
    let Some(items) = elements(doc, section) else {
        return false;
    };
    let before = items.len();
    items.retain(|v| !has_id(v, id));
    items.len() < before
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(text: &str) -> Table {
        text.parse().unwrap()
    }

    const BASE: &str = r#"
name = "x"
[budget]
per_year = [1, 2]
[[intervention]]
id = "fgc"
per_year = 15
[[intervention]]
id = "mst"
per_year = 4
[[shock]]
id = "inquiry"
probability_per_year = 0.1
"#;

    #[test]
    fn disables_changes_and_keeps_the_rest() {
        let s = table(
            r#"id = "worst"
disable = ["mst"]
shock.inquiry = { probability_per_year = 1 }
intervention.fgc = { per_year = 30 }
budget = { per_year = [5, 6] }"#,
        );
        let d = apply(&table(BASE), &s, 0).unwrap();
        assert_eq!(d.id, "worst");
        let ivs = d.doc["intervention"].as_array().unwrap();
        assert_eq!(ivs.len(), 1);
        assert_eq!(ivs[0]["per_year"].as_integer(), Some(30));
        assert_eq!(
            d.doc["shock"][0]["probability_per_year"].as_integer(),
            Some(1)
        );
        assert_eq!(d.doc["budget"]["per_year"][1].as_integer(), Some(6));
    }

    #[test]
    fn unknown_targets_are_errors_with_their_path() {
        let e = apply(&table(BASE), &table("id = \"a\"\ndisable = [\"nope\"]"), 2).unwrap_err();
        assert_eq!(e.path, "scenario[2].disable[0]");
        let e = apply(
            &table(BASE),
            &table("id = \"a\"\nintervention.nope = { per_year = 1 }"),
            0,
        )
        .unwrap_err();
        assert_eq!(e.path, "scenario[0].intervention.nope");
        let e = apply(
            &table(BASE),
            &table("id = \"a\"\nhorizon = { years = 3 }"),
            0,
        )
        .unwrap_err();
        assert_eq!(e.path, "scenario[0].horizon");
        let e = apply(&table(BASE), &table("label = \"no id\""), 0).unwrap_err();
        assert_eq!(e.path, "scenario[0].id");
    }

    #[test]
    fn a_disabled_id_must_name_one_element_once() {
        // An intervention and a shock may share an id: disabling it dropped
        // whichever section came first and kept the other, silently.
        let shared = format!("{BASE}[[shock]]\nid = \"mst\"\nprobability_per_year = 0.5\n");
        let e = apply(
            &table(&shared),
            &table("id = \"a\"\ndisable = [\"mst\"]"),
            1,
        )
        .unwrap_err();
        assert_eq!(e.path, "scenario[1].disable[0]");
        assert!(
            e.message
                .contains("more than one element (intervention and shock)"),
            "{e:?}"
        );
        // Named twice, the second was reported as naming nothing.
        let e = apply(
            &table(BASE),
            &table("id = \"a\"\ndisable = [\"mst\", \"fgc\", \"mst\"]"),
            0,
        )
        .unwrap_err();
        assert_eq!(e.path, "scenario[0].disable[2]");
        assert!(e.message.contains("a second time"), "{e:?}");
    }
}
