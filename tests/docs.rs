//! The documentation cannot go stale: every command output shown in
//! README.md and docs/*.md under a `<!-- carecast-output: ARGS -->` marker is
//! what `carecast ARGS` prints now, and every TOML snippet in them parses
//! (and validates, when it is a whole config).
//!
//! After a change that moves the numbers (a new simulation core, say),
//! regenerate every marked block in one command:
//!
//! ```sh
//! CARECAST_UPDATE_DOCS=1 cargo test --test docs
//! ```

use std::path::{Path, PathBuf};

use assert_cmd::Command;

const MARKER: &str = "<!-- carecast-output: ";

/// README.md and every Markdown file in docs/.
fn documents() -> Vec<PathBuf> {
    let mut out = vec![PathBuf::from("README.md")];
    let mut docs: Vec<PathBuf> = std::fs::read_dir("docs")
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .collect();
    docs.sort();
    out.extend(docs);
    out
}

/// A marked block: the arguments, and the byte range of the block's body
/// (after the `$ carecast ARGS` line, before the closing fence).
struct Block {
    args: String,
    body: std::ops::Range<usize>,
}

fn marked_blocks(text: &str, path: &Path) -> Vec<Block> {
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(at) = text[from..].find(MARKER) {
        let start = from + at + MARKER.len();
        let end = start + text[start..].find(" -->").expect("marker closed");
        let args = text[start..end].trim().to_string();
        let fence = end
            + text[end..]
                .find("```")
                .expect("a fenced block after the marker");
        let first_line_end = fence + text[fence..].find('\n').unwrap() + 1;
        let command_end = first_line_end + text[first_line_end..].find('\n').unwrap() + 1;
        let command = &text[first_line_end..command_end];
        assert_eq!(
            command.trim(),
            format!("$ carecast {args}"),
            "{}: the block under the marker must start with the command it shows",
            path.display()
        );
        let close = command_end + text[command_end..].find("```").expect("a closing fence");
        out.push(Block {
            args,
            body: command_end..close,
        });
        from = close;
    }
    out
}

fn output_of(args: &str) -> String {
    let out = Command::cargo_bin("carecast")
        .unwrap()
        .args(args.split_whitespace())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "carecast {args} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn the_outputs_shown_in_the_docs_are_what_carecast_prints() {
    let update = std::env::var_os("CARECAST_UPDATE_DOCS").is_some();
    let mut stale = Vec::new();
    let mut checked = 0;
    // The same command shown twice is run once.
    let mut outputs: std::collections::HashMap<String, String> = Default::default();
    for path in documents() {
        let mut text = std::fs::read_to_string(&path).unwrap();
        let blocks = marked_blocks(&text, &path);
        // From the last block back, so earlier ranges stay valid.
        for block in blocks.iter().rev() {
            let got = outputs
                .entry(block.args.clone())
                .or_insert_with(|| output_of(&block.args))
                .clone();
            checked += 1;
            if text[block.body.clone()] != got {
                if update {
                    text.replace_range(block.body.clone(), &got);
                } else {
                    stale.push(format!(
                        "{}: `carecast {}` now prints:\n{got}",
                        path.display(),
                        block.args
                    ));
                }
            }
        }
        if update {
            std::fs::write(&path, text).unwrap();
        }
    }
    if update {
        screenshot();
    }
    assert!(checked >= 2, "the README's example is marked");
    assert!(
        stale.is_empty(),
        "{}\nRegenerate every marked block with: CARECAST_UPDATE_DOCS=1 cargo test --test docs",
        stale.join("\n")
    );
}

/// Redraws docs/images/report.png, the README's screenshot: the top of the
/// HTML report of the README's example, in headless Chromium (skipped, with
/// a message, when Chromium is not installed).
fn screenshot() {
    let chromium = Path::new("/usr/bin/chromium");
    if !chromium.exists() {
        eprintln!("docs/images/report.png not redrawn: /usr/bin/chromium is missing");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let html = dir.path().join("report.html");
    let readme = std::fs::read_to_string("README.md").unwrap();
    let args = &marked_blocks(&readme, Path::new("README.md"))[0].args;
    Command::cargo_bin("carecast")
        .unwrap()
        .args(args.split_whitespace())
        .arg("--quiet")
        .arg("--html")
        .arg(&html)
        .assert()
        .success();
    let status = std::process::Command::new(chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--no-first-run",
            "--disable-sync",
            "--hide-scrollbars",
            "--window-size=900,1560",
        ])
        .arg(format!(
            "--user-data-dir={}",
            dir.path().join("profile").display()
        ))
        .arg("--screenshot=docs/images/report.png")
        .arg(format!("file://{}", html.display()))
        .output()
        .unwrap()
        .status;
    assert!(status.success(), "chromium failed to draw the screenshot");
}

#[test]
fn the_readme_example_is_marked_and_its_screenshot_exists() {
    let readme = std::fs::read_to_string("README.md").unwrap();
    assert!(!marked_blocks(&readme, Path::new("README.md")).is_empty());
    for link in links(&readme) {
        if !link.contains("://") && !link.starts_with('#') {
            let target = link.split('#').next().unwrap();
            assert!(
                Path::new(target).exists(),
                "README links to {link}, which is missing"
            );
        }
    }
}

