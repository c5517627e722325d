//! The cost of merging shards (`carecast merge`): N partial results of M
//! runs each of the built-in example, merged into the results of N·M runs —
//! decoding the partial files' bodies and merging their tallies, as `merge`
//! does after reading them. Throughput is in runs merged a second. The
//! partial results are simulated once, before anything is timed.

use std::hint::black_box;

use carecast::config;
use carecast::engine;
use carecast::partial;
use carecast::results::Plan;
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};

fn merge(c: &mut Criterion) {
    let config =
        config::parse_config(config::EXAMPLE, config::EXAMPLE_ORIGIN).expect("the example");
    let plan = Plan::new(&config);
    let mut group = c.benchmark_group("merge");
    group.sample_size(10);
    for (shards, runs) in [(4u64, 250u64), (16, 250), (4, 2500)] {
        // Shard k holds runs k·M .. (k+1)·M − 1.
        let bodies: Vec<Vec<u8>> = (0..shards)
            .map(|k| {
                let results = engine::tally(&config, &plan, 42, k * runs..(k + 1) * runs, &|_| {})
                    .expect("runs");
                let mut body = Vec::new();
                partial::encode(&results, &mut body);
                body
            })
            .collect();
        group.throughput(Throughput::Elements(shards * runs));
        group.bench_with_input(
            BenchmarkId::new(format!("{shards}_partials"), format!("{runs}_runs_each")),
            &bodies,
            |b, bodies| {
                b.iter(|| {
                    let mut all = plan.empty();
                    for body in bodies {
                        let part = partial::decode(&plan, body).expect("a valid body");
                        all.absorb(part);
                    }
                    all.normalize();
                    black_box(all)
                })
            },
        );
    }
    group.finish();
}

criterion_group!(benches, merge);
criterion_main!(benches);
