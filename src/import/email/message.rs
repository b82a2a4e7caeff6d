//! One message, parsed with `mailparse`: decoded headers, addresses, thread ids, date,
//! automated-mail signs, body text and attachment names.

use super::body::html_to_text;
use super::dates;
use crate::normalize::text::has_pair;
use mailparse::{addrparse_header, DispositionType, MailAddr, MailHeader, MailHeaderMap, ParsedMail};
use regex::Regex;
use std::sync::OnceLock;

/// An address with its decoded display name.
#[derive(Debug, Clone, PartialEq)]
pub struct Addr {
    /// Lower-cased `local@domain` (as written when it has no `@`).
    pub addr: String,
    pub name: Option<String>,
}

impl Addr {
    pub fn domain(&self) -> Option<&str> {
        self.addr.rsplit_once('@').map(|(_, d)| d)
    }
    pub fn local(&self) -> &str {
        self.addr.split_once('@').map_or(self.addr.as_str(), |(l, _)| l)
    }
    pub fn is_valid(&self) -> bool {
        self.addr
            .split_once('@')
            .is_some_and(|(l, d)| !l.is_empty() && d.contains('.') && !d.starts_with('.'))
    }
}

/// Everything the importer needs from one message.
#[derive(Debug, Default)]
pub struct ParsedMessage {
    pub message_id: Option<String>,
    pub in_reply_to: Option<String>,
    pub references: Vec<String>,
    pub from: Option<Addr>,
    /// The From header as written (decoded), for `author_raw`.
    pub from_raw: Option<String>,
    pub to: Vec<Addr>,
    pub cc: Vec<Addr>,
    pub bcc: Vec<Addr>,
    /// `Delivered-To` / `X-Original-To`: the mailbox that received it.
    pub delivered_to: Vec<Addr>,
    pub reply_to: Option<Addr>,
    pub subject: Option<String>,
    pub date_raw: Option<String>,
    pub date_ms: Option<i64>,
    /// Timestamp of the topmost `Received:` header, the first fallback for a missing Date
    /// (only read when the Date header gives none).
    pub received_ms: Option<i64>,
    /// Why the message is automated (auto-reply, bounce, list, no-reply sender), if it is.
    pub automated: Option<&'static str>,
    pub gmail_labels: Option<String>,
    pub gmail_thread: Option<String>,
    pub body: String,
    pub html_only: bool,
    pub attachments: Vec<String>,
    pub header_count: usize,
    /// Extra From / Date / Message-ID values beyond the first (kept out of the record).
    pub duplicate_headers: usize,
    /// A broken header block was cut at the first line that was not a header.
    pub headers_repaired: bool,
    /// The UW-IMAP/Pine folder-internal pseudo message.
    pub folder_internal: bool,
}

/// Mail header names: a message has at least one of them.
pub const MAIL_HEADERS: &[&str] = &[
    "from",
    "to",
    "subject",
    "date",
    "message-id",
    "received",
    "return-path",
    "mime-version",
    "delivered-to",
    "x-original-to",
    "reply-to",
    "cc",
    "content-type",
    "references",
    "in-reply-to",
    "sender",
    "x-mailer",
];

/// Header names are checked as tokens (printable ASCII) before this is asked, so the raw
/// bytes are all there is to compare.
fn has_mail_header(mail: &ParsedMail<'_>) -> bool {
    mail.headers.iter().any(|h| {
        let k = h.get_key_raw().trim_ascii();
        MAIL_HEADERS.iter().any(|n| k.eq_ignore_ascii_case(n.as_bytes()))
    })
}

/// The headers a message is read from. Each header's name is recognised once, so reading
/// some twenty of them costs one pass over the block (a Gmail export has forty or more
/// headers per message) instead of a search per name.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Known {
    MessageId,
    InReplyTo,
    References,
    From,
    Sender,
    ReturnPath,
    Date,
    Subject,
    ContentType,
    To,
    Cc,
    Bcc,
    DeliveredTo,
    XOriginalTo,
    ReplyTo,
    Received,
    GmailLabels,
    GmailThread,
    Imap,
    AutoSubmitted,
    Precedence,
    ListId,
    ListUnsubscribe,
    XAutoreply,
    XAutorespond,
}

const KNOWN: usize = Known::XAutorespond as usize + 1;

impl Known {
    /// The known header a raw name is (ASCII, any case, as written: comparing the raw bytes is
    /// the same as comparing mailparse's Latin-1 decoding, since non-ASCII bytes never match
    /// an ASCII name).
    fn of(name: &[u8]) -> Option<Known> {
        // Room for the longest name below (`list-unsubscribe`, 16 bytes); longer is unknown.
        let mut buf = [0u8; 20];
        let lower = buf.get_mut(..name.len())?;
        lower.copy_from_slice(name);
        lower.make_ascii_lowercase();
        Some(match &*lower {
            b"message-id" => Known::MessageId,
            b"in-reply-to" => Known::InReplyTo,
            b"references" => Known::References,
            b"from" => Known::From,
            b"sender" => Known::Sender,
            b"return-path" => Known::ReturnPath,
            b"date" => Known::Date,
            b"subject" => Known::Subject,
            b"content-type" => Known::ContentType,
            b"to" => Known::To,
            b"cc" => Known::Cc,
            b"bcc" => Known::Bcc,
            b"delivered-to" => Known::DeliveredTo,
            b"x-original-to" => Known::XOriginalTo,
            b"reply-to" => Known::ReplyTo,
            b"received" => Known::Received,
            b"x-gmail-labels" => Known::GmailLabels,
            b"x-gm-thrid" => Known::GmailThread,
            b"x-imap" => Known::Imap,
            b"auto-submitted" => Known::AutoSubmitted,
            b"precedence" => Known::Precedence,
            b"list-id" => Known::ListId,
            b"list-unsubscribe" => Known::ListUnsubscribe,
            b"x-autoreply" => Known::XAutoreply,
            b"x-autorespond" => Known::XAutorespond,
            _ => return None,
        })
    }
}

