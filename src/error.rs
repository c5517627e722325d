//! Errors, split by who must act on them: the user (config and usage errors,
//! exit 2) or the machine (everything else, exit 1).

use std::path::PathBuf;

use thiserror::Error;

/// A problem with one field of the config, before the file name is known.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldError {
    /// Dotted path of the field, e.g. `placement[2].weekly_cost.sd`.
    pub path: String,
    /// What is wrong, in words, naming the bad value and what was expected.
    pub message: String,
}

impl FieldError {
    pub fn new(path: impl Into<String>, message: impl ToString) -> FieldError {
        FieldError {
            path: path.into(),
            message: message.to_string(),
        }
    }
}

/// A config that cannot be used, located as precisely as the format allows.
#[derive(Clone, Debug, Error, PartialEq, Eq)]
#[error("{origin}{}: {}{message}", line.map(|l| format!(":{l}")).unwrap_or_default(), if path.is_empty() { String::new() } else { format!("{path}: ") })]
pub struct ConfigError {
    /// The file (or `built-in example`) the config came from.
    pub origin: String,
    /// Line number, where the TOML parser gave one.
    pub line: Option<usize>,
    /// Field path; empty for errors about the whole file.
    pub path: String,
    pub message: String,
}

/// Everything that can stop a command.
#[derive(Debug, Error)]
pub enum Error {
    #[error("{0}")]
    Config(#[from] ConfigError),
    #[error("{0}")]
    Usage(String),
    /// A saved results file (`carecast report RESULTS.json`) that cannot be
    /// read back: a usage error, like a bad config.
    #[error("{}: {message}", path.display())]
    Results { path: PathBuf, message: String },
    /// SSDA903 data that cannot be read: a missing file or column.
    #[error("{}: {message}", path.display())]
    Data { path: PathBuf, message: String },
    #[error("cannot write {}: {source}", path.display())]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{0}")]
    Runtime(String),
}

impl Error {
    /// The process exit status for this error (SPEC §4): 2 for config and
    /// usage errors, 1 for any other failure.
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Config(_) | Error::Usage(_) | Error::Results { .. } | Error::Data { .. } => 2,
            Error::Write { .. } | Error::Runtime(_) => 1,
        }
    }
}
