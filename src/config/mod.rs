//! Reading a config: TOML text → [`raw`] serde types → validated [`Model`].

mod cohort;
mod correlation;
pub mod finance;
pub mod limits;
pub mod money;
pub mod raw;
pub mod scenario;
pub mod strategy;
mod time_in_care;
pub mod validate;

use std::path::Path;

use crate::error::{ConfigError, FieldError};
use crate::model::Model;

/// The built-in example, `configs/example.toml`, embedded in the binary.
pub const EXAMPLE: &str = include_str!("../../configs/example.toml");
pub const EXAMPLE_ORIGIN: &str = "built-in example (configs/example.toml)";

/// A config with its scenarios, each a validated model.
#[derive(Clone, Debug)]
pub struct Config {
    /// The config text as run.
    pub text: String,
    /// At least one: `base` when the config declares no scenarios.
    pub scenarios: Vec<Scenario>,
    /// Pairs of scenarios to compare, `(from, to)` as indices.
    pub compare: Vec<(usize, usize)>,
}

#[derive(Clone, Debug)]
pub struct Scenario {
    pub id: String,
    pub label: String,
    pub model: Model,
}

/// The most bytes carecast reads from a config file: thousands of times a
/// config within every limit of `limits.rs`, far less than a machine's memory.
pub const MAX_CONFIG_BYTES: u64 = 64 * 1024 * 1024;

/// Reads a config file: a regular file of at most [`MAX_CONFIG_BYTES`]
/// (a named pipe, a device or a folder is refused at once).
pub fn read(path: &Path) -> Result<String, ConfigError> {
    let origin = path.display().to_string();
    let whole = |message: String| ConfigError {
        origin: origin.clone(),
        line: None,
        path: String::new(),
        message,
    };
    let bytes = crate::input::read(path, MAX_CONFIG_BYTES)
        .map_err(|e| whole(e.message("the config", "a config file (TOML)")))?;
    String::from_utf8(bytes).map_err(|e| whole(format!("the config is not UTF-8 text: {e}")))
}

/// Reads and validates a config file with all its scenarios.
pub fn load_config(path: &Path) -> Result<Config, ConfigError> {
    let text = read(path)?;
    parse_config(&text, &path.display().to_string())
}

fn parse_raw(text: &str, origin: &str) -> Result<raw::RawConfig, ConfigError> {
    let de =
        toml::Deserializer::parse(text).map_err(|e| toml_error(&e, String::new(), text, origin))?;
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        toml_error(
            e.inner(),
            if path == "." { String::new() } else { path },
            text,
            origin,
        )
    })
}

/// Parses and validates config text (its base, without scenarios);
/// `origin` names it in messages.
pub fn parse(text: &str, origin: &str) -> Result<Model, ConfigError> {
    let raw = parse_raw(text, origin)?;
    no_percent_money(text, origin)?;
    validate_base(raw, text, origin)
}

/// Refuses an amount of money written as a percentage (see
/// [`money::percent_as_money`]).
fn no_percent_money(text: &str, origin: &str) -> Result<(), ConfigError> {
    let Ok(doc) = text.parse::<toml::Table>() else {
        return Ok(());
    };
    match money::percent_as_money(&doc) {
        None => Ok(()),
        Some((path, value)) => Err(ConfigError {
            origin: origin.to_string(),
            line: locate(text, &path),
            message: percent_message(&path, &value),
            path,
        }),
    }
}

fn percent_message(path: &str, value: &str) -> String {
    if path.ends_with(".change") {
        // A unit-cost programme's price change by a share is its `factor`.
        return format!(
            "{value:?} is a percentage, but `change` is pounds a week (write -20 or \"-£20\"; \
             for a change by a percentage write `factor` instead, e.g. factor = 0.95 for 5% less)"
        );
    }
    format!(
        "{value:?} is a percentage, but this is an amount of money in pounds (write 450 or \
         \"£450\"; percentages are for rates such as inflation)"
    )
}

/// Validates the config as written, locating any error in `text`.
fn validate_base(raw: raw::RawConfig, text: &str, origin: &str) -> Result<Model, ConfigError> {
    validate::validate(raw).map_err(|FieldError { path, message }| ConfigError {
        origin: origin.to_string(),
        line: locate(text, &path),
        path,
        message,
    })
}

