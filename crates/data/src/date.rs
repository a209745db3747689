//! Calendar arithmetic, in one place: dates are days since 1970-01-01 (`i32`, as polars'
//! `Date`), in the proleptic Gregorian calendar.
//!
//! [`days_from_civil`] and [`civil_from_days`] are Howard Hinnant's algorithms ("chrono-Compatible
//! Low-Level Date Algorithms", 2013, <https://howardhinnant.github.io/date_algorithms.html>): the
//! year is shifted to start in March, so the leap day is the last of the year, and counted in
//! 400-year eras of 146,097 days. docs/metrics.md's "n years before d" (same month and day n years
//! earlier, clamped to the month's last day) is [`years_before`]; ages in completed years use it
//! for birthdays ([`completed_years`]: a child born on 29 February turns a year older on 28
//! February in common years).

/// Days from 1970-01-01 to the civil date `y-m-d` (proleptic Gregorian).
pub const fn days_from_civil(y: i32, m: u32, d: u32) -> i32 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = (y - era * 400) as u32;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146097 + doe as i32 - 719468
}

/// The civil date `(y, m, d)` of `days` since 1970-01-01.
pub fn civil_from_days(days: i32) -> (i32, u32, u32) {
    let z = days + 719468;
    let era = if z >= 0 { z } else { z - 146096 } / 146097;
    let doe = (z - era * 146097) as u32;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    let y = yoe as i32 + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// Days in month `m` of year `y`.
pub fn days_in_month(y: i32, m: u32) -> u32 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        _ => 28,
    }
}

/// ISO text of a date given in days since 1970-01-01.
pub fn format_date(days: i32) -> String {
    let (y, m, d) = civil_from_days(days);
    format!("{y:04}-{m:02}-{d:02}")
}

/// Why a date did not parse.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DateError {
    /// Not in a known layout.
    Layout,
    /// Month or day out of range for the calendar.
    NoSuchDay,
    /// Year outside 1900..=2100.
    Year,
}

fn digits(s: &[u8]) -> Option<u32> {
    if s.is_empty() || s.len() > 4 || !s.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(s.iter().fold(0, |acc, b| acc * 10 + u32::from(b - b'0')))
}

/// Parses `YYYY-MM-DD` (optionally followed by a midnight time, as a datetime exported as text
/// gives) or `DD/MM/YYYY` (one-digit day and month accepted, as spreadsheets write them).
pub fn parse_date(text: &str) -> Result<i32, DateError> {
    if let Some(day) = plain_iso(text.as_bytes()) {
        return Ok(day);
    }
    let b = text.trim().as_bytes();
    let (y, m, d) = if b.len() >= 10 && b[4] == b'-' && b[7] == b'-' {
        let rest = &b[10..];
        let midnight = rest.is_empty()
            || ((rest[0] == b' ' || rest[0] == b'T')
                && rest[1..].iter().all(|&c| c == b'0' || c == b':' || c == b'.')
                && rest.len() > 1);
        if !midnight {
            return Err(DateError::Layout);
        }
        (digits(&b[0..4]), digits(&b[5..7]), digits(&b[8..10]))
    } else {
        let mut parts = b.split(|&c| c == b'/');
        let (d, m, y) = (parts.next(), parts.next(), parts.next());
        if parts.next().is_some() {
            return Err(DateError::Layout);
        }
        match (d, m, y) {
            (Some(d), Some(m), Some(y)) if d.len() <= 2 && m.len() <= 2 && y.len() == 4 => {
                (digits(y), digits(m), digits(d))
            }
            _ => return Err(DateError::Layout),
        }
    };
    let (Some(y), Some(m), Some(d)) = (y, m, d) else {
        return Err(DateError::Layout);
    };
    let y = y as i32;
    if !(1..=12).contains(&m) || d == 0 || d > days_in_month(y, m) {
        return Err(DateError::NoSuchDay);
    }
    if !(FIRST_YEAR..=LAST_YEAR).contains(&y) {
        return Err(DateError::Year);
    }
    Ok(MONTH_STARTS[((y - FIRST_YEAR) * 12) as usize + m as usize - 1] + d as i32 - 1)
}

/// The usual case, `YYYY-MM-DD` with nothing around it and a valid day, without trimming or
/// splitting (None sends every other text down the general path, which also says what is wrong).
#[inline]
fn plain_iso(b: &[u8]) -> Option<i32> {
    let b: &[u8; 10] = b.try_into().ok()?;
    if b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let at = |i: usize| u32::from(b[i].wrapping_sub(b'0'));
    let ds = [at(0), at(1), at(2), at(3), at(5), at(6), at(8), at(9)];
    if ds.iter().any(|&d| d > 9) {
        return None;
    }
    let y = (ds[0] * 1000 + ds[1] * 100 + ds[2] * 10 + ds[3]) as i32;
    let (m, d) = (ds[4] * 10 + ds[5], ds[6] * 10 + ds[7]);
    if !(FIRST_YEAR..=LAST_YEAR).contains(&y) || !(1..=12).contains(&m) || d == 0 || d > days_in_month(y, m) {
        return None;
    }
    Some(MONTH_STARTS[((y - FIRST_YEAR) * 12) as usize + m as usize - 1] + d as i32 - 1)
}

