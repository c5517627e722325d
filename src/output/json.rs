//! `--json`: the report as one JSON object (SPEC §3.2). Nothing
//! time-dependent is written, so the bytes depend only on config, seed and runs.

use crate::report::Report;

pub fn render(report: &Report) -> Vec<u8> {
    let mut out = serde_json::to_vec_pretty(report).unwrap_or_default();
    out.push(b'\n');
    out
}