/// Targets of Markdown links and images: `](target)`.
fn links(text: &str) -> Vec<String> {
    text.split("](")
        .skip(1)
        .filter_map(|rest| rest.split(')').next())
        .map(String::from)
        .collect()
}

#[test]
fn every_link_between_the_docs_leads_to_a_file_that_exists() {
    for path in documents() {
        let text = std::fs::read_to_string(&path).unwrap();
        let dir = path.parent().unwrap_or(Path::new("."));
        for link in links(&text) {
            if link.contains("://") || link.starts_with('#') || link.starts_with("mailto:") {
                continue;
            }
            let target = dir.join(link.split('#').next().unwrap());
            assert!(
                target.exists(),
                "{} links to {link}: {} is missing",
                path.display(),
                target.display()
            );
        }
        assert!(
            !text.contains("SPEC"),
            "{} cites a SPEC the repository does not contain",
            path.display()
        );
    }
}

/// Every fenced ```toml block of every document, with where it is.
fn toml_snippets() -> Vec<(PathBuf, String)> {
    let mut out = Vec::new();
    for path in documents() {
        let text = std::fs::read_to_string(&path).unwrap();
        for piece in text.split("```toml\n").skip(1) {
            let body = piece.split("\n```").next().unwrap();
            out.push((path.clone(), format!("{body}\n")));
        }
    }
    out
}

#[test]
fn every_toml_snippet_in_the_docs_parses_and_whole_configs_validate() {
    let snippets = toml_snippets();
    assert!(!snippets.is_empty());
    let mut whole = 0;
    for (path, text) in &snippets {
        let table: toml::Table = toml::from_str(text).unwrap_or_else(|e| {
            panic!(
                "{}: a TOML snippet does not parse: {e}\n{text}",
                path.display()
            )
        });
        if table.contains_key("name") && table.contains_key("horizon") {
            whole += 1;
            let dir = tempfile::tempdir().unwrap();
            let file = dir.path().join("snippet.toml");
            std::fs::write(&file, text).unwrap();
            Command::cargo_bin("carecast")
                .unwrap()
                .arg("validate")
                .arg(&file)
                .assert()
                .success();
        }
    }
    assert!(whole >= 1, "the docs show at least one whole config");
}

/// docs/outputs.md shows the JSON of a run cut to its first year and first
/// month, without the config text: it must be what carecast writes now, key
/// for key and value for value (the layout of the text may differ).
#[test]
fn the_json_shown_in_outputs_md_is_what_carecast_writes() {
    let doc = std::fs::read_to_string("docs/outputs.md").unwrap();
    let command = "run tests/configs/immigration_death.toml --runs 1000 --json";
    let at = doc
        .find(&format!("`carecast {command} out.json`"))
        .expect("the command the example shows");
    let start = at + doc[at..].find("```json\n").expect("a JSON block") + "```json\n".len();
    let end = start + doc[start..].find("\n```").expect("its closing fence");
    let shown: serde_json::Value = serde_json::from_str(&doc[start..end]).expect("valid JSON");

    let mut args: Vec<&str> = command.split_whitespace().collect();
    args.extend(["-", "--quiet"]);
    let out = Command::cargo_bin("carecast")
        .unwrap()
        .args(&args)
        .output()
        .unwrap();
    assert!(out.status.success());
    let mut written: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let top = written.as_object_mut().unwrap();
    assert!(
        top.remove("config").is_some(),
        "the JSON carries its config"
    );
    for s in top["scenarios"].as_array_mut().unwrap() {
        for key in ["years", "months"] {
            s[key].as_array_mut().unwrap().truncate(1);
        }
    }
    assert_eq!(
        shown, written,
        "docs/outputs.md's JSON example is stale: regenerate it from `carecast {command} -`"
    );
}

/// The CSV rows docs/outputs.md shows from the same run are rows carecast
/// writes now.
#[test]
fn the_csv_rows_shown_in_outputs_md_are_what_carecast_writes() {
    let doc = std::fs::read_to_string("docs/outputs.md").unwrap();
    let header = "scenario,fy,month,metric,component,stat,value\n";
    let start = doc.find(header).expect("the CSV example") + header.len();
    let end = start + doc[start..].find("```").expect("its closing fence");
    let shown: Vec<&str> = doc[start..end].lines().collect();
    assert!(shown.len() >= 5, "the example shows rows");
    let out = Command::cargo_bin("carecast")
        .unwrap()
        .args([
            "run",
            "tests/configs/immigration_death.toml",
            "--runs",
            "1000",
            "--csv",
            "-",
            "--quiet",
        ])
        .output()
        .unwrap();
    assert!(out.status.success());
    let written = String::from_utf8(out.stdout).unwrap();
    let rows: std::collections::HashSet<&str> = written.lines().collect();
    for line in shown {
        assert!(
            rows.contains(line),
            "docs/outputs.md shows a CSV row carecast no longer writes: {line}"
        );
    }
}
