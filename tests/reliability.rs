//! Regression tests for the defects of issue 16, each built from the input
//! that failed, driven through the binary so they keep testing whatever core
//! the binary runs. Inputs live in `tests/reliability/`.

use std::path::{Path, PathBuf};
use std::process::Output;

use assert_cmd::Command;
use serde_json::Value;

const POISSON: &str = "tests/reliability/poisson_programme.toml";

fn carecast() -> Command {
    Command::cargo_bin("carecast").unwrap()
}

fn input(name: &str) -> PathBuf {
    Path::new("tests/reliability").join(name)
}

/// Asserts a refusal: exit `code`, no panic, and one line on stderr that
/// starts `error:` and contains every one of `words`.
fn refused(out: &Output, code: i32, words: &[&str]) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(code), "stderr: {stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "one line: {stderr:?}");
    assert!(stderr.starts_with("error: "), "{stderr}");
    for w in words {
        assert!(stderr.contains(w), "{w:?} missing from {stderr}");
    }
}

/// Sends a signal (`-TERM`) with the shell's `kill`; true when it was sent.
#[cfg(unix)]
fn kill(signal: &str, pid: u32) -> bool {
    std::process::Command::new("sh")
        .arg("-c")
        .arg(format!("kill {signal} {pid}"))
        .status()
        .is_ok_and(|s| s.success())
}

fn output(args: &[&str]) -> Output {
    carecast().args(args).output().unwrap()
}

/// Writes a results file with `run --json` and returns its path.
fn results(dir: &Path) -> PathBuf {
    let json = dir.join("results.json");
    carecast()
        .args(["run", POISSON, "--runs", "20", "--quiet", "--json"])
        .arg(&json)
        .assert()
        .success();
    json
}

// Item 1: quantiles of count distributions.

