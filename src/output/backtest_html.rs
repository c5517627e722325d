//! The backtest's section of an HTML report: how well carecast would have
//! forecast the past, at each origin and over all of them.
//!
//! [`section`] renders the scores as a `<section>` any report can embed:
//! per series (the total, each placement type, each age band) the share of
//! observed month-end counts inside P5–P95 and P25–P75, the bias (mean of
//! simulated mean − observed) and the CRPS; then the total origin by origin.
//! [`page`] wraps it in a self-contained page (`carecast backtest --html`).

use std::fmt::Write as _;

use crate::backtest::Rolling;
use crate::score::Score;

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn row(name: &str, months: usize, s: &Score) -> String {
    format!(
        "<tr><th scope=\"row\">{}</th><td>{months}</td><td>{:.0}%</td><td>{:.0}%</td><td>{:+.2}</td><td>{}</td><td>{:.2}</td></tr>\n",
        escape(name),
        100.0 * s.coverage_90,
        100.0 * s.coverage_50,
        s.mean_error,
        s.crps.map_or("–".to_string(), |c| format!("{c:.2}")),
        s.pinball
    )
}

const HEAD: &str = "<thead><tr><th scope=\"col\"></th><th scope=\"col\">Points</th><th scope=\"col\">In P5–P95</th><th scope=\"col\">In P25–P75</th><th scope=\"col\">Bias</th><th scope=\"col\">CRPS</th><th scope=\"col\">Pinball</th></tr></thead>\n";

/// The backtest section: the scores of each series over all origins, then
/// the total at each origin.
pub fn section(r: &Rolling) -> String {
    let mut h = String::from("<section class=\"backtest\">\n<h2>Backtest</h2>\n");
    let dates: Vec<String> = r.origins.iter().map(|(at, _)| at.to_string()).collect();
    let _ = writeln!(
        h,
        "<p>Calibrated on the data before each of {} origin(s) ({}) and compared with the month-end counts the data show after it. \
         Of a well-calibrated forecast about 90% of counts fall inside P5–P95 and 50% inside P25–P75. \
         Bias is the mean of the simulated mean minus the observed count; CRPS (continuous ranked probability score) and pinball loss are in children, lower is better.</p>",
        r.origins.len(),
        escape(&dates.join(", "))
    );
    h.push_str("<table>\n<caption>By series, over all origins</caption>\n");
    h.push_str(HEAD);
    h.push_str("<tbody>\n");
    for s in r.all.iter().chain(&r.series) {
        h.push_str(&row(&s.series, s.months, s));
    }
    h.push_str("</tbody>\n</table>\n");
    if r.origins.len() > 1 {
        h.push_str("<table>\n<caption>The total, origin by origin</caption>\n");
        h.push_str(&HEAD.replace("<th scope=\"col\"></th>", "<th scope=\"col\">Origin</th>"));
        h.push_str("<tbody>\n");
        for (at, b) in &r.origins {
            if let Some(s) = b.series.iter().find(|s| s.series == "total") {
                h.push_str(&row(&at.to_string(), b.months, s));
            }
        }
        h.push_str("</tbody>\n</table>\n");
    }
    h.push_str("</section>\n");
    h
}

/// A self-contained page holding the backtest section.
pub fn page(r: &Rolling, runs: u64, seed: u64) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>carecast backtest</title>\n<style>\n\
         body{{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#222}}\n\
         table{{border-collapse:collapse;margin:1rem 0}}th,td{{padding:.25rem .6rem;border-bottom:1px solid #ddd;text-align:right}}\n\
         th[scope=row]{{text-align:left}}caption{{text-align:left;font-weight:600;margin-bottom:.3rem}}\n\
         </style>\n</head>\n<body>\n<h1>carecast backtest</h1>\n<p>{runs} runs per origin, seed {seed}.</p>\n{}</body>\n</html>\n",
        section(r)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backtest::Backtest;
    use crate::calibrate::date::Day;

    fn score(series: &str) -> Score {
        Score {
            series: series.into(),
            months: 12,
            coverage_90: 0.9167,
            coverage_50: 0.5,
            mean_error: -1.25,
            mean_absolute_error: 3.0,
            pinball: 1.1,
            crps: Some(2.345),
        }
    }

    #[test]
    fn the_section_shows_each_series_and_each_origin() {
        let b = |s: &str| Backtest {
            config_text: String::new(),
            months: 12,
            points: Vec::new(),
            all: Some(score("all")),
            series: vec![score("total"), score(s)],
        };
        let r = Rolling {
            origins: vec![
                (Day::from_ymd(2021, 4, 1).unwrap(), b("placement:ifa")),
                (Day::from_ymd(2021, 10, 1).unwrap(), b("band:<16>")),
            ],
            all: Some(score("all")),
            series: vec![score("total"), score("placement:ifa"), score("band:<16>")],
        };
        let h = section(&r);
        assert!(h.contains("2 origin(s) (2021-04-01, 2021-10-01)"));
        assert!(h.contains(
            "<th scope=\"row\">placement:ifa</th><td>12</td><td>92%</td><td>50%</td><td>-1.25</td><td>2.35</td><td>1.10</td>"
        ));
        assert!(h.contains("band:&lt;16&gt;") && !h.contains("<16>"));
        assert_eq!(h.matches("<th scope=\"row\">2021-").count(), 2);
        let p = page(&r, 500, 7);
        assert!(p.starts_with("<!DOCTYPE html>") && p.contains("500 runs per origin, seed 7"));
        assert!(!p.contains("http"), "self-contained");
    }
}
