//! The distributions an uncertain input can take.
//!
//! A config value that may be uncertain is written either as a number (or an
//! amount such as `"£820"`) or as a table naming a distribution:
//! `{ dist = "pert", min = 700, mode = 820, max = 1100 }`. [`RawDist`] is that
//! text; [`Dist::build`] checks the parameters once, with the field path in
//! every message, and the result samples without further checks.
//!
//! Parameterisations:
//! - `normal` (mean, sd)
//! - `lognormal` (median, p90) with σ = ln(p90/median)/z₀.₉, or (mean, sd) with
//!   σ² = ln(1 + sd²/mean²), μ = ln(mean) − σ²/2
//! - `triangular` and `pert` (min, mode, max; pert takes an optional `shape`, 4 by default)
//! - `uniform` (min, max)
//! - `beta` (mean, sd) with ν = mean(1−mean)/sd² − 1, α = mean·ν, β = (1−mean)·ν; or (alpha, beta)
//! - `gamma` (shape, scale) or (mean, sd)
//! - `poisson` (mean)
//! - `negative_binomial` (mean, size): variance mean + mean²/size
//! - `discrete` (values, weights)

use std::fmt;

use rand::Rng;
use rand_distr::{Beta, Distribution, Gamma, LogNormal, Normal, Pert, Poisson, Triangular};
use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, Visitor};

use crate::config::money::{Number, check_magnitude, check_whole, too_large};
use crate::error::FieldError;

/// z such that Φ(z) = 0.9.
const Z90: f64 = 1.281_551_565_544_600_5;

/// An uncertain input as written in the config.
#[derive(Clone, Debug)]
pub enum RawDist {
    Fixed(f64),
    Spec(Box<RawDistSpec>),
}

/// The table form of an uncertain input.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawDistSpec {
    pub dist: String,
    pub value: Option<Number>,
    pub mean: Option<Number>,
    pub sd: Option<Number>,
    pub median: Option<Number>,
    pub p90: Option<Number>,
    pub min: Option<Number>,
    pub mode: Option<Number>,
    pub max: Option<Number>,
    pub shape: Option<Number>,
    pub scale: Option<Number>,
    pub alpha: Option<Number>,
    pub beta: Option<Number>,
    pub size: Option<Number>,
    pub values: Option<Vec<Number>>,
    pub weights: Option<Vec<Number>>,
}

impl<'de> Deserialize<'de> for RawDist {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = RawDist;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a number, an amount such as \"£820\", or a table such as { dist = \"pert\", min = 700, mode = 820, max = 1100 }")
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<RawDist, E> {
                check_whole(v).map(RawDist::Fixed).map_err(E::custom)
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<RawDist, E> {
                check_whole(v).map(RawDist::Fixed).map_err(E::custom)
            }
            fn visit_i128<E: de::Error>(self, v: i128) -> Result<RawDist, E> {
                check_whole(v).map(RawDist::Fixed).map_err(E::custom)
            }
            fn visit_u128<E: de::Error>(self, v: u128) -> Result<RawDist, E> {
                Err(E::custom(too_large(v)))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<RawDist, E> {
                check_magnitude(v).map(RawDist::Fixed).map_err(E::custom)
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<RawDist, E> {
                let n: Number = Deserialize::deserialize(de::value::StrDeserializer::<E>::new(v))?;
                Ok(RawDist::Fixed(n.0))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<RawDist, A::Error> {
                let spec = RawDistSpec::deserialize(de::value::MapAccessDeserializer::new(map))?;
                Ok(RawDist::Spec(Box::new(spec)))
            }
        }
        d.deserialize_any(V)
    }
}

/// Where a value must lie, checked against the whole support of its distribution.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Domain {
    /// Any real number.
    Any,
    /// ≥ 0 (counts, prices, durations).
    NonNegative,
    /// > 0 (a mean stay, a dispersion).
    Positive,
    /// In [0, 1] (probabilities, shares, success rates).
    Fraction,
    /// > −1 (annual growth and inflation rates).
    Rate,
}

impl Domain {
    fn describe(self) -> &'static str {
        match self {
            Domain::Any => "any number",
            Domain::NonNegative => "a value of 0 or more",
            Domain::Positive => "a value above 0",
            Domain::Fraction => "a fraction between 0 and 1",
            Domain::Rate => "a rate above -1 (e.g. 0.03 for 3%)",
        }
    }

    fn contains(self, lo: f64, hi: f64) -> bool {
        match self {
            Domain::Any => true,
            Domain::NonNegative => lo >= 0.0,
            Domain::Positive => lo > 0.0,
            Domain::Fraction => lo >= 0.0 && hi <= 1.0,
            Domain::Rate => lo > -1.0,
        }
    }

    /// The interval samples are kept in (normal tails only).
    fn clamp(self, x: f64) -> f64 {
        match self {
            Domain::Any => x,
            Domain::NonNegative | Domain::Positive => x.max(0.0),
            Domain::Fraction => x.clamp(0.0, 1.0),
            Domain::Rate => x.max(-0.999_999),
        }
    }
}

/// A validated distribution, ready to sample.
#[derive(Clone, Debug, PartialEq)]
pub struct Dist {
    kind: Kind,
    domain: Domain,
}

