//! `--csv`: the report in tidy long form (SPEC §3.3), one value per row:
//! `scenario,fy,month,metric,component,stat,value`.

use std::fmt::Write;

use crate::report::Report;
use crate::stats::Summary;

pub const HEADER: &str = "scenario,fy,month,metric,component,stat,value";

struct Rows {
    out: String,
}

impl Rows {
    fn value(&mut self, scenario: &str, fy: &str, month: &str, metric: &str, component: &str, stat: &str, value: f64) {
        let _ = writeln!(
            self.out,
            "{},{},{},{},{},{},{}",
            field(scenario),
            field(fy),
            month,
            metric,
            field(component),
            stat,
            value
        );
    }

    fn summary(&mut self, scenario: &str, fy: &str, month: &str, metric: &str, component: &str, s: &Summary) {
        for (stat, v) in s.fields() {
            self.value(scenario, fy, month, metric, component, stat, v);
        }
    }
}

/// Quotes a field when it holds a comma, quote or line break (RFC 4180).
fn field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

pub fn render(report: &Report) -> Vec<u8> {
    let mut rows = Rows { out: format!("{HEADER}\n") };
    for sc in &report.scenarios {
        let id = sc.id.as_str();
        for y in &sc.years {
            let fy = y.fy.as_str();
            rows.value(id, fy, "", "budget", "", "value", y.budget);
            rows.summary(id, fy, "", "cost", "", &y.cost);
            rows.value(id, fy, "", "overspend", "", "probability", y.overspend.probability);
            rows.value(id, fy, "", "overspend", "", "mean", y.overspend.mean);
            if let Some(m) = y.overspend.mean_if_overspent {
                rows.value(id, fy, "", "overspend", "", "mean_if_overspent", m);
            }
            rows.summary(id, fy, "", "lac_end", "", &y.lac_end);
            rows.summary(id, fy, "", "entries", "", &y.entries);
            rows.summary(id, fy, "", "exits", "", &y.exits);
            rows.summary(id, fy, "", "left_at_18", "", &y.left_at_18);
            for (name, s) in &y.prevented {
                rows.summary(id, fy, "", "prevented", name, s);
            }
            for (name, s) in &y.components {
                rows.summary(id, fy, "", "component", name, s);
            }
        }
        for m in &sc.months {
            rows.summary(id, "", &m.month, "lac", "", &m.lac);
            for (name, s) in &m.lac_by_placement {
                rows.summary(id, "", &m.month, "lac_by_placement", name, s);
            }
            for (name, s) in &m.lac_by_band {
                rows.summary(id, "", &m.month, "lac_by_band", name, s);
            }
        }
    }
    rows.out.into_bytes()
}

#[cfg(test)]
mod tests {
    use super::field;

    #[test]
    fn fields_are_quoted_only_when_needed() {
        assert_eq!(field("ifa"), "ifa");
        assert_eq!(field("a,b"), "\"a,b\"");
        assert_eq!(field("say \"hi\""), "\"say \"\"hi\"\"\"");
    }
}
