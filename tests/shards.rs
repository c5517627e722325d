//! Shards and their merge (docs/user-guide.md, "Runs split across
//! machines"): `run --shard K/N --partial FILE` and `merge PARTIAL...` give
//! every output byte for byte as one run of all the runs, and a merge of
//! parts that do not belong together is refused.

use std::path::{Path, PathBuf};

use assert_cmd::Command;

fn carecast() -> Command {
    Command::cargo_bin("carecast").unwrap()
}

const OUTPUTS: [(&str, &str); 5] = [
    ("--json", "r.json"),
    ("--csv", "r.csv"),
    ("--html", "r.html"),
    ("--xlsx", "r.xlsx"),
    ("--markdown", "r.md"),
];

/// Every output of `args` (a `run` or a `merge`) written into `dir`.
fn outputs(args: &[&str], dir: &Path) -> Vec<Vec<u8>> {
    std::fs::create_dir_all(dir).unwrap();
    let mut cmd = carecast();
    cmd.args(args).arg("--quiet");
    for (flag, name) in OUTPUTS {
        cmd.arg(flag).arg(dir.join(name));
    }
    cmd.assert().success();
    OUTPUTS
        .iter()
        .map(|(_, name)| std::fs::read(dir.join(name)).unwrap())
        .collect()
}

fn shard(config: &str, runs: u64, k: u64, n: u64, extra: &[&str], path: &Path) {
    carecast()
        .args([
            "run",
            config,
            "--runs",
            &runs.to_string(),
            "--quiet",
            "--shard",
        ])
        .arg(format!("{k}/{n}"))
        .arg("--partial")
        .arg(path)
        .args(extra)
        .assert()
        .success();
}

fn same(a: &[Vec<u8>], b: &[Vec<u8>], what: &str) {
    for ((flag, _), (x, y)) in OUTPUTS.iter().zip(a.iter().zip(b)) {
        assert!(x == y, "{what}: {flag} differs");
    }
}

#[test]
fn shards_merged_in_any_order_give_the_single_runs_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let single = outputs(
        &["run", "configs/example.toml", "--runs", "50"],
        &d.join("one"),
    );
    let again = outputs(
        &[
            "run",
            "configs/example.toml",
            "--runs",
            "50",
            "--threads",
            "1",
        ],
        &d.join("again"),
    );
    same(&single, &again, "one thread against all");
    // Three shards of 16, 17 and 17 runs, merged out of order.
    let parts: Vec<PathBuf> = (0..3).map(|k| d.join(format!("p{k}.bin"))).collect();
    for (k, p) in parts.iter().enumerate() {
        shard("configs/example.toml", 50, k as u64, 3, &[], p);
    }
    let merged = outputs(
        &[
            "merge",
            parts[2].to_str().unwrap(),
            parts[0].to_str().unwrap(),
            parts[1].to_str().unwrap(),
        ],
        &d.join("merged"),
    );
    same(&single, &merged, "three shards");
    // A shard's partial file does not depend on the threads either.
    let p1 = d.join("p1-one-thread.bin");
    shard("configs/example.toml", 50, 1, 3, &["--threads", "1"], &p1);
    assert_eq!(
        std::fs::read(&p1).unwrap(),
        std::fs::read(&parts[1]).unwrap()
    );
}