#[derive(Clone, Debug, PartialEq)]
enum Kind {
    Fixed(f64),
    Normal {
        mean: f64,
        sd: f64,
        d: Normal<f64>,
    },
    LogNormal {
        mu: f64,
        sigma: f64,
        d: LogNormal<f64>,
    },
    Triangular {
        min: f64,
        mode: f64,
        max: f64,
        d: Triangular<f64>,
    },
    Pert {
        min: f64,
        mode: f64,
        max: f64,
        shape: f64,
        d: Pert<f64>,
    },
    Uniform {
        min: f64,
        max: f64,
    },
    Beta {
        alpha: f64,
        beta: f64,
        d: Beta<f64>,
    },
    Gamma {
        shape: f64,
        scale: f64,
        d: Gamma<f64>,
    },
    Poisson {
        mean: f64,
        d: Option<Poisson<f64>>,
    },
    NegBinomial {
        mean: f64,
        size: f64,
        d: Gamma<f64>,
    },
    Discrete {
        values: Vec<f64>,
        cumulative: Vec<f64>,
    },
}

/// Collects parameter errors for one distribution.
struct Params<'a> {
    spec: &'a RawDistSpec,
    path: &'a str,
}

impl Params<'_> {
    fn err(&self, field: &str, msg: impl fmt::Display) -> FieldError {
        FieldError::new(format!("{}.{field}", self.path), msg.to_string())
    }

    fn get(&self, field: &str, v: Option<Number>) -> Result<f64, FieldError> {
        let kind = &self.spec.dist;
        let n = v.ok_or_else(|| {
            FieldError::new(self.path, format!("a {kind} distribution needs `{field}`"))
        })?;
        if !n.0.is_finite() {
            return Err(self.err(field, format!("{} is not a finite number", n.0)));
        }
        Ok(n.0)
    }

    /// Rejects parameters that the chosen distribution does not take, so a
    /// misspelt parameterisation is not silently ignored.
    fn only(&self, allowed: &[&str]) -> Result<(), FieldError> {
        self.only_of(allowed, &[])
    }

    /// [`Params::only`] for a family written in two forms: `allowed` is the
    /// form chosen, `other` the one not chosen, which the message names too.
    fn only_of(&self, allowed: &[&str], other: &[&str]) -> Result<(), FieldError> {
        let s = self.spec;
        let given = [
            ("value", s.value.is_some()),
            ("mean", s.mean.is_some()),
            ("sd", s.sd.is_some()),
            ("median", s.median.is_some()),
            ("p90", s.p90.is_some()),
            ("min", s.min.is_some()),
            ("mode", s.mode.is_some()),
            ("max", s.max.is_some()),
            ("shape", s.shape.is_some()),
            ("scale", s.scale.is_some()),
            ("alpha", s.alpha.is_some()),
            ("beta", s.beta.is_some()),
            ("size", s.size.is_some()),
            ("values", s.values.is_some()),
            ("weights", s.weights.is_some()),
        ];
        for (name, present) in given {
            if present && !allowed.contains(&name) {
                return Err(self.err(
                    name,
                    if other.is_empty() {
                        format!(
                            "a {} distribution does not take `{name}` (it takes {})",
                            s.dist,
                            allowed.join(", ")
                        )
                    } else {
                        format!(
                            "a {} distribution does not take `{name}` with `{}` (it takes {}, \
                             or {}, not a mix of the two)",
                            s.dist,
                            allowed[0],
                            allowed.join(" and "),
                            other.join(" and ")
                        )
                    },
                ));
            }
        }
        Ok(())
    }
}

fn min_mode_max(p: &Params) -> Result<(f64, f64, f64), FieldError> {
    let (min, mode, max) = (
        p.get("min", p.spec.min)?,
        p.get("mode", p.spec.mode)?,
        p.get("max", p.spec.max)?,
    );
    if min > max {
        return Err(p.err("min", format!("min ({min}) is greater than max ({max})")));
    }
    if mode < min || mode > max {
        return Err(p.err(
            "mode",
            format!("mode ({mode}) must lie between min ({min}) and max ({max})"),
        ));
    }
    Ok((min, mode, max))
}

/// Requires `value` (the parameter `field`) to be above 0.
fn above_zero(p: &Params, field: &str, value: f64) -> Result<f64, FieldError> {
    if value <= 0.0 {
        return Err(p.err(field, format!("{field} must be above 0, got {value}")));
    }
    Ok(value)
}

fn positive_sd(p: &Params) -> Result<f64, FieldError> {
    let sd = p.get("sd", p.spec.sd)?;
    if sd < 0.0 {
        return Err(p.err("sd", format!("sd must be 0 or more, got {sd}")));
    }
    Ok(sd)
}

impl Dist {
    /// A constant.
    pub fn fixed(value: f64) -> Dist {
        Dist {
            kind: Kind::Fixed(value),
            domain: Domain::Any,
        }
    }

    /// Validates a written distribution for a field whose values must lie in `domain`.
    pub fn build(raw: &RawDist, domain: Domain, path: &str) -> Result<Dist, FieldError> {
        let kind = match raw {
            RawDist::Fixed(v) => {
                if !v.is_finite() {
                    return Err(FieldError::new(path, format!("{v} is not a finite number")));
                }
                Kind::Fixed(*v)
            }
            RawDist::Spec(spec) => Self::build_kind(spec, path)?,
        };
        let dist = Dist { kind, domain };
        let (lo, hi) = dist.support();
        let unbounded_normal = matches!(dist.kind, Kind::Normal { sd, .. } if sd > 0.0);
        if !unbounded_normal && !domain.contains(lo, hi) {
            let what = match &dist.kind {
                Kind::Fixed(v) => format!("got {v}"),
                _ => format!("this {} distribution ranges over [{lo}, {hi}]", dist.name()),
            };
            return Err(FieldError::new(
                path,
                format!("expected {}; {what}", domain.describe()),
            ));
        }
        // A normal is unbounded; accept it for a bounded field only when the
        // bound is more than four standard deviations away (samples beyond it,
        // with probability under 1 in 30,000, are clamped).
        if let Kind::Normal { mean, sd, .. } = dist.kind {
            let room = match domain {
                Domain::Any => f64::INFINITY,
                Domain::NonNegative | Domain::Positive => mean,
                Domain::Fraction => mean.min(1.0 - mean),
                Domain::Rate => mean + 1.0,
            };
            if room < 4.0 * sd {
                return Err(FieldError::new(
                    path,
                    format!(
                        "expected {}; a normal with mean {mean} and sd {sd} crosses that bound too often \
                         (use a distribution bounded to it: lognormal, gamma, beta, pert, triangular)",
                        domain.describe()
                    ),
                ));
            }
        }
        Ok(dist)
    }

