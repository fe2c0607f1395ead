//! Default price list: the tiers and packages shown to operators before they sign up.

use super::money::Rial;

/// A price tier: top-ups of at least `min_amount` buy talk time at `rate_per_minute`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tier {
    /// Smallest top-up this tier applies to.
    pub min_amount: Rial,
    /// Price of one minute of talk time.
    pub rate_per_minute: Rial,
}

/// Defaults: under 50,000 T → 250 T/min; 50,000 T and more → 200 T/min. Ordered by `min_amount`.
pub const DEFAULT_TIERS: [Tier; 2] = [
    Tier {
        min_amount: Rial::from_toman(0),
        rate_per_minute: Rial::from_toman(250),
    },
    Tier {
        min_amount: Rial::from_toman(50_000),
        rate_per_minute: Rial::from_toman(200),
    },
];

/// The packages offered on the top-up page, in Toman.
pub const PACKAGES_TOMAN: [i64; 4] = [10_000, 20_000, 50_000, 100_000];

/// The tier that applies to a top-up of `amount`.
pub fn tier_for(tiers: &[Tier], amount: Rial) -> Option<Tier> {
    tiers
        .iter()
        .rev()
        .find(|tier| amount >= tier.min_amount)
        .copied()
}

/// Seconds of talk time a top-up buys: floor(amount · 60 / rate).
pub fn seconds_for(amount: Rial, rate_per_minute: Rial) -> i64 {
    if rate_per_minute.rial() <= 0 || amount.rial() <= 0 {
        return 0;
    }
    let seconds = i128::from(amount.rial()) * 60 / i128::from(rate_per_minute.rial());
    i64::try_from(seconds).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_published_packages_buy_the_published_minutes() {
        let minutes: Vec<i64> = PACKAGES_TOMAN
            .iter()
            .map(|&toman| {
                let amount = Rial::from_toman(toman);
                let tier = tier_for(&DEFAULT_TIERS, amount).unwrap();
                seconds_for(amount, tier.rate_per_minute) / 60
            })
            .collect();
        assert_eq!(minutes, vec![40, 80, 250, 500]);
    }

    #[test]
    fn the_cheaper_rate_starts_at_exactly_fifty_thousand_toman() {
        assert_eq!(
            tier_for(&DEFAULT_TIERS, Rial::from_toman(49_999))
                .unwrap()
                .rate_per_minute,
            Rial::from_toman(250)
        );
        assert_eq!(
            tier_for(&DEFAULT_TIERS, Rial::from_toman(50_000))
                .unwrap()
                .rate_per_minute,
            Rial::from_toman(200)
        );
    }

    #[test]
    fn odd_amounts_round_seconds_down() {
        // 10,001 T at 250 T/min = 40.004 min = 2400.24 s → 2400 s.
        assert_eq!(
            seconds_for(Rial::from_toman(10_001), Rial::from_toman(250)),
            2400
        );
        assert_eq!(seconds_for(Rial::new(0), Rial::from_toman(250)), 0);
    }
}
