//! Building a model from config text and simulating it, for the tests that
//! check the model and its analyses against analytic results.

use carecast::config;
use carecast::engine::{self, ScenarioRuns, Settings};
use carecast::model::Model;

pub fn model(text: &str) -> Model {
    config::parse(text, "test").unwrap_or_else(|e| panic!("{e}"))
}

/// Random runs on every core.
pub fn settings(runs: u64, seed: u64) -> Settings {
    Settings {
        runs,
        seed,
        threads: None,
        central: false,
    }
}

pub fn simulate(model: &Model, runs: u64, seed: u64) -> ScenarioRuns {
    engine::run(model, &settings(runs, seed), &|_| {}).unwrap()
}
