//! Rendering the reports people read (issue 5): HTML, Excel and Markdown from
//! the [`Report`] of a 10,000-run simulation of the built-in example (seven
//! placements, four age bands, 48 months), plus reading the saved JSON back.
//! The simulation runs once, before timing: rendering never re-runs it.

use std::hint::black_box;

use carecast::config;
use carecast::engine::{self, Settings};
use carecast::output::{html, json, markdown, xlsx};
use carecast::report::Report;
use criterion::{Criterion, criterion_group, criterion_main};

fn example_report(runs: u64) -> Report {
    let config = config::parse_config(config::EXAMPLE, "example").expect("the example is valid");
    let settings = Settings {
        runs,
        seed: 42,
        threads: None,
        central: false,
    };
    let results = engine::run_config(&config, &settings, &|_| {}).expect("the example runs");
    Report::for_config(&config, &results, &settings)
}

fn render(c: &mut Criterion) {
    let report = example_report(10_000);
    let saved = json::render(&report).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("results.json");
    std::fs::write(&path, &saved).unwrap();

    let mut group = c.benchmark_group("report_10000_runs");
    group.sample_size(20);
    group.bench_function("html", |b| b.iter(|| black_box(html::render(&report))));
    group.bench_function("xlsx", |b| {
        b.iter(|| black_box(xlsx::render(&report).unwrap()))
    });
    group.bench_function("markdown", |b| {
        b.iter(|| black_box(markdown::render(&report)))
    });
    group.bench_function("read_json", |b| {
        b.iter(|| black_box(Report::read(&path).unwrap()))
    });
    group.bench_function("read_json_and_render_all", |b| {
        b.iter(|| {
            let r = Report::read(&path).unwrap();
            black_box((
                html::render(&r),
                xlsx::render(&r).unwrap(),
                markdown::render(&r),
            ))
        })
    });
    group.finish();
}

criterion_group!(benches, render);
criterion_main!(benches);
