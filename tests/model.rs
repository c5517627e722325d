//! The model against analytic results (SPEC §2.3), with tolerances of four
//! standard errors at fixed seeds.

use carecast::engine::{self, ScenarioRuns, Settings};
use carecast::model::Model;
use carecast::model::layout::YearField;

#[path = "common/runs.rs"]
mod runs;
use runs::{model, simulate};

const IMMIGRATION_DEATH: &str = include_str!("configs/immigration_death.toml");

fn central(model: &Model) -> ScenarioRuns {
    let settings = Settings {
        runs: 1,
        seed: 0,
        threads: None,
        central: true,
    };
    engine::run(model, &settings, &|_| {}).unwrap()
}

struct Moments {
    n: f64,
    mean: f64,
    var: f64,
    /// Standard error of the sample mean.
    se_mean: f64,
    /// Standard error of the sample variance, from the fourth central moment.
    se_var: f64,
}

fn moments(xs: &[f64]) -> Moments {
    let n = xs.len() as f64;
    let mean = xs.iter().sum::<f64>() / n;
    let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0);
    let m4 = xs.iter().map(|x| (x - mean).powi(4)).sum::<f64>() / n;
    Moments {
        n,
        mean,
        var,
        se_mean: (var / n).sqrt(),
        se_var: ((m4 - var * var) / n).sqrt(),
    }
}

fn assert_within(label: &str, observed: f64, expected: f64, se: f64) {
    assert!(
        (observed - expected).abs() <= 4.0 * se,
        "{label}: observed {observed}, expected {expected}, 4 SE = {}",
        4.0 * se
    );
}

#[test]
fn immigration_death_stock_has_the_analytic_mean_and_variance() {
    let m = model(IMMIGRATION_DEATH);
    let runs = simulate(&m, 20_000, 2024);
    let (n0, lambda, h) = (500.0, 20.0, 0.04);
    for fy in 0..4 {
        let t = 12.0 * (fy as f64 + 1.0);
        let q: f64 = (1.0f64 - h).powf(t);
        let var = n0 * q * (1.0 - q) + lambda * (1.0 - q) / h;
        let lac = moments(&runs.column(runs.layout.year(fy, YearField::LacEnd)));
        assert_within(
            &format!("mean LAC at the end of year {}", fy + 1),
            lac.mean,
            500.0,
            lac.se_mean,
        );
        assert_within(
            &format!("variance of LAC at the end of year {}", fy + 1),
            lac.var,
            var,
            lac.se_var,
        );
    }
    // 2027/28 has 366 days (29 February 2028) and a mean stock of 500 throughout.
    let cost = moments(&runs.column(runs.layout.year(3, YearField::Cost)));
    assert_within(
        "mean cost of 2027/28",
        cost.mean,
        500.0 * 366.0 / 7.0 * 1000.0,
        cost.se_mean,
    );
    assert_eq!(cost.n, 20_000.0);
}

#[test]
fn central_projection_holds_the_stationary_stock() {
    let m = model(IMMIGRATION_DEATH);
    let c = central(&m);
    for t in 0..48 {
        let lac = c.data[c.layout.lac(t)];
        assert!((lac - 500.0).abs() < 1e-9, "month {t}: {lac}");
    }
    let cost = c.data[c.layout.year(3, YearField::Cost)];
    assert!((cost - 26_142_857.14).abs() < 0.006, "{cost}");
}

#[test]
fn negative_binomial_entries_have_variance_m_plus_m2_over_k() {
    let text = IMMIGRATION_DEATH.replace("per_year = 240", "per_year = 240\ndispersion = 5");
    let m = model(&text);
    let runs = simulate(&m, 20_000, 7);
    // A year's entrants are the sum of 12 independent months with mean 20.
    let (mean, k) = (20.0, 5.0);
    for fy in 0..4 {
        let e = moments(&runs.column(runs.layout.year(fy, YearField::Entries)));
        assert_within("mean yearly entrants", e.mean, 12.0 * mean, e.se_mean);
        assert_within(
            "variance of yearly entrants",
            e.var,
            12.0 * (mean + mean * mean / k),
            e.se_var,
        );
    }
}

#[test]
fn poisson_entries_have_variance_equal_to_the_mean() {
    let m = model(IMMIGRATION_DEATH);
    let runs = simulate(&m, 20_000, 8);
    let e = moments(&runs.column(runs.layout.year(0, YearField::Entries)));
    assert_within("variance of yearly entrants", e.var, 240.0, e.se_var);
}

const CAPACITY: &str = r#"
name = "capacity"
[horizon]
start = "2024-04"
years = 1
[[placement]]
id = "inhouse"
weekly_cost = 400
capacity = 10
overflow = "ifa"
[[placement]]
id = "ifa"
weekly_cost = 800
[entries]
per_year = 360
mix = { inhouse = 1.0 }
[exits]
annual_probability = { inhouse = 0, ifa = 0 }
[budget]
per_year = ["1m"]
"#;