#[test]
fn sensitivity_holds_a_poisson_input_below_its_mass_at_zero() {
    let out = output(&["sensitivity", POISSON, "--runs", "10", "--quiet"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn a_correlated_poisson_input_runs() {
    let out = output(&["run", POISSON, "--runs", "50", "--quiet"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

// Item 2: devices, pipes and standard output.

#[cfg(unix)]
#[test]
fn a_device_is_written_through_not_replaced() {
    use std::os::unix::fs::FileTypeExt;
    carecast()
        .args([
            "run",
            POISSON,
            "--runs",
            "5",
            "--quiet",
            "--json",
            "/dev/null",
        ])
        .assert()
        .success();
    let kind = std::fs::metadata("/dev/null").unwrap().file_type();
    assert!(kind.is_char_device(), "/dev/null is still a device");
}

#[cfg(unix)]
#[test]
fn a_named_pipe_is_written_through() {
    use std::io::Read;
    use std::os::unix::fs::FileTypeExt;
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("pipe");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(made.success());
    let reader = {
        let fifo = fifo.clone();
        std::thread::spawn(move || {
            let mut text = String::new();
            std::fs::File::open(&fifo)
                .unwrap()
                .read_to_string(&mut text)
                .unwrap();
            text
        })
    };
    carecast()
        .args(["run", POISSON, "--runs", "5", "--quiet", "--csv"])
        .arg(&fifo)
        .assert()
        .success();
    let text = reader.join().unwrap();
    assert!(text.starts_with("scenario,fy,month,metric,component,stat,value"));
    assert!(std::fs::metadata(&fifo).unwrap().file_type().is_fifo());
}

#[test]
fn a_dash_is_standard_output_and_the_table_stays_off_it() {
    let out = output(&["run", POISSON, "--runs", "5", "--csv", "-"]);
    assert!(out.status.success());
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(stdout.starts_with("scenario,fy,month,metric,component,stat,value\n"));
    assert!(
        stdout.lines().all(|l| l.split(',').count() == 7),
        "nothing but CSV on stdout"
    );
}

#[test]
fn dev_stdout_is_standard_output_even_through_a_pipe() {
    let out = output(&["run", POISSON, "--runs", "5", "--json", "/dev/stdout"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).expect("only JSON on stdout");
    assert_eq!(v["runs"], 5);
    refused(
        &output(&["run", POISSON, "--json", "-", "--csv", "/dev/stdout"]),
        2,
        &["same file"],
    );
}

// Item 4: money that cannot be added up exactly.

#[test]
fn money_that_would_saturate_is_a_config_error() {
    let out = output(&["validate", input("money_saturates.toml").to_str().unwrap()]);
    refused(
        &out,
        2,
        &["money_saturates.toml", "cost_line[", "adds up exactly"],
    );
}

// Item 5: memory.

#[cfg(unix)]
/// The statistics of a run take memory that does not grow in proportion to
/// its runs (docs/outputs.md, "Statistics at any scale"): three times the
/// runs hold well under twice the bytes (buckets only reach a little further
/// into the tails, and the last outputs switch from values to buckets),
/// where rows kept run by run would hold three times as many.
#[test]
fn the_memory_of_a_run_does_not_grow_with_its_runs() {
    use carecast::{engine, results::Plan};
    let config = carecast::config::load_config(std::path::Path::new(POISSON)).unwrap();
    let plan = Plan::new(&config);
    let held = |runs: u64| {
        engine::with_threads(Some(1), || {
            engine::tally(&config, &plan, 5, 0..runs, &|_| {})
        })
        .unwrap()
        .unwrap()
        .bytes()
    };
    let (some, more) = (held(15_000), held(45_000));
    let rows =
        45_000 * carecast::model::layout::Layout::new(&config.scenarios[0].model).width() * 8;
    assert!(
        (more as f64) < 2.0 * some as f64 && more < rows / 20,
        "{some} bytes for 15,000 runs, {more} for 45,000 (rows would be {rows})"
    );
}

// Items 6–8: limits at validation.

#[test]
fn an_unbounded_trend_is_refused() {
    let out = output(&["validate", input("trend_100.toml").to_str().unwrap()]);
    refused(&out, 2, &["trend_100.toml", "entries.trend", "100"]);
}

#[test]
fn families_times_children_per_family_is_range_checked() {
    let out = output(&["validate", input("families_1e12.toml").to_str().unwrap()]);
    refused(&out, 2, &["intervention[0].families"]);
}

#[test]
fn a_population_that_cannot_be_simulated_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    // The reproducer: a thousand placement types, a million children.
    let exits: Vec<String> = (0..1000).map(|i| format!("p{i} = 12")).collect();
    let mut text = format!(
        "name = \"too many\"\n[horizon]\nstart = \"2024-04\"\nyears = 1\n\
         [exits]\nmean_months = {{ {} }}\n",
        exits.join(", ")
    );
    for i in 0..1000 {
        text.push_str(&format!(
            "[[placement]]\nid = \"p{i}\"\nweekly_cost = 500\ninitial = 1000\n"
        ));
    }
    let config = dir.path().join("population.toml");
    std::fs::write(&config, text).unwrap();
    let out = output(&["validate", config.to_str().unwrap()]);
    refused(&out, 2, &["placement[100]", "at most 100"]);
    let out = output(&["validate", input("stock_500k.toml").to_str().unwrap()]);
    refused(&out, 2, &["placement[0].initial", "at most 100,000"]);
}

// Item 9: one line per error.

#[test]
fn a_duplicate_key_is_named() {
    let out = output(&["validate", input("duplicate_key.toml").to_str().unwrap()]);
    refused(&out, 2, &["duplicate_key.toml:5", "`years`"]);
}

#[test]
fn usage_errors_are_one_line() {
    refused(&output(&["run", "--bogus"]), 2, &["--bogus"]);
    refused(&output(&["run", "--runs"]), 2, &["--runs"]);
    refused(&output(&[]), 2, &["run"]);
}

#[test]
fn a_mismatched_sensitivity_names_its_file() {
    let dir = tempfile::tempdir().unwrap();
    let json = results(dir.path());
    let sens = dir.path().join("sens.json");
    carecast()
        .args(["sensitivity", "configs/rotherham-2017.toml", "--runs", "10"])
        .args(["--quiet", "--json"])
        .arg(&sens)
        .assert()
        .success();
    let html = dir.path().join("r.html");
    let out = carecast()
        .arg("report")
        .arg(&json)
        .arg("--sensitivity")
        .arg(&sens)
        .arg("--html")
        .arg(&html)
        .output()
        .unwrap();
    refused(&out, 2, &["sens.json", "results.json"]);
    assert!(!html.exists());
}

// Item 10: symbolic links, read-only files, inputs, one path twice, and
// concurrent writers.

#[cfg(unix)]
#[test]
fn a_symlinked_output_is_followed_and_the_link_kept() {
    let dir = tempfile::tempdir().unwrap();
    let real = dir.path().join("real.json");
    let link = dir.path().join("link.json");
    std::os::unix::fs::symlink(&real, &link).unwrap();
    carecast()
        .args(["run", POISSON, "--runs", "5", "--quiet", "--json"])
        .arg(&link)
        .assert()
        .success();
    assert!(std::fs::symlink_metadata(&link).unwrap().is_symlink());
    let v: Value = serde_json::from_slice(&std::fs::read(&real).unwrap()).unwrap();
    assert_eq!(v["runs"], 5);
}

#[test]
fn a_read_only_output_is_refused_not_replaced() {
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("r.json");
    std::fs::write(&json, "keep me").unwrap();
    let mut perms = std::fs::metadata(&json).unwrap().permissions();
    perms.set_readonly(true);
    std::fs::set_permissions(&json, perms).unwrap();
    let out = carecast()
        .args(["run", POISSON, "--runs", "5", "--quiet", "--json"])
        .arg(&json)
        .output()
        .unwrap();
    refused(&out, 1, &["r.json", "read-only"]);
    assert_eq!(std::fs::read_to_string(&json).unwrap(), "keep me");
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
}

#[test]
fn an_output_in_no_folder_or_over_a_folder_is_a_usage_error() {
    // Paths that cannot name a file are the user's to mend (exit 2), found
    // before any work, and nothing is written.
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("r.json");
    for (path, why) in [
        (
            dir.path().join("no-such-folder").join("r.csv"),
            "the folder does not exist",
        ),
        (dir.path().to_path_buf(), "it is a directory"),
    ] {
        let out = carecast()
            .args(["run", POISSON, "--runs", "5", "--quiet", "--json"])
            .arg(&json)
            .arg("--csv")
            .arg(&path)
            .output()
            .unwrap();
        refused(&out, 2, &[why]);
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }
}

/// An output whose symbolic links loop is the user's to mend, like a folder
/// that does not exist: exit 2 before any work, naming the path.
#[cfg(unix)]
#[test]
fn an_output_through_a_loop_of_links_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (dir.path().join("a.json"), dir.path().join("b.json"));
    std::os::unix::fs::symlink(&a, &b).unwrap();
    std::os::unix::fs::symlink(&b, &a).unwrap();
    for path in [a.clone(), a.join("r.json")] {
        let out = carecast()
            .args(["run", POISSON, "--runs", "5", "--quiet", "--json"])
            .arg(&path)
            .output()
            .unwrap();
        refused(
            &out,
            2,
            &[
                &path.display().to_string(),
                "too many levels of symbolic links",
            ],
        );
    }
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 2);
}

/// Every file a command reads must be a regular file. A named pipe as a
/// config used to leave `validate` waiting for a writer for ever, and
/// `/dev/zero` to be read until memory ran out; each is now refused at once
/// (exit 2), naming the path and what it is. The timeout fails the test
/// instead of hanging the suite should that come back.
#[cfg(unix)]
#[test]
fn an_input_that_is_not_a_regular_file_is_refused_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let fifo = d.join("pipe.toml");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(made.success());
    let folder = d.join("folder.toml");
    std::fs::create_dir(&folder).unwrap();
    let json = results(d);
    let html = d.join("r.html");
    let zero = PathBuf::from("/dev/zero");
    for (bad, what) in [
        (&fifo, "a named pipe (FIFO)"),
        (&zero, "a character device"),
        (&folder, "a directory"),
    ] {
        let bad = bad.as_os_str();
        let commands: Vec<Vec<&std::ffi::OsStr>> = vec![
            vec!["validate".as_ref(), bad],
            vec!["run".as_ref(), bad, "--runs".as_ref(), "5".as_ref()],
            vec![
                "sensitivity".as_ref(),
                bad,
                "--runs".as_ref(),
                "10".as_ref(),
            ],
            vec!["report".as_ref(), bad, "--html".as_ref(), html.as_ref()],
            vec![
                "report".as_ref(),
                json.as_ref(),
                "--html".as_ref(),
                html.as_ref(),
                "--sensitivity".as_ref(),
                bad,
            ],
            vec![
                "calibrate".as_ref(),
                "--ssda903".as_ref(),
                "tests/ssda903/latin1".as_ref(),
                "--at".as_ref(),
                "2023-03-31".as_ref(),
                "--base".as_ref(),
                bad,
            ],
        ];
        for args in commands {
            let out = carecast()
                .args(&args)
                .timeout(std::time::Duration::from_secs(20))
                .output()
                .unwrap();
            let name = Path::new(bad).display().to_string();
            refused(&out, 2, &[&name, what, "not a regular file"]);
            assert!(out.stdout.is_empty(), "{args:?}");
            assert!(!html.exists(), "{args:?}");
        }
    }
}

/// A config is read whole: one far larger than any config could need is
/// refused from its size, before it is read.
#[test]
fn a_config_too_large_to_be_one_is_refused_unread() {
    let dir = tempfile::tempdir().unwrap();
    let big = dir.path().join("big.toml");
    let file = std::fs::File::create(&big).unwrap();
    // Sparse: no disk space is taken.
    file.set_len(carecast::config::MAX_CONFIG_BYTES + 1)
        .unwrap();
    let out = carecast()
        .arg("validate")
        .arg(&big)
        .timeout(std::time::Duration::from_secs(20))
        .output()
        .unwrap();
    refused(&out, 2, &["big.toml", "67,108,865 bytes", "a config file"]);
}

#[test]
fn an_output_over_the_config_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("c.toml");
    std::fs::copy(POISSON, &config).unwrap();
    let out = carecast()
        .arg("run")
        .arg(&config)
        .args(["--runs", "5", "--json"])
        .arg(&config)
        .output()
        .unwrap();
    refused(&out, 2, &["c.toml", "overwrite the input"]);
    assert_eq!(
        std::fs::read(&config).unwrap(),
        std::fs::read(POISSON).unwrap()
    );
}

#[test]
fn two_outputs_to_one_path_are_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a.out");
    let again = dir.path().join(".").join("a.out");
    let out = carecast()
        .args(["run", POISSON, "--runs", "5", "--json"])
        .arg(&a)
        .arg("--csv")
        .arg(&again)
        .output()
        .unwrap();
    refused(&out, 2, &["same file"]);
    assert!(!a.exists());
    refused(
        &output(&["run", POISSON, "--json", "-", "--csv", "-"]),
        2,
        &["same file"],
    );
}

#[test]
fn concurrent_writers_leave_one_set_of_outputs() {
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("r.json");
    let csv = dir.path().join("r.csv");
    let spawn = |seed: &str| {
        std::process::Command::new(assert_cmd::cargo::cargo_bin("carecast"))
            .args(["run", POISSON, "--runs", "200", "--quiet", "--seed", seed])
            .arg("--json")
            .arg(&json)
            .arg("--csv")
            .arg(&csv)
            .spawn()
            .unwrap()
    };
    for _ in 0..4 {
        let (mut a, mut b) = (spawn("1"), spawn("2"));
        assert!(a.wait().unwrap().success() && b.wait().unwrap().success());
        let v: Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
        let mean = v["scenarios"][0]["years"][0]["cost"]["mean"]
            .as_f64()
            .unwrap();
        let text = std::fs::read_to_string(&csv).unwrap();
        let row = text
            .lines()
            .find(|l| l.starts_with("base,2024/25,,cost,,mean,"))
            .unwrap();
        let csv_mean: f64 = row.rsplit(',').next().unwrap().parse().unwrap();
        assert!(
            (csv_mean - mean).abs() < 0.01,
            "JSON (seed {}) and CSV from different runs",
            v["seed"]
        );
    }
}

#[cfg(unix)]
#[test]
fn a_signal_while_writing_leaves_no_temporary_file() {
    let dir = tempfile::tempdir().unwrap();
    let bin = assert_cmd::cargo::cargo_bin("carecast");
    for (k, delay_ms) in [0u64, 50, 150, 300, 600, 1000].into_iter().enumerate() {
        let mut child = std::process::Command::new(&bin)
            .args([
                "run",
                "configs/rotherham-2017.toml",
                "--runs",
                "400",
                "--quiet",
            ])
            .arg("--json")
            .arg(dir.path().join(format!("r{k}.json")))
            .arg("--xlsx")
            .arg(dir.path().join(format!("r{k}.xlsx")))
            .spawn()
            .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(delay_ms));
        let signal = if k % 2 == 0 { "-INT" } else { "-TERM" };
        let _ = kill(signal, child.id());
        let _ = child.wait();
    }
    let left: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".carecast-"))
        .collect();
    assert!(left.is_empty(), "temporary files left: {left:?}");
}

