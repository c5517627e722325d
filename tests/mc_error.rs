//! The Monte Carlo error of the reported figures (issue 7, part 3), through
//! the real pipeline: config → engine → report.
//!
//! The config has one placement of 100 children who neither leave nor are
//! joined, at a weekly price drawn once per run from Uniform(700, 1300). A
//! year's cost is then `K·w` with `K = 100 × 365 / 7` placement-weeks, so
//! its p-quantile is `K·(700 + 600p)` and the chance it exceeds a budget B is
//! `(1300 − B/K) / 600` — known exactly. Repeating the simulation over many
//! seeds, the 95% intervals must cover these true values as often as their
//! exact coverage says, within four binomial standard errors:
//! `|ĉ − c| ≤ 4·√(c(1 − c)/S)` over S seeds.

use carecast::config;
use carecast::engine::{self, Settings};
use carecast::report::Report;
use carecast::stats::{PERCENTILES, Z95, binomial_cdf, quantile_ranks, rank_coverage, wilson};

#[path = "common/tolerance.rs"]
mod tolerance;
use tolerance::z_for;

const ONE_PRICE: &str = r#"
name = "one uncertain price"
[horizon]
start = "2024-04"
years = 1
[[placement]]
id = "only"
weekly_cost = { dist = "uniform", min = 700, max = 1300 }
initial = 100
[entries]
per_year = 0
mix = { only = 1.0 }
[exits]
annual_probability = { only = 0 }
[budget]
per_year = ["5.5m"]
"#;

/// Placement-weeks in the year: 100 children × 365 days / 7.
const K: f64 = 100.0 * 365.0 / 7.0;
const BUDGET: f64 = 5_500_000.0;

fn true_quantile(p: f64) -> f64 {
    K * (700.0 + 600.0 * p)
}

fn true_overspend() -> f64 {
    (1300.0 - BUDGET / K) / 600.0
}

fn report(runs: u64, seed: u64) -> Report {
    let config = config::parse_config(ONE_PRICE, "test").unwrap_or_else(|e| panic!("{e}"));
    let settings = Settings {
        runs,
        seed,
        threads: Some(1),
        central: false,
    };
    let results = engine::run_config(&config, &settings, &|_| {}).unwrap();
    Report::for_config(&config, &results, &settings)
}

/// Four binomial standard errors of a coverage c measured over `seeds` repeats.
fn tolerance(c: f64, seeds: usize) -> f64 {
    4.0 * (c * (1.0 - c) / seeds as f64).sqrt()
}

/// Exact coverage of the Wilson interval for n trials at probability q.
fn wilson_coverage(n: usize, q: f64) -> f64 {
    let cdf = binomial_cdf(n, q);
    (0..=n)
        .filter(|&k| {
            let (lo, hi) = wilson(k, n).unwrap();
            lo <= q && q <= hi
        })
        .map(|k| cdf[k] - if k > 0 { cdf[k - 1] } else { 0.0 })
        .sum()
}

/// Over `seeds` seeds of `runs` runs each: how often each percentile's
/// interval, the mean ± 1.96 se and the P(overspend) interval cover the truth.
fn coverage(runs: u64, seeds: u64) {
    let n = runs as usize;
    let s = seeds as usize;
    let mut hits = [0usize; 7];
    let (mut mean_hits, mut over_hits) = (0usize, 0usize);
    let mut ses = Vec::new();
    for seed in 0..seeds {
        let r = report(runs, 1000 + seed);
        let y = &r.scenarios[0].years[0];
        for (i, ((_, p), ci)) in PERCENTILES.iter().zip(y.cost.intervals()).enumerate() {
            let truth = true_quantile(*p);
            if ci.lo.is_some_and(|lo| lo <= truth) && ci.hi.is_some_and(|hi| truth <= hi) {
                hits[i] += 1;
            }
        }
        let se = y.cost.mean_se.unwrap();
        ses.push(se);
        if (y.cost.mean - K * 1000.0).abs() <= Z95 * se {
            mean_hits += 1;
        }
        let q = true_overspend();
        let o = y.overspend.expect("the config has a budget");
        if o.probability_lo.unwrap() <= q && q <= o.probability_hi.unwrap() {
            over_hits += 1;
        }
    }
    let mut pooled = (0usize, 0.0);
    for (i, (name, p)) in PERCENTILES.iter().enumerate() {
        let exact = rank_coverage(n, *p, quantile_ranks(n, *p));
        assert!(exact >= 0.95, "{name}: exact coverage {exact} below 95%");
        let measured = hits[i] as f64 / s as f64;
        eprintln!("{runs} runs × {seeds} seeds: {name} covered {measured:.3} (exact {exact:.4})");
        assert!(
            (measured - exact).abs() <= tolerance(exact, s),
            "{name}: covered in {measured} of seeds, exact coverage {exact} ± {}",
            tolerance(exact, s)
        );
        pooled = (pooled.0 + hits[i], pooled.1 + exact);
    }
    eprintln!(
        "{runs} runs × {seeds} seeds: all percentiles covered {:.4} (exact {:.4})",
        pooled.0 as f64 / (7 * s) as f64,
        pooled.1 / 7.0
    );

    // mean ± 1.96 se: 95% by the central limit theorem.
    let measured = mean_hits as f64 / s as f64;
    eprintln!("{runs} runs × {seeds} seeds: mean ± 1.96 se covered {measured:.3}");
    assert!(
        (measured - 0.95).abs() <= tolerance(0.95, s),
        "mean: {measured}"
    );
    // The reported se estimates σ/√n, σ = 600·K/√12 for the uniform price.
    let sigma_over_root_n = 600.0 * K / 12f64.sqrt() / (runs as f64).sqrt();
    let avg = ses.iter().sum::<f64>() / s as f64;
    let spread = (ses.iter().map(|x| (x - avg).powi(2)).sum::<f64>() / (s - 1) as f64).sqrt();
    assert!(
        (avg - sigma_over_root_n).abs() <= 4.0 * spread / (s as f64).sqrt(),
        "se {avg} against σ/√n = {sigma_over_root_n}"
    );

    // P(overspend): Wilson's exact coverage at this n and probability.
    let exact = wilson_coverage(n, true_overspend());
    let measured = over_hits as f64 / s as f64;
    eprintln!("{runs} runs × {seeds} seeds: P(overspend) covered {measured:.3} (exact {exact:.4})");
    assert!(
        (measured - exact).abs() <= tolerance(exact, s),
        "P(overspend): {measured}, exact {exact}"
    );
}

