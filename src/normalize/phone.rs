//! Phone numbers to E.164, with the `phonenumber` crate (libphonenumber's rules).

use phonenumber::{country, Mode};

/// Default region for national numbers (`07700 900123` needs to know it is British).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Region(pub Option<country::Id>);

impl Region {
    /// Parses an ISO 3166 alpha-2 code such as `GB` or `de`.
    pub fn parse(code: &str) -> Result<Region, String> {
        code.trim()
            .to_ascii_uppercase()
            .parse::<country::Id>()
            .map(|id| Region(Some(id)))
            .map_err(|_| format!("unknown region {code:?}: expected an ISO 3166 alpha-2 code such as GB, US, DE"))
    }

    pub fn none() -> Region {
        Region(None)
    }
}

/// True when `s` looks like nothing but a phone number (digits and the usual punctuation).
pub fn looks_like_phone(s: &str) -> bool {
    let digits = s.bytes().filter(u8::is_ascii_digit).count();
    (7..=16).contains(&digits)
        && s.chars().all(|c| {
            c.is_ascii_digit() || matches!(c, '+' | ' ' | '-' | '(' | ')' | '.' | '/' | '\u{00A0}' | '\u{202F}')
        })
        && s.trim_start()
            .starts_with(|c: char| c == '+' || c == '(' || c.is_ascii_digit())
}

/// Numbers libphonenumber does not list as assigned but that have a real shape: the
/// ranges reserved for fiction and tests (`07700 900xxx` in the UK) and newly opened
/// blocks. North American numbers must have exactly 10 digits.
fn plausible(number: &phonenumber::PhoneNumber) -> bool {
    let national = number.national().value().to_string().len();
    match number.code().value() {
        1 => false,
        _ => (9..=11).contains(&national),
    }
}

/// Normalises to E.164 (`+447700900123`). Returns `None` for strings that are not a valid
/// number in the given region (or, with a leading `+`, in any region).
pub fn to_e164(raw: &str, region: Region) -> Option<String> {
    let cleaned: String = raw
        .chars()
        .filter(|c| !crate::normalize::text::is_invisible(*c))
        .collect();
    let cleaned = cleaned.trim();
    let has_plus = cleaned.starts_with('+') || cleaned.starts_with("00");
    if !has_plus && region.0.is_none() {
        return None;
    }
    let number = phonenumber::parse(region.0, cleaned).ok()?;
    if !phonenumber::is_valid(&number) && !plausible(&number) {
        return None;
    }
    Some(number.format().mode(Mode::E164).to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn international_and_national_forms_agree() {
        let gb = Region::parse("GB").unwrap();
        assert_eq!(
            to_e164("+44 7700 900123", Region::none()).as_deref(),
            Some("+447700900123")
        );
        assert_eq!(to_e164("07700 900123", gb).as_deref(), Some("+447700900123"));
        assert_eq!(to_e164("07700 900123", Region::none()), None);
        assert_eq!(to_e164("+1 123 456 789", Region::none()), None);
        assert!(looks_like_phone("+1 123 456 789"));
        assert!(!looks_like_phone("John Doe"));
        assert!(Region::parse("XX").is_err());
    }
}
