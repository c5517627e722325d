//! The reports people read (docs/outputs.md): HTML, Excel and Markdown,
//! rendered by `carecast run` and again from saved JSON by `carecast report`.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use calamine::{Data, Reader, Xlsx, open_workbook};
use carecast::output::{html, json, markdown, xlsx};
use carecast::report::Report;
use serde_json::Value;

fn carecast() -> Command {
    Command::cargo_bin("carecast").unwrap()
}

/// Runs `config` and writes every format; returns the paths by extension.
fn run_all(config: &str, extra: &[&str], dir: &Path) -> Outputs {
    let out = Outputs::in_dir(dir, "run");
    carecast()
        .arg("run")
        .arg(config)
        .args(extra)
        .args(["--quiet", "--json"])
        .arg(&out.json)
        .arg("--html")
        .arg(&out.html)
        .arg("--xlsx")
        .arg(&out.xlsx)
        .arg("--markdown")
        .arg(&out.markdown)
        .assert()
        .success();
    out
}

struct Outputs {
    json: PathBuf,
    html: PathBuf,
    xlsx: PathBuf,
    markdown: PathBuf,
}

impl Outputs {
    fn in_dir(dir: &Path, stem: &str) -> Outputs {
        Outputs {
            json: dir.join(format!("{stem}.json")),
            html: dir.join(format!("{stem}.html")),
            xlsx: dir.join(format!("{stem}.xlsx")),
            markdown: dir.join(format!("{stem}.md")),
        }
    }
}

fn float(d: Option<&Data>) -> f64 {
    match d {
        Some(Data::Float(x)) => *x,
        Some(Data::Int(i)) => *i as f64,
        other => panic!("expected a number, found {other:?}"),
    }
}

fn string(d: Option<&Data>) -> String {
    match d {
        Some(Data::String(s)) => s.clone(),
        other => panic!("expected text, found {other:?}"),
    }
}

const STATS: [&str; 9] = ["mean", "sd", "p5", "p10", "p25", "p50", "p75", "p90", "p95"];

#[test]
fn the_workbook_holds_the_json_numbers() {
    let dir = tempfile::tempdir().unwrap();
    let out = run_all("configs/example.toml", &["--runs", "300"], dir.path());
    let v: Value = serde_json::from_slice(&std::fs::read(&out.json).unwrap()).unwrap();
    let mut wb: Xlsx<_> = open_workbook(&out.xlsx).unwrap();
    assert_eq!(
        wb.sheet_names(),
        [
            "Summary",
            "Strategy",
            "Years",
            "Months",
            "Components",
            "Differences",
            "Drivers",
            "Finance",
            "Inputs"
        ]
    );

    // Drivers: the first scenario's top input, year by year then the
    // horizon, as in the JSON.
    let drivers = wb.worksheet_range("Drivers").unwrap();
    let top = &v["scenarios"][0]["contributions"][0];
    let years = v["scenarios"][0]["years"].as_array().unwrap().len();
    for k in 0..=years {
        let row = 1 + k as u32;
        let share = if k < years {
            &top["years"][k]
        } else {
            &top["total"]
        };
        assert_eq!(
            string(drivers.get_value((row, 1))),
            top["input"].as_str().unwrap()
        );
        assert_eq!(
            float(drivers.get_value((row, 3))),
            share["rank_correlation"].as_f64().unwrap()
        );
        assert_eq!(
            float(drivers.get_value((row, 4))),
            share["contribution"].as_f64().unwrap()
        );
    }
    assert_eq!(string(drivers.get_value((1 + years as u32, 2))), "horizon");

    // Summary: one row per scenario and year.
    let summary = wb.worksheet_range("Summary").unwrap();
    let mut row = 1;
    for sc in v["scenarios"].as_array().unwrap() {
        for y in sc["years"].as_array().unwrap() {
            let cell = |c: u32| summary.get_value((row, c));
            assert_eq!(string(cell(0)), sc["id"].as_str().unwrap());
            assert_eq!(string(cell(1)), y["fy"].as_str().unwrap());
            assert_eq!(float(cell(2)), y["months"].as_f64().unwrap());
            assert_eq!(float(cell(3)), y["budget"].as_f64().unwrap());
            for (c, stat) in [(4, "mean"), (5, "p10"), (6, "p50"), (7, "p90")] {
                assert_eq!(float(cell(c)), y["cost"][stat].as_f64().unwrap(), "{stat}");
            }
            assert_eq!(
                float(cell(8)),
                y["overspend"]["probability"].as_f64().unwrap()
            );
            assert_eq!(float(cell(9)), y["overspend"]["mean"].as_f64().unwrap());
            match y["overspend"]["mean_if_overspent"].as_f64() {
                Some(m) => assert_eq!(float(cell(10)), m),
                None => assert!(matches!(cell(10), None | Some(Data::Empty))),
            }
            for (c, stat) in [(11, "p10"), (12, "p50"), (13, "p90")] {
                assert_eq!(float(cell(c)), y["lac_end"][stat].as_f64().unwrap());
            }
            row += 1;
        }
    }
    assert!(matches!(
        summary.get_value((row, 0)),
        None | Some(Data::Empty)
    ));

    // Components: every statistic of every component.
    let components = wb.worksheet_range("Components").unwrap();
    let mut row = 1;
    for sc in v["scenarios"].as_array().unwrap() {
        for y in sc["years"].as_array().unwrap() {
            for (id, s) in y["components"].as_object().unwrap() {
                let label = sc["lines"][id]["label"].as_str().unwrap();
                assert_eq!(string(components.get_value((row, 2))), label);
                for (i, stat) in STATS.iter().enumerate() {
                    assert_eq!(
                        float(components.get_value((row, 3 + i as u32))),
                        s[stat].as_f64().unwrap(),
                        "{id} {stat}"
                    );
                }
                row += 1;
            }
        }
    }

    // Years: cost first, then the counts, for each year.
    let years = wb.worksheet_range("Years").unwrap();
    let y0 = &v["scenarios"][0]["years"][0];
    for (row, measure, words) in [
        (1, "cost", "Cost (£)"),
        (2, "lac_end", "Children in care at year end"),
        (3, "entries", "Children entering care"),
        (4, "exits", "Children leaving care"),
    ] {
        assert_eq!(string(years.get_value((row, 2))), words);
        for (i, stat) in STATS.iter().enumerate() {
            assert_eq!(
                float(years.get_value((row, 4 + i as u32))),
                y0[measure][stat].as_f64().unwrap()
            );
        }
    }

    // Months: the total, then each placement, then each band, per month.
    let months = wb.worksheet_range("Months").unwrap();
    let sc = &v["scenarios"][0];
    let per_month = 1
        + sc["months"][0]["lac_by_placement"]
            .as_object()
            .unwrap()
            .len()
        + sc["months"][0]["lac_by_band"].as_object().unwrap().len();
    for (m, month) in sc["months"].as_array().unwrap().iter().enumerate() {
        let row = 1 + (m * per_month) as u32;
        assert!(matches!(
            months.get_value((row, 1)),
            Some(Data::DateTime(_))
        ));
        assert_eq!(string(months.get_value((row, 2))), "total");
        for (i, stat) in STATS.iter().enumerate() {
            assert_eq!(
                float(months.get_value((row, 4 + i as u32))),
                month["lac"][stat].as_f64().unwrap()
            );
        }
        let ifa = row + 2;
        assert_eq!(
            string(months.get_value((ifa, 3))),
            sc["lines"]["ifa"]["label"].as_str().unwrap()
        );
        assert_eq!(
            float(months.get_value((ifa, 9))),
            month["lac_by_placement"]["ifa"]["p50"].as_f64().unwrap()
        );
    }

    // Inputs: runs and seed as numbers, the config line by line.
    let inputs = wb.worksheet_range("Inputs").unwrap();
    let rows: Vec<Vec<Data>> = inputs.rows().map(|r| r.to_vec()).collect();
    let find = |key: &str| {
        rows.iter()
            .find(|r| r.first() == Some(&Data::String(key.into())))
            .unwrap_or_else(|| panic!("no {key}"))[1]
            .clone()
    };
    assert_eq!(find("Runs"), Data::Float(300.0));
    assert_eq!(find("Seed"), Data::Float(v["seed"].as_f64().unwrap()));
    let config_lines = rows
        .iter()
        .filter_map(|r| match r.get(1) {
            Some(Data::String(s)) => Some(s.as_str()),
            _ => None,
        })
        .collect::<Vec<_>>();
    assert!(config_lines.contains(&"[[placement]]"));
}

