//! Amounts of money and plain numbers as people write them in a config.
//!
//! Finance papers write `11500000`, `"11,500,000"`, `"£11.5m"` or `"520k"`;
//! all four are accepted and parsed to an exact [`Decimal`], so budgets and
//! planned savings keep every penny. Rates may also be written as percentages
//! (`"3%"` is `0.03`).

use std::fmt;
use std::str::FromStr;

use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use serde::Deserialize;
use serde::de::{self, Deserializer, Visitor};

/// An exact amount written in the config (pounds, or a plain number).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Amount(pub Decimal);

/// A real number written in the config: an integer, a float, or a string in
/// one of the money or percentage forms of [`parse_amount`].
#[derive(Clone, Copy, Debug, PartialEq, PartialOrd)]
pub struct Number(pub f64);

/// The largest magnitude accepted for any number or amount: far beyond any
/// council's budget, and small enough that sums of pence cannot overflow.
pub const LIMIT: f64 = 1e15;

const EXPECTED: &str = "a number or an amount such as 11500000, \"11,500,000\", \"£11.5m\" or \"520k\" \
     (or, for a rate, a percentage such as \"3%\")";

/// Parses an amount: optional sign, optional `£`, digits with optional
/// thousands commas and decimals, and an optional suffix `k`, `m`, `bn` or `%`.
pub fn parse_amount(text: &str) -> Result<Decimal, String> {
    let bad = || format!("{text:?} is not {EXPECTED}");
    let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    // The minus sign may be the hyphen or U+2212, which carecast prints.
    let (negative, rest) = match compact
        .strip_prefix('-')
        .or_else(|| compact.strip_prefix('\u{2212}'))
    {
        Some(rest) => (true, rest),
        None => (false, compact.as_str()),
    };
    let rest = rest.strip_prefix('£').unwrap_or(rest);
    let lower = rest.to_ascii_lowercase();
    let (digits, scale) = if let Some(d) = lower.strip_suffix("bn") {
        (d, Decimal::from(1_000_000_000u64))
    } else if let Some(d) = lower.strip_suffix('m') {
        (d, Decimal::from(1_000_000u64))
    } else if let Some(d) = lower.strip_suffix('k') {
        (d, Decimal::from(1_000u64))
    } else if let Some(d) = lower.strip_suffix('%') {
        (d, Decimal::new(1, 2))
    } else {
        (lower.as_str(), Decimal::ONE)
    };
    if digits.is_empty() || !valid_grouping(digits) {
        return Err(bad());
    }
    let plain: String = digits.chars().filter(|&c| c != ',').collect();
    let value = Decimal::from_str(&plain).map_err(|_| bad())?;
    let value = value.checked_mul(scale).ok_or_else(bad)?;
    if value.abs() >= Decimal::from(LIMIT as u64) {
        return Err(too_large(text));
    }
    Ok(if negative { -value } else { value })
}

/// An amount of pounds as a message shows it: `£1,200,000`, `£450.50`,
/// `−£50` (pence only when there are any).
pub fn pounds_text(x: Decimal) -> String {
    let x = x.round_dp(2).normalize();
    let text = x.abs().to_string();
    let (whole, pence) = match text.split_once('.') {
        Some((w, p)) => (w.to_string(), format!(".{p:0<2}")),
        None => (text.clone(), String::new()),
    };
    let mut grouped = String::new();
    for (k, d) in whole.chars().enumerate() {
        if k > 0 && (whole.len() - k) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(d);
    }
    let sign = if x.is_sign_negative() && !x.is_zero() {
        "\u{2212}"
    } else {
        ""
    };
    format!("{sign}£{grouped}{pence}")
}

/// [`pounds_text`] of a number of pounds held as a float.
pub fn pounds_text_f64(x: f64) -> String {
    match decimal_from_f64(x) {
        Some(d) => pounds_text(d),
        None => format!("£{x}"),
    }
}

/// `1 amount`, `3 amounts`: how many a list gave, for messages.
pub fn amounts(n: usize) -> String {
    if n == 1 {
        "1 amount".to_string()
    } else {
        format!("{n} amounts")
    }
}

/// What every number must be: the end of a [`too_large`] message, which the
/// config reader replaces with the limit of the field's own quantity where
/// it has a smaller one (`config::limits::of_field`).
pub const BELOW_LIMIT: &str =
    "numbers and amounts must be below 1,000,000,000,000,000 (1e15) in size";

pub fn too_large(text: impl fmt::Display) -> String {
    format!("{text} is too large: {BELOW_LIMIT}")
}

