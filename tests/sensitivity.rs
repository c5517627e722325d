//! What drives the risk (issue 7): contribution to variance from the runs,
//! the one-at-a-time tornado, and correlated inputs — against analytic
//! results, with tolerances from standard errors.

use assert_cmd::Command;
use carecast::config;
use carecast::dist::std_normal_cdf;
use carecast::drivers::{self, pearson, spearman};
use carecast::model::layout::YearField;
use carecast::sensitivity;

#[path = "common/runs.rs"]
mod runs;
use runs::{model, settings, simulate};

/// Placements of 10 children each with the given weekly prices, no
/// entries or exits: a year's cost is 10 × 365/7 × the sum of the prices,
/// exactly linear.
fn prices(list: &[(&str, &str)], extra: &str) -> String {
    let mut text = String::from(
        "name = \"prices\"\n[horizon]\nstart = \"2025-04\"\nyears = 1\n\
         [budget]\nper_year = [\"1.6m\"]\n",
    );
    let zero: Vec<String> = list.iter().map(|(id, _)| format!("{id} = 0")).collect();
    text += &format!("[exits]\nannual_probability = {{ {} }}\n", zero.join(", "));
    for (id, price) in list {
        text += &format!("[[placement]]\nid = \"{id}\"\nweekly_cost = {price}\ninitial = 10\n");
    }
    text + extra
}

fn two_prices(a: &str, b: &str, extra: &str) -> String {
    prices(&[("a", a), ("b", b)], extra)
}

/// Days in 2025/26 over 7, times 10 children: the cost of £1 a week.
const PER_POUND: f64 = 10.0 * 365.0 / 7.0;

#[test]
fn a_single_uncertain_input_carries_all_the_variance() {
    let m = model(&two_prices(
        r#"{ dist = "normal", mean = 1500, sd = 150 }"#,
        "1500",
        "",
    ));
    let runs = simulate(&m, 2000, 3);
    let c = drivers::contributions(&m, &runs);
    assert_eq!(c.len(), 1, "one input: {c:?}");
    assert_eq!(c[0].input, "placement.a.weekly_cost");
    assert_eq!(c[0].total.contribution, 1.0);
    // The cost is linear in a normal price Z: the correlation of its CDF
    // score Φ(Z) with Z is E[Z·Φ(Z)]·√12 = E[φ(Z)]·√12 = √(3/π). Its standard
    // error is about (1 − ρ²)/√n.
    let rho = (3.0 / std::f64::consts::PI).sqrt();
    let se = (1.0 - rho * rho) / 2000f64.sqrt();
    for r in [c[0].total.rank_correlation, c[0].years[0].rank_correlation] {
        assert!((r - rho).abs() <= 4.0 * se, "{r} vs {rho} (se {se})");
    }
}

/// Two independent normal prices with variance shares s and 1 − s: the
/// correlation of each one's CDF score Φ(Z) with the cost (linear in both)
/// is √(3/π)·√s, so the normalised shares are exactly s and 1 − s. The
/// tolerance is four standard errors of the share, estimated from 20
/// independent batches.
#[test]
fn two_independent_inputs_share_the_variance_as_theory_says() {
    let m = model(&two_prices(
        r#"{ dist = "normal", mean = 1500, sd = 200 }"#,
        r#"{ dist = "normal", mean = 1500, sd = 100 }"#,
        "",
    ));
    let n = 20_000;
    let runs = simulate(&m, n, 11);
    let c = drivers::contributions(&m, &runs);
    assert_eq!(
        c[0].input, "placement.a.weekly_cost",
        "larger variance first"
    );
    let expected = 0.8f64;

    // Batch estimates of the same share for its standard error.
    let cost = runs.column(runs.layout.year(0, YearField::Cost));
    let a = runs.column(runs.layout.input(0));
    let b = runs.column(runs.layout.input(1));
    let batches = 20;
    let size = n as usize / batches;
    let shares: Vec<f64> = (0..batches)
        .map(|k| {
            let r = k * size..(k + 1) * size;
            let score = |xs: &[f64], sd: f64| -> Vec<f64> {
                xs.iter()
                    .map(|x| std_normal_cdf((x - 1500.0) / sd))
                    .collect()
            };
            let (x, y) = (
                pearson(&score(&a[r.clone()], 200.0), &cost[r.clone()]),
                pearson(&score(&b[r.clone()], 100.0), &cost[r]),
            );
            x * x / (x * x + y * y)
        })
        .collect();
    let mean = shares.iter().sum::<f64>() / batches as f64;
    let sd = (shares.iter().map(|s| (s - mean).powi(2)).sum::<f64>() / (batches - 1) as f64).sqrt();
    // A batch of n/20 runs has √20 times the standard error of all n.
    let se = sd / (batches as f64).sqrt();
    let got = c[0].total.contribution;
    assert!(
        (got - expected).abs() <= 4.0 * se,
        "share {got} vs {expected} (se {se})"
    );
    assert!((c[0].total.contribution + c[1].total.contribution - 1.0).abs() < 1e-5);
}

