//! Calibration from SSDA903 returns and backtests, on synthetic councils
//! generated from a known process (`common/synthetic.rs`) and on small
//! hand-written returns with the mess real data have.

#[path = "common/accuracy.rs"]
mod accuracy;
#[path = "common/synthetic.rs"]
mod synthetic;

use std::path::Path;

use carecast::backtest;
use carecast::calibrate::date::Day;
use carecast::calibrate::estimate::{self, Estimates, Rate};
use carecast::calibrate::periods::End;
use carecast::calibrate::ssda903::{self, ReadOptions};
use carecast::calibrate::write;
use carecast::calibrate::write::TrendUse;
use carecast::calibrate::{self, Prepared, Request};
use carecast::engine::Settings;
use synthetic::{PLACEMENTS, Truth};

fn day(y: i32, m: u32, d: u32) -> Day {
    Day::from_ymd(y, m, d).unwrap()
}

fn prepared(dir: &Path) -> Prepared {
    let data = ssda903::read_dir(dir, &ReadOptions::default()).unwrap();
    calibrate::prepare(data, None).unwrap()
}

fn estimates(prep: &Prepared, at: Day, window: usize) -> Estimates {
    estimate::estimate(
        &prep.spells,
        at,
        window,
        &prep.bands,
        &prep.placements,
        prep.data.first_day().unwrap(),
    )
}

/// The index of a synthetic placement among the calibrated ones.
fn index(prep: &Prepared, p: usize) -> usize {
    prep.placements
        .iter()
        .position(|id| id == PLACEMENTS[p].0)
        .unwrap_or_else(|| panic!("{} not calibrated", PLACEMENTS[p].0))
}

#[test]
fn calibration_recovers_the_true_rates_and_the_exact_stock() {
    let truth = Truth::typical(1.0);
    let at = day(2023, 4, 1);
    let (mut covered, mut total) = (0, 0);
    let mut misses = Vec::new();
    for seed in 1..=4u64 {
        let dir = tempfile::tempdir().unwrap();
        let council = synthetic::council(&truth, dir.path(), 2019, 2024, seed);
        let prep = prepared(dir.path());
        assert!(
            prep.data.problems.is_empty(),
            "{:?}",
            &prep.data.problems[..3.min(prep.data.problems.len())]
        );
        let est = estimates(&prep, at, 48);
        let mut check = |what: String, rate: &estimate::Rate, true_value: f64| {
            total += 1;
            if rate.covers(true_value) {
                covered += 1;
            } else {
                misses.push(format!(
                    "seed {seed} {what}: true {true_value:.5}, estimate {:.5} (95% {:.5}–{:.5}, {} events)",
                    rate.value, rate.low, rate.high, rate.events
                ));
            }
        };
        for b in 0..4 {
            for (p, (id, _, _)) in PLACEMENTS.iter().enumerate() {
                let t = truth.entries_per_year(b, p);
                if t > 0.0 {
                    check(
                        format!("entries {b} {id}"),
                        &est.entries[b][index(&prep, p)],
                        t,
                    );
                }
            }
        }
        for (p, (from, _, _)) in PLACEMENTS.iter().enumerate() {
            for b in 0..4 {
                let r = &est.exits[index(&prep, p)][b];
                if r.exposure > 0.0 {
                    check(format!("exit {from} {b}"), r, truth.exit[p][b]);
                }
            }
            for (q, (to, _, _)) in PLACEMENTS.iter().enumerate() {
                if truth.moves[p][q] > 0.0 {
                    check(
                        format!("move {from}→{to}"),
                        &est.moves[index(&prep, p)][index(&prep, q)],
                        truth.moves[p][q],
                    );
                }
            }
        }
        let (mut ev, mut ex) = (0.0, 0.0);
        for p in 0..5 {
            for b in 0..4 {
                let r = &est.exits[index(&prep, p)][b];
                ev += r.events;
                ex += r.exposure * truth.exit[p][b];
            }
        }
        println!(
            "seed {seed}: exits observed {ev} against {ex:.1} expected from the true hazards; entries {} against {:.1}",
            est.entries_total.events,
            4.0 * 12.0 * truth.per_month
        );
        // The stock at the date, by placement and band, exactly.
        let expected = council.in_care(Day(at.0 - 1));
        let got = est.stock_by_band();
        for p in 0..5 {
            assert_eq!(
                got[index(&prep, p)].as_slice(),
                &expected[p][..],
                "seed {seed}: stock of {}",
                PLACEMENTS[p].0
            );
        }
        assert_eq!(est.stock_over_18, 0);
    }
    let share = covered as f64 / total as f64;
    println!(
        "rate recovery: {covered} of {total} true rates ({:.1}%) within their 95% intervals; misses: {misses:#?}",
        100.0 * share
    );
    assert!(share >= 0.9, "{covered}/{total} covered: {misses:#?}");
}

/// (projected mean, true expectation) of each council.
type Pairs = Vec<(f64, f64)>;

/// A series' count from counts by `[placement][band]`.
fn series_count(name: &str, counts: &[[f64; 4]; 5]) -> f64 {
    if let Some(id) = name.strip_prefix("placement:") {
        let p = PLACEMENTS.iter().position(|x| x.0 == id).unwrap();
        return counts[p].iter().sum();
    }
    if let Some(id) = name.strip_prefix("band:") {
        let b = ["0-4", "5-9", "10-15", "16-17"]
            .iter()
            .position(|x| *x == id)
            .unwrap();
        return counts.iter().map(|row| row[b]).sum();
    }
    counts.iter().flatten().sum()
}

#[test]
fn backtests_on_synthetic_councils_cover_about_ninety_percent() {
    let truth = Truth::typical(1.0);
    let at = day(2022, 4, 1);
    let councils = 16u64;
    let mut total_points = Vec::new();
    let mut all_points = Vec::new();
    let mut per_council = Vec::new();
    // Series → (horizon → projected mean and true expectation per council).
    let mut versus: Vec<(String, [Pairs; 2])> = Vec::new();
    for seed in 0..councils {
        let dir = tempfile::tempdir().unwrap();
        let council = synthetic::council(&truth, dir.path(), 2019, 2024, 100 + seed);
        let prep = prepared(dir.path());
        let req = Request {
            at,
            window: 36,
            years: 1,
            uncertain: true,
            trend: TrendUse::Off,
        };
        let settings = Settings {
            runs: 400,
            seed: 7,
            threads: None,
            central: false,
        };
        let bt = backtest::backtest(&prep, None, &req, 24, &settings).unwrap();
        assert_eq!(bt.months, 24);
        let total: Vec<_> = bt
            .points
            .iter()
            .filter(|p| p.series == "total")
            .cloned()
            .collect();
        per_council.push(total.iter().filter(|p| p.in_90()).count() as f64 / total.len() as f64);

        // The mean projection against the true expectation at +12 and +24.
        let expected = council.expected_counts(&truth, at, 24, 200, 1000 + seed);
        let series: Vec<String> = std::iter::once("total".to_string())
            .chain(PLACEMENTS.iter().map(|p| format!("placement:{}", p.0)))
            .chain(prep.bands.iter().map(|b| format!("band:{}", b.id)))
            .collect();
        for name in &series {
            let slot = match versus.iter().position(|(n, _)| n == name) {
                Some(i) => i,
                None => {
                    versus.push((name.clone(), [Vec::new(), Vec::new()]));
                    versus.len() - 1
                }
            };
            for (h, month) in [(0, "2023-03"), (1, "2024-03")] {
                let k = if h == 0 { 11 } else { 23 };
                let projected = bt
                    .points
                    .iter()
                    .find(|p| p.series == *name && p.month == month)
                    .map_or(0.0, |p| p.forecast.mean);
                versus[slot].1[h].push((projected, series_count(name, &expected[k])));
            }
        }
        let at_month = |m: &str| {
            total
                .iter()
                .find(|p| p.month == m)
                .map_or(0.0, |p| p.forecast.mean)
        };
        let truth_total = |k: usize| expected[k].iter().flatten().sum::<f64>();
        println!(
            "council {seed}: total projected {:.1} / {:.1} against true expectation {:.1} / {:.1} at +12 / +24",
            at_month("2023-03"),
            at_month("2024-03"),
            truth_total(11),
            truth_total(23)
        );
        total_points.extend(total);
        all_points.extend(bt.points);
    }
    let cov = |pts: &[carecast::score::Point]| {
        pts.iter().filter(|p| p.in_90()).count() as f64 / pts.len() as f64
    };
    let cov50 = |pts: &[carecast::score::Point]| {
        pts.iter().filter(|p| p.in_50()).count() as f64 / pts.len() as f64
    };
    let k = per_council.len() as f64;
    let mean = per_council.iter().sum::<f64>() / k;
    let sd = (per_council.iter().map(|c| (c - mean).powi(2)).sum::<f64>() / (k - 1.0)).sqrt();
    println!(
        "backtest coverage over {councils} councils × 24 months: total P5–P95 {:.1}% (P25–P75 {:.1}%), per council {per_council:.3?}; all {} series points P5–P95 {:.1}% (P25–P75 {:.1}%)",
        100.0 * cov(&total_points),
        100.0 * cov50(&total_points),
        all_points.len(),
        100.0 * cov(&all_points),
        100.0 * cov50(&all_points),
    );
    println!(
        "mean projection against the true expectation, over {councils} councils (mean ± standard error of the difference):"
    );
    println!(
        "{:<32} {:>9} {:>9} {:>14} {:>9} {:>9} {:>14}",
        "series", "+12 proj", "+12 true", "+12 diff", "+24 proj", "+24 true", "+24 diff"
    );
    for (name, [h12, h24]) in &versus {
        let stats = |v: &[(f64, f64)]| {
            let n = v.len() as f64;
            let p = v.iter().map(|x| x.0).sum::<f64>() / n;
            let t = v.iter().map(|x| x.1).sum::<f64>() / n;
            let d: Vec<f64> = v.iter().map(|x| x.0 - x.1).collect();
            let md = d.iter().sum::<f64>() / n;
            let se =
                (d.iter().map(|x| (x - md).powi(2)).sum::<f64>() / (n - 1.0)).sqrt() / n.sqrt();
            (p, t, md, se)
        };
        let (p12, t12, d12, s12) = stats(h12);
        let (p24, t24, d24, s24) = stats(h24);
        println!(
            "{name:<32} {p12:>9.1} {t12:>9.1} {:>14} {p24:>9.1} {t24:>9.1} {:>14}",
            format!("{d12:+.1} ± {s12:.1}"),
            format!("{d24:+.1} ± {s24:.1}")
        );
        if name == "total" {
            // The projection is unbiased: its mean error is within four
            // standard errors of zero.
            assert!(
                d12.abs() <= 4.0 * s12 && d24.abs() <= 4.0 * s24,
                "total: {d12} ± {s12}, {d24} ± {s24}"
            );
        }
    }
    // Months of one council are strongly correlated: the standard error is
    // that of the mean of the councils' coverages.
    let se = sd / k.sqrt();
    assert!(
        (mean - 0.9).abs() <= 4.0 * se.max(0.9 * 0.1 / (k * 24.0).sqrt()),
        "total coverage {mean} ± {se}"
    );
}

// ---- Real-world mess, on hand-written returns ----

const HEADER: &str = "CHILD,SEX,DOB,ETHNIC,UPN,MOTHER,MC_DOB\n";
const EPISODES: &str = "CHILD,DECOM,RNE,LS,CIN,PLACE,PLACE_PROVIDER,DEC,REC,REASON_PLACE_CHANGE,HOME_POST,PL_POST,URN\n";

fn write_year(dir: &Path, year: i32, header: &str, episodes: &str) {
    let folder = dir.join(year.to_string());
    std::fs::create_dir_all(&folder).unwrap();
    std::fs::write(folder.join("header.csv"), format!("{HEADER}{header}")).unwrap();
    std::fs::write(folder.join("episodes.csv"), format!("{EPISODES}{episodes}")).unwrap();
}