/// Digits, at most one decimal point, and commas only as thousands separators.
fn valid_grouping(s: &str) -> bool {
    let (int, frac) = match s.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (s, None),
    };
    if let Some(f) = frac
        && (f.is_empty() || !f.bytes().all(|b| b.is_ascii_digit()))
    {
        return false;
    }
    if int.is_empty() {
        return frac.is_some();
    }
    if !int.contains(',') {
        return int.bytes().all(|b| b.is_ascii_digit());
    }
    let groups: Vec<&str> = int.split(',').collect();
    let first_ok = (1..=3).contains(&groups[0].len());
    first_ok
        && groups.iter().all(|g| g.bytes().all(|b| b.is_ascii_digit()))
        && groups[1..].iter().all(|g| g.len() == 3)
}

fn decimal_from_f64(v: f64) -> Option<Decimal> {
    if !v.is_finite() {
        return None;
    }
    // The shortest round-trip text is what the user wrote (e.g. 0.1, not
    // 0.1000000000000000055511151231257827).
    Decimal::from_str(&format!("{v}"))
        .or_else(|_| Decimal::from_scientific(&format!("{v:e}")))
        .ok()
}

/// Rejects whole numbers beyond [`LIMIT`], as written (TOML integers too
/// large for an `i64` arrive as an `i128` or `u128`).
pub fn check_whole(v: impl Into<i128> + fmt::Display + Copy) -> Result<f64, String> {
    let n: i128 = v.into();
    if n.unsigned_abs() >= LIMIT as u128 {
        return Err(too_large(v));
    }
    Ok(n as f64)
}

/// Rejects non-finite numbers and magnitudes beyond [`LIMIT`].
pub fn check_magnitude(v: f64) -> Result<f64, String> {
    if !v.is_finite() {
        return Err(format!("{v} is not a finite number"));
    }
    if v.abs() >= LIMIT {
        return Err(too_large(format!("{v:e}")));
    }
    Ok(v)
}

struct AmountVisitor;

impl<'de> Visitor<'de> for AmountVisitor {
    type Value = Decimal;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(EXPECTED)
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Decimal, E> {
        check_whole(v).map_err(E::custom)?;
        Ok(Decimal::from(v))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Decimal, E> {
        check_whole(v).map_err(E::custom)?;
        Ok(Decimal::from(v))
    }
    fn visit_i128<E: de::Error>(self, v: i128) -> Result<Decimal, E> {
        check_whole(v).map_err(E::custom)?;
        Ok(Decimal::from(v))
    }
    fn visit_u128<E: de::Error>(self, v: u128) -> Result<Decimal, E> {
        // Beyond i128 only: too large whatever the field.
        Err(E::custom(too_large(v)))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Decimal, E> {
        check_magnitude(v).map_err(E::custom)?;
        decimal_from_f64(v)
            .ok_or_else(|| E::custom(format!("{v} cannot be read as an exact number")))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Decimal, E> {
        parse_amount(v).map_err(E::custom)
    }
}

impl<'de> Deserialize<'de> for Amount {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(AmountVisitor).map(Amount)
    }
}

impl<'de> Deserialize<'de> for Number {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let value = d.deserialize_any(AmountVisitor)?;
        value
            .to_f64()
            .map(Number)
            .ok_or_else(|| de::Error::custom(format!("{value} is out of range")))
    }
}

/// The first amount of money in `doc` written as a percentage, as (field
/// path, text): a price, a budget or a cost line of `"3%"` reads as £0.03,
/// which is never what was meant. Percentages belong to rates only.
pub fn percent_as_money(doc: &toml::Table) -> Option<(String, String)> {
    use toml::Value;
    fn find(path: String, v: &Value) -> Option<(String, String)> {
        match v {
            Value::String(s) if s.trim_end().ends_with('%') => Some((path, s.clone())),
            Value::Array(items) => items
                .iter()
                .enumerate()
                .find_map(|(k, item)| find(format!("{path}[{k}]"), item)),
            // A distribution's parameters in pounds: not `dist`, which names
            // it, nor those that are shares or shapes (a discrete
            // distribution's `weights` may be percentages).
            Value::Table(t) => t
                .iter()
                .filter(|(key, _)| {
                    !["dist", "weights", "shape", "alpha", "beta", "size"].contains(&key.as_str())
                })
                .find_map(|(key, item)| find(format!("{path}.{key}"), item)),
            _ => None,
        }
    }
    let list = |name: &str, field: &str| {
        let items = doc.get(name).and_then(Value::as_array)?;
        items.iter().enumerate().find_map(|(i, item)| {
            let value = item.as_table()?.get(field)?;
            find(format!("{name}[{i}].{field}"), value)
        })
    };
    let single = |name: &str, field: &str| {
        let value = doc.get(name)?.as_table()?.get(field)?;
        find(format!("{name}.{field}"), value)
    };
    // Every field that holds pounds: prices, yearly amounts, payments.
    const LISTS: [(&str, &str); 15] = [
        ("placement", "weekly_cost"),
        ("cost_line", "per_year"),
        ("intervention", "cost_per_year"),
        ("intervention", "change"),
        ("shock", "cost_per_year"),
        ("saving", "per_year"),
        ("investment", "per_year"),
        ("fund", "amount"),
        ("fund", "per_year"),
        ("income", "weekly"),
        ("income", "nightly"),
        ("income", "payment"),
        ("income", "per_year"),
        ("staff", "permanent_cost"),
        ("staff", "agency_cost"),
    ];
    let budget_lines = || {
        let lines = doc.get("budget")?.get("line")?.as_array()?;
        lines.iter().enumerate().find_map(|(i, item)| {
            let value = item.as_table()?.get("per_year")?;
            find(format!("budget.line[{i}].per_year"), value)
        })
    };
    LISTS
        .iter()
        .find_map(|&(name, field)| list(name, field))
        .or_else(|| single("care_leavers", "weekly_cost"))
        .or_else(|| single("budget", "per_year"))
        .or_else(budget_lines)
        .or_else(|| single("history", "cost"))
}

impl Amount {
    pub fn to_f64(self) -> f64 {
        self.0.to_f64().unwrap_or(f64::NAN)
    }
}

impl fmt::Display for Amount {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pounds_read_as_people_write_them() {
        let d = |t: &str| Decimal::from_str(t).unwrap();
        assert_eq!(pounds_text(d("1200000")), "£1,200,000");
        assert_eq!(pounds_text(d("1200000.0")), "£1,200,000");
        assert_eq!(pounds_text(d("450.5")), "£450.50");
        assert_eq!(pounds_text(d("-50")), "\u{2212}£50");
        assert_eq!(pounds_text(d("-0")), "£0");
        assert_eq!(pounds_text(d("999")), "£999");
        assert_eq!(pounds_text(d("1000000000000.01")), "£1,000,000,000,000.01");
        assert_eq!(pounds_text_f64(-12.25), "\u{2212}£12.25");
        assert_eq!(amounts(1), "1 amount");
        assert_eq!(amounts(3), "3 amounts");
    }

