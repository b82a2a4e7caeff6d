//! Message text: the new text of a reply (quoted history and signature cut off) and HTML
//! turned into plain text.

use regex::Regex;
use std::sync::OnceLock;

/// A body split into what the sender wrote now and their signature; quoted history dropped.
#[derive(Debug, Default, PartialEq)]
pub struct Split {
    pub new_text: String,
    pub signature: String,
}

struct Patterns {
    /// `On Mon, 1 Apr 2026 at 09:03, Priya <p@x> wrote:` and its translations.
    attribution: Regex,
    /// First line of an Outlook header block: `From:`, `Von:`, `De:`, `Da:`, `Van:`, `Från:`.
    outlook_from: Regex,
    /// The line that confirms the block: `Sent:`, `Gesendet:`, `Enviado:`, `Date:`…
    outlook_sent: Regex,
}

fn patterns() -> &'static Patterns {
    static P: OnceLock<Patterns> = OnceLock::new();
    P.get_or_init(|| Patterns {
        attribution: Regex::new(
            r"(?is)^(?:on\s.+\swrote|am\s.+\sschrieb.*|el\s.+\sescribi[oó]|le\s.+\sa\s+[ée]crit\s*|em\s.+\sescreveu|il\s.+\sha\s+scritto|op\s.+\sschreef.*|den\s.+\sskrev.*|w\sdniu\s.+\snapisa[łl].*|.+\s(?:wrote|schrieb|escribió|a écrit|escreveu|ha scritto|schreef|skrev)\s*)\s*:\s*$",
        )
        .expect("valid regex"),
        outlook_from: Regex::new(r"(?i)^\s*\*?(?:from|von|de|da|van|från|fra|od|от)\s*:\*?\s*\S").expect("valid regex"),
        outlook_sent: Regex::new(
            r"(?i)^\s*\*?(?:sent|date|gesendet|datum|enviado|fecha|envoyé|inviato|data|verzonden|skickat|sendt|wysłano|отправлено)\s*:",
        )
        .expect("valid regex"),
    })
}

fn is_original_message_marker(line: &str) -> bool {
    let start = line.trim_start();
    let dashed = start.starts_with("---") || start.starts_with("___");
    // Lower-cased (an allocation) only for the few lines that start with dashes.
    (dashed
        && matches!(
            line.trim().trim_matches('-').trim().to_lowercase().as_str(),
            "original message"
                | "ursprüngliche nachricht"
                | "mensaje original"
                | "message d'origine"
                | "mensagem original"
                | "messaggio originale"
                | "oorspronkelijk bericht"
                | "forwarded message"
                | "weitergeleitete nachricht"
                | "mensaje reenviado"
                | "message transféré"
        ))
        // Outlook web: a line of underscores before the header block.
        || (start.starts_with('_') && line.trim().len() >= 20 && line.trim().chars().all(|c| c == '_'))
}

/// Splits a decoded plain-text body. The cut is at the first of: an "original message"
/// marker, an Outlook `From:/Sent:` header block, an attribution line (`On … wrote:` in
/// several languages, possibly folded over two lines), a `>` quoted line. The signature
/// starts at the `-- ` delimiter before that cut.
pub fn split_reply(body: &str) -> Split {
    let p = patterns();
    let lines: Vec<&str> = crate::normalize::text::lines(body).collect();
    let mut cut = lines.len();
    for (i, line) in lines.iter().enumerate() {
        let t = line.trim_end();
        if t.starts_with('>') {
            // A quote is cut together with an attribution just above it.
            cut = i;
            break;
        }
        if is_original_message_marker(t) {
            cut = i;
            break;
        }
        if memchr::memchr(b':', t.as_bytes()).is_some()
            && p.outlook_from.is_match(t)
            && lines[i + 1..].iter().take(4).any(|l| p.outlook_sent.is_match(l))
            && i > 0
        {
            cut = i;
            break;
        }
        let trimmed = t.trim();
        if trimmed.ends_with(':') && trimmed.len() < 300 && p.attribution.is_match(trimmed) {
            cut = i;
            break;
        }
        // Attribution folded over two lines: `On …, Name <a@b>` / `wrote:`.
        if let Some(next) = lines.get(i + 1) {
            let next = next.trim();
            if next.ends_with(':') && next.len() < 40 && !trimmed.is_empty() {
                let joined = format!("{trimmed} {next}");
                if joined.len() < 300 && p.attribution.is_match(&joined) {
                    cut = i;
                    break;
                }
            }
        }
    }
    let kept = &lines[..cut];
    let sig_at = kept.iter().rposition(|l| *l == "-- " || *l == "--" || *l == "—");
    let (text, sig) = match sig_at {
        Some(s) => (&kept[..s], &kept[s + 1..]),
        None => (kept, &[][..]),
    };
    Split {
        new_text: join_trimmed(text),
        signature: join_trimmed(sig),
    }
}

