//! Calendar days as whole numbers, for episode dates: parsing the two ways
//! SSDA903 files write a date (`dd/mm/yyyy`, or ISO `yyyy-mm-dd`), whole
//! months of age, and birthdays.
//!
//! Days are counted from 1970-01-01 with the proleptic Gregorian calendar
//! (Howard Hinnant's `days_from_civil`).

use std::fmt;

/// A calendar day.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Day(pub i32);

impl Day {
    /// The day `y-m-d`, or `None` when there is no such day.
    pub fn from_ymd(y: i32, m: u32, d: u32) -> Option<Day> {
        if !(1..=12).contains(&m) || d == 0 || d > days_in_month(y, m) {
            return None;
        }
        let y = if m <= 2 { y - 1 } else { y };
        let era = y.div_euclid(400);
        let yoe = y - era * 400;
        let mp = (m as i32 + 9) % 12;
        let doy = (153 * mp + 2) / 5 + d as i32 - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        Some(Day(era * 146_097 + doe - 719_468))
    }

    /// (year, month, day).
    pub fn ymd(self) -> (i32, u32, u32) {
        let z = self.0 + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
        let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
        let y = yoe + era * 400 + if m <= 2 { 1 } else { 0 };
        (y, m, d)
    }

    /// Parses `dd/mm/yyyy` (as the return writes dates) or `yyyy-mm-dd`.
    pub fn parse(text: &str) -> Option<Day> {
        let t = text.trim();
        let nums = |parts: Vec<&str>| -> Option<Vec<u32>> {
            parts.iter().map(|p| p.parse::<u32>().ok()).collect()
        };
        if let [d, m, y] = t.split('/').collect::<Vec<_>>()[..] {
            if y.len() != 4 || d.is_empty() || d.len() > 2 || m.is_empty() || m.len() > 2 {
                return None;
            }
            let v = nums(vec![d, m, y])?;
            return Day::from_ymd(v[2] as i32, v[1], v[0]);
        }
        if let [y, m, d] = t.split('-').collect::<Vec<_>>()[..] {
            if y.len() != 4 || m.len() != 2 || d.len() != 2 {
                return None;
            }
            let v = nums(vec![y, m, d])?;
            return Day::from_ymd(v[0] as i32, v[1], v[2]);
        }
        None
    }

    /// Months since 0000-01 of the day's month: a month index.
    pub fn month_index(self) -> i32 {
        let (y, m, _) = self.ymd();
        y * 12 + m as i32 - 1
    }

    /// The first day of the month with index `k` (see [`Day::month_index`]).
    pub fn month_start(k: i32) -> Day {
        Day::from_ymd(k.div_euclid(12), (k.rem_euclid(12) + 1) as u32, 1).unwrap_or(Day(0))
    }

    /// The same day `years` later; 29 February becomes 1 March in a year
    /// without one (the birthday convention of English law).
    pub fn plus_years(self, years: i32) -> Day {
        let (y, m, d) = self.ymd();
        Day::from_ymd(y + years, m, d)
            .or_else(|| Day::from_ymd(y + years, 3, 1))
            .unwrap_or(self)
    }

    /// Whole months of age on `on` of someone born on `self` (0 on the day of
    /// birth; a month is added on each monthly anniversary).
    pub fn months_of_age(self, on: Day) -> i32 {
        let (by, bm, bd) = self.ymd();
        let (y, m, d) = on.ymd();
        let mut months = (y - by) * 12 + m as i32 - bm as i32;
        // A monthly anniversary on a day the month lacks falls on its last
        // day, except a 29 February birthday, which falls on 1 March in
        // other years, as `plus_years` and the model date it.
        if d < bd && (d < days_in_month(y, m) || (bm, bd) == (2, 29)) {
            months -= 1;
        }
        months
    }
}

impl fmt::Display for Day {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (y, m, d) = self.ymd();
        write!(f, "{y:04}-{m:02}-{d:02}")
    }
}

pub fn days_in_month(y: i32, m: u32) -> u32 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        2 => 28,
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_round_trip_and_known_values() {
        assert_eq!(Day::from_ymd(1970, 1, 1), Some(Day(0)));
        assert_eq!(Day::from_ymd(2000, 3, 1), Some(Day(11_017)));
        for k in -1000..30_000 {
            let (y, m, d) = Day(k).ymd();
            assert_eq!(Day::from_ymd(y, m, d), Some(Day(k)));
        }
        assert_eq!(Day::from_ymd(2023, 2, 29), None);
        assert!(Day::from_ymd(2024, 2, 29).is_some());
    }

    #[test]
    fn both_date_forms_parse_and_nonsense_does_not() {
        let d = Day::from_ymd(2023, 3, 31);
        assert_eq!(Day::parse("31/03/2023"), d);
        assert_eq!(Day::parse("2023-03-31"), d);
        assert_eq!(Day::parse(" 1/4/2023 "), Day::from_ymd(2023, 4, 1));
        for bad in [
            "",
            "31/02/2023",
            "2023/03/31",
            "03-31-2023",
            "x",
            "31/03/23",
            "2023-3-31",
        ] {
            assert_eq!(Day::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn months_of_age_count_monthly_anniversaries() {
        let dob = Day::from_ymd(2006, 5, 15).unwrap();
        assert_eq!(dob.months_of_age(Day::from_ymd(2024, 5, 14).unwrap()), 215);
        assert_eq!(dob.months_of_age(Day::from_ymd(2024, 5, 15).unwrap()), 216);
        // Born on the 31st: the anniversary in a short month is its last day.
        let dob = Day::from_ymd(2010, 1, 31).unwrap();
        assert_eq!(dob.months_of_age(Day::from_ymd(2010, 2, 28).unwrap()), 1);
        assert_eq!(dob.plus_years(18), Day::from_ymd(2028, 1, 31).unwrap());
        let leap = Day::from_ymd(2008, 2, 29).unwrap();
        assert_eq!(leap.plus_years(18), Day::from_ymd(2026, 3, 1).unwrap());
        // 18 (216 months) on 1 March 2026, not on 28 February.
        assert_eq!(leap.months_of_age(Day::from_ymd(2026, 2, 28).unwrap()), 215);
        assert_eq!(leap.months_of_age(Day::from_ymd(2026, 3, 1).unwrap()), 216);
        assert_eq!(leap.months_of_age(Day::from_ymd(2024, 2, 29).unwrap()), 192);
        // Born on 29 January: the monthly anniversary in February 2026 is
        // its last day, as before.
        let jan = Day::from_ymd(2008, 1, 29).unwrap();
        assert_eq!(jan.months_of_age(Day::from_ymd(2026, 2, 28).unwrap()), 217);
    }
}
