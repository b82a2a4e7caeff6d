//! What a message body is: ordinary text, media, a deleted message, a call event or a
//! system event — decided from the text, in the languages WhatsApp exports are seen in.

use crate::model::{CallStatus, Kind};
use crate::normalize::text;
use regex_syntax::hir::{ClassUnicode, ClassUnicodeRange};
use std::borrow::Cow;

/// The classification of one message body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Body<'a> {
    pub kind: Kind,
    /// Text left after placeholders and markers are removed (a media caption, say);
    /// borrowed from the body when nothing was removed (the common case).
    pub text: Option<Cow<'a, str>>,
    pub attachments: Vec<String>,
    pub edited: bool,
    pub call_status: Option<CallStatus>,
    pub duration_s: Option<i64>,
}

/// System texts recognised anywhere (they never come from a person).
const SYSTEM_ALWAYS: &[&str] = &[
    "end-to-end encrypt",
    "ende-zu-ende-verschlüsselt",
    "cifrado de extremo a extremo",
    "cifrados de extremo a extremo",
    "criptografia de ponta a ponta",
    "chiffrés de bout en bout",
    "сквозным шифрованием",
    "crittografia end-to-end",
    "端到端加密",
    "joined using this group's invite link",
    "joined using this community's invite link",
    "joined from the community",
    "changed their phone number to a new number",
    "changed to a new number",
    "hat die telefonnummer gewechselt",
    "security code with",
    "sicherheitsnummer",
    "created group",
    "created this group",
    "hat die gruppe",
    "turned on disappearing messages",
    "turned off disappearing messages",
    "disappearing messages",
    "you blocked this contact",
    "you unblocked this contact",
    "this business uses a secure service from meta",
    "this chat is with a business account",
    "is a contact",
    "changed the group description",
    "changed this group's icon",
    "changed the subject",
    "changed the group name",
];

/// System texts that need a second signal (no author, a leading U+200E, or the author
/// repeated at the start) because a person could write them too.
const SYSTEM_WEAK: &[&str] = &[
    " added ",
    " removed ",
    " left",
    " joined",
    " hinzugefügt",
    " entfernt",
    " verlassen",
    " agregó ",
    " añadió ",
    " salió",
    " adicionou ",
    " saiu",
    " a ajouté ",
    " est parti",
    "you were added",
    "added you",
];

const MEDIA_PLACEHOLDERS: &[&str] = &[
    "<media omitted>",
    "<medien ausgeschlossen>",
    "<medien ausgelassen>",
    "<multimedia omitido>",
    "<medios omitidos>",
    "<archivo omitido>",
    "<mídia oculta>",
    "<médias omis>",
    "<video message omitted>",
    "<медиафайлы не включены>",
    "<без медиафайлов>",
    "<media weggelaten>",
    "<media omessi>",
];

const MEDIA_SUFFIXES: &[&str] = &[
    "image omitted",
    "video omitted",
    "audio omitted",
    "sticker omitted",
    "gif omitted",
    "contact card omitted",
    "document omitted",
    "bild weggelassen",
    "video weggelassen",
    "audio weggelassen",
    "sticker weggelassen",
    "gif weggelassen",
    "imagen omitida",
    "video omitido",
    "audio omitido",
    "sticker omitido",
];

const DELETED: &[&str] = &[
    "this message was deleted",
    "you deleted this message",
    "diese nachricht wurde gelöscht",
    "du hast diese nachricht gelöscht",
    "se eliminó este mensaje",
    "eliminaste este mensaje",
    "mensagem apagada",
    "você apagou esta mensagem",
    "ce message a été supprimé",
    "данное сообщение удалено",
    "это сообщение удалено",
];

const EDITED: &[&str] = &[
    "<this message was edited>",
    "<diese nachricht wurde bearbeitet>",
    "<se editó este mensaje.>",
    "<mensagem editada>",
];

/// Case-insensitive search for any of a list of literal phrases, with the answers of a
/// `(?i)` regex. An Aho-Corasick automaton with ASCII case folding gives the same answers on
/// any text without a character whose Unicode case folds reach a phrase character other than
/// by ASCII case (`K` for `k`, `Ü` for `ü`): most messages, emoji and accents included. The
/// others take the regex.
struct Phrases {
    ascii: aho_corasick::AhoCorasick,
    unicode: regex::Regex,
    /// Sorted: the characters that make the automaton's answer differ from the regex's.
    folds: Vec<char>,
    /// The first bytes of those characters' UTF-8 encodings (most text has none of them).
    fold_leads: [bool; 256],
}

