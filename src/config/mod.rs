//! Reading a config: TOML text → [`raw`] serde types → validated [`Model`].

pub mod money;
pub mod raw;
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
        line: None,
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