/// Values of the `src`, `href` and `xlink:href` attributes of every tag.
/// Text is escaped, so every `<` starts a tag.
fn references(html: &str) -> Vec<String> {
    let mut refs = Vec::new();
    for tag in html.split('<').skip(1) {
        let tag = tag.split('>').next().unwrap_or("");
        for attr in [" src=", " href=", ":href="] {
            for (i, _) in tag.match_indices(attr) {
                let rest = &tag[i + attr.len()..];
                let value: String = match rest.chars().next() {
                    Some(q @ ('"' | '\'')) => rest[1..].chars().take_while(|c| *c != q).collect(),
                    _ => rest.chars().take_while(|c| !c.is_whitespace()).collect(),
                };
                refs.push(value);
            }
        }
    }
    refs
}

#[test]
fn the_html_is_self_contained_and_has_every_chart() {
    let dir = tempfile::tempdir().unwrap();
    let out = run_all("configs/example.toml", &["--runs", "300"], dir.path());
    let html = std::fs::read_to_string(&out.html).unwrap();
    assert!(html.starts_with("<!DOCTYPE html>"));

    // Nothing outside the file: only in-page anchors, no imports, no url().
    let refs = references(&html);
    assert!(!refs.is_empty(), "the contents links are references");
    for r in &refs {
        assert!(r.starts_with('#'), "external reference {r:?}");
    }
    let lower = html.to_lowercase();
    for banned in [
        "@import", "url(", "<script", "<link", "<img", "<iframe", "<object", "<embed", "http:",
        "https:",
    ] {
        assert!(!lower.contains(banned), "the HTML contains {banned:?}");
    }

    // Every chart, for each of the example's three scenarios: 1 total + 7
    // placement + 4 age-band fan charts, the yearly cost strip, 4 yearly
    // densities, the stacked components and what drives the cost; and a
    // saving strip for each of the two comparisons.
    let report = Report::read(&out.json).unwrap();
    let expected = html::expected_charts(&report);
    assert_eq!(
        expected,
        html::ChartCount {
            fans: 3 * 12,
            densities: 3 * 4,
            strips: 3 + 2,
            stacked: 3,
            drivers: 3
        }
    );
    assert_eq!(html.matches("<svg").count(), expected.total());
    assert_eq!(html.matches("</svg>").count(), expected.total());
    assert_eq!(html.matches("class=\"initial\"").count(), 3 * 12);
    assert_eq!(html.matches("class=\"budget\"").count(), 3 * (4 + 4 + 4));
    for text in [
        "Headline",
        "P(overspend) ",
        "approximate densities",
        "Over the whole horizon",
        "P(pays back)",
        "Edge of care team",
        "Config as run",
        "seed 20240401",
        "£28.50m",
        "@page { size: A4",
    ] {
        assert!(html.contains(text), "missing {text:?}");
    }
    assert!(!html.contains("NaN") && !html.contains("inf\""));
}

#[test]
fn text_from_the_config_is_escaped() {
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string("tests/configs/immigration_death.toml")
        .unwrap()
        .replace(
            "name = \"immigration-death check\"",
            "# </pre><script src=\"https://example.org/x.js\"></script>\nname = \"<b>Council</b> & 'friends'\"",
        );
    let config = dir.path().join("hostile.toml");
    std::fs::write(&config, text).unwrap();
    let out = run_all(config.to_str().unwrap(), &["--runs", "50"], dir.path());
    let html = std::fs::read_to_string(&out.html).unwrap();
    assert!(!html.contains("<script") && !html.contains("<b>"));
    assert!(html.contains("&lt;b&gt;Council&lt;/b&gt; &amp; &#39;friends&#39;"));
    assert!(html.contains("&lt;/pre&gt;&lt;script src=&quot;https://example.org/x.js&quot;"));
    assert!(references(&html).iter().all(|r| r.starts_with('#')));
    let md = std::fs::read_to_string(&out.markdown).unwrap();
    assert!(md.starts_with("## \\<b\\>Council\\</b\\> & 'friends'\n"));
}

#[test]
fn report_renders_the_same_files_from_the_saved_json() {
    let dir = tempfile::tempdir().unwrap();
    let first = run_all(
        "tests/configs/immigration_death.toml",
        &["--runs", "200"],
        dir.path(),
    );
    let again = Outputs::in_dir(dir.path(), "again");
    let stdout = carecast()
        .arg("report")
        .arg(&first.json)
        .arg("--html")
        .arg(&again.html)
        .arg("--xlsx")
        .arg(&again.xlsx)
        .arg("--markdown")
        .arg(&again.markdown)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let stdout = String::from_utf8(stdout).unwrap();
    assert!(
        stdout.contains("2027/28") && stdout.contains("P(over)"),
        "{stdout}"
    );
    assert_eq!(
        std::fs::read(&first.html).unwrap(),
        std::fs::read(&again.html).unwrap()
    );
    assert_eq!(
        std::fs::read(&first.markdown).unwrap(),
        std::fs::read(&again.markdown).unwrap()
    );
    let mut wb: Xlsx<_> = open_workbook(&again.xlsx).unwrap();
    assert!(wb.worksheet_range("Summary").unwrap().height() > 1);
}

#[test]
fn saved_json_reads_back_byte_for_byte() {
    let dir = tempfile::tempdir().unwrap();
    for (config, extra) in [
        ("configs/example.toml", &["--runs", "150"][..]),
        ("configs/example.toml", &["--central"][..]),
        (
            "tests/configs/immigration_death.toml",
            &["--runs", "100"][..],
        ),
    ] {
        let json = dir.path().join("r.json");
        carecast()
            .args(["run", config, "--quiet", "--json"])
            .arg(&json)
            .args(extra)
            .assert()
            .success();
        let bytes = std::fs::read(&json).unwrap();
        let report = Report::read(&json).unwrap();
        assert!(
            json::render(&report).unwrap() == bytes,
            "{config} {extra:?}: JSON changed on the way back"
        );
        let text = std::fs::read_to_string(config).unwrap();
        assert_eq!(report.config.as_deref(), Some(text.as_str()));
    }
}

#[test]
fn the_json_keeps_its_keys_and_adds_the_config_last() {
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("r.json");
    carecast()
        .args(["run", "--runs", "20", "--quiet", "--json"])
        .arg(&json)
        .assert()
        .success();
    let v: Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    let keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        [
            "carecast_version",
            "name",
            "description",
            "mode",
            "runs",
            "seed",
            "scenarios",
            "differences",
            "config"
        ]
    );
    // The built-in example's text.
    assert!(v["config"].as_str().unwrap().contains("[[placement]]"));
}

#[test]
fn bad_results_files_are_usage_errors_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, text: &str| {
        let p = dir.path().join(name);
        std::fs::write(&p, text).unwrap();
        p
    };
    let cases: Vec<(PathBuf, &str)> = vec![
        (dir.path().join("missing.json"), "cannot read"),
        (dir.path().to_path_buf(), "a directory, not a regular file"),
        (write("empty.json", ""), "EOF"),
        (write("text.json", "not json"), "expected"),
        (write("array.json", "[1, 2]"), "not a carecast results file"),
        (
            write("shape.json", r#"{"carecast_version": "0.1.0", "name": 3}"#),
            "name",
        ),
        (
            write(
                "trailing.json",
                r#"{"carecast_version": "x", "name": "n", "mode": "risk", "runs": 1, "seed": 1, "scenarios": [], "differences": []} {}"#,
            ),
            "after the JSON",
        ),
    ];
    for (path, words) in cases {
        let html = dir.path().join("out.html");
        let out = carecast()
            .arg("report")
            .arg(&path)
            .arg("--html")
            .arg(&html)
            .assert()
            .code(2)
            .get_output()
            .clone();
        let err = String::from_utf8(out.stderr).unwrap();
        assert!(
            err.starts_with("error: ") && err.contains(&path.display().to_string()),
            "{err}"
        );
        assert!(err.contains(words), "{path:?}: {err}");
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(!html.exists());
    }
    // A results file with no scenarios has nothing true to report: refused
    // (issue 16), naming the file and the field.
    let bare = write(
        "bare.json",
        r#"{"carecast_version": "x", "name": "n", "mode": "risk", "runs": 1, "seed": 1, "scenarios": [], "differences": []}"#,
    );
    let out = carecast()
        .arg("report")
        .arg(&bare)
        .arg("--html")
        .arg(dir.path().join("bare.html"))
        .assert()
        .code(2)
        .get_output()
        .clone();
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.contains("bare.json") && err.contains("scenarios"),
        "{err}"
    );
    // Results without the config text still render, and say so.
    let run = run_all("configs/rotherham-2017.toml", &["--runs", "20"], dir.path());
    let mut v: Value = serde_json::from_slice(&std::fs::read(&run.json).unwrap()).unwrap();
    v.as_object_mut().unwrap().shift_remove("config");
    let stripped = write("stripped.json", &v.to_string());
    let html = dir.path().join("stripped.html");
    carecast()
        .arg("report")
        .arg(&stripped)
        .arg("--html")
        .arg(&html)
        .arg("--xlsx")
        .arg(dir.path().join("stripped.xlsx"))
        .arg("--markdown")
        .arg(dir.path().join("stripped.md"))
        .assert()
        .success();
    assert!(
        std::fs::read_to_string(html)
            .unwrap()
            .contains("not include the config")
    );
}

