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
use carecast::model::layout::YearField;
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
    compare_with(model, central, label, |_| Vec::new());
}

/// [`compare`], with more columns of the layout in the family.
fn compare_with(
    model: &Model,
    central: &ScenarioRuns,
    label: &str,
    extra: impl Fn(&carecast::model::layout::Layout) -> Vec<usize>,
) {
    let settings = Settings {
        runs: RUNS,
        seed: 17,
        threads: None,
        central: false,
    };
    let runs = engine::run(model, &settings, &|_| {}).unwrap();
    let layout = &runs.layout;
    let extra = extra(layout);
    let m = layout.months * (1 + layout.placements + layout.cohorts) + extra.len();
    let z = z_for(m);
    for t in 0..layout.months {
        let columns = std::iter::once(layout.lac(t))
            .chain((0..layout.placements).map(|p| layout.lac_placement(t, p)))
            .chain((0..layout.cohorts).map(|c| layout.lac_cohort(t, c)))
            .chain(if t == 0 { extra.clone() } else { Vec::new() });
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

/// Exit programmes that work only with children in care for less than, or
/// at least, so long: with time-in-care bands and ages (cells of a month),
/// with ages but no bands (the stock's time in care from its steady state;
/// which children go shows in the numbers by age band), and with bands but
/// no ages (cells of a day).
#[test]
fn exit_programmes_chosen_by_time_in_care_agree_with_random_runs() {
    let aged = r#"
[[age_band]]
id = "0-9"
from = 0
to = 10
[[age_band]]
id = "10-17"
from = 10
to = 18
[[placement]]
id = "fostering"
weekly_cost = 1000
initial = { "0-9" = 150, "10-17" = 150 }
"#;
    let bands = r#"
[exits.time_in_care]
bands = [0, 6, 24]
factor = [1.5, 1.0, 0.7]
"#;
    // Short stays end soon and long ones rarely: which children a
    // programme takes shows in the numbers that stay.
    let steep = r#"
[exits.time_in_care]
bands = [0, 6, 24]
factor = [3.0, 1.0, 0.3]
"#;
    let unaged = r#"
[[placement]]
id = "fostering"
weekly_cost = 1000
initial = 300
"#;
    let cases = [
        (
            "bands, short stays",
            aged,
            bands,
            "in_care_less_than_months = 6",
        ),
        (
            "no bands, two to five years",
            aged,
            "",
            "in_care_more_than_months = 24\nin_care_less_than_months = 60",
        ),
        (
            "no ages, short stays",
            unaged,
            steep,
            "in_care_less_than_months = 6",
        ),
    ];
    for (label, placements, bands, span) in cases {
        let ages = if placements == aged {
            r#"age_mix = { "0-9" = 0.6, "10-17" = 0.4 }"#
        } else {
            ""
        };
        let text = format!(
            r#"
name = "{label}"
[horizon]
start = "2024-04"
years = 3
{placements}
[entries]
per_year = 120
mix = {{ fostering = 1.0 }}
{ages}
[exits]
mean_months = {{ fostering = 30 }}
{bands}
[[intervention]]
id = "exits"
kind = "exit"
start = "2024-04"
per_year = 20
placements = ["fostering"]
{span}
"#
        );
        let config = config::parse_config(&text, label).unwrap_or_else(|e| panic!("{e}"));
        let model = config.scenarios[0].model.at_means();
        let central = central_of(&model);
        assert!(!central.approximate, "{label}: a limit binds");
        let layout = &central.layout;
        for fy in 0..layout.years {
            let n = central.data[layout.intervention_children(fy, 0)];
            assert!((n - 20.0).abs() < 1e-6, "{label}: {n} chosen in year {fy}");
        }
        compare_with(&model, &central, label, |l| {
            let by_band = (0..l.months).flat_map(|t| (0..l.bands).map(move |b| l.lac_band(t, b)));
            (0..l.years)
                .map(|fy| l.year(fy, YearField::Exits))
                .chain(by_band)
                .collect()
        });
    }
}
