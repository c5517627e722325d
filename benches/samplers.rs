//! How close a run is to its sampler limit: the random numbers one run of
//! the built-in example draws (streams started and 64-bit numbers drawn,
//! counted with the `draw-count` feature), timed alone against the whole
//! run. Run with `cargo bench --features draw-count --bench samplers`.

use std::hint::black_box;

use carecast::config;
use carecast::model::draws::Random;
use carecast::model::layout::Layout;
use carecast::model::simulate::{Shared, Workspace, simulate};
use carecast::model::stream::{Stream, count};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use rand::RngExt;

fn samplers(c: &mut Criterion) {
    let config = config::parse_config(config::EXAMPLE, "example").expect("example is valid");
    let model = &config.scenarios[1].model;
    let layout = Layout::new(model);
    let mut ws = Workspace::new(model);
    let mut draws = Random::new(42, 0);
    let mut row = vec![0.0; layout.width()];
    // One scenario, each run once: nothing to share.
    let mut shared = Shared::new(false);
    let runs = 500u64;
    let before = count::read();
    for run in 0..runs {
        draws.restart(run);
        simulate(model, &layout, &mut draws, &mut ws, &mut shared, &mut row);
    }
    let after = count::read();
    let streams = (after.0 - before.0) / runs;
    let numbers = (after.1 - before.1) / runs;
    eprintln!(
        "example, scenario {:?}: {streams} streams started and {numbers} 64-bit numbers drawn per run",
        config.scenarios[1].id
    );

    let mut group = c.benchmark_group("samplers");
    group.throughput(Throughput::Elements(1));
    let mut run = 0;
    group.bench_function("one_run", |b| {
        b.iter(|| {
            draws.restart(run);
            run += 1;
            simulate(model, &layout, &mut draws, &mut ws, &mut shared, &mut row);
            black_box(&row);
        })
    });
    // The same numbers of streams and draws with nothing else: each stream
    // draws its share, converted to a float as the model's uses are.
    let per_stream = numbers / streams.max(1);
    let rest = numbers - per_stream * streams;
    group.bench_function("draws_alone", |b| {
        b.iter(|| {
            let mut acc = 0.0f64;
            for s in 0..streams {
                let mut rng = Stream::new(black_box(s));
                for _ in 0..per_stream + u64::from(s < rest) {
                    acc += rng.random::<f64>();
                }
            }
            black_box(acc)
        })
    });
    group.finish();
}

criterion_group!(benches, samplers);
criterion_main!(benches);