/// Deterministic: the JSON is staged in a temporary file, then carecast
/// blocks opening a named pipe nobody reads. A signal then must remove the
/// temporary file, and the process must die of that signal.
#[cfg(unix)]
#[test]
fn a_signal_removes_the_staged_temporary_file() {
    use std::os::unix::process::ExitStatusExt;
    for signal in ["INT", "TERM", "HUP"] {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("pipe");
        assert!(
            std::process::Command::new("mkfifo")
                .arg(&fifo)
                .status()
                .unwrap()
                .success()
        );
        let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("carecast"))
            .args(["run", POISSON, "--runs", "5", "--quiet", "--json"])
            .arg(dir.path().join("r.json"))
            .arg("--csv")
            .arg(&fifo)
            .spawn()
            .unwrap();
        let temps = || {
            std::fs::read_dir(dir.path())
                .unwrap()
                .filter(|e| {
                    e.as_ref()
                        .unwrap()
                        .file_name()
                        .to_string_lossy()
                        .starts_with(".carecast-")
                })
                .count()
        };
        let start = std::time::Instant::now();
        while temps() == 0 {
            assert!(
                start.elapsed() < std::time::Duration::from_secs(60),
                "the JSON was never staged"
            );
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        assert!(kill(&format!("-{signal}"), child.id()));
        let status = child.wait().unwrap();
        assert!(status.signal().is_some(), "SIG{signal}: {status}");
        assert_eq!(temps(), 0, "SIG{signal} left a temporary file");
        assert!(!dir.path().join("r.json").exists());
    }
}

// Item 11: results files that `report` must refuse.

#[test]
fn report_refuses_results_that_no_run_wrote() {
    let dir = tempfile::tempdir().unwrap();
    let json = results(dir.path());
    let good: Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    type Break = fn(&mut Value);
    let cases: [(&str, Break); 3] = [
        ("mode", |v| v["mode"] = "bogus".into()),
        ("runs", |v| v["runs"] = 0.into()),
        ("scenarios", |v| v["scenarios"] = Value::Array(Vec::new())),
    ];
    for (field, break_it) in cases {
        let mut v = good.clone();
        break_it(&mut v);
        let bad = dir.path().join(format!("bad-{field}.json"));
        std::fs::write(&bad, serde_json::to_vec(&v).unwrap()).unwrap();
        let out = carecast()
            .arg("report")
            .arg(&bad)
            .arg("--quiet")
            .output()
            .unwrap();
        refused(&out, 2, &[&format!("bad-{field}.json"), field]);
    }
}
