//! Phone numbers to E.164, with the `phonenumber` crate (libphonenumber's rules).

use phonenumber::{country, Mode};
use polars::prelude::PlHashMap;

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

/// Starts loading libphonenumber's metadata (every region's patterns, ~80 ms) on a thread
/// of its own. Importers call it first so that it loads while files are hashed, instead of
/// the first worker to meet a number loading it while the others wait for it.
pub fn load_metadata_in_background() {
    static STARTED: std::sync::Once = std::sync::Once::new();
    STARTED.call_once(|| {
        // Without a thread (the system refused one) the first worker loads it, as before.
        let _ = std::thread::Builder::new().spawn(|| phonenumber::metadata::DATABASE.by_id("GB").is_some());
    });
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
///
/// Common shapes (`+` and digits; a national number of the region) take a fast path that
/// follows the crate's own steps with private copies of its metadata regexes; anything
/// else goes through [`phonenumber::parse`]. Both give the same answer (tested below).
pub fn to_e164(raw: &str, region: Region) -> Option<String> {
    let owned;
    let cleaned = if raw.chars().any(crate::normalize::text::is_invisible) {
        owned = raw
            .chars()
            .filter(|c| !crate::normalize::text::is_invisible(*c))
            .collect::<String>();
        owned.trim()
    } else {
        raw.trim()
    };
    let has_plus = cleaned.starts_with('+') || cleaned.starts_with("00");
    if !has_plus && region.0.is_none() {
        return None;
    }
    match fast::e164(cleaned, region) {
        fast::Answer::Known(answer) => answer,
        fast::Answer::Fallback => crate_e164(cleaned, region),
    }
}

/// The `phonenumber` crate's answer for a cleaned string (the reference for the fast path).
fn crate_e164(cleaned: &str, region: Region) -> Option<String> {
    let number = phonenumber::parse(region.0, cleaned).ok()?;
    if !phonenumber::is_valid(&number) && !plausible(&number) {
        return None;
    }
    Some(number.format().mode(Mode::E164).to_string())
}

/// A key that two raw phone strings share only when [`to_e164`] gives them the same answer:
/// whether the number had a `+`, and its digits (`07700 900123` and `07700-900123` share
/// one). `None` for shapes it does not cover (letters, `00` prefixes, odd punctuation).
pub fn digits_key(raw: &str) -> Option<u128> {
    let t = super::text::trim(raw);
    let (plus, body) = match t.strip_prefix('+') {
        Some(rest) => (true, rest),
        None => (false, t),
    };
    let digits = fast::simple_digits(body, plus)?;
    if !plus && digits.starts_with(b"00") {
        return None;
    }
    // 1 bit plus, 5 bits length, then up to 17 digits (< 2^57).
    let mut value = 0u128;
    for &d in digits.as_slice() {
        value = value * 10 + u128::from(d - b'0');
    }
    Some((value << 6) | ((digits.len() as u128) << 1) | u128::from(plus))
}

/// The fast path of [`to_e164`]: the crate's parse and validation steps for two shapes,
/// `+` followed by digits (and spaces), and digits (with spaces, `-`, `.`, parentheses)
/// read in the region, with the metadata regexes compiled once per thread. The crate
/// itself looks each regex up in a shared cache by hashing its (long) source on every
/// use, which is most of its cost. Anything this path does not model returns
/// [`fast::Answer::Fallback`].
mod fast {
    use super::Region;
    use phonenumber::metadata::DATABASE;
    use phonenumber::{Metadata, NationalNumber};
    use regex::{Regex, RegexBuilder};
    use std::cell::RefCell;
    use std::collections::HashMap;
    use std::rc::Rc;

    pub enum Answer {
        Known(Option<String>),
        Fallback,
    }

    /// The crate's `MIN_LENGTH_FOR_NSN` and `MAX_LENGTH_FOR_NSN`.
    const MIN_NSN: usize = 2;
    const MAX_NSN: usize = 17;

    /// Digits of a number, on the stack.
    pub struct Digits {
        buf: [u8; MAX_NSN],
        len: usize,
    }

    impl Digits {
        pub fn as_slice(&self) -> &[u8] {
            &self.buf[..self.len]
        }
        pub fn len(&self) -> usize {
            self.len
        }
        pub fn starts_with(&self, p: &[u8]) -> bool {
            self.as_slice().starts_with(p)
        }
        fn as_str(&self) -> &str {
            std::str::from_utf8(self.as_slice()).unwrap_or_default()
        }
    }

    /// The digits of `body` when it has a shape both parsers of the crate read as those
    /// digits alone: starts with a digit (or `(` without a `+`) and ends with one; after
    /// a `+` only spaces may separate them (without a space the crate's RFC 3966 reader
    /// takes `+44-…` as a country code up to the first separator); 6 to 17 digits.
    pub fn simple_digits(body: &str, plus: bool) -> Option<Digits> {
        let b = body.as_bytes();
        let first = *b.first()?;
        if !(first.is_ascii_digit() || (first == b'(' && !plus)) || !b.last()?.is_ascii_digit() {
            return None;
        }
        let mut d = Digits {
            buf: [0; MAX_NSN],
            len: 0,
        };
        for &c in b {
            match c {
                b'0'..=b'9' => {
                    if d.len == MAX_NSN {
                        return None;
                    }
                    d.buf[d.len] = c;
                    d.len += 1;
                }
                b' ' => {}
                b'-' | b'.' | b'(' | b')' if !plus => {}
                _ => return None,
            }
        }
        (d.len >= 6).then_some(d)
    }

    /// A number-type descriptor: its regex and possible lengths.
    struct Desc {
        re: Regex,
        possible_length: &'static [u16],
    }

    impl Desc {
        /// The crate's `Descriptor::is_match`: length allowed, and a match starting at 0.
        fn is_match(&self, value: &str) -> bool {
            if !self.possible_length.is_empty() && !self.possible_length.contains(&(value.len() as u16)) {
                return false;
            }
            starts(&self.re, value)
        }
    }

    /// A match starting at 0 (the regexes are compiled anchored, see [`compile`]).
    fn starts(re: &Regex, value: &str) -> bool {
        re.is_match(value)
    }

    /// Compiled copies of one metadata entry's regexes (same source, same options).
    struct Meta {
        meta: &'static Metadata,
        /// The entry's country code in decimal (written into every new number's E.164).
        country_code: String,
        general: Desc,
        /// Every type `number_type` tries after the general one; a number is valid when
        /// the general descriptor and any of these match.
        types: Vec<Desc>,
        international_prefix: Option<Regex>,
        national_prefix_for_parsing: Option<Regex>,
        leading_digits: Option<Regex>,
    }

    /// Compiles a metadata regex anchored at the start: every use here asks for a match
    /// starting at 0 (the crate's `find(..).start() == 0`). The leftmost-first match that
    /// starts at 0 is the same with or without the anchor, and an anchored search never
    /// scans past a mismatch or builds the unanchored automaton's states. The line break
    /// closes a `#` comment that `ignore_whitespace` would otherwise extend over the `)`.
    fn compile(source: &str) -> Option<Regex> {
        RegexBuilder::new(&format!("^(?:{source}\n)"))
            .ignore_whitespace(true)
            .build()
            .ok()
    }

    impl Meta {
        fn new(meta: &'static Metadata) -> Option<Meta> {
            let d = meta.descriptors();
            let desc = |x: &'static phonenumber::metadata::Descriptor| -> Option<Desc> {
                Some(Desc {
                    re: compile(x.national_number().as_str())?,
                    possible_length: x.possible_length(),
                })
            };
            let mut types = Vec::new();
            // The crate tries these in another order, but only whether any matches counts
            // here: the common types go first.
            for x in [
                d.mobile(),
                d.fixed_line(),
                d.premium_rate(),
                d.toll_free(),
                d.shared_cost(),
                d.voip(),
                d.personal_number(),
                d.pager(),
                d.uan(),
                d.voicemail(),
            ]
            .into_iter()
            .flatten()
            {
                types.push(desc(x)?);
            }
            let optional = |source: Option<&str>| -> Option<Option<Regex>> {
                match source {
                    Some(s) => compile(s).map(Some),
                    None => Some(None),
                }
            };
            Some(Meta {
                meta,
                country_code: meta.country_code().to_string(),
                general: desc(d.general())?,
                types,
                international_prefix: optional(meta.international_prefix().map(|r| r.as_str()))?,
                national_prefix_for_parsing: optional(meta.national_prefix_for_parsing().map(|r| r.as_str()))?,
                leading_digits: optional(meta.leading_digits().map(|r| r.as_str()))?,
            })
        }

        /// The crate's `number_type(..) != Type::Unknown`.
        fn is_known_type(&self, national: &str) -> bool {
            self.general.is_match(national) && self.types.iter().any(|t| t.is_match(national))
        }

        /// The crate's `validator::length(meta, number, Type::Unknown) != TooShort`.
        fn not_too_short(&self, national: &str) -> bool {
            let general = self.meta.descriptors().general();
            let possible = general.possible_length();
            let Some(&minimum) = possible.first() else {
                return true;
            };
            let len = national.len() as u16;
            general.possible_local_length().contains(&len) || len >= minimum
        }
    }

    thread_local! {
        /// Compiled metadata by entry address (non-geographic entries share an id).
        static METAS: RefCell<HashMap<usize, Option<Rc<Meta>>>> = RefCell::new(HashMap::new());
    }

    fn compiled(meta: &'static Metadata) -> Option<Rc<Meta>> {
        let key = meta as *const Metadata as usize;
        METAS.with(|m| {
            m.borrow_mut()
                .entry(key)
                .or_insert_with(|| Meta::new(meta).map(Rc::new))
                .clone()
        })
    }

    fn by_region(id: &str) -> Option<&'static Metadata> {
        DATABASE.by_id(id)
    }

    /// The crate's `validator::source_for` followed by the metadata lookup: which
    /// entry validates a national number of this country code. `Err` when a regex
    /// could not be compiled here.
    fn source_for(code: u16, national: &str) -> Result<Option<Rc<Meta>>, ()> {
        source_for_checked(code, national).map(|found| found.map(|(meta, _)| meta))
    }

    /// [`source_for`], and `true` when finding the entry already showed that the number
    /// is of a known type in it (`is_known_type` would repeat the same regexes).
    fn source_for_checked(code: u16, national: &str) -> Result<Option<(Rc<Meta>, bool)>, ()> {
        let Some(regions) = DATABASE.region(&code) else {
            return Ok(None);
        };
        let resolve = |id: &str| -> Result<Option<Rc<Meta>>, ()> {
            let meta = if id == "001" {
                DATABASE.by_code(&code).and_then(|m| m.into_iter().next())
            } else {
                match id.parse::<phonenumber::country::Id>() {
                    Ok(parsed) => by_region(parsed.as_ref()),
                    Err(_) => return Ok(None),
                }
            };
            match meta {
                Some(m) => compiled(m).map(Some).ok_or(()),
                None => Ok(None),
            }
        };
        if regions.len() == 1 {
            return resolve(regions[0]).map(|m| m.map(|m| (m, false)));
        }
        for region in regions {
            let meta = compiled(by_region(region).ok_or(())?).ok_or(())?;
            let (found, known_type) = match &meta.leading_digits {
                Some(pattern) => (starts(pattern, national), false),
                None => {
                    let known = meta.is_known_type(national);
                    (known, known)
                }
            };
            if found {
                if region == "001" {
                    return Err(());
                }
                return resolve(region).map(|resolved| {
                    resolved.map(|m| {
                        // The same entry as `meta` (one region id, one entry).
                        let same = Rc::ptr_eq(&m, &meta);
                        (m, known_type && same)
                    })
                });
            }
        }
        Ok(None)
    }

    /// The crate's `helper::national_number` and the national-prefix strip that
    /// `parse_with` applies after it; `None` when a transform rule would apply.
    fn strip_national_prefix<'a>(meta: &Meta, national: &'a str) -> Option<&'a str> {
        let mut n = national;
        match &meta.national_prefix_for_parsing {
            None => {
                if let Some(p) = meta.meta.national_prefix() {
                    if n.starts_with(p) {
                        n = &n[p.len()..];
                    }
                }
            }
            Some(parsing) => {
                if let Some(m) = parsing.find(n) {
                    if meta.meta.national_prefix_transform_rule().is_some() {
                        return None;
                    }
                    // The crate keeps the number only when `viable && !general.is_match(n[0..])`,
                    // which cannot hold; it always strips the match here.
                    n = &n[m.end()..];
                }
            }
        }
        if let Some(p) = meta.meta.national_prefix() {
            if n.starts_with(p) {
                n = &n[p.len()..];
            }
        }
        Some(n)
    }

    /// See the module documentation. `cleaned` is trimmed and free of invisible characters.
    pub fn e164(cleaned: &str, region: Region) -> Answer {
        match e164_inner(cleaned, region) {
            Some(answer) => Answer::Known(answer),
            None => Answer::Fallback,
        }
    }

    /// `None`: fall back; `Some(answer)`: the crate's answer.
    fn e164_inner(cleaned: &str, region: Region) -> Option<Option<String>> {
        let (plus, body) = match cleaned.strip_prefix('+') {
            Some(rest) => (true, rest),
            None => (false, cleaned),
        };
        let digits = simple_digits(body, plus)?;
        let d = digits.as_str();
        let region_meta = match region.0 {
            Some(id) => Some(compiled(by_region(id.as_ref())?)?),
            None => None,
        };
        // An international dialling prefix of the region at the start: the crate strips it.
        if let Some(idd) = region_meta.as_ref().and_then(|m| m.international_prefix.as_ref()) {
            if starts(idd, d) {
                return None;
            }
        }
        // The country code, and its digits as written: a `+` number's own first digits (no
        // leading zero), else the region's code.
        let (code, code_text, national, parse_meta) = if plus {
            if d.starts_with('0') {
                return None;
            }
            let (code, len) = (1..=3).find_map(|len| {
                let code: u16 = d[..len].parse().ok()?;
                DATABASE.by_code(&code).map(|_| (code, len))
            })?;
            let national = &d[len..];
            let parse_meta = match &region_meta {
                Some(m) => Some(Rc::clone(m)),
                None => source_for(code, national.trim_start_matches('0')).ok()?,
            };
            (code, &d[..len], national, parse_meta)
        } else {
            let meta = region_meta.as_ref()?;
            if d.starts_with(&meta.country_code) || d.starts_with("00") {
                return None;
            }
            (
                meta.meta.country_code(),
                meta.country_code.as_str(),
                d,
                Some(Rc::clone(meta)),
            )
        };
        let mut national = national;
        if let Some(meta) = parse_meta {
            let potential = strip_national_prefix(&meta, national)?;
            if meta.not_too_short(potential) {
                national = potential;
            }
        }
        if national.len() < MIN_NSN || national.len() > MAX_NSN {
            return Some(None);
        }
        if national.parse::<NationalNumber>().is_err() {
            return Some(None);
        }
        // `national` is ASCII digits, not all zeros (that would not parse), so the crate's
        // `NationalNumber` prints it back unchanged (its leading zeros, then its value) and
        // its value has as many digits as what follows the leading zeros.
        let valid = match source_for_checked(code, national).ok()? {
            Some((_, true)) => true,
            Some((meta, false)) => meta.is_known_type(national),
            None => false,
        };
        // `plausible` in the parent module.
        let plausible = code != 1 && (9..=11).contains(&national.trim_start_matches('0').len());
        if !valid && !plausible {
            return Some(None);
        }
        let mut e164 = String::with_capacity(1 + code_text.len() + national.len());
        e164.push('+');
        e164.push_str(code_text);
        e164.push_str(national);
        Some(Some(e164))
    }
}

