//! Rules for a new password. Existing passwords are only ever compared through their hash.

use serde::{Deserialize, Serialize};

/// The 1,000 most common passwords (from the zxcvbn frequency list), lower-case, one a line.
const COMMON_PASSWORDS: &str = include_str!("common_passwords.txt");

/// Shortest password accepted.
pub const MIN_LEN: usize = 10;
/// Longest password accepted: argon2 cost grows with length, so an upper bound stops abuse.
pub const MAX_LEN: usize = 256;

/// A password that passed the rules for new passwords. Deliberately without `Debug`/`Serialize`:
/// it must never be logged or sent anywhere.
pub struct NewPassword(String);

/// Why a new password is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
pub enum PasswordError {
    /// Fewer than [`MIN_LEN`] characters.
    #[error("the password is too short")]
    TooShort,
    /// More than [`MAX_LEN`] characters.
    #[error("the password is too long")]
    TooLong,
    /// One of the most common passwords, or one character repeated.
    #[error("the password is too common")]
    TooCommon,
}

impl NewPassword {
    /// Checks length and commonness.
    pub fn parse(input: &str) -> Result<Self, PasswordError> {
        let len = input.chars().count();
        if len < MIN_LEN {
            return Err(PasswordError::TooShort);
        }
        if len > MAX_LEN {
            return Err(PasswordError::TooLong);
        }
        let lower = input.to_lowercase();
        let mut chars = lower.chars();
        let first = chars.next();
        let one_char_repeated = chars.all(|c| Some(c) == first);
        if one_char_repeated || is_common(&lower) {
            return Err(PasswordError::TooCommon);
        }
        Ok(Self(input.to_owned()))
    }

    /// The password itself, for hashing.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

fn is_common(lower: &str) -> bool {
    COMMON_PASSWORDS.lines().any(|common| common == lower)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_list_holds_a_thousand_passwords() {
        assert_eq!(COMMON_PASSWORDS.lines().count(), 1000);
    }

    #[test]
    fn short_passwords_are_refused() {
        assert_eq!(NewPassword::parse("").err(), Some(PasswordError::TooShort));
        assert_eq!(
            NewPassword::parse("abc123xyz").err(),
            Some(PasswordError::TooShort)
        );
        // Ten Persian letters are ten characters, not twenty bytes.
        assert!(NewPassword::parse("رمزعبورمنخیلی").is_ok());
    }

    #[test]
    fn common_passwords_are_refused_whatever_their_case() {
        assert_eq!(
            NewPassword::parse("1234567890").err(),
            Some(PasswordError::TooCommon)
        );
        assert_eq!(
            NewPassword::parse("QwertyUiop").err(),
            Some(PasswordError::TooCommon)
        );
        assert_eq!(
            NewPassword::parse("aaaaaaaaaaaa").err(),
            Some(PasswordError::TooCommon)
        );
    }

    #[test]
    fn huge_passwords_are_refused() {
        assert_eq!(
            NewPassword::parse(&"x1".repeat(200)).err(),
            Some(PasswordError::TooLong)
        );
    }

    #[test]
    fn a_reasonable_password_is_accepted() {
        let password = NewPassword::parse("taxi-bridge-2026").unwrap();
        assert_eq!(password.expose(), "taxi-bridge-2026");
    }
}