#[cfg(target_os = "linux")]
#[test]
fn an_unwritable_report_is_a_runtime_error_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("r.json");
    let md = dir.path().join("r.md");
    carecast()
        .args([
            "run",
            "tests/configs/immigration_death.toml",
            "--runs",
            "20",
        ])
        .args(["--quiet", "--json"])
        .arg(&json)
        .arg("--markdown")
        .arg(&md)
        .args(["--html", "/dev/full"])
        .assert()
        .code(1);
    assert!(!json.exists() && !md.exists());
}

#[test]
fn scenarios_differences_and_interventions_are_shown() {
    let dir = tempfile::tempdir().unwrap();
    let out = run_all("configs/example.toml", &["--runs", "100"], dir.path());
    let report = Report::read(&out.json).unwrap();
    assert_eq!(report.scenarios.len(), 3);
    assert_eq!(report.differences.len(), 2);
    let page = html::render(&report);
    let expected = html::expected_charts(&report);
    assert_eq!(page.matches("<svg").count(), expected.total());
    for text in [
        "Saving — No new programmes → The funded strategy",
        "P(saving &gt; 0)",
        "Edge of care team",
        "Scenario: The funded strategy (strategy)",
        "Whole horizon",
        "pays back in",
    ] {
        assert!(page.contains(text), "missing {text:?}");
    }
    assert!(!page.contains("The config defines one scenario"));

    let md = markdown::render(&report);
    assert!(md.contains("### Scenario comparison"));
    assert!(md.contains("| No new programmes → The funded strategy | 2024/25 |"));
    assert!(
        md.contains("| No new programmes → The funded strategy | \\*\\*Whole horizon")
            || md.contains("| No new programmes → The funded strategy | **Whole horizon** |")
    );
    assert!(md.contains("| Edge of care team | prevention |"));

    let path = dir.path().join("s.xlsx");
    std::fs::write(&path, xlsx::render(&report).unwrap()).unwrap();
    let mut wb: Xlsx<_> = open_workbook(&path).unwrap();
    let diffs = wb.worksheet_range("Differences").unwrap();
    let d = &report.differences[0].years[0];
    assert_eq!(string(diffs.get_value((1, 0))), "do_nothing");
    assert_eq!(float(diffs.get_value((1, 3))), d.saving.mean);
    assert_eq!(float(diffs.get_value((1, 12))), d.probability_positive);
    // The whole horizon follows the years, with whether it pays back.
    let h = &report.differences[0].horizon;
    let horizon_row = 1 + report.differences[0].years.len() as u32;
    assert_eq!(string(diffs.get_value((horizon_row, 2))), "Whole horizon");
    assert_eq!(float(diffs.get_value((horizon_row, 3))), h.saving.mean);
    assert_eq!(
        float(diffs.get_value((horizon_row, 13))),
        h.probability_pays_back
    );
    let years = wb.worksheet_range("Years").unwrap();
    let prevented = years
        .rows()
        .find(|r| {
            r.get(2)
                == Some(&Data::String(
                    "Children prevented from entering care".into(),
                ))
        })
        .expect("a prevented row");
    assert_eq!(prevented[3], Data::String("Edge of care team".into()));
    let strategy = report
        .scenarios
        .iter()
        .find(|s| s.id == "strategy")
        .unwrap();
    let first_prevented = &report.scenarios[0].years[0].prevented;
    let expected_mean = first_prevented
        .get("edge_of_care")
        .or(strategy.years[0].prevented.get("edge_of_care"))
        .unwrap()
        .mean;
    assert_eq!(prevented[4], Data::Float(expected_mean));
}

#[test]
fn the_markdown_of_a_seeded_run_is_pinned() {
    let dir = tempfile::tempdir().unwrap();
    for (name, extra) in [
        (
            "immigration_death.md",
            &["--runs", "500", "--seed", "1"][..],
        ),
        ("immigration_death_central.md", &["--central"][..]),
    ] {
        let md = dir.path().join(name);
        carecast()
            .args(["run", "tests/configs/immigration_death.toml", "--quiet"])
            .args(extra)
            .arg("--markdown")
            .arg(&md)
            .assert()
            .success();
        // The version is not part of the pinned text.
        let got = std::fs::read_to_string(&md)
            .unwrap()
            .replace(env!("CARGO_PKG_VERSION"), "{version}");
        let snapshot = Path::new("tests/snapshots").join(name);
        if std::env::var_os("UPDATE_SNAPSHOTS").is_some() {
            std::fs::write(&snapshot, &got).unwrap();
        }
        let want = std::fs::read_to_string(&snapshot).unwrap_or_else(|_| {
            panic!(
                "{} is missing: run with UPDATE_SNAPSHOTS=1",
                snapshot.display()
            )
        });
        assert!(
            got == want,
            "{name} differs from its snapshot:\n{got}\n(run with UPDATE_SNAPSHOTS=1 after checking the change)"
        );
    }
}

/// Renders the HTML in headless Chromium (tests/browser_check.sh); only with
/// CARECAST_BROWSER_TEST=1, since it needs Chromium (the script installs it
/// with apt-get when it is missing). CI runs the script directly.
#[test]
fn the_html_renders_in_a_browser() {
    if std::env::var("CARECAST_BROWSER_TEST").as_deref() != Ok("1") {
        eprintln!("skipped: set CARECAST_BROWSER_TEST=1 to render the HTML in headless Chromium");
        return;
    }
    let status = std::process::Command::new("bash")
        .arg("tests/browser_check.sh")
        .env("CARECAST_BIN", env!("CARGO_BIN_EXE_carecast"))
        .status()
        .expect("bash runs");
    assert!(status.success(), "tests/browser_check.sh failed");
}

#[test]
fn a_central_projection_has_no_densities() {
    let dir = tempfile::tempdir().unwrap();
    let out = run_all("configs/example.toml", &["--central"], dir.path());
    let page = std::fs::read_to_string(&out.html).unwrap();
    let expected = html::expected_charts(&Report::read(&out.json).unwrap());
    assert_eq!(expected.densities, 0);
    assert_eq!(expected.total(), 3 * (12 + 1 + 1) + 2);
    assert_eq!(page.matches("<svg").count(), expected.total());
    assert!(page.contains("Central projection"));
    assert!(!page.contains("approximate densities"));
}

/// Text of an HTML page: tags dropped, the entities the writer uses undone.
fn page_text(html: &str) -> String {
    let mut out = String::new();
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => {
                in_tag = false;
                out.push(' ');
            }
            _ if !in_tag => out.push(c),
            _ => {}
        }
    }
    out.replace("&gt;", ">")
        .replace("&lt;", "<")
        .replace("&amp;", "&")
}

/// Where a capacity or a programme's limit comes within reach, a central
/// projection is an approximation: the JSON flags the scenario, every
/// format says so under it (and `report` says it again from the JSON), and
/// none speaks of runs, futures or their shares, which a central projection
/// does not have. A random run of the same config carries no flag.
#[test]
fn a_central_projection_says_when_it_is_approximate_and_counts_no_runs() {
    let dir = tempfile::tempdir().unwrap();
    let config = "configs/somerset-2019.toml";
    let out = run_all(config, &["--central"], dir.path());
    let v: Value = serde_json::from_slice(&std::fs::read(&out.json).unwrap()).unwrap();
    let flagged = v["scenarios"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["approximate"] == Value::Bool(true))
        .count();
    assert!(
        flagged > 0,
        "no scenario of {config} is flagged approximate"
    );
    let md = std::fs::read_to_string(&out.markdown).unwrap();
    let page = page_text(&std::fs::read_to_string(&out.html).unwrap());
    let said = "Central projection, approximate";
    for (format, text) in [("Markdown", &md), ("HTML", &page)] {
        assert_eq!(text.matches(said).count(), flagged, "{format}:\n{text}");
        for risk_words in [
            "share of runs",
            "share of futures",
            "simulated futures",
            "of runs",
            "over the runs",
            "P(pays)",
            "P(saving",
            "P(saves)",
            "run by run",
            "P10",
        ] {
            assert!(
                !text.contains(risk_words),
                "{format} of a central projection says {risk_words:?}:\n{text}"
            );
        }
    }
    let mut wb: Xlsx<_> = open_workbook(&out.xlsx).unwrap();
    let summary = sheet_rows(&mut wb, "Summary");
    let notes = summary
        .iter()
        .flatten()
        .filter(|d| matches!(d, Data::String(s) if s.contains(said)))
        .count();
    assert_eq!(notes, flagged);
    // `report` renders the same from the saved JSON.
    let again = Outputs::in_dir(dir.path(), "again");
    carecast()
        .arg("report")
        .arg(&out.json)
        .args(["--quiet", "--markdown"])
        .arg(&again.markdown)
        .assert()
        .success();
    assert_eq!(std::fs::read_to_string(&again.markdown).unwrap(), md);
    let risk = run_all(config, &["--runs", "20"], dir.path());
    let v: Value = serde_json::from_slice(&std::fs::read(&risk.json).unwrap()).unwrap();
    for s in v["scenarios"].as_array().unwrap() {
        assert!(s.get("approximate").is_none(), "a random run is flagged");
    }
}