    fn d(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }

    #[test]
    fn accepts_the_ways_people_write_money() {
        assert_eq!(parse_amount("11500000").unwrap(), d("11500000"));
        assert_eq!(parse_amount("11,500,000").unwrap(), d("11500000"));
        assert_eq!(parse_amount("£11.5m").unwrap(), d("11500000"));
        assert_eq!(parse_amount("520k").unwrap(), d("520000"));
        assert_eq!(parse_amount("£1.276m").unwrap(), d("1276000"));
        assert_eq!(parse_amount("£16.943M").unwrap(), d("16943000"));
        assert_eq!(parse_amount("-£0.27m").unwrap(), d("-270000"));
        assert_eq!(parse_amount("£1,383,250.75").unwrap(), d("1383250.75"));
        assert_eq!(parse_amount("2.5%").unwrap(), d("0.025"));
        assert_eq!(parse_amount("1.2bn").unwrap(), d("1200000000"));
        assert_eq!(parse_amount(" £ 450 k ").unwrap(), d("450000"));
    }

    #[test]
    fn rejects_what_is_not_an_amount() {
        for bad in [
            "", "£", "abc", "1,50", "1,5000", ",100", "1.2.3", "12x", "m", "1.", "--5",
        ] {
            assert!(parse_amount(bad).is_err(), "{bad:?} should be rejected");
        }
    }

    #[test]
    fn floats_keep_what_was_written() {
        assert_eq!(decimal_from_f64(0.1).unwrap(), d("0.1"));
        assert_eq!(decimal_from_f64(11.5e6).unwrap(), d("11500000"));
        assert!(decimal_from_f64(f64::NAN).is_none());
    }

    #[test]
    fn absurd_magnitudes_are_refused_with_a_reason() {
        assert!(parse_amount("1000000bn").unwrap_err().contains("too large"));
        assert!(check_magnitude(1e300).unwrap_err().contains("too large"));
        assert!(check_magnitude(f64::INFINITY).is_err());
        assert!(
            check_whole(-99_999_999_999_999_999_999i128)
                .unwrap_err()
                .starts_with("-99999999999999999999 is too large")
        );
        assert_eq!(check_whole(5u64), Ok(5.0));
        assert_eq!(check_magnitude(-2.5), Ok(-2.5));
    }
}
