//! A mutation fuzzer for the `carecast` binary, on stable Rust.
//!
//! It takes the shipped configs (`configs/`), the regression inputs
//! (`tests/reliability/`), the seeds in `tests/fuzz/corpus/` and a results
//! file written by `carecast run --json`, mutates them (numbers pushed to
//! extremes, strings replaced, lines deleted, duplicated, swapped or
//! borrowed from another file, bytes inserted, text cut short; JSON values
//! replaced or removed), and runs `validate`, `run`, `sensitivity` and
//! `report` on each case. Partial results of shards (`run --shard K/N
//! --partial`) are mutated byte by byte — some with their checksum made to
//! match again, so that the decoder behind it is reached — and merged. A case fails when the binary
//! - panics, or dies of a signal;
//! - runs past the time limit (a hang);
//! - exits other than 0, 2 with a one-line `error:`, or 1 with a one-line
//!   error about reading, writing or memory.
//!
//! ```sh
//! cargo build && cargo run --example fuzz -- --seconds 60
//! cargo run --example fuzz -- --seconds 600 --seed 7 --timeout 30 --bin target/release/carecast
//! ```
//!
//! Failing cases are saved under `target/fuzz-failures/` with the command
//! that failed; the exit status is 1 when any case failed.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// splitmix64: small, seedable, and enough for choosing mutations.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

const NUMBERS: &[&str] = &[
    "0",
    "-1",
    "1",
    "0.5",
    "-0.0",
    "2",
    "18",
    "50",
    "51",
    "100",
    "1000",
    "100000",
    "1000000",
    "1e12",
    "1e15",
    "-1e15",
    "9e18",
    "1e308",
    "-1e308",
    "1e-300",
    "nan",
    "inf",
    "-inf",
    "2147483648",
    "9223372036854775807",
    "\"£1.5m\"",
    "\"-520k\"",
    "\"1,276,000\"",
];

const STRINGS: &[&str] = &[
    "\"\"",
    "\"x\\ny\"",
    "\"bogus\"",
    "\"poisson\"",
    "\"negative_binomial\"",
    "\"2024-13\"",
    "\"1899-01\"",
    "\"2200-12\"",
    "\"£1e20\"",
    "\"é\u{0}\"",
    "\"ifa\"",
    "\"all\"",
];

const DISTS: &[&str] = &[
    "{ dist = \"poisson\", mean = 2 }",
    "{ dist = \"poisson\", mean = 0 }",
    "{ dist = \"poisson\", mean = 1e15 }",
    "{ dist = \"negative_binomial\", mean = 2, size = 0.01 }",
    "{ dist = \"negative_binomial\", mean = 1e12, size = 1e-12 }",
    "{ dist = \"lognormal\", median = 1000, p90 = 1e12 }",
    "{ dist = \"normal\", mean = 0, sd = 1e300 }",
    "{ dist = \"beta\", mean = 0.999999, sd = 0.0001 }",
    "{ dist = \"beta\", alpha = 1e-9, beta = 1e-9 }",
    "{ dist = \"gamma\", shape = 1e-9, scale = 1e9 }",
    "{ dist = \"gamma\", shape = 1e9, scale = 1e-9 }",
    "{ dist = \"pert\", min = 0, mode = 0, max = 1e15 }",
    "{ dist = \"triangular\", min = -1e15, mode = 0, max = 1e15 }",
    "{ dist = \"uniform\", min = 1, max = 1 }",
    "{ dist = \"discrete\", values = [0, 1e15], weights = [1, 1e-300] }",
];

const INSERTS: &[&str] = &["\u{0}", "\"", "[", "]]", "\n[[", "=", "\u{feff}", "é"];