/// Regression: a central projection's workbook headed its columns "P10
/// cost", "P(overspend)", "SD", "P5" … "P95" and filled them with the one
/// projected value, 0 or 100%: percentiles and probabilities it never
/// computed. Each sheet now gives the projection's value alone, the
/// Summary its cost against the budget, and a yes or no where a share of
/// runs would be.
#[test]
fn a_central_workbook_gives_one_value_and_no_percentiles_or_probabilities() {
    let dir = tempfile::tempdir().unwrap();
    let out = run_all("configs/example.toml", &["--central"], dir.path());
    let v: Value = serde_json::from_slice(&std::fs::read(&out.json).unwrap()).unwrap();
    let mut wb: Xlsx<_> = open_workbook(&out.xlsx).unwrap();
    for sheet in wb.sheet_names() {
        let rows = sheet_rows(&mut wb, &sheet);
        let Some(head) = rows.first() else { continue };
        for cell in head {
            let Data::String(h) = cell else { continue };
            for word in ["P10", "P50", "P90", "P5", "P95", "SD", "P(", "Mean", "runs"] {
                assert!(
                    !h.contains(word),
                    "sheet {sheet} of a central workbook has a column {h:?}"
                );
            }
        }
    }
    let summary = wb.worksheet_range("Summary").unwrap();
    let first = &v["scenarios"][0]["years"][0];
    let cost = first["cost"]["mean"].as_f64().unwrap();
    let budget = first["budget"].as_f64().unwrap();
    assert_eq!(
        string(summary.get_value((0, 4))),
        "Cost, central projection"
    );
    assert_eq!(float(summary.get_value((1, 3))), budget);
    assert_eq!(float(summary.get_value((1, 4))), cost);
    assert_eq!(
        float(summary.get_value((1, 5))),
        ((cost - budget) * 100.0).round() / 100.0
    );
    assert_eq!(
        float(summary.get_value((1, 6))),
        first["lac_end"]["mean"].as_f64().unwrap()
    );
    // The horizon's saving of each comparison pays back or not.
    let differences = sheet_rows(&mut wb, "Differences");
    let pays: Vec<String> = differences
        .iter()
        .filter(|r| matches!(r.get(2), Some(Data::String(y)) if y == "Whole horizon"))
        .map(|r| string(r.get(4)))
        .collect();
    let expected: Vec<&str> = v["differences"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            if d["horizon"]["probability_pays_back"].as_f64().unwrap() >= 0.5 {
                "yes"
            } else {
                "no"
            }
        })
        .collect();
    assert_eq!(pays, expected);
}

/// Regression: without a `[budget]`, the note under the funds said "Only
/// spending charged to the council's budget counts against the envelope",
/// an envelope the config does not set. It now says there is none; with a
/// budget the sentence is as before.
#[test]
fn the_funds_note_speaks_of_an_envelope_only_when_there_is_one() {
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string("configs/example.toml").unwrap();
    let budget = "[budget]\n# The envelope for the lines above, per financial year.\n\
                  per_year = [\"£28.5m\", \"£29.2m\", \"£30.4m\", \"£32.0m\"]\n";
    assert!(text.contains(budget), "the example's budget has moved");
    let config = dir.path().join("no-budget.toml");
    std::fs::write(&config, text.replace(budget, "")).unwrap();
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let without = run_all(config.to_str().unwrap(), &["--runs", "20"], a.path());
    let with = run_all("configs/example.toml", &["--runs", "20"], b.path());
    let envelope = "Only spending charged to the council's budget counts against the envelope.";
    let none = "the config sets no budget envelope";
    let md = std::fs::read_to_string(&without.markdown).unwrap();
    assert!(!md.contains(envelope) && md.contains(none), "{md}");
    let md = std::fs::read_to_string(&with.markdown).unwrap();
    assert!(md.contains(envelope) && !md.contains(none), "{md}");
}

#[test]
fn extreme_numbers_render_without_panic_or_nan() {
    let dir = tempfile::tempdir().unwrap();
    let out = run_all("configs/example.toml", &["--runs", "30"], dir.path());
    let base = Report::read(&out.json).unwrap();
    for value in [f64::MAX, -f64::MAX, 0.0, -1.0, 1e-300] {
        let mut r = base.clone();
        for sc in &mut r.scenarios {
            for y in &mut sc.years {
                y.budget = Some(value);
                y.cost.p95 = value;
                y.cost.p5 = -value;
                y.components.values_mut().for_each(|c| c.mean = value);
            }
            for m in &mut sc.months {
                m.lac.p50 = value;
                m.lac.p95 = -value;
            }
            // A month without one of the placements.
            if let Some(m) = sc.months.last_mut() {
                m.lac_by_placement.clear();
            }
        }
        let page = html::render(&r);
        for bad in ["NaN", "=\"inf", "=\"-inf", ",inf", ",-inf"] {
            assert!(!page.contains(bad), "{value}: {bad}");
        }
        assert_eq!(
            page.matches("<svg").count(),
            html::expected_charts(&r).total()
        );
        markdown::render(&r);
        xlsx::render(&r).unwrap();
    }
}