#[test]
fn an_episode_repeated_in_the_next_return_is_one_episode() {
    let dir = tempfile::tempdir().unwrap();
    // Open at the end of 2021-22, closed in 2022-23's return.
    write_year(
        dir.path(),
        2022,
        "A1,1,15/06/2010,WBRI,,,\n",
        "A1,01/09/2021,S,C2,N1,U4,PR1,,,,,,\n",
    );
    write_year(
        dir.path(),
        2023,
        "A1,1,15/06/2010,WBRI,,,\n",
        "A1,01/09/2021,S,C2,N1,U4,PR1,10/10/2022,E11,,,,\n",
    );
    let data = ssda903::read_dir(dir.path(), &ReadOptions::default()).unwrap();
    assert_eq!(data.duplicates, 1);
    assert_eq!(data.episodes.len(), 1);
    assert_eq!(data.episodes[0].end, Some(day(2022, 10, 10)));
    let prep = calibrate::prepare(data, None).unwrap();
    assert_eq!(prep.spells.len(), 1);
    assert_eq!(prep.spells[0].segments[0].how, End::Exit);
    let est = estimates(&prep, day(2023, 4, 1), 12);
    let exits: f64 = est.exits.iter().flatten().map(|r| r.events).sum();
    assert_eq!(exits, 1.0);
}

#[test]
fn status_only_and_carer_changes_are_one_period() {
    let dir = tempfile::tempdir().unwrap();
    // Legal status C2 → C1, then another in-house carer code (U4 → U5):
    // one period of in-house fostering; then a real move to an IFA.
    write_year(
        dir.path(),
        2023,
        "B1,2,01/01/2012,WBRI,,,\n",
        "B1,01/05/2022,S,C2,N1,U4,PR1,01/07/2022,X1,,,,\n\
         B1,01/07/2022,L,C1,N1,U4,PR1,01/09/2022,X1,,,,\n\
         B1,01/09/2022,P,C1,N1,U5,PR1,01/11/2022,X1,,,,\n\
         B1,01/11/2022,P,C1,N1,U4,PR4,,,,,,\n",
    );
    let prep = prepared(dir.path());
    assert_eq!(prep.spells.len(), 1);
    let segs = &prep.spells[0].segments;
    assert_eq!(segs.len(), 2, "{segs:?}");
    assert_eq!(prep.placements[segs[0].placement], "inhouse_fostering");
    assert_eq!(
        (segs[0].start, segs[0].end, segs[0].how),
        (day(2022, 5, 1), day(2022, 11, 1), End::Move)
    );
    assert_eq!(prep.placements[segs[1].placement], "ifa");
    let est = estimates(&prep, day(2023, 4, 1), 12);
    let moves: f64 = est.moves.iter().flatten().map(|r| r.events).sum();
    assert_eq!(moves, 1.0);
    let entries: f64 = est.entries.iter().flatten().map(|r| r.events).sum();
    assert_eq!(entries, 1.0);
}

#[test]
fn open_episodes_are_in_care_at_the_returns_end_and_censored() {
    let dir = tempfile::tempdir().unwrap();
    write_year(
        dir.path(),
        2023,
        "C1,1,20/03/2006,WBRI,,,\nC2,2,10/10/2015,WBRI,,,\n",
        "C1,01/02/2023,S,C2,N1,K2,PR4,,,,,,\nC2,01/06/2022,S,C2,N1,U1,PR1,,,,,,\n",
    );
    let prep = prepared(dir.path());
    assert!(
        prep.spells
            .iter()
            .all(|s| s.segments[0].how == End::Censored)
    );
    let est = estimates(&prep, day(2023, 4, 1), 12);
    let stock = est.stock_by_band();
    let ext = prep
        .placements
        .iter()
        .position(|p| p == "external_residential")
        .unwrap();
    let kin = prep.placements.iter().position(|p| p == "kinship").unwrap();
    // C1 is 17 years and 0 months on 31 March 2023 (16-17 band): exact
    // month of age, so the model lets them leave in March 2024.
    assert_eq!(est.stock[ext][17 * 12], 1);
    assert_eq!(stock[ext], vec![0, 0, 0, 1]);
    assert_eq!(stock[kin], vec![0, 1, 0, 0]);
    assert_eq!(
        est.exits.iter().flatten().map(|r| r.events).sum::<f64>(),
        0.0
    );
    // Censored periods still count as time at risk.
    assert!(est.exits[kin][1].exposure > 9.0);
}

#[test]
fn short_breaks_are_left_out_unless_asked_for() {
    let dir = tempfile::tempdir().unwrap();
    write_year(
        dir.path(),
        2023,
        "D1,1,01/01/2012,WBRI,,,\nD2,1,01/01/2014,WBRI,,,\n",
        "D1,03/06/2022,S,V3,N1,U4,PR1,05/06/2022,E13,,,,\n\
         D1,03/08/2022,S,V4,N1,U4,PR1,05/08/2022,E13,,,,\n\
         D2,01/07/2022,S,C2,N1,U4,PR1,,,,,,\n",
    );
    let data = ssda903::read_dir(dir.path(), &ReadOptions::default()).unwrap();
    assert_eq!(data.respite, 2);
    assert_eq!(data.episodes.len(), 1);
    let with = ssda903::read_dir(
        dir.path(),
        &ReadOptions {
            include_respite: true,
            ..ReadOptions::default()
        },
    )
    .unwrap();
    assert_eq!(with.episodes.len(), 3);
}

#[test]
fn bad_rows_are_reported_with_file_row_and_reason_and_skipped() {
    let dir = tempfile::tempdir().unwrap();
    write_year(
        dir.path(),
        2023,
        "E1,1,01/01/2012,WBRI,,,\nE2,1,31/02/2012,WBRI,,,\nE3,1,2013-05-05,WBRI,,,\nE4,2,01/07/2022,WBRI,,,\n",
        "E1,31/02/2022,S,C2,N1,U4,PR1,,,,,,\n\
         E1,01/09/2022,S,C2,N1,U4,PR1,01/08/2022,E11,,,,\n\
         E1,01/10/2022,S,C2,N1,X9,PR1,,,,,,\n\
         E2,01/10/2022,S,C2,N1,U4,PR1,,,,,,\n\
         E3,2022-05-01,S,C2,N1,U4,PR1,2022-12-01,E11,,,,\n\
         E3,2022-11-01,S,C2,N1,U4,PR4,,,,,,\n\
         E1,01/12/2022,S,ZZ,N1,U4,PR1,,,,,,\n\
         E4,01/06/2022,S,C2,N1,U4,PR1,,,,,,\n",
    );
    let data = ssda903::read_dir(dir.path(), &ReadOptions::default()).unwrap();
    let episodes = dir.path().join("2023").join("episodes.csv");
    let header = dir.path().join("2023").join("header.csv");
    let reasons: Vec<(String, usize, String)> = data
        .problems
        .iter()
        .map(|p| {
            (
                p.file.file_name().unwrap().to_string_lossy().to_string(),
                p.row,
                p.reason.clone(),
            )
        })
        .collect();
    let has = |file: &Path, row: usize, words: &str| {
        data.problems
            .iter()
            .any(|p| p.file == file && p.row == row && p.reason.contains(words))
    };
    assert!(has(&header, 3, "DOB \"31/02/2012\""), "{reasons:#?}");
    assert!(
        has(&episodes, 2, "DECOM \"31/02/2022\" is not a date"),
        "{reasons:#?}"
    );
    assert!(
        has(&episodes, 3, "DEC 2022-08-01 is before DECOM 2022-09-01"),
        "{reasons:#?}"
    );
    assert!(
        has(&episodes, 4, "unknown PLACE code \"X9\""),
        "{reasons:#?}"
    );
    assert!(
        has(&episodes, 5, "no header row with a valid DOB"),
        "{reasons:#?}"
    );
    assert!(has(&episodes, 7, "overlaps"), "{reasons:#?}");
    assert!(has(&episodes, 8, "unknown LS code \"ZZ\""), "{reasons:#?}");
    assert!(has(&episodes, 9, "before the child's DOB"), "{reasons:#?}");
    assert_eq!(data.problems.len(), 8, "{reasons:#?}");
    // What is left: E3's first episode (ISO dates).
    assert_eq!(data.episodes.len(), 1);
    assert_eq!(data.episodes[0].end, Some(day(2022, 12, 1)));
}

#[test]
fn a_missing_column_is_an_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let folder = dir.path().join("2023");
    std::fs::create_dir_all(&folder).unwrap();
    std::fs::write(folder.join("header.csv"), HEADER).unwrap();
    std::fs::write(
        folder.join("episodes.csv"),
        "CHILD,DECOM,RNE,LS,PLACE,DEC,REC\n",
    )
    .unwrap();
    let e = ssda903::read_dir(dir.path(), &ReadOptions::default()).unwrap_err();
    assert_eq!(e.exit_code(), 2);
    let text = e.to_string();
    assert!(
        text.contains("episodes.csv") && text.contains("missing column PLACE_PROVIDER"),
        "{text}"
    );
}

// ---- The command line ----

fn carecast() -> assert_cmd::Command {
    assert_cmd::Command::cargo_bin("carecast").unwrap()
}

/// A synthetic council's returns in a temporary folder.
fn council_dir(seed: u64) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    synthetic::council(&Truth::typical(1.0), dir.path(), 2019, 2024, seed);
    dir
}

#[test]
fn calibrate_writes_a_config_that_runs_without_a_budget_in_every_format() {
    let data = council_dir(11);
    let out = tempfile::tempdir().unwrap();
    let config = out.path().join("calibrated.toml");
    let summary = carecast()
        .args(["calibrate", "--ssda903"])
        .arg(data.path())
        .args(["--at", "2023-04-01", "--out"])
        .arg(&config)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let summary = String::from_utf8(summary).unwrap();
    assert!(summary.contains("In care at 2023-04-01"), "{summary}");
    let text = std::fs::read_to_string(&config).unwrap();
    assert!(!text.contains("\n[budget]") && text.contains("initial_by_age"));
    // No child-level data: no child id or date of birth appears.
    assert!(!text.contains("1000") || !text.contains("CHILD"));
    assert!(
        !text.contains("/20"),
        "no dd/mm/yyyy date of birth is written"
    );

    let j = out.path().join("r.json");
    let c = out.path().join("r.csv");
    let h = out.path().join("r.html");
    let x = out.path().join("r.xlsx");
    let m = out.path().join("r.md");
    let table = carecast()
        .arg("run")
        .arg(&config)
        .args(["--runs", "60", "--json"])
        .arg(&j)
        .arg("--csv")
        .arg(&c)
        .arg("--html")
        .arg(&h)
        .arg("--xlsx")
        .arg(&x)
        .arg("--markdown")
        .arg(&m)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let table = String::from_utf8(table).unwrap();
    assert!(
        table.contains("–") && !table.contains("P(over): share"),
        "{table}"
    );
    let json: serde_json::Value = serde_json::from_slice(&std::fs::read(&j).unwrap()).unwrap();
    let year = &json["scenarios"][0]["years"][0];
    assert!(year.get("budget").is_none() && year.get("overspend").is_none());
    assert!(year["cost"]["mean"].as_f64().unwrap() > 0.0);
    let csv = std::fs::read_to_string(&c).unwrap();
    assert!(!csv.contains(",budget,") && !csv.contains(",overspend,"));
    let html = std::fs::read_to_string(&h).unwrap();
    assert!(html.contains("no budget") && !html.contains("Budget £"));
    let md = std::fs::read_to_string(&m).unwrap();
    assert!(md.contains("| – |"), "{md}");
    assert!(std::fs::metadata(&x).unwrap().len() > 1000);
    // The report re-renders from the saved JSON.
    carecast()
        .arg("report")
        .arg(&j)
        .arg("--quiet")
        .assert()
        .success();
}

