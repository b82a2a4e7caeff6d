//! Which side of a call is the business: business numbers (given with
//! `--business-number` or inferred from the file), extensions, and the source's own hints.

use super::leg::{CallLegs, Leg};
use crate::model::Direction;
use crate::normalize::phone::PhoneCache;
use polars::prelude::PlHashSet;
use std::collections::{HashMap, HashSet};

/// What one end of a call is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum End {
    /// A business extension, queue, SIP peer or the dialplan's `s`.
    Extension,
    /// One of the business's own numbers.
    Business,
    /// A customer's (or anyone else's) phone number, E.164.
    External(String),
    /// Withheld, anonymous, unknown or empty.
    Withheld,
    /// Looks like a phone number but is not valid in the region.
    Invalid,
}

/// Caller values that mean "no number".
pub fn is_withheld(raw: &str) -> bool {
    const WITHHELD: &[&str] = &[
        "",
        "-1",
        "-2",
        "-3",
        "-4",
        "anonymous",
        "unknown",
        "withheld",
        "private",
        "restricted",
        "unavailable",
        "blocked",
        "payphone",
        "no caller id",
        "(unknown)",
    ];
    let t = crate::normalize::text::trim(raw);
    // Phone numbers and extensions start with a digit or `+`: skip the list for them.
    if t.len() > 2 && t.as_bytes()[0].is_ascii_digit() {
        return false;
    }
    WITHHELD.iter().any(|w| t.eq_ignore_ascii_case(w))
}

/// A short internal number (`201`, `700`, `s`) or a named SIP peer/client (`client:alice`).
pub fn is_extension(raw: &str) -> bool {
    let t = crate::normalize::text::trim(raw);
    if t == "s" || t.starts_with("client:") || t.starts_with("sip:") {
        return true;
    }
    let digits = t.bytes().filter(u8::is_ascii_digit).count();
    if t.bytes().all(|b| b.is_ascii_digit() || b == b'*' || b == b'#') {
        return (1..=5).contains(&digits);
    }
    // A peer name such as `test` or `reception`: not a phone number.
    digits == 0 && t.chars().all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '.'))
}

/// The business numbers of this import: given, plus inferred ones. Asked twice per call,
/// hence polars' fast hash rather than SipHash.
#[derive(Default)]
pub struct BusinessNumbers {
    pub given: PlHashSet<String>,
    pub inferred: PlHashSet<String>,
}

impl BusinessNumbers {
    pub fn contains(&self, e164: &str) -> bool {
        // An empty set still hashes the key: most imports have one of the two.
        (!self.given.is_empty() && self.given.contains(e164))
            || (!self.inferred.is_empty() && self.inferred.contains(e164))
    }

    pub fn classify(&self, raw: &str, phones: &mut PhoneCache) -> End {
        if is_withheld(raw) {
            return End::Withheld;
        }
        if is_extension(raw) {
            return End::Extension;
        }
        match phones.e164_ref(raw) {
            Some(n) if self.contains(n) => End::Business,
            Some(n) => End::External(n.to_string()),
            None => End::Invalid,
        }
    }
}

/// Infers business numbers from a sample of calls: a number that appears on one side of
/// many calls, with many different numbers on the other side, is a DID of the business
/// (customers call a few times; the shop's main line is in every second call).
pub fn infer_business(sample: &[CallLegs], phones: &mut PhoneCache) -> Vec<(String, usize, usize)> {
    #[derive(Default)]
    struct Seen {
        calls: usize,
        other_side: usize,
        peers: HashSet<String>,
    }
    let mut as_callee: HashMap<String, Seen> = HashMap::new();
    let mut as_caller: HashMap<String, Seen> = HashMap::new();
    for call in sample {
        let leg = call.primary();
        let from = phones.e164(&leg.from);
        let to = phones.e164(&leg.to);
        if let Some(t) = &to {
            let s = as_callee.entry(t.clone()).or_default();
            s.calls += 1;
            if let Some(f) = &from {
                if s.peers.len() < 64 {
                    s.peers.insert(f.clone());
                }
            }
        }
        if let Some(f) = &from {
            let s = as_caller.entry(f.clone()).or_default();
            s.calls += 1;
            if let Some(t) = &to {
                if s.peers.len() < 64 {
                    s.peers.insert(t.clone());
                }
            }
        }
    }
    for (n, s) in as_callee.iter_mut() {
        s.other_side = as_caller.get(n).map_or(0, |c| c.calls);
    }
    for (n, s) in as_caller.iter_mut() {
        s.other_side = as_callee.get(n).map_or(0, |c| c.calls);
    }
    let min_calls = (sample.len() / 20).max(3);
    let mut out: Vec<(String, usize, usize)> = as_callee
        .into_iter()
        .chain(as_caller)
        .filter(|(_, s)| s.calls >= min_calls && s.peers.len() >= 3 && s.calls >= 4 * s.other_side)
        .map(|(n, s)| (n, s.calls, s.peers.len()))
        .collect();
    out.sort();
    out.dedup_by(|a, b| a.0 == b.0);
    out
}

/// Decides a call's direction from its first leg's ends, then the source's hint.
pub fn decide(leg: &Leg, from: &End, to: &End) -> Direction {
    use Direction::*;
    if leg.hint.strong {
        if let Some(d) = leg.hint.direction {
            return d;
        }
    }
    let business = |e: &End| matches!(e, End::Extension | End::Business);
    let from_business = business(from) || (leg.caller_is_device && matches!(from, End::Withheld | End::Extension));
    match (from_business, business(to)) {
        (true, true) => Internal,
        (true, false) if matches!(to, End::External(_) | End::Invalid) => Outbound,
        (false, true) => Inbound,
        _ => leg.hint.direction.unwrap_or(Unknown),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::normalize::phone::Region;

    #[test]
    fn extensions_withheld_and_phone_numbers_are_told_apart() {
        assert!(is_extension("201"));
        assert!(is_extension("s"));
        assert!(is_extension("test"));
        assert!(!is_extension("07700900123"));
        assert!(!is_extension("+44 20 7946 0100"));
        assert!(is_withheld("anonymous"));
        assert!(is_withheld("-2"));
        let mut phones = PhoneCache::new(Region::parse("GB").unwrap());
        let mut b = BusinessNumbers::default();
        b.given.insert("+442079460100".into());
        assert_eq!(b.classify("02079460100", &mut phones), End::Business);
        assert_eq!(
            b.classify("07700 900123", &mut phones),
            End::External("+447700900123".into())
        );
        assert_eq!(b.classify("Anonymous", &mut phones), End::Withheld);
        assert_eq!(b.classify("999999999999999", &mut phones), End::Invalid);
    }
}