    fn build_kind(spec: &RawDistSpec, path: &str) -> Result<Kind, FieldError> {
        let p = Params { spec, path };
        let s = spec;
        let kind = match s.dist.as_str() {
            "fixed" => {
                p.only(&["value"])?;
                Kind::Fixed(p.get("value", s.value)?)
            }
            "normal" => {
                p.only(&["mean", "sd"])?;
                let mean = p.get("mean", s.mean)?;
                let sd = positive_sd(&p)?;
                Kind::Normal {
                    mean,
                    sd,
                    d: Normal::new(mean, sd).map_err(|e| p.err("sd", e))?,
                }
            }
            "lognormal" => {
                let (mu, sigma) = if s.median.is_some() || s.p90.is_some() {
                    p.only_of(&["median", "p90"], &["mean", "sd"])?;
                    let median = p.get("median", s.median)?;
                    let p90 = p.get("p90", s.p90)?;
                    if median <= 0.0 {
                        return Err(
                            p.err("median", format!("median must be above 0, got {median}"))
                        );
                    }
                    if p90 < median {
                        return Err(p.err(
                            "p90",
                            format!("p90 ({p90}) must be at least the median ({median})"),
                        ));
                    }
                    (median.ln(), (p90 / median).ln() / Z90)
                } else {
                    p.only_of(&["mean", "sd"], &["median", "p90"])?;
                    let mean = p.get("mean", s.mean)?;
                    let sd = positive_sd(&p)?;
                    above_zero(&p, "mean", mean)?;
                    let s2 = (1.0 + (sd / mean).powi(2)).ln();
                    (mean.ln() - s2 / 2.0, s2.sqrt())
                };
                Kind::LogNormal {
                    mu,
                    sigma,
                    d: LogNormal::new(mu, sigma).map_err(|e| FieldError::new(path, e))?,
                }
            }
            "triangular" => {
                p.only(&["min", "mode", "max"])?;
                let (min, mode, max) = min_mode_max(&p)?;
                let d = Triangular::new(min, max, mode).map_err(|e| FieldError::new(path, e))?;
                Kind::Triangular { min, mode, max, d }
            }
            "pert" => {
                p.only(&["min", "mode", "max", "shape"])?;
                let (min, mode, max) = min_mode_max(&p)?;
                let shape = match s.shape {
                    Some(_) => p.get("shape", s.shape)?,
                    None => 4.0,
                };
                above_zero(&p, "shape", shape)?;
                if min == max {
                    Kind::Fixed(min)
                } else {
                    let d = Pert::new(min, max)
                        .with_shape(shape)
                        .with_mode(mode)
                        .map_err(|e| FieldError::new(path, e))?;
                    Kind::Pert {
                        min,
                        mode,
                        max,
                        shape,
                        d,
                    }
                }
            }
            "uniform" => {
                p.only(&["min", "max"])?;
                let (min, max) = (p.get("min", s.min)?, p.get("max", s.max)?);
                if min > max {
                    return Err(p.err("min", format!("min ({min}) is greater than max ({max})")));
                }
                Kind::Uniform { min, max }
            }
            "beta" => {
                let (alpha, beta) = if s.alpha.is_some() || s.beta.is_some() {
                    p.only_of(&["alpha", "beta"], &["mean", "sd"])?;
                    (p.get("alpha", s.alpha)?, p.get("beta", s.beta)?)
                } else {
                    p.only_of(&["mean", "sd"], &["alpha", "beta"])?;
                    let mean = p.get("mean", s.mean)?;
                    let sd = positive_sd(&p)?;
                    if !(mean > 0.0 && mean < 1.0) {
                        return Err(p.err(
                            "mean",
                            format!(
                                "the mean of a beta must be strictly between 0 and 1, got {mean}"
                            ),
                        ));
                    }
                    if sd <= 0.0 || sd * sd >= mean * (1.0 - mean) {
                        return Err(p.err(
                            "sd",
                            format!(
                                "for mean {mean} the sd must be above 0 and below {:.6}, got {sd}",
                                (mean * (1.0 - mean)).sqrt()
                            ),
                        ));
                    }
                    let nu = mean * (1.0 - mean) / (sd * sd) - 1.0;
                    (mean * nu, (1.0 - mean) * nu)
                };
                above_zero(&p, "alpha", alpha)?;
                above_zero(&p, "beta", beta)?;
                Kind::Beta {
                    alpha,
                    beta,
                    d: Beta::new(alpha, beta).map_err(|e| FieldError::new(path, e))?,
                }
            }
            "gamma" => {
                let (shape, scale) = if s.shape.is_some() || s.scale.is_some() {
                    p.only_of(&["shape", "scale"], &["mean", "sd"])?;
                    (p.get("shape", s.shape)?, p.get("scale", s.scale)?)
                } else {
                    p.only_of(&["mean", "sd"], &["shape", "scale"])?;
                    let mean = p.get("mean", s.mean)?;
                    let sd = positive_sd(&p)?;
                    above_zero(&p, "mean", mean)?;
                    if sd <= 0.0 {
                        return Err(p.err("sd", "sd must be above 0"));
                    }
                    ((mean / sd).powi(2), sd * sd / mean)
                };
                above_zero(&p, "shape", shape)?;
                above_zero(&p, "scale", scale)?;
                Kind::Gamma {
                    shape,
                    scale,
                    d: Gamma::new(shape, scale).map_err(|e| FieldError::new(path, e))?,
                }
            }
            "poisson" => {
                p.only(&["mean"])?;
                let mean = p.get("mean", s.mean)?;
                if mean < 0.0 {
                    return Err(p.err("mean", format!("mean must be 0 or more, got {mean}")));
                }
                let d = if mean > 0.0 {
                    Some(Poisson::new(mean).map_err(|e| p.err("mean", e))?)
                } else {
                    None
                };
                Kind::Poisson { mean, d }
            }
            "negative_binomial" => {
                p.only(&["mean", "size"])?;
                let mean = p.get("mean", s.mean)?;
                let size = p.get("size", s.size)?;
                above_zero(&p, "mean", mean)?;
                above_zero(&p, "size", size)?;
                Kind::NegBinomial {
                    mean,
                    size,
                    d: Gamma::new(size, mean / size).map_err(|e| p.err("size", e))?,
                }
            }
            "discrete" => {
                p.only(&["values", "weights"])?;
                let values: Vec<f64> = s
                    .values
                    .clone()
                    .unwrap_or_default()
                    .iter()
                    .map(|n| n.0)
                    .collect();
                if values.is_empty() {
                    return Err(FieldError::new(
                        path,
                        "a discrete distribution needs a non-empty `values` list",
                    ));
                }
                let weights: Vec<f64> = match &s.weights {
                    Some(w) => w.iter().map(|n| n.0).collect(),
                    None => vec![1.0; values.len()],
                };
                if weights.len() != values.len() {
                    return Err(p.err(
                        "weights",
                        format!(
                            "has {} entries but `values` has {}",
                            weights.len(),
                            values.len()
                        ),
                    ));
                }
                if let Some(i) = weights.iter().position(|w| !(w.is_finite() && *w >= 0.0)) {
                    return Err(p.err(
                        &format!("weights[{i}]"),
                        format!("weights must be 0 or more, got {}", weights[i]),
                    ));
                }
                if let Some(i) = values.iter().position(|v| !v.is_finite()) {
                    return Err(p.err(&format!("values[{i}]"), "is not a finite number"));
                }
                let total: f64 = weights.iter().sum();
                if total <= 0.0 {
                    return Err(p.err("weights", "at least one weight must be above 0"));
                }
                let mut acc = 0.0;
                let cumulative = weights
                    .iter()
                    .map(|w| {
                        acc += w / total;
                        acc
                    })
                    .collect();
                Kind::Discrete { values, cumulative }
            }
            other => {
                return Err(FieldError::new(
                    format!("{path}.dist"),
                    format!(
                        "unknown distribution {other:?}; expected one of fixed, normal, lognormal, triangular, \
                         pert, uniform, beta, gamma, poisson, negative_binomial, discrete"
                    ),
                ));
            }
        };
        Ok(kind)
    }