#[test]
fn calibrate_is_reproducible_and_uncertain_rates_are_distributions() {
    let data = council_dir(12);
    let run = |extra: &[&str]| {
        let out = carecast()
            .args(["calibrate", "--ssda903"])
            .arg(data.path())
            .args(["--at", "2022-10"])
            .args(extra)
            .assert()
            .success()
            .get_output()
            .stdout
            .clone();
        String::from_utf8(out).unwrap()
    };
    let a = run(&[]);
    assert_eq!(a, run(&[]), "same data, same config");
    let u = run(&["--uncertain", "--trend", "--window", "30"]);
    assert!(
        u.contains("dist = \"gamma\"")
            && u.contains("dist = \"beta\"")
            && u.contains("dist = \"pert\"")
    );
    assert!(u.contains("\ntrend = "));
    let cfg = carecast::config::parse_config(&u, "uncertain").unwrap();
    let model = &cfg.scenarios[0].model;
    assert!(model.params.iter().filter(|p| !p.dist.is_fixed()).count() > 20);
}

#[test]
fn calibrate_on_a_base_keeps_its_money_and_maps_codes_to_its_placements() {
    let data = council_dir(13);
    let out = tempfile::tempdir().unwrap();
    let example = std::fs::read_to_string("configs/example.toml").unwrap();
    let base = out.path().join("base.toml");
    std::fs::write(&base, &example).unwrap();
    // Without a mapping the data's kinds of placement are unknown to the base.
    let e = carecast()
        .args(["calibrate", "--ssda903"])
        .arg(data.path())
        .args(["--at", "2024-03-31", "--base"])
        .arg(&base)
        .assert()
        .code(2)
        .get_output()
        .stderr
        .clone();
    let e = String::from_utf8(e).unwrap();
    assert!(
        e.contains("[calibration.mapping]") && e.contains("U4/PR1 → inhouse_fostering"),
        "{e}"
    );
    let mapped = format!(
        "{example}\n[calibration.mapping]\nU1 = \"kinship\"\nU2 = \"kinship\"\n\"U4/PR1\" = \"fostering\"\n\"U5/PR1\" = \"fostering\"\n\
         \"U4/PR4\" = \"ifa\"\n\"U5/PR4\" = \"ifa\"\n\"K2/PR4\" = \"res_external\"\n\"R1/PR4\" = \"res_external\"\n\
         H5 = \"semi_independent\"\nP2 = \"semi_independent\"\n"
    );
    std::fs::write(&base, mapped).unwrap();
    let config = out.path().join("c.toml");
    carecast()
        .args(["calibrate", "--ssda903"])
        .arg(data.path())
        .args(["--at", "2024-03-31", "--base"])
        .arg(&base)
        .arg("--out")
        .arg(&config)
        .assert()
        .success();
    let text = std::fs::read_to_string(&config).unwrap();
    assert!(text.contains("start = \"2024-04\""), "{text}");
    // Calibrated a year before the base's start, the base's amounts by
    // year would each move a year: refused, saying what to do.
    let e = carecast()
        .args(["calibrate", "--ssda903"])
        .arg(data.path())
        .args(["--at", "2023-03-31", "--base"])
        .arg(&base)
        .assert()
        .code(2)
        .get_output()
        .stderr
        .clone();
    let e = String::from_utf8(e).unwrap();
    assert!(
        e.contains("its horizon starts 2024-04")
            && e.contains("the calibrated horizon 2023-04")
            && e.contains("12 months earlier")
            && e.contains("--at 2024-03-31"),
        "{e}"
    );
    let cfg = carecast::config::parse_config(&text, "c.toml").unwrap();
    assert_eq!(cfg.scenarios.len(), 3, "the base's scenarios are kept");
    let model = &cfg.scenarios[0].model;
    assert!(model.budget.is_some(), "the base's budget is kept");
    let ids: Vec<&str> = model.placements.iter().map(|p| p.id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "fostering",
            "ifa",
            "kinship",
            "res_inhouse",
            "res_external",
            "semi_independent",
            "with_parents"
        ]
    );
    carecast()
        .arg("run")
        .arg(&config)
        .args(["--runs", "20", "--quiet"])
        .assert()
        .success();
}

/// Regression: `[calibration.mapping]` accepted keys that are no SSDA903
/// code (`ZZZ`, `U9`, `U4/PR9`), which could never match a row, while a
/// malformed key was refused. Every key must be a code the calibrator reads,
/// with a provider it reads, ignoring case as the calibrator does.
#[test]
fn a_mapping_key_that_is_no_ssda903_code_is_a_config_error_listing_the_codes() {
    let base = "name = \"x\"\n[horizon]\nstart = \"2024-04\"\nyears = 1\n[[placement]]\nid = \"f\"\nweekly_cost = 1\n[exits]\nannual_probability = { f = 0 }\n[calibration.mapping]\n";
    for (key, words) in [
        (
            "ZZZ",
            "\"ZZZ\" is not an SSDA903 placement code; expected one of A3, A4,",
        ),
        (
            "U9",
            "\"U9\" is not an SSDA903 placement code; expected one of A3, A4,",
        ),
        (
            "ZZ/PR1",
            "\"ZZ/PR1\": \"ZZ\" is not an SSDA903 placement code; expected one of A3, A4,",
        ),
        (
            "U4/PR9",
            "\"U4/PR9\": \"PR9\" is not an SSDA903 placement provider code; expected one of PR0, PR1, PR2, PR3, PR4, PR5",
        ),
        (
            "U4/",
            "\"U4/\": \"\" is not an SSDA903 placement provider code",
        ),
    ] {
        let text = format!("{base}\"{key}\" = \"f\"\n");
        let e = carecast::config::parse_config(&text, "c.toml").unwrap_err();
        assert_eq!(e.path, format!("calibration.mapping.{key}"), "{e}");
        assert!(e.message.contains(words), "{e}");
        if words.contains("placement code") {
            assert!(e.message.contains("T4, U1, U2, U3, U4, U5, U6, Z1"), "{e}");
        }
    }
    // Codes the calibrator reads, in any case, with or without a provider.
    for key in ["U4", "u4/pr1", "K3", "U6/PR0", "Z1/PR5"] {
        let text = format!("{base}\"{key}\" = \"f\"\n");
        carecast::config::parse_config(&text, "c.toml").unwrap_or_else(|e| panic!("{key}: {e}"));
    }
}

#[test]
fn data_errors_exit_with_status_2_naming_the_problem() {
    let empty = tempfile::tempdir().unwrap();
    let e = carecast()
        .args(["calibrate", "--ssda903"])
        .arg(empty.path())
        .args(["--at", "2023-04"])
        .assert()
        .code(2)
        .get_output()
        .stderr
        .clone();
    assert!(
        String::from_utf8(e)
            .unwrap()
            .contains("no collection-year folders")
    );
    let dir = tempfile::tempdir().unwrap();
    write_year(
        dir.path(),
        2023,
        "A1,1,01/01/2012,WBRI,,,\n",
        "A1,01/09/2022,S,C2,N1,U4,PR1,,,,,,\n",
    );
    std::fs::write(
        dir.path().join("2023").join("header.csv"),
        "CHILD,SEX\nA1,1\n",
    )
    .unwrap();
    let e = carecast()
        .args(["calibrate", "--ssda903"])
        .arg(dir.path())
        .args(["--at", "2023-04"])
        .assert()
        .code(2)
        .get_output()
        .stderr
        .clone();
    let e = String::from_utf8(e).unwrap();
    assert!(
        e.contains("header.csv") && e.contains("missing column DOB"),
        "{e}"
    );
    carecast()
        .args(["calibrate", "--ssda903"])
        .arg(dir.path())
        .args(["--at", "2023-04-15"])
        .assert()
        .code(2);
}

#[test]
fn backtest_prints_scores_and_writes_a_config_with_its_history() {
    let data = council_dir(14);
    let out = tempfile::tempdir().unwrap();
    let config = out.path().join("bt.toml");
    let csv = out.path().join("bt.csv");
    let text = carecast()
        .args(["backtest", "--ssda903"])
        .arg(data.path())
        .args([
            "--at",
            "2023-04",
            "--horizon",
            "12",
            "--runs",
            "100",
            "--out",
        ])
        .arg(&config)
        .arg("--csv")
        .arg(&csv)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8(text).unwrap();
    assert!(
        text.contains("12 months compared") && text.contains("In P5–P95"),
        "{text}"
    );
    assert!(text.lines().any(|l| l.starts_with("placement:ifa")));
    // One origin's CSV has the columns of several origins'.
    let points = std::fs::read_to_string(&csv).unwrap();
    assert!(
        points.starts_with("origin,series,month,observed"),
        "{points}"
    );
    assert_eq!(
        points
            .lines()
            .filter(|l| l.starts_with("2023-04-01,total,"))
            .count(),
        12,
        "{points}"
    );
    // `run` scores the same history.
    let html = out.path().join("bt.html");
    let table = carecast()
        .arg("run")
        .arg(&config)
        .args(["--runs", "100", "--html"])
        .arg(&html)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let table = String::from_utf8(table).unwrap();
    assert!(
        table.contains("Observed history ([history]") && table.contains("120 within the horizon"),
        "{table}"
    );
    assert!(
        std::fs::read_to_string(&html)
            .unwrap()
            .contains("class=\"observed\"")
    );
}

/// Cost outturns in `[history]` are scored against the simulated cost of
/// their financial year, in pounds, apart from the counts: here every child
/// stays for the whole horizon, so each year's cost is known exactly (ten
/// children at £700 a week for 365 or 366 days) and the scores are exact.
#[test]
fn cost_outturns_are_scored_against_the_years_cost() {
    let text = r#"
name = "outturns"
[horizon]
start = "2024-04"
years = 2
[[placement]]
id = "f"
weekly_cost = 700
initial = 10
[exits]
annual_probability = { f = 0 }
[history]
source = "the council's statements of accounts"
total = { "2024-06" = 10, "2024-07" = 11 }
cost = { "2023/24" = "£3.5m", "2024/25" = 365000, "2025/26" = "£400k" }
"#;
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("c.toml");
    std::fs::write(&config, text).unwrap();
    let json = dir.path().join("r.json");
    let out = carecast()
        .args(["run", "--runs", "20", "--json"])
        .arg(&json)
        .arg(&config)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let table = String::from_utf8(out.stdout).unwrap();
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let h = &report["scenarios"][0]["history"];
    // Two counts and three outturns given; 2023/24 is before the horizon.
    assert_eq!(
        (h["given"].as_u64(), h["scored"].as_u64()),
        (Some(5), Some(4))
    );
    // The counts alone make up `all`: 10 is right, 11 one too many.
    assert_eq!(h["all"]["months"], 2);
    assert_eq!(h["all"]["mean_error"], -0.5);
    let cost = h["series"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["series"] == "cost")
        .expect("a cost series");
    // 2024/25 and 2025/26 have 365 days each: 10 children × £100 a day ×
    // 365 = £365,000 exactly, right for 2024/25 and £35,000 below the
    // £400k observed for 2025/26, outside every band.
    assert_eq!(cost["months"], 2);
    assert_eq!(cost["coverage_90"], 0.5);
    assert_eq!(cost["coverage_50"], 0.5);
    assert_eq!(cost["mean_error"], -17_500.0);
    assert_eq!(cost["mean_absolute_error"], 17_500.0);
    assert!(
        table.contains("Observed history ([history]) in base: 5 given, 4 within the horizon"),
        "{table}"
    );
    // Outturns' errors are money (£17,500 at the table's precision).
    assert!(
        table.contains("−£18k") && table.contains("£8,750"),
        "{table}"
    );
}

// ---- Config forms calibration writes ----

#[test]
fn the_stock_by_age_leaves_at_18_in_the_month_of_the_birthday() {
    let text = r#"
name = "ages"
[horizon]
start = "2024-04"
years = 2
[[age_band]]
id = "young"
from = 0
to = 16
[[age_band]]
id = "old"
from = 16
to = 18
[[placement]]
id = "f"
weekly_cost = 100
initial_by_age = { "17y11m" = 5, "17y00m" = 3, "15" = 12 }
[exits]
annual_probability = { f = 0 }
"#;
    let cfg = carecast::config::parse_config(text, "ages").unwrap();
    let model = &cfg.scenarios[0].model;
    assert_eq!(model.placements[0].initial, vec![12.0, 8.0]);
    let settings = Settings {
        runs: 20,
        seed: 1,
        threads: Some(1),
        central: false,
    };
    let runs = carecast::engine::run_config(&cfg, &settings, &|_| {}).unwrap();
    let layout = &runs[0].layout;
    for r in 0..20 {
        let lac = |m: usize| runs[0].data[r * layout.width() + layout.lac(m)];
        // Five leave in the first month; the three aged 17 years and 0
        // months turn 18 between 11 and 12 months on (the twelfth month, or
        // the first day of the thirteenth); the fifteen-year-olds are all
        // still in care two years on.
        assert_eq!(
            (lac(0), lac(10), lac(12), lac(23)),
            (15.0, 15.0, 12.0, 12.0)
        );
        let old = |m: usize| runs[0].data[r * layout.width() + layout.lac_band(m, 1)];
        // The 15-year-olds turn 16 within the first year (or on its last
        // day's morrow: a date of birth is a whole day), month by month.
        assert!(old(12) == 12.0 && old(0) < 12.0);
    }
}

