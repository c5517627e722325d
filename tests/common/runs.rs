//! Building a model from config text and simulating it, for the tests that
//! check the model and its analyses against analytic results.

use carecast::config;
use carecast::engine::{self, ScenarioRuns, Settings};
use carecast::model::Model;
use carecast::model::child::Child;
use carecast::model::draws::Random;
use carecast::model::layout::Layout;
use carecast::model::simulate::{Shared, Workspace, simulate as simulate_run};

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

/// Run `run` of `model` simulated on its own with `shared`: every child it
/// followed, and its row of results.
#[allow(dead_code)] // (not every test file that includes this module uses it)
pub fn one_run(model: &Model, seed: u64, run: u64, shared: &mut Shared) -> (Vec<Child>, Vec<f64>) {
    let layout = Layout::new(model);
    let mut ws = Workspace::new(model);
    let mut draws = Random::new(seed, 0);
    draws.restart(run);
    let mut row = vec![0.0; layout.width()];
    simulate_run(model, &layout, &mut draws, &mut ws, shared, &mut row);
    (shared.scratch.children().to_vec(), row)
}
