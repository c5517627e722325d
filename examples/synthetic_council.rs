//! Writes the SSDA903 returns of a synthetic council (the generator of the
//! test suite, `tests/common/synthetic.rs`) into a folder, to try
//! `carecast calibrate` and `carecast backtest` on:
//!
//! ```sh
//! cargo run --example synthetic_council -- /tmp/council [SEED] [SCALE] [--realistic] [--trend G]
//! carecast calibrate --ssda903 /tmp/council --at 2023-03-31
//! ```
//!
//! Returns 2019 to 2024 (six years); about 500 children in care at scale 1.
//! `--realistic` generates stays that depend on time in care, babies among
//! the 0–4 entrants, moves into supported accommodation only at 16–17 and
//! re-entries (`Truth::realistic`); `--trend G` makes entries grow by G a
//! year (0.05 for 5%).

#[path = "../tests/common/synthetic.rs"]
mod synthetic;

fn main() {
    let all: Vec<String> = std::env::args().collect();
    let realistic = all.iter().any(|a| a == "--realistic");
    let trend = all
        .iter()
        .position(|a| a == "--trend")
        .and_then(|i| all.get(i + 1))
        .and_then(|g| g.parse::<f64>().ok());
    let args: Vec<&String> = all
        .iter()
        .enumerate()
        .filter(|(i, a)| {
            let value_of_trend = *i > 0 && all[i - 1] == "--trend";
            !a.starts_with("--") && !value_of_trend
        })
        .map(|(_, a)| a)
        .collect();
    let Some(dir) = args.get(1) else {
        eprintln!("usage: synthetic_council DIR [SEED] [SCALE] [--realistic] [--trend G]");
        std::process::exit(2);
    };
    let seed = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(1);
    let scale = args.get(3).and_then(|s| s.parse().ok()).unwrap_or(1.0);
    let mut truth = if realistic {
        synthetic::Truth::realistic(scale)
    } else {
        synthetic::Truth::typical(scale)
    };
    if let Some(g) = trend {
        truth.trend = g;
    }
    let council = synthetic::council(&truth, std::path::Path::new(dir.as_str()), 2019, 2024, seed);
    let at = carecast::calibrate::date::Day::from_ymd(2024, 3, 31).unwrap();
    let stock: u32 = council.in_care(at).iter().flatten().sum();
    println!("wrote returns 2019-2024 to {dir}: {stock} children in care on {at}");
}
