//! Simulated months and financial years (SPEC §2.1).
//!
//! Month `t = 0` is `horizon.start`. A financial year starts in
//! `fy_start_month` (April in the UK) and is labelled by the years it spans,
//! `2017/18`. A horizon that starts mid-year makes the first year partial.

use std::fmt;

/// A calendar month.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct YearMonth {
    pub year: i32,
    /// 1 = January … 12 = December.
    pub month: u32,
}

impl YearMonth {
    /// Parses `YYYY-MM`.
    pub fn parse(text: &str) -> Result<YearMonth, String> {
        let bad = || format!("{text:?} is not a month written as YYYY-MM (e.g. \"2024-04\")");
        let (y, m) = text.split_once('-').ok_or_else(bad)?;
        if y.len() != 4 || m.len() != 2 {
            return Err(bad());
        }
        let year: i32 = y.parse().map_err(|_| bad())?;
        let month: u32 = m.parse().map_err(|_| bad())?;
        if !(1..=12).contains(&month) {
            return Err(format!("{text:?}: month {month} is not between 01 and 12"));
        }
        if !(1900..=2200).contains(&year) {
            return Err(format!("{text:?}: year {year} is outside 1900–2200"));
        }
        Ok(YearMonth { year, month })
    }

    /// Months from `self` to `other` (negative when `other` is earlier).
    pub fn months_until(self, other: YearMonth) -> i64 {
        (other.year as i64 - self.year as i64) * 12 + other.month as i64 - self.month as i64
    }

    pub fn plus(self, months: usize) -> YearMonth {
        let index = self.year as i64 * 12 + (self.month as i64 - 1) + months as i64;
        YearMonth {
            year: (index / 12) as i32,
            month: (index % 12) as u32 + 1,
        }
    }

    pub fn days(self) -> u32 {
        match self.month {
            1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
            4 | 6 | 9 | 11 => 30,
            _ if is_leap(self.year) => 29,
            _ => 28,
        }
    }
}

impl fmt::Display for YearMonth {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "{:04}-{:02}", self.year, self.month)
    }
}

fn is_leap(year: i32) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

/// One simulated month.
#[derive(Clone, Debug)]
pub struct Month {
    pub date: YearMonth,
    pub days: u32,
    /// Index of its financial year in [`Calendar::years`].
    pub fy: usize,
}

/// One financial year of the horizon.
#[derive(Clone, Debug)]
pub struct FinancialYear {
    /// `2017/18`.
    pub label: String,
    /// Index of its first simulated month.
    pub first_month: usize,
    /// Number of simulated months (12 unless the horizon starts mid-year).
    pub months: usize,
    pub days: u32,
}

impl FinancialYear {
    pub fn is_partial(&self) -> bool {
        self.months < 12
    }
    pub fn last_month(&self) -> usize {
        self.first_month + self.months - 1
    }
}

/// The simulated months and their financial years.
#[derive(Clone, Debug)]
pub struct Calendar {
    pub start: YearMonth,
    pub fy_start_month: u32,
    pub months: Vec<Month>,
    pub years: Vec<FinancialYear>,
}

impl Calendar {
    /// `years` financial years from `start` (the first one partial when
    /// `start` is not the first month of a financial year).
    pub fn new(start: YearMonth, years: usize, fy_start_month: u32) -> Calendar {
        let mut months = Vec::new();
        let mut fys: Vec<FinancialYear> = Vec::new();
        let mut t = 0;
        loop {
            let date = start.plus(t);
            let fy_first_year = if date.month >= fy_start_month {
                date.year
            } else {
                date.year - 1
            };
            let new_year = fys.is_empty() || date.month == fy_start_month;
            if new_year {
                if fys.len() == years {
                    break;
                }
                let label = if fy_start_month == 1 {
                    format!("{fy_first_year}")
                } else {
                    format!(
                        "{}/{:02}",
                        fy_first_year,
                        (fy_first_year + 1).rem_euclid(100)
                    )
                };
                fys.push(FinancialYear {
                    label,
                    first_month: t,
                    months: 0,
                    days: 0,
                });
            }
            let fy = fys.len() - 1;
            fys[fy].months += 1;
            fys[fy].days += date.days();
            months.push(Month {
                date,
                days: date.days(),
                fy,
            });
            t += 1;
        }
        Calendar {
            start,
            fy_start_month,
            months,
            years: fys,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn four_full_years_from_april() {
        let c = Calendar::new(YearMonth::parse("2024-04").unwrap(), 4, 4);
        assert_eq!(c.months.len(), 48);
        let labels: Vec<_> = c.years.iter().map(|y| y.label.as_str()).collect();
        assert_eq!(labels, ["2024/25", "2025/26", "2026/27", "2027/28"]);
        // 2027/28 contains 29 February 2028.
        assert_eq!(c.years[3].days, 366);
        assert_eq!(c.years[0].days, 365);
        assert_eq!(c.months[47].date.to_string(), "2028-03");
    }

    #[test]
    fn a_mid_year_start_makes_a_partial_first_year() {
        let c = Calendar::new(YearMonth::parse("2017-10").unwrap(), 2, 4);
        assert_eq!(c.years[0].label, "2017/18");
        assert_eq!(c.years[0].months, 6);
        assert!(c.years[0].is_partial());
        assert_eq!(c.years[1].months, 12);
        assert_eq!(c.months.len(), 18);
    }

    #[test]
    fn month_parsing() {
        assert!(
            YearMonth::parse("2024-13")
                .unwrap_err()
                .contains("month 13")
        );
        assert!(YearMonth::parse("2024-4").is_err());
        assert!(YearMonth::parse("April 2024").is_err());
        assert_eq!(YearMonth::parse("2023-02").unwrap().days(), 28);
        assert_eq!(YearMonth::parse("2024-02").unwrap().days(), 29);
        assert_eq!(YearMonth::parse("2000-02").unwrap().days(), 29);
        assert_eq!(YearMonth::parse("1900-02").unwrap().days(), 28);
    }
}
