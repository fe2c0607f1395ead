//! A call's public vocabulary: statuses (Twilio's words), parties and leg positions.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// Where a call is. `queued → ringing → in-progress → completed`, or one of the other
/// terminal statuses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CallStatus {
    /// Accepted, not dialling yet.
    Queued,
    /// A party's phone is ringing.
    Ringing,
    /// The parties are talking.
    InProgress,
    /// The parties talked and hung up.
    Completed,
    /// A party was busy.
    Busy,
    /// A party did not answer.
    NoAnswer,
    /// The call could not be placed.
    Failed,
    /// Hung up before the parties were connected.
    Canceled,
}

impl CallStatus {
    /// Every status, in the order filters list them.
    pub const ALL: [CallStatus; 8] = [
        CallStatus::Queued,
        CallStatus::Ringing,
        CallStatus::InProgress,
        CallStatus::Completed,
        CallStatus::Busy,
        CallStatus::NoAnswer,
        CallStatus::Failed,
        CallStatus::Canceled,
    ];

    /// The stable code stored and sent in the API.
    pub fn code(self) -> &'static str {
        match self {
            CallStatus::Queued => "queued",
            CallStatus::Ringing => "ringing",
            CallStatus::InProgress => "in-progress",
            CallStatus::Completed => "completed",
            CallStatus::Busy => "busy",
            CallStatus::NoAnswer => "no-answer",
            CallStatus::Failed => "failed",
            CallStatus::Canceled => "canceled",
        }
    }

    /// Whether the call is over.
    pub fn is_terminal(self) -> bool {
        !matches!(
            self,
            CallStatus::Queued | CallStatus::Ringing | CallStatus::InProgress
        )
    }
}

impl FromStr for CallStatus {
    type Err = ();
    fn from_str(s: &str) -> Result<Self, ()> {
        CallStatus::ALL
            .into_iter()
            .find(|status| status.code() == s)
            .ok_or(())
    }
}

impl fmt::Display for CallStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// Who is on a leg.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Party {
    /// The rider.
    Passenger,
    /// The driver.
    Driver,
}

impl Party {
    /// The stable code.
    pub fn code(self) -> &'static str {
        match self {
            Party::Passenger => "passenger",
            Party::Driver => "driver",
        }
    }

    /// The other party.
    pub fn other(self) -> Party {
        match self {
            Party::Passenger => Party::Driver,
            Party::Driver => Party::Passenger,
        }
    }
}

impl FromStr for Party {
    type Err = ();
    fn from_str(s: &str) -> Result<Self, ()> {
        match s {
            "passenger" => Ok(Party::Passenger),
            "driver" => Ok(Party::Driver),
            _ => Err(()),
        }
    }
}

/// An E.164 number with its middle hidden (`+989121234567` → `0912***4567`), for viewers and
/// logs. Anything that is not a `+98` number keeps only its last four digits.
pub fn mask_number(e164: &str) -> String {
    match e164.strip_prefix("+98") {
        Some(national) if national.len() == 10 && national.is_ascii() => {
            format!("0{}***{}", &national[..3], &national[6..])
        }
        _ => {
            let tail: String = e164
                .chars()
                .rev()
                .take(4)
                .collect::<Vec<_>>()
                .into_iter()
                .rev()
                .collect();
            format!("***{tail}")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_round_trip_through_their_codes() {
        for status in CallStatus::ALL {
            assert_eq!(status.code().parse::<CallStatus>(), Ok(status));
            assert_eq!(
                serde_json::to_string(&status).unwrap(),
                format!("\"{}\"", status.code())
            );
        }
        assert!("in_progress".parse::<CallStatus>().is_err());
    }

    #[test]
    fn only_queued_ringing_and_in_progress_are_live() {
        let live: Vec<_> = CallStatus::ALL
            .into_iter()
            .filter(|s| !s.is_terminal())
            .collect();
        assert_eq!(
            live,
            [
                CallStatus::Queued,
                CallStatus::Ringing,
                CallStatus::InProgress
            ]
        );
    }

    #[test]
    fn numbers_are_masked_in_the_middle() {
        assert_eq!(mask_number("+989121234567"), "0912***4567");
        assert_eq!(mask_number("+4915112345678"), "***5678");
    }
}
