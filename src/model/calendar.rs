//! Simulated months and financial years.
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
    /// Day on which each month starts, counted from the horizon's first day
    /// (day 0); one more entry than months, the last being the horizon's end.
    pub month_starts: Vec<f64>,
    pub days: Days,
    /// The simulated month of each day of the horizon.
    month_of_day: Vec<u16>,
}

/// A date of birth as a month of the [`Days`] table and a day of that month.
#[derive(Clone, Copy, Debug)]
pub struct Birth {
    month: usize,
    day: i32,
}

impl Calendar {
    /// The simulated month that day `day` falls in (`None` outside the horizon).
    #[inline]
    pub fn month_of_day(&self, day: f64) -> Option<usize> {
        // In range (and not NaN) the whole day fits an i32, whose
        // conversion is cheaper than a saturating one to usize.
        if !(day >= 0.0 && day < self.month_of_day.len() as f64) {
            return None;
        }
        self.month_of_day
            .get(day as i32 as usize)
            .map(|&m| m as usize)
    }

    /// The simulated month that day `day` falls in, the first or the last
    /// for a day before or after the horizon (`day` not NaN).
    #[inline]
    pub fn month_within(&self, day: f64) -> usize {
        match self.month_of_day(day) {
            Some(m) => m,
            None if day < 0.0 => 0,
            None => self.months.len().saturating_sub(1),
        }
    }
}

/// Whole days counted from the horizon's first day, and the calendar dates
/// they fall on, from 19 years before the horizon to two years after it:
/// enough for every birthday a child in care can have during the horizon.
#[derive(Clone, Debug)]
pub struct Days {
    first: YearMonth,
    /// The day number of the first of each month from `first` on.
    month_first_day: Vec<i32>,
    /// The month (index into `month_first_day`) of every day covered.
    month_of_day: Vec<u16>,
}

impl Days {
    fn new(start: YearMonth, months: usize) -> Days {
        let first = YearMonth {
            year: start.year - 19,
            month: 1,
        };
        let span = first.months_until(start) as usize + months + 36;
        let before: i32 = (0..first.months_until(start) as usize)
            .map(|t| first.plus(t).days() as i32)
            .sum();
        let mut day = -before;
        let mut month_first_day = Vec::with_capacity(span + 1);
        for t in 0..=span {
            month_first_day.push(day);
            day += first.plus(t).days() as i32;
        }
        let mut month_of_day = Vec::with_capacity((day + before) as usize);
        for (m, w) in month_first_day.windows(2).enumerate() {
            month_of_day.resize((w[1] - month_first_day[0]) as usize, m as u16);
        }
        Days {
            first,
            month_first_day,
            month_of_day,
        }
    }

    /// The earliest day covered.
    pub fn first_day(&self) -> i32 {
        self.month_first_day[0]
    }

    /// The days covered: from the first to one past the last.
    pub fn span(&self) -> (i32, i32) {
        (
            self.month_first_day[0],
            self.month_first_day[0] + self.month_of_day.len() as i32,
        )
    }

    /// The month (index from the table's first) and day of month (from 0)
    /// of day `d`, clamped to the table.
    fn civil(&self, d: i32) -> (usize, i32) {
        let offset = (d - self.month_first_day[0]).max(0) as usize;
        let i = match self.month_of_day.get(offset) {
            Some(&m) => m as usize,
            None => self.month_first_day.len() - 2,
        };
        (i, d - self.month_first_day[i])
    }

    /// The day of the `years`-th birthday of a child born on day `born`
    /// (29 February birthdays fall on 1 March in other years).
    pub fn birthday(&self, born: i32, years: u32) -> i32 {
        self.birthday_of(self.birth(born), years)
    }

    /// The month and day of month of a date of birth, for [`Days::birthday_of`].
    pub fn birth(&self, born: i32) -> Birth {
        let (month, day) = self.civil(born);
        Birth { month, day }
    }

    /// The day of the `years`-th birthday of a child born on `birth`.
    #[inline]
    pub fn birthday_of(&self, birth: Birth, years: u32) -> i32 {
        let (m, day_of_month) = (birth.month, birth.day);
        let target = (m + 12 * years as usize).min(self.month_first_day.len() - 2);
        let length = self.month_first_day[target + 1] - self.month_first_day[target];
        if day_of_month < length {
            self.month_first_day[target] + day_of_month
        } else {
            self.month_first_day[target + 1]
        }
    }

    /// The calendar month of day `d`.
    pub fn month_of(&self, d: i32) -> YearMonth {
        self.first.plus(self.civil(d).0)
    }
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
        let mut month_starts = Vec::with_capacity(months.len() + 1);
        let mut day = 0.0;
        month_starts.push(day);
        for m in &months {
            day += m.days as f64;
            month_starts.push(day);
        }
        let mut month_of_day = Vec::new();
        for (t, w) in month_starts.windows(2).enumerate() {
            month_of_day.resize(w[1] as usize, t as u16);
        }
        Calendar {
            start,
            fy_start_month,
            month_of_day,
            days: Days::new(start, months.len()),
            months,
            years: fys,
            month_starts,
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
    fn birthdays_fall_on_the_calendar_date() {
        let c = Calendar::new(YearMonth::parse("2024-04").unwrap(), 4, 4);
        // Born 29 February 2012 (day −4,415 from 1 April 2024): 18 on 1 March 2030.
        let born = -4415;
        assert_eq!(c.days.month_of(born).to_string(), "2012-02");
        let eighteen = c.days.birthday(born, 18);
        assert_eq!(c.days.month_of(eighteen).to_string(), "2030-03");
        // In a leap year the birthday is 29 February itself: 2024-02-29 is day −32.
        assert_eq!(c.days.birthday(born, 12), -32);
        // Born on 1 April 2010: 18 on 1 April 2028, day 1,461 of the horizon.
        let born = -(365 * 14 + 4);
        assert_eq!(c.days.month_of(born).to_string(), "2010-04");
        assert_eq!(c.days.birthday(born, 18), 1461);
        assert_eq!(c.month_starts[48], 1461.0);
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