/// Phone normalisation with a memo: call logs repeat the same few thousand numbers and
/// signatures the same numbers message after message.
/// Numbers of the common shapes are keyed by their digits (no allocation); the rest by
/// their text. Bounded so memory stays flat.
pub struct PhoneCache {
    region: Region,
    // Asked once or twice per record: polars' fast hash, not SipHash.
    by_digits: PlHashMap<u128, Option<String>>,
    by_text: PlHashMap<String, Option<String>>,
}

/// Entries kept per memo before it is emptied.
const PHONE_MEMO_ENTRIES: usize = 200_000;

impl PhoneCache {
    pub fn new(region: Region) -> PhoneCache {
        PhoneCache {
            region,
            by_digits: PlHashMap::default(),
            by_text: PlHashMap::default(),
        }
    }

    /// The region national numbers are read in.
    pub fn region(&self) -> Region {
        self.region
    }

    /// E.164 for a raw number, `None` when it is not a valid phone number.
    pub fn e164(&mut self, raw: &str) -> Option<String> {
        self.e164_ref(raw).map(str::to_string)
    }

    /// [`PhoneCache::e164`] without the copy.
    pub fn e164_ref(&mut self, raw: &str) -> Option<&str> {
        let region = self.region;
        let compute = || {
            if raw.bytes().any(|b| b.is_ascii_digit()) {
                to_e164(raw, region)
            } else {
                None
            }
        };
        match digits_key(raw) {
            Some(key) => {
                if self.by_digits.len() >= PHONE_MEMO_ENTRIES && !self.by_digits.contains_key(&key) {
                    self.by_digits.clear();
                }
                self.by_digits.entry(key).or_insert_with(compute).as_deref()
            }
            None => {
                if self.by_text.len() >= PHONE_MEMO_ENTRIES && !self.by_text.contains_key(raw) {
                    self.by_text.clear();
                }
                if !self.by_text.contains_key(raw) {
                    let v = compute();
                    self.by_text.insert(raw.to_string(), v);
                }
                self.by_text.get(raw).and_then(|v| v.as_deref())
            }
        }
    }
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