#[test]
fn bad_stock_by_age_and_history_are_config_errors() {
    let base = "name = \"x\"\n[horizon]\nstart = \"2024-04\"\nyears = 1\n[[age_band]]\nid = \"all\"\nfrom = 0\nto = 18\n[[placement]]\nid = \"f\"\nweekly_cost = 1\n";
    let bad = [
        (
            "initial_by_age = { \"18\" = 1 }",
            "placement[0].initial_by_age.18",
            "not an age",
        ),
        (
            "initial_by_age = { \"17y12m\" = 1 }",
            "placement[0].initial_by_age.17y12m",
            "months must be 0–11",
        ),
        (
            "initial_by_age = { \"17\" = 1, \"17y03m\" = 2 }",
            "placement[0].initial_by_age.17y03m",
            "overlaps",
        ),
        (
            "initial_by_age = { \"3\" = 1.5 }",
            "placement[0].initial_by_age.3",
            "whole number",
        ),
        (
            "initial = { all = 1 }\ninitial_by_age = { \"3\" = 1 }",
            "placement[0].initial_by_age",
            "not both",
        ),
        (
            "[exits]\nannual_probability = { f = 0 }\n[history]\ntotal = { \"2024-13\" = 5 }",
            "history.total.2024-13",
            "month 13",
        ),
        (
            "[exits]\nannual_probability = { f = 0 }\n[history]\nby_placement = { g = { \"2024-04\" = 5 } }",
            "history.by_placement.g",
            "unknown placement",
        ),
        (
            "[exits]\nannual_probability = { f = 0 }\n[history]\ncost = { \"2024/26\" = 5 }",
            "history.cost.2024/26",
            "financial year",
        ),
        (
            "[exits]\nannual_probability = { f = 0 }\n[history]\ncost = { \"2024-25\" = 5 }",
            "history.cost.2024-25",
            "\"2017/18\"",
        ),
        (
            "[exits]\nannual_probability = { f = 0 }\n[history]\ncost = { \"2024/25\" = \"-£5m\" }",
            "history.cost.2024/25",
            "£0 to £10 trillion",
        ),
        (
            "[exits]\nannual_probability = { f = 0 }\n[history]\ncost = { \"2024/25\" = \"lots\" }",
            "history.cost.2024/25",
            "",
        ),
        (
            "[exits]\nannual_probability = { f = 0 }\n[history]\nsource = \"none\"",
            "history",
            "`cost`",
        ),
        (
            "[exits]\nannual_probability = { f = 0 }\n[calibration.mapping]\nU4 = \"nowhere\"",
            "calibration.mapping.U4",
            "unknown placement",
        ),
        (
            "[exits]\nannual_probability = { f = 0 }\n[calibration.mapping]\nU9 = \"f\"",
            "calibration.mapping.U9",
            "\"U9\" is not an SSDA903 placement code",
        ),
    ];
    for (extra, path, words) in bad {
        let text = format!("{base}{extra}\n");
        let text = if text.contains("[exits]") {
            text
        } else {
            format!("{text}[exits]\nannual_probability = {{ f = 0 }}\n")
        };
        let e = carecast::config::parse_config(&text, "c.toml").unwrap_err();
        assert_eq!(e.path, path, "{e}");
        assert!(e.message.contains(words), "{e}");
    }
}

#[test]
fn odd_files_are_read_or_refused_without_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    let folder = dir.path().join("2023");
    std::fs::create_dir_all(&folder).unwrap();
    // A byte-order mark, lower-case names, CRLF, quoted fields, a short row.
    std::fs::write(
        folder.join("SSDA903_Header.csv"),
        "\u{feff}child,sex,dob\r\n\"F1\",1,\"01/01/2012\"\r\nF2\r\n",
    )
    .unwrap();
    std::fs::write(
        folder.join("SSDA903_Episodes.csv"),
        "child,decom,rne,ls,place,place_provider,dec,rec\r\n\"F1\",\"01/05/2022\",S,C2,U4,PR1,,\r\nF1,\r\n,,,,\r\n",
    )
    .unwrap();
    let data = ssda903::read_dir(dir.path(), &ReadOptions::default()).unwrap();
    assert_eq!(data.episodes.len(), 1);
    assert_eq!(data.problems.len(), 3, "{:?}", data.problems);
    let prep = calibrate::prepare(data, None).unwrap();
    let (est, text) = calibrate::calibrate_prepared(
        &prep,
        None,
        &Request {
            at: day(2023, 4, 1),
            window: 24,
            years: 1,
            uncertain: true,
            trend: TrendUse::Raw,
        },
        Vec::new(),
        None,
    )
    .unwrap();
    assert_eq!(est.stock_by_band().iter().flatten().sum::<u32>(), 1);
    assert!(text.contains("initial_by_age"));
    // Bytes that are not text: an error naming the file, not a panic.
    std::fs::write(
        folder.join("SSDA903_Episodes.csv"),
        b"CHILD,DECOM\n\xff\xfe,\x00\n",
    )
    .unwrap();
    let e = ssda903::read_dir(dir.path(), &ReadOptions::default()).unwrap_err();
    assert_eq!(e.exit_code(), 2);
}

/// A rate with a given value (events and exposure only matter for comments).
fn rate(v: f64) -> Rate {
    Rate {
        events: 1.0,
        exposure: 1.0,
        value: v,
        low: v,
        high: v,
    }
}

/// The model run with the generator's true rates (no estimation), against
/// the generator's true expectation: what the model's own conventions add
/// when nothing is estimated. Slow in a debug build: `cargo test --release --test calibrate --
/// --ignored --nocapture`.
#[test]
#[ignore]
fn model_with_true_rates_against_the_generator() {
    let truth = synthetic::Truth::typical(1.0);
    let at = Day::from_ymd(2022, 4, 1).unwrap();
    let mut d12 = Vec::new();
    let mut d24 = Vec::new();
    for seed in 0..16u64 {
        let dir = tempfile::tempdir().unwrap();
        let council = synthetic::council(&truth, dir.path(), 2019, 2024, 100 + seed);
        let data = ssda903::read_dir(dir.path(), &ReadOptions::default()).unwrap();
        let prep = calibrate::prepare(data, None).unwrap();
        let mut est = estimate::estimate(
            &prep.spells,
            at,
            36,
            &prep.bands,
            &prep.placements,
            prep.data.first_day().unwrap(),
        );
        let idx = |p: usize| {
            prep.placements
                .iter()
                .position(|x| x == synthetic::PLACEMENTS[p].0)
                .unwrap()
        };
        for b in 0..4 {
            for p in 0..5 {
                est.entries[b][idx(p)] = Rate {
                    events: truth.entries_per_year(b, p),
                    ..rate(truth.entries_per_year(b, p))
                };
            }
        }
        est.entries_total = rate(12.0 * truth.per_month);
        est.dispersion.size = Some(truth.dispersion);
        for p in 0..5 {
            for b in 0..4 {
                est.exits[idx(p)][b] = Rate {
                    exposure: 10.0,
                    ..rate(truth.exit[p][b])
                };
            }
            for b in 0..4 {
                est.exits_plain[idx(p)][b] = estimate::Shrunk::new(0.0, 0.0, truth.exit[p][b]);
            }
            for q in 0..5 {
                est.moves[idx(p)][idx(q)] = Rate {
                    events: if truth.moves[p][q] > 0.0 { 1.0 } else { 0.0 },
                    ..rate(truth.moves[p][q])
                };
                for b in 0..4 {
                    est.moves_by_band[idx(p)][idx(q)][b] =
                        estimate::Shrunk::new(0.0, 0.0, truth.moves[p][q] * truth.move_band[q][b]);
                }
            }
        }
        est.time_in_care = None;
        let opts = write::WriteOptions {
            format: write::Format::Monthly,
            name: "truth".into(),
            years: 2,
            fy_start_month: 4,
            uncertain: false,
            trend: TrendUse::Off,
            provenance: vec![],
            history: vec![],
            history_source: None,
        };
        let text = write::config_text(&est, None, &opts);
        let cfg = carecast::config::parse_config(&text, "truth").unwrap();
        let settings = Settings {
            runs: 2000,
            seed: 3,
            threads: None,
            central: false,
        };
        let runs = carecast::engine::run_config(&cfg, &settings, &|_| {}).unwrap();
        let layout = &runs[0].layout;
        let mean = |m: usize| runs[0].column(layout.lac(m)).iter().sum::<f64>() / 2000.0;
        let expected = council.expected_counts(&truth, at, 24, 400, 1000 + seed);
        let t = |k: usize| expected[k].iter().flatten().sum::<f64>();
        println!(
            "seed {seed}: model(true) {:.1} / {:.1}, generator {:.1} / {:.1}",
            mean(11),
            mean(23),
            t(11),
            t(23)
        );
        d12.push(mean(11) - t(11));
        d24.push(mean(23) - t(23));
    }
    let ms = |v: &[f64]| {
        let n = v.len() as f64;
        let m = v.iter().sum::<f64>() / n;
        let sd = (v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (n - 1.0)).sqrt();
        (m, sd / n.sqrt())
    };
    println!(
        "model with true rates minus generator: +12 {:?}, +24 {:?}",
        ms(&d12),
        ms(&d24)
    );
}

#[test]
fn sparse_data_still_give_a_valid_config() {
    let dir = tempfile::tempdir().unwrap();
    // Nobody enters in the window (both spells began before it), and one
    // placement is held for a day before two different moves: rates far
    // above one a month.
    write_year(
        dir.path(),
        2023,
        "G1,1,01/01/2012,WBRI,,,\nG2,1,01/01/2013,WBRI,,,\n",
        "G1,01/01/2020,S,C2,N1,Z1,PR1,02/01/2023,X1,,,,\n\
         G1,02/01/2023,P,C2,N1,U4,PR1,,,,,,\n\
         G2,01/01/2020,S,C2,N1,Z1,PR1,02/01/2023,X1,,,,\n\
         G2,02/01/2023,P,C2,N1,K2,PR4,,,,,,\n",
    );
    let prep = prepared(dir.path());
    for uncertain in [false, true] {
        let req = Request {
            at: day(2023, 4, 1),
            window: 2,
            years: 1,
            uncertain,
            trend: TrendUse::Raw,
        };
        let (est, text) = calibrate::calibrate_prepared(&prep, None, &req, Vec::new(), None)
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(est.entries_total.events, 0.0);
        assert!(text.contains("no [entries]") && !text.contains("\n[entries]"));
        assert_eq!(
            est.moves.iter().flatten().map(|r| r.events).sum::<f64>(),
            0.0
        );
    }
    let req = Request {
        at: day(2023, 2, 1),
        window: 1,
        years: 1,
        uncertain: true,
        trend: TrendUse::Off,
    };
    let (est, _) = calibrate::calibrate_prepared(&prep, None, &req, Vec::new(), None)
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        est.moves.iter().flatten().map(|r| r.events).sum::<f64>(),
        2.0
    );
}