/// A message's header block with every known header located.
struct Headers<'a> {
    all: &'a [MailHeader<'a>],
    /// What each header of `all` is.
    kinds: Vec<Option<Known>>,
    /// Index of the first header of each known name.
    first: [Option<usize>; KNOWN],
    count: [usize; KNOWN],
}

impl<'a> Headers<'a> {
    fn new(all: &'a [MailHeader<'a>]) -> Headers<'a> {
        let mut first = [None; KNOWN];
        let mut count = [0; KNOWN];
        let kinds = all
            .iter()
            .enumerate()
            .map(|(i, h)| {
                let kind = Known::of(h.get_key_raw());
                if let Some(k) = kind {
                    first[k as usize].get_or_insert(i);
                    count[k as usize] += 1;
                }
                kind
            })
            .collect();
        Headers {
            all,
            kinds,
            first,
            count,
        }
    }

    /// The first header of this name.
    fn first(&self, name: Known) -> Option<&'a MailHeader<'a>> {
        self.first[name as usize].map(|i| &self.all[i])
    }

    fn has(&self, name: Known) -> bool {
        self.first[name as usize].is_some()
    }

    fn count(&self, name: Known) -> usize {
        self.count[name as usize]
    }

    /// Every header of one of these names, in order.
    fn every<'s>(&'s self, names: &'s [Known]) -> impl Iterator<Item = &'a MailHeader<'a>> + 's {
        let all = self.all;
        self.kinds
            .iter()
            .enumerate()
            .filter(move |(_, k)| k.is_some_and(|k| names.contains(&k)))
            .map(move |(i, _)| &all[i])
    }
}

/// Why a message could not be parsed.
#[derive(Debug)]
pub struct ParseFailure(pub String);

/// Parses one raw message. A header block that mailparse refuses (a stray line without a
/// colon) is cut at that line and the rest read as body, as MUAs do.
pub fn parse(raw: &[u8]) -> Result<ParsedMessage, ParseFailure> {
    let raw = raw.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(raw);
    if raw.iter().all(u8::is_ascii_whitespace) {
        return Err(ParseFailure("empty message".into()));
    }
    match mailparse::parse_mail(raw) {
        Ok(mail) if !mail.headers.is_empty() && mail.headers.iter().all(|h| is_token(h.get_key_raw())) => {
            if !has_mail_header(&mail) {
                return Err(ParseFailure(
                    "no mail header (From, To, Subject, Date, Message-ID…): not an e-mail message".into(),
                ));
            }
            Ok(from_mail(&mail, false))
        }
        Ok(mail) if mail.headers.is_empty() => Err(ParseFailure("no header lines: not an e-mail message".into())),
        other => {
            let e = other
                .err()
                .map_or_else(|| "a header line without a name".to_string(), |e| e.to_string());
            let repaired = repair_headers(raw);
            match repaired.as_deref().map(mailparse::parse_mail) {
                Some(Ok(mail))
                    if !mail.headers.is_empty() && mail.headers.iter().all(|h| is_token(h.get_key_raw())) =>
                {
                    Ok(from_mail(&mail, true))
                }
                _ if e.contains("Recursion limit") => Err(ParseFailure(
                    "unreadable message: MIME parts nested more than 100 deep".into(),
                )),
                _ => Err(ParseFailure(format!("unreadable message: {e}"))),
            }
        }
    }
}

/// A header name: printable ASCII without spaces or colons.
fn is_token(key: &[u8]) -> bool {
    let key = key.trim_ascii();
    !key.is_empty() && key.iter().all(|&b| b.is_ascii_graphic() && b != b':')
}

/// Keeps the header lines up to the first line that is neither `Name: value` nor a
/// continuation, then a blank line, then everything else as body.
fn repair_headers(raw: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(raw.len() + 2);
    let mut pos = 0;
    let mut headers = 0;
    while pos < raw.len() {
        let end = memchr::memchr(b'\n', &raw[pos..]).map_or(raw.len(), |i| pos + i + 1);
        let line = &raw[pos..end];
        let content = line.strip_suffix(b"\n").unwrap_or(line);
        let content = content.strip_suffix(b"\r").unwrap_or(content);
        if content.is_empty() {
            break;
        }
        let continuation = headers > 0 && matches!(content.first(), Some(b' ' | b'\t'));
        let header = content
            .iter()
            .position(|&b| b == b':')
            .is_some_and(|c| c > 0 && content[..c].iter().all(|&b| b.is_ascii_graphic()));
        if !(continuation || header) {
            break;
        }
        out.extend_from_slice(content);
        out.push(b'\n');
        headers += 1;
        pos = end;
    }
    if headers == 0 {
        return None;
    }
    out.push(b'\n');
    out.extend_from_slice(&raw[pos..]);
    Some(out)
}