/// One mutation of config text.
fn mutate_text(text: &str, rng: &mut Rng, donors: &[String]) -> String {
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    if lines.is_empty() {
        lines.push(String::new());
    }
    let i = rng.below(lines.len());
    match rng.below(12) {
        0..=2 => {
            lines[i] = replace_token(&lines[i], rng, is_number, |_, rng| {
                rng.pick(NUMBERS).to_string()
            })
        }
        // Valid but extreme: a number scaled by a power of ten, so the
        // config often still validates and runs at the edge of the limits.
        10 | 11 => {
            lines[i] = replace_token(&lines[i], rng, is_number, |token, rng| {
                let x: f64 = token.parse().unwrap_or(1.0);
                let scaled = x * 10f64.powi(rng.below(13) as i32 - 6);
                if x.fract() == 0.0 && scaled.abs() >= 1.0 {
                    format!("{}", scaled.round())
                } else {
                    format!("{scaled}")
                }
            })
        }
        3 => {
            lines[i] = replace_token(
                &lines[i],
                rng,
                |t| t.starts_with('"'),
                |_, rng| rng.pick(STRINGS).to_string(),
            )
        }
        4 => {
            if let Some(eq) = lines[i].find(" = ") {
                lines[i] = format!("{} = {}", &lines[i][..eq], rng.pick(DISTS));
            }
        }
        5 => {
            lines.remove(i);
        }
        6 => {
            let copy = lines[i].clone();
            lines.insert(i, copy);
        }
        7 => {
            let j = rng.below(lines.len());
            lines.swap(i, j);
        }
        8 => {
            let donor: Vec<&str> = rng.pick(donors).lines().collect();
            if !donor.is_empty() {
                let line = donor[rng.below(donor.len())].to_string();
                lines.insert(i, line);
            }
        }
        _ => {
            let mut out = lines.join("\n");
            let mut cut = rng.below(out.len() + 1);
            while !out.is_char_boundary(cut) {
                cut -= 1;
            }
            if rng.below(2) == 0 {
                out.truncate(cut);
            } else {
                let piece = *rng.pick(INSERTS);
                out.insert_str(cut, piece);
            }
            return out;
        }
    }
    lines.join("\n") + "\n"
}

fn is_number(token: &str) -> bool {
    token.parse::<f64>().is_ok()
}

/// Replaces one token of `line` (split on spaces, commas and brackets) that
/// `matches`, by what `choose` makes of it.
fn replace_token(
    line: &str,
    rng: &mut Rng,
    matches: fn(&str) -> bool,
    choose: fn(&str, &mut Rng) -> String,
) -> String {
    let mut spans = Vec::new();
    let mut start = None;
    let mut in_string = false;
    for (k, c) in line.char_indices() {
        let boundary = !in_string && matches!(c, ' ' | ',' | '[' | ']' | '{' | '}' | '=');
        if c == '"' {
            in_string = !in_string;
        }
        match (start, boundary) {
            (None, false) => start = Some(k),
            (Some(s), true) => {
                spans.push((s, k));
                start = None;
            }
            _ => {}
        }
    }
    if let Some(s) = start {
        spans.push((s, line.len()));
    }
    let hits: Vec<(usize, usize)> = spans
        .into_iter()
        .filter(|&(a, b)| matches(&line[a..b]))
        .collect();
    if hits.is_empty() {
        return line.to_string();
    }
    let (a, b) = *rng.pick(&hits);
    let new = choose(&line[a..b], rng);
    format!("{}{new}{}", &line[..a], &line[b..])
}

/// One mutation of a partial file's bytes: bytes changed, inserted or
/// removed, or the file cut short; half the time the trailing SHA-256 is
/// recomputed so the damage reaches the decoder.
fn mutate_partial(bytes: &[u8], rng: &mut Rng) -> Vec<u8> {
    use sha2::{Digest, Sha256};
    let mut b = bytes.to_vec();
    let body = b.len().saturating_sub(32);
    for _ in 0..1 + rng.below(4) {
        let at = rng.below(body.max(1));
        match rng.below(5) {
            0 if at < b.len() => b[at] = rng.next() as u8,
            1 if at < b.len() => b[at] ^= 1 << rng.below(8),
            2 => b.insert(at.min(b.len()), rng.next() as u8),
            3 if at < b.len() => {
                b.remove(at);
            }
            _ => b.truncate(at),
        }
    }
    if rng.below(2) == 0 && b.len() > 32 {
        let end = b.len() - 32;
        let sum = Sha256::digest(&b[..end]);
        b[end..].copy_from_slice(&sum);
    }
    b
}

/// One mutation of a results file: a value replaced or a key removed.
fn mutate_json(value: &mut serde_json::Value, rng: &mut Rng, depth: usize) {
    use serde_json::Value;
    let replacements = || -> Vec<Value> {
        vec![
            Value::Null,
            Value::from(0),
            Value::from(-1),
            Value::from(1e308),
            Value::from(-1e308),
            Value::from(u64::MAX),
            Value::from(""),
            Value::from("bogus"),
            Value::from("central"),
            Value::Array(Vec::new()),
            Value::Object(Default::default()),
        ]
    };
    // Walk down a random path, stopping at a random depth.
    let leaf = depth >= 12 || rng.below(4) == 0;
    match value {
        Value::Object(map) if !map.is_empty() => {
            let key = map
                .keys()
                .nth(rng.below(map.len()))
                .cloned()
                .unwrap_or_default();
            if !leaf {
                if let Some(child) = map.get_mut(&key) {
                    mutate_json(child, rng, depth + 1);
                }
            } else if rng.below(3) == 0 {
                map.shift_remove(&key);
            } else {
                map.insert(key, rng.pick(&replacements()).clone());
            }
        }
        Value::Array(items) if !items.is_empty() => {
            let k = rng.below(items.len());
            if !leaf {
                mutate_json(&mut items[k], rng, depth + 1);
            } else if rng.below(3) == 0 {
                items.remove(k);
            } else {
                items[k] = rng.pick(&replacements()).clone();
            }
        }
        other => *other = rng.pick(&replacements()).clone(),
    }
}

