//! carecast: Monte Carlo simulation of demand and cost for a council's
//! children's services.
//!
//! The flow is config → model → engine → statistics → outputs:
//! - [`config`] reads TOML into raw types and validates them into a [`model::Model`];
//! - [`model`] is the model itself: one month ([`model::month`]), one run ([`model::run`]);
//! - [`engine`] runs many futures in parallel, reproducibly;
//! - [`stats`] and [`report`] summarise the runs, with their Monte Carlo error, and
//!   [`drivers`] ranks the inputs behind their spread; [`sensitivity`] holds each
//!   input at its P10 and P90;
//! - [`precision`] adds batches of runs until that error is inside a target;
//! - [`output`] renders the report (terminal table, JSON, CSV, and HTML, Excel and
//!   Markdown reports);
//! - [`calibrate`] estimates a config from a council's SSDA903 returns, [`backtest`]
//!   scores such a forecast against what followed, and [`score`] compares any run with
//!   observed counts;
//! - [`input`] opens the files a command reads (regular files only), and [`cli`] is the
//!   command line.

// Standard error and output are written only through `stderr_line!` and the
// commands' own writers, which never panic when the stream cannot be written.
#![deny(clippy::print_stderr, clippy::print_stdout)]

/// Writes a line to standard error, like `eprintln!`, except that a line that
/// cannot be written (standard error closed, or a full device such as
/// `/dev/full`) is dropped instead of panicking, so the command still ends
/// with its documented exit status. See [`error::write_stderr`].
macro_rules! stderr_line {
    ($($arg:tt)*) => {
        $crate::error::write_stderr(&format!("{}\n", format_args!($($arg)*)))
    };
}

pub mod backtest;
pub mod calibrate;
pub mod cli;
pub mod config;
pub mod dist;
pub mod drivers;
pub mod engine;
pub mod error;
pub mod input;
pub mod model;
pub mod output;
pub mod partial;
pub mod precision;
pub mod progress;
pub mod report;
pub mod report_finance;
pub mod results;
pub mod score;
pub mod sensitivity;
pub mod stats;
pub mod tally;
