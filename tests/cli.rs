//! The binary as a user drives it (docs/user-guide.md).

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use serde_json::Value;

fn carecast() -> Command {
    Command::cargo_bin("carecast").unwrap()
}

fn run_json(config: &Path, extra: &[&str], dir: &Path, name: &str) -> (Vec<u8>, Vec<u8>) {
    let json = dir.join(format!("{name}.json"));
    let csv = dir.join(format!("{name}.csv"));
    carecast()
        .arg("run")
        .arg(config)
        .args(extra)
        .arg("--json")
        .arg(&json)
        .arg("--csv")
        .arg(&csv)
        .arg("--quiet")
        .assert()
        .success();
    (std::fs::read(json).unwrap(), std::fs::read(csv).unwrap())
}

/// Runs carecast with `args`, expecting success, and returns its stdout.
fn stdout_of(args: &[&str]) -> String {
    let out = carecast()
        .args(args)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    String::from_utf8(out).unwrap()
}

fn shipped_configs() -> Vec<PathBuf> {
    let mut configs: Vec<PathBuf> = std::fs::read_dir("configs")
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    configs.sort();
    configs
}

#[test]
fn outputs_are_byte_identical_for_1_2_and_8_threads() {
    let dir = tempfile::tempdir().unwrap();
    let config = Path::new("configs/example.toml");
    let base = ["--runs", "250", "--seed", "17"];
    let (json1, csv1) = run_json(
        config,
        &[&base[..], &["--threads", "1"]].concat(),
        dir.path(),
        "t1",
    );
    for threads in ["2", "4", "8"] {
        let (json, csv) = run_json(
            config,
            &[&base[..], &["--threads", threads]].concat(),
            dir.path(),
            threads,
        );
        assert!(json == json1, "JSON differs with {threads} threads");
        assert!(csv == csv1, "CSV differs with {threads} threads");
    }
    // A different seed gives different results.
    let (other, _) = run_json(
        config,
        &["--runs", "250", "--seed", "18"],
        dir.path(),
        "s18",
    );
    assert!(other != json1);
}

#[test]
fn central_projection_of_the_immigration_death_config_stays_near_500() {
    let dir = tempfile::tempdir().unwrap();
    let (json, _) = run_json(
        Path::new("tests/configs/immigration_death.toml"),
        &["--central"],
        dir.path(),
        "c",
    );
    let v: Value = serde_json::from_slice(&json).unwrap();
    assert_eq!(v["mode"], "central");
    let months = v["scenarios"][0]["months"].as_array().unwrap();
    assert_eq!(months.len(), 48);
    // λ/h = 500 is the stationary stock of a month of 365.25/12 days; real
    // months of 28 to 31 days move it by under a child.
    for m in months {
        let mean = m["lac"]["mean"].as_f64().unwrap();
        assert!((mean - 500.0).abs() < 1.0, "{}: {mean}", m["month"]);
        assert_eq!(m["lac"]["p5"].as_f64(), Some(mean), "one central path");
    }
    let last = &v["scenarios"][0]["years"][3];
    assert_eq!(last["fy"], "2027/28");
    // 500 children for 366 days at £1,000 a week, to within 0.2%.
    let cost = last["cost"]["mean"].as_f64().unwrap();
    assert!((cost / 26_142_857.14 - 1.0).abs() < 0.002, "{cost}");
}