/// How one command ended: its exit code when acceptable, else why not.
type Outcome = Result<i32, String>;

fn run_case(bin: &Path, args: &[String], timeout: Duration) -> Outcome {
    let child = Command::new(bin)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn();
    let mut child = match child {
        Ok(c) => c,
        Err(e) => return Err(format!("cannot start {}: {e}", bin.display())),
    };
    let started = Instant::now();
    // stderr is read on a thread so a chatty child cannot block on a full pipe.
    let mut pipe = child.stderr.take().expect("stderr is piped");
    let reader = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = std::io::Read::read_to_string(&mut pipe, &mut text);
        text
    });
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if started.elapsed() > timeout => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!("hang: still running after {timeout:?}"));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(5)),
            Err(e) => return Err(format!("cannot wait: {e}")),
        }
    };
    let stderr = reader.join().unwrap_or_default();
    judge(status, &stderr)
}

fn judge(status: std::process::ExitStatus, stderr: &str) -> Outcome {
    let one_line = stderr.lines().count() == 1 && stderr.starts_with("error: ");
    if stderr.contains("panicked") {
        return Err(format!("panic: {stderr}"));
    }
    match status.code() {
        None => Err(format!("killed by a signal ({status}): {stderr}")),
        Some(0) => Ok(0),
        Some(2) if one_line => Ok(2),
        Some(1)
            if one_line
                && ["cannot write", "cannot read", "not enough memory"]
                    .iter()
                    .any(|w| stderr.contains(w)) =>
        {
            Ok(1)
        }
        Some(code) => Err(format!("exit {code} with stderr {stderr:?}")),
    }
}

struct Options {
    seconds: u64,
    seed: u64,
    timeout: Duration,
    bin: PathBuf,
}

fn options() -> Options {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let value = |flag: &str| {
        args.iter()
            .position(|a| a == flag)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    let number = |flag: &str, default: u64| match value(flag) {
        None => default,
        Some(v) => v.parse().unwrap_or_else(|_| {
            eprintln!("error: {flag} needs a whole number, got {v:?}");
            std::process::exit(2)
        }),
    };
    let clock = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(1, |d| d.as_secs());
    // The binary next to this example's folder: target/<profile>/carecast.
    let beside = std::env::current_exe()
        .ok()
        .and_then(|e| Some(e.parent()?.parent()?.join("carecast")))
        .unwrap_or_else(|| PathBuf::from("target/debug/carecast"));
    Options {
        seconds: number("--seconds", 60),
        seed: number("--seed", clock),
        timeout: Duration::from_secs(number("--timeout", 20)),
        bin: value("--bin").map_or(beside, PathBuf::from),
    }
}

/// Files of `dir` whose name ends in `ext`, sorted.
fn files(dir: &str, ext: &str) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|d| {
            d.filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.to_string_lossy().ends_with(ext))
                .collect()
        })
        .unwrap_or_default();
    out.sort();
    out
}