#[test]
fn the_tornado_swing_of_a_linear_input_is_exact() {
    let m = model(&two_prices(
        r#"{ dist = "normal", mean = 1500, sd = 200 }"#,
        r#"{ dist = "uniform", min = 1400, max = 1600 }"#,
        "",
    ));
    let s = sensitivity::analyse(&m, "base", &settings(500, 5), &|_| {}).unwrap();
    assert_eq!(s.drivers.len(), 2);
    let (a, b) = (&s.drivers[0], &s.drivers[1]);
    assert_eq!(a.input, "placement.a.weekly_cost");
    // Against the free run, run i changes by PER_POUND × (held − drawn), so
    // the change in the mean has standard error PER_POUND·σ/√n, with σ the
    // input's sd (200, and 200/√12 for the uniform); the sample sd of 500
    // runs is within 4/√(2·500) of σ, relatively.
    for (d, sd) in [(a, 200.0), (b, 200.0 / 12f64.sqrt())] {
        let expected = PER_POUND * sd / 500f64.sqrt();
        for se in [d.total.mean_se.low, d.total.mean_se.high] {
            assert!(
                (se / expected - 1.0).abs() < 4.0 / 1000f64.sqrt(),
                "{}: se {se} vs {expected}",
                d.input
            );
        }
    }
    // Held values are the inputs' P10 and P90.
    let z = 1.281_551_565_544_600_5;
    assert!((a.low - (1500.0 - 200.0 * z)).abs() < 1e-6);
    assert!((a.high - (1500.0 + 200.0 * z)).abs() < 1e-6);
    assert!((b.low - 1420.0).abs() < 1e-9 && (b.high - 1580.0).abs() < 1e-9);
    // Every run's cost moves by PER_POUND × (high − low): so does the mean,
    // to within the pence each run is rounded to.
    for d in [a, b] {
        let swing = d.total.mean.high - d.total.mean.low;
        let exact = PER_POUND * (d.high - d.low);
        assert!(
            (swing - exact).abs() < 0.02,
            "{}: {swing} vs {exact}",
            d.input
        );
        assert_eq!(d.swing, (exact * 100.0).round() / 100.0);
        // Every run moves by the same amount between low and high: the
        // swing has no Monte Carlo error beyond the pence.
        assert!(d.swing_se < 0.01, "{}", d.swing_se);
    }
    // Held at P90, the dominant price pushes the overspend probability up.
    let p = a.total.p_overspend.unwrap();
    assert!(p.high > 0.0 && p.low < 0.0);
}

#[test]
fn events_are_held_at_their_own_quantiles() {
    // A programme delivered with probability 0.7 and a shock of 20 children
    // with probability 0.1 a year over 3 years: held at P10 / P90, the
    // programme is off / on and the shock happens 0 / 1 times.
    let m = model(EVENTS);
    let s = sensitivity::analyse(&m, "base", &settings(400, 9), &|_| {}).unwrap();
    let find = |path: &str| s.drivers.iter().find(|d| d.input == path).unwrap();
    let edge = find("intervention.edge.delivery_probability");
    assert_eq!((edge.low, edge.high), (0.0, 1.0));
    let shock = find("shock.inquiry.probability_per_year");
    assert_eq!((shock.low, shock.high), (0.0, 1.0));
    // One shock of 20 children means more children and more cost, by far
    // more than the standard error of the change.
    assert!(shock.total.mean.high > shock.total.mean.low);
    assert!(shock.total.mean.high > 4.0 * shock.total.mean_se.high);
    assert!(shock.total.mean_se.high > 0.0);
}

