//! Throughput of the simulation core, in runs per second, on one thread and
//! on all: the built-in example as it is, the example as version 0.1 shipped
//! it (the text the cell engine was measured on), and the immigration-death
//! config (one placement, 48 months). Each iteration is a whole `carecast
//! run`: every scenario of the config, with common random numbers.

use std::hint::black_box;

use carecast::config::{self, Config};
use carecast::engine::{self, Settings};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};

const IMMIGRATION_DEATH: &str = include_str!("../tests/configs/immigration_death.toml");
const EXAMPLE_V01: &str = include_str!("configs/example-v0.1.toml");

fn bench_config(c: &mut Criterion, name: &str, config: &Config, runs: u64) {
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
        let settings = Settings {
            runs,
            seed: 42,
            threads: Some(t),
            central: false,
        };
        group.bench_with_input(
            BenchmarkId::new(format!("{runs}_runs"), format!("{t}_threads")),
            &t,
            |b, _| {
                b.iter(|| {
                    pool.install(|| {
                        black_box(engine::run_config(config, &settings, &|_| {}).expect("runs"))
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
    bench_config(c, "example_v0.1", &parse(EXAMPLE_V01, "example_v0.1"), 500);
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
