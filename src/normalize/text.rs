//! Invisible characters and spaces that exports sprinkle around headers and names.

/// True for marks that carry no visible content: bidi marks and embeddings, zero-width
/// characters, BOM, soft hyphen. They are removed from the *matching view* only.
pub fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{FEFF}' | '\u{00AD}'
    )
}

/// True for the space variants exports put between date, time and AM/PM markers.
pub fn is_space_like(c: char) -> bool {
    matches!(
        c,
        ' ' | '\t' | '\u{00A0}' | '\u{2009}' | '\u{202F}' | '\u{2007}' | '\u{200A}'
    )
}

/// Removes invisible marks; maps space variants to ASCII space. Borrowed when nothing changes.
pub fn matching_view(s: &str) -> std::borrow::Cow<'_, str> {
    // Every mark removed or mapped here is the tab or is encoded with a lead byte 0xC2,
    // 0xE2 or 0xEF: a string without those bytes (most text, emoji included) is its own
    // view, found at memchr speed. ASCII text keeps its tabs.
    let b = s.as_bytes();
    let no_marks = memchr::memchr3(0xC2, 0xE2, 0xEF, b).is_none() && memchr::memchr(b'\t', b).is_none();
    if no_marks || s.is_ascii() || !s.chars().any(|c| is_invisible(c) || (c != ' ' && is_space_like(c))) {
        return std::borrow::Cow::Borrowed(s);
    }
    std::borrow::Cow::Owned(
        s.chars()
            .filter(|c| !is_invisible(*c))
            .map(|c| if is_space_like(c) { ' ' } else { c })
            .collect(),
    )
}

/// [`str::trim`], answered without the Unicode scan for the usual field, which starts and
/// ends with a visible ASCII character.
#[inline]
pub fn trim(s: &str) -> &str {
    match (s.as_bytes().first(), s.as_bytes().last()) {
        (Some(a), Some(b)) if a.is_ascii_graphic() && b.is_ascii_graphic() => s,
        _ => s.trim(),
    }
}

/// A display name cleaned for storage and matching: invisible marks removed, spaces
/// collapsed, WhatsApp's `~ ` prefix for unsaved community members removed, NFC.
pub fn clean_name(s: &str) -> String {
    use unicode_normalization::UnicodeNormalization;
    let view = matching_view(s);
    let trimmed = view.trim();
    let trimmed = trimmed.strip_prefix('~').map(str::trim_start).unwrap_or(trimmed);
    let mut out = String::with_capacity(trimmed.len());
    for word in trimmed.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    // Most names are already NFC (accented letters come precomposed): the quick check
    // answers for them without building a second string.
    if out.is_ascii() || unicode_normalization::is_nfc_quick(out.chars()) == unicode_normalization::IsNormalized::Yes {
        out
    } else {
        out.nfc().collect()
    }
}

/// `text` has the ASCII `byte` twice in a row (`contains("..")` would build a substring
/// searcher per call, dearer than the scan for short values such as addresses and dates).
pub fn has_pair(text: &str, byte: u8) -> bool {
    text.as_bytes().windows(2).any(|w| w[0] == byte && w[1] == byte)
}

/// The lines of `text` exactly as [`str::lines`] gives them (split at `\n`, a `\r` right
/// before a `\n` dropped, no empty line after a final `\n`), found with memchr's vector search: the
/// standard library's char searcher was one of the dearest steps of reading a mail body.
pub fn lines(text: &str) -> impl Iterator<Item = &str> {
    let mut rest = Some(text);
    std::iter::from_fn(move || {
        let current = rest.filter(|r| !r.is_empty())?;
        Some(match memchr::memchr(b'\n', current.as_bytes()) {
            Some(at) => {
                rest = Some(&current[at + 1..]);
                let line = &current[..at];
                line.strip_suffix('\r').unwrap_or(line)
            }
            None => {
                rest = None;
                current
            }
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trim_is_str_trim() {
        for s in [
            "",
            " ",
            "a",
            " a ",
            "\u{a0}x",
            "x\u{2009}",
            "é",
            " \té\n",
            "SIP/201",
            "\u{200b}a",
        ] {
            assert_eq!(trim(s), s.trim(), "{s:?}");
        }
    }

    #[test]
    fn lines_are_the_standard_librarys_lines() {
        let pieces = ["a", "bc", "\n", "\r", "\r\n", "", " ", "é", "\n\n", "x\ry"];
        let mut rng = crate::benchkit::SplitMix64(5);
        for _ in 0..20_000 {
            let n = rng.below(8) as usize;
            let text: String = (0..n)
                .map(|_| pieces[rng.below(pieces.len() as u64) as usize])
                .collect();
            assert_eq!(
                lines(&text).collect::<Vec<_>>(),
                text.lines().collect::<Vec<_>>(),
                "{text:?}"
            );
        }
    }

    #[test]
    fn strips_marks_and_tilde() {
        assert_eq!(clean_name("\u{200E}~\u{202F}Alice  B"), "Alice B");
        // Decomposed accents are composed; composed ones and other scripts stay as they are.
        assert_eq!(clean_name("Zoe\u{301} Mu\u{308}ller"), "Zoé Müller");
        assert_eq!(clean_name("Zoé  Müller"), "Zoé Müller");
        assert_eq!(clean_name("한국어 이름"), "한국어 이름");
        assert_eq!(clean_name("\u{1100}\u{1161}"), "\u{AC00}");
        assert_eq!(matching_view("7:02\u{202F}PM"), "7:02 PM");
        assert_eq!(matching_view("\u{FEFF}[1.2.19"), "[1.2.19");
        // A tab is a space in non-ASCII text, with or without other marks; ASCII keeps it.
        assert_eq!(matching_view("é\tx"), "é x");
        assert_eq!(matching_view("é\t\u{202F}x"), "é  x");
        assert_eq!(matching_view("a\tb"), "a\tb");
    }
}
