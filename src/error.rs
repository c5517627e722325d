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
    /// The process exit status for this error: 2 for config and
    /// usage errors, 1 for any other failure.
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Config(_) | Error::Usage(_) | Error::Results { .. } | Error::Data { .. } => 2,
            Error::Write { .. } | Error::Runtime(_) => 1,
        }
    }
}

/// A clap usage error in one line: its `error:` line and its tip, if any.
pub fn usage_line(e: &clap::Error) -> String {
    if e.kind() == clap::error::ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand {
        use clap::CommandFactory;
        let names: Vec<String> = crate::cli::Cli::command()
            .get_subcommands()
            .map(|c| c.get_name().to_string())
            .filter(|n| n != "help")
            .collect();
        let list = match names.split_last() {
            Some((last, rest)) if !rest.is_empty() => format!("{} or {last}", rest.join(", ")),
            _ => names.join(""),
        };
        return format!("error: a command is needed ({list}); try 'carecast --help'");
    }
    // clap writes the error, its details (indented), a tip, then the usage:
    // keep everything before the usage, joined on one line.
    let text = e.render().to_string();
    let mut line = String::new();
    for part in text
        .lines()
        .map(str::trim)
        .take_while(|l| !l.starts_with("Usage:") && !l.starts_with("For more information"))
        .filter(|l| !l.is_empty())
    {
        if !line.is_empty() {
            line.push_str(if part.starts_with("tip:") { "; " } else { " " });
        }
        line.push_str(part);
    }
    if !line.starts_with("error:") {
        line = format!("error: {line}");
    }
    format!("{}; try '--help'", one_line(&line))
}

/// Writes `text` to standard error in one write, ignoring a failure: with
/// standard error closed or full (`2>/dev/full`), a message or warning is
/// lost, but the command goes on and ends with its own exit status, where
/// `eprintln!` would panic (exit 101). Used through `stderr_line!`.
pub fn write_stderr(text: &str) {
    use std::io::Write;
    let mut err = std::io::stderr().lock();
    let _ = err.write_all(text.as_bytes()).and_then(|_| err.flush());
}

/// An error message on one line: line breaks and other control characters
/// (from a file's contents quoted in a message) are shown escaped.
pub fn one_line(message: &str) -> String {
    message
        .trim_end()
        .chars()
        .flat_map(|c| {
            let escaped: Vec<char> = if c.is_control() {
                c.escape_default().collect()
            } else {
                vec![c]
            };
            escaped
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Regression (issue 16): a raw multi-line field quoted in a message
    /// broke the one-line promise.
    #[test]
    fn a_message_is_one_line_whatever_it_quotes() {
        assert_eq!(
            one_line("bad value \"a\nb\r\tc\"\n"),
            "bad value \"a\\nb\\r\\tc\""
        );
        assert_eq!(one_line("£1.2m – fine"), "£1.2m – fine");
    }

    #[test]
    fn a_usage_error_is_one_line_with_its_details() {
        let cli = || {
            clap::Command::new("carecast")
                .arg(clap::Arg::new("precision").long("precision"))
                .arg(
                    clap::Arg::new("max-runs")
                        .long("max-runs")
                        .requires("precision"),
                )
        };
        let e = cli()
            .try_get_matches_from(["carecast", "--bogus"])
            .unwrap_err();
        let line = usage_line(&e);
        assert!(!line.contains('\n'), "{line}");
        assert!(
            line.starts_with("error: ") && line.contains("--bogus"),
            "{line}"
        );
        let e = cli()
            .try_get_matches_from(["carecast", "--max-runs", "5"])
            .unwrap_err();
        let line = usage_line(&e);
        assert!(line.contains("--precision"), "{line}");
        assert!(!line.contains("Usage") && !line.contains('\n'), "{line}");
    }
}
