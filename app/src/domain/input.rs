//! Parsed input: once a value has one of these types, it is valid.
//!
//! Each `parse` says what is wrong in words a customer can act on; the
//! error names the field so forms can show it next to the input.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A rejected input value: which field, and why.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct InvalidInput {
    pub field: &'static str,
    pub message: String,
}

impl InvalidInput {
    pub fn new(field: &'static str, message: impl Into<String>) -> Self {
        Self {
            field,
            message: message.into(),
        }
    }
}

/// How many guests a table booking is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "i64", into = "i64")]
pub struct PartySize(u8);

impl PartySize {
    /// The largest party one booking may be for; larger groups call the venue.
    pub const MAX: i64 = 50;

    pub fn parse(n: i64) -> Result<Self, InvalidInput> {
        if (1..=Self::MAX).contains(&n) {
            Ok(Self(n as u8))
        } else {
            Err(InvalidInput::new(
                "party_size",
                format!("A party is between 1 and {} guests.", Self::MAX),
            ))
        }
    }

    pub fn get(self) -> i64 {
        i64::from(self.0)
    }
}

impl TryFrom<i64> for PartySize {
    type Error = InvalidInput;
    fn try_from(n: i64) -> Result<Self, Self::Error> {
        Self::parse(n)
    }
}

impl From<PartySize> for i64 {
    fn from(p: PartySize) -> i64 {
        p.get()
    }
}

/// The key a booking form carries so that a double click or a resubmitted
/// request returns the booking already made.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct IdempotencyKey(String);