    /// The answer `to_e164` gave before the fast path existed: the crate alone.
    fn reference(raw: &str, region: Region) -> Option<String> {
        let cleaned: String = raw
            .chars()
            .filter(|c| !crate::normalize::text::is_invisible(*c))
            .collect();
        let cleaned = cleaned.trim();
        let has_plus = cleaned.starts_with('+') || cleaned.starts_with("00");
        if !has_plus && region.0.is_none() {
            return None;
        }
        crate_e164(cleaned, region)
    }

    /// Regions whose numbers the comparison covers: big markets, codes shared by several
    /// regions (+1, +7, +44, +47, +61, +262, +358, +590), national-prefix transform
    /// rules (AR, BR, MX, CO), Italian leading zeros, long and short numbers.
    const REGIONS: &[&str] = &[
        "GB", "US", "CA", "DE", "FR", "IT", "ES", "NL", "BE", "IE", "PT", "CH", "AT", "SE", "NO", "DK", "FI", "PL",
        "CZ", "GR", "TR", "RU", "KZ", "UA", "IN", "PK", "CN", "HK", "SG", "JP", "KR", "AU", "NZ", "ZA", "NG", "KE",
        "EG", "MA", "BR", "AR", "MX", "CO", "CL", "PE", "AE", "SA", "IL", "JM", "PR", "GG", "JE", "IM", "AX", "SJ",
        "RE", "YT", "GP", "VA", "SM", "LI", "LU", "MT", "CY", "IS",
    ];