fn main() {
    let opts = options();
    if !opts.bin.exists() {
        eprintln!(
            "error: no carecast binary at {} (run `cargo build` first, or give --bin)",
            opts.bin.display()
        );
        std::process::exit(2);
    }
    let work = tempfile::tempdir().expect("a temporary folder");
    let failures = Path::new("target/fuzz-failures");

    // Seeds: configs, and results written by the binary itself.
    let mut configs: Vec<String> = Vec::new();
    for dir in ["configs", "tests/reliability", "tests/fuzz/corpus"] {
        for p in files(dir, ".toml") {
            configs.push(std::fs::read_to_string(&p).unwrap_or_default());
        }
    }
    let mut results: Vec<serde_json::Value> = files("tests/fuzz/corpus", ".json")
        .iter()
        .filter_map(|p| serde_json::from_slice(&std::fs::read(p).ok()?).ok())
        .collect();
    let fresh = work.path().join("fresh.json");
    let made = Command::new(&opts.bin)
        .args([
            "run",
            "configs/example.toml",
            "--runs",
            "20",
            "--quiet",
            "--json",
        ])
        .arg(&fresh)
        .status();
    if made.is_ok_and(|s| s.success())
        && let Some(v) = std::fs::read(&fresh)
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
    {
        results.push(v);
    }
    // Two shards of a short run of the example: partial files to mutate.
    let mut partials: Vec<Vec<u8>> = Vec::new();
    for k in 0..2 {
        let path = work.path().join(format!("seed-{k}.bin"));
        let made = Command::new(&opts.bin)
            .args([
                "run",
                "configs/example.toml",
                "--runs",
                "8",
                "--quiet",
                "--shard",
            ])
            .arg(format!("{k}/2"))
            .arg("--partial")
            .arg(&path)
            .status();
        if made.is_ok_and(|s| s.success())
            && let Ok(b) = std::fs::read(&path)
        {
            partials.push(b);
        }
    }
    if configs.is_empty() || results.is_empty() || partials.len() < 2 {
        eprintln!("error: no seeds (run from the repository's root, after `cargo build`)");
        std::process::exit(2);
    }
    println!(
        "fuzz: seed {}, {} s, {} config seeds, {} results seeds, {:?} per command, binary {}",
        opts.seed,
        opts.seconds,
        configs.len(),
        results.len(),
        opts.timeout,
        opts.bin.display()
    );

    let mut rng = Rng(opts.seed);
    let started = Instant::now();
    let (mut cases, mut commands, mut failed) = (0u64, 0u64, 0u64);
    let out = |name: &str| work.path().join(name).to_string_lossy().into_owned();
    while started.elapsed() < Duration::from_secs(opts.seconds) {
        cases += 1;
        let (input, runs): (PathBuf, Vec<Vec<String>>) = if rng.below(8) == 0 {
            let k = rng.below(2);
            let bytes = mutate_partial(&partials[k], &mut rng);
            let path = work.path().join("case.bin");
            std::fs::write(&path, bytes).expect("the case is written");
            let other = work.path().join("other.bin");
            std::fs::write(&other, &partials[1 - k]).expect("the other shard is written");
            let merge = [
                "merge".to_string(),
                path.to_string_lossy().into_owned(),
                other.to_string_lossy().into_owned(),
                "--quiet".to_string(),
                "--json".to_string(),
                out("m.json"),
            ];
            (path, vec![merge.to_vec()])
        } else if rng.below(5) == 0 {
            let mut v = rng.pick(&results).clone();
            for _ in 0..1 + rng.below(3) {
                mutate_json(&mut v, &mut rng, 0);
            }
            let path = work.path().join("case.json");
            let bytes = serde_json::to_vec(&v).unwrap_or_default();
            std::fs::write(&path, bytes).expect("the case is written");
            let p = path.to_string_lossy().into_owned();
            let report = [
                "report",
                &p,
                "--quiet",
                "--markdown",
                &out("r.md"),
                "--html",
                &out("r.html"),
                "--xlsx",
                &out("r.xlsx"),
            ];
            (path, vec![report.iter().map(|s| s.to_string()).collect()])
        } else {
            let mut text = rng.pick(&configs).clone();
            for _ in 0..1 + rng.below(2) {
                text = mutate_text(&text, &mut rng, &configs);
            }
            let path = work.path().join("case.toml");
            std::fs::write(&path, &text).expect("the case is written");
            let p = path.to_string_lossy().into_owned();
            let mut runs = vec![vec!["validate".to_string(), p.clone()]];
            let (o_json, o_csv) = (out("o.json"), out("o.csv"));
            let tail = match rng.below(6) {
                0 => vec!["sensitivity", &p, "--runs", "10", "--quiet"],
                1 => vec!["run", &p, "--central", "--quiet", "--json", "-"],
                _ => vec![
                    "run", &p, "--runs", "3", "--quiet", "--json", &o_json, "--csv", &o_csv,
                ],
            };
            let tail: Vec<String> = tail.iter().map(|s| s.to_string()).collect();
            runs.push(tail);
            (path, runs)
        };
        for args in runs {
            commands += 1;
            let outcome = run_case(&opts.bin, &args, opts.timeout);
            if let Err(why) = &outcome {
                failed += 1;
                let _ = std::fs::create_dir_all(failures);
                let ext = input
                    .extension()
                    .map_or("txt".into(), |e| e.to_string_lossy().into_owned());
                let saved = failures.join(format!("case-{}-{cases}.{ext}", opts.seed));
                let _ = std::fs::copy(&input, &saved);
                println!(
                    "FAIL {}: carecast {}: {why}",
                    saved.display(),
                    args.join(" ")
                );
                break;
            }
            // Later commands of a case run only on a config that validates.
            if args[0] == "validate" && outcome != Ok(0) {
                break;
            }
        }
    }
    let minutes = started.elapsed().as_secs_f64() / 60.0;
    println!(
        "fuzz: {cases} cases, {commands} commands in {:.1} min ({:.0} cases a minute), {failed} failed",
        minutes,
        cases as f64 / minutes.max(1e-9)
    );
    if failed > 0 {
        std::process::exit(1);
    }
}
