//! vCard files (`.vcf`, versions 2.1, 3.0 and 4.0, one or many cards): phone address books,
//! CRM exports, and the contact cards WhatsApp shares inside chats.
//!
//! Lines are unfolded (a line starting with a space or tab continues the previous one),
//! quoted-printable values are decoded with their soft line breaks (`=` at the end of a
//! line, vCard 2.1) and their `CHARSET`, and 3.0/4.0 escapes (`\,` `\;` `\n`) are undone.

use super::{ContactBuilder, DroppedValues, RawContact, RecordPlace};
use crate::import::check_interrupt;
use crate::import::lines::{LineReader, MAX_LINE};
use crate::import::pipeline::Sink;
use crate::import::ImportError;
use std::io::BufRead;

/// One property of a card: `[group.]NAME;PARAM=…:value`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Property {
    /// Upper-cased, group removed (`item1.TEL` → `TEL`).
    pub name: String,
    /// Upper-cased parameter names; a bare 2.1 parameter (`TEL;CELL:`) is a `TYPE`.
    pub params: Vec<(String, String)>,
    /// The value after quoted-printable and charset decoding, escapes still in place.
    pub value: String,
}

impl Property {
    fn param(&self, name: &str) -> Option<&str> {
        self.params.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    fn has_type(&self, t: &str) -> bool {
        self.params.iter().any(|(k, v)| {
            (k == "TYPE" && v.split(',').any(|x| x.trim_matches('"').eq_ignore_ascii_case(t)))
                || (k == "PREF" && t.eq_ignore_ascii_case("pref"))
        })
    }
}

/// One card as read from the file.
#[derive(Debug, Clone, Default)]
pub struct Card {
    /// Line of its `BEGIN:VCARD`.
    pub line: u64,
    pub byte_offset: u64,
    pub properties: Vec<Property>,
    /// `END:VCARD` was seen.
    pub complete: bool,
    /// Some line was not valid UTF-8.
    pub bad_text: bool,
    /// The card's text (cut at 4 KiB), for the rejects file.
    pub raw: String,
    /// Lines of the properties left out for being longer than [`MAX_LINE`].
    pub long_properties: Vec<u64>,
}

const RAW_CAP: usize = 4096;

/// Splits `a;b\;c;d` at unescaped `sep`.
fn split_unescaped(s: &str, sep: char) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut escaped = false;
    for (i, c) in s.char_indices() {
        if escaped {
            escaped = false;
        } else if c == '\\' {
            escaped = true;
        } else if c == sep {
            out.push(&s[start..i]);
            start = i + c.len_utf8();
        }
    }
    out.push(&s[start..]);
    out
}

/// Undoes vCard text escapes: `\n` `\N` `\,` `\;` `\:` `\\`.
pub fn unescape(s: &str) -> String {
    if !s.contains('\\') {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n' | 'N') => out.push('\n'),
            Some(o) => out.push(o),
            None => out.push('\\'),
        }
    }
    out
}

fn is_quoted_printable(params: &[(String, String)]) -> bool {
    params
        .iter()
        .any(|(k, v)| (k == "ENCODING" || k == "TYPE") && v.eq_ignore_ascii_case("QUOTED-PRINTABLE"))
}

/// Parses one unfolded content line. `None` for a line that is not `NAME…:value`.
pub fn parse_property(line: &str) -> Option<Property> {
    let mut quoted = false;
    let colon = line.char_indices().find_map(|(i, c)| match c {
        '"' => {
            quoted = !quoted;
            None
        }
        ':' if !quoted => Some(i),
        _ => None,
    })?;
    let (head, value) = (&line[..colon], &line[colon + 1..]);
    let mut parts = split_unescaped(head, ';').into_iter();
    let name = parts.next()?.trim();
    let name = name.rsplit('.').next().unwrap_or(name).to_ascii_uppercase();
    if name.is_empty() || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
        return None;
    }
    let params: Vec<(String, String)> = parts
        .filter(|p| !p.trim().is_empty())
        .map(|p| match p.split_once('=') {
            Some((k, v)) => (k.trim().to_ascii_uppercase(), v.trim().trim_matches('"').to_string()),
            None => ("TYPE".to_string(), p.trim().to_string()),
        })
        .collect();
    let value = if is_quoted_printable(&params) {
        let bytes = quoted_printable::decode(value.trim_end().as_bytes(), quoted_printable::ParseMode::Robust)
            .unwrap_or_else(|_| value.as_bytes().to_vec());
        let charset = params.iter().find(|(k, _)| k == "CHARSET").map(|(_, v)| v.as_str());
        match charset.and_then(|c| encoding_rs::Encoding::for_label(c.as_bytes())) {
            Some(enc) => enc.decode_without_bom_handling(&bytes).0.into_owned(),
            None => match String::from_utf8(bytes) {
                Ok(s) => s,
                Err(e) => encoding_rs::WINDOWS_1252
                    .decode_without_bom_handling(e.as_bytes())
                    .0
                    .into_owned(),
            },
        }
    } else {
        value.to_string()
    };
    Some(Property { name, params, value })
}