    use crate::benchkit::SplitMix64 as Rng;

    /// `n` random decimal digits.
    fn digits(rng: &mut Rng, n: usize) -> String {
        (0..n).map(|_| char::from(b'0' + rng.below(10) as u8)).collect()
    }

    /// The ways people and exports write one number.
    fn written_forms(rng: &mut Rng, digits: &str, plus: bool) -> Vec<String> {
        let mut out = vec![digits.to_string()];
        let spaced: String = digits
            .chars()
            .enumerate()
            .map(|(i, c)| {
                if i > 0 && rng.below(4) == 0 {
                    format!(" {c}")
                } else {
                    c.to_string()
                }
            })
            .collect();
        out.push(spaced);
        if !plus && digits.len() > 6 {
            let (a, b) = digits.split_at(3 + rng.below(2) as usize);
            let (b, c) = b.split_at(b.len() / 2);
            out.push(format!("{a}-{b}-{c}"));
            out.push(format!("({a}) {b} {c}"));
            out.push(format!("{a}.{b}.{c}"));
            out.push(format!("({a}){b}-{c}"));
        }
        out.into_iter()
            .map(|f| if plus { format!("+{f}") } else { f })
            .collect()
    }

    /// Numbers built from the metadata's examples (valid by construction), near misses
    /// of them, and random digit strings, each in every region, written several ways.
    fn cases() -> Vec<String> {
        let mut rng = Rng(4);
        let mut numbers: Vec<(String, bool)> = Vec::new();
        for id in REGIONS {
            let meta = phonenumber::metadata::DATABASE.by_id(*id).expect("region metadata");
            let cc = meta.country_code().to_string();
            let np = meta.national_prefix().unwrap_or("").to_string();
            let d = meta.descriptors();
            for desc in [
                d.fixed_line(),
                d.mobile(),
                d.toll_free(),
                d.voip(),
                d.premium_rate(),
                d.uan(),
            ]
            .into_iter()
            .flatten()
            {
                let Some(example) = desc.example() else { continue };
                let mut variants = vec![example.to_string()];
                let mut changed = example.to_string();
                let last = changed.pop().unwrap_or('0');
                variants.push(format!("{changed}{}", (last as u8 - b'0' + 1) % 10));
                variants.push(changed.clone());
                variants.push(format!("{example}{}", rng.below(10)));
                let n = example.len();
                variants.push(format!(
                    "{}{}",
                    &example[..n.min(3)],
                    digits(&mut rng, n.saturating_sub(3))
                ));
                for v in variants {
                    numbers.push((format!("{cc}{v}"), true));
                    numbers.push((format!("{cc}0{v}"), true));
                    numbers.push((format!("{np}{v}"), false));
                    numbers.push((v.clone(), false));
                    numbers.push((format!("{cc}{v}"), false));
                    numbers.push((format!("00{cc}{v}"), false));
                }
            }
        }
        for _ in 0..600 {
            let len = 5 + rng.below(14) as usize;
            let lead = [
                "", "0", "1", "44", "7", "00", "011", "4", "49", "33", "39", "61", "91", "86", "52",
            ][rng.below(15) as usize];
            let digits = format!("{lead}{}", digits(&mut rng, len));
            numbers.push((digits.clone(), rng.below(2) == 0));
        }
        // Shapes from the corpus and the benchmark generators.
        for s in [
            "07700900123",
            "07412900371",
            "02079460100",
            "2125551234",
            "12125551234",
            "441632960001",
        ] {
            numbers.push((s.to_string(), false));
            numbers.push((s.to_string(), true));
        }
        let mut out = Vec::new();
        for (digits, plus) in numbers {
            out.extend(written_forms(&mut rng, &digits, plus));
        }
        out.extend(
            [
                "+44 (0)20 7946 0100",
                "+44-20-7946-0100",
                "+1 (212) 555-1234",
                "tel:+447700900123",
                "07700 900123 ext. 12",
                "0800-4-PIZZA",
                "+44 7700 900123\u{200B}",
                "  07700 900123  ",
                "＋44 7700 900123",
                "+4 47700900123",
                "++447700900123",
                "+ 44 7700 900123",
            ]
            .map(str::to_string),
        );
        out
    }