#[test]
fn intervals_from_exact_ranks_cover_the_true_figures() {
    // 200 runs: percentile ranks from the exact binomial distribution.
    coverage(200, 1000);
}

#[test]
fn intervals_from_the_normal_approximation_cover_the_true_figures() {
    // 1,500 runs: ranks from the normal approximation.
    coverage(1500, 400);
}

#[test]
fn one_seed_against_known_answers() {
    let r = report(4000, 7);
    let y = &r.scenarios[0].years[0];
    // Two comparisons with exact answers (m = 2). The mean is K·1000 within
    // z standard errors; se = sd/√n as reported (to the penny).
    let z = z_for(2);
    let se = y.cost.mean_se.unwrap();
    assert!((y.cost.mean - K * 1000.0).abs() <= z * se);
    assert!((se - y.cost.sd / 4000f64.sqrt()).abs() <= 0.01);
    // P(overspend) within z binomial standard errors of the truth, and its
    // interval is the Wilson interval of the count.
    let q = true_overspend();
    let o = y.overspend.expect("the config has a budget");
    let p = o.probability;
    assert!((p - q).abs() <= z * (q * (1.0 - q) / 4000.0).sqrt());
    let (lo, hi) = wilson((p * 4000.0).round() as usize, 4000).unwrap();
    assert_eq!((o.probability_lo, o.probability_hi), (Some(lo), Some(hi)));
    // Every interval holds its estimate.
    for ci in y.cost.intervals() {
        assert!(ci.lo.unwrap() <= ci.estimate && ci.estimate <= ci.hi.unwrap());
    }
}

#[test]
fn a_central_projection_has_no_intervals() {
    let config = config::parse_config(ONE_PRICE, "test").unwrap();
    let settings = Settings {
        runs: 1,
        seed: 1,
        threads: Some(1),
        central: true,
    };
    let results = engine::run_config(&config, &settings, &|_| {}).unwrap();
    let r = Report::for_config(&config, &results, &settings);
    let y = &r.scenarios[0].years[0];
    assert_eq!(y.cost.mean_se, None);
    assert!(y.cost.error_fields().is_empty());
    assert_eq!(y.overspend.unwrap().probability_lo, None);
    let json = String::from_utf8(carecast::output::json::render(&r).unwrap()).unwrap();
    assert!(!json.contains("_lo") && !json.contains("mean_se"));
    let table = carecast::output::table::render(&r);
    assert!(!table.contains("Monte Carlo error") && !table.contains('±'));
}

#[test]
fn the_workbook_summary_carries_the_intervals() {
    use calamine::{Data, Reader, Xlsx};
    let r = report(500, 3);
    let y = &r.scenarios[0].years[0];
    let bytes = carecast::output::xlsx::render(&r).unwrap();
    let mut wb = Xlsx::new(std::io::Cursor::new(bytes)).unwrap();
    let summary = wb.worksheet_range("Summary").unwrap();
    let want = [
        y.overspend.unwrap().probability_lo,
        y.overspend.unwrap().probability_hi,
        y.cost.p50_lo,
        y.cost.p50_hi,
        y.cost.p90_lo,
        y.cost.p90_hi,
    ];
    for (c, want) in want.into_iter().enumerate() {
        match summary.get_value((1, 14 + c as u32)) {
            Some(Data::Float(x)) => assert_eq!(Some(*x), want, "column {}", 14 + c),
            other => panic!("column {}: {other:?}", 14 + c),
        }
    }
}
