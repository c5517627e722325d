//! The strategy (docs/model.md, docs/config-reference.md): interventions, shocks, savings and
//! scenarios with common random numbers.

use carecast::config::{self, Config};
use carecast::engine::{self, ScenarioRuns, Settings};
use carecast::model::layout::YearField;

#[path = "common/tolerance.rs"]
mod tolerance;
use tolerance::z_for;

/// The immigration-death config with an uncertain price, two placements and
/// a budget, to which each test adds its strategy.
const BASE: &str = r#"
name = "strategy check"
[horizon]
start = "2024-04"
years = 2
[[placement]]
id = "fostering"
weekly_cost = { dist = "pert", min = 800, mode = 1000, max = 1400 }
initial = 300
[[placement]]
id = "residential"
weekly_cost = 4000
initial = 40
[entries]
per_year = 240
mix = { fostering = 0.8, residential = 0.2 }
[exits]
mean_months = { fostering = 25, residential = 20 }
[budget]
per_year = ["26m", "26m"]
"#;

fn config(extra: &str) -> Config {
    config::parse_config(&format!("{BASE}\n{extra}"), "test").unwrap_or_else(|e| panic!("{e}"))
}

fn run(config: &Config, runs: u64, seed: u64, central: bool) -> Vec<ScenarioRuns> {
    let settings = Settings {
        runs,
        seed,
        threads: None,
        central,
    };
    config
        .scenarios
        .iter()
        .map(|s| engine::run(&s.model, &settings, &|_| {}).unwrap())
        .collect()
}

fn var(xs: &[f64]) -> f64 {
    let m = xs.iter().sum::<f64>() / xs.len() as f64;
    xs.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (xs.len() - 1) as f64
}

fn mean(xs: &[f64]) -> f64 {
    xs.iter().sum::<f64>() / xs.len() as f64
}

const TWO_SCENARIOS: &str = r#"
[[scenario]]
id = "without"
disable = ["small"]
[[scenario]]
id = "with"
"#;

/// Columns a strategy cannot add: stock by month and the year totals.
fn common_columns(r: &ScenarioRuns) -> Vec<usize> {
    let l = &r.layout;
    let mut cols: Vec<usize> = (0..l.months)
        .flat_map(|m| [l.lac(m), l.lac_placement(m, 0), l.lac_placement(m, 1)])
        .collect();
    for fy in 0..l.years {
        for f in [
            YearField::Cost,
            YearField::LacEnd,
            YearField::Entries,
            YearField::Exits,
        ] {
            cols.push(l.year(fy, f));
        }
    }
    cols
}

fn assert_identical(a: &ScenarioRuns, b: &ScenarioRuns) {
    for (ca, cb) in common_columns(a).into_iter().zip(common_columns(b)) {
        let (x, y) = (a.column(ca), b.column(cb));
        assert!(
            x.iter().zip(&y).all(|(p, q)| p.to_bits() == q.to_bits()),
            "column {ca} differs"
        );
    }
}

#[test]
fn common_random_numbers_make_differences_precise() {
    let c = config(&format!(
        r#"
[[intervention]]
id = "small"
kind = "prevent_entry"
start = "2024-04"
per_year = 6
placements = ["residential"]
{TWO_SCENARIOS}"#
    ));
    let runs = run(&c, 4_000, 11, false);
    let (a, b) = (&runs[0], &runs[1]);
    let col = a.layout.year(1, YearField::Cost);
    let (x, y) = (a.column(col), b.column(b.layout.year(1, YearField::Cost)));
    let diff: Vec<f64> = x.iter().zip(&y).map(|(p, q)| p - q).collect();
    let ratio = var(&diff) / (var(&x) + var(&y));
    assert!(ratio < 0.1, "with common random numbers: {ratio}");
    // The same comparison with independent streams (another seed for the
    // second scenario) has no such precision.
    let other = run(&c, 4_000, 12, false);
    let y2 = other[1].column(other[1].layout.year(1, YearField::Cost));
    let diff2: Vec<f64> = x.iter().zip(&y2).map(|(p, q)| p - q).collect();
    let ratio2 = var(&diff2) / (var(&x) + var(&y2));
    assert!(ratio2 > 0.5, "independent streams: {ratio2}");
    // The prevention saves money on average: about 6 × 2 residential
    // entrants a year at £4,000 a week.
    assert!(mean(&diff) > 0.0);
}