/// Runs `carecast run CONFIG ARGS` and returns stdout and stderr.
fn run_text(config: &str, args: &[&str]) -> (String, String) {
    let out = carecast()
        .arg("run")
        .arg(config)
        .args(args)
        .output()
        .unwrap();
    assert!(out.status.success(), "{config}: {out:?}");
    (
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

#[test]
fn every_shipped_config_prints_within_100_columns_and_no_signed_zero() {
    for entry in std::fs::read_dir("configs").unwrap() {
        let path = entry.unwrap().path();
        let (stdout, _) = run_text(path.to_str().unwrap(), &["--runs", "40"]);
        for line in stdout.lines() {
            assert!(
                line.chars().count() <= 100,
                "{}: a line of {} columns:\n{line}",
                path.display(),
                line.chars().count()
            );
        }
        assert!(
            !stdout.contains("-£0 ") && !stdout.contains("−£0 "),
            "{}",
            path.display()
        );
    }
}

#[test]
fn the_overspend_tolerance_is_stated_in_the_json_and_the_reports() {
    let dir = tempfile::tempdir().unwrap();
    let out = run_all(
        "tests/configs/immigration_death.toml",
        &["--runs", "50"],
        dir.path(),
    );
    let v: Value = serde_json::from_slice(&std::fs::read(&out.json).unwrap()).unwrap();
    for y in v["scenarios"][0]["years"].as_array().unwrap() {
        assert_eq!(y["overspend"]["tolerance"].as_f64(), Some(1.0));
    }
    let html = std::fs::read_to_string(&out.html).unwrap();
    assert!(html.contains("exceeds the budget by more than £1"));
    assert!(!html.contains("has no budget"));
    let md = std::fs::read_to_string(&out.markdown).unwrap();
    assert!(md.contains("exceeds the budget by more than £1"));
}

#[test]
fn a_config_without_a_budget_says_so_and_only_so() {
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string("tests/configs/immigration_death.toml").unwrap();
    let no_budget = text.split("[budget]").next().unwrap();
    let config = dir.path().join("no_budget.toml");
    std::fs::write(&config, no_budget).unwrap();
    let out = run_all(config.to_str().unwrap(), &["--runs", "50"], dir.path());
    let html = std::fs::read_to_string(&out.html).unwrap();
    assert!(html.contains("The config has no budget, so no overspend is reported"));
    assert!(!html.contains("against its budget"));
    let md = std::fs::read_to_string(&out.markdown).unwrap();
    assert!(md.contains("The config has no budget"));
    assert!(!md.contains("P(overspend): share"));
    // The terminal table says what its columns of dashes mean.
    let table = carecast().arg("report").arg(&out.json).output().unwrap();
    let table = String::from_utf8(table.stdout).unwrap();
    assert!(
        table.contains("The config has no budget: Budget, P(over) and E[over] read –."),
        "{table}"
    );
}

#[test]
fn money_only_configs_draw_no_children_and_explain_a_zero_budget() {
    let dir = tempfile::tempdir().unwrap();
    let out = run_all("configs/bcp-2023.toml", &["--runs", "100"], dir.path());
    let report = Report::read(&out.json).unwrap();
    assert!(!report.has_children());
    let expected = html::expected_charts(&report);
    assert_eq!(expected.fans, 0);
    let page = std::fs::read_to_string(&out.html).unwrap();
    assert_eq!(page.matches("<svg").count(), expected.total());
    assert!(!page.contains("Children in care —"));
    assert!(!page.contains("Start: "));
    assert!(page.contains("counts money only"));
    assert!(page.contains("A budget of £0 means"));
    let md = std::fs::read_to_string(&out.markdown).unwrap();
    assert!(!md.contains("Children in care at year end"));
    let (stdout, _) = run_text("configs/bcp-2023.toml", &["--runs", "50"]);
    assert!(!stdout.contains("Children P10"), "{stdout}");
    assert!(stdout.contains("A budget of £0 means"));
    // The workbook leaves the children cells empty.
    let mut wb: Xlsx<_> = open_workbook(&out.xlsx).unwrap();
    let summary = wb.worksheet_range("Summary").unwrap();
    assert!(matches!(
        summary.get_value((1, 12)),
        None | Some(Data::Empty)
    ));
}

#[test]
fn every_strategy_item_is_in_every_report() {
    let dir = tempfile::tempdir().unwrap();
    let out = run_all("configs/example.toml", &["--runs", "100"], dir.path());
    let report = Report::read(&out.json).unwrap();
    let sc = report
        .scenarios
        .iter()
        .find(|s| s.id == "strategy")
        .unwrap();
    let page = std::fs::read_to_string(&out.html).unwrap();
    let md = std::fs::read_to_string(&out.markdown).unwrap();
    let mut wb: Xlsx<_> = open_workbook(&out.xlsx).unwrap();
    let sheet = wb.worksheet_range("Strategy").unwrap();
    let rows: Vec<Vec<Data>> = sheet.rows().map(|r| r.to_vec()).collect();
    for (id, iv) in &sc.years[0].interventions {
        let label = &iv.label;
        assert!(page.contains(&format!("<td>{label}</td>")), "{id} in HTML");
        assert!(md.contains(&format!("| {label} |")), "{id} in Markdown");
        let row = rows
            .iter()
            .find(|r| {
                r[0] == Data::String("strategy".into()) && r[1] == Data::String(label.clone())
            })
            .unwrap_or_else(|| panic!("{id} in the workbook"));
        assert_eq!(row[5], Data::Float(iv.delivered));
        assert_eq!(row[9], Data::Float(iv.cost.mean));
        if iv.kind != "unit_cost" {
            assert_eq!(row[7], Data::Float(iv.children.p50));
        }
    }
    for line in sc.lines.values().filter(|l| l.kind == "saving") {
        assert!(page.contains(&line.label) && md.contains(&line.label));
    }
    // The terminal's key result: the horizon saving and pays back.
    let d = &report.differences[0];
    let saving = carecast::output::money(d.horizon.saving.mean);
    let pays = carecast::output::percent(d.horizon.probability_pays_back);
    assert!(page.contains(&saving) && page.contains(&pays));
    assert!(md.contains(&format!("**{saving}**")) && md.contains(&pays));
}

/// The last row of a sheet's filter (`<autoFilter ref="A1:K37"/>` → 37).
fn filter_end(xml: &str) -> u32 {
    let start = xml.find("<autoFilter ref=\"").unwrap() + "<autoFilter ref=\"".len();
    let range = &xml[start..start + xml[start..].find('"').unwrap()];
    let end = range.split(':').nth(1).unwrap();
    end.trim_start_matches(|c: char| c.is_ascii_alphabetic())
        .parse()
        .unwrap()
}

/// The last row of the block of rows, from row 2 on, with a cell in column A.
fn last_data_row(xml: &str) -> u32 {
    let mut last = 1;
    while xml.contains(&format!("<c r=\"A{}\"", last + 1)) {
        last += 1;
    }
    last
}

#[test]
fn the_workbook_prints_landscape_one_page_wide_with_filters() {
    let dir = tempfile::tempdir().unwrap();
    let out = run_all("configs/example.toml", &["--runs", "50"], dir.path());
    let mut zip = zip::ZipArchive::new(std::fs::File::open(&out.xlsx).unwrap()).unwrap();
    let read = |zip: &mut zip::ZipArchive<std::fs::File>, name: &str| {
        let mut s = String::new();
        std::io::Read::read_to_string(&mut zip.by_name(name).unwrap(), &mut s).unwrap();
        s
    };
    let workbook = read(&mut zip, "xl/workbook.xml");
    let sheets = workbook.matches("<sheet ").count();
    // The Finance sheet is there because the example funds a programme
    // from a grant and measures each initiative's cost avoided.
    assert_eq!(sheets, 9);
    // The header row repeats on every printed page of every sheet.
    assert_eq!(workbook.matches("_xlnm.Print_Titles").count(), sheets);
    for k in 1..=sheets {
        let xml = read(&mut zip, &format!("xl/worksheets/sheet{k}.xml"));
        assert!(xml.contains("orientation=\"landscape\""), "sheet {k}");
        assert!(xml.contains("fitToPage=\"1\""), "sheet {k}");
        assert!(xml.contains("fitToHeight=\"0\""), "sheet {k}");
        // Every sheet of data rows but Inputs has a filter.
        if k < sheets {
            assert!(xml.contains("<autoFilter"), "sheet {k}");
            assert_eq!(filter_end(&xml), last_data_row(&xml), "sheet {k}");
        }
    }
    // Children are whole numbers in the Summary.
    let styles = read(&mut zip, "xl/styles.xml");
    assert!(styles.contains("formatCode=\"#,##0\""));
    assert!(!styles.contains("formatCode=\"#,##0.0\""));
}

#[test]
fn quiet_with_nothing_to_write_warns_and_runs_nothing() {
    let out = carecast().args(["run", "-q"]).output().unwrap();
    assert!(out.status.success());
    assert!(out.stdout.is_empty());
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stderr.starts_with("warning: --quiet with no output file"),
        "{stderr}"
    );
    let out = carecast()
        .args(["sensitivity", "-q", "--runs", "10"])
        .output()
        .unwrap();
    assert!(String::from_utf8(out.stderr).unwrap().contains("warning"));
}

#[test]
fn completions_and_the_man_page_come_from_the_cli() {
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let out = carecast().args(["completions", shell]).output().unwrap();
        assert!(out.status.success(), "{shell}");
        let text = String::from_utf8(out.stdout).unwrap();
        assert!(
            text.contains("carecast") && text.contains("sensitivity"),
            "{shell}"
        );
    }
    let out = carecast().arg("man").output().unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains(".TH carecast 1"), "{text}");
    assert!(!text.contains("SPEC"));
    let help = carecast().args(["run", "--help"]).output().unwrap();
    assert!(!String::from_utf8(help.stdout).unwrap().contains("SPEC"));
    assert_eq!(
        carecast()
            .args(["completions", "tcsh"])
            .output()
            .unwrap()
            .status
            .code(),
        Some(2)
    );
}

