//! How many of a run's children follow the same path in every scenario of a
//! config: the most a simulation of all the scenarios at once could save by
//! following such a child once rather than once per scenario.
//!
//! ```sh
//! cargo run --release --example divergence -- benches/configs/example-v0.1.toml 200
//! ```
//!
//! Each scenario of runs 0 to RUNS − 1 (the config's seed) is simulated on
//! its own. A child of the initial stock is known in every scenario by its
//! place in the stock (which every scenario creates in the same order), an
//! entrant by its date of birth and the moment its care began (both drawn
//! from its own streams, so the same child has the same pair wherever it is
//! admitted). Its path is taken to be the
//! same when it ends in the same placement on the same day (to the bit) in
//! every scenario. Printed per run: the children each scenario followed, the
//! distinct children of all the scenarios, how many of those follow the same
//! path in all of them, and the child-simulations a joint simulation would
//! still need (each such child once, every other child once per scenario
//! that admits it).

use std::collections::HashMap;
use std::path::Path;

use carecast::model::Model;
use carecast::model::simulate::Shared;

// The test suite's way of simulating one run on its own (`one_run`).
#[allow(dead_code)]
#[path = "../tests/common/runs.rs"]
mod runs;

/// A child's identity across scenarios: (0, its place in the initial
/// stock, 0) or (1, date of birth, start of care as bits); and where its
/// path ends.
type Key = (u8, i64, u64);
type End = (u16, u64);

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (Some(path), Some(runs)) = (args.get(1), args.get(2).and_then(|r| r.parse::<u64>().ok()))
    else {
        eprintln!("usage: divergence CONFIG RUNS");
        std::process::exit(2);
    };
    let config = match carecast::config::load_config(Path::new(path)) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(2);
        }
    };
    let models: Vec<&Model> = config.scenarios.iter().map(|s| &s.model).collect();
    let mut followed = vec![0usize; models.len()];
    let (mut distinct, mut same, mut joint) = (0usize, 0usize, 0usize);
    for run in 0..runs {
        let ends: Vec<HashMap<Key, End>> = models.iter().map(|m| children(m, run)).collect();
        for (f, e) in followed.iter_mut().zip(&ends) {
            *f += e.len();
        }
        let mut all: Vec<Key> = ends.iter().flat_map(|e| e.keys().copied()).collect();
        all.sort_unstable();
        all.dedup();
        for key in all {
            distinct += 1;
            let paths: Vec<Option<&End>> = ends.iter().map(|e| e.get(&key)).collect();
            if paths.iter().all(|p| p.is_some() && *p == paths[0]) {
                same += 1;
                joint += 1;
            } else {
                joint += paths.iter().filter(|p| p.is_some()).count();
            }
        }
    }
    let per_run = |n: usize| n as f64 / runs.max(1) as f64;
    let today: usize = followed.iter().sum();
    println!("{path}: {runs} runs of {} scenarios", models.len());
    for (s, f) in config.scenarios.iter().zip(&followed) {
        println!("  children followed in {}: {:.0} a run", s.id, per_run(*f));
    }
    println!(
        "  distinct children: {:.0} a run; same path in every scenario: {:.0} ({:.1}%)",
        per_run(distinct),
        per_run(same),
        100.0 * same as f64 / distinct.max(1) as f64
    );
    println!(
        "  child-simulations a run: {:.0} one scenario at a time, {:.0} at most jointly ({:.1}%)",
        per_run(today),
        per_run(joint),
        100.0 * joint as f64 / today.max(1) as f64
    );
}

/// Every child run `run` of `model` followed, by identity, with where its
/// path ended.
fn children(model: &Model, run: u64) -> HashMap<Key, End> {
    let (all, _) = runs::one_run(model, model.default_seed, run, &mut Shared::new(false));
    // The initial stock comes first, its care begun on or before day 0;
    // an entrant's care begins after it.
    let stock = all.iter().take_while(|c| c.care_start <= 0.0).count();
    let ends: HashMap<Key, End> = all
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let key = if i < stock {
                (0, i as i64, 0)
            } else {
                (1, i64::from(c.born), c.care_start.to_bits())
            };
            (key, (c.placement, c.left.to_bits()))
        })
        .collect();
    if ends.len() != all.len() {
        eprintln!("run {run}: two children share an identity; the counts are not exact");
    }
    ends
}
