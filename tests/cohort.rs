//! Cohorts (`[[cohort]]`): children with their own entries, exits and
//! income, counted in every total and reported apart.
//!
//! - Common random numbers: a cohort's children draw from streams keyed by
//!   the cohort, so adding one leaves every other child's future unchanged
//!   (nothing links children here: no capacity, no programme).
//! - Income per child-night by age band and per care leaver of the cohort
//!   accrues exactly per day, checked against the run's own children.
//! - The central projection follows the cohort: the mean of runs at the
//!   inputs' means agrees with it within |z| ≤ Φ⁻¹(1 − 0.001/(2m)).

use carecast::engine::{self, ScenarioRuns, Settings};
use carecast::model::child::Child;
use carecast::model::layout::{CohortField, Layout, YearField};
use carecast::model::simulate::Shared;
use carecast::model::{DAYS_PER_MONTH, Model};

#[path = "common/runs.rs"]
mod runs;
use runs::{model, one_run, simulate};
#[path = "common/tolerance.rs"]
mod tolerance;
use tolerance::z_for;

const COHORT: &str = include_str!("configs/cohort.toml");

/// The same config without its cohort and the income tied to it.
fn without_cohort() -> String {
    let cut = COHORT.find("[[cohort]]").unwrap();
    COHORT[..cut].to_string()
}

/// One run's children and row.
fn run_of(model: &Model, seed: u64, run: u64) -> (Vec<Child>, Vec<f64>, Layout) {
    let (children, row) = one_run(model, seed, run, &mut Shared::new(false));
    (children, row, Layout::new(model))
}

#[test]
fn adding_a_cohort_leaves_every_other_childs_future_unchanged() {
    let (with, without) = (model(COHORT), model(&without_cohort()));
    assert_eq!(with.cohorts.len(), 1);
    assert!(without.cohorts.is_empty());
    let mut cohort_children = 0;
    for run in 0..30 {
        let (a, row_a, la) = run_of(&with, 5, run);
        let (b, row_b, lb) = run_of(&without, 5, run);
        let main: Vec<&Child> = a.iter().filter(|c| c.cohort == 0).collect();
        cohort_children += a.len() - main.len();
        assert_eq!(main.len(), b.len(), "run {run}");
        for (x, y) in main.iter().zip(&b) {
            assert_eq!(x.born, y.born, "run {run}");
            assert_eq!(x.care_start.to_bits(), y.care_start.to_bits(), "run {run}");
            assert_eq!(x.left.to_bits(), y.left.to_bits(), "run {run}");
            assert_eq!(x.placement, y.placement, "run {run}");
        }
        // Counts: the totals are the main children's plus the cohort's.
        for t in 0..la.months {
            assert_eq!(
                row_a[la.lac(t)] - row_a[la.lac_cohort(t, 0)],
                row_b[lb.lac(t)],
                "run {run}, month {t}"
            );
        }
        for fy in 0..la.years {
            let entries = row_a[la.year(fy, YearField::Entries)];
            let cohort = row_a[la.cohort(fy, 0, CohortField::Entries)];
            assert!(
                cohort > 0.0,
                "run {run}: the cohort has entrants every year"
            );
            assert_eq!(entries - cohort, row_b[lb.year(fy, YearField::Entries)]);
        }
        // The main children's placement costs are the same: the placement
        // cost with the cohort is higher by the cohort's days only.
        for fy in 0..la.years {
            let cost_a = row_a[la.component(fy, 0)] + row_a[la.component(fy, 1)];
            let cost_b = row_b[lb.component(fy, 0)] + row_b[lb.component(fy, 1)];
            assert!(cost_a > cost_b, "run {run}, year {fy}");
        }
    }
    assert!(cohort_children > 30 * 30);
}

