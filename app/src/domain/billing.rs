//! Billing arithmetic: how much to hold, how many seconds to bill, what they cost.

use rust_decimal::prelude::ToPrimitive;
use rust_decimal::{Decimal, RoundingStrategy};

use super::money::Rial;

/// Seconds to hold for a call: the request rounded up to whole billing increments (a 30-second
/// limit still bills a whole minute), capped by what is available in whole increments; `None`
/// when not even one increment is available.
pub fn grant_seconds(requested: i64, available: i64, increment: i64) -> Option<i64> {
    let increment = increment.max(1);
    let wanted = billed_seconds(requested, increment);
    let affordable = available.max(0) / increment * increment;
    let grant = wanted.min(affordable);
    (grant >= increment).then_some(grant)
}

/// Seconds billed for `talk` seconds of bridged talk: whole increments, rounded up
/// (`ceil(talk / increment) · increment`); no talk, no charge.
pub fn billed_seconds(talk: i64, increment: i64) -> i64 {
    let increment = increment.max(1);
    if talk <= 0 {
        return 0;
    }
    (talk + increment - 1) / increment * increment
}

/// The price of `seconds` at `rate_per_minute`, to the nearest Rial (halves away from zero).
pub fn cost(seconds: i64, rate_per_minute: Rial) -> Rial {
    let exact = Decimal::from(rate_per_minute.rial()) * Decimal::from(seconds) / Decimal::from(60);
    let rounded = exact.round_dp_with_strategy(0, RoundingStrategy::MidpointAwayFromZero);
    Rial::new(rounded.to_i64().unwrap_or(i64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hold_is_whole_increments_of_what_is_available() {
        assert_eq!(grant_seconds(300, 10_000, 60), Some(300));
        assert_eq!(grant_seconds(300, 250, 60), Some(240));
        assert_eq!(grant_seconds(300, 59, 60), None);
        assert_eq!(grant_seconds(90, 10_000, 60), Some(120));
        assert_eq!(grant_seconds(30, 10_000, 60), Some(60));
        assert_eq!(grant_seconds(45, 45, 1), Some(45));
        assert_eq!(grant_seconds(-5, 100, 60), None);
    }

    #[test]
    fn talk_time_is_billed_in_whole_increments() {
        assert_eq!(billed_seconds(0, 60), 0);
        assert_eq!(billed_seconds(1, 60), 60);
        assert_eq!(billed_seconds(60, 60), 60);
        assert_eq!(billed_seconds(61, 60), 120);
        assert_eq!(billed_seconds(61, 1), 61);
    }

    #[test]
    fn cost_is_rate_times_minutes_to_the_rial() {
        // 250 T/min = 2,500 Rial/min.
        assert_eq!(cost(60, Rial::from_toman(250)), Rial::new(2_500));
        assert_eq!(cost(1, Rial::from_toman(250)), Rial::new(42)); // 41.67
        assert_eq!(cost(3, Rial::new(10)), Rial::new(1)); // 0.5 rounds away from zero
        assert_eq!(cost(0, Rial::from_toman(200)), Rial::new(0));
    }
}