/// Gaussian-copula rank correlation: asked 0.7, realised within four
/// standard errors (var(atanh ρ_s) ≈ 1.06/(n − 3), Fieller et al. 1957);
/// each marginal keeps its distribution (Kolmogorov–Smirnov at 1.95/√n).
#[test]
fn correlated_inputs_realise_the_rank_correlation_and_keep_their_marginals() {
    let m = model(&two_prices(
        r#"{ dist = "normal", mean = 1500, sd = 200 }"#,
        r#"{ dist = "uniform", min = 1400, max = 1600 }"#,
        &corr("placement.a.weekly_cost", "placement.b.weekly_cost", 0.7),
    ));
    let n = 20_000u64;
    let runs = simulate(&m, n, 21);
    let realised = drivers::realised_correlations(&m, &runs);
    assert_eq!(realised.len(), 1);
    let r = realised[0].realised;
    let se = (1.0 - 0.49f64) * (1.06 / (n as f64 - 3.0)).sqrt();
    assert!((r - 0.7).abs() <= 4.0 * se, "realised {r}, se {se}");

    let ks = |mut xs: Vec<f64>, cdf: &dyn Fn(f64) -> f64| {
        xs.sort_by(f64::total_cmp);
        let k = xs.len() as f64;
        xs.iter()
            .enumerate()
            .map(|(i, &x)| {
                let f = cdf(x);
                (f - i as f64 / k).abs().max(((i + 1) as f64 / k - f).abs())
            })
            .fold(0.0, f64::max)
    };
    let critical = 1.95 / (n as f64).sqrt();
    let a = runs.column(runs.layout.input(0));
    let b = runs.column(runs.layout.input(1));
    let d_a = ks(a, &|x| std_normal_cdf((x - 1500.0) / 200.0));
    let d_b = ks(b, &|x| ((x - 1400.0) / 200.0).clamp(0.0, 1.0));
    assert!(d_a < critical, "normal marginal: D = {d_a}");
    assert!(d_b < critical, "uniform marginal: D = {d_b}");
}

#[test]
fn without_correlation_the_inputs_are_independent() {
    let m = model(&two_prices(
        r#"{ dist = "normal", mean = 1500, sd = 200 }"#,
        r#"{ dist = "uniform", min = 1400, max = 1600 }"#,
        "",
    ));
    let n = 20_000;
    let runs = simulate(&m, n, 21);
    let r = spearman(
        &runs.column(runs.layout.input(0)),
        &runs.column(runs.layout.input(1)),
    );
    // Under independence ρ_s has standard error 1/√(n − 1).
    assert!(r.abs() <= 4.0 / ((n - 1) as f64).sqrt(), "{r}");
}

#[test]
fn holding_a_correlated_input_moves_its_partner() {
    // Held at P90, a price correlated 0.9 with another pulls the other up:
    // the partner's mean becomes E[b | a at its P90] > E[b].
    let m = model(&two_prices(
        r#"{ dist = "normal", mean = 1500, sd = 200 }"#,
        r#"{ dist = "normal", mean = 1500, sd = 200 }"#,
        &corr("placement.a.weekly_cost", "placement.b.weekly_cost", 0.9),
    ));
    let s = sensitivity::analyse(&m, "base", &settings(2000, 4), &|_| {}).unwrap();
    let a = &s.drivers[0];
    // Alone, a's swing would be PER_POUND × (P90 − P10) of a; with b
    // following it (conditional mean of b moves by ρ·(c − 0)·sd per side),
    // the swing is (1 + ρ) times as large, ρ = 2 sin(π·0.9/6).
    let rho = 2.0 * (std::f64::consts::PI * 0.9 / 6.0).sin();
    let alone = PER_POUND * (a.high - a.low);
    let swing = a.total.mean.high - a.total.mean.low;
    // With common random numbers b's normal moves by exactly ρ·(c_high −
    // c_low) in every run, so the swing is exact up to the pence each run's
    // cost is rounded to.
    assert!(
        (swing - alone * (1.0 + rho)).abs() < 0.02,
        "swing {swing} vs {}",
        alone * (1.0 + rho)
    );
}