fn join_trimmed(lines: &[&str]) -> String {
    let start = lines.iter().position(|l| !l.trim().is_empty()).unwrap_or(lines.len());
    let end = lines
        .iter()
        .rposition(|l| !l.trim().is_empty())
        .map_or(start, |e| e + 1);
    let lines = &lines[start..end];
    let mut out = String::with_capacity(lines.iter().map(|l| l.len() + 1).sum());
    for (i, l) in lines.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        out.push_str(l.trim_end());
    }
    out
}

/// Plain text of an HTML body: tags dropped, block elements on their own lines, `<script>`,
/// `<style>` and `<head>` skipped, entities decoded, blockquotes kept as `> ` lines so the
/// reply splitter still sees them.
pub fn html_to_text(html: &str) -> String {
    let mut out = String::with_capacity(html.len() / 2);
    let mut rest = html;
    let mut skip_until: Option<&'static str> = None;
    let mut quote_depth = 0usize;
    let mut at_line_start = true;
    while let Some(lt) = rest.find('<') {
        if skip_until.is_none() {
            push_text(&mut out, &rest[..lt], quote_depth, &mut at_line_start);
        }
        rest = &rest[lt..];
        if rest.starts_with("<!--") {
            rest = rest.find("-->").map_or("", |e| &rest[e + 3..]);
            continue;
        }
        let Some(gt) = rest.find('>') else {
            rest = "";
            break;
        };
        let tag = &rest[1..gt];
        rest = &rest[gt + 1..];
        let closing = tag.starts_with('/');
        let name: String = tag
            .trim_start_matches('/')
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .collect::<String>()
            .to_ascii_lowercase();
        if let Some(end) = skip_until {
            if closing && name == end {
                skip_until = None;
            }
            continue;
        }
        match name.as_str() {
            "script" | "style" | "head" | "title" if !closing => {
                skip_until = Some(match name.as_str() {
                    "script" => "script",
                    "style" => "style",
                    "head" => "head",
                    _ => "title",
                })
            }
            "br" => newline(&mut out, &mut at_line_start, true),
            "blockquote" => {
                newline(&mut out, &mut at_line_start, false);
                if closing {
                    quote_depth = quote_depth.saturating_sub(1);
                } else {
                    quote_depth += 1;
                }
            }
            "p" | "div" | "tr" | "li" | "h1" | "h2" | "h3" | "h4" | "h5" | "h6" | "table" | "ul" | "ol" | "hr"
            | "pre" => {
                newline(&mut out, &mut at_line_start, false);
                if name == "p" && closing {
                    newline(&mut out, &mut at_line_start, true);
                }
            }
            "td" | "th" if closing => out.push(' '),
            _ => {}
        }
    }
    if skip_until.is_none() {
        push_text(&mut out, rest, quote_depth, &mut at_line_start);
    }
    out.trim().to_string()
}

fn newline(out: &mut String, at_line_start: &mut bool, force: bool) {
    if force || !*at_line_start {
        out.push('\n');
        *at_line_start = true;
    }
}