#[test]
fn json_follows_the_contract() {
    let dir = tempfile::tempdir().unwrap();
    let (json, csv) = run_json(
        Path::new("configs/example.toml"),
        &["--runs", "200"],
        dir.path(),
        "x",
    );
    let v: Value = serde_json::from_slice(&json).unwrap();
    for key in [
        "carecast_version",
        "name",
        "runs",
        "seed",
        "scenarios",
        "differences",
    ] {
        assert!(v.get(key).is_some(), "missing {key}");
    }
    assert_eq!(v["runs"], 200);
    let ids: Vec<&str> = v["scenarios"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["do_nothing", "strategy", "worst_case"]);
    let year = &v["scenarios"][1]["years"][0];
    assert_eq!(year["fy"], "2024/25");
    assert_eq!(year["budget"].as_f64(), Some(28_500_000.0));
    for key in ["cost", "lac_end", "entries", "exits"] {
        for stat in ["mean", "sd", "p5", "p10", "p25", "p50", "p75", "p90", "p95"] {
            assert!(year[key][stat].is_number(), "{key}.{stat}");
        }
    }
    for key in ["probability", "mean", "mean_if_overspent"] {
        assert!(year["overspend"].get(key).is_some(), "overspend.{key}");
    }
    // Components are in config order and their means add up to the total.
    let components = year["components"].as_object().unwrap();
    let ids: Vec<&str> = components.keys().map(String::as_str).collect();
    assert_eq!(
        ids,
        [
            "fostering",
            "ifa",
            "kinship",
            "res_inhouse",
            "res_external",
            "semi_independent",
            "with_parents",
            "agency_staff",
            "legal",
            "care_leavers",
            "edge_of_care",
            "sgo",
            "step_down",
            "recruitment",
            "ifa_framework",
            "case_system",
            "commissioning"
        ]
    );
    // Grant-funded spend is reported apart from the envelope.
    assert_eq!(
        year["grant_funded"]["items"]["mst"]["mean"].as_f64(),
        Some(300_000.0)
    );
    assert_eq!(
        year["grant_funded"]["total"]["mean"].as_f64(),
        Some(300_000.0)
    );
    assert!(year["prevented"]["edge_of_care"]["p50"].is_number());
    assert_eq!(year["interventions"]["sgo"]["kind"], "exit");
    assert!(year["shocks"]["investigation"]["mean"].is_number());
    // Each scenario against the first.
    let diffs = v["differences"].as_array().unwrap();
    assert_eq!(diffs.len(), 2);
    assert_eq!(
        (diffs[0]["from"].as_str(), diffs[0]["to"].as_str()),
        (Some("do_nothing"), Some("strategy"))
    );
    assert_eq!(diffs[0]["years"].as_array().unwrap().len(), 4);
    for key in ["saving", "saving_including_grants", "lac_end_difference"] {
        assert!(diffs[0]["years"][1][key]["p50"].is_number(), "{key}");
    }
    let p = diffs[0]["years"][1]["probability_positive"]
        .as_f64()
        .unwrap();
    assert!((0.0..=1.0).contains(&p));
    assert!(diffs[0]["horizon"]["probability_pays_back"].is_number());
    let sum: f64 = components
        .values()
        .map(|c| c["mean"].as_f64().unwrap())
        .sum();
    let total = year["cost"]["mean"].as_f64().unwrap();
    assert!(
        (sum - total).abs() < 0.01 * components.len() as f64,
        "{sum} vs {total}"
    );
    let month = &v["scenarios"][0]["months"][0];
    assert_eq!(month["month"], "2024-04");
    assert!(month["lac_by_placement"]["ifa"]["p50"].is_number());

    let csv = String::from_utf8(csv).unwrap();
    let mut lines = csv.lines();
    assert_eq!(
        lines.next(),
        Some("scenario,fy,month,metric,component,stat,value")
    );
    assert!(csv.contains("\nstrategy,2024/25,,cost,,p90,"));
    assert!(csv.contains("\nstrategy vs do_nothing,2025/26,,saving,,probability_positive,"));
    assert!(csv.contains("\nstrategy vs do_nothing,horizon,,saving,,probability_pays_back,"));
    assert!(csv.contains("\nstrategy,,2024-04,lac_by_placement,ifa,mean,"));
    // Every statistic of the overspend in the JSON is a row of the CSV.
    for (stat, value) in year["overspend"].as_object().unwrap() {
        let Some(x) = value.as_f64() else { continue };
        let row = format!("\nstrategy,2024/25,,overspend,,{stat},");
        let at = csv
            .find(&row)
            .unwrap_or_else(|| panic!("no {row:?} in the CSV"));
        let cell = csv[at + row.len()..].lines().next().unwrap();
        assert_eq!(cell.parse::<f64>().unwrap(), x, "overspend {stat}");
    }
    assert!(lines.all(|l| l.split(',').count() == 7));
}

#[test]
fn every_shipped_config_validates_and_runs() {
    let configs = shipped_configs();
    assert!(!configs.is_empty());
    let dir = tempfile::tempdir().unwrap();
    for config in configs {
        carecast().arg("validate").arg(&config).assert().success();
        let (json, _) = run_json(&config, &["--runs", "100"], dir.path(), "any");
        let v: Value = serde_json::from_slice(&json).unwrap();
        assert!(
            !v["scenarios"][0]["years"].as_array().unwrap().is_empty(),
            "{}",
            config.display()
        );
        run_json(&config, &["--central"], dir.path(), "central");
    }
}