/// Header text: raw UTF-8 (RFC 6532) when the bytes are valid UTF-8, else mailparse's
/// reading (RFC 2047 decoded, raw 8-bit bytes as Latin-1).
fn header_text(h: &MailHeader<'_>) -> String {
    if let Some(plain) = plain_value(h) {
        return plain.trim().to_string();
    }
    h.get_value_utf8().unwrap_or_else(|_| h.get_value()).trim().to_string()
}

/// A header value with nothing to decode or unfold (one line of UTF-8 without an RFC 2047
/// word): mailparse would return it unchanged, so it is taken as it is. Most values are.
fn plain_value<'a>(h: &'a MailHeader<'a>) -> Option<&'a str> {
    let raw = h.get_value_raw();
    let encoded_word = memchr::memchr_iter(b'=', raw).any(|i| raw.get(i + 1) == Some(&b'?'));
    if encoded_word || memchr::memchr2(b'\n', b'\r', raw).is_some() {
        return None;
    }
    std::str::from_utf8(raw).ok()
}

fn address_fallback() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| Regex::new(r"[A-Za-z0-9._%+'=-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+").expect("valid regex"))
}

/// Addresses of a header; a list mailparse cannot parse is scanned for `local@domain` tokens.
fn addresses(h: &MailHeader<'_>) -> Vec<Addr> {
    let mut out = Vec::new();
    let push = |out: &mut Vec<Addr>, addr: &str, name: Option<String>| {
        let addr = addr.trim().trim_matches(|c| c == '<' || c == '>').to_lowercase();
        if !addr.is_empty() {
            let name = name
                .map(|n| n.trim().trim_matches('"').trim().to_string())
                .filter(|n| !n.is_empty());
            out.push(Addr { addr, name });
        }
    };
    if let Some((addr, name)) = simple_address(h.get_value_raw()) {
        push(&mut out, addr, name.map(str::to_string));
        return out;
    }
    let raw_utf8 = std::str::from_utf8(h.get_value_raw()).is_ok();
    match addrparse_header(h) {
        Ok(list) if !raw_utf8 || h.get_value_raw().is_ascii() => {
            for a in list.iter() {
                match a {
                    MailAddr::Single(s) => push(&mut out, &s.addr, s.display_name.clone()),
                    MailAddr::Group(g) => {
                        for s in &g.addrs {
                            push(&mut out, &s.addr, s.display_name.clone());
                        }
                    }
                }
            }
        }
        _ => {
            // Raw UTF-8 names or unparseable lists: mailparse's Latin-1 reading would garble names.
            let text = header_text(h);
            match mailparse::addrparse(&text) {
                Ok(list) => {
                    for a in list.iter() {
                        if let MailAddr::Single(s) = a {
                            push(&mut out, &s.addr, s.display_name.clone());
                        } else if let MailAddr::Group(g) = a {
                            for s in &g.addrs {
                                push(&mut out, &s.addr, s.display_name.clone());
                            }
                        }
                    }
                }
                Err(_) => {
                    for m in address_fallback().find_iter(&text) {
                        push(&mut out, m.as_str(), None);
                    }
                }
            }
        }
    }
    out
}

/// The two shapes most address headers have, `local@domain` and `Some Name <local@domain>`
/// (a name of letters, digits and single spaces), read without mailparse's tokenizer; the
/// answer is mailparse's (tested against it). Anything else returns `None`.
fn simple_address(raw: &[u8]) -> Option<(&str, Option<&str>)> {
    let value = std::str::from_utf8(raw.trim_ascii()).ok()?;
    let is_addr = |a: &str| {
        a.split_once('@').is_some_and(|(l, d)| {
            !l.is_empty()
                && !d.is_empty()
                && l.bytes().all(|b| b.is_ascii_alphanumeric() || b"._%+-".contains(&b))
                && d.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-')
                && !l.starts_with('.')
                && !l.ends_with('.')
                && !has_pair(l, b'.')
        })
    };
    match value.strip_suffix('>').and_then(|v| v.split_once('<')) {
        None => is_addr(value).then_some((value, None)),
        Some((name, addr)) => {
            let name = name.strip_suffix(' ')?;
            let simple_name = !name.is_empty()
                && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b' ')
                && !name.starts_with(' ')
                && !name.ends_with(' ')
                && !has_pair(name, b' ');
            (simple_name && is_addr(addr)).then_some((addr, Some(name)))
        }
    }
}