/// The money councils outputs (budget lines, funds, income, staff, each
/// initiative's cost avoided from the same runs without it) go through the
/// same tallies: shards merged give the single run's bytes. Rotherham 2017
/// has ten initiatives (cost avoided by default), Somerset 2019 funds,
/// budget lines and income, the UASC example a cohort and its income.
#[test]
fn finance_shards_merge_to_the_single_runs_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    for (name, config, runs) in [
        ("rotherham", "configs/rotherham-2017.toml", 70u64),
        ("somerset", "configs/somerset-2019.toml", 70),
        ("uasc", "configs/uasc-2024.toml", 70),
    ] {
        let single = outputs(
            &["run", config, "--runs", &runs.to_string()],
            &d.join(format!("{name}-one")),
        );
        if name == "rotherham" {
            let json: serde_json::Value = serde_json::from_slice(&single[0]).unwrap();
            let plan = json["scenarios"]
                .as_array()
                .unwrap()
                .iter()
                .find(|s| s["id"] == "plan")
                .unwrap();
            assert_eq!(plan["initiatives"].as_object().unwrap().len(), 10);
        }
        let parts: Vec<String> = (0..3)
            .map(|k| {
                d.join(format!("{name}-p{k}.bin"))
                    .to_string_lossy()
                    .into_owned()
            })
            .collect();
        for (k, p) in parts.iter().enumerate() {
            shard(config, runs, k as u64, 3, &[], Path::new(p));
        }
        let merged = outputs(
            &["merge", &parts[1], &parts[2], &parts[0]],
            &d.join(format!("{name}-merged")),
        );
        same(&single, &merged, name);
    }
}

/// A small config whose yearly cost takes a distinct value in nearly every
/// run: past 10,000 runs its money is kept in buckets (the sketch).
const SPREAD: &str = r#"
name = "spread"
[horizon]
start = "2025-04"
years = 1
[budget]
per_year = ["800k"]
[exits]
annual_probability = { a = 0.3 }
[[placement]]
id = "a"
weekly_cost = { dist = "lognormal", median = 1500, p90 = 2500 }
initial = 10
"#;

#[test]
fn shards_past_the_exact_limit_merge_to_the_same_sketch() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let config = d.join("spread.toml");
    std::fs::write(&config, SPREAD).unwrap();
    let c = config.to_str().unwrap();
    let runs = 12_000u64;
    let single = outputs(&["run", c, "--runs", &runs.to_string()], &d.join("one"));
    let json: serde_json::Value = serde_json::from_slice(&single[0]).unwrap();
    let cost = &json["scenarios"][0]["years"][0]["cost"];
    // Past 10,000 runs the money percentiles come with their sketch error:
    // at most 2⁻¹³ of the largest value it is read at (the expected
    // shortfall reaches the largest run, which a lognormal price puts
    // within about twice the P99 in 12,000 runs).
    let error = cost["sketch_error"].as_f64().expect("a sketch error");
    let p99 = cost["p99"].as_f64().unwrap();
    assert!(
        error > 0.0 && error <= 4.0 * p99 * 2f64.powi(-13),
        "{error} vs P99 {p99}"
    );
    // Children stay exact at any number of runs.
    assert!(json["scenarios"][0]["years"][0]["lac_end"]["sketch_error"].is_null());
    // Four shards of 3,000 runs: each holds its values exactly; merged,
    // they cross the limit together.
    let parts: Vec<String> = (0..4)
        .map(|k| d.join(format!("p{k}.bin")).to_string_lossy().into_owned())
        .collect();
    for (k, p) in parts.iter().enumerate() {
        shard(c, runs, k as u64, 4, &[], Path::new(p));
    }
    let mut args = vec!["merge"];
    args.extend(parts.iter().rev().map(String::as_str));
    let merged = outputs(&args, &d.join("merged"));
    same(&single, &merged, "four shards past the exact limit");
}

/// Runs `merge` on `parts` expecting exit 2, and returns stderr.
fn refused(parts: &[&Path]) -> String {
    let out = carecast()
        .arg("merge")
        .args(parts)
        .args(["--json", "-", "--quiet"])
        .assert()
        .code(2)
        .get_output()
        .clone();
    assert!(out.stdout.is_empty());
    let err = String::from_utf8(out.stderr).unwrap();
    assert_eq!(err.lines().count(), 1, "one line: {err}");
    assert!(!err.contains("panicked"), "{err}");
    err
}