/// Nights in care of `child` within `[from, to)` before and from its 16th
/// birthday.
fn nights_by_band(model: &Model, child: &Child, from: f64, to: f64) -> (f64, f64) {
    let sixteen = model.calendar.days.birthday(child.born, 16) as f64;
    let (start, end) = (child.care_start.max(from), child.left.min(to));
    if end <= start {
        return (0.0, 0.0);
    }
    let young = (end.min(sixteen) - start).max(0.0);
    (young, end - start - young)
}

#[test]
fn cohort_income_accrues_per_night_by_age_band_and_per_care_leaver() {
    let m = model(COHORT);
    let months = &m.calendar.month_starts;
    let horizon = *months.last().unwrap();
    let support = 36.0 * DAYS_PER_MONTH;
    for run in 0..5 {
        let (children, row, layout) = run_of(&m, 11, run);
        for (fy, year) in m.calendar.years.iter().enumerate() {
            let (from, to) = (months[year.first_month], months[year.last_month() + 1]);
            let (mut young, mut old, mut leaver_days, mut all) = (0.0, 0.0, 0.0, 0.0);
            for c in children.iter().filter(|c| c.cohort == 1) {
                let (y, o) = nights_by_band(&m, c, from, to);
                young += y;
                old += o;
                all += y + o;
                if c.left == c.leaves_at {
                    let (s, e) = (c.left.max(from), (c.left + support).min(to).min(horizon));
                    leaver_days += (e - s).max(0.0);
                }
            }
            let grant = row[layout.income(fy, 0)];
            let expected = young * 143.0 + old * 100.0;
            assert!(
                (grant - expected).abs() <= 0.01 + 1e-9 * expected,
                "run {run}, year {fy}: grant {grant}, nights {young} + {old} give {expected}"
            );
            let leavers = row[layout.income(fy, 1)];
            let expected = leaver_days * 285.0 / 7.0;
            assert!(
                (leavers - expected).abs() <= 0.01 + 1e-9 * expected,
                "run {run}, year {fy}: leavers {leavers}, expected {expected}"
            );
            let mean = row[layout.cohort(fy, 0, CohortField::MeanInCare)];
            assert!(
                (mean - all / (to - from)).abs() < 1e-9 * all.max(1.0),
                "run {run}, year {fy}"
            );
            let at_end = children
                .iter()
                .filter(|c| c.cohort == 1 && c.care_start < to && c.left >= to)
                .count();
            assert_eq!(
                row[layout.cohort(fy, 0, CohortField::LacEnd)],
                at_end as f64
            );
        }
    }
}

fn central(model: &Model) -> ScenarioRuns {
    let settings = Settings {
        runs: 1,
        seed: 0,
        threads: None,
        central: true,
    };
    engine::run(model, &settings, &|_| {}).unwrap()
}

#[test]
fn the_central_path_follows_the_cohort() {
    let m = model(COHORT).at_means();
    let c = central(&m);
    assert!(!c.approximate);
    let runs = simulate(&m, 2_000, 23);
    let layout = &runs.layout;
    let mut columns: Vec<(String, usize)> = (0..layout.months)
        .map(|t| {
            (
                format!("cohort in care, month {t}"),
                layout.lac_cohort(t, 0),
            )
        })
        .collect();
    for fy in 0..layout.years {
        for (name, field) in [
            ("entries", CohortField::Entries),
            ("mean in care", CohortField::MeanInCare),
            ("in care at the year's end", CohortField::LacEnd),
        ] {
            columns.push((format!("{name}, year {fy}"), layout.cohort(fy, 0, field)));
        }
        for i in 0..2 {
            columns.push((format!("income {i}, year {fy}"), layout.income(fy, i)));
        }
    }
    let z = z_for(columns.len());
    for (name, col) in columns {
        let xs = runs.column(col);
        let n = xs.len() as f64;
        let mean = xs.iter().sum::<f64>() / n;
        let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0);
        let se = (var / n).sqrt();
        let expected = c.data[col];
        assert!(
            (mean - expected).abs() <= z * se,
            "{name}: runs {mean} ± {se}, central {expected}"
        );
    }
}

