//! Calendar arithmetic for display: Unix time → Tehran civil time → Jalali (Solar Hijri) date.

/// Iran's offset from UTC (no daylight saving since 2022), in seconds.
pub const TEHRAN_OFFSET_SECONDS: i64 = 3 * 3600 + 30 * 60;
/// The same in milliseconds (every `*_at` column is Unix ms).
pub const TEHRAN_OFFSET_MS: i64 = TEHRAN_OFFSET_SECONDS * 1000;

/// A date and time of day, in whichever calendar produced it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DateTime {
    /// Year.
    pub year: i64,
    /// Month, 1-based.
    pub month: u32,
    /// Day of month, 1-based.
    pub day: u32,
    /// Hour, 0–23.
    pub hour: u32,
    /// Minute, 0–59.
    pub minute: u32,
}

/// Gregorian civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// Tehran local time of a Unix timestamp in milliseconds, in the Gregorian calendar.
pub fn tehran_gregorian(unix_ms: i64) -> DateTime {
    let local = unix_ms.div_euclid(1000) + TEHRAN_OFFSET_SECONDS;
    let (year, month, day) = civil_from_days(local.div_euclid(86_400));
    let secs = local.rem_euclid(86_400);
    DateTime {
        year,
        month,
        day,
        hour: (secs / 3600) as u32,
        minute: ((secs % 3600) / 60) as u32,
    }
}

/// Converts a Gregorian date to Jalali (the 33-year-cycle arithmetic used by Iranian software).
pub fn gregorian_to_jalali(gy: i64, gm: u32, gd: u32) -> (i64, u32, u32) {
    const DAYS_BEFORE_MONTH: [i64; 12] = [0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334];
    let gy2 = if gm > 2 { gy + 1 } else { gy };
    let mut days = 355_666 + 365 * gy + (gy2 + 3) / 4 - (gy2 + 99) / 100
        + (gy2 + 399) / 400
        + i64::from(gd)
        + DAYS_BEFORE_MONTH[(gm.clamp(1, 12) - 1) as usize];
    let mut jy = -1595 + 33 * (days / 12_053);
    days %= 12_053;
    jy += 4 * (days / 1461);
    days %= 1461;
    if days > 365 {
        jy += (days - 1) / 365;
        days = (days - 1) % 365;
    }
    let (jm, jd) = if days < 186 {
        (1 + days / 31, 1 + days % 31)
    } else {
        (7 + (days - 186) / 30, 1 + (days - 186) % 30)
    };
    (jy, jm as u32, jd as u32)
}

/// Converts a Jalali date to Gregorian, or `None` if the date does not exist (checked by
/// converting back).
pub fn jalali_to_gregorian(jy: i64, jm: u32, jd: u32) -> Option<(i64, u32, u32)> {
    if !(1..=12).contains(&jm) || !(1..=31).contains(&jd) || !(1..=3000).contains(&jy) {
        return None;
    }
    let jy2 = jy + 1595;
    let month_days = if jm < 7 {
        (i64::from(jm) - 1) * 31
    } else {
        (i64::from(jm) - 7) * 30 + 186
    };
    let mut days =
        -355_668 + 365 * jy2 + (jy2 / 33) * 8 + ((jy2 % 33) + 3) / 4 + i64::from(jd) + month_days;
    let mut gy = 400 * (days / 146_097);
    days %= 146_097;
    if days > 36_524 {
        days -= 1;
        gy += 100 * (days / 36_524);
        days %= 36_524;
        if days >= 365 {
            days += 1;
        }
    }
    gy += 4 * (days / 1461);
    days %= 1461;
    if days > 365 {
        gy += (days - 1) / 365;
        days = (days - 1) % 365;
    }
    let leap = (gy % 4 == 0 && gy % 100 != 0) || gy % 400 == 0;
    let lengths = [
        31,
        if leap { 29 } else { 28 },
        31,
        30,
        31,
        30,
        31,
        31,
        30,
        31,
        30,
        31,
    ];
    let mut gd = days + 1;
    let mut gm = 1u32;
    for length in lengths {
        if gd <= length {
            break;
        }
        gd -= length;
        gm += 1;
    }
    let date = (gy, gm, u32::try_from(gd).ok()?);
    (gregorian_to_jalali(date.0, date.1, date.2) == (jy, jm, jd)).then_some(date)
}

/// Tehran local time of a Unix timestamp in milliseconds, in the Jalali calendar.
pub fn tehran_jalali(unix_ms: i64) -> DateTime {
    let g = tehran_gregorian(unix_ms);
    let (year, month, day) = gregorian_to_jalali(g.year, g.month, g.day);
    DateTime {
        year,
        month,
        day,
        ..g
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nowruz_falls_on_the_first_of_farvardin() {
        assert_eq!(gregorian_to_jalali(2023, 3, 21), (1402, 1, 1));
        assert_eq!(gregorian_to_jalali(2024, 3, 20), (1403, 1, 1));
        assert_eq!(gregorian_to_jalali(2025, 3, 21), (1404, 1, 1));
    }

    #[test]
    fn known_dates_convert() {
        assert_eq!(gregorian_to_jalali(1979, 2, 11), (1357, 11, 22));
        assert_eq!(gregorian_to_jalali(2024, 3, 19), (1402, 12, 29));
        assert_eq!(gregorian_to_jalali(2026, 12, 4), (1405, 9, 13));
    }

    #[test]
    fn jalali_dates_convert_back_and_impossible_ones_are_refused() {
        assert_eq!(jalali_to_gregorian(1403, 1, 1), Some((2024, 3, 20)));
        assert_eq!(jalali_to_gregorian(1405, 9, 13), Some((2026, 12, 4)));
        assert_eq!(jalali_to_gregorian(1357, 11, 22), Some((1979, 2, 11)));
        assert_eq!(jalali_to_gregorian(1402, 12, 29), Some((2024, 3, 19)));
        assert_eq!(
            jalali_to_gregorian(1402, 12, 30),
            None,
            "1402 is not a leap year"
        );
        assert_eq!(jalali_to_gregorian(1403, 7, 31), None, "Mehr has 30 days");
        assert_eq!(jalali_to_gregorian(1403, 13, 1), None);
        // Every day of ten years round-trips.
        let mut checked = 0;
        for year in 1400..1410 {
            for month in 1..=12 {
                for day in 1..=31 {
                    if let Some((gy, gm, gd)) = jalali_to_gregorian(year, month, day) {
                        assert_eq!(gregorian_to_jalali(gy, gm, gd), (year, month, day));
                        checked += 1;
                    }
                }
            }
        }
        assert!(checked >= 3650, "{checked}");
    }

    #[test]
    fn tehran_time_is_utc_plus_three_and_a_half() {
        // 2024-03-19T20:30:00Z is 2024-03-20 00:00 in Tehran: Nowruz 1403.
        let ms = 1_710_880_200_000;
        let g = tehran_gregorian(ms);
        assert_eq!(
            (g.year, g.month, g.day, g.hour, g.minute),
            (2024, 3, 20, 0, 0)
        );
        let j = tehran_jalali(ms);
        assert_eq!((j.year, j.month, j.day), (1403, 1, 1));
    }
}