/// `validate` counts each scenario's own uncertain inputs (a scenario that
/// disables programmes has fewer) and keeps within 100 columns.
#[test]
fn validate_counts_each_scenarios_inputs_within_100_columns() {
    for path in shipped_configs() {
        let text = stdout_of(&["validate", path.to_str().unwrap()]);
        for line in text.lines() {
            assert!(line.chars().count() <= 100, "{}: {line}", path.display());
        }
        let config = carecast::config::load_config(&path).unwrap();
        let joined = text.split_whitespace().collect::<Vec<_>>().join(" ");
        if config.scenarios.len() > 1 {
            for s in &config.scenarios {
                let said = format!("{}({})", s.id, s.model.inputs().len());
                assert!(
                    joined.contains(&said),
                    "{}: no {said} in\n{text}",
                    path.display()
                );
            }
        } else {
            let said = format!(
                "{} uncertain input(s)",
                config.scenarios[0].model.inputs().len()
            );
            assert!(
                joined.contains(&said),
                "{}: no {said} in\n{text}",
                path.display()
            );
        }
    }
    // The example's scenarios differ: the programmes do_nothing disables
    // are uncertain inputs of the others.
    let text = stdout_of(&["validate", "configs/example.toml"]);
    assert!(
        text.contains("do_nothing(16), strategy(24), worst_case(23)"),
        "{text}"
    );
}

#[test]
fn run_without_a_config_runs_the_built_in_example() {
    let text = stdout_of(&["run", "--runs", "300"]);
    assert!(text.contains("Example council"), "{text}");
    assert!(text.contains("2027/28"));
    assert!(text.contains("P(over)"));
}

#[test]
fn the_embedded_example_is_the_shipped_file() {
    assert_eq!(
        carecast::config::EXAMPLE,
        std::fs::read_to_string("configs/example.toml").unwrap()
    );
}

#[test]
fn help_explains_every_flag() {
    let help = stdout_of(&["run", "--help"]);
    for flag in [
        "--runs",
        "--seed",
        "--threads",
        "--json",
        "--csv",
        "--central",
        "--quiet",
        "--html",
        "--xlsx",
        "--markdown",
    ] {
        assert!(help.contains(flag), "--help does not mention {flag}");
    }
    let help = stdout_of(&["report", "--help"]);
    for flag in ["RESULTS", "--html", "--xlsx", "--markdown", "--quiet"] {
        assert!(help.contains(flag), "report --help does not mention {flag}");
    }
    carecast().arg("--help").assert().success();
    carecast().arg("--version").assert().success();
}

#[test]
fn nothing_but_results_on_stdout() {
    let out = carecast()
        .args([
            "run",
            "tests/configs/immigration_death.toml",
            "--runs",
            "50",
        ])
        .assert()
        .success()
        .get_output()
        .clone();
    assert!(
        out.stderr.is_empty(),
        "stderr should be empty when it is not a terminal"
    );
    let quiet = carecast()
        .args([
            "run",
            "tests/configs/immigration_death.toml",
            "--runs",
            "50",
            "--quiet",
        ])
        .assert()
        .success()
        .get_output()
        .clone();
    assert!(quiet.stdout.is_empty());
}