/// Message ids of a header, without angle brackets. Tokens without `<…>` are taken whole
/// when they look like an id (`local@host`).
fn ids(value: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = value;
    while let Some(lt) = rest.find('<') {
        let Some(gt) = rest[lt..].find('>') else { break };
        let id = rest[lt + 1..lt + gt].trim();
        if !id.is_empty() && !id.contains(char::is_whitespace) {
            out.push(id.to_string());
        }
        rest = &rest[lt + gt + 1..];
    }
    if out.is_empty() {
        for tok in value.split_whitespace() {
            let tok = tok.trim_matches(|c| c == '<' || c == '>' || c == ',');
            if tok.contains('@') {
                out.push(tok.to_string());
            }
        }
    }
    out
}

fn from_mail(mail: &ParsedMail<'_>, repaired: bool) -> ParsedMessage {
    let mut m = ParsedMessage {
        header_count: mail.headers.len(),
        headers_repaired: repaired,
        ..Default::default()
    };
    let headers = Headers::new(&mail.headers);
    m.message_id = headers
        .first(Known::MessageId)
        .and_then(|h| ids(&header_text(h)).into_iter().next());
    m.in_reply_to = headers.first(Known::InReplyTo).and_then(|h| ids(&header_text(h)).pop());
    m.references = headers
        .first(Known::References)
        .map(|h| ids(&header_text(h)))
        .unwrap_or_default();
    if let Some(h) = headers.first(Known::From) {
        m.from_raw = Some(header_text(h)).filter(|s| !s.is_empty());
        m.from = addresses(h).into_iter().next();
    }
    if m.from.is_none() {
        m.from = [Known::Sender, Known::ReturnPath]
            .into_iter()
            .find_map(|n| headers.first(n).and_then(|h| addresses(h).into_iter().next()));
    }
    m.duplicate_headers = [
        Known::From,
        Known::Date,
        Known::MessageId,
        Known::Subject,
        Known::References,
        Known::ContentType,
    ]
    .into_iter()
    .map(|n| headers.count(n).saturating_sub(1))
    .sum();
    for (name, list) in [(Known::To, &mut m.to), (Known::Cc, &mut m.cc), (Known::Bcc, &mut m.bcc)] {
        for h in headers.every(&[name]) {
            list.extend(addresses(h));
        }
    }
    for h in headers.every(&[Known::DeliveredTo, Known::XOriginalTo]) {
        for a in addresses(h) {
            if !m.delivered_to.contains(&a) {
                m.delivered_to.push(a);
            }
        }
    }
    m.reply_to = headers
        .first(Known::ReplyTo)
        .and_then(|h| addresses(h).into_iter().next());
    m.subject = headers.first(Known::Subject).map(header_text).filter(|s| !s.is_empty());
    if let Some(h) = headers.first(Known::Date) {
        let raw = String::from_utf8_lossy(h.get_value_raw()).trim().to_string();
        m.date_ms = dates::parse_date_header(&raw);
        m.date_raw = Some(raw);
    }
    if m.date_ms.is_none() {
        m.received_ms = headers
            .first(Known::Received)
            .and_then(|h| dates::parse_received(&header_text(h)));
    }
    m.gmail_labels = headers.first(Known::GmailLabels).map(header_text);
    m.gmail_thread = headers
        .first(Known::GmailThread)
        .map(header_text)
        .filter(|s| !s.is_empty());
    m.folder_internal =
        headers.has(Known::Imap) && m.subject.as_deref().is_some_and(|s| s.contains("FOLDER INTERNAL DATA"));
    m.automated = automated(mail, &headers, &m);
    let mut parts = BodyParts::default();
    walk(mail, &mut parts, 0);
    match (parts.plain, parts.html) {
        (Some(p), _) => m.body = p,
        (None, Some(h)) => {
            m.body = html_to_text(&h);
            m.html_only = true;
        }
        (None, None) => {}
    }
    crlf_to_lf(&mut m.body);
    m.attachments = parts.attachments;
    m
}

/// `\r\n` → `\n` in place (as `replace` would, without a second copy of the body: every
/// quoted-printable body has CRLF line breaks, and one can be tens of megabytes).
fn crlf_to_lf(s: &mut String) {
    // A CR followed by LF (searched as CR: a two-byte pattern would build a searcher per call).
    let crlf_at = |bytes: &[u8], from: usize| {
        memchr::memchr_iter(b'\r', &bytes[from..])
            .map(|i| from + i)
            .find(|&i| bytes.get(i + 1) == Some(&b'\n'))
    };
    let Some(first) = crlf_at(s.as_bytes(), 0) else { return };
    let mut bytes = std::mem::take(s).into_bytes();
    // Each CR of a CRLF is dropped by moving the text up to the next CRLF over it.
    let mut kept = first;
    let mut read = first + 1;
    while let Some(at) = crlf_at(&bytes, read) {
        bytes.copy_within(read..at, kept);
        kept += at - read;
        read = at + 1;
    }
    let len = bytes.len();
    bytes.copy_within(read..len, kept);
    bytes.truncate(kept + len - read);
    // Only ASCII CRs were removed, so the text is still UTF-8.
    *s = String::from_utf8(bytes).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned());
}