impl Phrases {
    fn new(phrases: &[&str]) -> Phrases {
        let alternation: Vec<String> = phrases.iter().map(|p| regex::escape(p)).collect();
        let mut folds: Vec<char> = Vec::new();
        for p in phrases.iter().flat_map(|p| p.chars()) {
            let mut class = ClassUnicode::new([ClassUnicodeRange::new(p, p)]);
            class.case_fold_simple();
            let variants = class.iter().flat_map(|r| r.start()..=r.end());
            folds.extend(variants.filter(|&c| c != p && !(c.is_ascii() && c.eq_ignore_ascii_case(&p))));
        }
        folds.sort_unstable();
        folds.dedup();
        let mut fold_leads = [false; 256];
        for c in &folds {
            fold_leads[usize::from(c.encode_utf8(&mut [0; 4]).as_bytes()[0])] = true;
        }
        Phrases {
            ascii: aho_corasick::AhoCorasick::builder()
                .ascii_case_insensitive(true)
                .build(phrases)
                .expect("literal phrases"),
            unicode: regex::Regex::new(&format!("(?i){}", alternation.join("|"))).expect("literal alternation"),
            folds,
            fold_leads,
        }
    }

    fn is_match(&self, text: &str) -> bool {
        if self.automaton_exact(text) {
            self.ascii.is_match(text)
        } else {
            self.unicode.is_match(text)
        }
    }

    /// True when `text` holds none of the characters in `folds`.
    fn automaton_exact(&self, text: &str) -> bool {
        if text.is_ascii() && !self.folds.first().is_some_and(char::is_ascii) {
            return true;
        }
        // A lead byte starts a character, so `text[i..]` is on a boundary.
        !text.bytes().enumerate().any(|(i, b)| {
            self.fold_leads[usize::from(b)]
                && text[i..]
                    .chars()
                    .next()
                    .is_some_and(|c| self.folds.binary_search(&c).is_ok())
        })
    }
}

fn system_always() -> &'static Phrases {
    static R: std::sync::OnceLock<Phrases> = std::sync::OnceLock::new();
    R.get_or_init(|| Phrases::new(SYSTEM_ALWAYS))
}

fn system_weak() -> &'static Phrases {
    static R: std::sync::OnceLock<Phrases> = std::sync::OnceLock::new();
    R.get_or_init(|| Phrases::new(SYSTEM_WEAK))
}

/// Words that appear in every special body (media, deleted, edited, call); a body
/// without any of them is a plain message and skips the detailed checks.
const SPECIAL_HINTS: &[&str] = &[
    "omit",
    "weggelassen",
    "ausgeschlossen",
    "ausgelassen",
    "oculta",
    "omis",
    "weggelaten",
    "omessi",
    "медиафайл",
    "attach",
    "anhang",
    "adjunto",
    "anexo",
    "jointe",
    "allegato",
    "angehängt",
    "anexado",
    "joint",
    "delete",
    "gelöscht",
    "elimin",
    "apagad",
    "apagou",
    "supprimé",
    "удалено",
    "edited",
    "bearbeitet",
    "editó",
    "editada",
    // Not "call": every call event starts with one of these, and "call me back" is common.
    "voice call",
    "video call",
    "anruf",
    "llamada",
];

fn special_hint() -> &'static Phrases {
    static R: std::sync::OnceLock<Phrases> = std::sync::OnceLock::new();
    R.get_or_init(|| Phrases::new(SPECIAL_HINTS))
}

/// Every phrase the checks of this module look for, in one automaton: most messages hold
/// none, and one search then stands for the three.
fn any_phrase() -> &'static Phrases {
    static R: std::sync::OnceLock<Phrases> = std::sync::OnceLock::new();
    R.get_or_init(|| Phrases::new(&[SYSTEM_ALWAYS, SYSTEM_WEAK, SPECIAL_HINTS].concat()))
}

/// True when `text` holds none of the phrases [`is_system_text`] and [`classify`] look
/// for, so that [`is_system_text_of`] and [`classify_of`] can skip their searches.
pub fn phrase_free(text: &str) -> bool {
    !any_phrase().is_match(text)
}

fn strip_invisible(s: &str) -> String {
    s.chars()
        .filter(|c| !crate::normalize::text::is_invisible(*c))
        .collect()
}

/// True when the text of a line reads as a system event.
/// `strong_context`: the line has no author, starts with U+200E, or its author is the chat itself.
pub fn is_system_text(text: &str, author: Option<&str>, strong_context: bool) -> bool {
    is_system_text_of(text, author, strong_context, false)
}

