//! Prints the accuracy table of `calibrate` + `run` on synthetic councils
//! generated from a known process (issue 12's "accuracy to reach"; see
//! docs/calibration.md):
//!
//! ```sh
//! cargo run --release --example calibration_accuracy -- [COUNCILS] [RUNS] [TREND] [FIRST_SEED] [--trend | --no-trend] [--uncertain]
//! ```
//!
//! Defaults: 40 councils, 1000 runs each, no trend in the true process
//! (TREND is an annual growth of entries, e.g. 0.05), councils from seed 1000
//! (FIRST_SEED); `--trend`,
//! `--no-trend` and `--uncertain` are passed to the calibration as the flags
//! of the same name (default: the shrunk trend).

#[path = "../tests/common/synthetic.rs"]
mod synthetic;

#[path = "../tests/common/accuracy.rs"]
mod accuracy;

use accuracy::{Setup, measure};
use carecast::calibrate::write::TrendUse;
use std::io::Write as _;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let args: Vec<String> = args
        .into_iter()
        .filter(|a| !a.starts_with("--"))
        .chain(std::env::args().filter(|a| a.starts_with("--")))
        .collect();
    let councils = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(40);
    let runs = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(1000);
    let trend: f64 = args.get(3).and_then(|s| s.parse().ok()).unwrap_or(0.0);
    let mut truth = synthetic::Truth::realistic(1.0);
    truth.trend = trend;
    let mut setup = Setup::new(truth, councils, runs);
    if let Some(first) = args.get(4).and_then(|s| s.parse().ok()) {
        setup.first_seed = first;
    }
    setup.request.trend = if args.iter().any(|a| a == "--trend") {
        TrendUse::Raw
    } else if args.iter().any(|a| a == "--no-trend") {
        TrendUse::Off
    } else {
        TrendUse::Shrunk
    };
    setup.request.uncertain = args.iter().any(|a| a == "--uncertain");
    let accuracy = measure(&setup, &|k| {
        eprint!("\rcouncil {k}/{councils}");
        let _ = std::io::stderr().flush();
    });
    eprintln!();
    print!("{}\n{}", accuracy.table(), accuracy.decomposition());
}