/// Cohorts are reported apart in every format with the same figures: the
/// workbook's Finance sheet and the CSV give the JSON's `cohorts`, and the
/// terminal and Markdown tables name them.
#[test]
fn cohorts_are_reported_apart_with_the_jsons_figures() {
    let dir = tempfile::tempdir().unwrap();
    let out = run_all("configs/uasc-2024.toml", &["--runs", "60"], dir.path());
    let v: Value = serde_json::from_slice(&std::fs::read(&out.json).unwrap()).unwrap();
    let mut wb: Xlsx<_> = open_workbook(&out.xlsx).unwrap();
    let finance = wb.worksheet_range("Finance").unwrap();
    let mut checked = 0;
    for r in 1..finance.height() as u32 {
        let measure = match finance.get_value((r, 2)) {
            Some(Data::String(s)) if s.starts_with("cohort_") => s.clone(),
            _ => continue,
        };
        let (scenario, fy) = (
            string(finance.get_value((r, 0))),
            string(finance.get_value((r, 1))),
        );
        assert_eq!(string(finance.get_value((r, 3))), "uasc");
        let sc = v["scenarios"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["id"] == scenario.as_str())
            .unwrap();
        let y = sc["years"]
            .as_array()
            .unwrap()
            .iter()
            .find(|y| y["fy"] == fy.as_str())
            .unwrap();
        let key = measure.trim_start_matches("cohort_");
        let stats = &y["cohorts"]["uasc"][key];
        for (c, stat) in [(5, "mean"), (6, "p10"), (7, "p50"), (8, "p90")] {
            assert_eq!(
                float(finance.get_value((r, c))),
                stats[stat].as_f64().unwrap(),
                "{scenario} {fy} {measure} {stat}"
            );
        }
        checked += 1;
    }
    // Two scenarios × three years × four measures.
    assert_eq!(checked, 24);
    // The cohort's income is its two grants, in the mean.
    for sc in v["scenarios"].as_array().unwrap() {
        for y in sc["years"].as_array().unwrap() {
            let items = &y["income_items"];
            let sum = items["uasc_grant"]["mean"].as_f64().unwrap()
                + items["uasc_leavers"]["mean"].as_f64().unwrap();
            let cohort = y["cohorts"]["uasc"]["income"]["mean"].as_f64().unwrap();
            assert!((sum - cohort).abs() < 0.02, "{sum} vs {cohort}");
        }
    }
    let md = std::fs::read_to_string(&out.markdown).unwrap();
    assert!(md.contains("Cohorts in base") && md.contains("Cohorts in arrivals\\_rise"));
    // Income items are named by their labels, which the JSON carries.
    assert_eq!(
        v["scenarios"][0]["labels"]["uasc_grant"],
        "Home Office UASC grant"
    );
    assert!(md.contains("Home Office UASC grant: £"), "{md}");
    assert!(!md.contains("uasc\\_grant:"), "{md}");
    let html = std::fs::read_to_string(&out.html).unwrap();
    assert!(html.contains("Cohorts in base"));
    let csv = dir.path().join("run.csv");
    carecast()
        .args([
            "run",
            "configs/uasc-2024.toml",
            "--runs",
            "60",
            "--quiet",
            "--csv",
        ])
        .arg(&csv)
        .assert()
        .success();
    let csv = std::fs::read_to_string(&csv).unwrap();
    let income_mean = v["scenarios"][0]["years"][0]["cohorts"]["uasc"]["income"]["mean"]
        .as_f64()
        .unwrap();
    let line = format!("base,2024/25,,cohort_income,uasc,mean,{income_mean}");
    assert!(csv.contains(&line), "no row {line}");
    assert!(csv.contains(",lac_by_cohort,uasc,mean,"));
}

/// The workbook's Finance sheet carries, for every budget line and fund, the
/// JSON's budget or amount, mean, P10, P50, P90, probability (of an
/// overspend, of exhaustion) and mean overspend or overrun; the HTML and
/// Markdown reports print the fund's overrun too.
#[test]
fn the_finance_sheet_has_each_line_and_funds_figures() {
    let dir = tempfile::tempdir().unwrap();
    let out = run_all("configs/bcp-2023.toml", &["--runs", "300"], dir.path());
    let v: Value = serde_json::from_slice(&std::fs::read(&out.json).unwrap()).unwrap();
    let mut wb: Xlsx<_> = open_workbook(&out.xlsx).unwrap();
    let sheet = wb.worksheet_range("Finance").unwrap();
    let header: Vec<String> = sheet
        .rows()
        .next()
        .unwrap()
        .iter()
        .map(|c| c.to_string())
        .collect();
    assert_eq!(header[10], "Mean overspend or overrun");
    let mut checked = (0, 0);
    for row in sheet.rows().skip(1) {
        let cell = |k: usize| row.get(k).map(|c| c.to_string()).unwrap_or_default();
        let (measure, key) = match cell(2).as_str() {
            "fund_spent" => ("funds", "spent"),
            "budget_line" => ("budget_lines", "cost"),
            _ => continue,
        };
        let sc = v["scenarios"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["id"] == cell(0).as_str())
            .unwrap();
        let year = sc["years"]
            .as_array()
            .unwrap()
            .iter()
            .find(|y| y["fy"] == cell(1).as_str())
            .unwrap();
        let item = &year[measure][cell(3).as_str()];
        let stats = &item[key];
        for (col, stat) in [(5, "mean"), (6, "p10"), (7, "p50"), (8, "p90")] {
            assert_eq!(
                float(row.get(col)),
                stats[stat].as_f64().unwrap(),
                "{row:?} {stat}"
            );
        }
        let (p, expected) = if measure == "funds" {
            checked.0 += 1;
            (&item["probability_exhausted"], &item["mean_overrun"])
        } else {
            checked.1 += 1;
            (
                &item["overspend"]["probability"],
                &item["overspend"]["mean"],
            )
        };
        match p.as_f64() {
            Some(p) => assert_eq!(float(row.get(9)), p, "{row:?}"),
            None => assert!(matches!(row.get(9), None | Some(Data::Empty)), "{row:?}"),
        }
        match expected.as_f64() {
            Some(e) => assert_eq!(float(row.get(10)), e, "{row:?}"),
            None => assert!(matches!(row.get(10), None | Some(Data::Empty)), "{row:?}"),
        }
    }
    // BCP 2023 has two funds over four years in each of its scenarios.
    assert!(checked.0 >= 8, "{checked:?}");
    let md = std::fs::read_to_string(&out.markdown).unwrap();
    let html = std::fs::read_to_string(&out.html).unwrap();
    for text in [&md, &html] {
        assert!(text.contains("Overrun") && text.contains("P(exhausted)"));
    }
}

/// The cells of a sheet's row, as calamine reads them (empty cells as
/// `Data::Empty`).
fn sheet_rows(wb: &mut Xlsx<std::io::BufReader<std::fs::File>>, name: &str) -> Vec<Vec<Data>> {
    wb.worksheet_range(name)
        .unwrap()
        .rows()
        .map(|r| r.to_vec())
        .collect()
}

#[test]
fn every_workbook_figure_is_under_the_header_that_names_it() {
    let dir = tempfile::tempdir().unwrap();
    let out = run_all("configs/example.toml", &["--runs", "60"], dir.path());
    let v: Value = serde_json::from_slice(&std::fs::read(&out.json).unwrap()).unwrap();
    let mut wb: Xlsx<_> = open_workbook(&out.xlsx).unwrap();
    // No figure sits in a column without a header.
    for name in ["Years", "Months", "Components", "Differences"] {
        let rows = sheet_rows(&mut wb, name);
        let headers = rows[0].iter().filter(|c| !matches!(c, Data::Empty)).count();
        for (r, row) in rows.iter().enumerate().skip(1) {
            for (c, cell) in row.iter().enumerate().skip(headers) {
                assert!(
                    matches!(cell, Data::Empty),
                    "{name} row {r} column {c} holds {cell:?} under no header"
                );
            }
        }
    }
    // Differences: a year's row has a P(saving > 0) and no P(pays back);
    // the horizon's row has both, as in the JSON.
    let rows = sheet_rows(&mut wb, "Differences");
    let col = |name: &str| {
        rows[0]
            .iter()
            .position(|c| *c == Data::String(name.into()))
            .unwrap_or_else(|| panic!("no column {name}"))
    };
    let (p95, positive, pays_back) = (col("P95"), col("P(saving > 0)"), col("P(pays back)"));
    let mut row = 1;
    for d in v["differences"].as_array().unwrap() {
        for y in d["years"].as_array().unwrap() {
            let cells = &rows[row];
            assert_eq!(float(cells.get(p95)), y["saving"]["p95"].as_f64().unwrap());
            assert_eq!(
                float(cells.get(positive)),
                y["probability_positive"].as_f64().unwrap()
            );
            assert!(
                matches!(cells.get(pays_back), None | Some(Data::Empty)),
                "a year's row gives P(pays back) {:?}",
                cells.get(pays_back)
            );
            row += 1;
        }
        let cells = &rows[row];
        assert_eq!(string(cells.get(2)), "Whole horizon");
        assert_eq!(
            float(cells.get(positive)),
            d["horizon"]["probability_positive"].as_f64().unwrap()
        );
        assert_eq!(
            float(cells.get(pays_back)),
            d["horizon"]["probability_pays_back"].as_f64().unwrap()
        );
        row += 1;
    }
}

#[test]
fn a_share_that_is_not_all_or_none_never_reads_as_100_or_0_percent() {
    let dir = tempfile::tempdir().unwrap();
    let out = run_all("configs/example.toml", &["--runs", "60"], dir.path());
    let mut report = Report::read(&out.json).unwrap();
    // One run in 2,000 did not save; one in 2,500 overspent.
    report.differences[0].years[1].probability_positive = 0.9995;
    report.scenarios[0].years[0]
        .overspend
        .as_mut()
        .unwrap()
        .probability = 0.0004;
    let table = carecast::output::table::render(&report);
    let md = markdown::render(&report);
    let page = html::render(&report);
    let year = &report.differences[0].years[1].fy;
    let saving = table
        .lines()
        .find(|l| l.starts_with("do_nothing → strategy") && l.contains(year.as_str()))
        .unwrap();
    assert!(saving.ends_with(">99.9%"), "{saving}");
    let saving = md
        .lines()
        .find(|l| l.contains("The funded strategy |") && l.contains(year.as_str()))
        .unwrap();
    // Markdown escapes `>` and `<`, which it renders as they are.
    assert!(saving.contains(r"| \>99.9% |"), "{saving}");
    assert!(page.contains("P(saving &gt; 0) &gt;99.9%"));
    let first = &report.scenarios[0].years[0].fy;
    let over = table
        .lines()
        .find(|l| l.starts_with(first.as_str()))
        .unwrap();
    assert!(over.contains("<0.1% ±"), "{over}");
    assert!(!over.contains(" 0.0%"), "{over}");
    let over = md
        .lines()
        .find(|l| l.starts_with(&format!("| {first} |")))
        .unwrap();
    assert!(over.contains(r"| \<0.1% ±"), "{over}");
    assert!(page.contains("P(overspend) &lt;0.1%"));
}