#[test]
fn small_councils_calibrate_to_valid_configs_at_any_date() {
    // About 25 children in care: many empty cells, single events, no
    // entrants in some windows.
    let truth = Truth::typical(0.05);
    for seed in 0..12u64 {
        let dir = tempfile::tempdir().unwrap();
        synthetic::council(&truth, dir.path(), 2019, 2024, 500 + seed);
        let prep = prepared(dir.path());
        for (year, month) in [(2018, 5), (2019, 10), (2021, 4), (2023, 1), (2024, 4)] {
            for (uncertain, trend, window) in [
                (false, TrendUse::Off, 24),
                (true, TrendUse::Raw, 6),
                (true, TrendUse::Shrunk, 60),
            ] {
                let req = Request {
                    at: day(year, month, 1),
                    window,
                    years: 2,
                    uncertain,
                    trend,
                };
                calibrate::calibrate_prepared(&prep, None, &req, Vec::new(), None)
                    .unwrap_or_else(|e| panic!("seed {seed} at {year}-{month}: {e}"));
            }
        }
    }
}

#[test]
fn calibrating_six_years_of_a_500_child_council_takes_well_under_a_second() {
    let dir = council_dir(21);
    let req = Request {
        at: day(2023, 4, 1),
        window: 24,
        years: 3,
        uncertain: true,
        trend: TrendUse::Raw,
    };
    // The best of three, so that another process on the machine does not
    // decide the result. The release build takes about 13 ms (benches/calibrate.rs).
    let best = (0..3)
        .map(|_| {
            let start = std::time::Instant::now();
            let prep = prepared(dir.path());
            let (est, _) =
                calibrate::calibrate_prepared(&prep, None, &req, Vec::new(), None).unwrap();
            assert!(est.stock_by_band().iter().flatten().sum::<u32>() > 400);
            start.elapsed()
        })
        .min()
        .unwrap();
    println!("calibrate, debug build: {best:?}");
    assert!(best.as_secs_f64() < 1.0, "{best:?}");
}

#[test]
fn backtests_do_not_depend_on_the_number_of_threads() {
    let data = council_dir(22);
    let csv = |threads: &str| {
        let out = tempfile::tempdir().unwrap();
        let path = out.path().join("points.csv");
        carecast()
            .args(["backtest", "--ssda903"])
            .arg(data.path())
            .args([
                "--at",
                "2023-04",
                "--horizon",
                "6",
                "--runs",
                "200",
                "--uncertain",
            ])
            .args(["--threads", threads, "--csv"])
            .arg(&path)
            .assert()
            .success();
        std::fs::read(path).unwrap()
    };
    assert_eq!(csv("1"), csv("2"));
}

// ---- Dates and folders councils have; SSDA903 edge cases (issue 16) ----

/// A folder of hand-written returns kept in `tests/ssda903/`.
fn kept(name: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/ssda903")
        .join(name)
}

fn calibrate_at(dir: &Path, at: &str) -> (i32, String, String) {
    let out = carecast()
        .args(["calibrate", "--ssda903"])
        .arg(dir)
        .args(["--at", at])
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).to_string(),
        String::from_utf8_lossy(&out.stderr).to_string(),
    )
}

#[test]
fn folders_named_by_the_year_a_return_starts_are_read_by_their_dates() {
    // 2021/ holds 2021-22 and 2022/ holds 2022-23.
    let data = ssda903::read_dir(&kept("named_by_start"), &ReadOptions::default()).unwrap();
    assert_eq!(data.years, vec![2022, 2023]);
    assert!(data.problems.is_empty(), "{:?}", data.problems);
    // 31 March 2023, as the council dates its data: in care at the end of
    // that day (children 101, 103, 105, 106, 108), horizon from April.
    let (code, config, summary) = calibrate_at(&kept("named_by_start"), "2023-03-31");
    assert_eq!(code, 0, "{summary}");
    assert!(summary.contains("In care at 2023-04-01: 5"), "{summary}");
    assert!(config.contains("start = \"2023-04\""), "{config}");
    // The same date three ways.
    for at in ["2023-04", "2023-04-01", "31/03/2023"] {
        let (code, same, _) = calibrate_at(&kept("named_by_start"), at);
        assert_eq!((code, &same), (0, &config), "{at}");
    }
    // Any other day is an error; so is a date the returns do not reach,
    // naming the folder.
    let (code, _, e) = calibrate_at(&kept("named_by_start"), "2023-03-30");
    assert_eq!(code, 2, "{e}");
    assert!(e.contains("last day of a month"), "{e}");
    let (code, _, e) = calibrate_at(&kept("named_by_start"), "2024-03-31");
    assert_eq!(code, 2, "{e}");
    assert!(
        e.contains("named_by_start") && e.contains("2023-03-31"),
        "{e}"
    );
}

#[test]
fn every_dob_in_1800_is_an_error_with_each_row_skipped_and_why() {
    // Issue 16: every DOB in 1800 gave a stock of 0 yet 118 "left at 18"
    // with "0 rows skipped".
    let (code, _, e) = calibrate_at(&kept("dob_1800"), "2023-03-31");
    assert_eq!(code, 2, "{e}");
    assert!(
        e.contains("after the 18th birthday (DOB 1800-01-01)"),
        "{e}"
    );
    assert!(
        e.contains("dob_1800") && e.contains("no usable episode") && e.contains("8 rows skipped"),
        "{e}"
    );
}

#[test]
fn a_latin1_byte_in_a_column_not_read_does_not_stop_calibration() {
    let bytes = std::fs::read(kept("latin1/2023/episodes.csv")).unwrap();
    assert!(bytes.contains(&0xE9) && std::str::from_utf8(&bytes).is_err());
    let (code, _, e) = calibrate_at(&kept("latin1"), "2023-03-31");
    assert_eq!(code, 0, "{e}");
    assert!(e.contains("In care at 2023-04-01: 5"), "{e}");
}

#[test]
fn a_plain_file_named_like_a_year_folder_is_an_error() {
    let (code, _, e) = calibrate_at(&kept("year_file"), "2023-03-31");
    assert_eq!(code, 2, "{e}");
    assert!(
        e.contains(&format!("year_file{}2022", std::path::MAIN_SEPARATOR))
            && e.contains("must be a folder"),
        "{e}"
    );
}

/// Regression: an episodes.csv that is a FIFO or a symbolic link that
/// loops gave "no episode table: expected a CSV file such as episodes.csv",
/// although a file by that name is there. It is named, with what is wrong.
#[cfg(unix)]
#[test]
fn an_episodes_table_that_is_not_a_regular_file_is_named_with_what_is_wrong() {
    let dir = tempfile::tempdir().unwrap();
    write_year(
        dir.path(),
        2023,
        "A1,1,15/06/2010,WBRI,,,\n",
        "A1,01/09/2022,S,C2,N1,U4,PR1,,,,,,\n",
    );
    let episodes = dir.path().join("2023").join("episodes.csv");
    let run = |extra: &[&str]| {
        let out = carecast()
            .args(["calibrate", "--ssda903"])
            .arg(dir.path())
            .args(["--at", "2023-03-31"])
            .args(extra)
            .timeout(std::time::Duration::from_secs(60))
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).to_string(),
        )
    };
    // A symbolic link to itself.
    std::fs::remove_file(&episodes).unwrap();
    std::os::unix::fs::symlink("episodes.csv", &episodes).unwrap();
    for extra in [&[][..], &["--episodes-file", "episodes.csv"][..]] {
        let (code, e) = run(extra);
        assert_eq!(code, Some(2), "{e}");
        assert!(
            e.contains(&episodes.display().to_string())
                && e.contains("cannot be read")
                && e.contains("os error")
                && e.contains("the episode table must be a regular CSV file")
                && !e.contains("no episode table"),
            "{extra:?}: {e}"
        );
    }
    // A FIFO: never opened, so nothing waits on it.
    std::fs::remove_file(&episodes).unwrap();
    let made = std::process::Command::new("mkfifo")
        .arg(&episodes)
        .status()
        .unwrap();
    assert!(made.success());
    for extra in [&[][..], &["--episodes-file", "episodes.csv"][..]] {
        let (code, e) = run(extra);
        assert_eq!(code, Some(2), "{e}");
        assert!(
            e.contains(&episodes.display().to_string())
                && e.contains("a named pipe (FIFO), not a regular file")
                && !e.contains("no episode table"),
            "{extra:?}: {e}"
        );
    }
    // A table that is not there at all is still "no episode table".
    std::fs::remove_file(&episodes).unwrap();
    let (code, e) = run(&[]);
    assert_eq!(code, Some(2), "{e}");
    assert!(e.contains("no episode table"), "{e}");
    let (code, e) = run(&["--episodes-file", "episodes.csv"]);
    assert_eq!(code, Some(2), "{e}");
    assert!(e.contains("no such file"), "{e}");
}

/// Regression: a year folder named `0000` was left out without a word,
/// while the docs say a four-digit name is a collection year read from
/// the dates inside. A name that gives a year outside those carecast reads
/// is an error naming the folder, like a plain file named like a year.
#[test]
fn a_folder_named_like_a_year_carecast_does_not_read_is_an_error_naming_it() {
    for name in ["0000", "1850", "9999", "1989-90"] {
        let dir = tempfile::tempdir().unwrap();
        write_year(
            dir.path(),
            2023,
            "A1,1,15/06/2010,WBRI,,,\n",
            "A1,01/09/2022,S,C2,N1,U4,PR1,,,,,,\n",
        );
        std::fs::create_dir(dir.path().join(name)).unwrap();
        let (code, _, e) = calibrate_at(dir.path(), "2023-03-31");
        assert_eq!(code, 2, "{name}: {e}");
        assert!(
            e.contains(&dir.path().join(name).display().to_string())
                && e.contains("named like a collection year")
                && e.contains("1990 to 2200"),
            "{name}: {e}"
        );
    }
}

#[test]
fn a_return_without_episodes_is_an_error_naming_its_file() {
    let (code, _, e) = calibrate_at(&kept("no_episodes"), "2023-03-31");
    assert_eq!(code, 2, "{e}");
    assert!(
        e.contains("episodes.csv") && e.contains("no episodes"),
        "{e}"
    );
}

#[test]
fn a_return_whose_every_row_is_unusable_is_an_error_not_a_year_left_out() {
    // Two good years around one exported with dates in another format: the
    // whole of 2021-22 was skipped row by row and the calibration went on
    // with a year missing (exit rates halved, spells cut in two), status 0.
    let dir = tempfile::tempdir().unwrap();
    let child = "A1,1,15/06/2010,WBRI,,,\n";
    write_year(
        dir.path(),
        2021,
        child,
        "A1,01/09/2019,S,C2,N1,U4,PR1,,,,,,\n",
    );
    write_year(
        dir.path(),
        2022,
        child,
        "A1,2019-09-01T00:00:00,S,C2,N1,U4,PR1,,,,,,\n",
    );
    write_year(
        dir.path(),
        2023,
        child,
        "A1,01/09/2019,S,C2,N1,U4,PR1,10/10/2022,E11,,,,\n",
    );
    let (code, _, e) = calibrate_at(dir.path(), "2023-03-31");
    assert_eq!(code, 2, "{e}");
    let file = Path::new("2022").join("episodes.csv");
    assert!(
        e.contains(&format!("{}:2", file.display()))
            && e.contains("DECOM \"2019-09-01T00:00:00\"")
            && e.contains("dd/mm/yyyy")
            && e.contains("no usable"),
        "{e}"
    );
    // The same for a header table whose every DOB is in another format:
    // its children's episodes were all skipped for want of a DOB.
    let dir = tempfile::tempdir().unwrap();
    write_year(
        dir.path(),
        2022,
        "B1,1,06/15/2010,WBRI,,,\n",
        "B1,01/09/2021,S,C2,N1,U4,PR1,,,,,,\n",
    );
    write_year(
        dir.path(),
        2023,
        "A1,1,15/06/2010,WBRI,,,\n",
        "A1,01/09/2022,S,C2,N1,U4,PR1,,,,,,\n",
    );
    let (code, _, e) = calibrate_at(dir.path(), "2023-03-31");
    assert_eq!(code, 2, "{e}");
    let file = Path::new("2022").join("header.csv");
    assert!(
        e.contains(&format!("{}:2", file.display()))
            && e.contains("DOB \"06/15/2010\"")
            && e.contains("no usable"),
        "{e}"
    );
}