    /// The short name of the distribution family.
    pub fn name(&self) -> &'static str {
        match self.kind {
            Kind::Fixed(_) => "fixed",
            Kind::Normal { .. } => "normal",
            Kind::LogNormal { .. } => "lognormal",
            Kind::Triangular { .. } => "triangular",
            Kind::Pert { .. } => "pert",
            Kind::Uniform { .. } => "uniform",
            Kind::Beta { .. } => "beta",
            Kind::Gamma { .. } => "gamma",
            Kind::Poisson { .. } => "poisson",
            Kind::NegBinomial { .. } => "negative_binomial",
            Kind::Discrete { .. } => "discrete",
        }
    }

    /// True when the value is a constant: no random number is drawn for it.
    pub fn is_fixed(&self) -> bool {
        matches!(self.kind, Kind::Fixed(_))
    }

    /// The smallest and largest values the distribution can take.
    pub fn support(&self) -> (f64, f64) {
        match &self.kind {
            Kind::Fixed(v) => (*v, *v),
            Kind::Normal { sd, mean, .. } if *sd == 0.0 => (*mean, *mean),
            Kind::Normal { .. } => (f64::NEG_INFINITY, f64::INFINITY),
            Kind::LogNormal { .. } => (0.0, f64::INFINITY),
            Kind::Triangular { min, max, .. }
            | Kind::Pert { min, max, .. }
            | Kind::Uniform { min, max } => (*min, *max),
            Kind::Beta { .. } => (0.0, 1.0),
            Kind::Gamma { .. } | Kind::Poisson { .. } | Kind::NegBinomial { .. } => {
                (0.0, f64::INFINITY)
            }
            Kind::Discrete { values, .. } => (
                values.iter().copied().fold(f64::INFINITY, f64::min),
                values.iter().copied().fold(f64::NEG_INFINITY, f64::max),
            ),
        }
    }

    /// The range the distribution takes in practice: the bounds its
    /// parameters set where it has them (uniform, triangular, PERT,
    /// discrete, beta, a constant), else its quantiles at `tail` and
    /// 1 − `tail` (a lognormal price's least value is the quantile, not the
    /// 0 it never reaches).
    pub fn range(&self, tail: f64) -> (f64, f64) {
        match &self.kind {
            Kind::Triangular { .. }
            | Kind::Pert { .. }
            | Kind::Uniform { .. }
            | Kind::Beta { .. }
            | Kind::Discrete { .. }
            | Kind::Fixed(_) => self.support(),
            Kind::Normal { mean, sd, .. } if *sd == 0.0 => (*mean, *mean),
            _ => (self.quantile(tail), self.quantile(1.0 - tail)),
        }
    }

    /// The least value the distribution takes in practice: its lower bound,
    /// or for a normal four standard deviations below the mean.
    pub fn lower_bound(&self) -> f64 {
        match &self.kind {
            Kind::Normal { mean, sd, .. } => mean - 4.0 * sd,
            _ => self.support().0,
        }
    }

    /// The expectation, used by the central projection.
    pub fn mean(&self) -> f64 {
        match &self.kind {
            Kind::Fixed(v) => *v,
            Kind::Normal { mean, .. } => *mean,
            Kind::LogNormal { mu, sigma, .. } => (mu + sigma * sigma / 2.0).exp(),
            Kind::Triangular { min, mode, max, .. } => (min + mode + max) / 3.0,
            Kind::Pert {
                min,
                mode,
                max,
                shape,
                ..
            } => (min + shape * mode + max) / (shape + 2.0),
            Kind::Uniform { min, max } => (min + max) / 2.0,
            Kind::Beta { alpha, beta, .. } => alpha / (alpha + beta),
            Kind::Gamma { shape, scale, .. } => shape * scale,
            Kind::Poisson { mean, .. } | Kind::NegBinomial { mean, .. } => *mean,
            Kind::Discrete { values, cumulative } => values
                .iter()
                .zip(weights(cumulative))
                .map(|(v, w)| v * w)
                .sum(),
        }
    }

    /// The variance (used by tests and by reports of input uncertainty).
    pub fn variance(&self) -> f64 {
        match &self.kind {
            Kind::Fixed(_) => 0.0,
            Kind::Normal { sd, .. } => sd * sd,
            Kind::LogNormal { mu, sigma, .. } => {
                ((sigma * sigma).exp() - 1.0) * (2.0 * mu + sigma * sigma).exp()
            }
            Kind::Triangular {
                min: a,
                mode: c,
                max: b,
                ..
            } => (a * a + b * b + c * c - a * b - a * c - b * c) / 18.0,
            Kind::Pert {
                min, max, shape, ..
            } => {
                let m = self.mean();
                (m - min) * (max - m) / (shape + 3.0)
            }
            Kind::Uniform { min, max } => (max - min).powi(2) / 12.0,
            Kind::Beta {
                alpha: a, beta: b, ..
            } => a * b / ((a + b).powi(2) * (a + b + 1.0)),
            Kind::Gamma { shape, scale, .. } => shape * scale * scale,
            Kind::Poisson { mean, .. } => *mean,
            Kind::NegBinomial { mean, size, .. } => mean + mean * mean / size,
            Kind::Discrete { values, cumulative } => {
                let m = self.mean();
                values
                    .iter()
                    .zip(weights(cumulative))
                    .map(|(v, w)| w * (v - m).powi(2))
                    .sum()
            }
        }
    }

    /// One draw.
    pub fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> f64 {
        let x = match &self.kind {
            Kind::Fixed(v) => return *v,
            Kind::Normal { d, .. } => d.sample(rng),
            Kind::LogNormal { d, .. } => d.sample(rng),
            Kind::Triangular { d, .. } => d.sample(rng),
            Kind::Pert { d, .. } => d.sample(rng),
            Kind::Uniform { min, max } => min + (max - min) * unit(rng),
            Kind::Beta { d, .. } => d.sample(rng),
            Kind::Gamma { d, .. } => d.sample(rng),
            Kind::Poisson { d, .. } => d.as_ref().map_or(0.0, |d| d.sample(rng)),
            Kind::NegBinomial { d, .. } => {
                let lambda = d.sample(rng);
                if lambda > 0.0 {
                    Poisson::new(lambda).map_or(0.0, |p| p.sample(rng))
                } else {
                    0.0
                }
            }
            Kind::Discrete { values, cumulative } => {
                let u = unit(rng);
                let i = cumulative
                    .partition_point(|&c| c <= u)
                    .min(values.len() - 1);
                values[i]
            }
        };
        self.domain.clamp(x)
    }
}