#[test]
fn a_single_run_says_its_figures_are_one_futures_not_a_spread() {
    let dir = tempfile::tempdir().unwrap();
    let out = run_all("configs/example.toml", &["--runs", "1"], dir.path());
    let (table, _) = run_text("configs/example.toml", &["--runs", "1"]);
    let md = std::fs::read_to_string(&out.markdown).unwrap();
    let page = std::fs::read_to_string(&out.html).unwrap();
    let report = Report::read(&out.json).unwrap();
    assert!(
        table.lines().next().unwrap().contains("— 1 run, seed"),
        "{table}"
    );
    assert!(md.contains("1 simulated future, seed"), "{md}");
    assert!(page.contains(">1 simulated future ·"));
    // With one run, no spread is known: every report says so, and none
    // defines P50 and P90 by "half" and "nine in ten" of the futures.
    for text in [&table, &md, &page] {
        let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
        assert!(flat.contains("from a single simulated future"), "{flat}");
        assert!(!flat.contains("half the simulated futures cost less"));
        assert_eq!(
            flat.matches("Monte Carlo error: unknown from a single run")
                .count(),
            report.scenarios.len(),
            "{flat}"
        );
    }
    // A central projection is one run too, but a deterministic one: it has
    // no Monte Carlo error and says nothing about it.
    let (central, _) = run_text("configs/example.toml", &["--central"]);
    assert!(!central.contains("Monte Carlo error"), "{central}");
    assert!(!central.contains("single simulated future"), "{central}");
}

#[test]
fn the_html_reproduce_command_names_the_attribution_flag_a_run_needed() {
    // A run without cost avoided was said to reproduce with a plain
    // `carecast run`, which measures it by default for the example.
    let dir = tempfile::tempdir().unwrap();
    let command = |extra: &[&str]| {
        let html = dir.path().join("r.html");
        let mut args = vec!["run", "--runs", "20", "--quiet", "--html"];
        args.push(html.to_str().unwrap());
        args.extend_from_slice(extra);
        carecast().args(&args).assert().success();
        let text = std::fs::read_to_string(&html).unwrap();
        let start = text
            .find("<code>carecast run CONFIG")
            .expect("a reproduce command");
        let end = start + text[start..].find("</code>").unwrap();
        text[start..end].to_string()
    };
    let without = command(&["--no-attribution"]);
    assert!(
        without.ends_with("--seed 20240401 --no-attribution"),
        "{without}"
    );
    let with = command(&[]);
    assert!(with.ends_with("--seed 20240401"), "{with}");
}

#[test]
fn the_saving_chart_says_which_cost_is_taken_from_which() {
    // The caption named the second scenario first and then called the
    // saving "cost of the first minus cost of the second": the other sign.
    let dir = tempfile::tempdir().unwrap();
    let out = run_all("configs/example.toml", &["--runs", "100"], dir.path());
    let report = Report::read(&out.json).unwrap();
    let text = page_text(&std::fs::read_to_string(&out.html).unwrap());
    let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    for d in &report.differences {
        let (from, to) = (report.scenario_label(&d.from), report.scenario_label(&d.to));
        // The JSON's saving is the cost of `from` minus the cost of `to`.
        let cost = |id: &str, fy: &str| {
            let sc = report.scenarios.iter().find(|s| s.id == id).unwrap();
            sc.years.iter().find(|y| y.fy == fy).unwrap().cost.mean
        };
        for y in &d.years {
            let gap = cost(&d.from, &y.fy) - cost(&d.to, &y.fy);
            assert!((y.saving.mean - gap).abs() < 1.0, "{} {}", d.to, y.fy);
        }
        let caption = format!(
            "Saving of “{to}” against “{from}” (the cost of “{from}” minus the cost of “{to}”)"
        );
        assert!(text.contains(&caption), "{caption}");
    }
    assert!(!text.contains("cost of the first minus cost of the second"));
}

#[test]
fn a_central_projection_without_a_budget_names_its_own_dashed_columns() {
    // The note named P(over) and E[over], columns a central table lacks.
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string("tests/configs/immigration_death.toml").unwrap();
    let config = dir.path().join("no_budget.toml");
    std::fs::write(&config, text.split("[budget]").next().unwrap()).unwrap();
    let (table, _) = run_text(config.to_str().unwrap(), &["--central"]);
    assert!(
        table.contains("The config has no budget: Budget and Over (+) / under (-) read –."),
        "{table}"
    );
    assert!(!table.contains("P(over)"), "{table}");
    let header = table.lines().find(|l| l.starts_with("Year")).unwrap();
    assert!(header.contains("Over (+) / under (-)"), "{header}");
}

#[test]
fn a_money_only_comparison_claims_no_change_in_children() {
    // A config of money only counts no children, yet its comparisons gave
    // a change of 0 children in care every year (the terminal and HTML).
    let dir = tempfile::tempdir().unwrap();
    let config = "configs/rotherham-2016.toml";
    let out = run_all(config, &["--runs", "50"], dir.path());
    let report = Report::read(&out.json).unwrap();
    assert!(!report.has_children());
    assert!(!report.differences.is_empty());
    let page = page_text(&std::fs::read_to_string(&out.html).unwrap());
    let (table, _) = run_text(config, &["--runs", "50"]);
    let (central, _) = run_text(config, &["--central"]);
    for text in [&page, &table, &central] {
        for words in [
            "Children in care at year end",
            "Children, P50 diff",
            "Children at year end, diff",
            "children: the second's",
        ] {
            assert!(!text.contains(words), "{words}: {text}");
        }
    }
    // What pays back is still said, as the JSON has it, where the second
    // scenario adds a strategy to pay back.
    let horizon_rows: Vec<&str> = table.lines().filter(|l| l.contains(" horizon ")).collect();
    assert_eq!(horizon_rows.len(), report.differences.len());
    for (row, d) in horizon_rows.iter().zip(&report.differences) {
        let pays = carecast::output::pays_back_cell(&report, d);
        assert!(row.ends_with(&format!("  {pays}")), "{row}");
        if carecast::output::pays_back_applies(&report, d) {
            let pays = carecast::output::percent(d.horizon.probability_pays_back);
            assert!(page.contains(&format!("in {pays} of runs")), "{pays}");
        }
    }
    assert!(central.contains("Pays back"), "{central}");
}

#[test]
fn pays_back_is_said_only_of_a_strategy_and_grants_are_named() {
    // "Pays back 0.0%" was printed for a comparison whose second scenario
    // only assumes agency spend stays high (no strategy to pay back), and
    // "pays back 100%" for a grant-funded strategy without saying that the
    // saving leaves the grant-funded spend out.
    let dir = tempfile::tempdir().unwrap();
    let torbay = "configs/torbay-2016.toml";
    let out = run_all(torbay, &["--runs", "50"], dir.path());
    let report = Report::read(&out.json).unwrap();
    let d = report
        .differences
        .iter()
        .find(|d| d.to == "agency_not_reduced")
        .unwrap();
    assert!(!carecast::output::pays_back_applies(&report, d));
    // The JSON says so too, beside the share it holds.
    assert!(!d.horizon.pays_back_applies);
    assert!(report.differences.iter().all(|d| {
        d.horizon.pays_back_applies == carecast::output::pays_back_applies(&report, d)
    }));
    let (table, _) = run_text(torbay, &["--runs", "50"]);
    let page = page_text(&std::fs::read_to_string(&out.html).unwrap());
    let markdown = std::fs::read_to_string(&out.markdown).unwrap();
    for text in [&table, &page, &markdown] {
        assert!(text.contains("Pays back is n/a for"), "{text}");
        assert!(!text.contains("pays back 0.0%"), "{text}");
    }
    // The example's strategy includes a grant-funded programme.
    let dir = tempfile::tempdir().unwrap();
    let out = run_all("configs/example.toml", &["--runs", "50"], dir.path());
    let report = Report::read(&out.json).unwrap();
    let d = &report.differences[0];
    assert!(carecast::output::pays_back_applies(&report, d));
    assert!(carecast::output::grant_gap(d));
    let with_grants = carecast::output::money(d.horizon.saving_including_grants.mean);
    let page = page_text(&std::fs::read_to_string(&out.html).unwrap());
    let markdown = std::fs::read_to_string(&out.markdown).unwrap();
    for text in [&page, &markdown] {
        assert!(text.contains("leaves out grant-funded spend"), "{text}");
        assert!(text.contains(&with_grants), "{with_grants}");
    }
}