/// A programme delivered with probability 0.7 and a shock of 20 children
/// with probability 0.1 a year, over 3 years; a price and an entry rate
/// that are uncertain.
const EVENTS: &str = r#"
name = "events"
[horizon]
start = "2025-04"
years = 3
[[placement]]
id = "fostering"
weekly_cost = { dist = "lognormal", median = 1000, p90 = 1300 }
initial = 100
[entries]
per_year = { dist = "gamma", mean = 40, sd = 6 }
mix = { fostering = 1 }
[exits]
mean_months = { fostering = 30 }
[budget]
per_year = ["5.5m", "5.5m", "5.5m"]
[[intervention]]
id = "edge"
kind = "prevent_entry"
start = "2025-04"
per_year = 10
cost_per_year = "100k"
delivery_probability = 0.7
[[shock]]
id = "inquiry"
probability_per_year = 0.1
children = 20
mix = { fostering = 1 }
[[scenario]]
id = "base"
[[scenario]]
id = "no_edge"
disable = ["edge"]
"#;

/// A `[[correlation]]` of rank `rank` between two inputs.
fn corr(a: &str, b: &str, rank: f64) -> String {
    format!("[[correlation]]\ninputs = [\"{a}\", \"{b}\"]\nrank = {rank}\n")
}

fn carecast() -> Command {
    Command::cargo_bin("carecast").unwrap()
}