fn push_text(out: &mut String, text: &str, quote_depth: usize, at_line_start: &mut bool) {
    let decoded = decode_entities(text);
    let mut words = decoded.split_whitespace().peekable();
    if words.peek().is_none() {
        if !decoded.is_empty() && !*at_line_start && !out.ends_with(' ') {
            out.push(' ');
        }
        return;
    }
    if !*at_line_start && decoded.starts_with(char::is_whitespace) && !out.ends_with(' ') {
        out.push(' ');
    }
    if *at_line_start {
        for _ in 0..quote_depth {
            out.push_str("> ");
        }
    }
    let mut first = true;
    for w in words {
        if !first {
            out.push(' ');
        }
        out.push_str(w);
        first = false;
    }
    if decoded.ends_with(char::is_whitespace) {
        out.push(' ');
    }
    *at_line_start = false;
}

fn decode_entities(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.contains('&') {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        rest = &rest[amp..];
        let end = rest[..rest.len().min(12)].find(';');
        let decoded = end.and_then(|e| {
            let ent = &rest[1..e];
            let c = match ent {
                "amp" => Some('&'),
                "lt" => Some('<'),
                "gt" => Some('>'),
                "quot" => Some('"'),
                "apos" => Some('\''),
                "nbsp" => Some(' '),
                "ndash" => Some('–'),
                "mdash" => Some('—'),
                "hellip" => Some('…'),
                "rsquo" => Some('’'),
                "lsquo" => Some('‘'),
                "rdquo" => Some('”'),
                "ldquo" => Some('“'),
                "euro" => Some('€'),
                "pound" => Some('£'),
                "copy" => Some('©'),
                _ => ent
                    .strip_prefix("#x")
                    .or_else(|| ent.strip_prefix("#X"))
                    .and_then(|h| u32::from_str_radix(h, 16).ok())
                    .or_else(|| ent.strip_prefix('#').and_then(|d| d.parse().ok()))
                    .and_then(char::from_u32),
            };
            c.map(|c| (c, e))
        });
        match decoded {
            Some((c, e)) => {
                out.push(c);
                rest = &rest[e + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    std::borrow::Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn on_wrote_and_quotes_are_cut_signature_kept_apart() {
        let s = split_reply(
            "Thanks, that works.\n\n-- \nSarah Jones, 07700 900456\n\nOn Thu, 19 Mar 2026 at 11:02, Priya <p@x.example> wrote:\n> old text\n",
        );
        assert_eq!(s.new_text, "Thanks, that works.");
        assert_eq!(s.signature, "Sarah Jones, 07700 900456");
    }

    #[test]
    fn attributions_in_other_languages_and_folded() {
        for attr in [
            "Am 19.03.2026 um 11:02 schrieb Priya <p@x.example>:",
            "El jue, 19 mar 2026 a las 11:02, Priya (<p@x.example>) escribió:",
            "Le jeu. 19 mars 2026 à 11:02, Priya <p@x.example> a écrit :",
            "Em qui., 19 de mar. de 2026 às 11:02, Priya <p@x.example> escreveu:",
            "Il giorno gio 19 mar 2026 alle 11:02 Priya <p@x.example> ha scritto:",
            "On Thu, 19 Mar 2026 at 11:02, Priya Sharma <priya@bloomandstem.example>\nwrote:",
        ] {
            let s = split_reply(&format!("New words.\n\n{attr}\n\nold words\n"));
            assert_eq!(s.new_text, "New words.", "{attr}");
        }
    }

    #[test]
    fn outlook_blocks_are_cut() {
        let s = split_reply("Yes please.\n\n-----Original Message-----\nFrom: A\nSent: today\n\nold\n");
        assert_eq!(s.new_text, "Yes please.");
        let s = split_reply("Ja bitte.\n\nVon: Priya <p@x.example>\nGesendet: Donnerstag\nAn: b\nBetreff: x\n\nalt\n");
        assert_eq!(s.new_text, "Ja bitte.");
        let s = split_reply("From: the start of a story, then\nmore text\n");
        assert_eq!(s.new_text, "From: the start of a story, then\nmore text");
    }

    #[test]
    fn html_becomes_text() {
        let t = html_to_text(
            "<html><head><style>p{}</style></head><body><p>Hello&nbsp;there,</p><p>A &amp; B<br>C</p><blockquote>old</blockquote></body></html>",
        );
        assert_eq!(t, "Hello there,\n\nA & B\nC\n\n> old");
    }
}