/// [`is_system_text`], told whether `text` is part of a [`phrase_free`] text.
pub fn is_system_text_of(text: &str, author: Option<&str>, strong_context: bool, phrase_free: bool) -> bool {
    if text.trim().is_empty() {
        return false;
    }
    if !phrase_free && system_always().is_match(text) {
        return true;
    }
    let visible = text.trim_start_matches(|c: char| text::is_invisible(c) || c.is_whitespace());
    let starts_with_you = visible.get(..4).is_some_and(|p| p.eq_ignore_ascii_case("you "));
    if !starts_with_you && (phrase_free || !system_weak().is_match(text)) {
        return false;
    }
    if strong_context {
        return true;
    }
    author.is_some_and(|a| {
        let a = text::clean_name(a).to_lowercase();
        !a.is_empty() && text::clean_name(visible).to_lowercase().starts_with(&a)
    })
}

fn call_event(lower: &str) -> Option<(CallStatus, Option<i64>)> {
    let l = lower.trim_end_matches('.');
    if l.starts_with("missed voice call")
        || l.starts_with("missed video call")
        || l.starts_with("verpasster sprachanruf")
        || l.starts_with("verpasster videoanruf")
        || l.starts_with("llamada perdida")
    {
        return Some((CallStatus::Missed, None));
    }
    for prefix in [
        "voice call",
        "video call",
        "sprachanruf",
        "videoanruf",
        "llamada de voz",
        "videollamada",
    ] {
        if let Some(rest) = l.strip_prefix(prefix) {
            let rest = rest.trim_start_matches('.').trim();
            if rest.is_empty() {
                return Some((CallStatus::Answered, None));
            }
            if rest.contains("no answer") || rest.contains("keine antwort") || rest.contains("sin respuesta") {
                return Some((CallStatus::Missed, Some(0)));
            }
            if let Some(d) = parse_duration(rest) {
                return Some((CallStatus::Answered, Some(d)));
            }
        }
    }
    None
}

fn parse_duration(s: &str) -> Option<i64> {
    let mut parts = s.split_whitespace();
    let n: i64 = parts.next()?.parse().ok()?;
    let unit = parts.next()?;
    let mult = match unit.trim_end_matches('.') {
        u if u.starts_with("sec") || u.starts_with("sek") || u.starts_with("seg") => 1,
        u if u.starts_with("min") => 60,
        u if u.starts_with("hr") || u.starts_with("hour") || u.starts_with("std") || u.starts_with('h') => 3600,
        _ => return None,
    };
    Some(n * mult)
}

/// An attachment reference: `<attached: NAME>`, `<Anhang: NAME>`, `NAME (file attached)`.
fn attachment(line: &str) -> Option<String> {
    let t = line.trim();
    if t.starts_with('<') && t.ends_with('>') {
        let inner = &t[1..t.len() - 1];
        if let Some((label, name)) = inner.split_once(':') {
            let label = label.trim().to_lowercase();
            if ["attached", "anhang", "adjunto", "anexo", "pièce jointe", "allegato"].contains(&label.as_str()) {
                return Some(name.trim().to_string());
            }
        }
    }
    for marker in [
        " (file attached)",
        " (datei angehängt)",
        " (archivo adjunto)",
        " (arquivo anexado)",
        " (fichier joint)",
    ] {
        if t.len() > marker.len() && t.to_lowercase().ends_with(marker) {
            return Some(t[..t.len() - marker.len()].trim().to_string());
        }
    }
    None
}

/// Classifies a message body (all its lines, `\n`-joined).
pub fn classify(body: &str) -> Body<'_> {
    classify_of(body, false)
}

/// [`classify`], told whether `body` is [`phrase_free`].
pub fn classify_of(body: &str, phrase_free: bool) -> Body<'_> {
    if !body.starts_with('<') && (phrase_free || !special_hint().is_match(body)) {
        return Body {
            kind: Kind::Message,
            text: Some(Cow::Borrowed(body)),
            attachments: Vec::new(),
            edited: false,
            call_status: None,
            duration_s: None,
        };
    }
    classify_in_detail(body)
}

