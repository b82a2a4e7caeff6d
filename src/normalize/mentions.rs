//! Details customers write into messages: order/ticket numbers, emails, phone numbers.
//! They are what links a WhatsApp chat to an email thread or a call.

use super::phone::{PhoneCache, Region};
use regex::Regex;
use std::sync::OnceLock;

struct Patterns {
    email: Regex,
    phone: Regex,
    order_code: Regex,
    order_word: Regex,
}

/// Word boundaries are ASCII (`(?-u:\b)`): a Unicode `\b` makes the regex engine fall back
/// from its DFA to a backtracker on any non-ASCII text (most mail: `é`, `’`, `£`), which cost
/// more than everything else an email import does; and it missed numbers written right
/// after a letter in scripts without spaces (`电话07700900123`).
fn patterns() -> &'static Patterns {
    static P: OnceLock<Patterns> = OnceLock::new();
    P.get_or_init(|| Patterns {
        email: Regex::new(r"(?i)(?-u:\b)[a-z0-9._%+-]+@[a-z0-9-]+(?:\.[a-z0-9-]+)*\.[a-z]{2,}(?-u:\b)").unwrap(),
        phone: Regex::new(r"(?:\+|(?-u:\b))\d[\d \-().]{5,18}\d(?-u:\b)").unwrap(),
        // BS-10442, A-10442, ORD123456, #12345
        order_code: Regex::new(r"(?-u:\b)[A-Z]{1,5}-?\d{4,10}(?-u:\b)|#\d{4,10}(?-u:\b)").unwrap(),
        // "order 12345", "ticket no. 88812", "Bestellung 12345", "pedido 12345"
        order_word: Regex::new(
            r"(?i)(?-u:\b)(?:order|ticket|invoice|case|ref|reference|booking|bestellung|auftrag|pedido|commande|ordine|bestelling)\s*(?:no\.?|nr\.?|number|num|n[º°]|#)?\s*(?:is|ist|es|est|:)?\s*(\d{4,12})(?-u:\b)",
        )
        .unwrap(),
    })
}

thread_local! {
    /// Each thread's memo of normalised numbers (signatures repeat the same numbers message
    /// after message, and libphonenumber's parsing is the dearest step of mention
    /// extraction); per thread, so parallel importers never wait on a lock.
    static PHONES: std::cell::RefCell<Option<PhoneCache>> = const { std::cell::RefCell::new(None) };
}

/// [`to_e164`](super::phone::to_e164), remembered per thread and region.
fn to_e164_memo(raw: &str, region: Region) -> Option<String> {
    PHONES.with(|cell| {
        let mut cell = cell.borrow_mut();
        if cell.as_ref().is_none_or(|c| c.region() != region) {
            *cell = Some(PhoneCache::new(region));
        }
        cell.as_mut().and_then(|c| c.e164(raw))
    })
}

/// A line of the text that may hold an order code or a phone number: at least two ASCII
/// digits, or a digit of another script (`\d` matches those too). Neither pattern can match
/// across a line break and `\n` is not a word character, so searching these lines finds
/// exactly what searching the whole text finds, in the same order, while the regex engine
/// skips the lines of prose, accented prose included.
struct NumberLine<'a> {
    line: &'a str,
    /// Byte offset of the line in the text.
    at: usize,
    digits: usize,
    /// A non-ASCII numeric character (`char::is_numeric`, a superset of `\d`): its digits
    /// are not counted, so the line may hold anything.
    other_digits: bool,
}

impl NumberLine<'_> {
    fn has(&self, min_digits: usize) -> bool {
        self.other_digits || self.digits >= min_digits
    }
}

/// True when `line` has a numeric character outside ASCII.
fn has_other_digits(line: &str) -> bool {
    !line.is_ascii() && line.chars().any(|c| !c.is_ascii() && c.is_numeric())
}

/// ASCII digits in `bytes`, counted in byte lanes so the compiler vectorises it sixteen
/// bytes at a time (wider lanes made it four times slower, and it runs over every text).
fn ascii_digits(bytes: &[u8]) -> usize {
    // A byte lane cannot overflow within 255 bytes.
    bytes
        .chunks(255)
        .map(|chunk| chunk.iter().fold(0u8, |n, b| n + u8::from(b.wrapping_sub(b'0') < 10)) as usize)
        .sum()
}