impl Dist {
    /// The quantile function F⁻¹(u) = inf { x : F(x) ≥ u } for u in (0, 1),
    /// within the field's domain like a draw. Used to hold an input at a
    /// percentile and to draw correlated inputs by inversion, so a draw
    /// `quantile(U)` with U uniform has exactly this distribution.
    pub fn quantile(&self, u: f64) -> f64 {
        use statrs::distribution::{
            Beta as SBeta, ContinuousCDF, DiscreteCDF, Gamma as SGamma,
            NegativeBinomial as SNegBinomial, Poisson as SPoisson,
        };
        // Total on every input: NaN reads as the median, and u is kept
        // strictly inside (0, 1), where every inverse below is defined.
        let u = if u.is_nan() {
            0.5
        } else {
            u.clamp(f64::MIN_POSITIVE, 1.0 - f64::EPSILON)
        };
        let x = match &self.kind {
            Kind::Fixed(v) => return *v,
            Kind::Normal { mean, sd, .. } => mean + sd * std_normal_quantile(u),
            Kind::LogNormal { mu, sigma, .. } => (mu + sigma * std_normal_quantile(u)).exp(),
            Kind::Triangular { min, mode, max, .. } => {
                let (a, c, b) = (*min, *mode, *max);
                if b == a {
                    a
                } else if u < (c - a) / (b - a) {
                    a + (u * (b - a) * (c - a)).sqrt()
                } else {
                    b - ((1.0 - u) * (b - a) * (b - c)).sqrt()
                }
            }
            Kind::Pert {
                min,
                mode,
                max,
                shape,
                ..
            } => {
                let range = max - min;
                if range == 0.0 {
                    *min
                } else {
                    let alpha = 1.0 + shape * (mode - min) / range;
                    let beta = 1.0 + shape * (max - mode) / range;
                    SBeta::new(alpha, beta).map_or(self.mean(), |b| {
                        min + range * real_quantile(|x| b.cdf(x), u, 1.0)
                    })
                }
            }
            Kind::Uniform { min, max } => min + (max - min) * u,
            // statrs's inverses of these can panic in their tails: bisect
            // the distribution function instead.
            Kind::Beta { alpha, beta, .. } => SBeta::new(*alpha, *beta)
                .map_or(self.mean(), |d| real_quantile(|x| d.cdf(x), u, 1.0)),
            // statrs's distribution function panics where x / scale
            // underflows to 0 or overflows: its limits are taken there.
            Kind::Gamma { shape, scale, .. } => {
                SGamma::new(*shape, 1.0 / scale).map_or(self.mean(), |d| {
                    let rate = 1.0 / scale;
                    let cdf = |x: f64| {
                        let y = x * rate;
                        if x > 0.0 && y == 0.0 {
                            0.0
                        } else if x.is_finite() && y == f64::INFINITY {
                            1.0
                        } else {
                            d.cdf(x)
                        }
                    };
                    real_quantile(cdf, u, f64::INFINITY)
                })
            }
            Kind::Poisson { mean, .. } if *mean <= 0.0 => 0.0,
            // statrs's own inverse of a discrete distribution function
            // panics when P(X = 0) is above u: search the counts here.
            Kind::Poisson { mean, .. } => {
                SPoisson::new(*mean).map_or(*mean, |d| count_quantile(|k| d.cdf(k), u))
            }
            // statrs counts failures before `size` successes of probability
            // size/(size + mean): mean `mean`, variance mean + mean²/size.
            Kind::NegBinomial { mean, .. } if *mean <= 0.0 => 0.0,
            Kind::NegBinomial { mean, size, .. } => SNegBinomial::new(*size, size / (size + mean))
                .map_or(*mean, |d| count_quantile(|k| d.cdf(k), u)),
            Kind::Discrete { values, cumulative } => {
                let i = cumulative.partition_point(|&c| c < u).min(values.len() - 1);
                values[i]
            }
        };
        // A numerical inverse that failed to converge gives NaN: fall back
        // to the mean rather than let NaN into a run.
        let x = if x.is_nan() { self.mean() } else { x };
        self.domain.clamp(x)
    }
}