/// [`classify`] without the shortcut for bodies that hold no hint word.
fn classify_in_detail(body: &str) -> Body<'_> {
    let mut text = body.to_string();
    let mut edited = false;
    // Every edit marker ends with `>` (lower-casing never makes one).
    if text.trim_end().ends_with('>') {
        let lower = text.to_lowercase();
        for marker in EDITED {
            if lower.trim_end().ends_with(marker) {
                let cut = text.trim_end().len() - marker.len();
                text.truncate(cut);
                text = text.trim_end().to_string();
                edited = true;
                break;
            }
        }
    }
    // Invisible marks are all outside ASCII.
    let clean: Cow<'_, str> = if text.is_ascii() {
        Cow::Borrowed(&text)
    } else {
        Cow::Owned(strip_invisible(&text))
    };
    let lower = clean.trim().to_lowercase();
    let mut out = Body {
        kind: Kind::Message,
        text: None,
        attachments: Vec::new(),
        edited,
        call_status: None,
        duration_s: None,
    };
    if DELETED.iter().any(|d| lower.trim_end_matches('.') == *d) {
        out.kind = Kind::Deleted;
        return out;
    }
    if let Some((status, duration)) = call_event(&lower) {
        out.kind = Kind::Call;
        out.call_status = Some(status);
        out.duration_s = duration;
        return out;
    }
    // Media: the first line is a placeholder or an attachment; following lines are a caption.
    let (first, rest) = match clean.split_once('\n') {
        Some((f, r)) => (f, Some(r)),
        None => (&*clean, None),
    };
    let first_lower = first.trim().to_lowercase();
    let placeholder = MEDIA_PLACEHOLDERS
        .iter()
        .find(|p| first_lower == **p)
        .map(|_| first.trim().to_string());
    let suffix = MEDIA_SUFFIXES
        .iter()
        .find(|s| first_lower.ends_with(*s))
        .map(|_| first.trim().to_string());
    if let Some(name) = attachment(first).or(placeholder).or(suffix) {
        out.kind = Kind::Media;
        out.attachments.push(name);
        out.text = rest
            .map(|r| r.trim().to_string())
            .filter(|r| !r.is_empty())
            .map(Cow::Owned);
        return out;
    }
    out.text = Some(if edited { Cow::Owned(text) } else { Cow::Borrowed(body) });
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn media_calls_deleted_edited() {
        let b = classify("\u{200E}<attached: 00000010-PHOTO-2020-11-02-21-49-51.jpg>");
        assert_eq!(
            (b.kind, b.attachments[0].as_str()),
            (Kind::Media, "00000010-PHOTO-2020-11-02-21-49-51.jpg")
        );
        let b = classify("IMG-20210428-WA0001.jpg (file attached)\nHappy Easter");
        assert_eq!((b.kind, b.text.as_deref()), (Kind::Media, Some("Happy Easter")));
        assert_eq!(classify("<Media omitted>").kind, Kind::Media);
        assert_eq!(classify("\u{200E}image omitted").kind, Kind::Media);
        assert_eq!(classify("This message was deleted.").kind, Kind::Deleted);
        let b = classify("\u{200E}Voice call. 12 min");
        assert_eq!(
            (b.kind, b.call_status, b.duration_s),
            (Kind::Call, Some(CallStatus::Answered), Some(720))
        );
        assert_eq!(
            classify("Missed voice call. Tap to call back").call_status,
            Some(CallStatus::Missed)
        );
        let b = classify("See you then <This message was edited>");
        assert_eq!((b.edited, b.text.as_deref()), (true, Some("See you then")));
        assert_eq!(classify("I added milk").kind, Kind::Message);
    }

    #[test]
    fn system_needs_context_for_weak_patterns() {
        assert!(is_system_text(
            "Messages and calls are end-to-end encrypted.",
            Some("Group"),
            false
        ));
        assert!(!is_system_text("I added you to the list", Some("Ana"), false));
        assert!(is_system_text("Alice added Bob", None, true));
        assert!(is_system_text(
            "~ Carol joined from the community",
            Some("~ Carol"),
            false
        ));
    }

    #[test]
    fn phrase_search_matches_the_case_insensitive_regex() {
        let texts = [
            "Messages and calls are END-TO-END ENCRYPTED.",
            "ENDE-ZU-ENDE-VERSCHLÜSSELT",
            "Ende-zu-Ende-verschlüsselt",
            "you were ADDED",
            "plain words only",
            "Missed Voice CALL",
            "Bild WEGGELASSEN",
            "\u{200E}image omitted",
            "a K\u{212A} kelvin",
            "",
        ];
        let sets: [&[&str]; 2] = [SYSTEM_ALWAYS, SYSTEM_WEAK];
        for phrases in sets {
            let p = Phrases::new(phrases);
            for t in texts {
                assert_eq!(p.is_match(t), p.unicode.is_match(t), "{t:?}");
            }
        }
        assert!(system_always().is_match("Ende-zu-Ende-verschlüsselt"));
        assert!(!system_always().is_match("ENDE-ZU-ENDE-VERSCHLUSSELT"));
        assert!(system_weak().is_match("bob WAS ADDED ~ \u{212A}")); // " added " via the regex
    }

    /// Bodies made of ordinary words, hint words and every special body the detailed checks
    /// know: skipping those checks when no hint word occurs never changes the answer.
    #[test]
    fn the_hint_shortcut_changes_no_classification() {
        let specials = [MEDIA_PLACEHOLDERS, MEDIA_SUFFIXES, DELETED, EDITED, SPECIAL_HINTS].concat();
        let words = [
            "call me back",
            "call",
            "Voice call",
            "missed video call",
            "Sprachanruf",
            "llamada de voz",
            "12 min",
            "ok",
            "<",
            ">",
            "(file attached)",
            "<attached: a.jpg>",
            "IMG-1.jpg (file attached)",
            "\n",
            ".",
            " ",
        ];
        let pieces: Vec<String> = specials
            .iter()
            .flat_map(|p| [p.to_string(), p.to_uppercase()])
            .chain(words.iter().map(|w| w.to_string()))
            .collect();
        let mut rng = crate::benchkit::SplitMix64(0x2545_F491_4F6C_DD1D);
        let mut next = |n: usize| rng.below(n as u64) as usize;
        let mut special = 0;
        for _ in 0..30_000 {
            let text: String = (0..1 + next(3)).map(|_| pieces[next(pieces.len())].as_str()).collect();
            let detailed = classify_in_detail(&text);
            assert_eq!(classify(&text), detailed, "{text:?}");
            assert_eq!(classify_of(&text, phrase_free(&text)), detailed, "{text:?}");
            special += usize::from(detailed.kind != Kind::Message || detailed.edited);
        }
        assert!(special > 3_000, "{special}");
    }

    /// Random texts of phrase fragments, case changes and the characters whose Unicode
    /// case folds differ from ASCII's (`K` Kelvin, `ſ`, `Ü`, Cyrillic capitals): the
    /// automaton path must answer as the `(?i)` regex does, and [`phrase_free`] must be
    /// false whenever any of the three phrase lists matches.
    #[test]
    fn phrase_search_is_exact_on_random_texts() {
        let sets = [
            ("always", Phrases::new(SYSTEM_ALWAYS)),
            ("weak", Phrases::new(SYSTEM_WEAK)),
            ("hints", Phrases::new(SPECIAL_HINTS)),
        ];
        let pieces: Vec<String> = [SYSTEM_ALWAYS, SYSTEM_WEAK, SPECIAL_HINTS]
            .concat()
            .iter()
            .flat_map(|p| {
                let chars: Vec<char> = p.chars().collect();
                let half: String = chars[..chars.len() / 2].iter().collect();
                let rest: String = chars[chars.len() / 2..].iter().collect();
                [p.to_string(), p.to_uppercase(), half, rest]
            })
            .chain(
                [
                    "\u{212A}", "\u{17F}", "Ü", "Ö", "É", "Ç", "ü", "😊", " ", "\n", "Д", "Л", "К", "\u{200E}", "ẞ",
                    "ß", "İ",
                ]
                .map(String::from),
            )
            .collect();
        let mut rng = crate::benchkit::SplitMix64(0x9E37_79B9_7F4A_7C15);
        let mut next = |n: usize| rng.below(n as u64) as usize;
        let (mut matched, mut slow) = (0, 0);
        for _ in 0..40_000 {
            let mut text = String::new();
            for _ in 0..1 + next(5) {
                let piece = &pieces[next(pieces.len())];
                // Swap one character for a fold variant now and then: `k` → Kelvin, `s` → `ſ`.
                let piece = match next(4) {
                    0 => piece.replacen('k', "\u{212A}", 1).replacen('s', "\u{17F}", 1),
                    1 => piece.replacen('ü', "Ü", 1).replacen('е', "Е", 1),
                    _ => piece.clone(),
                };
                text.push_str(&piece);
            }
            let mut any = false;
            for (name, p) in &sets {
                let want = p.unicode.is_match(&text);
                assert_eq!(p.is_match(&text), want, "{name}: {text:?}");
                any |= want;
                slow += usize::from(!p.automaton_exact(&text));
            }
            assert_eq!(phrase_free(&text), !any, "{text:?}");
            matched += usize::from(any);
        }
        // The texts exercised both answers and both paths.
        assert!(matched > 10_000 && matched < 39_000, "{matched}");
        assert!(slow > 1_000, "{slow}");
        assert!(special_hint().is_match("MISSED VOICE CALL"));
    }
}
