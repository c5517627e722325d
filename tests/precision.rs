//! Precision-driven runs (`carecast run --precision`, issue 7 part 4),
//! driven through the binary.

use std::path::Path;

use assert_cmd::Command;
use serde_json::Value;

const CONFIG: &str = "tests/configs/immigration_death.toml";

fn carecast() -> Command {
    Command::cargo_bin("carecast").unwrap()
}

/// Runs `carecast run CONFIG ARGS --json` and returns the JSON bytes and stdout.
fn run(config: &str, args: &[&str], dir: &Path, name: &str) -> (Vec<u8>, String) {
    let json = dir.join(format!("{name}.json"));
    let out = carecast()
        .args(["run", config])
        .args(args)
        .arg("--json")
        .arg(&json)
        .assert()
        .success();
    (
        std::fs::read(&json).unwrap(),
        String::from_utf8(out.get_output().stdout.clone()).unwrap(),
    )
}

fn parse(bytes: &[u8]) -> Value {
    serde_json::from_slice(bytes).unwrap()
}

/// The largest ratio of a 95% half-width to what a target of `share` of the
/// budget (money) and `share` in probability allows, over every year of
/// every scenario, from the saved JSON alone.
fn worst_ratio(v: &Value, share: f64) -> f64 {
    let mut worst: f64 = 0.0;
    for sc in v["scenarios"].as_array().unwrap() {
        for y in sc["years"].as_array().unwrap() {
            let budget = y["budget"].as_f64().unwrap();
            let half = |x: &Value, key: &str| {
                let est = x[key].as_f64().unwrap();
                let lo = x[format!("{key}_lo")].as_f64().unwrap();
                let hi = x[format!("{key}_hi")].as_f64().unwrap();
                (est - lo).max(hi - est)
            };
            for p in ["p50", "p90"] {
                worst = worst.max(half(&y["cost"], p) / (share * budget));
            }
            worst = worst.max(half(&y["overspend"], "probability") / share);
        }
    }
    worst
}

#[test]
fn it_stops_at_the_first_batch_inside_the_target() {
    let dir = tempfile::tempdir().unwrap();
    let (bytes, stdout) = run(CONFIG, &["--precision", "1%", "--quiet"], dir.path(), "p");
    assert!(stdout.is_empty());
    let v = parse(&bytes);
    let p = &v["precision"];
    assert_eq!(p["met"], true);
    assert_eq!(p["target"], "1%");
    let batches: Vec<u64> = p["batches"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b.as_u64().unwrap())
        .collect();
    assert!(batches.len() >= 2, "one batch is not a test: {batches:?}");
    assert_eq!(batches[0], 1000, "the default first batch");
    assert!(batches.windows(2).all(|w| w[1] >= w[0] + 1000));
    let runs = *batches.last().unwrap();
    assert_eq!(p["runs"], runs);
    assert_eq!(v["runs"], runs);
    // Inside the target now, from the figures saved...
    let ratio = worst_ratio(&v, 0.01);
    assert!(ratio <= 1.0, "{ratio}");
    // ...and outside it after the batch before.
    let previous = batches[batches.len() - 2].to_string();
    let (before, _) = run(
        CONFIG,
        &["--runs", &previous, "--quiet"],
        dir.path(),
        "before",
    );
    let ratio = worst_ratio(&parse(&before), 0.01);
    assert!(ratio > 1.0, "already met after {previous} runs: {ratio}");
}

#[test]
fn the_result_is_a_plain_run_of_as_many_runs_whatever_the_threads() {
    let dir = tempfile::tempdir().unwrap();
    let args = |t: &'static str| {
        [
            "--precision",
            "£60k,2pt",
            "--runs",
            "500",
            "--threads",
            t,
            "-q",
        ]
    };
    let (one, _) = run(CONFIG, &args("1"), dir.path(), "one");
    let (two, _) = run(CONFIG, &args("2"), dir.path(), "two");
    assert!(one == two, "--precision results depend on the threads");

    // The saved results read back byte for byte, `precision` included.
    let saved = dir.path().join("one.json");
    let back = carecast::output::json::render(&carecast::report::Report::read(&saved).unwrap());
    assert!(
        back.unwrap() == one,
        "the precision JSON changed on the way back"
    );

    let v = parse(&one);
    let runs = v["precision"]["runs"].as_u64().unwrap();
    assert!(v["precision"]["batches"].as_array().unwrap().len() >= 2);
    assert_eq!(
        v["precision"]["batches"][0], 500,
        "--runs is the first batch"
    );
    let (plain, _) = run(
        CONFIG,
        &["--runs", &runs.to_string(), "-q"],
        dir.path(),
        "plain",
    );
    // Byte for byte the same once the `precision` object is taken out.
    let text = String::from_utf8(one).unwrap();
    let start = text.find("  \"precision\": {").unwrap();
    let end = start + text[start..].find("\n  },\n").unwrap() + "\n  },\n".len();
    let without = format!("{}{}", &text[..start], &text[end..]);
    assert!(
        without.as_bytes() == plain.as_slice(),
        "--precision after {runs} runs differs from --runs {runs}"
    );
}

