//! A progress bar on stderr, shown only when stderr is a terminal: one bar
//! per scenario (`Scenario 2/3 strategy`), counting that scenario's runs,
//! with its rate in runs a second and the time left.
//!
//! The engine reports finished runs as one count across scenarios, which
//! it runs one after another; the bar turns that count into the scenario
//! being run and the runs done within it.

use std::sync::Mutex;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressState, ProgressStyle};

pub struct Progress {
    bar: Option<ProgressBar>,
    state: Mutex<State>,
}

struct State {
    /// Runs finished across all scenarios.
    done: u64,
    /// Runs per scenario.
    per_scenario: u64,
    /// The scenarios' ids, in the order they run.
    scenarios: Vec<String>,
    /// The scenario the bar shows.
    shown: usize,
}

/// `12345.678` → `12,346`.
fn rate(per_sec: f64) -> String {
    crate::output::table::thousands(per_sec.max(0.0).round() as u64)
}

impl Progress {
    /// A bar of `total` runs with no scenarios named (a sensitivity sweep).
    pub fn new(total: u64, show: bool) -> Progress {
        Progress::scenarios(&[], total, show)
    }

    /// A bar per scenario, `per_scenario` runs each, for the ids given
    /// (one bar of `per_scenario` runs when `scenarios` is empty).
    pub fn scenarios(scenarios: &[String], per_scenario: u64, show: bool) -> Progress {
        let bar = show.then(|| {
            let bar =
                ProgressBar::with_draw_target(Some(per_scenario), ProgressDrawTarget::stderr());
            if let Ok(style) = ProgressStyle::with_template(
                "{msg}{bar:30} {human_pos}/{human_len} runs · {rate} runs/s · {eta} left",
            ) {
                bar.set_style(style.with_key(
                    "rate",
                    |s: &ProgressState, w: &mut dyn std::fmt::Write| {
                        let _ = write!(w, "{}", rate(s.per_sec()));
                    },
                ));
            }
            bar
        });
        let progress = Progress {
            bar,
            state: Mutex::new(State {
                done: 0,
                per_scenario: per_scenario.max(1),
                scenarios: scenarios.to_vec(),
                shown: 0,
            }),
        };
        progress.show_scenario(0);
        progress
    }

    fn show_scenario(&self, k: usize) {
        let (Some(bar), Ok(state)) = (&self.bar, self.state.lock()) else {
            return;
        };
        if let Some(id) = state.scenarios.get(k) {
            bar.set_message(format!(
                "Scenario {}/{} {id} ",
                k + 1,
                state.scenarios.len()
            ));
        }
    }

    /// Records `n` finished runs (callable from any thread).
    pub fn advance(&self, n: u64) {
        let Some(bar) = &self.bar else { return };
        let Ok(mut state) = self.state.lock() else {
            return;
        };
        state.done += n;
        let last = state.scenarios.len().saturating_sub(1);
        let k = ((state.done / state.per_scenario) as usize).min(last);
        let within = state.done - k as u64 * state.per_scenario;
        if k != state.shown {
            state.shown = k;
            bar.reset();
            if let Some(id) = state.scenarios.get(k) {
                bar.set_message(format!(
                    "Scenario {}/{} {id} ",
                    k + 1,
                    state.scenarios.len()
                ));
            }
        }
        bar.set_position(within.min(state.per_scenario));
    }

    /// Changes the number of runs per scenario the bar counts to
    /// (precision-driven runs learn it batch by batch).
    pub fn set_total(&self, per_scenario: u64) {
        if let (Some(bar), Ok(mut state)) = (&self.bar, self.state.lock()) {
            state.per_scenario = per_scenario.max(1);
            bar.set_length(per_scenario);
        }
    }

    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_rate_is_a_whole_number_with_separators() {
        assert_eq!(super::rate(12345.678), "12,346");
        assert_eq!(super::rate(0.4), "0");
    }
}