/// The years a date may have (docs/data-contract.md).
const FIRST_YEAR: i32 = 1900;
const LAST_YEAR: i32 = 2100;

/// The first day of every month of the years [`parse_date`] accepts (days since 1970-01-01),
/// computed at compile time: a date is a look-up and an addition.
const MONTH_STARTS: [i32; ((LAST_YEAR - FIRST_YEAR + 1) * 12) as usize] = {
    let mut starts = [0; ((LAST_YEAR - FIRST_YEAR + 1) * 12) as usize];
    let mut i = 0;
    while i < starts.len() {
        starts[i] = days_from_civil(FIRST_YEAR + (i / 12) as i32, (i % 12) as u32 + 1, 1);
        i += 1;
    }
    starts
};

/// `n` years and `months` months before `day`, calendar arithmetic, clamped to the month's end.
pub fn years_before(day: i32, years: i32, months: i32) -> i32 {
    let (y, m, d) = civil_from_days(day);
    let total = y * 12 + (m as i32 - 1) - years * 12 - months;
    let (ny, nm) = (total.div_euclid(12), total.rem_euclid(12) as u32 + 1);
    days_from_civil(ny, nm, d.min(days_in_month(ny, nm)))
}

/// Completed years of age on `day` of a child born on `dob` (calendar arithmetic).
pub fn completed_years(dob: i32, day: i32) -> i32 {
    // the a-th birthday is dob + a years, clamped to the month's end (29 February -> 28th)
    let (y0, _, _) = civil_from_days(dob);
    let (y1, _, _) = civil_from_days(day);
    let mut age = y1 - y0;
    if years_before(dob, -age, 0) > day {
        age -= 1;
    }
    age
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every day of the accepted years parses, in both layouts, to Hinnant's day number, and
    /// back; the days just outside the years and the months are refused.
    #[test]
    fn every_accepted_day_parses_to_its_day_number() {
        let mut count = 0;
        for y in FIRST_YEAR..=LAST_YEAR {
            for m in 1..=12 {
                for d in 1..=days_in_month(y, m) {
                    let want = days_from_civil(y, m, d);
                    let iso = format!("{y:04}-{m:02}-{d:02}");
                    assert_eq!(plain_iso(iso.as_bytes()), Some(want), "{iso}");
                    assert_eq!(parse_date(&iso), Ok(want));
                    assert_eq!(parse_date(&format!("{d}/{m}/{y:04}")), Ok(want));
                    assert_eq!(civil_from_days(want), (y, m, d));
                    count += 1;
                }
            }
        }
        // the days from 1900-01-01 to 2100-12-31 inclusive, by Python's datetime:
        // (date(2100, 12, 31) - date(1900, 1, 1)).days + 1
        assert_eq!(count, 73_414);
        assert_eq!(parse_date("1970-01-01"), Ok(0));
        assert_eq!(parse_date("1899-12-31"), Err(DateError::Year));
        assert_eq!(parse_date("2101-01-01"), Err(DateError::Year));
        assert_eq!(parse_date("2009-02-29"), Err(DateError::NoSuchDay));
        assert_eq!(parse_date("2009-13-01"), Err(DateError::NoSuchDay));
    }

    /// Texts the plain ISO path leaves to the general one still parse, or fail, as before.
    #[test]
    fn texts_around_the_plain_iso_path() {
        for (text, want) in [
            (" 2009-04-01 ", Ok(days_from_civil(2009, 4, 1))),
            ("2009-04-01 00:00:00", Ok(days_from_civil(2009, 4, 1))),
            ("2009-04-01T00:00", Ok(days_from_civil(2009, 4, 1))),
            ("2009-04-01 12:00", Err(DateError::Layout)),
            ("2009-4-01", Err(DateError::Layout)),
            ("20x9-04-01", Err(DateError::Layout)),
            ("2009/04/01", Err(DateError::Layout)),
            ("2009-00-10", Err(DateError::NoSuchDay)),
            ("2009-04-31", Err(DateError::NoSuchDay)),
            ("2100-02-29", Err(DateError::NoSuchDay)),
            ("2000-02-29", Ok(days_from_civil(2000, 2, 29))),
            ("0999-01-01", Err(DateError::Year)),
        ] {
            assert_eq!(parse_date(text), want, "{text}");
            if want.is_err() {
                assert_eq!(plain_iso(text.as_bytes()), None, "{text}");
            }
        }
    }
}