#[test]
fn merge_checks_its_parts_even_with_nothing_to_write() {
    // `merge --quiet` with no output file exited 0 without reading its parts.
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    for k in 0..2 {
        shard(
            "configs/example.toml",
            20,
            k,
            2,
            &[],
            &d.join(format!("p{k}.bin")),
        );
    }
    let quiet = |parts: &[&Path]| {
        carecast()
            .arg("merge")
            .args(parts)
            .arg("--quiet")
            .assert()
            .get_output()
            .clone()
    };
    let out = quiet(&[&d.join("p0.bin")]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.contains("shard 1/2 (runs 10 to 19) is missing"),
        "{err}"
    );
    let out = quiet(&[&d.join("p0.bin"), &d.join("nowhere.bin")]);
    assert_eq!(out.status.code(), Some(2));
    // A whole set merges, and the warning names merge's own outputs.
    let out = quiet(&[&d.join("p0.bin"), &d.join("p1.bin")]);
    assert_eq!(out.status.code(), Some(0));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.contains("add --json, --csv, --html, --xlsx or --markdown FILE"),
        "{err}"
    );
}

#[test]
fn merge_refuses_parts_that_do_not_belong_together() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let p = |name: &str| d.join(name);
    for k in 0..3 {
        shard(
            "configs/example.toml",
            30,
            k,
            3,
            &[],
            &p(&format!("p{k}.bin")),
        );
    }
    // A missing shard, named with its runs.
    let err = refused(&[&p("p0.bin"), &p("p2.bin")]);
    assert!(
        err.contains("shard 1/3 (runs 10 to 19) is missing"),
        "{err}"
    );
    let err = refused(&[&p("p0.bin"), &p("p1.bin")]);
    assert!(
        err.contains("shard 2/3 (runs 20 to 29) is missing"),
        "{err}"
    );
    let err = refused(&[&p("p1.bin")]);
    assert!(
        err.contains("shard 0/3 (runs 0 to 9) is missing") && err.contains("nor one other shard"),
        "{err}"
    );
    // The same file twice, and the same shard in two files.
    let err = refused(&[&p("p0.bin"), &p("p1.bin"), &p("p1.bin"), &p("p2.bin")]);
    assert!(
        err.contains("p1.bin is given twice") && err.contains("shard 1/3"),
        "{err}"
    );
    std::fs::copy(p("p1.bin"), p("copy.bin")).unwrap();
    let err = refused(&[&p("p0.bin"), &p("p1.bin"), &p("copy.bin"), &p("p2.bin")]);
    assert!(
        err.contains("p1.bin and") && err.contains("copy.bin both hold shard 1/3"),
        "{err}"
    );
    // Another seed, another number of runs, another config.
    shard(
        "configs/example.toml",
        30,
        1,
        3,
        &["--seed", "7"],
        &p("seed.bin"),
    );
    let err = refused(&[&p("p0.bin"), &p("seed.bin"), &p("p2.bin")]);
    assert!(
        err.contains("seeds differ") && err.contains("seed.bin"),
        "{err}"
    );
    shard("configs/example.toml", 31, 1, 3, &[], &p("runs.bin"));
    let err = refused(&[&p("p0.bin"), &p("runs.bin"), &p("p2.bin")]);
    assert!(err.contains("total runs differ"), "{err}");
    let other = p("other.toml");
    let text = std::fs::read_to_string("configs/example.toml").unwrap() + "\n# changed\n";
    std::fs::write(&other, text).unwrap();
    shard(other.to_str().unwrap(), 30, 1, 3, &[], &p("config.bin"));
    let err = refused(&[&p("p0.bin"), &p("config.bin"), &p("p2.bin")]);
    assert!(
        err.contains("configs differ") && err.contains("config.bin"),
        "{err}"
    );
    // A shard that measured no initiative's cost avoided.
    shard(
        "configs/example.toml",
        30,
        1,
        3,
        &["--no-attribution"],
        &p("off.bin"),
    );
    let err = refused(&[&p("p0.bin"), &p("off.bin"), &p("p2.bin")]);
    assert!(
        err.contains(
            "the cost-avoided settings differ (the default (neither flag) and --no-attribution)"
        ) && err.contains("off.bin"),
        "{err}"
    );
}