    #[test]
    fn the_fast_path_gives_the_crates_answer_on_every_case() {
        // The crate is slow without optimisations: a debug build compares a sample, a
        // release build (`cargo test --release`) every case in four regions.
        let cases = cases();
        let budget = if cfg!(debug_assertions) { 1_500 } else { 60_000 };
        let stride = (cases.len() * 4).div_ceil(budget.min(cases.len() * 4)).max(1);
        let mut regions: Vec<Region> = REGIONS.iter().map(|r| Region::parse(r).unwrap()).collect();
        regions.push(Region::none());
        let (mut compared, mut reached, mut fast_known, mut valid) = (0usize, 0usize, 0usize, 0usize);
        let mut mismatches = Vec::new();
        // Each case in its home region (rotating), GB, US and no region, grouped by region
        // so that the crate's small regex cache stays warm.
        let mut work: Vec<(usize, usize)> = Vec::new();
        for i in 0..cases.len() {
            for (j, r) in [i % regions.len(), 0, 1, regions.len() - 1].into_iter().enumerate() {
                if (i * 4 + j) % stride == 0 {
                    work.push((r, i));
                }
            }
        }
        work.sort_unstable();
        for (r, i) in work {
            let (raw, region) = (&cases[i], regions[r]);
            let expected = reference(raw, region);
            let got = to_e164(raw, region);
            compared += 1;
            valid += usize::from(expected.is_some());
            // Cases `to_e164` hands to the fast path (a `+`, `00` or a region).
            let t = raw.trim();
            if region.0.is_some() || t.starts_with('+') || t.starts_with("00") {
                reached += 1;
                if matches!(fast::e164(t, region), fast::Answer::Known(_)) {
                    fast_known += 1;
                }
            }
            if got != expected {
                mismatches.push(format!("{raw:?} in {:?}: crate {expected:?}, fast {got:?}", region.0));
            }
        }
        assert!(
            mismatches.is_empty(),
            "{} of {compared} differ:\n{}",
            mismatches.len(),
            mismatches[..mismatches.len().min(40)].join("\n")
        );
        // The comparison means something only if the fast path answered most of the cases
        // it was given (the rest are deliberately odd shapes) and many are valid numbers.
        eprintln!("{compared} compared, {reached} reached the fast path, {fast_known} answered there, {valid} valid");
        assert!(
            fast_known * 2 >= reached,
            "fast path answered {fast_known} of {reached}"
        );
        assert!(
            valid * 5 >= compared,
            "only {valid} of {compared} cases are valid numbers"
        );
    }