#[test]
fn a_prevention_with_zero_effect_changes_nothing_bit_for_bit() {
    let c = config(&format!(
        r#"
[[intervention]]
id = "small"
kind = "prevent_entry"
start = "2024-04"
per_year = 0
{TWO_SCENARIOS}"#
    ));
    let runs = run(&c, 300, 5, false);
    assert_identical(&runs[0], &runs[1]);
}

#[test]
fn prevention_never_exceeds_the_eligible_entrants() {
    let c = config(&format!(
        r#"
[[intervention]]
id = "small"
kind = "prevent_entry"
start = "2024-04"
per_year = 100000
placements = ["residential"]
{TWO_SCENARIOS}"#
    ));
    let runs = run(&c, 500, 6, false);
    let (a, b) = (&runs[0], &runs[1]);
    let (la, lb) = (&a.layout, &b.layout);
    for fy in 0..2 {
        let gross = a.column(la.year(fy, YearField::Entries));
        let entered = b.column(lb.year(fy, YearField::Entries));
        let prevented = b.column(lb.intervention_children(fy, 0));
        for r in 0..500 {
            // Every entrant meant for residential care is prevented, and no other.
            assert_eq!(entered[r] + prevented[r], gross[r]);
            assert!(prevented[r] <= gross[r]);
        }
    }
    // No one enters residential care: its stock only falls.
    for row in b.data.chunks(lb.width()) {
        for m in 1..lb.months {
            assert!(row[lb.lac_placement(m, 1)] <= row[lb.lac_placement(m - 1, 1)]);
        }
    }
}

#[test]
fn an_undelivered_programme_costs_nothing_and_changes_nothing() {
    let c = config(&format!(
        r#"
[[intervention]]
id = "small"
kind = "prevent_entry"
start = "2024-04"
per_year = 50
cost_per_year = "500k"
delivery_probability = 0
{TWO_SCENARIOS}"#
    ));
    let runs = run(&c, 300, 7, false);
    assert_identical(&runs[0], &runs[1]);
    let l = &runs[1].layout;
    assert!(
        runs[1]
            .column(l.intervention_cost(0, 0))
            .iter()
            .all(|&c| c == 0.0)
    );
}

#[test]
fn a_programme_is_delivered_in_the_share_of_runs_its_probability_gives() {
    let c = config(
        r#"
[[intervention]]
id = "mst"
kind = "prevent_entry"
start = "2024-04"
per_year = 4
cost_per_year = "120k"
delivery_probability = 0.3
"#,
    );
    let n = 4_000;
    let runs = run(&c, n, 8, false);
    let l = &runs[0].layout;
    let delivered = runs[0].column(l.intervention_delivered(0, 0));
    let share = mean(&delivered);
    let se = (0.3 * 0.7 / n as f64).sqrt();
    // One comparison with the exact share.
    assert!((share - 0.3).abs() <= z_for(1) * se, "{share}");
    // It costs its full amount exactly when delivered.
    let cost = runs[0].column(l.intervention_cost(0, 0));
    for (d, c) in delivered.iter().zip(&cost) {
        assert_eq!(*c, if *d == 1.0 { 120_000.0 } else { 0.0 });
    }
}

#[test]
fn a_certain_shock_of_fixed_size_adds_exactly_that_many_entrants() {
    let c = config(
        r#"
[[shock]]
id = "inquiry"
probability_per_year = 1
children = 39
mix = { fostering = 0.5, residential = 0.5 }
[[shock]]
id = "second"
month = "2025-06"
children = 12
spread_months = 3
mix = { residential = 1 }
[[scenario]]
id = "calm"
disable = ["inquiry", "second"]
[[scenario]]
id = "shocked"
"#,
    );
    let runs = run(&c, 300, 9, false);
    let (a, b) = (&runs[0], &runs[1]);
    for fy in 0..2 {
        let calm = a.column(a.layout.year(fy, YearField::Entries));
        let shocked = b.column(b.layout.year(fy, YearField::Entries));
        let inquiry = b.column(b.layout.shock_entries(fy, 0));
        let second = b.column(b.layout.shock_entries(fy, 1));
        for r in 0..300 {
            assert_eq!(inquiry[r], 39.0, "a certain shock happens every year");
            assert_eq!(second[r], if fy == 1 { 12.0 } else { 0.0 });
            // The other entrants are the same, run by run.
            assert_eq!(shocked[r] - calm[r], inquiry[r] + second[r]);
        }
    }
    // Centrally a certain shock brings its mean, and a fixed-month shock
    // lands in its year.
    let central = run(&c, 1, 0, true);
    let l = &central[1].layout;
    assert_eq!(central[1].data[l.shock_entries(0, 0)], 39.0);
    assert_eq!(central[1].data[l.shock_entries(1, 1)], 12.0);
}