/// The x in [0, `top`] with F(x) = u, for a continuous distribution
/// function F on [0, ∞): doubling finds a bound above it (when `top` is
/// infinite), then the bracket is narrowed to the last bit. Total: an F
/// that gives NaN or never reaches u yields the largest value tried.
fn real_quantile(cdf: impl Fn(f64) -> f64, u: f64, top: f64) -> f64 {
    let mut below = 0.0;
    let mut above = if top.is_finite() { top } else { 1.0 };
    if !top.is_finite() {
        while above < f64::MAX / 2.0 && cdf(above).partial_cmp(&u) == Some(std::cmp::Ordering::Less)
        {
            below = above;
            above *= 2.0;
        }
    }
    // Regula falsi with the Illinois rule narrows the bracket in a few
    // steps; bisection then finishes it to adjacent floats. Both keep
    // F(below) < u ≤ F(above), so the answer is the one bisection alone
    // would give, in about a third of the evaluations of F.
    let (mut low, mut high) = (cdf(below) - u, cdf(above) - u);
    if low < 0.0 && high >= 0.0 {
        let mut last = 0;
        for _ in 0..60 {
            if above - below <= (above.abs() + below.abs()) * 1e-14 {
                break;
            }
            let x = below + (above - below) * (-low / (high - low));
            if !(x > below && x < above) {
                break;
            }
            let f = cdf(x) - u;
            if f.is_nan() {
                break;
            }
            if f >= 0.0 {
                (above, high) = (x, f);
                if last == 1 {
                    low /= 2.0;
                }
                last = 1;
            } else {
                (below, low) = (x, f);
                if last == -1 {
                    high /= 2.0;
                }
                last = -1;
            }
        }
    }
    for _ in 0..200 {
        let mid = below + (above - below) / 2.0;
        if mid <= below || mid >= above {
            break;
        }
        if cdf(mid) >= u {
            above = mid;
        } else {
            below = mid;
        }
    }
    above
}

/// The smallest count k with F(k) ≥ u, for a distribution function F of
/// counts 0, 1, 2, …: doubling finds a count above the quantile, then
/// bisection narrows it down. Never more than about 130 evaluations of F;
/// an F that never reaches u (or gives NaN) yields the largest count tried.
fn count_quantile(cdf: impl Fn(u64) -> f64, u: f64) -> f64 {
    const LARGEST: u64 = 1 << 62;
    if cdf(0) >= u {
        return 0.0;
    }
    // Invariant: F(below) < u ≤ F(above), or `above` is LARGEST.
    let mut below = 0;
    let mut above = 1;
    while above < LARGEST && cdf(above).partial_cmp(&u) == Some(std::cmp::Ordering::Less) {
        below = above;
        above *= 2;
    }
    while above - below > 1 {
        let mid = below + (above - below) / 2;
        if cdf(mid) >= u {
            above = mid;
        } else {
            below = mid;
        }
    }
    above as f64
}

/// Φ(z), the standard normal distribution function.
pub fn std_normal_cdf(z: f64) -> f64 {
    0.5 * statrs::function::erf::erfc(-z / std::f64::consts::SQRT_2)
}

/// Φ⁻¹(u), the standard normal quantile.
pub fn std_normal_quantile(u: f64) -> f64 {
    -std::f64::consts::SQRT_2 * statrs::function::erf::erfc_inv(2.0 * u)
}