/// Signs of mail written by a machine: auto-replies, bounces, lists, bulk and no-reply senders.
fn automated(mail: &ParsedMail<'_>, headers: &Headers<'_>, m: &ParsedMessage) -> Option<&'static str> {
    let value = |n: Known| headers.first(n).map(|h| header_text(h).to_ascii_lowercase());
    if value(Known::AutoSubmitted).is_some_and(|v| !v.is_empty() && !v.starts_with("no")) {
        return Some("Auto-Submitted header");
    }
    if mail.ctype.mimetype.eq_ignore_ascii_case("multipart/report") {
        return Some("delivery or read report (multipart/report)");
    }
    if value(Known::Precedence).is_some_and(|v| matches!(v.as_str(), "bulk" | "list" | "junk" | "auto_reply")) {
        return Some("Precedence: bulk/list/junk");
    }
    if headers.has(Known::ListId) || headers.has(Known::ListUnsubscribe) {
        return Some("mailing list (List-Id / List-Unsubscribe)");
    }
    if headers.has(Known::XAutoreply) || headers.has(Known::XAutorespond) {
        return Some("X-Autoreply header");
    }
    if let Some(from) = &m.from {
        let local = from.local().replace(['-', '_', '.'], "");
        if local.starts_with("noreply")
            || local.starts_with("donotreply")
            || local == "mailerdaemon"
            || local == "postmaster"
            || local.starts_with("bounce")
        {
            return Some("no-reply or mailer-daemon sender");
        }
    }
    if value(Known::ReturnPath).is_some_and(|v| v == "<>") {
        return Some("empty Return-Path (bounce or auto-reply)");
    }
    let subject = m.subject.as_deref().unwrap_or("").to_lowercase();
    if [
        "automatic reply:",
        "auto:",
        "autoreply:",
        "out of office",
        "abwesenheitsnotiz",
        "réponse automatique",
        "undeliverable:",
        "delivery status notification",
    ]
    .iter()
    .any(|p| subject.starts_with(p))
    {
        return Some("auto-reply or bounce subject");
    }
    None
}

#[derive(Default)]
struct BodyParts {
    plain: Option<String>,
    html: Option<String>,
    attachments: Vec<String>,
}

/// Bodies nest at most this deep; deeper parts are ignored (hostile or broken mail).
const MAX_DEPTH: usize = 12;

fn walk(part: &ParsedMail<'_>, out: &mut BodyParts, depth: usize) {
    if depth > MAX_DEPTH {
        return;
    }
    let mime = part.ctype.mimetype.to_ascii_lowercase();
    if mime.starts_with("multipart/") && !part.subparts.is_empty() {
        for sub in &part.subparts {
            walk(sub, out, depth + 1);
        }
        return;
    }
    let disposition = part.get_content_disposition();
    let filename = disposition
        .params
        .get("filename")
        .or_else(|| part.ctype.params.get("name"))
        .map(|n| decode_param(n));
    let is_attachment = disposition.disposition == DispositionType::Attachment || filename.is_some();
    let textual = mime == "text/plain" || mime == "text/html" || mime.starts_with("multipart/");
    if is_attachment || !textual {
        if mime == "message/rfc822" && !is_attachment && depth > 0 {
            // A forwarded message inside a digest or mixed mail: its text is part of this one.
            if let Ok(raw) = part.get_body_raw() {
                if let Ok(inner) = mailparse::parse_mail(&raw) {
                    out.attachments.push("forwarded message".into());
                    if out.plain.is_none() && out.html.is_none() {
                        let mut sub = BodyParts::default();
                        walk(&inner, &mut sub, depth + 1);
                        out.plain = sub.plain.or(sub.html.map(|h| html_to_text(&h)));
                    }
                    return;
                }
            }
        }
        if mime == "message/rfc822" && depth == 0 {
            if let Ok(raw) = part.get_body_raw() {
                if let Ok(inner) = mailparse::parse_mail(&raw) {
                    walk(&inner, out, depth + 1);
                    return;
                }
            }
        }
        out.attachments
            .push(filename.unwrap_or_else(|| format!("unnamed {mime}")));
        return;
    }
    // Decode only the first part of each kind: the rest is never used.
    if mime == "text/html" {
        if out.html.is_none() && out.plain.is_none() {
            out.html = Some(decoded_text(part));
        }
    } else if out.plain.is_none() {
        out.plain = Some(decoded_text(part));
    }
}

/// RFC 2047 words inside a filename (illegal but common), decoded.
fn decode_param(name: &str) -> String {
    if name.contains("=?") {
        let header = format!("X: {name}");
        if let Ok((h, _)) = mailparse::parse_header(header.as_bytes()) {
            return h.get_value();
        }
    }
    name.to_string()
}