#[test]
fn a_partial_year_carries_its_share_of_a_yearly_shock_chance() {
    // A horizon from January: 2024/25 is three months long. A shock with a
    // chance of 0.6 a year used to have 0.6 in those three months too; it
    // now has that of the same constant hazard, 1 − 0.4^(3/12).
    let text = BASE.replace("start = \"2024-04\"", "start = \"2025-01\"");
    let c = config::parse_config(
        &format!(
            "{text}\n[[shock]]\nid = \"inquiry\"\nprobability_per_year = 0.6\n\
             children = 10\nmix = {{ fostering = 1 }}\n"
        ),
        "test",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let expected = [10.0 * (1.0 - 0.4f64.powf(0.25)), 6.0];
    let central = run(&c, 1, 0, true);
    let l = &central[0].layout;
    for (fy, want) in expected.iter().enumerate() {
        let got = central[0].data[l.shock_entries(fy, 0)];
        assert!((got - want).abs() < 1e-9, "year {fy}: {got} against {want}");
    }
    let runs = 4_000;
    let random = run(&c, runs, 5, false);
    let z = z_for(2);
    for (fy, want) in expected.iter().enumerate() {
        let xs = random[0].column(random[0].layout.shock_entries(fy, 0));
        let p = want / 10.0;
        let se = 10.0 * (p * (1.0 - p) / runs as f64).sqrt();
        let got = mean(&xs);
        assert!(
            (got - want).abs() <= z * se,
            "year {fy}: {got} against {want} ± {}",
            z * se
        );
    }
}

#[test]
fn step_downs_stop_when_the_destination_is_full() {
    let text = r#"
name = "step-down"
[horizon]
start = "2024-04"
years = 1
[[placement]]
id = "residential"
weekly_cost = 4000
initial = 13
[[placement]]
id = "fostering"
weekly_cost = 450
capacity = 5
overflow = "residential"
[exits]
annual_probability = { residential = 0, fostering = 0 }
[[intervention]]
id = "step_down"
kind = "step_down"
from = "residential"
to = "fostering"
start = "2024-04"
per_year = 120
[budget]
per_year = ["3m"]
"#;
    let c = config::parse_config(text, "test").unwrap();
    let runs = run(&c, 300, 10, false);
    let l = &runs[0].layout;
    for row in runs[0].data.chunks(l.width()) {
        for m in 0..12 {
            assert!(row[l.lac_placement(m, 1)] <= 5.0);
            assert_eq!(row[l.lac(m)], 13.0);
        }
        assert_eq!(
            row[l.lac_placement(11, 1)],
            5.0,
            "ten moves a month fill the five places"
        );
        assert_eq!(row[l.intervention_children(0, 0)], 5.0);
    }
}

#[test]
fn grant_funded_spend_is_reported_but_not_counted_against_the_budget() {
    let c = config(
        r#"
[[intervention]]
id = "mst"
kind = "prevent_entry"
start = "2024-04"
per_year = 0
cost_per_year = "250k"
funding = "grant"
[[investment]]
id = "system"
per_year = ["100k", 0]
funding = "grant"
[[investment]]
id = "training"
per_year = ["40k", "40k"]
[[scenario]]
id = "none"
disable = ["mst", "system", "training"]
[[scenario]]
id = "funded"
"#,
    );
    let runs = run(&c, 200, 3, false);
    let (a, b) = (&runs[0], &runs[1]);
    let cost_a = a.column(a.layout.year(0, YearField::Cost));
    let cost_b = b.column(b.layout.year(0, YearField::Cost));
    let grants = b.column(b.layout.year(0, YearField::GrantFunded));
    for r in 0..200 {
        // Only the budget-funded training counts against the envelope.
        assert!((cost_b[r] - cost_a[r] - 40_000.0).abs() < 0.005);
        assert_eq!(grants[r], 350_000.0);
    }
}

#[test]
fn planned_savings_are_exact_to_the_penny_centrally() {
    let c = config(
        r#"
[[saving]]
id = "placements_review"
per_year = ["1,383,250.75", "£2.1m"]
"#,
    );
    let runs = run(&c, 1, 0, true);
    let l = &runs[0].layout;
    let saving = l
        .components
        .iter()
        .position(|c| c.id == "placements_review")
        .unwrap();
    assert_eq!(runs[0].data[l.component(0, saving)], -1_383_250.75);
    assert_eq!(runs[0].data[l.component(1, saving)], -2_100_000.0);
}

#[test]
fn the_mean_delivered_saving_matches_the_delivery_distribution() {
    let c = config(
        r#"
[[saving]]
id = "review"
per_year = ["1m", "1m"]
delivery = { dist = "beta", mean = 0.7, sd = 0.15 }
"#,
    );
    let n = 4_000;
    let runs = run(&c, n, 4, false);
    let l = &runs[0].layout;
    let saving = l.components.iter().position(|c| c.id == "review").unwrap();
    let delivered: Vec<f64> = runs[0]
        .column(l.component(0, saving))
        .iter()
        .map(|x| -x)
        .collect();
    let se = (var(&delivered) / n as f64).sqrt();
    assert!(
        (mean(&delivered) - 700_000.0).abs() <= z_for(1) * se,
        "{}",
        mean(&delivered)
    );
    // And the slip: with certainty the plan moves a year later.
    let slipped = config(
        r#"
[[saving]]
id = "review"
per_year = ["1m", "2m"]
slip_probability = 1
"#,
    );
    let r = run(&slipped, 10, 4, false);
    let l = &r[0].layout;
    let s = l.components.iter().position(|c| c.id == "review").unwrap();
    assert!(r[0].column(l.component(0, s)).iter().all(|&x| x == 0.0));
    assert!(
        r[0].column(l.component(1, s))
            .iter()
            .all(|&x| x == -1_000_000.0)
    );
}

#[test]
fn an_exit_programme_removes_its_children_and_a_unit_cost_change_reprices() {
    let c = config(
        r#"
[[intervention]]
id = "sgo"
kind = "exit"
start = "2024-04"
per_year = 12
placements = ["fostering"]
[[intervention]]
id = "contract"
kind = "unit_cost"
placement = "residential"
start = "2025-04"
change = -400
"#,
    );
    let runs = run(&c, 1, 0, true);
    let l = &runs[0].layout;
    // Centrally one extra exit a month from fostering.
    assert!((runs[0].data[l.intervention_children(0, 0)] - 12.0).abs() < 1e-9);
    assert!((runs[0].data[l.intervention_children(1, 0)] - 12.0).abs() < 1e-9);
    // Residential cost in 2025/26 at £3,600 a week instead of £4,000.
    let base = config("");
    let b = run(&base, 1, 0, true);
    let res = |r: &ScenarioRuns| r.data[r.layout.component(1, 1)];
    assert!(
        (res(&runs[0]) / res(&b[0]) - 0.9).abs() < 1e-6,
        "{} vs {}",
        res(&runs[0]),
        res(&b[0])
    );
}

#[test]
fn capacity_programmes_add_places() {
    let text = r#"
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
[[intervention]]
id = "recruitment"
kind = "capacity"
placement = "inhouse"
start = "2024-04"
per_year = 12
[budget]
per_year = ["1m"]
"#;
    let c = config::parse_config(text, "test").unwrap();
    let runs = run(&c, 1, 0, true);
    let l = &runs[0].layout;
    // One place a month: 10 + 12 places by the year end, all filled.
    assert!((runs[0].data[l.lac_placement(11, 0)] - 22.0).abs() < 1e-9);
    let random = run(&c, 100, 1, false);
    for row in random[0].data.chunks(l.width()) {
        for m in 0..12 {
            assert!(row[l.lac_placement(m, 0)] <= 10.0 + (m + 1) as f64);
        }
    }
}

#[test]
fn the_families_form_of_an_effect_multiplies_out() {
    let c = config(
        r#"
[[intervention]]
id = "edge_of_care"
kind = "prevent_entry"
start = "2024-04"
families = 25
success_rate = { dist = "beta", mean = 0.4, sd = 0.1 }
children_per_family = { dist = "triangular", min = 1, mode = 1.5, max = 2 }
"#,
    );
    let runs = run(&c, 1, 0, true);
    let l = &runs[0].layout;
    // 25 × 0.4 × 1.5 = 15 children a year centrally.
    assert!((runs[0].data[l.intervention_children(0, 0)] - 15.0).abs() < 1e-9);
}

/// Children all in care for two years or more, ten or older, and no
/// entrants: an exit programme for short stays has nobody to work with.
const LONG_STAYERS: &str = r#"
name = "time in care check"
[horizon]
start = "2024-04"
years = 2
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
initial = { "10-17" = 300 }
initial_time_in_care = { shares = [0.0, 0.0, 1.0] }
[exits]
mean_months = { fostering = 40 }
[exits.time_in_care]
bands = [0, 6, 24]
factor = [1.5, 1.0, 0.7]
"#;

fn exit_programme(span: &str) -> String {
    format!(
        r#"{LONG_STAYERS}
[[intervention]]
id = "exits"
kind = "exit"
start = "2024-04"
per_year = 30
placements = ["fostering"]
{span}
"#
    )
}

#[test]
fn an_exit_programme_for_short_stays_leaves_long_stayers_alone() {
    let parse = |text: &str| config::parse_config(text, "test").unwrap_or_else(|e| panic!("{e}"));
    let without = run(&parse(LONG_STAYERS), 300, 5, false);
    let short = run(
        &parse(&exit_programme("in_care_less_than_months = 6")),
        300,
        5,
        false,
    );
    let long = run(
        &parse(&exit_programme("in_care_more_than_months = 24")),
        300,
        5,
        false,
    );
    let l = &short[0].layout;
    for fy in 0..l.years {
        // Nobody qualifies for the short-stay programme, in any run ...
        let chosen = short[0].column(l.intervention_children(fy, 0));
        assert!(chosen.iter().all(|&n| n == 0.0), "{chosen:?}");
        // ... so every child's dates are those of the runs without it.
        let w = &without[0].layout;
        for field in [YearField::Exits, YearField::LacEnd, YearField::Cost] {
            let a = short[0].column(l.year(fy, field));
            let b = without[0].column(w.year(fy, field));
            assert!(a.iter().zip(&b).all(|(x, y)| x.to_bits() == y.to_bits()));
        }
    }
    // Every child qualifies for the programme for long stays: it takes a
    // Poisson number with mean 30 a year, never running short of children.
    let z = z_for(l.years);
    for fy in 0..l.years {
        let chosen = long[0].column(l.intervention_children(fy, 0));
        let se = (30.0 / chosen.len() as f64).sqrt();
        assert!(
            (mean(&chosen) - 30.0).abs() <= z * se,
            "year {fy}: {} a year, expected 30 ± {se}",
            mean(&chosen)
        );
    }
}

#[test]
fn an_exit_programme_s_span_of_time_in_care_is_checked_at_load() {
    let parse = |span: &str| config::parse_config(&exit_programme(span), "test");
    for (span, field, says) in [
        (
            "in_care_less_than_months = 0",
            "in_care_less_than_months",
            "above 0",
        ),
        (
            "in_care_less_than_months = 300",
            "in_care_less_than_months",
            "at most 216",
        ),
        (
            "in_care_more_than_months = -1",
            "in_care_more_than_months",
            "0 or more",
        ),
        (
            "in_care_less_than_months = 6\nin_care_more_than_months = 6",
            "in_care_more_than_months",
            "not below in_care_less_than_months",
        ),
    ] {
        let e = parse(span)
            .err()
            .unwrap_or_else(|| panic!("{span} was accepted"));
        let text = e.to_string();
        assert!(
            text.contains(field) && text.contains(says),
            "{span}: {text}"
        );
    }
    let capacity = LONG_STAYERS.to_string()
        + r#"
[[intervention]]
id = "recruit"
kind = "capacity"
placement = "fostering"
start = "2024-04"
per_year = 5
in_care_less_than_months = 6
"#;
    let Err(e) = config::parse_config(&capacity, "test") else {
        panic!("a capacity programme with a span of time in care was accepted");
    };
    assert!(
        e.to_string().contains(
            "an intervention of kind `capacity` does not take `in_care_less_than_months`"
        ),
        "{e}"
    );
}