/// The probabilities of a discrete distribution, from its cumulative sums.
fn weights(cumulative: &[f64]) -> impl Iterator<Item = f64> + '_ {
    cumulative.iter().scan(0.0, |prev, &c| {
        let w = c - *prev;
        *prev = c;
        Some(w)
    })
}

/// A uniform draw in [0, 1) with 53 random bits.
pub fn unit<R: Rng + ?Sized>(rng: &mut R) -> f64 {
    // Below 2⁵³ the signed conversion is exact and cheaper than the unsigned.
    ((rng.next_u64() >> 11) as i64) as f64 * (1.0 / (1u64 << 53) as f64)
}

impl fmt::Display for Dist {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        match &self.kind {
            Kind::Fixed(v) => write!(f, "{v}"),
            _ => write!(f, "{} (mean {:.6})", self.name(), self.mean()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::stream::Stream;

    fn spec(dist: &str) -> RawDistSpec {
        RawDistSpec {
            dist: dist.into(),
            ..Default::default()
        }
    }
    fn n(v: f64) -> Option<Number> {
        Some(Number(v))
    }
    fn build(s: RawDistSpec, domain: Domain) -> Result<Dist, FieldError> {
        Dist::build(&RawDist::Spec(Box::new(s)), domain, "x")
    }

    /// Sample mean and variance of 200,000 draws against the analytic moments,
    /// within 4 standard errors (the variance's standard error from the sample
    /// fourth moment).
    fn check_moments(d: &Dist) {
        let mut rng = Stream::new(7);
        let n = 200_000usize;
        let xs: Vec<f64> = (0..n).map(|_| d.sample(&mut rng)).collect();
        let mean = xs.iter().sum::<f64>() / n as f64;
        let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
        let m4 = xs.iter().map(|x| (x - mean).powi(4)).sum::<f64>() / n as f64;
        let se_mean = (var / n as f64).sqrt();
        let se_var = ((m4 - var * var) / n as f64).sqrt();
        assert!(
            (mean - d.mean()).abs() <= 4.0 * se_mean,
            "{}: mean {mean} vs {}",
            d.name(),
            d.mean()
        );
        assert!(
            (var - d.variance()).abs() <= 4.0 * se_var,
            "{}: var {var} vs {}",
            d.name(),
            d.variance()
        );
    }

    /// One distribution of every family.
    fn one_of_each() -> Vec<Dist> {
        let cases = [
            RawDistSpec {
                mean: n(10.0),
                sd: n(2.0),
                ..spec("normal")
            },
            RawDistSpec {
                median: n(3830.0),
                p90: n(6000.0),
                ..spec("lognormal")
            },
            RawDistSpec {
                mean: n(820.0),
                sd: n(120.0),
                ..spec("lognormal")
            },
            RawDistSpec {
                min: n(1.0),
                mode: n(2.0),
                max: n(6.0),
                ..spec("triangular")
            },
            RawDistSpec {
                min: n(1.0),
                mode: n(2.0),
                max: n(6.0),
                ..spec("pert")
            },
            RawDistSpec {
                min: n(-1.0),
                max: n(3.0),
                ..spec("uniform")
            },
            RawDistSpec {
                mean: n(0.6),
                sd: n(0.1),
                ..spec("beta")
            },
            RawDistSpec {
                mean: n(4.0),
                sd: n(1.5),
                ..spec("gamma")
            },
            RawDistSpec {
                mean: n(20.0),
                ..spec("poisson")
            },
            RawDistSpec {
                mean: n(20.0),
                size: n(5.0),
                ..spec("negative_binomial")
            },
            RawDistSpec {
                values: Some(vec![Number(1.0), Number(2.0), Number(5.0)]),
                weights: Some(vec![Number(1.0), Number(2.0), Number(1.0)]),
                ..spec("discrete")
            },
        ];
        cases
            .into_iter()
            .map(|s| build(s, Domain::Any).unwrap())
            .collect()
    }

    #[test]
    fn every_family_samples_its_analytic_moments() {
        for d in one_of_each() {
            check_moments(&d);
        }
    }

    /// F⁻¹(u) is the least x with F(x) ≥ u: among 200,000 draws the share at
    /// or below it is at least u, and the share strictly below it at most u,
    /// each within 4 standard errors.
    #[test]
    fn quantiles_invert_the_distribution_function() {
        let n = 200_000usize;
        for d in one_of_each() {
            let mut rng = Stream::new(11);
            let xs: Vec<f64> = (0..n).map(|_| d.sample(&mut rng)).collect();
            for u in [0.02, 0.1, 0.5, 0.9, 0.98] {
                let q = d.quantile(u);
                let at_most = xs.iter().filter(|&&x| x <= q).count() as f64 / n as f64;
                let below = xs.iter().filter(|&&x| x < q).count() as f64 / n as f64;
                let se = (u * (1.0 - u) / n as f64).sqrt();
                assert!(
                    at_most >= u - 4.0 * se && below <= u + 4.0 * se,
                    "{}: F({q}) = {at_most}, F({q}−) = {below}, u = {u}",
                    d.name()
                );
            }
        }
    }

    /// A gamma so skewed that x / scale underflows to 0 in its lower tail
    /// (statrs panics there) has quantiles all the same, from 0 up.
    #[test]
    fn quantiles_of_an_extreme_gamma_do_not_panic() {
        let d = build(
            RawDistSpec {
                shape: n(1e-15),
                scale: n(1e9),
                ..spec("gamma")
            },
            Domain::Any,
        )
        .unwrap();
        let qs: Vec<f64> = [1e-15, 0.5, 1.0 - 1e-15].map(|u| d.quantile(u)).to_vec();
        assert!(qs.iter().all(|q| q.is_finite() && *q >= 0.0), "{qs:?}");
        assert!(qs[0] <= qs[1] && qs[1] <= qs[2], "{qs:?}");
        let (lo, hi) = d.range(1e-15);
        assert!(lo <= hi, "{lo} to {hi}");
    }

    #[test]
    fn quantiles_match_hand_computed_values() {
        assert!((std_normal_quantile(0.9) - Z90).abs() < 1e-12);
        // statrs' erfc is accurate to about 1e-11 here.
        assert!((std_normal_cdf(Z90) - 0.9).abs() < 1e-10);
        let tri = build(
            RawDistSpec {
                min: n(0.0),
                mode: n(0.0),
                max: n(10.0),
                ..spec("triangular")
            },
            Domain::Any,
        )
        .unwrap();
        // F(x) = 1 − (1 − x/10)², so F⁻¹(0.19) = 1.
        assert!((tri.quantile(0.19) - 1.0).abs() < 1e-12);
        let poisson = build(
            RawDistSpec {
                mean: n(2.0),
                ..spec("poisson")
            },
            Domain::Any,
        )
        .unwrap();
        // P(X ≤ 1) = 3e⁻² = 0.406, P(X ≤ 2) = 5e⁻² = 0.677.
        assert_eq!(poisson.quantile(0.406), 1.0);
        assert_eq!(poisson.quantile(0.407), 2.0);
    }

    #[test]
    fn lognormal_median_and_p90_are_honoured() {
        let d = build(
            RawDistSpec {
                median: n(100.0),
                p90: n(200.0),
                ..spec("lognormal")
            },
            Domain::Any,
        )
        .unwrap();
        let mut rng = Stream::new(3);
        let n = 100_000;
        let below_median = (0..n).filter(|_| d.sample(&mut rng) < 100.0).count() as f64 / n as f64;
        let below_p90 = (0..n).filter(|_| d.sample(&mut rng) < 200.0).count() as f64 / n as f64;
        let se = |p: f64| (p * (1.0 - p) / n as f64).sqrt();
        assert!((below_median - 0.5).abs() < 4.0 * se(0.5), "{below_median}");
        assert!((below_p90 - 0.9).abs() < 4.0 * se(0.9), "{below_p90}");
    }

    #[test]
    fn bad_parameters_name_the_field() {
        let e = build(
            RawDistSpec {
                mean: n(1.0),
                sd: n(-1.0),
                ..spec("normal")
            },
            Domain::Any,
        )
        .unwrap_err();
        assert_eq!(e.path, "x.sd");
        let e = build(
            RawDistSpec {
                min: n(5.0),
                mode: n(5.0),
                max: n(1.0),
                ..spec("pert")
            },
            Domain::Any,
        )
        .unwrap_err();
        assert_eq!(e.path, "x.min");
        let e = build(
            RawDistSpec {
                min: n(0.0),
                mode: n(0.5),
                max: n(1.5),
                ..spec("triangular")
            },
            Domain::Fraction,
        )
        .unwrap_err();
        assert!(e.message.contains("between 0 and 1"), "{}", e.message);
        let e = build(
            RawDistSpec {
                mean: n(1.0),
                sd: n(1.0),
                ..spec("normal")
            },
            Domain::NonNegative,
        )
        .unwrap_err();
        assert!(e.message.contains("crosses"), "{}", e.message);
        let e = build(
            RawDistSpec {
                mean: n(1.0),
                median: n(1.0),
                ..spec("lognormal")
            },
            Domain::Any,
        )
        .unwrap_err();
        assert_eq!(e.path, "x.mean");
        let e = build(spec("weibull"), Domain::Any).unwrap_err();
        assert_eq!(e.path, "x.dist");
        let e = Dist::build(&RawDist::Fixed(1.5), Domain::Fraction, "p").unwrap_err();
        assert!(e.message.contains("got 1.5"));
    }

    /// Regression (issue 16): statrs panicked on a count distribution's
    /// quantile below P(X = 0), e.g. the P10 of a Poisson of mean 2
    /// (P(X = 0) = e⁻² ≈ 0.135).
    #[test]
    fn count_quantiles_below_the_mass_at_zero_are_zero() {
        let poisson = build(
            RawDistSpec {
                mean: n(2.0),
                ..spec("poisson")
            },
            Domain::Any,
        )
        .unwrap();
        let negbin = build(
            RawDistSpec {
                mean: n(2.0),
                size: n(0.5),
                ..spec("negative_binomial")
            },
            Domain::Any,
        )
        .unwrap();
        assert_eq!(poisson.quantile(0.1), 0.0);
        assert_eq!(negbin.quantile(0.1), 0.0);
        // P(X ≤ 1) = 3e⁻² ≈ 0.406 and P(X ≤ 2) = 5e⁻² ≈ 0.677.
        assert_eq!(poisson.quantile(0.5), 2.0);
        assert_eq!(poisson.quantile(0.4), 1.0);
    }

    /// Every family's quantile is total: any u, even NaN or outside (0, 1),
    /// gives a number inside the family's support, never a panic.
    #[test]
    fn every_quantile_is_total() {
        let odd = [
            f64::NAN,
            f64::NEG_INFINITY,
            -1.0,
            0.0,
            1e-300,
            0.5,
            1.0 - 1e-16,
            1.0,
            2.0,
            f64::INFINITY,
        ];
        for d in one_of_each() {
            let (lo, hi) = d.support();
            for u in odd {
                let q = d.quantile(u);
                assert!(
                    !q.is_nan() && q >= lo && q <= hi,
                    "{}: quantile({u}) = {q} outside [{lo}, {hi}]",
                    d.name()
                );
            }
        }
    }
}