impl Card {
    /// The contact a card describes: FN (or N), TEL, EMAIL, ORG, UID, WhatsApp ids.
    pub fn contact(&self) -> RawContact {
        let mut c = RawContact::default();
        let mut phones: Vec<(u8, &Property)> = Vec::new();
        let mut emails: Vec<(u8, &Property)> = Vec::new();
        let mut n_name: Option<String> = None;
        for p in &self.properties {
            let value = p.value.trim();
            match p.name.as_str() {
                "FN" if c.name.is_none() && !value.is_empty() => c.name = Some(unescape(value)),
                "N" if n_name.is_none() => {
                    // Family;Given;Additional;Prefix;Suffix → "Given Additional Family"
                    let parts: Vec<String> = split_unescaped(value, ';')
                        .iter()
                        .map(|s| unescape(&split_unescaped(s, ',').join(" ")).trim().to_string())
                        .collect();
                    let get = |i: usize| parts.get(i).map(String::as_str).unwrap_or("");
                    let joined: Vec<&str> = [get(1), get(2), get(0)].into_iter().filter(|s| !s.is_empty()).collect();
                    if !joined.is_empty() {
                        n_name = Some(joined.join(" "));
                    }
                }
                "TEL" if !value.is_empty() => {
                    // Preferred numbers first, then mobiles: the handle is the first valid one.
                    let rank = if p.has_type("pref") {
                        0
                    } else if p.has_type("cell") || p.has_type("mobile") {
                        1
                    } else {
                        2
                    };
                    phones.push((rank, p));
                    if let Some(w) = p.param("WAID").filter(|w| !w.is_empty()) {
                        c.whatsapp_ids.push(w.to_string());
                    }
                }
                "EMAIL" if !value.is_empty() => {
                    let rank = if p.has_type("pref") { 0 } else { 1 };
                    emails.push((rank, p));
                }
                "ORG" if c.company.is_none() => {
                    let org = unescape(split_unescaped(value, ';')[0]).trim().to_string();
                    if !org.is_empty() {
                        c.company = Some(org);
                    }
                }
                "UID" if c.id.is_none() && !value.is_empty() => c.id = Some(unescape(value)),
                _ => {}
            }
        }
        if c.name.is_none() {
            c.name = n_name;
        }
        phones.sort_by_key(|(rank, _)| *rank);
        emails.sort_by_key(|(rank, _)| *rank);
        c.phones = phones
            .into_iter()
            .map(|(_, p)| {
                let v = unescape(p.value.trim());
                // tel: URIs (4.0) may carry `;ext=` and other parameters.
                let v = v.strip_prefix("tel:").unwrap_or(&v);
                v.split(';').next().unwrap_or(v).to_string()
            })
            .collect();
        c.emails = emails.into_iter().map(|(_, p)| unescape(p.value.trim())).collect();
        c
    }
}