#[test]
fn the_starting_position_counts_cohort_children() {
    // The red dot left out the cohort's children: "Start: 315" for a
    // council with 370 in care (315 in the placements' own stock and 55
    // unaccompanied children of the cohort), 55 below the first month.
    let dir = tempfile::tempdir().unwrap();
    let out = run_all("configs/uasc-2024.toml", &["--runs", "50"], dir.path());
    let page = std::fs::read_to_string(&out.html).unwrap();
    let report = Report::read(&out.json).unwrap();
    let first = &report.scenarios[0].months[0];
    assert!((first.lac.mean - 370.0).abs() < 10.0, "{}", first.lac.mean);
    assert!(page.contains(">Start: 370<"), "no start of 370");
    assert!(!page.contains(">Start: 315<"));
    // Supported accommodation holds 15 of its own and 36 of the cohort; the
    // 16-17 band 65 and 48.
    assert!(page.contains(">Start: 51<"));
    assert!(page.contains(">Start: 113<"));
}

/// Regression: every scenario's red dot came from the base config, so a
/// scenario that drops a cohort (or changes the initial stock) was shown
/// starting where the base starts. Each scenario now starts where its own
/// config puts it: without the UASC cohort, 315 children and 15 in
/// supported accommodation.
#[test]
fn each_scenario_starts_where_its_own_config_puts_it() {
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string("configs/uasc-2024.toml").unwrap()
        + "\n[[scenario]]\nid = \"no_cohort\"\nlabel = \"Without the cohort\"\ndisable = [\"uasc\", \"uasc_grant\", \"uasc_leavers\"]\n";
    let config = dir.path().join("no_cohort.toml");
    std::fs::write(&config, text).unwrap();
    let out = run_all(config.to_str().unwrap(), &["--runs", "20"], dir.path());
    let report = Report::read(&out.json).unwrap();
    let ids: Vec<&str> = report.scenarios.iter().map(|s| s.id.as_str()).collect();
    assert_eq!(ids, ["base", "arrivals_rise", "no_cohort"]);
    let page = std::fs::read_to_string(&out.html).unwrap();
    // The third scenario's section, up to the next one.
    let at = page
        .find("<section class=\"scenario\" id=\"scenario-2\">")
        .unwrap();
    let rest = &page[at..];
    let last = &rest[..rest[1..].find("<section").map_or(rest.len(), |e| e + 1)];
    assert!(last.contains("Without the cohort"));
    assert!(
        last.contains(">Start: 315<"),
        "no start of 315 in the last scenario"
    );
    assert!(last.contains(">Start: 15<"));
    assert!(!last.contains(">Start: 370<"));
    assert_eq!(page.matches(">Start: 370<").count(), 2);
}

#[test]
fn a_count_of_one_child_is_singular() {
    // The HTML strategy table read "1 children prevented".
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string("configs/example.toml")
        .unwrap()
        .replace(
            "per_year = { dist = \"pert\", min = 2, mode = 5, max = 8 }",
            "per_year = 1",
        )
        .replace(
            "per_year = { dist = \"pert\", min = 4, mode = 8, max = 12 }",
            "per_year = 1",
        );
    let config = dir.path().join("one_a_year.toml");
    std::fs::write(&config, text).unwrap();
    let out = run_all(config.to_str().unwrap(), &["--runs", "300"], dir.path());
    let report = Report::read(&out.json).unwrap();
    let page = std::fs::read_to_string(&out.html).unwrap();
    let mut ones = 0;
    for y in &report.scenarios[1].years {
        for id in ["mst", "sgo"] {
            let iv = &y.interventions[id];
            if iv.children.p50.round() == 1.0 {
                ones += 1;
                let words = if id == "mst" {
                    "1 child prevented (P10–P90"
                } else {
                    "1 child left care (P10–P90"
                };
                assert!(page.contains(words), "{words}");
            }
        }
    }
    assert!(ones > 0, "no year with a median of one child");
    assert!(!page.contains(">1 children"));
    assert!(!page.contains(">1 places"));
}

#[test]
fn the_terminal_notes_of_a_single_run_speak_of_no_interval() {
    // Under a table of one run, whose P(over) has no ± and whose error
    // line says it is unknown, the note still explained "± the half-width
    // of its 95% interval" and what the Monte Carlo error means.
    let (table, _) = run_text("configs/example.toml", &["--runs", "1"]);
    let flat = table.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(!flat.contains("±"), "{flat}");
    assert!(!flat.contains("half-width"), "{flat}");
    assert!(!flat.contains("Monte Carlo error: how far"), "{flat}");
    assert!(
        flat.contains(
            "P(over): 100% when the future's cost exceeds the budget by more than £1, else 0%."
        ),
        "{flat}"
    );
    // Each P(over) is indeed 0% or 100%.
    for line in table.lines().filter(|l| l.starts_with("20")) {
        assert!(
            line.contains(" 0.0% ") || line.contains(" 100.0% "),
            "{line}"
        );
    }
}

#[test]
fn every_report_gives_the_children_at_year_end_as_the_terminal_does() {
    // The terminal printed the children in care at each year's end as
    // P10 / P50 / P90; the HTML and the Markdown gave the P50 alone.
    let dir = tempfile::tempdir().unwrap();
    let config = "configs/example.toml";
    let out = run_all(config, &["--runs", "60"], dir.path());
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&out.json).unwrap()).unwrap();
    let (table, _) = run_text(config, &["--runs", "60"]);
    let page = page_text(&std::fs::read_to_string(&out.html).unwrap());
    let markdown = std::fs::read_to_string(&out.markdown).unwrap();
    let mut rows = 0;
    for sc in json["scenarios"].as_array().unwrap() {
        for y in sc["years"].as_array().unwrap() {
            let at = |k: &str| y["lac_end"][k].as_f64().unwrap().round();
            let children = format!("{} / {} / {}", at("p10"), at("p50"), at("p90"));
            assert!(at("p10") < at("p90"), "{children}");
            let fy = y["fy"].as_str().unwrap();
            for text in [&table, &page, &markdown] {
                assert!(
                    text.lines().any(|l| {
                        l.trim_start_matches(['|', ' ']).starts_with(fy) && l.contains(&children)
                    }),
                    "{fy} {children}: {text}"
                );
            }
            rows += 1;
        }
    }
    assert_eq!(rows, 12);
    for text in [&page, &markdown] {
        assert!(text.contains("(P10 / P50 / P90)"), "{text}");
    }
}

#[test]
fn a_share_below_a_tenth_of_a_percent_is_escaped_in_the_html() {
    // `<0.1%` went into table cells and SVG text as it is: a stray `<`
    // that browsers forgive but no XML reader does.
    let dir = tempfile::tempdir().unwrap();
    let out = run_all("configs/example.toml", &["--runs", "30"], dir.path());
    let mut json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&out.json).unwrap()).unwrap();
    fn tiny(v: &mut serde_json::Value) {
        match v {
            serde_json::Value::Object(map) => {
                for (k, x) in map.iter_mut() {
                    if [
                        "probability",
                        "probability_positive",
                        "probability_pays_back",
                        "delivered",
                    ]
                    .contains(&k.as_str())
                        && x.is_number()
                    {
                        *x = serde_json::json!(0.0004);
                    } else {
                        tiny(x);
                    }
                }
            }
            serde_json::Value::Array(items) => items.iter_mut().for_each(tiny),
            _ => {}
        }
    }
    tiny(&mut json);
    let doctored = dir.path().join("tiny.json");
    std::fs::write(&doctored, serde_json::to_vec(&json).unwrap()).unwrap();
    let html = dir.path().join("tiny.html");
    carecast()
        .arg("report")
        .arg(&doctored)
        .arg("--quiet")
        .arg("--html")
        .arg(&html)
        .assert()
        .success();
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(
        page.matches("&lt;0.1%").count() >= 10,
        "too few shares shown"
    );
    // Every `<` opens a tag, a comment or the doctype.
    for (i, _) in page.match_indices('<') {
        let next = page[i + 1..].chars().next().unwrap();
        assert!(
            next.is_ascii_alphabetic() || next == '/' || next == '!',
            "a bare < at {i}: {}",
            &page[i.saturating_sub(40)..(i + 40).min(page.len())]
        );
    }
}