/// A text part's body as UTF-8: the declared charset through encoding_rs's WHATWG labels;
/// undeclared or unknown charsets read as UTF-8 when valid, else windows-1252.
fn decoded_text(part: &ParsedMail<'_>) -> String {
    use mailparse::body::Body;
    // The transfer encoding is looked up once (`get_body_raw` would look it up again).
    let body = match unparted_body(part) {
        Some(raw) => {
            let encoding = part
                .headers
                .get_first_value("Content-Transfer-Encoding")
                .map(|e| e.to_lowercase());
            Body::new(raw, &part.ctype, &encoding)
        }
        None => part.get_body_encoded(),
    };
    let bytes = match body {
        Body::QuotedPrintable(body) => decode_quoted_printable(body.get_raw()),
        Body::Base64(body) => body.get_decoded().unwrap_or_default(),
        Body::SevenBit(body) | Body::EightBit(body) => body.get_raw().to_vec(),
        Body::Binary(body) => body.get_raw().to_vec(),
    };
    let charset = part.ctype.charset.trim().to_ascii_lowercase();
    let declared = part.ctype.params.contains_key("charset");
    if (!declared || charset == "us-ascii" || charset == "ascii") || charset.is_empty() {
        return utf8_else(bytes, encoding_rs::WINDOWS_1252);
    }
    match encoding_rs::Encoding::for_label(charset.as_bytes()) {
        // Without a byte-order mark (which `decode` would follow), UTF-8 text is the bytes
        // themselves when they are valid: no copy.
        Some(enc) if enc == encoding_rs::UTF_8 && encoding_rs::Encoding::for_bom(&bytes).is_none() => {
            utf8_else(bytes, enc)
        }
        Some(enc) => {
            // Declared Latin-1 that is really UTF-8 is common.
            if enc != encoding_rs::UTF_8 && !bytes.is_ascii() {
                if let Ok(s) = std::str::from_utf8(&bytes) {
                    return s.to_string();
                }
            }
            enc.decode(&bytes).0.into_owned()
        }
        None => utf8_else(bytes, encoding_rs::WINDOWS_1252),
    }
}

/// The body of a `multipart/*` with no boundary line in it (a mailer dropped the parts but
/// kept the header): all the text there is. mailparse (since 0.18) leaves such a body empty,
/// so it is cut from the raw part here, and then decoded like any part's body. `None` for
/// every other part, including a multipart whose boundary occurs (mailparse's own body, the
/// preamble, is then right).
fn unparted_body<'a>(part: &ParsedMail<'a>) -> Option<&'a [u8]> {
    let multipart = part
        .ctype
        .mimetype
        .get(..10)
        .is_some_and(|m| m.eq_ignore_ascii_case("multipart/"));
    if !multipart || !part.subparts.is_empty() {
        return None;
    }
    let boundary = format!("--{}", part.ctype.params.get("boundary")?);
    let (_, body_start) = mailparse::parse_headers(part.raw_bytes).ok()?;
    let raw: &'a [u8] = part.raw_bytes;
    let body = &raw[body_start..];
    let boundary_line = memchr::memmem::find_iter(body, boundary.as_bytes()).any(|i| i == 0 || body[i - 1] == b'\n');
    (!boundary_line).then_some(body)
}

/// The bytes as text: themselves when they are valid UTF-8 (no copy), else decoded as
/// `fallback`.
fn utf8_else(bytes: Vec<u8>, fallback: &'static encoding_rs::Encoding) -> String {
    String::from_utf8(bytes).unwrap_or_else(|e| fallback.decode(e.as_bytes()).0.into_owned())
}

/// Quoted-printable decoding with exactly the answer of mailparse's decoder (the
/// `quoted_printable` crate in robust mode, tested against it below), without its
/// per-character filtering into a new `String`: that made it the single dearest step of an
/// import of quoted-printable mail. Bytes other than tab, CR, LF and printable ASCII are
/// dropped; trailing white space of a line is dropped; `=` at the end of a line joins it to
/// the next; an `=` not followed by two hex digits is kept as written; hard line breaks
/// become CRLF.
fn decode_quoted_printable(raw: &[u8]) -> Vec<u8> {
    let allowed = |b: u8| matches!(b, b'\t' | b'\r' | b'\n' | b' '..=b'~');
    let mut out = Vec::with_capacity(raw.len());
    let mut filtered = Vec::new();
    let mut pending_break = false;
    let mut rest = raw;
    loop {
        let (segment, last) = match memchr::memchr(b'\n', rest) {
            Some(i) => (&rest[..i], false),
            None => (rest, true),
        };
        let mut line = segment;
        // A fold without an early exit, so the compiler checks sixteen bytes at a time.
        if !segment.iter().fold(true, |ok, &b| ok & allowed(b)) {
            filtered.clear();
            filtered.extend(segment.iter().copied().filter(|&b| allowed(b)));
            line = &filtered;
        }
        // The text after the last line feed is a line only when something is left of it.
        if last && line.is_empty() {
            break;
        }
        let line = trim_end_white(line);
        if pending_break {
            out.extend_from_slice(b"\r\n");
        }
        pending_break = decode_qp_line(line, &mut out);
        if last {
            break;
        }
        rest = &rest[segment.len() + 1..];
    }
    let ends_with_line_feed = raw.iter().rev().find(|&&b| allowed(b)) == Some(&b'\n');
    if ends_with_line_feed && pending_break {
        out.extend_from_slice(b"\r\n");
    }
    out
}

fn trim_end_white(line: &[u8]) -> &[u8] {
    let end = line
        .iter()
        .rposition(|&b| !matches!(b, b' ' | b'\t' | b'\r'))
        .map_or(0, |i| i + 1);
    &line[..end]
}