#[test]
fn an_empty_or_utf16_table_is_an_error_saying_so() {
    let dir = tempfile::tempdir().unwrap();
    write_year(
        dir.path(),
        2023,
        "A1,1,15/06/2010,WBRI,,,\n",
        "A1,01/09/2022,S,C2,N1,U4,PR1,,,,,,\n",
    );
    let episodes = dir.path().join("2023").join("episodes.csv");
    // Empty: it said "missing column DECOM (the columns are: )".
    std::fs::write(&episodes, "").unwrap();
    let e = ssda903::read_dir(dir.path(), &ReadOptions::default()).unwrap_err();
    let text = e.to_string();
    assert_eq!(e.exit_code(), 2);
    assert!(
        text.contains("episodes.csv") && text.contains("empty") && text.contains("DECOM"),
        "{text}"
    );
    // UTF-16, as Excel's "Unicode Text" saves: it listed the column names
    // as bytes with NULs between them.
    let utf16: Vec<u8> = [0xFF, 0xFE]
        .into_iter()
        .chain(
            format!("{EPISODES}A1,01/09/2022,S,C2,N1,U4,PR1,,,,,,\n")
                .encode_utf16()
                .flat_map(|u| u.to_le_bytes()),
        )
        .collect();
    std::fs::write(&episodes, utf16).unwrap();
    let e = ssda903::read_dir(dir.path(), &ReadOptions::default()).unwrap_err();
    let text = e.to_string();
    assert_eq!(e.exit_code(), 2);
    assert!(
        text.contains("episodes.csv") && text.contains("UTF-16") && !text.contains('\0'),
        "{text}"
    );
}

#[test]
fn exits_left_out_of_the_time_in_care_fit_are_counted_in_the_config() {
    // B's period began before the first return (RNE P, no S): its exit at
    // an apparent 32 months is left out of the base hazards with its
    // exposure. The config said how many child-months were left out but
    // not the exit, so its cells summed to 2 exits where the data hold 3.
    let dir = tempfile::tempdir().unwrap();
    let header = "A,1,15/06/2010,WBRI,,,\nB,1,15/06/2010,WBRI,,,\nC,1,15/06/2010,WBRI,,,\n";
    write_year(
        dir.path(),
        2022,
        header,
        "A,01/05/2021,S,C2,N1,U4,PR1,,,,,,\n\
         B,01/01/2020,P,C2,N1,U4,PR1,,,,,,\n\
         C,01/05/2021,S,C2,N1,U4,PR1,01/08/2021,E11,,,,\n",
    );
    write_year(
        dir.path(),
        2023,
        header,
        "A,01/05/2021,S,C2,N1,U4,PR1,01/06/2022,E11,,,,\n\
         B,01/01/2020,P,C2,N1,U4,PR1,01/09/2022,E11,,,,\n",
    );
    let prep = prepared(dir.path());
    let req = Request {
        at: day(2023, 4, 1),
        window: 24,
        years: 1,
        uncertain: false,
        trend: TrendUse::Shrunk,
    };
    let (est, text) = calibrate::calibrate_prepared(&prep, None, &req, Vec::new(), None).unwrap();
    let all: f64 = est.exits.iter().flatten().map(|r| r.events).sum();
    assert_eq!(all, 3.0);
    let tic = est.time_in_care.as_ref().expect("an exit at 6-24 months");
    assert_eq!(tic.events.iter().sum::<f64>(), 2.0);
    assert!(
        text.contains("and 1 exits of periods begun before the first return"),
        "{text}"
    );
    // Each exit cell's comment gives the cell's real exits and child-months
    // (they add up to all 3), then the fit's, saying they are weighted.
    assert!(
        text.contains("exits of known time in care in")
            && text.contains("child-months weighted by the time-in-care factors"),
        "{text}"
    );
    let real: f64 = text
        .lines()
        .filter(|l| l.contains("; fitted on "))
        .filter_map(|l| l.split("   # ").nth(1))
        .map(|rest| rest.split(' ').next().unwrap().parse::<f64>().unwrap())
        .sum();
    assert_eq!(real, 3.0, "{text}");
}

#[test]
fn a_config_calibrated_before_the_last_return_says_which_data_it_used() {
    let dir = tempfile::tempdir().unwrap();
    let header = "A,1,15/06/2010,WBRI,,,\nB,1,15/06/2012,WBRI,,,\n";
    write_year(
        dir.path(),
        2021,
        header,
        "A,01/05/2020,S,C2,N1,U4,PR1,,,,,,\n",
    );
    write_year(
        dir.path(),
        2022,
        header,
        "A,01/05/2020,S,C2,N1,U4,PR1,01/06/2021,E11,,,,\n",
    );
    write_year(
        dir.path(),
        2023,
        header,
        "B,01/05/2022,S,C2,N1,U4,PR1,,,,,,\n",
    );
    let prep = prepared(dir.path());
    let req = Request {
        at: day(2022, 4, 1),
        window: 12,
        years: 1,
        uncertain: false,
        trend: TrendUse::Shrunk,
    };
    let (_, text) = calibrate::calibrate_prepared(&prep, None, &req, Vec::new(), None).unwrap();
    assert!(
        text.contains("Returns 2021–2023 read (2 episodes")
            && text.contains(
                "Only data before 2022-04-01 were used for the estimates: the returns 2021–2022, 1 episodes starting before that day"
            ),
        "{text}"
    );
    // At the end of the returns, all of them are used.
    let req = Request {
        at: day(2023, 4, 1),
        ..req
    };
    let (_, text) = calibrate::calibrate_prepared(&prep, None, &req, Vec::new(), None).unwrap();
    assert!(text.contains("Returns 2021–2023: 2 episodes"), "{text}");
    assert!(!text.contains("Only data before"), "{text}");
}

#[test]
fn every_exit_and_move_cell_comment_gives_a_95_percent_interval_around_its_value() {
    // docs/calibration.md promises events, exposure, estimate and a 95%
    // interval for every value; the exit and move cells gave no interval.
    let data = council_dir(13);
    let (code, text, e) = calibrate_at(data.path(), "2023-03-31");
    assert_eq!(code, 0, "{e}");
    let mut cells = 0;
    for line in text.lines() {
        let comment = match line.split_once("# ") {
            Some((_, c))
                if (c.contains(" exits in ") || c.contains(" moves in "))
                    && !c.contains("factor") =>
            {
                c
            }
            _ => continue,
        };
        cells += 1;
        let number = |s: &str| s.trim().parse::<f64>().unwrap_or(f64::NAN);
        let value = comment
            .rsplit_once(": ")
            .and_then(|(_, v)| v.split_once(" a month"))
            .map(|(v, _)| number(v));
        let interval = comment
            .split_once("(95% ")
            .and_then(|(_, r)| r.split_once(')'))
            .and_then(|(r, _)| r.split_once('–'))
            .map(|(lo, hi)| (number(lo), number(hi.trim_end_matches(" a month"))));
        match (value, interval) {
            (Some(v), Some((lo, hi))) => assert!(lo <= v && v <= hi, "{comment}"),
            _ => panic!("no value and 95% interval: {comment}"),
        }
    }
    assert!(cells > 20, "{cells} cells in\n{text}");
}

// ---- The config for the continuous-time core ----

#[test]
fn time_in_care_factors_cover_the_truth_and_the_config_has_the_new_keys() {
    // Stays that depend on time in care (factors 1.6, 1, 0.7, 0.5), babies,
    // moves into supported accommodation only at 16-17, re-entries.
    let truth = Truth::realistic(1.0);
    let at = day(2023, 4, 1);
    let (mut covered, mut total) = (0, 0);
    let mut misses = Vec::new();
    for seed in 1..=5u64 {
        let dir = tempfile::tempdir().unwrap();
        synthetic::council(&truth, dir.path(), 2019, 2023, 700 + seed);
        let prep = prepared(dir.path());
        let est = estimates(&prep, at, 24);
        let tic = est.time_in_care.as_ref().expect("factors fitted");
        for k in [0, 2, 3] {
            total += 1;
            let t = truth.tic_factor[k];
            if tic.low[k] <= t && t <= tic.high[k] {
                covered += 1;
            } else {
                misses.push(format!(
                    "seed {seed} band {k}: true {t}, {:.3} ({:.3}–{:.3})",
                    tic.factor[k], tic.low[k], tic.high[k]
                ));
            }
        }
        let opts = write::WriteOptions {
            format: write::Format::Continuous,
            name: "continuous".into(),
            years: 2,
            fy_start_month: 4,
            uncertain: seed % 2 == 0,
            trend: TrendUse::Shrunk,
            provenance: vec![],
            history: vec![],
            history_source: None,
        };
        let text = write::config_text(&est, None, &opts);
        let doc: toml::Table = text.parse().unwrap_or_else(|e| panic!("{e}\n{text}"));
        let tic_doc = &doc["exits"]["time_in_care"];
        assert_eq!(tic_doc["bands"].as_array().unwrap().len(), 4);
        assert_eq!(tic_doc["factor"].as_array().unwrap().len(), 4);
        let entries = doc["entries"].as_table().unwrap();
        assert!(!entries.contains_key("age_mix"), "age_by_year replaces it");
        let ages: Vec<f64> = entries["age_by_year"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_float().or(v.as_integer().map(|i| i as f64)).unwrap())
            .collect();
        assert_eq!(ages.len(), 18);
        assert!((ages.iter().sum::<f64>() - 1.0).abs() < 1e-9);
        // Babies are babies: age 0 is the most common year at entry.
        assert!(ages[0] > ages[1] && ages[0] > ages[3], "{ages:?}");
        // The stock by time in care adds up to the stock, band by band.
        let stock = est.stock_by_band();
        for (p, placement) in doc["placement"].as_array().unwrap().iter().enumerate() {
            let Some(itc) = placement.get("initial_time_in_care") else {
                assert_eq!(stock[p].iter().sum::<u32>(), 0);
                continue;
            };
            for (b, band) in est.bands.iter().enumerate() {
                let n: i64 = itc
                    .get(&band.id)
                    .map(|v| {
                        v["counts"]
                            .as_array()
                            .unwrap()
                            .iter()
                            .map(|c| c.as_integer().unwrap())
                            .sum()
                    })
                    .unwrap_or(0);
                assert_eq!(n, stock[p][b] as i64, "{} {}", est.placements[p], band.id);
            }
        }
        // Moves into supported accommodation are written at 16-17 only, as
        // a table by band; no exit rate is 0.
        for tr in doc["transition"].as_array().unwrap() {
            let rates = tr["annual_rate"].as_table().expect("a table by band");
            if tr["to"].as_str() == Some("supported") {
                assert_eq!(rates.keys().collect::<Vec<_>>(), vec!["16-17"], "{tr}");
            }
        }
        for (id, bands) in doc["exits"]["annual_probability"].as_table().unwrap() {
            for (band, v) in bands.as_table().unwrap() {
                assert!(v.as_float().is_none_or(|p| p > 0.0), "{id} {band}: {v}");
            }
        }
    }
    // 15 intervals of nominal 95%: at least 12 should cover (P(fewer) < 0.5%).
    assert!(covered >= 12, "{covered}/{total} covered: {misses:#?}");
}

/// Issue 12's "accuracy to reach", on 40 synthetic councils from a known
/// process (`Truth::realistic`), calibrated with `--uncertain` (the rates
/// drawn per run from their sampling distributions): the bias of the total
/// within ±1.5% at +12 and +24 months, every placement and age band within
/// ±10%, and the realised total inside P5-P95 in 85-95% of councils and
/// months. Without `--uncertain` the fan carries only the randomness of
/// children's lives, not the estimation error of the rates, which is as
/// large by +24 months: 84% (docs/calibration.md). The table it prints is
/// the one in docs/calibration.md; also `cargo run --release --example
/// calibration_accuracy -- 40 1000 --uncertain`.
#[test]
#[ignore = "slow: 40 councils × 1,000 runs took 14 to 34 s in release and 221 s in a debug build on 2 shared cores; \
            measured in release on 3 December 2026: total inside P5-P95 in 91% of councils and months, bias -0.0% ± 0.3 \
            at +12 months and +0.1% ± 0.6 at +24; `forecasts_carry_the_estimation_error_of_the_rates` (10 councils, 20 s) \
            runs in the normal suite"]