/// A cohort of 500 children and no entrants, in one placement with a mean
/// stay of 25 months, at exit factor ½: each child is still in care at day
/// t with probability q = e^(−t/(2 × 25 months)), so the count is binomial.
const HALF_EXITS: &str = r#"name = "cohort exit factor"
[horizon]
start = "2024-04"
years = 2
[[placement]]
id = "fostering"
weekly_cost = 700
[exits]
mean_months = { fostering = 25 }
[[cohort]]
id = "slow"
exit_factor = 0.5
initial = { fostering = 500 }
"#;

#[test]
fn a_cohorts_exit_factor_scales_its_exit_hazard() {
    let m = model(HALF_EXITS);
    let runs = simulate(&m, 2_000, 31);
    let c = central(&m);
    let layout = &runs.layout;
    let hazard = 0.5 / (25.0 * DAYS_PER_MONTH);
    let z = z_for(layout.months);
    for t in 0..layout.months {
        let day = m.calendar.month_starts[t + 1];
        let q = (-hazard * day).exp();
        let expected = 500.0 * q;
        let se = (500.0 * q * (1.0 - q) / 2_000.0).sqrt();
        let xs = runs.column(layout.lac_cohort(t, 0));
        let mean = xs.iter().sum::<f64>() / xs.len() as f64;
        assert!(
            (mean - expected).abs() <= z * se,
            "month {t}: runs {mean}, binomial mean {expected} ± {se}"
        );
        // The whole stock is the cohort's.
        assert_eq!(runs.column(layout.lac(t)), xs);
        let central = c.data[layout.lac_cohort(t, 0)];
        assert!(
            (central - expected).abs() <= 1e-4 * expected,
            "month {t}: central {central}, exact {expected}"
        );
    }
}

#[test]
fn a_run_with_a_cohort_does_not_depend_on_the_thread_count() {
    let m = model(COHORT);
    let one = engine::with_threads(Some(1), || simulate(&m, 200, 99)).unwrap();
    let four = engine::with_threads(Some(4), || simulate(&m, 200, 99)).unwrap();
    assert!(
        one.data
            .iter()
            .zip(&four.data)
            .all(|(a, b)| a.to_bits() == b.to_bits())
    );
}

#[test]
fn scenarios_add_change_and_drop_cohorts() {
    let base = without_cohort();
    let text = format!(
        "{base}\n[[scenario]]\nid = \"none\"\n\
         [[scenario]]\nid = \"added\"\n\
         add.cohort = [{{ id = \"uasc\", exit_factor = 0.5, initial = {{ supported = {{ \"16-17\" = 4 }} }} }}]\n"
    );
    let c = carecast::config::parse_config(&text, "test").unwrap_or_else(|e| panic!("{e}"));
    assert!(c.scenarios[0].model.cohorts.is_empty());
    let added = &c.scenarios[1].model;
    assert_eq!(added.cohorts.len(), 1);
    assert_eq!(
        added.cohorts[0].initial,
        vec![(1, vec![(0..192, 0.0), (192..216, 4.0)])]
    );
    // Changed and dropped in scenarios of the config with the cohort.
    let text = format!(
        "{COHORT}\n[[scenario]]\nid = \"base\"\n\
         [[scenario]]\nid = \"slower\"\ncohort.uasc = {{ exit_factor = 0.25 }}\n\
         [[scenario]]\nid = \"dropped\"\ndisable = [\"uasc\", \"uasc_grant\", \"uasc_leavers\"]\n"
    );
    let c = carecast::config::parse_config(&text, "test").unwrap_or_else(|e| panic!("{e}"));
    let factor = |m: &Model| m.param(m.cohorts[0].exit_factor).dist.mean();
    assert_eq!(factor(&c.scenarios[0].model), 0.5);
    assert_eq!(factor(&c.scenarios[1].model), 0.25);
    assert!(c.scenarios[2].model.cohorts.is_empty());
    assert!(c.scenarios[2].model.finance.income.is_empty());
}