fn config_file(dir: &tempfile::TempDir, text: &str) -> std::path::PathBuf {
    let path = dir.path().join("c.toml");
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn impossible_or_wrong_correlations_are_config_errors() {
    let dir = tempfile::tempdir().unwrap();
    let cases: [(String, &[&str]); 7] = [
        (
            // a~b and a~c strongly positive, b~c strongly negative.
            [
                corr("placement.a.weekly_cost", "placement.b.weekly_cost", 0.9),
                corr("placement.a.weekly_cost", "placement.c.weekly_cost", 0.9),
                corr("placement.b.weekly_cost", "placement.c.weekly_cost", -0.9),
            ]
            .concat(),
            &["not positive", "correlation[2]", "placement.c.weekly_cost"],
        ),
        (
            corr("placement.a.weekly_cost", "placement.z.weekly_cost", 0.5),
            &[
                "correlation[0].inputs[1]",
                "placement.z.weekly_cost",
                "inputs of this config that can be correlated",
            ],
        ),
        (
            corr("placement.a.weekly_cost", "placement.a.inflation", 0.5),
            &["correlation[0].inputs[1]", "fixed number"],
        ),
        (
            corr("placement.a.weekly_cost", "saving.s.slip_probability", 0.5),
            &[
                "correlation[0].inputs[1]",
                "is a chance event",
                "can be correlated are: placement.a.weekly_cost",
            ],
        ),
        (
            corr("placement.a.weekly_cost", "placement.b.weekly_cost", 1.5),
            &["correlation[0].rank", "between -1 and 1", "1.5"],
        ),
        (
            corr("placement.a.weekly_cost", "placement.a.weekly_cost", 0.5),
            &["correlation[0].inputs", "twice"],
        ),
        (
            [
                corr("placement.a.weekly_cost", "placement.b.weekly_cost", 0.5),
                corr("placement.b.weekly_cost", "placement.a.weekly_cost", 0.2),
            ]
            .concat(),
            &[
                "correlation[1].inputs",
                "already correlated in correlation[0]",
            ],
        ),
    ];
    for (extra, expect) in cases {
        let normal = r#"{ dist = "normal", mean = 1500, sd = 100 }"#;
        let text = prices(&[("a", normal), ("b", normal), ("c", normal)], &extra);
        let path = config_file(&dir, &text);
        let out = carecast().arg("validate").arg(&path).output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{err}");
        assert!(!err.contains("panicked"), "{err}");
        assert!(err.contains("c.toml"), "names the file: {err}");
        for e in expect {
            assert!(err.contains(e), "expected {e:?} in: {err}");
        }
    }
}

#[test]
fn sensitivity_json_is_identical_on_one_and_two_threads() {
    let dir = tempfile::tempdir().unwrap();
    let bytes = |threads: &str| {
        let path = dir.path().join(format!("s{threads}.json"));
        carecast()
            .arg("sensitivity")
            .arg(config_file(&dir, EVENTS))
            .args(["--runs", "200", "--quiet"])
            .args(["--threads", threads, "--json"])
            .arg(&path)
            .assert()
            .success();
        std::fs::read(path).unwrap()
    };
    let one = bytes("1");
    assert_eq!(one, bytes("2"));
    let v: serde_json::Value = serde_json::from_slice(&one).unwrap();
    let drivers = v["drivers"].as_array().unwrap();
    assert!(!drivers.is_empty());
    // Ranked by swing, largest first.
    let swings: Vec<f64> = drivers
        .iter()
        .map(|d| d["swing"].as_f64().unwrap())
        .collect();
    assert!(swings.windows(2).all(|w| w[0] >= w[1]), "{swings:?}");
    for d in drivers {
        assert!(d["input"].as_str().unwrap().contains('.'));
        assert!(d["low"].as_f64().unwrap() <= d["high"].as_f64().unwrap());
    }
}

#[test]
fn sensitivity_writes_every_format_and_refuses_bad_flags() {
    let dir = tempfile::tempdir().unwrap();
    let (json, csv, html) = (
        dir.path().join("s.json"),
        dir.path().join("s.csv"),
        dir.path().join("s.html"),
    );
    let config = config_file(&dir, EVENTS);
    let out = carecast()
        .arg("sensitivity")
        .arg(&config)
        .args(["--scenario", "no_edge", "--runs", "100"])
        .arg("--json")
        .arg(&json)
        .arg("--csv")
        .arg(&csv)
        .arg("--html")
        .arg(&html)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let table = String::from_utf8(out.stdout).unwrap();
    assert!(table.contains("P10 → P90"), "{table}");
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(page.contains("<svg") && page.contains("input at its P90"));
    // Axis labels below zero carry the true minus, as the tables do, and
    // none reads "-0".
    let ticks: Vec<&str> = page
        .split("<text class=\"tick\"")
        .skip(1)
        .filter_map(|t| t.split_once('>').and_then(|(_, r)| r.split_once("</text>")))
        .map(|(label, _)| label)
        .collect();
    assert!(ticks.iter().any(|t| t.starts_with('\u{2212}')), "{ticks:?}");
    assert!(ticks.iter().all(|t| !t.starts_with('-')), "{ticks:?}");
    let csv = std::fs::read_to_string(&csv).unwrap();
    assert!(csv.starts_with("input,fy,metric,held,value\n"));
    assert!(csv.contains("placement.fostering.weekly_cost,total,mean,p90,"));
    // Without the programme, its delivery is no input.
    assert!(!csv.contains("intervention.edge"));

    for (args, expect) in [
        (vec!["--scenario", "nope"], "no such scenario"),
        (vec!["--runs", "0"], "--runs"),
        (vec!["--threads", "0"], "--threads"),
    ] {
        let out = carecast()
            .arg("sensitivity")
            .arg(&config)
            .args(&args)
            .arg("--json")
            .arg(dir.path().join("never.json"))
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2));
        assert!(String::from_utf8_lossy(&out.stderr).contains(expect));
        assert!(!dir.path().join("never.json").exists());
    }
}

