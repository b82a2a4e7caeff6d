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

/// [`to_e164`], remembered per thread and region.
fn to_e164_memo(raw: &str, region: Region) -> Option<String> {
    PHONES.with(|cell| {
        let mut cell = cell.borrow_mut();
        if cell.as_ref().is_none_or(|c| c.region() != region) {
            *cell = Some(PhoneCache::new(region));
        }
        cell.as_mut().and_then(|c| c.e164(raw))
    })
}

/// The lines of `text` that may hold an order code or a phone number: at least `min_digits`
/// ASCII digits, or a non-ASCII character (`\d` also matches other scripts' digits). Neither
/// pattern can match across a line break and `\n` is not a word character, so searching
/// these lines finds exactly what searching the whole text finds, in the same order, while
/// the regex engine skips the long lines of prose.
fn number_lines(text: &str, min_digits: usize) -> impl Iterator<Item = &str> {
    text.split('\n')
        .filter(move |line| !line.is_ascii() || line.bytes().filter(u8::is_ascii_digit).count() >= min_digits)
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
    if text.contains('@') {
        for m in p.email.find_iter(text) {
            push(format!("email:{}", m.as_str().to_lowercase()));
        }
    }
    let digits = text.bytes().filter(u8::is_ascii_digit).count();
    if digits >= 4 {
        for m in number_lines(text, 4).flat_map(|line| p.order_code.find_iter(line)) {
            let code = m.as_str().trim_start_matches('#');
            push(format!("order:{}", code.to_ascii_uppercase()));
        }
        for c in p.order_word.captures_iter(text) {
            push(format!("order:{}", &c[1]));
        }
    }
    if digits >= 7 {
        for m in number_lines(text, 2).flat_map(|line| p.phone.find_iter(line)) {
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
