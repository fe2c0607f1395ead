//! E-mail addresses, parsed once at the edge.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A syntactically plausible e-mail address, trimmed and lower-cased so it can be a unique key.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Email(String);

/// Why a string is not an e-mail address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
pub enum EmailError {
    /// Nothing was typed.
    #[error("the e-mail address is empty")]
    Empty,
    /// Longer than the 254 characters SMTP allows.
    #[error("the e-mail address is too long")]
    TooLong,
    /// Not of the form `name@domain.tld`.
    #[error("not an e-mail address")]
    Invalid,
}

impl Email {
    /// Parses `input`, accepting surrounding whitespace and any letter case.
    pub fn parse(input: &str) -> Result<Self, EmailError> {
        let s = input.trim();
        if s.is_empty() {
            return Err(EmailError::Empty);
        }
        if s.chars().count() > 254 {
            return Err(EmailError::TooLong);
        }
        let s = s.to_lowercase();
        let (local, domain) = s.split_once('@').ok_or(EmailError::Invalid)?;
        let local_ok = !local.is_empty()
            && local.len() <= 64
            && !local.starts_with('.')
            && !local.ends_with('.')
            && !local.contains("..")
            && local
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "!#$%&'*+/=?^_`{|}~.-".contains(c));
        let labels: Vec<&str> = domain.split('.').collect();
        let domain_ok = labels.len() >= 2
            && labels.iter().all(|label| {
                !label.is_empty()
                    && label.len() <= 63
                    && !label.starts_with('-')
                    && !label.ends_with('-')
                    && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            })
            && labels
                .last()
                .is_some_and(|tld| tld.len() >= 2 && tld.chars().all(|c| c.is_ascii_alphabetic()));
        if local_ok && domain_ok {
            Ok(Self(s))
        } else {
            Err(EmailError::Invalid)
        }
    }

    /// The address as stored.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The address with most of the local part hidden, for logs: `a***@example.com`.
    pub fn masked(&self) -> String {
        match self.0.split_once('@') {
            Some((local, domain)) => {
                format!("{}***@{domain}", local.chars().next().unwrap_or('*'))
            }
            None => "***".into(),
        }
    }
}

impl TryFrom<String> for Email {
    type Error = EmailError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<Email> for String {
    fn from(value: Email) -> Self {
        value.0
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_trimmed_and_lower_cased() {
        assert_eq!(
            Email::parse("  Ali.Rezaei@Example.IR ").unwrap().as_str(),
            "ali.rezaei@example.ir"
        );
        assert_eq!(
            Email::parse("ops+pol@taxi-co.example.com")
                .unwrap()
                .as_str(),
            "ops+pol@taxi-co.example.com"
        );
    }

    #[test]
    fn junk_is_rejected() {
        assert_eq!(Email::parse(""), Err(EmailError::Empty));
        for bad in [
            "ali",
            "ali@",
            "@example.com",
            "ali@example",
            "ali@@example.com",
            "ali@exa mple.com",
            "ali..r@example.com",
            ".ali@example.com",
            "ali@-example.com",
            "ali@example.c0m",
            "علی@example.com",
            "ali@exa\nmple.com",
            "<script>@x.com",
        ] {
            assert_eq!(Email::parse(bad), Err(EmailError::Invalid), "{bad:?}");
        }
    }

    #[test]
    fn absurdly_long_addresses_are_rejected() {
        let long = format!("{}@example.com", "a".repeat(300));
        assert_eq!(Email::parse(&long), Err(EmailError::TooLong));
    }

    #[test]
    fn masking_keeps_the_domain() {
        assert_eq!(
            Email::parse("ali@example.com").unwrap().masked(),
            "a***@example.com"
        );
    }
}
