//! Throughput of the simulation core, in runs per second, on one thread and
//! on all: the built-in example as it is, the example as version 0.1 shipped
//! it (the text the cell engine was measured on), and the immigration-death
//! config (one placement, 48 months). Each iteration does what `carecast run`
//! does between reading the config and writing the report: every scenario of
//! the config, with common random numbers, each run folded into the
//! statistics ([`engine::tally`]). Cost avoided is left out (as
//! `--no-attribution` does), since the cell engine these figures are compared
//! with had none, except in the `with_cost_avoided` case of the version 0.1
//! example, which measures it as the command does by default.

use std::hint::black_box;

use carecast::config::{self, Config};
use carecast::engine::{self, Attribution, Settings};
use carecast::results::Plan;
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};

const IMMIGRATION_DEATH: &str = include_str!("../tests/configs/immigration_death.toml");
const EXAMPLE_V01: &str = include_str!("configs/example-v0.1.toml");

fn bench_config(c: &mut Criterion, name: &str, config: &Config, runs: u64) {
    bench_plan(c, name, config, runs, Attribution::Off);
}

fn bench_plan(c: &mut Criterion, name: &str, config: &Config, runs: u64, cost: Attribution) {
    let plan = Plan::with_attribution(config, cost);
    let mut group = c.benchmark_group(name);
    group.throughput(Throughput::Elements(runs));
    group.sample_size(10);
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let mut threads = vec![1];
    if cores > 1 {
        threads.push(cores);
    }
    for t in threads {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(t)
            .build()
            .expect("a thread pool");
        group.bench_with_input(
            BenchmarkId::new(format!("{runs}_runs"), format!("{t}_threads")),
            &t,
            |b, _| {
                b.iter(|| {
                    pool.install(|| {
                        let results = engine::tally(config, &plan, 42, 0..runs, &|_| {});
                        black_box(results.expect("runs"))
                    })
                });
            },
        );
    }
    group.finish();
}

fn parse(text: &str, name: &str) -> Config {
    config::parse_config(text, name).expect("bench config is valid")
}

fn immigration_death(c: &mut Criterion) {
    bench_config(
        c,
        "immigration_death",
        &parse(IMMIGRATION_DEATH, "immigration_death"),
        2_000,
    );
}

fn example(c: &mut Criterion) {
    bench_config(c, "example", &parse(config::EXAMPLE, "example"), 500);
}

fn example_v01(c: &mut Criterion) {
    let config = parse(EXAMPLE_V01, "example_v0.1");
    bench_config(c, "example_v0.1", &config, 500);
    let name = "example_v0.1_with_cost_avoided";
    bench_plan(c, name, &config, 256, Attribution::Auto);
}

fn central(c: &mut Criterion) {
    let config = parse(config::EXAMPLE, "example");
    let settings = Settings {
        runs: 1,
        seed: 42,
        threads: Some(1),
        central: true,
    };
    c.bench_function("central/example", |b| {
        b.iter(|| black_box(engine::run_config(&config, &settings, &|_| {}).expect("central")))
    });
}

criterion_group!(benches, example_v01, example, immigration_death, central);
criterion_main!(benches);
