//! A progress bar on stderr, shown only when stderr is a terminal. It counts
//! simulations: a run of a config with three scenarios is three of them
//! (the engine simulates a block of runs' scenarios together), and a
//! sensitivity sweep simulates each run once per setting. The bar's message
//! says how the count is made up (`3 scenarios × 20,000 runs`), and it shows
//! the rate in simulations a second and the time left.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressState, ProgressStyle};

pub struct Progress {
    bar: Option<ProgressBar>,
}

/// `12345.678` → `12,346`.
fn rate(per_sec: f64) -> String {
    crate::output::table::thousands(per_sec.max(0.0).round() as u64)
}

/// How a count of simulations is made up: `3 scenarios × 20,000 runs`.
pub fn made_of(groups: u64, group: &str, runs: u64) -> String {
    use crate::output::count_of;
    format!("{} × {} ", count_of(groups, group), count_of(runs, "run"))
}

impl Progress {
    /// A bar of `total` simulations, introduced by `message` (see
    /// [`made_of`]), drawn only when `show`.
    pub fn new(total: u64, message: String, show: bool) -> Progress {
        let bar = show.then(|| {
            let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
            if let Ok(style) = ProgressStyle::with_template(
                "{msg}{bar:16} {human_pos}/{human_len} · {rate} a second · {eta} left",
            ) {
                bar.set_style(style.with_key(
                    "rate",
                    |s: &ProgressState, w: &mut dyn std::fmt::Write| {
                        let _ = write!(w, "{}", rate(s.per_sec()));
                    },
                ));
            }
            bar.set_message(message);
            bar
        });
        Progress { bar }
    }

    /// Records `n` finished simulations (callable from any thread).
    pub fn advance(&self, n: u64) {
        if let Some(bar) = &self.bar {
            bar.inc(n);
        }
    }

    /// Changes the number of simulations the bar counts to, and what it
    /// says they are made of (precision-driven runs learn it batch by batch).
    pub fn set_total(&self, total: u64, message: String) {
        if let Some(bar) = &self.bar {
            bar.set_length(total);
            bar.set_message(message);
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

    #[test]
    fn the_message_says_what_the_simulations_are() {
        assert_eq!(
            super::made_of(3, "scenario", 20_000),
            "3 scenarios × 20,000 runs "
        );
        assert_eq!(super::made_of(1, "scenario", 1), "1 scenario × 1 run ");
    }
}
