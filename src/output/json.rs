//! `--json`: the report as one JSON object. Nothing
//! time-dependent is written, so the bytes depend only on config, seed and runs.

use crate::report::Report;

pub fn render(report: &Report) -> Result<Vec<u8>, crate::error::Error> {
    let mut out = serde_json::to_vec_pretty(report).map_err(|e| {
        crate::error::Error::Runtime(format!("cannot write the results as JSON: {e}"))
    })?;
    out.push(b'\n');
    Ok(out)
}