#[test]
fn the_report_takes_the_tornado_into_its_html() {
    let dir = tempfile::tempdir().unwrap();
    let config = config_file(&dir, EVENTS);
    let (results, sens, html) = (
        dir.path().join("r.json"),
        dir.path().join("s.json"),
        dir.path().join("r.html"),
    );
    carecast()
        .arg("run")
        .arg(&config)
        .args(["--runs", "200", "--quiet", "--json"])
        .arg(&results)
        .assert()
        .success();
    carecast()
        .arg("sensitivity")
        .arg(&config)
        .args(["--runs", "100", "--quiet", "--json"])
        .arg(&sens)
        .assert()
        .success();
    carecast()
        .arg("report")
        .arg(&results)
        .arg("--sensitivity")
        .arg(&sens)
        .arg("--html")
        .arg(&html)
        .arg("--quiet")
        .assert()
        .success();
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(page.contains("id=\"sensitivity\""));
    assert_eq!(
        page.matches("input at its P90").count(),
        3,
        "three tornadoes"
    );

    // Without --html, or with the results file given as the analysis: exit 2.
    let out = carecast()
        .arg("report")
        .arg(&results)
        .arg("--sensitivity")
        .arg(&sens)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let out = carecast()
        .arg("report")
        .arg(&results)
        .arg("--sensitivity")
        .arg(&results)
        .arg("--html")
        .arg(dir.path().join("never.html"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("not a sensitivity analysis"), "{err}");
    assert!(!dir.path().join("never.html").exists());

    // An analysis of a config of the same name but other years, or of a
    // scenario the results do not have: exit 2, naming what differs.
    let shorter = EVENTS
        .replace("years = 3", "years = 2")
        .replace("[\"5.5m\", \"5.5m\", \"5.5m\"]", "[\"5.5m\", \"5.5m\"]");
    assert_ne!(shorter, EVENTS);
    let short_config = dir.path().join("short.toml");
    std::fs::write(&short_config, shorter).unwrap();
    let short_sens = dir.path().join("short.json");
    carecast()
        .arg("sensitivity")
        .arg(&short_config)
        .args(["--runs", "20", "--quiet", "--json"])
        .arg(&short_sens)
        .assert()
        .success();
    let text = std::fs::read_to_string(&sens).unwrap();
    let other = dir.path().join("other.json");
    let renamed = text.replacen("\"scenario\": \"base\"", "\"scenario\": \"elsewhere\"", 1);
    assert_ne!(renamed, text);
    std::fs::write(&other, renamed).unwrap();
    for (analysis, expect) in [
        (&short_sens, "covers the years 2025/26, 2026/27 but"),
        (&other, "of scenario \"elsewhere\", which the results"),
    ] {
        let out = carecast()
            .arg("report")
            .arg(&results)
            .arg("--sensitivity")
            .arg(analysis)
            .arg("--html")
            .arg(dir.path().join("never.html"))
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2));
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(expect), "{err}");
        assert!(!dir.path().join("never.html").exists());
    }
}

#[test]
fn without_a_budget_the_tornado_is_of_cost_alone() {
    let text = EVENTS.replace("[budget]\nper_year = [\"5.5m\", \"5.5m\", \"5.5m\"]\n", "");
    assert_ne!(text, EVENTS);
    let m = model(&text);
    let s = sensitivity::analyse(&m, "base", &settings(200, 2), &|_| {}).unwrap();
    assert!(s.base.total.budget.is_none() && s.base.total.p_overspend.is_none());
    assert!(!s.drivers.is_empty());
    for d in &s.drivers {
        assert!(d.total.p_overspend.is_none());
    }
    let table = carecast::output::sensitivity::table(&s);
    assert!(table.contains("no budget"), "{table}");
    let page = carecast::output::sensitivity::html(&s);
    assert_eq!(page.matches("input at its P90").count(), 2 + 3, "{page}");
}

#[test]
fn a_scenario_that_removes_or_fixes_a_correlated_input_drops_the_pair() {
    // The base correlates the programme's effect with the price, and the
    // price with the entry rate; one scenario disables the programme, one
    // fixes the price. Both load; each keeps only the pairs it still has.
    let text = EVENTS.replace(
        "per_year = 10\n",
        "per_year = { dist = \"uniform\", min = 5, max = 15 }\n",
    ) + &corr(
        "intervention.edge.per_year",
        "placement.fostering.weekly_cost",
        0.5,
    ) + &corr("placement.fostering.weekly_cost", "entries.per_year", 0.3)
        + "[[scenario]]\nid = \"fixed_price\"\nplacement.fostering = { weekly_cost = 1000 }\n";
    let config = config::parse_config(&text, "test").unwrap_or_else(|e| panic!("{e}"));
    let pairs = |id: &str| {
        let s = config.scenarios.iter().find(|s| s.id == id).unwrap();
        s.model.copula.as_ref().map_or(0, |c| c.requested.len())
    };
    assert_eq!(pairs("base"), 2);
    assert_eq!(pairs("no_edge"), 1);
    assert_eq!(pairs("fixed_price"), 0);
    // In the base, a pair naming an input that does not exist is still an
    // error.
    let typo = text.replace("\"entries.per_year\"", "\"entries.per_yeer\"");
    let e = config::parse_config(&typo, "test").unwrap_err().to_string();
    assert!(e.contains("entries.per_yeer"), "{e}");
}