fn accuracy_on_forty_synthetic_councils() {
    let mut setup = accuracy::Setup::new(Truth::realistic(1.0), 40, 1000);
    setup.request.uncertain = true;
    let acc = accuracy::measure(&setup, &|_| {});
    println!(
        "config format: {:?}\n{}\n{}",
        write::Format::supported(),
        acc.table(),
        acc.decomposition()
    );
    let mut failures = Vec::new();
    for s in &acc.series {
        let limit = if s.name == "total" { 0.015 } else { 0.10 };
        for (h, months) in accuracy::HORIZONS.iter().enumerate() {
            let (bias, se) = s.bias(h);
            if bias.abs() > limit {
                failures.push(format!(
                    "{} +{months}m: bias {:+.2}% ± {:.2}",
                    s.name,
                    100.0 * bias,
                    100.0 * se
                ));
            }
        }
    }
    let total = &acc.series[0];
    if !(0.85..=0.95).contains(&total.coverage()) {
        failures.push(format!(
            "total inside P5-P95 in {:.1}% of councils and months",
            100.0 * total.coverage()
        ));
    }
    assert!(failures.is_empty(), "{failures:#?}\n{}", acc.table());
}

/// The fast variant of `accuracy_on_forty_synthetic_councils`, in the
/// normal suite: 10 councils × 300 runs with `--uncertain`.
///
/// - The spread the forecast gives the rates matches their estimation
///   error: at +12 and +24 months, z = (simulated mean − true expectation)
///   / σₚ per council, σₚ² the forecast's variance less the true process
///   variance, has mean z² within 4·√(2/n) of 1 (the standard error of a
///   mean of n squared standard normals). A forecast without the
///   uncertainty of the rates has σₚ ≈ 0 and fails.
/// - The realised total lies inside P5-P95 in 90% of months, within 4
///   standard errors of the councils' mean coverage (months of one council
///   are strongly correlated).
/// - The total is unbiased: its mean relative error at +24 months is
///   within 4 standard errors of 0.
///
/// With 10 councils the first check fails a spread of the rates too small
/// by more than a factor √2.8 (and one left out, as without `--uncertain`:
/// mean z² is then unbounded); a spread too large shows only in coverage.
#[test]
fn forecasts_carry_the_estimation_error_of_the_rates() {
    let mut setup = accuracy::Setup::new(Truth::realistic(1.0), 10, 300);
    setup.reps = 100;
    setup.first_seed = 7000;
    setup.request.uncertain = true;
    let acc = accuracy::measure(&setup, &|_| {});
    println!("{}\n{}", acc.table(), acc.decomposition());
    for month in accuracy::HORIZONS {
        let (z2, n) = acc.estimation_z2(month);
        let se = (2.0 / n as f64).sqrt();
        println!("+{month} months: mean z² {z2:.2} (1 ± {se:.2})");
        assert!(
            (z2 - 1.0).abs() <= 4.0 * se,
            "+{month} months: the rates' spread does not match their estimation error: mean z² {z2:.2}, expected 1 ± {se:.2}\n{}",
            acc.decomposition()
        );
    }
    let per_council = acc.coverage_by_council();
    let k = per_council.len() as f64;
    let mean = per_council.iter().sum::<f64>() / k;
    let sd = (per_council.iter().map(|c| (c - mean).powi(2)).sum::<f64>() / (k - 1.0)).sqrt();
    let se = (sd / k.sqrt()).max(0.9 * 0.1 / (k * accuracy::MONTHS as f64).sqrt());
    assert!(
        (mean - 0.9).abs() <= 4.0 * se,
        "total inside P5-P95 in {:.1}% ± {:.1} of months",
        100.0 * mean,
        100.0 * se
    );
    let (bias, se) = acc.series[0].bias(1);
    assert!(bias.abs() <= 4.0 * se, "total +24m: bias {bias} ± {se}");
}

#[test]
fn a_rolling_backtest_scores_every_origin_with_crps_in_a_table_csv_and_html() {
    let data = council_dir(21);
    let out = tempfile::tempdir().unwrap();
    let (csv, html) = (out.path().join("points.csv"), out.path().join("b.html"));
    let o = carecast()
        .args(["backtest", "--ssda903"])
        .arg(data.path())
        .args(["--at", "2022-03-31", "--every", "6m", "--horizon", "12"])
        .args(["--runs", "200", "--csv"])
        .arg(&csv)
        .arg("--html")
        .arg(&html)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8(o).unwrap();
    // Origins April 2022, October 2022, April 2023, October 2023 (the
    // returns end in March 2024).
    assert!(text.contains("Over 4 origin(s)"), "{text}");
    for at in ["2022-04-01", "2022-10-01", "2023-04-01", "2023-10-01"] {
        assert!(text.contains(&format!("Backtest at {at}")), "{text}");
    }
    assert!(text.contains("CRPS") && text.contains("placement:ifa") && text.contains("band:16-17"));
    let csv = std::fs::read_to_string(csv).unwrap();
    assert!(csv.starts_with("origin,series,month,observed"));
    // 12 + 12 + 12 + 6 months, each with the total, 5 placements, 4 bands.
    assert_eq!(csv.lines().count() - 1, 42 * 10, "{}", &csv[..300]);
    assert!(
        csv.lines().skip(1).all(|l| !l.ends_with(',')),
        "every point has a CRPS"
    );
    let html = std::fs::read_to_string(html).unwrap();
    assert!(html.contains("<section class=\"backtest\">") && html.contains("origin by origin"));
    // Several --at; and --every with several is refused.
    carecast()
        .args(["backtest", "--ssda903"])
        .arg(data.path())
        .args([
            "--at",
            "2023-03-31",
            "--at",
            "2023-09-30",
            "--horizon",
            "3",
            "--runs",
            "50",
        ])
        .assert()
        .success();
    carecast()
        .args(["backtest", "--ssda903"])
        .arg(data.path())
        .args(["--at", "2023-03-31", "--at", "2023-09-30", "--every", "6m"])
        .assert()
        .code(2);
    carecast()
        .args(["calibrate", "--ssda903"])
        .arg(data.path())
        .args(["--at", "2023-03-31", "--at", "2023-09-30"])
        .assert()
        .code(2);
}

/// Regressions: a repeated `--at` was scored twice ("Over 3 origin(s)" for
/// two dates), weighing double in the pooled scores; and `--every 0m` was
/// refused only after every return had been read (its skipped rows printed
/// first). Both are usage errors found before any data are read.
#[test]
fn a_repeated_origin_or_a_bad_step_is_refused_before_the_data_are_read() {
    // Returns with a row skipped: reading them prints a `skipped:` line.
    let dir = tempfile::tempdir().unwrap();
    let child = "A1,1,15/06/2010,WBRI,,,\n";
    write_year(
        dir.path(),
        2022,
        child,
        "A1,01/09/2021,S,C2,N1,U4,PR1,,,,,,\nA2,01/09/2021,S,C2,N1,QQ,PR1,,,,,,\n",
    );
    write_year(
        dir.path(),
        2023,
        child,
        "A1,01/09/2021,S,C2,N1,U4,PR1,,,,,,\n",
    );
    let backtest = |args: &[&str]| {
        let out = carecast()
            .args(["backtest", "--ssda903"])
            .arg(dir.path())
            .args(args)
            .args(["--runs", "10"])
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).to_string(),
        )
    };
    for (args, words) in [
        (
            &[
                "--at",
                "2022-03-31",
                "--at",
                "2021-03-31",
                "--at",
                "2021-03-31",
            ][..],
            &[
                "--at 2021-03-31 is given twice",
                "2021-04-01",
                "give each origin once",
            ][..],
        ),
        (
            &["--at", "2021-03-31", "--at", "2021-04"][..],
            &[
                "--at 2021-03-31 and --at 2021-04 are the same origin",
                "2021-04-01",
            ][..],
        ),
        (
            &["--at", "2022-03-31", "--every", "0m"][..],
            &["--every \"0m\""][..],
        ),
        (
            &["--at", "2022-03-31", "--every", "6x"][..],
            &["--every \"6x\""][..],
        ),
    ] {
        let (code, e) = backtest(args);
        assert_eq!(code, Some(2), "{args:?}: {e}");
        assert!(
            e.starts_with("error: ") && !e.contains("skipped:"),
            "{args:?}: {e}"
        );
        for w in words {
            assert!(e.contains(w), "{args:?}: {w:?} in {e}");
        }
    }
    // With good flags the same returns are read, and the row skipped said.
    let (code, e) = backtest(&["--at", "2022-03-31", "--every", "6m", "--horizon", "3"]);
    assert_eq!(code, Some(0), "{e}");
    assert!(
        e.contains("skipped:") && e.contains("unknown PLACE code \"QQ\""),
        "{e}"
    );
}

#[test]
fn the_generator_makes_trends_and_re_entries_that_calibration_sees() {
    // Entries growing 10% a year: the trend fitted on all the returns
    // (with its quasi-Poisson interval) covers it.
    let mut truth = Truth::realistic(1.0);
    truth.trend = 0.10;
    let at = day(2024, 4, 1);
    let mut covered = 0;
    let mut fits = Vec::new();
    for seed in 1..=5u64 {
        let dir = tempfile::tempdir().unwrap();
        let council = synthetic::council(&truth, dir.path(), 2019, 2024, 900 + seed);
        let prep = prepared(dir.path());
        let tr = estimates(&prep, at, 24).trend.unwrap();
        covered += (tr.low <= 0.10 && 0.10 <= tr.high) as usize;
        fits.push((tr.annual, tr.low, tr.high, tr.shrunk));
        // Re-entries: children with a second period that starts with RNE S.
        let mut starts = std::collections::HashMap::new();
        for e in council
            .episodes
            .iter()
            .filter(|e| e.rne == "S" && e.ls != "V3")
        {
            *starts.entry(e.child).or_insert(0) += 1;
        }
        let again = starts.values().filter(|n| **n > 1).count();
        assert!(again > 50, "seed {seed}: {again} children came back");
        // … and the returns show them: children with two periods of care.
        let mut periods = std::collections::HashMap::new();
        for e in prep.data.episodes.iter().filter(|e| e.reason_new == "S") {
            *periods.entry(e.child.as_str()).or_insert(0) += 1;
        }
        let back = periods.values().filter(|n| **n > 1).count();
        assert!(
            back > 20,
            "seed {seed}: {back} children with two periods in the returns"
        );
    }
    // 5 intervals of nominal 95%: at least 4 should cover (P(fewer) ≈ 2%).
    assert!(covered >= 4, "{fits:?}");
}

#[test]
fn a_year_missing_between_returns_is_an_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    for year in [2020, 2021, 2023] {
        write_year(
            dir.path(),
            year,
            "A1,1,15/06/2010,WBRI,,,\n",
            "A1,01/09/2019,S,C2,N1,U4,PR1,,,,,,\n",
        );
    }
    let e = ssda903::read_dir(dir.path(), &ReadOptions::default()).unwrap_err();
    assert_eq!(e.exit_code(), 2);
    let text = e.to_string();
    assert!(
        text.contains("no folder for 2021-22") && text.contains("2019-20 to 2022-23"),
        "{text}"
    );
    // Two years missing are both named; the command exits with status 2.
    std::fs::remove_dir_all(dir.path().join("2021")).unwrap();
    let (code, _, err) = calibrate_at(dir.path(), "2023-03-31");
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("2020-21, 2021-22"), "{err}");
}