#[test]
fn capacity_takes_ten_and_overflows_twenty_in_the_central_projection() {
    let m = model(CAPACITY);
    let c = central(&m);
    // 30 entrants in the first month, all meant for in-house places.
    assert_eq!(c.data[c.layout.lac_placement(0, 0)], 10.0);
    assert_eq!(c.data[c.layout.lac_placement(0, 1)], 20.0);
    // Once in-house is full, every later entrant overflows.
    assert_eq!(c.data[c.layout.lac_placement(11, 0)], 10.0);
    assert_eq!(c.data[c.layout.lac_placement(11, 1)], 350.0);
}

#[test]
fn capacity_and_overflow_hold_in_every_random_run() {
    let m = model(CAPACITY);
    let runs = simulate(&m, 2_000, 3);
    let w = runs.layout.width();
    for row in runs.data.chunks(w) {
        let entered = row[runs.layout.lac(0)];
        assert_eq!(row[runs.layout.lac_placement(0, 0)], entered.min(10.0));
        assert_eq!(
            row[runs.layout.lac_placement(0, 1)],
            (entered - 10.0).max(0.0)
        );
        assert!(row[runs.layout.lac_placement(11, 0)] <= 10.0);
    }
}

const AGEING: &str = r#"
name = "ageing"
[horizon]
start = "2024-04"
years = 2
[[age_band]]
id = "0-4"
from = 0
to = 5
[[age_band]]
id = "5-15"
from = 5
to = 16
[[age_band]]
id = "16-17"
from = 16
to = 18
[[placement]]
id = "fostering"
weekly_cost = 500
initial = { "0-4" = 1000, "16-17" = 24 }
[exits]
annual_probability = { fostering = 0 }
[budget]
per_year = ["30m", "30m"]
"#;

#[test]
fn ageing_moves_the_share_its_formula_gives() {
    let m = model(AGEING);
    // Ages uniform over the 60 months of a 5-year band: after 12 months the
    // children who were 48–59 months old have moved on, 12/60 of them.
    let c = central(&m);
    assert!((c.data[c.layout.lac_band(11, 1)] - 200.0).abs() < 1e-9);
    assert!((c.data[c.layout.lac_band(11, 0)] - 800.0).abs() < 1e-9);

    let runs = simulate(&m, 4_000, 11);
    let moved: Vec<f64> = runs.column(runs.layout.lac_band(11, 1));
    let mm = moments(&moved);
    // Each child's starting age is uniform, so the count moved is Binomial(1000, 0.2).
    assert_within(
        "children moved to the next band",
        mm.mean,
        200.0,
        (1000.0 * 0.2 * 0.8 / mm.n).sqrt(),
    );
    assert_within(
        "variance of children moved",
        mm.var,
        1000.0 * 0.2 * 0.8,
        mm.se_var,
    );
}

#[test]
fn a_child_turning_18_leaves_care() {
    let m = model(AGEING);
    let c = central(&m);
    // 24 children spread over the 24 months of 16–17: one turns 18 each month.
    assert!((c.data[c.layout.year(0, YearField::LeftAt18)] - 12.0).abs() < 1e-9);
    assert!((c.data[c.layout.lac_band(11, 2)] - 12.0).abs() < 1e-9);
    let runs = simulate(&m, 500, 5);
    let w = runs.layout.width();
    for row in runs.data.chunks(w) {
        // Nobody is left in the 16–17 band after two years, and every one of
        // them left on an 18th birthday (no one else can have reached 18).
        assert_eq!(row[runs.layout.lac_band(23, 2)], 0.0);
        let left = row[runs.layout.year(0, YearField::LeftAt18)]
            + row[runs.layout.year(1, YearField::LeftAt18)];
        assert_eq!(left, 24.0);
    }
}

#[test]
fn a_run_does_not_depend_on_the_thread_count() {
    let m = model(include_str!("../configs/example.toml"));
    let one = engine::with_threads(Some(1), || simulate(&m, 300, 99)).unwrap();
    let four = engine::with_threads(Some(4), || simulate(&m, 300, 99)).unwrap();
    assert!(
        one.data
            .iter()
            .zip(&four.data)
            .all(|(a, b)| a.to_bits() == b.to_bits())
    );
}

#[test]
fn seeded_results_are_stable_across_versions() {
    // Pins the random streams: if this changes, every user's seeded results
    // change with it, which a release must call out.
    let m = model(IMMIGRATION_DEATH);
    let runs = simulate(&m, 5, 1);
    let lac: Vec<f64> = runs.column(runs.layout.year(0, YearField::LacEnd));
    assert_eq!(lac, PINNED_LAC_END);
}