/// Regression (issue 13): a programme delivered with probability 0.95 and a
/// shock with probability 0.05 have the same P10 and P90, so the tornado
/// showed "1 → 1" and no swing. They are held at "does not happen" and
/// "happens" instead, marked as events, and the swing is then real.
#[test]
fn rare_events_are_held_at_happens_and_does_not_happen() {
    let text = EVENTS
        .replace("delivery_probability = 0.7", "delivery_probability = 0.95")
        .replace(
            "probability_per_year = 0.1",
            "probability = 0.05\nmonth = \"2025-10\"",
        );
    let m = model(&text);
    let s = sensitivity::analyse(&m, "base", &settings(300, 5), &|_| {}).unwrap();
    let find = |path: &str| s.drivers.iter().find(|d| d.input == path).unwrap();
    for path in [
        "intervention.edge.delivery_probability",
        "shock.inquiry.probability_per_year",
    ] {
        let d = find(path);
        assert!(d.event, "{path} is held as an event");
        assert_eq!((d.low, d.high), (0.0, 1.0), "{path}");
        assert!(
            (d.total.mean.high - d.total.mean.low).abs() > 4.0 * d.swing_se,
            "{path}: the swing {} is real (se {})",
            d.swing,
            d.swing_se
        );
    }
    // An input whose P10 and P90 differ is held at them, not as an event.
    let price = find("placement.fostering.weekly_cost");
    assert!(!price.event);
    let table = carecast::output::sensitivity::table(&s);
    assert!(table.contains("does not happen → happens"), "{table}");
    assert!(table.contains("more than 90% of runs"), "{table}");
}

fn sensitivity_table(args: &[&str]) -> String {
    let out = carecast().arg("sensitivity").args(args).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    String::from_utf8(out.stdout).unwrap()
}

/// Regression: the tornado guessed an input's unit from the last word of
/// its config path, so that an agency share held at 0.59 and 0.85 read
/// "£1 → £1" and a success rate "£0 → £0". Every kind of uncertain input
/// is written in the unit of the field it comes from.
#[test]
fn every_kind_of_input_is_held_at_values_in_its_own_unit() {
    let text = std::fs::read_to_string("tests/configs/every_input.toml").unwrap();
    let m = model(&text);
    let s = sensitivity::analyse(&m, "base", &settings(10, 1), &|_| {}).unwrap();
    let expected = [
        ("placement.ifa.weekly_cost", "£810 → £890 a week"),
        ("placement.ifa.inflation", "2.2% → 3.8% a year"),
        ("entries.per_year", "42 → 58 a year"),
        ("entries.dispersion", "2.2 → 3.8"),
        ("entries.trend", "1.0% → 9.0% a year"),
        ("exits.ifa", "22 → 38 months"),
        ("exits.res", "22.0% → 38.0% a year"),
        ("exits.time_in_care.factor[0]", "×1.1 → ×1.9"),
        ("transition.ifa.res.annual_rate", "1.0% → 9.0% a year"),
        ("care_leavers.weekly_cost", "£210 → £290 a week"),
        ("cost_line.legal.2025/26", "£1.10m → £1.90m"),
        ("cost_line.legal.2026/27", "£1.10m → £1.90m"),
        ("intervention.edge.families", "11 → 19 families"),
        ("intervention.edge.success_rate", "42.0% → 58.0%"),
        (
            "intervention.edge.children_per_family",
            "1.1 → 1.9 children a family",
        ),
        (
            "intervention.edge.delivery_probability",
            "not delivered → delivered",
        ),
        ("intervention.leave.per_year", "2.2 → 3.8 a year"),
        ("intervention.framework.change", "−£56 → −£24 a week"),
        ("intervention.cheaper.factor", "×0.82 → ×0.98"),
        ("shock.inquiry.children", "12 → 28 children"),
        ("shock.inquiry.probability_per_year", "0 → 2 times"),
        ("saving.commissioning.delivery", "55.0% → 95.0%"),
        (
            "saving.commissioning.slip_probability",
            "on time → slips a year",
        ),
        ("investment.it.2025/26", "£110k → £190k"),
        ("investment.it.2026/27", "£110k → £190k"),
        ("income.grant.nightly", "£110 → £190 a night"),
        ("income.pbr.success_rate", "22.0% → 38.0%"),
        ("income.pbr.payment", "£920 → £1,080"),
        ("income.leavers.weekly", "£210 → £290 a week"),
        ("income.other.2025/26", "£110k → £190k"),
        ("income.other.2026/27", "£110k → £190k"),
        ("staff.sw.fte.2025/26", "21 → 29 FTE"),
        ("staff.sw.fte.2026/27", "21 → 29 FTE"),
        ("staff.sw.permanent_cost", "£41k → £49k a year"),
        ("staff.sw.agency_cost", "£72k → £88k a year"),
        ("staff.sw.agency_share.2025/26", "12.0% → 28.0%"),
        ("staff.sw.agency_share.2026/27", "12.0% → 28.0%"),
        ("staff.sw.vacancy_rate", "1.0% → 9.0%"),
        ("staff.sw.inflation", "2.2% → 3.8% a year"),
        (
            "staff.managers.children_per_worker",
            "16 → 24 children a worker",
        ),
        ("cohort.uasc.entries.per_year", "11 → 19 a year"),
        ("cohort.uasc.exit_factor", "×0.22 → ×0.38"),
    ];
    let held: std::collections::BTreeMap<&str, String> = s
        .drivers
        .iter()
        .map(|d| (d.input.as_str(), carecast::output::sensitivity::held(d)))
        .collect();
    for (path, want) in expected {
        assert_eq!(held.get(path).map(String::as_str), Some(want), "{path}");
    }
    assert_eq!(
        held.len(),
        expected.len(),
        "every input is checked: {held:?}"
    );
}

