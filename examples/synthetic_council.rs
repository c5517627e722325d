//! Writes the SSDA903 returns of a synthetic council (the generator of the
//! test suite, `tests/common/synthetic.rs`) into a folder, to try
//! `carecast calibrate` and `carecast backtest` on:
//!
//! ```sh
//! cargo run --example synthetic_council -- /tmp/council [SEED] [SCALE]
//! carecast calibrate --ssda903 /tmp/council --at 2023-04
//! ```
//!
//! Returns 2019 to 2024 (six years); about 500 children in care at scale 1.

#[path = "../tests/common/synthetic.rs"]
mod synthetic;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let Some(dir) = args.get(1) else {
        eprintln!("usage: synthetic_council DIR [SEED] [SCALE]");
        std::process::exit(2);
    };
    let seed = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(1);
    let scale = args.get(3).and_then(|s| s.parse().ok()).unwrap_or(1.0);
    let truth = synthetic::Truth::typical(scale);
    let council = synthetic::council(&truth, std::path::Path::new(dir), 2019, 2024, seed);
    let at = carecast::calibrate::date::Day::from_ymd(2024, 3, 31).unwrap();
    let stock: u32 = council.in_care(at).iter().flatten().sum();
    println!("wrote returns 2019-2024 to {dir}: {stock} children in care on {at}");
}