#[test]
fn an_unreachable_target_stops_at_max_runs_and_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let (bytes, stdout) = run(
        CONFIG,
        &[
            "--precision",
            "0.01pt",
            "--max-runs",
            "2500",
            "--runs",
            "1000",
        ],
        dir.path(),
        "max",
    );
    let v = parse(&bytes);
    let p = &v["precision"];
    assert_eq!(p["met"], false);
    assert_eq!(p["runs"], 2500);
    assert_eq!(p["max_runs"], 2500);
    assert_eq!(p["batches"], serde_json::json!([1000, 2500]));
    assert_eq!(p["limiting"]["figure"], "overspend.probability");
    let line = stdout.lines().nth(1).unwrap();
    assert!(
        line.starts_with("Precision ±0.01pt: NOT met, stopped at --max-runs after 2,500 runs"),
        "{line}"
    );
}

#[test]
fn years_without_a_budget_or_with_certain_outcomes_do_not_stall() {
    // A year with no budget is not checked; a year every run overspends
    // (budget £1m) and one no run overspends (£100m) have P(overspend) 1 and
    // 0, and its Wilson interval still narrows, as z²/(n + z²).
    let config = |budgets: &str| {
        format!(
            r#"
name = "certain"
[horizon]
start = "2024-04"
years = 3
[[placement]]
id = "only"
weekly_cost = {{ dist = "uniform", min = 700, max = 1300 }}
initial = 100
[entries]
per_year = 0
mix = {{ only = 1.0 }}
[exits]
annual_probability = {{ only = 0 }}
[budget]
per_year = {budgets}
"#
        )
    };
    let dir = tempfile::tempdir().unwrap();
    for (budgets, target) in [
        (r#"[0, "1m", "100m"]"#, "0.5pt"),
        (r#"[0, 0, "100m"]"#, "0.5%"),
    ] {
        let path = dir.path().join("certain.toml");
        std::fs::write(&path, config(budgets)).unwrap();
        let (bytes, _) = run(
            path.to_str().unwrap(),
            &["--precision", target, "-q"],
            dir.path(),
            "c",
        );
        let v = parse(&bytes);
        assert_eq!(v["precision"]["met"], true, "{target}");
        assert_eq!(v["precision"]["runs"], 1000, "{target}");
        let years = &v["scenarios"][0]["years"];
        assert_eq!(years[0]["overspend"]["probability"], 1.0);
        assert_eq!(years[2]["overspend"]["probability"], 0.0);
        // z²/(n + z²) for n = 1000: 0.38 points.
        let hi = years[2]["overspend"]["probability_hi"].as_f64().unwrap();
        assert!((hi - 3.8415 / 1003.8415).abs() < 1e-4, "{hi}");
    }
}

#[test]
fn help_explains_the_precision_flags() {
    let out = carecast().args(["run", "--help"]).assert().success();
    let help = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    for flag in [
        "--precision <TARGET>",
        "--max-runs <N>",
        "£50k,1pt",
        "first batch",
    ] {
        assert!(help.contains(flag), "run --help does not mention {flag}");
    }
}

#[test]
fn bad_precision_flags_are_usage_errors() {
    for (args, says) in [
        (&["--precision", "abc"][..], "--precision \"abc\""),
        (&["--precision", "0%"][..], "above 0%"),
        (&["--precision", "1pt,2pt"][..], "twice"),
        (
            &["--precision", "1%", "--central"][..],
            "cannot be used with",
        ),
        (&["--max-runs", "100"][..], "--precision"),
        (
            &["--precision", "1%", "--max-runs", "0"][..],
            "--max-runs must be",
        ),
        (
            &["--precision", "1%", "--runs", "5000", "--max-runs", "1000"][..],
            "more than --max-runs",
        ),
    ] {
        let out = carecast().args(["run", CONFIG]).args(args).assert().code(2);
        let stderr = String::from_utf8(out.get_output().stderr.clone()).unwrap();
        assert!(stderr.contains(says), "{args:?}: {stderr}");
        assert!(out.get_output().stdout.is_empty());
    }
}

#[test]
fn appended_runs_equal_one_run_of_as_many() {
    use carecast::engine::{self, Settings};
    let model = carecast::config::parse(&std::fs::read_to_string(CONFIG).unwrap(), "t").unwrap();
    let settings = |runs, threads| Settings {
        runs,
        seed: 9,
        threads: Some(threads),
        central: false,
    };
    let whole = engine::with_threads(Some(1), || engine::run(&model, &settings(300, 1), &|_| {}))
        .unwrap()
        .unwrap();
    // 100 runs on one thread, then 101 to 300 appended on two.
    let mut grown =
        engine::with_threads(Some(1), || engine::run(&model, &settings(100, 1), &|_| {}))
            .unwrap()
            .unwrap();
    engine::with_threads(Some(2), || {
        engine::extend(&model, 9, &mut grown, 300, &|_| {})
    })
    .unwrap()
    .unwrap();
    assert_eq!(grown.runs(), 300);
    assert!(
        grown.data == whole.data,
        "appended runs differ from one run"
    );
    // Asking for no more runs changes nothing.
    engine::extend(&model, 9, &mut grown, 200, &|_| {}).unwrap();
    assert_eq!(grown.runs(), 300);
}