/// Regression: the shipped configs' shares read as money in the terminal
/// table and the HTML page ("£1 → £1" for Torbay's agency share of 59% to
/// 85%, "£0 → £0" for Somerset's payment-by-results success rate).
#[test]
fn shares_in_the_shipped_configs_read_as_percentages() {
    let dir = tempfile::tempdir().unwrap();
    for (config, row, p10, p90) in [
        (
            "configs/torbay-2016.toml",
            "Staff: agency social workers",
            "59.2%",
            "85.0%",
        ),
        (
            "configs/somerset-2019.toml",
            "Income: a troubled families",
            "18.7%",
            "31.6%",
        ),
    ] {
        let html = dir.path().join("s.html");
        let table = sensitivity_table(&[config, "--runs", "10", "--html", html.to_str().unwrap()]);
        let line = table
            .lines()
            .find(|l| l.starts_with(row))
            .unwrap_or_else(|| panic!("no row {row:?}: {table}"));
        assert!(line.contains(&format!("{p10} → {p90}")), "{line}");
        assert!(
            !table.contains("£1 → £1") && !table.contains("£0 → £0"),
            "{table}"
        );
        let page = std::fs::read_to_string(&html).unwrap();
        assert!(
            page.contains(&format!("<td>{p10}</td><td>{p90}</td>")),
            "{config}: the HTML table of every input"
        );
    }
}

/// Regression: the terminal table cut long labels at their end, so the
/// five years of Rotherham's flight-path cost line all read "Cost line:
/// Flight path: demand above the cash lim…". Labels are cut in the middle,
/// keeping the year, and stay distinct.
#[test]
fn labels_that_differ_only_at_their_end_stay_distinct() {
    let table = sensitivity_table(&["configs/rotherham-2016.toml", "--runs", "10"]);
    let rows: Vec<&str> = table
        .lines()
        .skip_while(|l| !l.starts_with("Input"))
        .skip(2)
        .take_while(|l| !l.is_empty())
        .collect();
    assert_eq!(rows.len(), 5, "{table}");
    for fy in ["2016/17", "2017/18", "2018/19", "2019/20", "2020/21"] {
        let with = rows.iter().filter(|r| r.contains(fy)).count();
        assert_eq!(with, 1, "{fy} names one row: {table}");
    }
    assert!(rows.iter().all(|r| r.starts_with("Cost line: Flight path")));
    assert!(table.lines().all(|l| l.chars().count() <= 100), "{table}");
}