#[test]
fn a_quoted_field_running_past_the_line_end_is_an_error_naming_file_and_row() {
    let dir = tempfile::tempdir().unwrap();
    // A stray quote in the last column of row 3: read as CSV, the quoted
    // field would swallow every row after it.
    write_year(
        dir.path(),
        2023,
        "A1,1,15/06/2010,WBRI,,,\nA2,1,15/06/2011,WBRI,,,\nA3,1,15/06/2012,WBRI,,,\n",
        "A1,01/09/2022,S,C2,N1,U4,PR1,,,,,,\n\
         A2,01/09/2022,S,C2,N1,U4,PR1,,,,,,\"SC1\n\
         A3,01/09/2022,S,C2,N1,U4,PR1,,,,,,\n",
    );
    let e = ssda903::read_dir(dir.path(), &ReadOptions::default()).unwrap_err();
    assert_eq!(e.exit_code(), 2);
    let text = e.to_string();
    assert!(
        text.contains("episodes.csv") && text.contains("row 3") && text.contains("quote"),
        "{text}"
    );
    // Quoted fields on one line are read as usual.
    write_year(
        dir.path(),
        2023,
        "\"A1\",1,15/06/2010,WBRI,,,\n",
        "\"A1\",\"01/09/2022\",S,C2,N1,U4,PR1,,,,,,\"SC1, SC2\"\n",
    );
    let data = ssda903::read_dir(dir.path(), &ReadOptions::default()).unwrap();
    assert_eq!(data.episodes.len(), 1);
}

/// Episodes rows for `n` children A0.. starting on `decom` (a date text).
fn rows_of(n: usize, decom: impl Fn(usize) -> String) -> (String, String) {
    let mut header = String::new();
    let mut episodes = String::new();
    for i in 0..n {
        header.push_str(&format!("A{i},1,15/06/2010,WBRI,,,\n"));
        episodes.push_str(&format!("A{i},{},S,C2,N1,U4,PR1,,,,,,\n", decom(i)));
    }
    (header, episodes)
}

#[test]
fn a_table_with_dates_month_first_is_an_error_naming_file_and_a_row() {
    let dir = tempfile::tempdir().unwrap();
    // 100 episodes starting in 2022-23, written mm/dd/yyyy: those with a
    // day above 12 fail, the others would be read with day and month
    // swapped.
    let (header, episodes) = rows_of(100, |i| {
        let (m, d) = [(4, 2), (9, 20), (1, 15), (11, 3)][i % 4];
        format!("{m:02}/{d:02}/{}", if m < 4 { 2023 } else { 2022 })
    });
    write_year(dir.path(), 2023, &header, &episodes);
    let e = ssda903::read_dir(dir.path(), &ReadOptions::default()).unwrap_err();
    assert_eq!(e.exit_code(), 2);
    let text = e.to_string();
    assert!(
        text.contains("episodes.csv")
            && text.contains("month first (mm/dd/yyyy)")
            && text.contains("row 3: \"09/20/2022\""),
        "{text}"
    );
    let (code, _, err) = calibrate_at(dir.path(), "2023-03-31");
    assert_eq!(code, 2, "{err}");
    // One such date among a hundred is a typo: skipped, not refused.
    let (header, episodes) = rows_of(100, |i| {
        if i == 7 {
            "09/20/2022".into()
        } else {
            "20/09/2022".into()
        }
    });
    write_year(dir.path(), 2023, &header, &episodes);
    let data = ssda903::read_dir(dir.path(), &ReadOptions::default()).unwrap();
    assert_eq!(data.episodes.len(), 99);
    assert_eq!(data.problems.len(), 1);
}

#[test]
fn a_table_with_more_than_five_percent_of_its_rows_skipped_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    // 200 rows, 11 with an unknown placement code: 5.5% skipped.
    let (header, mut episodes) = rows_of(189, |_| "20/09/2022".into());
    for i in 0..11 {
        episodes.push_str(&format!("B{i},20/09/2022,S,C2,N1,X9,PR1,,,,,,\n"));
    }
    write_year(dir.path(), 2023, &header, &episodes);
    let e = ssda903::read_dir(dir.path(), &ReadOptions::default()).unwrap_err();
    assert_eq!(e.exit_code(), 2);
    let text = e.to_string();
    assert!(
        text.contains("episodes.csv")
            && text.contains("11 of the 200 rows")
            && text.contains("5%")
            && text.contains("unknown PLACE code"),
        "{text}"
    );
    // 10 of 200 (5%) are skipped and reported, the table read.
    let (header, mut episodes) = rows_of(190, |_| "20/09/2022".into());
    for i in 0..10 {
        episodes.push_str(&format!("B{i},20/09/2022,S,C2,N1,X9,PR1,,,,,,\n"));
    }
    write_year(dir.path(), 2023, &header, &episodes);
    let data = ssda903::read_dir(dir.path(), &ReadOptions::default()).unwrap();
    assert_eq!(data.episodes.len(), 190);
    assert_eq!(data.problems.len(), 10);
}

#[test]
fn a_decom_corrected_in_a_later_return_replaces_the_earlier_copy() {
    let dir = tempfile::tempdir().unwrap();
    // Open at the end of 2021-22; the 2022-23 return moves its DECOM two
    // days later and closes it. A2's episode is the same in both.
    write_year(
        dir.path(),
        2022,
        "A1,1,15/06/2010,WBRI,,,\nA2,1,15/06/2011,WBRI,,,\n",
        "A1,01/09/2021,S,C2,N1,U4,PR1,,,,,,\nA2,01/10/2021,S,C2,N1,U4,PR1,,,,,,\n",
    );
    write_year(
        dir.path(),
        2023,
        "A1,1,15/06/2010,WBRI,,,\nA2,1,15/06/2011,WBRI,,,\n",
        "A1,03/09/2021,S,C2,N1,U4,PR1,10/10/2022,E11,,,,\nA2,01/10/2021,S,C2,N1,U4,PR1,,,,,,\n",
    );
    let data = ssda903::read_dir(dir.path(), &ReadOptions::default()).unwrap();
    assert_eq!(data.corrected, 1);
    assert_eq!(data.episodes.len(), 2);
    let a1 = &data.episodes[0];
    assert_eq!(
        (a1.start, a1.end),
        (day(2021, 9, 3), Some(day(2022, 10, 10)))
    );
    // The stale copy is reported where it was read.
    assert_eq!(data.problems.len(), 1, "{:?}", data.problems);
    let p = &data.problems[0];
    assert!(p.file.ends_with("2022/episodes.csv") && p.row == 2, "{p:?}");
    assert!(
        p.reason
            .contains("is replaced by the episode starting 2021-09-03"),
        "{p:?}"
    );
    // Both children are in the stock at 1 April 2022, A1 exits once.
    let prep = calibrate::prepare(data, None).unwrap();
    let est = estimates(&prep, day(2022, 4, 1), 12);
    assert_eq!(est.stock_by_band().iter().flatten().sum::<u32>(), 2);
    let est = estimates(&prep, day(2023, 4, 1), 12);
    let exits: f64 = est.exits.iter().flatten().map(|r| r.events).sum();
    assert_eq!(exits, 1.0);
}

#[test]
fn a_move_recorded_late_in_a_later_return_ends_the_earlier_episode_there() {
    let dir = tempfile::tempdir().unwrap();
    // 2021-22 leaves A1 open in U4 since June; 2022-23 does not send that
    // episode again but gives a move to U1 in February 2022, within the
    // earlier return's year. The time in U4 before the move is kept.
    write_year(
        dir.path(),
        2022,
        "A1,1,15/06/2010,WBRI,,,\n",
        "A1,01/06/2021,S,C2,N1,U4,PR1,,,,,,\n",
    );
    write_year(
        dir.path(),
        2023,
        "A1,1,15/06/2010,WBRI,,,\n",
        "A1,01/02/2022,P,C2,N1,U1,PR1,,,,,,\n",
    );
    let data = ssda903::read_dir(dir.path(), &ReadOptions::default()).unwrap();
    assert_eq!(data.corrected, 1);
    assert!(data.problems.is_empty(), "{:?}", data.problems);
    let spans: Vec<(Day, Option<Day>)> = data.episodes.iter().map(|e| (e.start, e.end)).collect();
    assert_eq!(
        spans,
        vec![
            (day(2021, 6, 1), Some(day(2022, 2, 1))),
            (day(2022, 2, 1), None)
        ]
    );
}

#[test]
fn a_decom_corrected_earlier_in_a_later_return_ends_the_episode_before_it_there() {
    let dir = tempfile::tempdir().unwrap();
    // 2021-22: a closed episode, then one open at the year end starting
    // the day the first ends. 2022-23 moves the second's DECOM two days
    // earlier (the first, closed, is not sent again).
    write_year(
        dir.path(),
        2022,
        "A1,1,15/06/2010,WBRI,,,\n",
        "A1,01/06/2021,S,C2,N1,U4,PR1,10/02/2022,X1,,,,\n\
         A1,10/02/2022,P,C2,N1,U1,PR1,,,,,,\n",
    );
    write_year(
        dir.path(),
        2023,
        "A1,1,15/06/2010,WBRI,,,\n",
        "A1,08/02/2022,P,C2,N1,U1,PR1,,,,,,\n",
    );
    let data = ssda903::read_dir(dir.path(), &ReadOptions::default()).unwrap();
    let spans: Vec<(Day, Option<Day>)> = data.episodes.iter().map(|e| (e.start, e.end)).collect();
    assert_eq!(
        spans,
        [
            (day(2021, 6, 1), Some(day(2022, 2, 8))),
            (day(2022, 2, 8), None)
        ],
        "{:?}",
        data.problems
    );
    assert_eq!(data.episodes[1].return_end, day(2023, 3, 31));
    assert_eq!(data.corrected, 1);
    assert_eq!(data.problems.len(), 1, "{:?}", data.problems);
}

#[test]
fn a_short_row_says_how_many_fields_it_has_and_a_header_without_rows_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    write_year(
        dir.path(),
        2023,
        "A1,1,15/06/2010,WBRI,,,\nA2,1\nA3,2,03/02/2012,WBRI,,,\n",
        "A1,01/09/2022,S\nA1,01/10/2022,S,C2,N1,U4,PR1,,\nA3,01/11/2022,S,C2,N1,U4,PR1\n",
    );
    let data = ssda903::read_dir(dir.path(), &ReadOptions::default()).unwrap();
    let reasons: Vec<String> = data
        .problems
        .iter()
        .map(|p| format!("{}:{}: {}", p.file.display(), p.row, p.reason))
        .collect();
    assert!(
        reasons
            .iter()
            .any(|r| r.contains("episodes.csv:2: the row has 3 fields, expected 13")),
        "{reasons:#?}"
    );
    assert!(
        reasons
            .iter()
            .any(|r| r.contains("header.csv:3: the row has 2 fields, expected 7")),
        "{reasons:#?}"
    );
    // Rows missing only fields after the columns read, or optional ones
    // (an open episode exported without its trailing empty DEC, REC, ...),
    // are read.
    assert_eq!(data.episodes.len(), 2);
    // A header table with its column names only.
    write_year(dir.path(), 2023, "", "A1,01/10/2022,S,C2,N1,U4,PR1,,,,,,\n");
    let e = ssda903::read_dir(dir.path(), &ReadOptions::default()).unwrap_err();
    assert_eq!(e.exit_code(), 2);
    let text = e.to_string();
    assert!(
        text.contains("header.csv") && text.contains("lists no children"),
        "{text}"
    );
}

#[test]
fn two_dates_of_birth_for_one_child_give_a_warning_naming_child_and_files() {
    let dir = tempfile::tempdir().unwrap();
    write_year(
        dir.path(),
        2022,
        "A1,1,15/06/2010,WBRI,,,\n",
        "A1,01/09/2021,S,C2,N1,U4,PR1,,,,,,\n",
    );
    write_year(
        dir.path(),
        2023,
        "A1,1,16/06/2010,WBRI,,,\n",
        "A1,01/09/2021,S,C2,N1,U4,PR1,,,,,,\n",
    );
    let data = ssda903::read_dir(dir.path(), &ReadOptions::default()).unwrap();
    assert_eq!(data.dob["A1"], day(2010, 6, 16));
    assert_eq!(data.warnings.len(), 1, "{:?}", data.warnings);
    let w = &data.warnings[0];
    assert!(
        w.contains("child A1 has two dates of birth: 2010-06-15 in ")
            && w.contains("2022/header.csv:2")
            && w.contains("2023/header.csv:2"),
        "{w}"
    );
    let (code, _, err) = calibrate_at(dir.path(), "2023-03-31");
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("warning: child A1 has two dates of birth"),
        "{err}"
    );
}