/// `--no-attribution` leaves cost avoided out and changes nothing else; a
/// shard run with it merges like any other.
#[test]
fn no_attribution_leaves_out_cost_avoided_and_nothing_else() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let json = |args: &[&str], name: &str| -> serde_json::Value {
        let path = d.join(name);
        carecast()
            .args([
                "run",
                "configs/example.toml",
                "--runs",
                "70",
                "--quiet",
                "--json",
            ])
            .arg(&path)
            .args(args)
            .assert()
            .success();
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
    };
    let mut with = json(&[], "with.json");
    let without = json(&["--no-attribution"], "without.json");
    let mut removed = 0;
    for sc in with["scenarios"].as_array_mut().unwrap() {
        if let Some(i) = sc.as_object_mut().unwrap().remove("initiatives") {
            removed += !i.as_object().is_none_or(|o| o.is_empty()) as usize;
        }
        for y in sc["years"].as_array_mut().unwrap() {
            if let Some(i) = y.as_object_mut().unwrap().remove("initiatives") {
                removed += !i.as_object().is_none_or(|o| o.is_empty()) as usize;
            }
        }
    }
    assert!(removed > 0, "the example measures cost avoided by default");
    let mut bare = without.clone();
    for sc in bare["scenarios"].as_array_mut().unwrap() {
        let i = sc.as_object_mut().unwrap().remove("initiatives");
        assert!(
            i.as_ref()
                .and_then(|i| i.as_object())
                .is_none_or(|o| o.is_empty())
        );
        for y in sc["years"].as_array_mut().unwrap() {
            let i = y.as_object_mut().unwrap().remove("initiatives");
            assert!(
                i.as_ref()
                    .and_then(|i| i.as_object())
                    .is_none_or(|o| o.is_empty())
            );
        }
    }
    assert_eq!(with, bare);
    // Shards with the flag merge to the single run's bytes.
    for k in 0..2 {
        shard(
            "configs/example.toml",
            70,
            k,
            2,
            &["--no-attribution"],
            &d.join(format!("n{k}.bin")),
        );
    }
    let merged = d.join("merged.json");
    carecast()
        .arg("merge")
        .args([d.join("n0.bin"), d.join("n1.bin")])
        .arg("--json")
        .arg(&merged)
        .arg("--quiet")
        .assert()
        .success();
    assert_eq!(
        std::fs::read(merged).unwrap(),
        std::fs::read(d.join("without.json")).unwrap()
    );
    // Both flags at once is a usage error.
    carecast()
        .args(["run", "--attribution", "--no-attribution", "--runs", "5"])
        .assert()
        .code(2);
}

#[test]
fn a_damaged_partial_file_is_an_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let good = d.join("p0.bin");
    shard("configs/example.toml", 10, 0, 1, &[], &good);
    let bytes = std::fs::read(&good).unwrap();
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "cut.bin",
            bytes[..bytes.len() / 2].to_vec(),
            "truncated or damaged",
        ),
        ("empty.bin", Vec::new(), "not a carecast partial"),
        (
            "text.bin",
            b"name = \"a config\"\n".to_vec(),
            "not a carecast partial",
        ),
        (
            "flipped.bin",
            {
                let mut b = bytes.clone();
                let i = b.len() / 3;
                b[i] ^= 0x40;
                b
            },
            "truncated or damaged",
        ),
    ];
    for (name, content, why) in cases {
        let path = d.join(name);
        std::fs::write(&path, content).unwrap();
        let err = refused(&[&path]);
        assert!(err.contains(name) && err.contains(why), "{name}: {err}");
    }
    // A damaged body behind a checksum made to match is still refused
    // cleanly by the decoder.
    use sha2::{Digest, Sha256};
    let mut b = bytes.clone();
    let end = b.len() - 32;
    b[end - 40] = 0xff;
    b[end - 39] = 0xff;
    let sum = Sha256::digest(&b[..end]);
    b[end..].copy_from_slice(&sum);
    let path = d.join("body.bin");
    std::fs::write(&path, b).unwrap();
    let err = refused(&[&path]);
    assert!(
        err.contains("body.bin") && err.contains("not valid"),
        "{err}"
    );
}