/// A write that fails part way (a full device) takes back the outputs
/// already staged: a runtime error, and nothing written.
#[cfg(target_os = "linux")]
#[test]
fn a_failed_write_leaves_no_partial_output() {
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("out.json");
    carecast()
        .args([
            "run",
            "tests/configs/immigration_death.toml",
            "--runs",
            "20",
            "--json",
        ])
        .arg(&json)
        .args(["--csv", "/dev/full"])
        .assert()
        .code(1);
    assert!(!json.exists());
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

/// Runs carecast with `args`, standard error going to `/dev/full` (every
/// write to it fails) and standard output captured.
#[cfg(target_os = "linux")]
fn with_stderr_full<S: AsRef<std::ffi::OsStr>>(args: &[S]) -> std::process::Output {
    let full = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .unwrap();
    std::process::Command::new(assert_cmd::cargo::cargo_bin("carecast"))
        .args(args)
        .stdin(std::process::Stdio::null())
        .stderr(full)
        .output()
        .unwrap()
}

/// A message that cannot be written to standard error is lost, but the
/// command ends as it would have: exit 2 for a usage or config error, 0 for
/// a success with warnings, where `eprintln!` used to panic (exit 101). A
/// calibration whose `skipped:` lines cannot be printed still writes its
/// config.
#[cfg(target_os = "linux")]
#[test]
fn stderr_that_cannot_be_written_does_not_change_the_exit_status() {
    use std::ffi::OsStr;
    for (args, code) in [
        (&["run", "--runs", "0"][..], 2),
        (&["validate", "no-such-config.toml"][..], 2),
        (&["no-such-command"][..], 2),
        (&["sensitivity", "--runs", "1"][..], 2),
        (&["validate", "configs/example.toml"][..], 0),
        // --quiet with no output: a warning on stderr, nothing run.
        (
            &["run", "tests/configs/immigration_death.toml", "--quiet"][..],
            0,
        ),
        (
            &[
                "run",
                "tests/configs/immigration_death.toml",
                "--runs",
                "20",
                "--central",
            ][..],
            0,
        ),
    ] {
        let out = with_stderr_full(args);
        assert_eq!(out.status.code(), Some(code), "{args:?}");
    }

    // Returns with a row that is skipped, with a warning on stderr.
    let dir = tempfile::tempdir().unwrap();
    let year = dir.path().join("2023");
    std::fs::create_dir(&year).unwrap();
    for name in ["header.csv", "episodes.csv"] {
        std::fs::copy(
            Path::new("tests/ssda903/latin1/2023").join(name),
            year.join(name),
        )
        .unwrap();
    }
    let mut episodes = std::fs::read(year.join("episodes.csv")).unwrap();
    episodes.extend_from_slice(b"ZZ9,01/01/2099,S,C2,N1,U4,PR1,,,,,,\n");
    std::fs::write(year.join("episodes.csv"), episodes).unwrap();
    let out = with_stderr_full(&[
        OsStr::new("calibrate"),
        OsStr::new("--ssda903"),
        dir.path().as_os_str(),
        OsStr::new("--at"),
        OsStr::new("2023-03-31"),
    ]);
    assert_eq!(out.status.code(), Some(0));
    let config = String::from_utf8(out.stdout).unwrap();
    assert!(config.contains("[[placement]]"), "{config}");
    // The same calibration with stderr readable does warn.
    let warned = carecast()
        .arg("calibrate")
        .arg("--ssda903")
        .arg(dir.path())
        .args(["--at", "2023-03-31"])
        .assert()
        .success()
        .get_output()
        .stderr
        .clone();
    assert!(String::from_utf8_lossy(&warned).contains("skipped: "));
}

/// Standard output that cannot be written is a failure (exit 1) with one
/// line on stderr, whatever was being printed: a table, the help, the
/// version.
#[cfg(target_os = "linux")]
#[test]
fn stdout_that_cannot_be_written_is_a_failure_not_a_panic() {
    for args in [
        &[
            "run",
            "tests/configs/immigration_death.toml",
            "--runs",
            "20",
        ][..],
        &[
            "run",
            "tests/configs/immigration_death.toml",
            "--runs",
            "20",
            "--json",
            "-",
        ],
        &["validate", "configs/example.toml"],
        &["--help"],
        &["--version"],
        &["man"],
    ] {
        let full = std::fs::OpenOptions::new()
            .write(true)
            .open("/dev/full")
            .unwrap();
        let out = std::process::Command::new(assert_cmd::cargo::cargo_bin("carecast"))
            .args(args)
            .stdout(full)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {err}");
        assert!(!err.contains("panicked"), "{args:?}: {err}");
        assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
        assert!(err.starts_with("error: cannot write"), "{args:?}: {err}");
    }
}

#[test]
fn every_page_the_man_page_lists_can_be_printed() {
    // The main page listed carecast-run(1) and the others, which nothing made.
    let main = carecast()
        .arg("man")
        .assert()
        .success()
        .get_output()
        .clone();
    let main = String::from_utf8(main.stdout).unwrap();
    let listed: Vec<String> = main
        .lines()
        .filter_map(|l| l.strip_prefix("carecast\\-")?.strip_suffix("(1)"))
        .map(str::to_string)
        .collect();
    assert!(listed.len() >= 8, "{listed:?}");
    assert!(!listed.iter().any(|s| s == "help"), "{listed:?}");
    for name in &listed {
        let page = carecast()
            .args(["man", name])
            .assert()
            .success()
            .get_output()
            .clone();
        let page = String::from_utf8(page.stdout).unwrap();
        assert!(
            page.contains(&format!(".TH carecast-{name} 1")),
            "{name}: {}",
            &page[..page.len().min(200)]
        );
    }
    let out = carecast()
        .args(["man", "nope"])
        .assert()
        .code(2)
        .get_output()
        .clone();
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("there is no subcommand \"nope\""), "{err}");
}

