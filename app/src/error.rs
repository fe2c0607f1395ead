//! The error every server function returns. It crosses the wire (JSON, or the `__err` query
//! parameter when a form was posted without JavaScript) and is shown in the user's language.

use leptos::server_fn::codec::JsonEncoding;
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use serde::{Deserialize, Serialize};

use crate::domain::{EmailError, PasswordError, PhoneError};

/// What went wrong with one form field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Problem {
    /// Left empty.
    Required,
    /// Longer than allowed.
    TooLong,
    /// Not a mobile number.
    Phone(PhoneError),
    /// Not an e-mail address.
    Email(EmailError),
    /// Password rule broken.
    Password(PasswordError),
    /// An account with this e-mail exists.
    EmailTaken,
    /// The current password was wrong.
    WrongPassword,
    /// Not one of the offered choices.
    InvalidChoice,
    /// The person is already in this tenant.
    AlreadyMember,
    /// The last owner cannot be removed or demoted.
    LastOwner,
    /// Not a whole number.
    NotANumber,
    /// A top-up outside the allowed range.
    AmountOutOfRange,
    /// More than the tenant has available.
    ExceedsBalance,
    /// A number outside the range the form states.
    OutOfRange,
    /// Both parties have the same number.
    SameNumber,
    /// Not a caller ID (3–15 digits).
    InvalidCallerId,
    /// Not an http(s) URL.
    InvalidUrl,
    /// A URL into a private network.
    PrivateUrl,
    /// A URL whose host does not resolve.
    UnresolvableUrl,
}

/// A problem attached to a form field by name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldError {
    /// The form field's `name`.
    pub field: String,
    /// What is wrong with it.
    pub problem: Problem,
}

/// Field errors plus the non-secret values the user typed, so a form re-rendered without
/// JavaScript loses nothing.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FormErrors {
    /// One entry per bad field.
    pub fields: Vec<FieldError>,
    /// `(name, value)` of fields to refill.
    pub values: Vec<(String, String)>,
}

impl FormErrors {
    /// Adds a problem.
    pub fn add(&mut self, field: &str, problem: Problem) {
        self.fields.push(FieldError {
            field: field.into(),
            problem,
        });
    }

    /// Remembers a typed value to refill.
    pub fn keep(&mut self, field: &str, value: &str) {
        self.values.push((field.into(), value.into()));
    }

    /// The first problem with `field`.
    pub fn problem(&self, field: &str) -> Option<Problem> {
        self.fields
            .iter()
            .find(|e| e.field == field)
            .map(|e| e.problem)
    }

    /// The refill value of `field`.
    pub fn value(&self, field: &str) -> Option<&str> {
        self.values
            .iter()
            .find(|(k, _)| k == field)
            .map(|(_, v)| v.as_str())
    }

    /// `Err(AppError::Invalid(self))` when there are problems.
    pub fn into_result(self) -> Result<(), AppError> {
        if self.fields.is_empty() {
            Ok(())
        } else {
            Err(AppError::Invalid(self))
        }
    }
}

/// Errors from server functions, each with a stable meaning the UI can translate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum AppError {
    /// Some fields are wrong.
    #[error("some fields are invalid")]
    Invalid(FormErrors),
    /// Unknown e-mail or wrong password (deliberately indistinguishable).
    #[error("wrong e-mail or password")]
    InvalidCredentials,
    /// Too many failed attempts.
    #[error("too many attempts; try again in {minutes} minutes")]
    Throttled {
        /// Whole minutes until the next attempt is allowed.
        minutes: u32,
    },
    /// The form's anti-forgery token is missing or stale.
    #[error("the form expired")]
    Csrf,
    /// Sign in first.
    #[error("not signed in")]
    Unauthenticated,
    /// Signed in, but the role does not allow it.
    #[error("not allowed")]
    Forbidden,
    /// No such thing in this tenant.
    #[error("not found")]
    NotFound,
    /// An e-mailed link that is unknown, expired or already used.
    #[error("the link is invalid or has expired")]
    LinkInvalid,
    /// Not enough talk time for a call.
    #[error("insufficient credit")]
    InsufficientCredit,
    /// Too many calls in progress.
    #[error("too many calls in progress")]
    ConcurrencyLimit,
    /// The payment gateway refused or could not be reached; nothing was charged.
    #[error("the payment gateway is unavailable")]
    GatewayUnavailable,
    /// Something failed on our side; details are in the server log only.
    #[error("internal error")]
    Internal,
    /// The request did not reach the server or its answer could not be read.
    #[error("request failed: {0}")]
    Request(String),
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        AppError::Request(value.to_string())
    }
}

impl AppError {
    /// The HTTP status that fits this error.
    pub fn status(&self) -> u16 {
        match self {
            AppError::Invalid(_) => 422,
            AppError::InvalidCredentials | AppError::Unauthenticated => 401,
            AppError::Throttled { .. } => 429,
            AppError::Csrf | AppError::Forbidden => 403,
            AppError::NotFound => 404,
            AppError::LinkInvalid => 410,
            AppError::GatewayUnavailable => 502,
            AppError::InsufficientCredit => 402,
            AppError::ConcurrencyLimit => 429,
            AppError::Internal => 500,
            AppError::Request(_) => 400,
        }
    }

    /// The field errors, if this is a validation error.
    pub fn form(&self) -> Option<&FormErrors> {
        match self {
            AppError::Invalid(form) => Some(form),
            _ => None,
        }
    }
}
