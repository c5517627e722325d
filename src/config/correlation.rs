//! `[[correlation]]`: rank correlations between uncertain inputs, checked
//! and turned into the copula that draws them (see [`crate::model::copula`]).

use crate::config::raw::RawCorrelation;
use crate::config::validate::{Result, err};
use crate::model::copula::Copula;
use crate::model::strategy::Strategy;
use crate::model::{Param, ParamId};

/// The copula of the inputs named in `raw`, or `None` when there are no
/// correlations. In a `scenario`, a pair whose input the scenario removed
/// or made a fixed number is left out (the base, checked strictly, had it).
pub(super) fn build(
    raw: &[RawCorrelation],
    params: &[Param],
    strategy: &Strategy,
    scenario: bool,
) -> Result<Option<Copula>> {
    if raw.is_empty() {
        return Ok(None);
    }
    let mut members: Vec<ParamId> = Vec::new();
    let mut requested: Vec<(usize, usize, f64)> = Vec::new();
    for (i, c) in raw.iter().enumerate() {
        let path = format!("correlation[{i}]");
        if c.inputs.len() != 2 {
            return err(
                format!("{path}.inputs"),
                format!(
                    "name exactly two inputs by their config paths, got {}",
                    c.inputs.len()
                ),
            );
        }
        let r = c.rank.0;
        if !(r.is_finite() && (-1.0..=1.0).contains(&r)) {
            return err(
                format!("{path}.rank"),
                format!("a rank correlation must lie between -1 and 1, got {r}"),
            );
        }
        if scenario
            && c.inputs.iter().any(|name| {
                params
                    .iter()
                    .find(|p| &p.path == name)
                    .is_none_or(|p| p.dist.is_fixed())
            })
        {
            continue;
        }
        let mut pair = [0usize; 2];
        for (k, name) in c.inputs.iter().enumerate() {
            let id = input(name, params, strategy, &format!("{path}.inputs[{k}]"))?;
            pair[k] = match members.iter().position(|m| *m == id) {
                Some(m) => m,
                None => {
                    members.push(id);
                    members.len() - 1
                }
            };
        }
        if pair[0] == pair[1] {
            return err(
                format!("{path}.inputs"),
                format!(
                    "names `{}` twice; a correlation is between two inputs",
                    c.inputs[0]
                ),
            );
        }
        let (a, b) = (pair[0].min(pair[1]), pair[0].max(pair[1]));
        if let Some(j) = requested.iter().position(|&(x, y, _)| (x, y) == (a, b)) {
            return err(
                format!("{path}.inputs"),
                format!("the pair is already correlated in correlation[{j}]"),
            );
        }
        requested.push((a, b, r));
    }
    if requested.is_empty() {
        return Ok(None);
    }
    let names: Vec<String> = members.iter().map(|id| params[id.0].path.clone()).collect();
    Copula::new(members, requested.clone()).map(Some).map_err(|e| {
        let (a, b) = (e.pair.0.min(e.pair.1), e.pair.0.max(e.pair.1));
        let at = requested
            .iter()
            .position(|&(x, y, _)| (x, y) == (a, b))
            .map_or("correlation".to_string(), |i| format!("correlation[{i}]"));
        crate::error::FieldError::new(
            at,
            format!(
                "these rank correlations cannot hold together (their matrix is not positive \
                 semi-definite): with the others given, `{}` and `{}` cannot be correlated as asked",
                names[a], names[b]
            ),
        )
    })
}

/// The parameter a correlation names, which must be an input drawn once
/// per run from a distribution.
fn input(name: &str, params: &[Param], strategy: &Strategy, path: &str) -> Result<ParamId> {
    let is_shock_size = |i: usize| strategy.shocks.iter().any(|s| s.children.0 == i);
    let Some(i) = params.iter().position(|p| p.path == name) else {
        // Only distributions drawn once a run can be correlated: not a
        // shock's size, and not the chance events (a programme delivered, a
        // saving slipping, a shock happening), which are not distributions.
        let correlatable: Vec<&str> = params
            .iter()
            .enumerate()
            .filter(|&(k, p)| !p.dist.is_fixed() && !is_shock_size(k))
            .map(|(_, p)| p.path.as_str())
            .collect();
        let chance = [
            ".delivery_probability",
            ".slip_probability",
            ".probability_per_year",
            ".probability",
        ];
        let why = if chance.iter().any(|c| name.ends_with(c)) {
            format!(
                "`{name}` is a chance event (it happens in a run or not), not a distribution, \
                 and cannot be correlated"
            )
        } else {
            format!("no input has the path `{name}`")
        };
        return err(
            path,
            format!(
                "{why}; the inputs of this config that can be correlated are: {}",
                if correlatable.is_empty() {
                    "none".to_string()
                } else {
                    correlatable.join(", ")
                }
            ),
        );
    };
    if params[i].dist.is_fixed() {
        return err(
            path,
            format!(
                "`{name}` is a fixed number; only inputs given as distributions can be correlated"
            ),
        );
    }
    if is_shock_size(i) {
        return err(
            path,
            format!(
                "`{name}` is a shock's size, drawn afresh each time the shock happens; it cannot be correlated"
            ),
        );
    }
    Ok(ParamId(i))
}