#[test]
fn validate_gives_each_placements_implied_stay() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("stays.toml");
    // `short` leaves at 1/12 a month: mean 12, median 12 ln 2 = 8.3.
    // `long` has an annual probability of 0.5 for six months and none
    // after: S(6) = 0.5^(1/2) ≈ 0.71 never leave, so mean and median are ∞.
    std::fs::write(
        &config,
        r#"name = "stays"
[horizon]
start = "2024-04"
years = 1
[[placement]]
id = "short"
weekly_cost = 700
initial = 10
initial_time_in_care = { shares = [0.5, 0.5] }
[[placement]]
id = "long"
weekly_cost = 700
initial = 10
initial_time_in_care = { shares = [0.5, 0.5] }
[exits]
mean_months = { short = 12 }
annual_probability = { long = 0.5 }
[exits.time_in_care]
bands = [0, 6]
factor = { long = [1, 0] }
"#,
    )
    .unwrap();
    let out = stdout_of(&["validate", config.to_str().unwrap()]);
    assert!(out.contains("  short: 12.0 / 8.3\n"), "{out}");
    assert!(out.contains("  long: ∞ / ∞\n"), "{out}");
    assert!(out.contains("∞: some stays never end"), "{out}");
}

#[test]
fn the_csv_has_every_figure_of_each_budget_lines_overspend() {
    // `line_overspend` had only the probability and the mean, where the
    // JSON has the interval, the standard error, the tolerance and the tail.
    let dir = tempfile::tempdir().unwrap();
    let (json, csv) = run_json(
        Path::new("configs/somerset-2019.toml"),
        &["--runs", "40"],
        dir.path(),
        "lines",
    );
    let json: Value = serde_json::from_slice(&json).unwrap();
    let csv = String::from_utf8(csv).unwrap();
    let mut checked = 0;
    for sc in json["scenarios"].as_array().unwrap() {
        let id = sc["id"].as_str().unwrap();
        for y in sc["years"].as_array().unwrap() {
            let fy = y["fy"].as_str().unwrap();
            for (line, l) in y["budget_lines"].as_object().unwrap() {
                let Some(o) = l["overspend"].as_object() else {
                    continue;
                };
                for (stat, v) in o {
                    let Some(v) = v.as_f64() else { continue };
                    let prefix = format!("{id},{fy},,line_overspend,{line},{stat},");
                    let row = csv
                        .lines()
                        .find(|r| r.starts_with(&prefix))
                        .unwrap_or_else(|| panic!("no row {prefix}"));
                    let got: f64 = row[prefix.len()..].parse().unwrap();
                    assert_eq!(got, v, "{row}");
                    checked += 1;
                }
            }
        }
    }
    assert!(checked > 100, "{checked}");
}

#[test]
fn the_csv_has_the_correlations_and_whether_paying_back_applies() {
    let dir = tempfile::tempdir().unwrap();
    let (json, csv) = run_json(
        Path::new("configs/example.toml"),
        &["--runs", "30"],
        dir.path(),
        "pairs",
    );
    let json: Value = serde_json::from_slice(&json).unwrap();
    let csv = String::from_utf8(csv).unwrap();
    let mut checked = 0;
    for sc in json["scenarios"].as_array().unwrap() {
        let id = sc["id"].as_str().unwrap();
        for c in sc["correlations"].as_array().unwrap() {
            let pair = format!(
                "{} & {}",
                c["inputs"][0].as_str().unwrap(),
                c["inputs"][1].as_str().unwrap()
            );
            for stat in ["requested", "realised"] {
                let row = format!(
                    "{id},horizon,,correlation,{pair},{stat},{}",
                    c[stat].as_f64().unwrap()
                );
                assert!(csv.lines().any(|l| l == row), "no row {row}");
                checked += 1;
            }
        }
    }
    for d in json["differences"].as_array().unwrap() {
        let applies = d["horizon"]["pays_back_applies"].as_bool().unwrap();
        let row = format!(
            "{} vs {},horizon,,saving,,pays_back_applies,{}",
            d["to"].as_str().unwrap(),
            d["from"].as_str().unwrap(),
            u8::from(applies)
        );
        assert!(csv.lines().any(|l| l == row), "no row {row}");
        checked += 1;
    }
    assert!(checked >= 8, "{checked}");
}