/// The table of the base config (`exits`, `entries`, `budget` or
/// `care_leavers`) that a scenario's `patch` changes with a table of its own
/// and that an error at `path` lies in: the patch replaced that field whole,
/// which may be why something is missing from it.
fn replaced_table<'a>(patch: &toml::Table, path: &'a str) -> Option<&'a str> {
    let table = path.split(['.', '[']).next()?;
    if !["exits", "entries", "budget", "care_leavers"].contains(&table) {
        return None;
    }
    let changed = patch.get(table)?.as_table()?;
    changed.values().any(toml::Value::is_table).then_some(table)
}

/// Parses and validates config text with all its scenarios.
pub fn parse_config(text: &str, origin: &str) -> Result<Config, ConfigError> {
    let raw = parse_raw(text, origin)?;
    no_percent_money(text, origin)?;
    let declared = raw.scenario.clone();
    let compare_raw = raw.compare.clone();
    let base = validate_base(raw, text, origin)?;
    let mut scenarios = Vec::new();
    if declared.is_empty() {
        scenarios.push(Scenario {
            id: "base".into(),
            label: "Base".into(),
            model: base,
        });
    } else {
        let doc: toml::Table = text
            .parse()
            .map_err(|e: toml::de::Error| toml_error(&e, String::new(), text, origin))?;
        for (i, patch) in declared.iter().enumerate() {
            let fail = |path: String, message: String| ConfigError {
                origin: origin.to_string(),
                line: locate(text, &format!("scenario[{i}]")),
                path,
                message,
            };
            let applied = scenario::apply(&doc, patch, i).map_err(|e| fail(e.path, e.message))?;
            let within = |path: &str| format!("scenario[{i}] ({}) → {path}", applied.id);
            if let Some((path, value)) = money::percent_as_money(&applied.doc) {
                return Err(fail(within(&path), percent_message(&path, &value)));
            }
            let raw: raw::RawConfig = serde_path_to_error::deserialize(toml::Value::Table(
                applied.doc.clone(),
            ))
            .map_err(|e| {
                let path = e.path().to_string();
                let message = e.inner().message().trim();
                let message =
                    too_large(&path, message, None).unwrap_or_else(|| message.to_string());
                fail(within(&path), message)
            })?;
            let model = validate::validate_scenario(raw).map_err(|e| {
                let message = match replaced_table(patch, &e.path) {
                    Some(table) => format!(
                        "{} (this scenario's `{table}` replaces each field it names whole, \
                         so a table it gives must hold every entry that should stay)",
                        e.message
                    ),
                    None => e.message,
                };
                fail(within(&e.path), message)
            })?;
            if scenarios.iter().any(|s: &Scenario| s.id == applied.id) {
                return Err(fail(
                    format!("scenario[{i}].id"),
                    format!("scenario {:?} is declared twice", applied.id),
                ));
            }
            scenarios.push(Scenario {
                id: applied.id,
                label: applied.label,
                model,
            });
        }
    }
    // Every scenario's initial stock is drawn alike: with a time in care
    // when any of them needs one.
    if scenarios.iter().any(|s| s.model.stock_time_in_care) {
        for s in &mut scenarios {
            s.model.stock_time_in_care = true;
        }
    }
    let index = |id: &str, path: String| {
        scenarios
            .iter()
            .position(|s| s.id == id)
            .ok_or_else(|| ConfigError {
                origin: origin.to_string(),
                line: locate(text, "compare"),
                path,
                message: format!(
                    "unknown scenario {id:?}; expected one of {}",
                    scenarios
                        .iter()
                        .map(|s| s.id.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            })
    };
    let compare = match compare_raw {
        Some(pairs) => {
            let mut out: Vec<(usize, usize)> = Vec::new();
            for (k, [from, to]) in pairs.iter().enumerate() {
                let pair = (
                    index(from, format!("compare[{k}][0]"))?,
                    index(to, format!("compare[{k}][1]"))?,
                );
                let refuse = |message: String| ConfigError {
                    origin: origin.to_string(),
                    line: locate(text, "compare"),
                    path: format!("compare[{k}]"),
                    message,
                };
                if pair.0 == pair.1 {
                    return Err(refuse(format!(
                        "compares scenario {from:?} with itself; a comparison needs two scenarios"
                    )));
                }
                if out.contains(&pair) {
                    return Err(refuse(format!(
                        "compares {from:?} with {to:?} a second time"
                    )));
                }
                out.push(pair);
            }
            out
        }
        None => (1..scenarios.len()).map(|k| (0, k)).collect(),
    };
    Ok(Config {
        text: text.to_string(),
        scenarios,
        compare,
    })
}

fn toml_error(e: &toml::de::Error, mut path: String, text: &str, origin: &str) -> ConfigError {
    let line = e
        .span()
        .map(|s| text[..s.start.min(text.len())].matches('\n').count() + 1);
    let mut message = e.message().trim().to_string();
    let literal = e.span().and_then(|s| text.get(s));
    if let Some(restated) = too_large(&path, &message, literal) {
        message = restated;
    } else if let Some(restated) = in_plain_words(&message) {
        message = restated;
        if message.ends_with("found a table")
            && let Some(hint) = table_list_hint(&path)
        {
            message.push_str(&hint);
        }
    }
    // A TOML date or time reaches serde as a table with one private key:
    // name the field, not that key.
    const DATETIME: &str = "$__toml_private_datetime";
    if path.contains(DATETIME) || message.contains(DATETIME) {
        path = path
            .split('.')
            .filter(|step| !step.starts_with(DATETIME))
            .collect::<Vec<_>>()
            .join(".");
        message = "a TOML date or time is not allowed here (a month is written as a string, \
                   \"2024-04\")"
            .to_string();
    }
    // The parser's "duplicate key" names no key: quote it from the text.
    if message == "duplicate key"
        && let Some(key) = e.span().and_then(|s| text.get(s)).map(str::trim)
        && !key.is_empty()
    {
        message = format!("duplicate key `{key}`: each key may be given once in a table");
        // `[placement]` written twice: the lists of elements take `[[…]]`.
        const LISTS: [&str; 15] = [
            "placement",
            "initiative",
            "age_band",
            "transition",
            "cost_line",
            "intervention",
            "shock",
            "saving",
            "investment",
            "correlation",
            "fund",
            "income",
            "staff",
            "cohort",
            "scenario",
        ];
        let name = key.trim_start_matches('[').trim_end_matches(']').trim();
        if LISTS.contains(&name) {
            message.push_str(&format!(
                " (to give several, write each as `[[{name}]]`, a list of tables)"
            ));
        }
    }
    ConfigError {
        origin: origin.to_string(),
        line,
        path,
        message,
    }
}

/// A number too large to read at `path`, restated with what the field
/// accepts (the limit of its quantity where it has one, so that a user who
/// obeys the message is not then refused for a smaller limit). `literal` is
/// the value as written, where the parser located it.
fn too_large(path: &str, message: &str, literal: Option<&str>) -> Option<String> {
    let expected = || limits::expected_at(path);
    if let Some(head) = message.strip_suffix(money::BELOW_LIMIT) {
        return Some(format!("{head}{}", expected()));
    }
    // An integer beyond 128 bits, or one beyond 64 bits read by a type that
    // takes no larger (an `i64` field, or any TOML value), fails in the
    // parser or in serde before a carecast type sees it.
    if let Some(restated) = not_whole(path, message) {
        return Some(restated);
    }
    let literal = literal?.trim();
    let overflowed = message.contains("number overflowed")
        || (message.contains("integer `") && !message.contains("expected a string"));
    (overflowed && oversize(literal)).then(|| format!("{literal} is too large: {}", expected()))
}

/// A value of the wrong kind, as serde words it for Rust's types
/// ("invalid type: string \"many\", expected u64"), restated in the words
/// of a config: what was found and what the field takes.
fn in_plain_words(message: &str) -> Option<String> {
    let rest = message.strip_prefix("invalid type: ")?;
    let (found, expected) = rest.rsplit_once(", expected ")?;
    let expected = match expected {
        "u8" | "u16" | "u32" | "u64" | "usize" | "i32" | "i64" => "a whole number",
        "f64" | "f32" => "a number",
        "a boolean" | "bool" => "true or false",
        "a string" => "text in quotes",
        "a sequence" => "a list in square brackets",
        _ => return None,
    };
    let found = match found {
        "map" => "a table".to_string(),
        "sequence" => "a list".to_string(),
        other => match other.split_once(" `") {
            // boolean `true`, integer `5`, floating point `1.5`
            Some((_, value)) => value.trim_end_matches('`').to_string(),
            None => other.replacen("string ", "the text ", 1),
        },
    };
    Some(format!("expected {expected}, found {found}"))
}

/// The hint for a table where a single value was expected at `path`: when
/// the path ends in an index, `[[name]]` (a list of tables) was most likely
/// written where `[name]` (one table) belongs.
fn table_list_hint(path: &str) -> Option<String> {
    let (name, _) = path.rsplit_once('[')?;
    let name = name.rsplit('.').next().unwrap_or(name);
    Some(format!(
        " (`[[{name}]]` makes a list of tables; this one is a single table, written `[{name}]`)"
    ))
}

/// A negative or fractional number given for a whole-number field, as
/// serde words it ("invalid value: integer `-1`, expected u64"), restated
/// with the range the field accepts.
fn not_whole(path: &str, message: &str) -> Option<String> {
    let rest = message
        .strip_prefix("invalid value: ")
        .or_else(|| message.strip_prefix("invalid type: "))?;
    let rest = rest
        .strip_prefix("integer `")
        .or_else(|| rest.strip_prefix("floating point `"))?;
    let (value, kind) = rest.split_once("`, expected ")?;
    let integer = ["u8", "u16", "u32", "u64", "usize", "i32", "i64"];
    if !integer.contains(&kind) {
        return None;
    }
    let expected = limits::whole_expected_at(path)?;
    Some(format!("{value} is not allowed: {expected}"))
}

/// Whether `literal` is a TOML number that no `i64` (or, for a float, no
/// finite `f64`) holds.
fn oversize(literal: &str) -> bool {
    let plain: String = literal.chars().filter(|&c| c != '_').collect();
    let digits = plain.trim_start_matches(['+', '-']);
    let radix = [("0x", 16), ("0o", 8), ("0b", 2)]
        .into_iter()
        .find_map(|(prefix, radix)| digits.strip_prefix(prefix).map(|d| (d, radix)));
    match radix {
        Some((d, radix)) => !d.is_empty() && i64::from_str_radix(d, radix).is_err(),
        None if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) => {
            plain.parse::<i64>().is_err()
        }
        None => plain.parse::<f64>().is_ok_and(f64::is_infinite),
    }
}

/// The line of the field at `path` (`placement[1].weekly_cost.sd`), or of
/// the nearest enclosing field the file spells out.
fn locate(text: &str, path: &str) -> Option<usize> {
    use toml::de::{DeTable, DeValue};
    let root = DeTable::parse(text).ok()?;
    // `a[1].b` → key a, index 1, key b.
    let steps = path.split('.').flat_map(|part| {
        let mut pieces = part.split('[');
        let key = pieces
            .next()
            .filter(|k| !k.is_empty())
            .map(|k| Err(k.to_string()));
        key.into_iter().chain(pieces.map(|i| {
            i.trim_end_matches(']')
                .parse::<usize>()
                .map_err(|_| String::new())
        }))
    });
    let mut value: Option<&DeValue> = None;
    let mut found: Option<usize> = None;
    for step in steps {
        let next = match (step, value) {
            (Ok(i), Some(DeValue::Array(items))) => items.get(i),
            (Err(key), Some(DeValue::Table(t))) => {
                t.iter().find(|(k, _)| *k.get_ref() == key).map(|(_, v)| v)
            }
            (Err(key), None) => root
                .get_ref()
                .iter()
                .find(|(k, _)| *k.get_ref() == key)
                .map(|(_, v)| v),
            _ => None,
        };
        let Some(next) = next else { break };
        found = Some(next.span().start);
        value = Some(next.get_ref());
    }
    found.map(|offset| text[..offset.min(text.len())].matches('\n').count() + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "name = \"x\"\n[horizon]\nstart = \"2024-04\"\n\n[[placement]]\nid = \"a\"\n\n[[placement]]\nid = \"b\"\nweekly_cost = { dist = \"normal\", mean = 5, sd = -1 }\n[budget]\nper_year = [1, 2]\n";

    #[test]
    fn validation_errors_find_their_line() {
        assert_eq!(locate(TEXT, "placement[1].weekly_cost.sd"), Some(10));
        assert_eq!(locate(TEXT, "placement[0].id"), Some(6));
        assert_eq!(locate(TEXT, "budget.per_year"), Some(12));
        assert_eq!(locate(TEXT, "budget.per_year[1]"), Some(12));
        assert_eq!(
            locate(TEXT, "horizon.years"),
            Some(2),
            "a missing key points at its table"
        );
        assert_eq!(locate(TEXT, "entries"), None);
    }

    #[test]
    fn a_config_error_names_file_line_and_field() {
        let text = TEXT.replace(
            "[budget]",
            "initial = 3\n[exits]\nmean_months = { a = 5, b = 5 }\n[budget]",
        );
        let e = parse(&text.replace("years = 1", ""), "c.toml").unwrap_err();
        assert_eq!(e.origin, "c.toml");
        assert!(e.to_string().starts_with("c.toml:"), "{e}");
    }

    /// Regression (issue 16): a duplicate key was reported without its name.
    #[test]
    fn a_duplicate_key_is_named() {
        let e = parse("name = \"x\"\nname = \"y\"\n", "d.toml").unwrap_err();
        assert_eq!(e.line, Some(2));
        assert!(e.message.contains("`name`"), "{e}");
    }
}