#[test]
fn shard_flags_are_checked() {
    for (args, why) in [
        (
            vec!["--shard", "3/3", "--partial", "x.bin"],
            "K must be below N",
        ),
        (
            vec!["--shard", "a/3", "--partial", "x.bin"],
            "not a whole number",
        ),
    ] {
        let out = carecast()
            .args(["run", "--runs", "10"])
            .args(&args)
            .assert()
            .code(2)
            .get_output()
            .clone();
        let err = String::from_utf8(out.stderr).unwrap();
        assert!(err.contains(why), "{err}");
    }
    // --shard needs --partial, and writes no other output.
    carecast()
        .args(["run", "--runs", "10", "--shard", "0/2"])
        .assert()
        .code(2);
    carecast()
        .args([
            "run",
            "--runs",
            "10",
            "--shard",
            "0/2",
            "--partial",
            "x.bin",
            "--json",
            "y.json",
        ])
        .assert()
        .code(2);
}

/// Only a regular file is a partial file. A named pipe with no writer used
/// to leave the merge waiting for ever, and /dev/zero to read until memory
/// ran out; a folder gave the system's "Is a directory".
#[cfg(unix)]
#[test]
fn merge_refuses_what_is_not_a_regular_file_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let good = d.join("p0.bin");
    shard("configs/example.toml", 10, 0, 2, &[], &good);
    let fifo = d.join("pipe.bin");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(made.success());
    let folder = d.join("folder.bin");
    std::fs::create_dir(&folder).unwrap();
    for (path, what) in [
        (fifo.as_path(), "a named pipe"),
        (Path::new("/dev/zero"), "a character device"),
        (folder.as_path(), "a directory"),
    ] {
        let out = carecast()
            .arg("merge")
            .arg(&good)
            .arg(path)
            .args(["--json", "-", "--quiet"])
            .timeout(std::time::Duration::from_secs(20))
            .assert()
            .code(2)
            .get_output()
            .clone();
        assert!(out.stdout.is_empty());
        let err = String::from_utf8(out.stderr).unwrap();
        assert_eq!(err.lines().count(), 1, "one line: {err}");
        let name = path.display().to_string();
        assert!(
            err.contains(&name) && err.contains(what) && err.contains("not a regular file"),
            "{name}: {err}"
        );
    }
}

/// The magic bytes and then the format version, on the first line, are
/// checked before anything else: a file of another version is named as
/// such, whatever follows its first line.
#[test]
fn merge_checks_the_format_version_first() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let good = d.join("p0.bin");
    shard("configs/example.toml", 10, 0, 1, &[], &good);
    let bytes = std::fs::read(&good).unwrap();
    let first = bytes.iter().position(|&b| b == b'\n').unwrap() + 1;
    assert_eq!(&bytes[..first], b"carecast partial v2\n");
    let with_line = |line: &[u8]| [line, &bytes[first..]].concat();
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        // Version 1 had a bare first line and its version in the header.
        (
            "v1.bin",
            with_line(b"carecast partial\n"),
            "partial format version 1, but this carecast reads version 2",
        ),
        // A later version, whose layout after the line this one cannot know.
        (
            "v3.bin",
            with_line(b"carecast partial v3\n"),
            "partial format version 3, but this carecast reads version 2",
        ),
        (
            "v3-other.bin",
            b"carecast partial v3\nwhatever a version 3 holds".to_vec(),
            "partial format version 3",
        ),
        (
            "vx.bin",
            with_line(b"carecast partial vx\n"),
            "not `carecast partial vN`",
        ),
        (
            "magic.bin",
            with_line(b"carecast partiaL v2\n"),
            "not a carecast partial result",
        ),
    ];
    for (name, content, why) in cases {
        let path = d.join(name);
        std::fs::write(&path, content).unwrap();
        let err = refused(&[&path]);
        assert!(err.contains(name) && err.contains(why), "{name}: {err}");
    }
}

