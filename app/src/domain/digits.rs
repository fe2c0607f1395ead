//! Digit normalisation: users type Persian (۰–۹) and Arabic-Indic (٠–٩) digits as often as ASCII.

/// Maps a Persian or Arabic-Indic digit to its ASCII counterpart; other characters pass through.
pub fn to_ascii_digit(c: char) -> char {
    match c {
        '۰'..='۹' => char::from(b'0' + (c as u32 - '۰' as u32) as u8),
        '٠'..='٩' => char::from(b'0' + (c as u32 - '٠' as u32) as u8),
        _ => c,
    }
}

/// Replaces every Persian or Arabic-Indic digit in `s` with ASCII.
pub fn normalize_digits(s: &str) -> String {
    s.chars().map(to_ascii_digit).collect()
}

/// Replaces ASCII digits with Persian ones, for display in the `fa` locale.
pub fn to_persian_digits(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '0'..='9' => char::from_u32('۰' as u32 + (c as u32 - '0' as u32)).unwrap_or(c),
            _ => c,
        })
        .collect()
}

/// Formats an integer with thousands separators (`12,345`), ASCII digits.
pub fn group_thousands(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 + 1);
    if n < 0 {
        out.push('-');
    }
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn persian_and_arabic_digits_become_ascii() {
        assert_eq!(normalize_digits("۰۹۱۲ ٣٤٥ 6789"), "0912 345 6789");
    }

    #[test]
    fn ascii_digits_become_persian_for_display() {
        assert_eq!(to_persian_digits("1403/01/01"), "۱۴۰۳/۰۱/۰۱");
    }

    #[test]
    fn thousands_are_grouped() {
        assert_eq!(group_thousands(0), "0");
        assert_eq!(group_thousands(999), "999");
        assert_eq!(group_thousands(1000), "1,000");
        assert_eq!(group_thousands(-1234567), "-1,234,567");
    }
}