const PINNED_LAC_END: [f64; 5] = [509.0, 493.0, 499.0, 490.0, 493.0];

#[test]
fn the_entry_trend_compounds_to_its_annual_rate() {
    let text = IMMIGRATION_DEATH.replace("per_year = 240", "per_year = 240\ntrend = 0.1");
    let c = central(&model(&text));
    let entries = |fy| c.data[c.layout.year(fy, YearField::Entries)];
    assert!(
        (entries(0) - 240.0 * (1.1f64.powf(1.0) - 1.0) / (1.1f64.powf(1.0 / 12.0) - 1.0) / 12.0)
            .abs()
            < 1e-9
    );
    for fy in 1..4 {
        assert!(
            (entries(fy) / entries(fy - 1) - 1.1).abs() < 1e-12,
            "year {fy}"
        );
    }
}

#[test]
fn seasonality_shapes_the_months_without_changing_the_year() {
    let factors = "[1.2, 0.8, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0]";
    let text = IMMIGRATION_DEATH.replace(
        "per_year = 240",
        &format!("per_year = 240\nseasonality = {factors}"),
    );
    let c = central(&model(&text));
    assert!((c.data[c.layout.year(0, YearField::Entries)] - 240.0).abs() < 1e-9);
    // January 2025 is month 9 of the horizon: 20 × 1.2 entrants, 20 × 0.8 in February.
    let jan = c.data[c.layout.lac(9)] - c.data[c.layout.lac(8)] * 0.96;
    let feb = c.data[c.layout.lac(10)] - c.data[c.layout.lac(9)] * 0.96;
    assert!((jan - 24.0).abs() < 1e-9, "{jan}");
    assert!((feb - 16.0).abs() < 1e-9, "{feb}");
}

const MOVES: &str = r#"
name = "moves"
[horizon]
start = "2024-04"
years = 1
[[placement]]
id = "residential"
weekly_cost = 4000
initial = 100
[[placement]]
id = "fostering"
weekly_cost = 500
initial = 0
capacity = CAPACITY
overflow = "residential"
[exits]
annual_probability = { residential = 0, fostering = 0 }
[[transition]]
from = "residential"
to = "fostering"
annual_rate = 0.5
[budget]
per_year = ["5m"]
"#;

#[test]
fn moves_use_the_exact_monthly_rate() {
    let c = central(&model(&MOVES.replace("CAPACITY", "1000")));
    let monthly = 1.0 - 0.5f64.powf(1.0 / 12.0);
    assert!((c.data[c.layout.lac_placement(0, 1)] - 100.0 * monthly).abs() < 1e-9);
    // Over a year, half of the children have moved.
    assert!((c.data[c.layout.lac_placement(11, 1)] - 50.0).abs() < 1e-9);
}

#[test]
fn moves_into_a_full_placement_stop_at_its_capacity() {
    let m = model(&MOVES.replace("CAPACITY", "5"));
    let runs = simulate(&m, 500, 4);
    let w = runs.layout.width();
    let mut reached = 0;
    for row in runs.data.chunks(w) {
        for t in 0..12 {
            assert!(row[runs.layout.lac_placement(t, 1)] <= 5.0);
            assert_eq!(row[runs.layout.lac(t)], 100.0);
        }
        reached += (row[runs.layout.lac_placement(11, 1)] == 5.0) as usize;
    }
    assert_eq!(
        reached, 500,
        "with 50 expected moves a year every run fills the 5 places"
    );
}

#[test]
fn no_child_moves_twice_in_a_month() {
    let text = r#"
name = "chain"
[horizon]
start = "2024-04"
years = 1
[[placement]]
id = "a"
weekly_cost = 100
initial = 100
[[placement]]
id = "b"
weekly_cost = 100
[[placement]]
id = "c"
weekly_cost = 100
[exits]
annual_probability = { a = 0, b = 0, c = 0 }
[[transition]]
from = "a"
to = "b"
annual_rate = 0.9
[[transition]]
from = "b"
to = "c"
annual_rate = 0.9
[budget]
per_year = ["1m"]
"#;
    let c = central(&model(text));
    let monthly = 1.0 - 0.1f64.powf(1.0 / 12.0);
    assert_eq!(
        c.data[c.layout.lac_placement(0, 2)],
        0.0,
        "nobody reaches c in the first month"
    );
    assert!((c.data[c.layout.lac_placement(0, 1)] - 100.0 * monthly).abs() < 1e-9);
    let runs = simulate(&model(text), 300, 2);
    for row in runs.data.chunks(runs.layout.width()) {
        assert_eq!(row[runs.layout.lac_placement(0, 2)], 0.0);
    }
}
