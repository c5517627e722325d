//! Two views, one model: for every shipped config and scenario, the central
//! projection against the mean of random runs with every distribution held
//! at its mean, month by month (the number in care, in each placement and
//! in each cohort).
//! Where no limit binds they must agree within the family's tolerance
//! |z| ≤ Φ⁻¹(1 − 0.001/(2m)); where a capacity or a programme's limit binds
//! the central path must say it is approximate, and the same config without
//! its capacity limits must then agree.

use std::path::Path;

use carecast::config;
use carecast::engine::{self, ScenarioRuns, Settings};
use carecast::model::Model;
#[path = "common/tolerance.rs"]
mod tolerance;
use tolerance::z_for;

const RUNS: u64 = 2_000;

#[test]
fn the_central_path_is_the_mean_of_runs_at_the_inputs_means() {
    let mut checked = Vec::new();
    let mut paths: Vec<_> = std::fs::read_dir("configs")
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    paths.sort();
    for path in paths {
        let config = config::load_config(Path::new(&path)).unwrap_or_else(|e| panic!("{e}"));
        for scenario in &config.scenarios {
            let label = format!("{} / {}", path.display(), scenario.id);
            let mut model = scenario.model.at_means();
            let mut central = central_of(&model);
            if central.approximate {
                checked.push(format!(
                    "{label}: a limit binds; the path says it is approximate"
                ));
                for p in &mut model.placements {
                    p.capacity = None;
                    p.overflow = None;
                }
                central = central_of(&model);
                if central.approximate {
                    continue;
                }
                compare(
                    &model,
                    &central,
                    &format!("{label} without capacity limits"),
                );
                checked.push(format!("{label} without capacity limits: agrees"));
                continue;
            }
            compare(&model, &central, &label);
            checked.push(format!("{label}: agrees"));
        }
    }
    assert!(checked.len() >= 21, "{checked:#?}");
    eprintln!("{}", checked.join("\n"));
}

fn central_of(model: &Model) -> ScenarioRuns {
    let settings = Settings {
        runs: 1,
        seed: 0,
        threads: None,
        central: true,
    };
    engine::run(model, &settings, &|_| {}).unwrap()
}

fn compare(model: &Model, central: &ScenarioRuns, label: &str) {
    let settings = Settings {
        runs: RUNS,
        seed: 17,
        threads: None,
        central: false,
    };
    let runs = engine::run(model, &settings, &|_| {}).unwrap();
    let layout = &runs.layout;
    let m = layout.months * (1 + layout.placements + layout.cohorts);
    let z = z_for(m);
    for t in 0..layout.months {
        let columns = std::iter::once(layout.lac(t))
            .chain((0..layout.placements).map(|p| layout.lac_placement(t, p)))
            .chain((0..layout.cohorts).map(|c| layout.lac_cohort(t, c)));
        for col in columns {
            let xs = runs.column(col);
            let n = xs.len() as f64;
            let mean = xs.iter().sum::<f64>() / n;
            let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0);
            let expected = central.data[col];
            if var == 0.0 {
                assert!(
                    (mean - expected).abs() <= 1e-6 * expected.abs().max(1.0),
                    "{label}, month {t}, column {col}: every run gives {mean}, central {expected}"
                );
                continue;
            }
            let se = (var / n).sqrt();
            assert!(
                (mean - expected).abs() <= z * se,
                "{label}, month {t}, column {col}: runs {mean} ± {se}, central {expected}"
            );
        }
    }
}
