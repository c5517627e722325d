//! Throughput of the simulation core: runs per second on the
//! immigration-death config (one placement, 48 months) and on the built-in
//! example (seven placements, four age bands), on one thread and on all.

use std::hint::black_box;

use carecast::config;
use carecast::engine::{self, Settings};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};

const IMMIGRATION_DEATH: &str = include_str!("../tests/configs/immigration_death.toml");

fn bench_config(c: &mut Criterion, name: &str, text: &str, runs: u64) {
    let model = config::parse(text, name).expect("bench config is valid");
    let mut group = c.benchmark_group(name);
    group.throughput(Throughput::Elements(runs));
    group.sample_size(20);
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    for threads in [1, cores] {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        let settings = Settings {
            runs,
            seed: 42,
            threads: Some(threads),
            central: false,
        };
        group.bench_with_input(
            BenchmarkId::new(format!("{runs}_runs"), format!("{threads}_threads")),
            &threads,
            |b, _| {
                b.iter(|| {
                    pool.install(|| black_box(engine::run(&model, &settings, &|_| {}).unwrap()))
                });
            },
        );
        if threads == cores && cores == 1 {
            break;
        }
    }
    group.finish();
}

fn immigration_death(c: &mut Criterion) {
    bench_config(c, "immigration_death", IMMIGRATION_DEATH, 10_000);
}

fn example(c: &mut Criterion) {
    bench_config(c, "example", config::EXAMPLE, 1_000);
}

criterion_group!(benches, immigration_death, example);
criterion_main!(benches);
