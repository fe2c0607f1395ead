//! Money: integer Rial everywhere, shown as Toman (÷10) to people.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::digits::{group_thousands, to_persian_digits};
use crate::i18n::Lang;

/// An amount in Iranian Rial, the unit stored in the database and sent to payment gateways.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
pub struct Rial(i64);

impl Rial {
    /// Wraps a Rial amount.
    pub const fn new(rial: i64) -> Self {
        Self(rial)
    }

    /// Converts whole Toman to Rial.
    pub const fn from_toman(toman: i64) -> Self {
        Self(toman * 10)
    }

    /// The amount in Rial.
    pub const fn rial(self) -> i64 {
        self.0
    }

    /// The amount in Toman, exact (a Rial amount may have a tenth of a Toman).
    pub fn toman(self) -> Decimal {
        Decimal::new(self.0, 1)
    }

    /// "۱۰٬۰۰۰ تومان" or "10,000 Toman".
    pub fn display_toman(self, lang: Lang) -> String {
        let tenths = (self.0 % 10).abs();
        let mut text = group_thousands(self.0 / 10);
        if self.0 < 0 && self.0 > -10 {
            text.insert(0, '-');
        }
        if tenths != 0 {
            text.push_str(&format!(".{tenths}"));
        }
        match lang {
            Lang::Fa => format!(
                "{} تومان",
                to_persian_digits(&text).replace(',', "٬").replace('.', "٫")
            ),
            Lang::En => format!("{text} Toman"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn toman_is_a_tenth_of_rial() {
        assert_eq!(Rial::from_toman(10_000).rial(), 100_000);
        assert_eq!(Rial::new(25).toman().to_string(), "2.5");
    }

    #[test]
    fn amounts_are_shown_in_toman_in_both_languages() {
        assert_eq!(
            Rial::from_toman(10_000).display_toman(Lang::En),
            "10,000 Toman"
        );
        assert_eq!(
            Rial::from_toman(10_000).display_toman(Lang::Fa),
            "۱۰٬۰۰۰ تومان"
        );
        assert_eq!(Rial::new(0).display_toman(Lang::En), "0 Toman");
        assert_eq!(Rial::new(12_345).display_toman(Lang::En), "1,234.5 Toman");
    }
}