/// The [`NumberLine`]s of `text`.
fn number_lines(text: &str) -> Vec<NumberLine<'_>> {
    let mut lines = Vec::new();
    let mut at = 0;
    // The pieces `split('\n')` gives, found with memchr's vector search.
    let ends = memchr::memchr_iter(b'\n', text.as_bytes()).chain(std::iter::once(text.len()));
    for end in ends {
        let line = &text[at..end];
        let digits = ascii_digits(line.as_bytes());
        let other_digits = has_other_digits(line);
        if digits >= 2 || other_digits {
            lines.push(NumberLine {
                line,
                at,
                digits,
                other_digits,
            });
        }
        at = end + 1;
    }
    lines
}

/// Where an "order 12345" phrase can start at the earliest. Its number is a run of 4+
/// digits and between the word and the number there is only white space and short glue
/// (`no.`, `nº`, `#`, `is`, `:`), so no match starts before the first such run minus that
/// glue and the longest keyword. Mail is mostly prose before the number; the search skips it.
/// Any non-ASCII character counts as a digit here (a superset of `\d`, which can only make
/// the start earlier), so the scan stays on bytes, and only on lines that can hold a run.
fn order_word_start(text: &str, lines: &[NumberLine<'_>]) -> usize {
    let first_run = lines.iter().filter(|l| l.has(4)).find_map(|l| {
        let (mut run, mut run_start) = (0, 0);
        for (i, &b) in l.line.as_bytes().iter().enumerate() {
            if b.is_ascii_digit() || b >= 0xC0 {
                if run == 0 {
                    run_start = i;
                }
                run += 1;
                if run == 4 {
                    return Some(l.at + run_start);
                }
            } else if b < 0x80 {
                run = 0;
            }
        }
        None
    });
    let Some(mut start) = first_run else { return text.len() };
    let before = |at: usize| text[..at].chars().next_back();
    let skip_white = |mut at: usize| {
        while let Some(c) = before(at).filter(|c| c.is_whitespace()) {
            at -= c.len_utf8();
        }
        at
    };
    let skip_word = |mut at: usize| {
        for _ in 0..16 {
            match before(at).filter(|c| !c.is_whitespace()) {
                Some(c) => at -= c.len_utf8(),
                None => break,
            }
        }
        at
    };
    start = skip_white(skip_word(skip_white(skip_word(skip_white(start)))));
    let mut start = start.saturating_sub(32);
    while !text.is_char_boundary(start) {
        start -= 1;
    }
    start
}

/// Extracts mentions as `kind:value` strings, deduplicated: emails, then order numbers, then phones.
pub fn extract(text: &str, region: Region) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut push = |m: String| {
        if !out.contains(&m) {
            out.push(m);
        }
    };
    let p = patterns();
    if memchr::memchr(b'@', text.as_bytes()).is_some() {
        for m in p.email.find_iter(text) {
            push(format!("email:{}", m.as_str().to_lowercase()));
        }
    }
    // Most chat messages have fewer than four digits: nothing more to look for.
    let digits = ascii_digits(text.as_bytes());
    if digits < 4 {
        return out;
    }
    let lines = number_lines(text);
    for m in lines
        .iter()
        .filter(|l| l.has(4))
        .flat_map(|l| p.order_code.find_iter(l.line))
    {
        let code = m.as_str().trim_start_matches('#');
        push(format!("order:{}", code.to_ascii_uppercase()));
    }
    let mut at = order_word_start(text, &lines);
    // The plain search first: most texts have no such phrase, and only a match needs its
    // groups (the leftmost match from its own start is the same match).
    while let Some(m) = p.order_word.find_at(text, at) {
        if let Some(c) = p.order_word.captures_at(text, m.start()) {
            push(format!("order:{}", &c[1]));
        }
        at = m.end();
    }
    if digits >= 7 {
        for m in lines.iter().flat_map(|l| p.phone.find_iter(l.line)) {
            if let Some(e164) = to_e164_memo(m.as_str(), region) {
                push(format!("phone:{e164}"));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_phrases_are_found_from_their_earliest_start_exactly_as_in_the_whole_text() {
        let words = [
            "order",
            "Order",
            "ORDER",
            "Bestellung",
            "pedido",
            "reference",
            "ticket",
            "no.",
            "Nr",
            "nº",
            "#",
            "is",
            "ist",
            ":",
            " ",
            "  ",
            "\n",
            "\t",
            "\u{a0}",
            "1234",
            "12",
            "567890",
            "٣٤٥٦",
            "x",
            "border",
            "é",
            "orders",
            "1234567890123",
            ",",
        ];
        let re = &patterns().order_word;
        let mut rng = crate::benchkit::SplitMix64(11);
        for _ in 0..50_000 {
            let n = rng.below(14) as usize;
            let text: String = (0..n).map(|_| words[rng.below(words.len() as u64) as usize]).collect();
            let whole: Vec<String> = re.captures_iter(&text).map(|c| c[1].to_string()).collect();
            let mut from_start = Vec::new();
            let lines = number_lines(&text);
            let mut at = order_word_start(&text, &lines);
            while let Some(c) = re.captures_at(&text, at) {
                from_start.push(c[1].to_string());
                at = c.get(0).unwrap().end();
            }
            assert_eq!(whole, from_start, "{text:?}");
        }
    }

    /// The line filter skips lines without ASCII digits or a non-ASCII numeric character:
    /// sound only while every character `\d` matches (regex-syntax's Unicode tables) is one
    /// of those for this standard library (its Unicode version may lag behind).
    #[test]
    fn every_character_of_backslash_d_is_seen_by_the_line_filter() {
        use regex_syntax::hir::{Class, HirKind};
        let hir = regex_syntax::parse(r"\d").unwrap();
        let HirKind::Class(Class::Unicode(class)) = hir.kind() else {
            panic!("\\d is a Unicode class: {hir:?}")
        };
        let mut seen = 0;
        for range in class.ranges() {
            for c in range.start()..=range.end() {
                assert!(c.is_ascii_digit() || (!c.is_ascii() && c.is_numeric()), "{c:?}");
                seen += 1;
            }
        }
        assert!(seen > 600, "{seen}");
    }

    /// What `extract` answers, found the plain way: every pattern over the whole text.
    fn whole_text(text: &str, region: Region) -> Vec<String> {
        let p = patterns();
        let mut out: Vec<String> = Vec::new();
        let mut push = |m: String| {
            if !out.contains(&m) {
                out.push(m);
            }
        };
        for m in p.email.find_iter(text) {
            push(format!("email:{}", m.as_str().to_lowercase()));
        }
        let digits = ascii_digits(text.as_bytes());
        if digits < 4 {
            return out;
        }
        for m in p.order_code.find_iter(text) {
            push(format!(
                "order:{}",
                m.as_str().trim_start_matches('#').to_ascii_uppercase()
            ));
        }
        for c in p.order_word.captures_iter(text) {
            push(format!("order:{}", &c[1]));
        }
        if digits >= 7 {
            for m in p.phone.find_iter(text) {
                if let Some(e164) = to_e164_memo(m.as_str(), region) {
                    push(format!("phone:{e164}"));
                }
            }
        }
        out
    }

    #[test]
    fn searching_number_lines_finds_what_searching_the_whole_text_finds() {
        let pieces = [
            "order ",
            "Bestellung Nr. ",
            "12345",
            "BS-10442",
            "#55512",
            "07700 900123",
            "+44 7700 900124",
            "(0)20 7946 0100",
            "\n",
            "\r\n",
            " ",
            "é",
            "Ünïcødé prose, façade",
            "٣٤٥٦",
            "١٢",
            "௧௨௩௪",
            "½",
            "²",
            "電話",
            "Sarah.J@Mail.example",
            "x",
            "12",
            "-",
            "ABC",
        ];
        let gb = Region::parse("GB").unwrap();
        let mut rng = crate::benchkit::SplitMix64(17);
        for _ in 0..30_000 {
            let n = rng.below(12) as usize;
            let text: String = (0..n).map(|_| *rng.pick(&pieces)).collect();
            assert_eq!(extract(&text, gb), whole_text(&text, gb), "{text:?}");
        }
    }

    #[test]
    fn finds_orders_emails_and_phones() {
        let gb = Region::parse("GB").unwrap();
        let m = extract(
            "Order BS-10442 please, call me on 07700 900123 or mail Sarah.J@Mail.example",
            gb,
        );
        assert!(m.contains(&"order:BS-10442".to_string()), "{m:?}");
        assert!(m.contains(&"phone:+447700900123".to_string()), "{m:?}");
        assert!(m.contains(&"email:sarah.j@mail.example".to_string()), "{m:?}");
        assert_eq!(
            extract("my order number is 558812", gb),
            vec!["order:558812".to_string()]
        );
        assert!(extract("see you at 10:30 tomorrow", gb).is_empty());
        // Non-ASCII text around the numbers: boundaries are ASCII.
        assert_eq!(
            extract("Héllo, ordre n° BS-10442 — téléphone 07700 900123.", gb),
            vec!["order:BS-10442".to_string(), "phone:+447700900123".to_string()]
        );
        assert_eq!(extract("电话07700900123", gb), vec!["phone:+447700900123".to_string()]);
    }
}