/// Streams the cards of a vCard file, calling `on_card` for each; lines outside cards
/// go to `on_stray` (line number).
pub fn read_cards(
    input: Box<dyn BufRead + Send>,
    mut on_card: impl FnMut(Card) -> Result<(), ImportError>,
    mut on_stray: impl FnMut(u64),
    display: &str,
) -> Result<(), ImportError> {
    let mut reader = LineReader::new(input, false);
    // The logical line being assembled: (line number, byte offset, text, invalid UTF-8,
    // longer than MAX_LINE).
    let mut pending: Option<(u64, u64, String, bool, bool)> = None;
    let mut card: Option<Card> = None;
    let mut version_21 = false;
    let mut finish_line = |logical: (u64, u64, String, bool, bool),
                           card: &mut Option<Card>,
                           version_21: &mut bool|
     -> Result<(), ImportError> {
        let (number, offset, text, bad, long) = logical;
        let trimmed = text.trim();
        if trimmed.is_empty() {
            return Ok(());
        }
        if trimmed.eq_ignore_ascii_case("BEGIN:VCARD") {
            if let Some(open) = card.take() {
                on_card(open)?;
            }
            *card = Some(Card {
                line: number,
                byte_offset: offset,
                raw: "BEGIN:VCARD\n".to_string(),
                ..Card::default()
            });
            *version_21 = false;
            return Ok(());
        }
        let Some(c) = card.as_mut() else {
            on_stray(number);
            return Ok(());
        };
        c.bad_text |= bad;
        if trimmed.eq_ignore_ascii_case("END:VCARD") {
            let mut done = card.take().expect("open card");
            done.complete = true;
            done.raw.push_str("END:VCARD\n");
            return on_card(done);
        }
        if c.raw.len() < RAW_CAP {
            let cut = (0..=RAW_CAP.min(text.len()))
                .rev()
                .find(|i| text.is_char_boundary(*i))
                .unwrap_or(0);
            c.raw.push_str(&text[..cut]);
            c.raw.push('\n');
        }
        if long {
            c.long_properties.push(number);
        } else if let Some(p) = parse_property(&text) {
            if p.name == "VERSION" {
                *version_21 = p.value.trim() == "2.1";
            }
            c.properties.push(p);
        }
        Ok(())
    };
    while let Some(line) = reader
        .next_line()
        .map_err(|e| ImportError::file(display, format!("read error: {e}")))?
    {
        if line.number % 65_536 == 0 {
            check_interrupt()?;
        }
        let (text, bad) = match std::str::from_utf8(line.bytes) {
            Ok(s) => (s.to_string(), false),
            Err(_) => (String::from_utf8_lossy(line.bytes).into_owned(), true),
        };
        if let Some((_, _, logical, lbad, long)) = pending.as_mut() {
            let folded = text.starts_with([' ', '\t']);
            // A quoted-printable value ending in `=` continues on the next line (soft break).
            let soft_break = logical.ends_with('=')
                && logical
                    .split_once(':')
                    .is_some_and(|(head, _)| head.to_ascii_uppercase().contains("QUOTED-PRINTABLE"));
            // Names, numbers and addresses are short; a longer property is a photo, logo or
            // sound inlined in base64 (a 110 MB photo took 429 MB): left out, unread past here.
            if (soft_break || folded) && (*long || logical.len() + text.len() > MAX_LINE) {
                *long = true;
                continue;
            }
            if soft_break {
                logical.pop();
                logical.push_str(text.trim_start());
                *lbad |= bad;
                continue;
            }
            if folded {
                // 2.1 folding keeps the whitespace; 3.0 and 4.0 remove one character.
                logical.push_str(if version_21 { &text } else { &text[1..] });
                *lbad |= bad;
                continue;
            }
        }
        if let Some(done) = pending.take() {
            finish_line(done, &mut card, &mut version_21)?;
        }
        let long = text.len() > MAX_LINE || line.too_long;
        pending = Some((line.number, line.offset, text, bad, long));
    }
    if let Some(done) = pending.take() {
        finish_line(done, &mut card, &mut version_21)?;
    }
    if let Some(open) = card.take() {
        on_card(open)?;
    }
    Ok(())
}

