//! `--csv`: the report in tidy long form, one value per row:
//! `scenario,fy,month,metric,component,stat,value`.
//!
//! Beside each statistic's `mean`, `sd` and percentiles, the Monte Carlo
//! error has rows of its own (stats `mean_se`, `p5_lo`, `p5_hi`, … `p95_hi`,
//! `probability_lo`, `probability_hi` for the overspend, and `_lo`/`_hi` of
//! the differences' probabilities), named as the JSON keys are; a central
//! projection has none.

use std::fmt::Write;

use crate::report::Report;
use crate::stats::{Overspend, Summary};

pub const HEADER: &str = "scenario,fy,month,metric,component,stat,value";

struct Rows {
    out: String,
}

/// Which figure a row holds: everything but the statistic and its value.
#[derive(Clone, Copy)]
struct Key<'a> {
    scenario: &'a str,
    fy: &'a str,
    month: &'a str,
    metric: &'a str,
    component: &'a str,
}

impl<'a> Key<'a> {
    fn year(scenario: &'a str, fy: &'a str, metric: &'a str) -> Key<'a> {
        Key {
            scenario,
            fy,
            month: "",
            metric,
            component: "",
        }
    }
    fn month(scenario: &'a str, month: &'a str, metric: &'a str) -> Key<'a> {
        Key {
            scenario,
            fy: "",
            month,
            metric,
            component: "",
        }
    }
    fn of(self, component: &'a str) -> Key<'a> {
        Key { component, ..self }
    }
}

impl Rows {
    fn value(&mut self, key: Key, stat: &str, value: f64) {
        let _ = writeln!(
            self.out,
            "{},{},{},{},{},{},{}",
            field(key.scenario),
            field(key.fy),
            key.month,
            key.metric,
            field(key.component),
            stat,
            value
        );
    }

    /// A row only when there is a value (Monte Carlo error, absent for one run).
    fn optional(&mut self, key: Key, stat: &str, value: Option<f64>) {
        if let Some(v) = value {
            self.value(key, stat, v);
        }
    }

    /// Every figure of an overspend, as the JSON has them.
    fn overspend(&mut self, key: Key, o: &Overspend) {
        self.value(key, "probability", o.probability);
        self.value(key, "mean", o.mean);
        self.optional(key, "mean_if_overspent", o.mean_if_overspent);
        self.value(key, "tolerance", o.tolerance);
        for (stat, v) in [
            ("probability_lo", o.probability_lo),
            ("probability_hi", o.probability_hi),
            ("mean_se", o.mean_se),
            ("p95", o.p95),
            ("p99", o.p99),
            ("expected_shortfall", o.expected_shortfall),
            ("sketch_error", o.sketch_error),
        ] {
            self.optional(key, stat, v);
        }
    }

    fn summary(&mut self, key: Key, s: &Summary) {
        for (stat, v) in s.fields() {
            self.value(key, stat, v);
        }
        // Monte Carlo error, when there is more than one run.
        for (stat, v) in s.error_fields() {
            self.value(key, stat, v);
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
    let mut rows = Rows {
        out: format!("{HEADER}\n"),
    };
    for sc in &report.scenarios {
        let id = sc.id.as_str();
        for y in &sc.years {
            let fy = y.fy.as_str();
            let year = |metric| Key::year(id, fy, metric);
            if let Some(b) = y.budget {
                rows.value(year("budget"), "value", b);
            }
            rows.summary(year("cost"), &y.cost);
            if let Some(o) = &y.overspend {
                rows.overspend(year("overspend"), o);
            }
            rows.summary(year("lac_end"), &y.lac_end);
            rows.summary(year("entries"), &y.entries);
            rows.summary(year("exits"), &y.exits);
            rows.summary(year("left_at_18"), &y.left_at_18);
            for (name, s) in &y.prevented {
                rows.summary(year("prevented").of(name), s);
            }
            for (name, s) in &y.components {
                rows.summary(year("component").of(name), s);
            }
            rows.summary(year("grant_funded"), &y.grant_funded.total);
            for (name, s) in &y.grant_funded.items {
                rows.summary(year("grant_funded").of(name), s);
            }
            for (name, iv) in &y.interventions {
                rows.value(
                    year("intervention_delivered").of(name),
                    "value",
                    iv.delivered,
                );
                rows.summary(year("intervention_children").of(name), &iv.children);
                rows.summary(year("intervention_cost").of(name), &iv.cost);
            }
            for (name, s) in &y.shocks {
                rows.summary(year("shock_entries").of(name), s);
            }
            finance_rows(&mut rows, id, y);
        }
        for (name, i) in &sc.initiatives {
            let key = |metric| Key::year(id, "horizon", metric).of(name);
            rows.summary(key("cost_avoided"), &i.cost_avoided);
            rows.summary(key("net_effect"), &i.net_effect);
            rows.value(key("net_effect"), "probability_pays", i.probability_pays);
        }
        for c in &sc.contributions {
            let years = sc.years.iter().map(|y| y.fy.as_str()).chain(["horizon"]);
            for (fy, share) in years.zip(c.years.iter().chain([&c.total])) {
                let key = Key::year(id, fy, "contribution").of(&c.input);
                rows.value(key, "rank_correlation", share.rank_correlation);
                rows.value(key, "share", share.contribution);
            }
        }
        for c in &sc.correlations {
            let pair = format!("{} & {}", c.inputs[0], c.inputs[1]);
            let key = Key::year(id, "horizon", "correlation").of(&pair);
            rows.value(key, "requested", c.requested);
            rows.value(key, "realised", c.realised);
        }
        for m in &sc.months {
            let month = |metric| Key::month(id, &m.month, metric);
            rows.summary(month("lac"), &m.lac);
            for (name, s) in &m.lac_by_placement {
                rows.summary(month("lac_by_placement").of(name), s);
            }
            for (name, s) in &m.lac_by_band {
                rows.summary(month("lac_by_band").of(name), s);
            }
            for (name, s) in &m.lac_by_cohort {
                rows.summary(month("lac_by_cohort").of(name), s);
            }
        }
    }
    // Scores against the config's [history]: metric `history`, the series
    // as component, and one row per measure.
    for sc in &report.scenarios {
        let Some(h) = &sc.history else { continue };
        for score in h.all.iter().chain(&h.series) {
            let key = || Key::year(&sc.id, "", "history").of(&score.series);
            rows.value(key(), "months", score.months as f64);
            rows.value(key(), "coverage_90", score.coverage_90);
            rows.value(key(), "coverage_50", score.coverage_50);
            rows.value(key(), "mean_error", score.mean_error);
            rows.value(key(), "mean_absolute_error", score.mean_absolute_error);
            rows.value(key(), "pinball", score.pinball);
        }
    }
    for d in &report.differences {
        let pair = format!("{} vs {}", d.to, d.from);
        for y in &d.years {
            let year = |metric| Key::year(&pair, &y.fy, metric);
            rows.summary(year("saving"), &y.saving);
            rows.value(
                year("saving"),
                "probability_positive",
                y.probability_positive,
            );
            rows.optional(
                year("saving"),
                "probability_positive_lo",
                y.probability_positive_lo,
            );
            rows.optional(
                year("saving"),
                "probability_positive_hi",
                y.probability_positive_hi,
            );
            rows.summary(year("saving_including_grants"), &y.saving_including_grants);
            rows.summary(year("lac_end_difference"), &y.lac_end_difference);
        }
        let horizon = |metric| Key::year(&pair, "horizon", metric);
        rows.summary(horizon("saving"), &d.horizon.saving);
        rows.value(
            horizon("saving"),
            "probability_positive",
            d.horizon.probability_positive,
        );
        rows.value(
            horizon("saving"),
            "probability_pays_back",
            d.horizon.probability_pays_back,
        );
        // 1 where `to` adds a strategy to pay back, 0 where the reports say n/a.
        rows.value(
            horizon("saving"),
            "pays_back_applies",
            f64::from(u8::from(d.horizon.pays_back_applies)),
        );
        let h = &d.horizon;
        for (stat, v) in [
            ("probability_positive_lo", h.probability_positive_lo),
            ("probability_positive_hi", h.probability_positive_hi),
            ("probability_pays_back_lo", h.probability_pays_back_lo),
            ("probability_pays_back_hi", h.probability_pays_back_hi),
        ] {
            rows.optional(horizon("saving"), stat, v);
        }
        rows.summary(
            horizon("saving_including_grants"),
            &d.horizon.saving_including_grants,
        );
    }
    rows.out.into_bytes()
}

/// Gross cost, income and net cost, budget lines, funds, staffing and
/// initiatives of one year.
fn finance_rows<'a>(rows: &mut Rows, id: &'a str, y: &'a crate::report::YearReport) {
    let fy = y.fy.as_str();
    let year = |metric| Key::year(id, fy, metric);
    for (metric, s) in [
        ("gross_cost", &y.gross_cost),
        ("income", &y.income),
        ("net_cost", &y.net_cost),
    ] {
        if let Some(s) = s {
            rows.summary(year(metric), s);
        }
    }
    for (name, s) in &y.income_items {
        rows.summary(year("income").of(name), s);
    }
    for (name, l) in &y.budget_lines {
        if let Some(b) = l.budget {
            rows.value(year("line_budget").of(name), "value", b);
        }
        rows.summary(year("line_cost").of(name), &l.cost);
        if let Some(o) = &l.overspend {
            rows.overspend(year("line_overspend").of(name), o);
        }
    }
    for (name, f) in &y.funds {
        if let Some(a) = f.amount {
            rows.value(year("fund_amount").of(name), "value", a);
        }
        rows.summary(year("fund_spent").of(name), &f.spent);
        rows.summary(year("fund_spent_to_date").of(name), &f.spent_to_date);
        if let Some(p) = f.probability_exhausted {
            rows.value(year("fund_exhausted").of(name), "probability", p);
        }
        if let Some(m) = f.mean_overrun {
            rows.value(year("fund_exhausted").of(name), "mean_overrun", m);
        }
    }
    for (name, s) in &y.staff {
        rows.summary(year("staff_fte").of(name), &s.fte);
        rows.summary(year("staff_agency_fte").of(name), &s.agency_fte);
        rows.summary(year("staff_cost").of(name), &s.cost);
    }
    for (name, c) in &y.cohorts {
        rows.summary(year("cohort_lac_end").of(name), &c.lac_end);
        rows.summary(year("cohort_mean_in_care").of(name), &c.mean_in_care);
        rows.summary(year("cohort_entries").of(name), &c.entries);
        rows.summary(year("cohort_income").of(name), &c.income);
    }
    for (name, i) in &y.initiatives {
        rows.summary(year("cost_avoided").of(name), &i.cost_avoided);
        rows.summary(year("net_effect").of(name), &i.net_effect);
        rows.value(
            year("net_effect").of(name),
            "probability_pays",
            i.probability_pays,
        );
    }
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
