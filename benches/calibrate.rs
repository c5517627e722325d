//! `carecast calibrate` on six years of SSDA903 returns (2019 to 2024) of a
//! synthetic council of about 500 children in care (the generator of the
//! test suite): reading the CSVs, building periods of care, estimating every
//! rate and writing the config, and each stage on its own. The returns are
//! written once, before timing.

#[path = "../tests/common/synthetic.rs"]
mod synthetic;

use std::hint::black_box;

use carecast::calibrate::date::Day;
use carecast::calibrate::ssda903::{self, ReadOptions};
use carecast::calibrate::write::TrendUse;
use carecast::calibrate::{self, Request, estimate};
use criterion::{Criterion, criterion_group, criterion_main};

fn calibrate_bench(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    synthetic::council(&synthetic::Truth::typical(1.0), dir.path(), 2019, 2024, 1);
    let at = Day::from_ymd(2023, 4, 1).unwrap();
    let request = Request {
        at,
        window: 24,
        years: 3,
        uncertain: false,
        trend: TrendUse::Off,
    };
    let read = || ssda903::read_dir(dir.path(), &ReadOptions::default()).unwrap();
    let prep = calibrate::prepare(read(), None).unwrap();

    let mut group = c.benchmark_group("calibrate_six_years_500_children");
    group.sample_size(20);
    group.bench_function("whole", |b| {
        b.iter(|| {
            let prep = calibrate::prepare(read(), None).unwrap();
            black_box(
                calibrate::calibrate_prepared(&prep, None, &request, Vec::new(), None).unwrap(),
            )
        })
    });
    group.bench_function("read_csv", |b| b.iter(|| black_box(read())));
    group.bench_function("periods", |b| {
        b.iter(|| black_box(calibrate::prepare(read(), None).unwrap()))
    });
    group.bench_function("estimate", |b| {
        b.iter(|| {
            black_box(estimate::estimate(
                &prep.spells,
                at,
                24,
                &prep.bands,
                &prep.placements,
                prep.data.first_day().unwrap(),
            ))
        })
    });
    group.bench_function("estimate_and_write", |b| {
        b.iter(|| {
            black_box(
                calibrate::calibrate_prepared(&prep, None, &request, Vec::new(), None).unwrap(),
            )
        })
    });
    group.finish();
}

criterion_group!(benches, calibrate_bench);
criterion_main!(benches);