/// Decodes one line; false when it ends in a soft break (`=`), so no line break follows.
fn decode_qp_line(line: &[u8], out: &mut Vec<u8>) -> bool {
    let hex = |b: u8| (b as char).to_digit(16);
    let mut i = 0;
    while let Some(k) = memchr::memchr(b'=', &line[i..]) {
        out.extend_from_slice(&line[i..i + k]);
        i += k;
        match (line.get(i + 1), line.get(i + 2)) {
            (None, _) => return false,
            (Some(&upper), None) => {
                out.extend_from_slice(&[b'=', upper]);
                return true;
            }
            (Some(&upper), Some(&lower)) => {
                match (hex(upper), hex(lower)) {
                    (Some(u), Some(l)) => out.push((u << 4 | l) as u8),
                    _ => out.extend_from_slice(&[b'=', upper, lower]),
                }
                i += 3;
            }
        }
    }
    out.extend_from_slice(&line[i..]);
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_addresses_and_ids() {
        let raw = b"From: =?UTF-8?Q?=C3=89milie_Dubois?= <Emilie.Dubois@Courrier.example>\nTo: a@b.example, \"C D\" <c@d.example>\nSubject: =?ISO-8859-1?Q?caf=E9?=\nMessage-ID: <x1@y>\nIn-Reply-To: junk <p1@y> <p2@y>\nReferences: <r1@y>\n <r2@y>, <invalid.\nDate: Tue, 17 Mar 2026 16:40:00 +0100\n\nhello\n";
        let m = parse(raw).unwrap();
        let from = m.from.unwrap();
        assert_eq!(from.addr, "emilie.dubois@courrier.example");
        assert_eq!(from.name.as_deref(), Some("Émilie Dubois"));
        assert_eq!(m.to.len(), 2);
        assert_eq!(m.subject.as_deref(), Some("café"));
        assert_eq!(m.message_id.as_deref(), Some("x1@y"));
        assert_eq!(m.in_reply_to.as_deref(), Some("p2@y"));
        assert_eq!(m.references, vec!["r1@y", "r2@y"]);
        assert_eq!(m.body.trim(), "hello");
        assert!(m.automated.is_none());
    }

    #[test]
    fn quoted_printable_is_decoded_exactly_as_mailparse_decodes_it() {
        let cases: &[&[u8]] = &[
            b"",
            b"\n",
            b"H=C3=A9llo,\r\n\r\nsoft=\r\nbreak  \r\n",
            b"=\n=4",
            b"==41=\t\nx=ZZ=4g \r",
            b"caf\xC3\xA9 =\xC3A9\n\xC3",
            b"a\rb\n\n\n",
            b"end=",
        ];
        let alphabet = b"=AF09az \t\r\n\xC3\x80-";
        let mut rng = crate::benchkit::SplitMix64(7);
        let mut random: Vec<Vec<u8>> = Vec::new();
        for _ in 0..20_000 {
            let len = rng.below(24) as usize;
            random.push(
                (0..len)
                    .map(|_| alphabet[rng.below(alphabet.len() as u64) as usize])
                    .collect(),
            );
        }
        for raw in cases.iter().copied().chain(random.iter().map(Vec::as_slice)) {
            let expected = quoted_printable::decode(raw, quoted_printable::ParseMode::Robust).unwrap();
            assert_eq!(
                decode_quoted_printable(raw),
                expected,
                "input {:?}",
                String::from_utf8_lossy(raw)
            );
        }
    }

    /// Random header values built from the pieces that make address and text headers hard.
    fn random_values(seed: u64, pieces: &[&str]) -> Vec<String> {
        let mut rng = crate::benchkit::SplitMix64(seed);
        (0..20_000)
            .map(|_| {
                let n = rng.below(8) as usize;
                (0..n)
                    .map(|_| pieces[rng.below(pieces.len() as u64) as usize])
                    .collect()
            })
            .collect()
    }

    #[test]
    fn simple_addresses_read_as_mailparse_reads_them() {
        // Simple pieces repeated so that about half the values are simple.
        let mut pieces = vec![
            " ",
            "  ",
            "\t",
            "<",
            ">",
            "@",
            "..",
            "\"",
            ",",
            "(c)",
            ":",
            ";",
            "é",
            "=?utf-8?q?=C3=A9?=",
            "\\",
            "[",
            "]",
            "\r\n ",
        ];
        for _ in 0..12 {
            pieces.extend([
                "Ann",
                "Lee",
                "2989",
                " ",
                "a",
                "x.y",
                "mail.example",
                ".",
                "+tag",
                "-",
                "_",
            ]);
        }
        // Mostly address-shaped: a name part, then `<local@domain>` or a bare `local@domain`.
        let names = random_values(3, &pieces);
        let locals = random_values(4, &pieces);
        let domains = random_values(6, &pieces);
        let values: Vec<String> = (0..names.len())
            .map(|i| match i % 3 {
                0 => format!("{}@{}", locals[i], domains[i]),
                1 => format!("{} <{}@{}>", names[i], locals[i], domains[i]),
                _ => names[i].clone(),
            })
            .collect();
        let mut simple = 0;
        for value in values
            .iter()
            .map(String::as_str)
            .chain(["Customer 2989 <c2989@mail.example>", "support@shop.example"])
        {
            let Some((addr, name)) = simple_address(value.as_bytes()) else {
                continue;
            };
            simple += 1;
            let header = format!("To: {value}");
            let (h, _) = mailparse::parse_header(header.as_bytes()).unwrap();
            let list = addrparse_header(&h).expect("mailparse reads what the fast path reads");
            let [MailAddr::Single(single)] = &list[..] else {
                panic!("{value:?}: {list:?}")
            };
            assert_eq!(
                (single.addr.as_str(), single.display_name.as_deref()),
                (addr, name),
                "{value:?}"
            );
        }
        assert!(simple > 500, "only {simple} simple values were generated");
    }

    #[test]
    fn plain_header_values_are_what_mailparse_returns() {
        let pieces = [
            "Re:",
            " ",
            "  ",
            "\t",
            "Order",
            "é",
            "=?utf-8?q?caf=C3=A9?=",
            "=?",
            "?=",
            "\r\n ",
            "\n\t",
            "x",
            "\u{a0}",
        ];
        let mut plain = 0;
        for value in random_values(5, &pieces) {
            let header = format!("Subject: {value}");
            let Ok((h, _)) = mailparse::parse_header(header.as_bytes()) else {
                continue;
            };
            if plain_value(&h).is_some() {
                plain += 1;
            }
            assert_eq!(header_text(&h), h.get_value_utf8().unwrap().trim(), "{value:?}");
        }
        assert!(plain > 500, "only {plain} plain values were generated");
    }

    #[test]
    fn crlf_becomes_lf_as_replace_would() {
        for text in [
            "",
            "a",
            "a\r\nb",
            "\r\r\n\n\r",
            "é\r\nü\r",
            "\r\n\r\n",
            "\r\n",
            "x\r\n\r\r\ny\r",
            "\n\r\r\n",
        ] {
            let mut s = text.to_string();
            crlf_to_lf(&mut s);
            assert_eq!(s, text.replace("\r\n", "\n"), "{text:?}");
        }
        for text in random_values(9, &["\r", "\n", "\r\n", "a", "é", " "]) {
            let mut s = text.clone();
            crlf_to_lf(&mut s);
            assert_eq!(s, text.replace("\r\n", "\n"), "{text:?}");
        }
    }

    #[test]
    fn broken_header_blocks_are_repaired_not_refused() {
        let m = parse(b"From: a@b.example\nSubject: x\nthis is not a header\nDate: y\n\nbody\n").unwrap();
        assert_eq!(m.subject.as_deref(), Some("x"));
        assert!(parse(b"just prose, no headers at all\n").is_err());
    }

    #[test]
    fn a_multipart_without_parts_keeps_its_body_as_text() {
        let raw = b"From: a@b.example\nDate: Fri, 20 Apr 2001 19:35:02 -0400\n\
            Content-Type: multipart/mixed; boundary=\"BOUNDARY\"\n\nHi there,\n\nThis is the dingus fish.\n";
        let m = parse(raw).unwrap();
        assert_eq!(m.body, "Hi there,\n\nThis is the dingus fish.\n");
        // Its transfer encoding still applies.
        let qp = b"From: a@b.example\nContent-Type: multipart/mixed; boundary=B\n\
            Content-Transfer-Encoding: quoted-printable\n\nHello w=C3=B6rld, soft=\n break.\n";
        assert_eq!(parse(qp).unwrap().body, "Hello w\u{f6}rld, soft break.\n");
        let b64 = b"From: a@b.example\nContent-Type: multipart/mixed; boundary=B\n\
            Content-Transfer-Encoding: base64\n\nSGVsbG8gYmFzZTY0IHdvcmxk\n";
        assert_eq!(parse(b64).unwrap().body, "Hello base64 world");
        // A boundary line, even the last line without a newline, ends the text (the preamble).
        let last = b"From: a@b.example\nContent-Type: multipart/mixed; boundary=B3\n\nPreamble text only\n--B3";
        assert_eq!(parse(last).unwrap().body, "Preamble text only");
    }

    #[test]
    fn hostile_nesting_is_refused_with_a_reason_not_a_stack_overflow() {
        let mut raw = String::from("From: a@b.example\nDate: Thu, 1 Jan 2026 00:00:00 +0000\n");
        for i in 0..5000 {
            raw.push_str(&format!("Content-Type: multipart/mixed; boundary=\"b{i}\"\n\n--b{i}\n"));
        }
        raw.push_str("Content-Type: text/plain\n\nhello\n");
        let err = parse(raw.as_bytes()).expect_err("refused");
        assert_eq!(err.0, "unreadable message: MIME parts nested more than 100 deep");
    }

    #[test]
    fn automated_mail_is_recognised() {
        let m = parse(b"From: noreply@shop.example\nTo: a@b.example\n\nthanks\n").unwrap();
        assert!(m.automated.is_some());
        let m = parse(b"From: a@shop.example\nAuto-Submitted: auto-replied\n\nthanks\n").unwrap();
        assert!(m.automated.is_some());
        let m = parse(b"From: a@shop.example\nAuto-Submitted: no\n\nthanks\n").unwrap();
        assert!(m.automated.is_none());
    }
}