/// A partial file with its header changed by `edit` and its checksum made
/// to match again: a file whose header lies, as no shard writes one.
fn with_header(bytes: &[u8], edit: impl FnOnce(&mut serde_json::Value)) -> Vec<u8> {
    use sha2::{Digest, Sha256};
    let line = bytes.iter().position(|&b| b == b'\n').unwrap() + 1;
    let len = u32::from_le_bytes(bytes[line..line + 4].try_into().unwrap()) as usize;
    let mut header: serde_json::Value =
        serde_json::from_slice(&bytes[line + 4..line + 4 + len]).unwrap();
    edit(&mut header);
    let json = serde_json::to_vec(&header).unwrap();
    let mut out = bytes[..line].to_vec();
    out.extend_from_slice(&(json.len() as u32).to_le_bytes());
    out.extend_from_slice(&json);
    out.extend_from_slice(&bytes[line + 4 + len..bytes.len() - 32]);
    let sum = Sha256::digest(&out);
    out.extend_from_slice(&sum);
    out
}

/// Partial files that each read well must also come from one split of the
/// runs: the old checks looked only at whether the run ranges tiled, so
/// shards of two different splits, a shard given twice or left out when it
/// held no runs, and a file whose shard number did not match its runs were
/// all merged.
#[test]
fn merge_needs_every_shard_of_one_split_once() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let p = |name: &str| d.join(name);
    // 0/2 holds runs 0 to 29 of 60; 2/4 and 3/4 hold 30 to 59.
    shard("configs/example.toml", 60, 0, 2, &[], &p("a0-2.bin"));
    shard("configs/example.toml", 60, 2, 4, &[], &p("a2-4.bin"));
    shard("configs/example.toml", 60, 3, 4, &[], &p("a3-4.bin"));
    let err = refused(&[&p("a0-2.bin"), &p("a2-4.bin"), &p("a3-4.bin")]);
    assert!(
        err.contains("a0-2.bin")
            && err.contains("a2-4.bin")
            && err.contains("shard counts (N of --shard K/N) differ (2 and 4)"),
        "{err}"
    );
    // Five shards of two runs: 0/5, 1/5 and 3/5 hold none.
    for k in 0..5 {
        shard(
            "configs/example.toml",
            2,
            k,
            5,
            &[],
            &p(&format!("e{k}.bin")),
        );
    }
    let err = refused(&[&p("e0.bin"), &p("e2.bin"), &p("e4.bin")]);
    assert!(
        err.contains("shard 1/5 (no runs) is missing") && err.contains("nor one other shard"),
        "{err}"
    );
    std::fs::copy(p("e0.bin"), p("e0-again.bin")).unwrap();
    let err = refused(&[
        &p("e0.bin"),
        &p("e0-again.bin"),
        &p("e1.bin"),
        &p("e2.bin"),
        &p("e3.bin"),
        &p("e4.bin"),
    ]);
    assert!(
        err.contains("both hold shard 0/5 (no runs)") && err.contains("e0-again.bin"),
        "{err}"
    );
    // Headers that lie about the shard, behind a matching checksum.
    for k in 0..3 {
        shard(
            "configs/example.toml",
            30,
            k,
            3,
            &[],
            &p(&format!("p{k}.bin")),
        );
    }
    let bytes = std::fs::read(p("p1.bin")).unwrap();
    for (name, shard, why) in [
        (
            "k2.bin",
            [2, 3],
            "holds runs 10..20, but shard 2/3 of 30 runs is 20..30",
        ),
        (
            "k3.bin",
            [3, 3],
            "shard 3/3, but K of --shard K/N must be below N",
        ),
        (
            "n0.bin",
            [0, 0],
            "shard 0/0, but K of --shard K/N must be below N",
        ),
    ] {
        let lie = with_header(&bytes, |h| h["shard"] = serde_json::json!(shard));
        std::fs::write(p(name), lie).unwrap();
        let err = refused(&[&p("p0.bin"), &p(name), &p("p2.bin")]);
        assert!(err.contains(name) && err.contains(why), "{name}: {err}");
    }
}
