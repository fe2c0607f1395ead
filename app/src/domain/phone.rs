//! Iranian mobile numbers, parsed once at the edge and stored as E.164.

use serde::{Deserialize, Serialize};
use std::fmt;

use super::digits::to_ascii_digit;

/// An Iranian mobile number in E.164 form (`+989123456789`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct PhoneNumber(String);

/// Why a string is not an Iranian mobile number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
pub enum PhoneError {
    /// Nothing was typed.
    #[error("the number is empty")]
    Empty,
    /// Letters or symbols other than digits, spaces, dashes, parentheses and a leading `+`.
    #[error("the number contains characters that are not digits")]
    InvalidCharacters,
    /// Digits that do not form an Iranian mobile number (`09xx xxx xxxx`).
    #[error("not an Iranian mobile number")]
    NotMobile,
}

impl PhoneNumber {
    /// Accepts `09…`, `9…`, `+989…`, `00989…`, `989…`, with Persian or Arabic digits, spaces,
    /// dashes and parentheses.
    pub fn parse(input: &str) -> Result<Self, PhoneError> {
        let mut digits = String::with_capacity(16);
        let mut plus = false;
        for (i, c) in input.trim().chars().enumerate() {
            let c = to_ascii_digit(c);
            match c {
                '0'..='9' => digits.push(c),
                '+' if i == 0 => plus = true,
                ' ' | '\u{a0}' | '\u{200c}' | '-' | '(' | ')' | '.' => {}
                _ => return Err(PhoneError::InvalidCharacters),
            }
        }
        if digits.is_empty() {
            return Err(if plus {
                PhoneError::NotMobile
            } else {
                PhoneError::Empty
            });
        }
        let national = if plus {
            digits.strip_prefix("98")
        } else if let Some(rest) = digits.strip_prefix("0098") {
            Some(rest)
        } else if digits.len() == 12 {
            digits.strip_prefix("98")
        } else if digits.len() == 11 {
            digits.strip_prefix('0')
        } else {
            Some(digits.as_str())
        }
        .ok_or(PhoneError::NotMobile)?;
        if national.len() != 10 || !national.starts_with('9') {
            return Err(PhoneError::NotMobile);
        }
        Ok(Self(format!("+98{national}")))
    }

    /// The E.164 form, `+989123456789`.
    pub fn as_e164(&self) -> &str {
        &self.0
    }

    /// The local form Iranians write, `09123456789`.
    pub fn local(&self) -> String {
        format!("0{}", &self.0[3..])
    }

    /// The number with its middle hidden, safe for logs and for viewers: `0912***6789`.
    pub fn masked(&self) -> String {
        let local = self.local();
        format!("{}***{}", &local[..4], &local[local.len() - 4..])
    }
}

impl TryFrom<String> for PhoneNumber {
    type Error = PhoneError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<PhoneNumber> for String {
    fn from(value: PhoneNumber) -> Self {
        value.0
    }
}

impl fmt::Display for PhoneNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An operator's caller ID as typed (a landline such as `021 9100 0000`, a mobile, or a short
/// service number; Persian digits, spaces and dashes allowed): its digits, with a leading `+`
/// kept. Empty input means "none". Refused: other characters, fewer than 3 or more than 15 digits.
pub fn caller_id(input: &str) -> Result<Option<String>, InvalidCallerId> {
    let mut out = String::with_capacity(16);
    for (i, c) in input.trim().chars().enumerate() {
        match to_ascii_digit(c) {
            d @ '0'..='9' => out.push(d),
            '+' if i == 0 => out.push('+'),
            ' ' | '\u{a0}' | '\u{200c}' | '-' | '(' | ')' | '.' => {}
            _ => return Err(InvalidCallerId),
        }
    }
    let digits = out.trim_start_matches('+').len();
    match digits {
        0 if out.is_empty() => Ok(None),
        3..=15 => Ok(Some(out)),
        _ => Err(InvalidCallerId),
    }
}

/// Input that is not a caller ID.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a caller ID is 3 to 15 digits")]
pub struct InvalidCallerId;

#[cfg(test)]
mod tests {
    use super::*;

    fn e164(s: &str) -> Result<String, PhoneError> {
        PhoneNumber::parse(s).map(|p| p.as_e164().to_owned())
    }

    #[test]
    fn every_common_way_of_writing_a_mobile_gives_the_same_e164() {
        for input in [
            "09123456789",
            "9123456789",
            "+989123456789",
            "00989123456789",
            "989123456789",
            "0912 345 6789",
            "0912-345-6789",
            "(0912) 345 6789",
            "  +98 912 345 6789  ",
        ] {
            assert_eq!(e164(input), Ok("+989123456789".into()), "{input}");
        }
    }

    #[test]
    fn persian_and_arabic_digits_are_accepted() {
        assert_eq!(e164("۰۹۱۲۳۴۵۶۷۸۹"), Ok("+989123456789".into()));
        assert_eq!(e164("٠٩١٢٣٤٥٦٧٨٩"), Ok("+989123456789".into()));
        assert_eq!(e164("+۹۸ ۹۱۲ ۳۴۵ ۶۷۸۹"), Ok("+989123456789".into()));
    }

    #[test]
    fn junk_is_rejected_with_a_reason() {
        assert_eq!(e164(""), Err(PhoneError::Empty));
        assert_eq!(e164("   "), Err(PhoneError::Empty));
        assert_eq!(e164("0912abc6789"), Err(PhoneError::InvalidCharacters));
        assert_eq!(e164("0912+3456789"), Err(PhoneError::InvalidCharacters));
        assert_eq!(
            e164("'; drop table app_user; --"),
            Err(PhoneError::InvalidCharacters)
        );
        assert_eq!(e164("+"), Err(PhoneError::NotMobile));
    }

    #[test]
    fn landlines_foreign_numbers_and_wrong_lengths_are_not_mobiles() {
        for input in [
            "02188776655",
            "+14155550100",
            "0912345678",
            "091234567890",
            "08123456789",
            "+9809123456789",
            "0",
        ] {
            assert_eq!(e164(input), Err(PhoneError::NotMobile), "{input}");
        }
    }

    #[test]
    fn masking_hides_the_middle_digits() {
        let phone = PhoneNumber::parse("09123456789").unwrap();
        assert_eq!(phone.local(), "09123456789");
        assert_eq!(phone.masked(), "0912***6789");
    }

    #[test]
    fn deserialising_a_bad_number_fails() {
        assert!(serde_json::from_str::<PhoneNumber>("\"hello\"").is_err());
    }

    #[test]
    fn caller_ids_keep_their_digits_and_refuse_the_rest() {
        assert_eq!(caller_id("۰۲۱ ۹۱۰۰-۰۰۰۰"), Ok(Some("02191000000".into())));
        assert_eq!(
            caller_id("+98 21 91000000"),
            Ok(Some("+982191000000".into()))
        );
        assert_eq!(caller_id("1515"), Ok(Some("1515".into())));
        assert_eq!(caller_id("  "), Ok(None));
        for bad in ["12", "0912abc", "+", "1234567890123456"] {
            assert_eq!(caller_id(bad), Err(InvalidCallerId), "{bad}");
        }
    }
}