impl IdempotencyKey {
    pub fn parse(s: impl Into<String>) -> Result<Self, InvalidInput> {
        let s = s.into();
        let ok = (8..=64).contains(&s.len())
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if ok {
            Ok(Self(s))
        } else {
            Err(InvalidInput::new(
                "idempotency_key",
                "An idempotency key is 8 to 64 letters, digits, '-' or '_'.",
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for IdempotencyKey {
    type Error = InvalidInput;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(s)
    }
}

impl From<IdempotencyKey> for String {
    fn from(k: IdempotencyKey) -> String {
        k.0
    }
}

/// An email address, trimmed and lower-cased so that one person has one account.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Email(String);

impl Email {
    pub fn parse(s: &str) -> Result<Self, InvalidInput> {
        let s = s.trim().to_lowercase();
        let valid = s.len() <= 254
            && !s.chars().any(|c| c.is_whitespace() || c.is_control())
            && match s.split_once('@') {
                Some((local, domain)) => {
                    !local.is_empty()
                        && !domain.is_empty()
                        && !domain.contains('@')
                        && domain.contains('.')
                        && !domain.starts_with('.')
                        && !domain.ends_with('.')
                }
                None => false,
            };
        if valid {
            Ok(Self(s))
        } else {
            Err(InvalidInput::new(
                "email",
                "Enter an email address like name@example.com.",
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The name shown to staff and on confirmations.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DisplayName(String);

impl DisplayName {
    pub fn parse(s: &str) -> Result<Self, InvalidInput> {
        let s = s.trim();
        let len = s.chars().count();
        if len == 0 || len > 100 || s.chars().any(char::is_control) {
            Err(InvalidInput::new(
                "name",
                "A name is 1 to 100 characters, without control characters.",
            ))
        } else {
            Ok(Self(s.to_owned()))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A password as typed. Its `Debug` never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct Password(String);

impl Password {
    pub const MIN_CHARS: usize = 10;
    pub const MAX_CHARS: usize = 256;

    pub fn parse(s: &str) -> Result<Self, InvalidInput> {
        let n = s.chars().count();
        if s.chars().any(char::is_control) {
            Err(InvalidInput::new(
                "password",
                "A password cannot contain control characters.",
            ))
        } else if n < Self::MIN_CHARS {
            Err(InvalidInput::new(
                "password",
                format!("A password has at least {} characters.", Self::MIN_CHARS),
            ))
        } else if n > Self::MAX_CHARS {
            Err(InvalidInput::new(
                "password",
                format!("A password has at most {} characters.", Self::MAX_CHARS),
            ))
        } else {
            Ok(Self(s.to_owned()))
        }
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password([redacted])")
    }
}

/// The units a staff form gives a length of time in.
pub const DURATION_UNITS: [(&str, i64); 3] = [("minutes", 1), ("hours", 60), ("days", 1440)];

/// A length of time as a form gives it ("24" and "hours"), in minutes.
pub fn duration_minutes(field: &'static str, amount: i64, unit: &str) -> Result<i64, InvalidInput> {
    let per = DURATION_UNITS
        .iter()
        .find(|(name, _)| *name == unit)
        .map(|(_, per)| *per)
        .ok_or_else(|| InvalidInput::new(field, "Choose minutes, hours or days."))?;
    amount
        .checked_mul(per)
        .ok_or_else(|| InvalidInput::new(field, "That is far too long."))
}

/// Minutes in the largest unit that holds them whole: 1440 is (1, "days"),
/// 90 is (90, "minutes").
pub fn in_largest_unit(minutes: i64) -> (i64, &'static str) {
    DURATION_UNITS
        .iter()
        .rev()
        .find(|(_, per)| minutes != 0 && minutes % per == 0)
        .map(|(name, per)| (minutes / per, *name))
        .unwrap_or((minutes, "minutes"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn party_sizes_outside_one_to_fifty_are_refused_with_the_field_named() {
        assert_eq!(PartySize::parse(4).unwrap().get(), 4);
        for bad in [0, -1, 51, 10_000] {
            let err = PartySize::parse(bad).unwrap_err();
            assert_eq!(err.field, "party_size");
        }
    }

    #[test]
    fn idempotency_keys_are_short_and_plain() {
        assert!(IdempotencyKey::parse("a1b2c3d4-e5").is_ok());
        assert!(IdempotencyKey::parse("short").is_err());
        assert!(IdempotencyKey::parse("x".repeat(65)).is_err());
        assert!(IdempotencyKey::parse("has space 123").is_err());
    }

    #[test]
    fn emails_are_normalised_and_checked() {
        assert_eq!(
            Email::parse("  Anna@Example.COM ").unwrap().as_str(),
            "anna@example.com"
        );
        for bad in [
            "",
            "anna",
            "anna@",
            "@example.com",
            "a@b",
            "a b@example.com",
            "a@@b.com",
            "anna\u{0}@example.com",
            "anna@exa\u{7}mple.com",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad} should be refused");
        }
    }

    #[test]
    fn passwords_need_ten_characters_and_never_print() {
        assert!(Password::parse("123456789").is_err());
        assert_eq!(
            Password::parse("ten characters\u{0}").unwrap_err().field,
            "password"
        );
        let p = Password::parse("correct horse").unwrap();
        assert!(!format!("{p:?}").contains("horse"));
    }
}

/// Free text people write (a note, an address, a description): trimmed,
/// at most `max` characters, no control characters but line breaks and
/// tabs. `what` names it in the message ("The note").
pub fn free_text(
    field: &'static str,
    text: &str,
    max: usize,
    what: &str,
) -> Result<String, InvalidInput> {
    let t = text.trim();
    if t.chars().count() > max {
        return Err(InvalidInput::new(
            field,
            format!("{what} is at most {max} characters."),
        ));
    }
    if t.chars()
        .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
    {
        return Err(InvalidInput::new(
            field,
            format!("{what} has characters that cannot be shown."),
        ));
    }
    Ok(t.to_owned())
}

/// A note for the venue with a booking ("allergic to nuts"): at most 500
/// characters (see `free_text`); empty is none.
pub fn parse_note(text: Option<&str>) -> Result<Option<String>, InvalidInput> {
    let t = free_text("note", text.unwrap_or_default(), 500, "The note")?;
    Ok((!t.is_empty()).then_some(t))
}

/// A phone number the venue may call: digits with spaces, dashes, dots,
/// brackets and a leading +, 5 to 20 digits; empty is none.
pub fn parse_phone(text: Option<&str>) -> Result<Option<String>, InvalidInput> {
    let t = text.map(str::trim).unwrap_or_default();
    if t.is_empty() {
        return Ok(None);
    }
    let digits = t.bytes().filter(u8::is_ascii_digit).count();
    let allowed = t.char_indices().all(|(i, c)| {
        c.is_ascii_digit() || matches!(c, ' ' | '-' | '.' | '(' | ')') || (c == '+' && i == 0)
    });
    if allowed && (5..=20).contains(&digits) && t.len() <= 40 {
        Ok(Some(t.to_owned()))
    } else {
        Err(InvalidInput::new(
            "phone",
            "Write a phone number like +44 20 7946 0000, or leave it empty.",
        ))
    }
}

#[cfg(test)]
mod note_and_phone {
    use super::*;

    #[test]
    fn notes_and_phones_are_checked() {
        assert_eq!(parse_note(Some("  ")), Ok(None));
        assert_eq!(
            parse_note(Some(" Nut allergy ")).unwrap().as_deref(),
            Some("Nut allergy")
        );
        assert!(parse_note(Some(&"x".repeat(501))).is_err());
        assert_eq!(parse_phone(None), Ok(None));
        assert_eq!(
            parse_phone(Some("+44 (20) 7946-0000")).unwrap().as_deref(),
            Some("+44 (20) 7946-0000")
        );
        for bad in ["1234", "call me", "44+20 7946 0000", "+1 555 <script>"] {
            assert!(parse_phone(Some(bad)).is_err(), "{bad}");
        }
    }

    #[test]
    fn lengths_of_time_come_in_minutes_hours_or_days() {
        assert_eq!(duration_minutes("w", 24, "hours"), Ok(1440));
        assert_eq!(duration_minutes("w", 2, "days"), Ok(2880));
        assert_eq!(duration_minutes("w", 90, "minutes"), Ok(90));
        assert_eq!(duration_minutes("w", 1, "weeks").unwrap_err().field, "w");
        assert!(duration_minutes("w", i64::MAX, "days").is_err());
        assert_eq!(in_largest_unit(1440), (1, "days"));
        assert_eq!(in_largest_unit(120), (2, "hours"));
        assert_eq!(in_largest_unit(90), (90, "minutes"));
        assert_eq!(in_largest_unit(0), (0, "minutes"));
    }
}