    #[test]
    fn numbers_with_one_digits_key_have_one_answer() {
        let gb = Region::parse("GB").unwrap();
        let mut answers: std::collections::HashMap<u128, (String, Option<String>)> = Default::default();
        for raw in cases() {
            let Some(key) = digits_key(&raw) else { continue };
            let answer = to_e164(&raw, gb);
            if let Some((first, a)) = answers.get(&key) {
                assert_eq!(a, &answer, "{first:?} and {raw:?} share a key");
            } else {
                answers.insert(key, (raw, answer));
            }
        }
        assert!(answers.len() > 1000);
        assert_eq!(digits_key("07700 900123"), digits_key("07700-900-123"));
        assert_ne!(digits_key("07700900123"), digits_key("+07700900123"));
        assert_ne!(digits_key("7700900123"), digits_key("07700900123"));
        assert_eq!(digits_key("0800-4-PIZZA"), None);
    }

    #[test]
    fn the_usual_shapes_take_the_fast_path() {
        let gb = Region::parse("GB").unwrap();
        for raw in [
            "07412900371",
            "02079460100",
            "+447700900123",
            "+44 20 7946 0100",
            "07700 900123",
            "+12125551234",
        ] {
            assert!(
                matches!(fast::e164(raw, gb), fast::Answer::Known(Some(_))),
                "{raw:?} fell back or was refused"
            );
        }
        let us = Region::parse("US").unwrap();
        assert!(matches!(fast::e164("(212) 555-1234", us), fast::Answer::Known(Some(_))));
    }
}
