//! Prices: kept as whole minor units (cents) with the venue's ISO 4217
//! currency, shown as people read them ("€65.00", "CHF 65.00").

use super::input::InvalidInput;

/// "€65.00" for 6500 EUR; the code in front for currencies without a
/// common symbol here ("CHF 65.00").
pub fn format(cents: i64, currency: &str) -> String {
    let amount = format!("{}.{:02}", cents / 100, cents % 100);
    match currency {
        "EUR" => format!("€{amount}"),
        "GBP" => format!("£{amount}"),
        "USD" => format!("${amount}"),
        other => format!("{other} {amount}"),
    }
}

/// A price as staff type it: "65", "65.5", "65.50" or "65,50"; empty for
/// no price shown.
pub fn parse_price(text: &str) -> Result<Option<i64>, InvalidInput> {
    let t = text.trim();
    if t.is_empty() {
        return Ok(None);
    }
    let bad = || {
        InvalidInput::new(
            "price",
            "Write a price like 65 or 65.50, or leave it empty for no price.",
        )
    };
    let t = t.replace(',', ".");
    let (whole, frac) = t.split_once('.').unwrap_or((&t, ""));
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(whole) || whole.len() > 6 || frac.len() > 2 || !(frac.is_empty() || digits(frac)) {
        return Err(bad());
    }
    let whole: i64 = whole.parse().map_err(|_| bad())?;
    let frac: i64 = match frac.len() {
        0 => 0,
        1 => frac.parse::<i64>().map_err(|_| bad())? * 10,
        _ => frac.parse().map_err(|_| bad())?,
    };
    Ok(Some(whole * 100 + frac))
}

/// "65.50" for 6550: how the set-up form shows a price back.
pub fn plain(cents: i64) -> String {
    format!("{}.{:02}", cents / 100, cents % 100)
}

/// An ISO 4217 code: three capital letters ("EUR").
pub fn parse_currency(text: &str) -> Result<String, InvalidInput> {
    let t = text.trim().to_ascii_uppercase();
    if t.len() == 3 && t.bytes().all(|b| b.is_ascii_uppercase()) {
        Ok(t)
    } else {
        Err(InvalidInput::new(
            "currency",
            "Use a three-letter currency code like EUR, GBP or USD.",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prices_read_as_people_write_them() {
        assert_eq!(parse_price(""), Ok(None));
        assert_eq!(parse_price(" 65 "), Ok(Some(6500)));
        assert_eq!(parse_price("65.5"), Ok(Some(6550)));
        assert_eq!(parse_price("65,05"), Ok(Some(6505)));
        assert_eq!(parse_price("0"), Ok(Some(0)));
        for bad in ["-5", "6.555", "abc", "1e3", ".5", "9999999"] {
            assert!(parse_price(bad).is_err(), "{bad}");
        }
        assert_eq!(format(6505, "EUR"), "€65.05");
        assert_eq!(format(6500, "CHF"), "CHF 65.00");
        assert_eq!(plain(50), "0.50");
    }

    #[test]
    fn currencies_are_three_letters() {
        assert_eq!(parse_currency("gbp").as_deref(), Ok("GBP"));
        assert!(parse_currency("EURO").is_err());
        assert!(parse_currency("€").is_err());
    }
}
