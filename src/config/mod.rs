//! Reading a config: TOML text → [`raw`] serde types → validated [`Model`].

pub mod money;
pub mod raw;
pub mod strategy;
pub mod validate;

use std::path::Path;

use crate::error::{ConfigError, FieldError};
use crate::model::Model;

/// The built-in example, `configs/example.toml`, embedded in the binary.
pub const EXAMPLE: &str = include_str!("../../configs/example.toml");
pub const EXAMPLE_ORIGIN: &str = "built-in example (configs/example.toml)";

/// Reads and validates a config file.
pub fn load(path: &Path) -> Result<(Model, String), ConfigError> {
    let origin = path.display().to_string();
    let whole = |message: String| ConfigError {
        origin: origin.clone(),
        line: None,
        path: String::new(),
        message,
    };
    let bytes = std::fs::read(path).map_err(|e| whole(format!("cannot read the config: {e}")))?;
    let text = String::from_utf8(bytes)
        .map_err(|e| whole(format!("the config is not UTF-8 text: {e}")))?;
    let model = parse(&text, &origin)?;
    Ok((model, text))
}

/// Parses and validates config text; `origin` names it in messages.
pub fn parse(text: &str, origin: &str) -> Result<Model, ConfigError> {
    let de =
        toml::Deserializer::parse(text).map_err(|e| toml_error(&e, String::new(), text, origin))?;
    let raw: raw::RawConfig = serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        toml_error(
            e.inner(),
            if path == "." { String::new() } else { path },
            text,
            origin,
        )
    })?;
    validate::validate(raw).map_err(|FieldError { path, message }| ConfigError {
        origin: origin.to_string(),
        line: locate(text, &path),
        path,
        message,
    })
}

fn toml_error(e: &toml::de::Error, path: String, text: &str, origin: &str) -> ConfigError {
    let line = e
        .span()
        .map(|s| text[..s.start.min(text.len())].matches('\n').count() + 1);
    ConfigError {
        origin: origin.to_string(),
        line,
        path,
        message: e.message().trim().to_string(),
    }
}

/// The line of the field at `path` (`placement[1].weekly_cost.sd`), or of
/// the nearest enclosing field the file spells out.
fn locate(text: &str, path: &str) -> Option<usize> {
    use toml::de::{DeTable, DeValue};
    let root = DeTable::parse(text).ok()?;
    let mut table: Option<&DeTable> = Some(root.get_ref());
    let mut value: Option<&DeValue> = None;
    let mut found: Option<usize> = None;
    for segment in path.split('.').flat_map(|s| s.split_inclusive(']')) {
        if let Some(index) = segment.strip_prefix('[').and_then(|s| s.strip_suffix(']')) {
            let Some(DeValue::Array(items)) = value else {
                break;
            };
            let Some(item) = index.parse::<usize>().ok().and_then(|i| items.get(i)) else {
                break;
            };
            found = Some(item.span().start);
            value = Some(item.get_ref());
        } else {
            let (name, rest) = match segment.find('[') {
                Some(i) => (&segment[..i], Some(&segment[i..])),
                None => (segment, None),
            };
            let Some(t) = table else { break };
            let Some((key, v)) = t.iter().find(|(k, _)| k.get_ref().as_ref() == name) else {
                break;
            };
            found = Some(key.span().start);
            value = Some(v.get_ref());
            if let Some(index) = rest
                .and_then(|r| r.strip_prefix('['))
                .and_then(|r| r.strip_suffix(']'))
            {
                let Some(DeValue::Array(items)) = value else {
                    break;
                };
                let Some(item) = index.parse::<usize>().ok().and_then(|i| items.get(i)) else {
                    break;
                };
                found = Some(item.span().start);
                value = Some(item.get_ref());
            }
        }
        table = match value {
            Some(DeValue::Table(t)) => Some(t),
            _ => None,
        };
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
}