/// Streams the cards of a vCard file into `builder`.
pub fn import(
    input: Box<dyn BufRead + Send>,
    display: &str,
    builder: &mut ContactBuilder<'_>,
    sink: &mut Sink<'_>,
) -> Result<(), ImportError> {
    let mut index = 0u64;
    let mut stray = DroppedValues::default();
    read_cards(
        input,
        |card| {
            index += 1;
            for &line in &card.long_properties {
                builder.leave_out_long_property(line);
            }
            let place = RecordPlace {
                source_ref: format!("card:{index}"),
                line: card.line,
                byte_offset: Some(card.byte_offset),
                raw: &card.raw,
            };
            if !card.complete {
                return builder.reject(sink, &place, "card cut off: BEGIN:VCARD without END:VCARD");
            }
            if card.bad_text {
                return builder.reject(sink, &place, "invalid UTF-8 in the card");
            }
            builder.add(sink, place, card.contact())
        },
        |line| stray.add(line),
        display,
    )?;
    builder.ignore_lines(stray);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cards(text: &str) -> Vec<Card> {
        let mut out = Vec::new();
        read_cards(
            Box::new(std::io::Cursor::new(text.as_bytes().to_vec())),
            |c| {
                out.push(c);
                Ok(())
            },
            |_| {},
            "test.vcf",
        )
        .unwrap();
        out
    }

    #[test]
    fn a_property_over_the_limit_is_left_out_and_its_card_kept() {
        let mut text = String::from("BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Ana Lopez\r\nPHOTO;ENCODING=b;TYPE=JPEG:");
        for _ in 0..(MAX_LINE / 72 + 100) {
            text.push_str(" QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWZnaGlqa2xtbm9wcXJzdHV2d3h5ejAx\r\n");
        }
        text.push_str("TEL;TYPE=CELL:+44 7700 900123\r\nEND:VCARD\r\nBEGIN:VCARD\r\nFN:Ben\r\nEND:VCARD\r\n");
        let cards = cards(&text);
        assert_eq!(cards.len(), 2);
        assert_eq!(cards[0].long_properties, [4]);
        let names: Vec<&str> = cards[0].properties.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["VERSION", "FN", "TEL"]);
        assert_eq!(cards[0].contact().phones, ["+44 7700 900123"]);
        assert!(cards[0].complete && cards[1].complete);
        assert_eq!(cards[1].contact().name.as_deref(), Some("Ben"));
    }

    #[test]
    fn version_2_1_quoted_printable_with_soft_breaks_and_charset() {
        let text = "BEGIN:VCARD\r\nVERSION:2.1\r\nN;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:Dubois;=C3=89milie;;;\r\nFN;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:=C3=89milie =\r\nDubois\r\nTEL;CELL;PREF:+33 6 12 34 56 78\r\nEMAIL;INTERNET:Emilie.Dubois@Courrier.example\r\nEND:VCARD\r\nBEGIN:VCARD\r\nVERSION:2.1\r\nFN;CHARSET=ISO-8859-1;ENCODING=QUOTED-PRINTABLE:J=F6rg M=FCller\r\nEND:VCARD\r\n";
        let cs = cards(text);
        assert_eq!(cs.len(), 2);
        let c = cs[0].contact();
        assert_eq!(c.name.as_deref(), Some("Émilie Dubois"));
        assert_eq!(c.phones, vec!["+33 6 12 34 56 78"]);
        assert_eq!(c.emails, vec!["Emilie.Dubois@Courrier.example"]);
        assert_eq!(cs[1].contact().name.as_deref(), Some("Jörg Müller"));
        assert_eq!(cs[1].line, 9);
    }

    #[test]
    fn version_3_and_4_folding_escapes_types_and_uris() {
        let text = "BEGIN:VCARD\nVERSION:3.0\nN:Jones;Sarah;;;\nFN:Sarah \n Jones\nORG:Smith\\, Jones & Co;Sales\nitem1.TEL;type=HOME:020 7946 0999\nitem2.TEL;type=CELL;type=VOICE;waid=447700900456:+44 7700 900456\nEMAIL;type=INTERNET;type=pref:sarah@mail.example\nUID:urn:uuid:1234\nEND:VCARD\nBEGIN:VCARD\nVERSION:4.0\nN:Chen;Mark;;;\nTEL;VALUE=uri;TYPE=\"voice,cell\":tel:+44-7700-900321;ext=5\nEND:VCARD\n";
        let cs = cards(text);
        let c = cs[0].contact();
        assert_eq!(c.name.as_deref(), Some("Sarah Jones"));
        assert_eq!(c.company.as_deref(), Some("Smith, Jones & Co"));
        assert_eq!(c.phones, vec!["+44 7700 900456", "020 7946 0999"], "mobile first");
        assert_eq!(c.whatsapp_ids, vec!["447700900456"]);
        assert_eq!(c.emails, vec!["sarah@mail.example"]);
        assert_eq!(c.id.as_deref(), Some("urn:uuid:1234"));
        let m = cs[1].contact();
        assert_eq!(m.name.as_deref(), Some("Mark Chen"), "built from N without FN");
        assert_eq!(m.phones, vec!["+44-7700-900321"]);
    }

    #[test]
    fn a_card_cut_off_is_reported_incomplete_and_stray_text_is_not_a_card() {
        let mut stray = Vec::new();
        let mut out = Vec::new();
        read_cards(
            Box::new(std::io::Cursor::new(
                b"hello\nBEGIN:VCARD\nFN:Ann\nEND:VCARD\nBEGIN:VCARD\nFN:Bo".to_vec(),
            )),
            |c| {
                out.push(c);
                Ok(())
            },
            |l| stray.push(l),
            "t.vcf",
        )
        .unwrap();
        assert_eq!(stray, vec![1]);
        assert_eq!(out.len(), 2);
        assert!(out[0].complete && !out[1].complete);
        assert_eq!(out[1].contact().name.as_deref(), Some("Bo"));
    }
}
