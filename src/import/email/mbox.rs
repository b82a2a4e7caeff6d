//! mbox splitting (mboxo/mboxrd, Gmail Takeout, Thunderbird, git format-patch) and MMDF,
//! streamed: one message in memory at a time.

use regex::bytes::Regex;
use std::io::{self, BufRead, Read};
use std::sync::OnceLock;

/// One message cut out of a container, before parsing.
#[derive(Debug, Default)]
pub struct RawMessage {
    /// Byte offset of the message (its From_ line in an mbox) in the file.
    pub offset: u64,
    /// 1-based line of the message start.
    pub line: u64,
    /// The mbox From_ line without `From `, when there is one.
    pub envelope: Option<String>,
    /// Maildir: file path relative to the Maildir root, folder (`.Sent`, `cur`…) and flags.
    pub maildir_file: Option<String>,
    pub maildir_folder: Option<String>,
    pub maildir_flags: Option<String>,
    /// Maildir: delivery time from the file name's unique prefix (epoch seconds).
    pub maildir_epoch: Option<i64>,
    /// The message, or its first [`MAX_MESSAGE_BYTES`] when it is longer.
    pub bytes: Vec<u8>,
    /// Bytes of the message past [`MAX_MESSAGE_BYTES`], skipped unread.
    pub cut_bytes: u64,
}

/// Most of a message kept in memory: headers, text and attachment names come first, and
/// the few messages past this (a mail server's limit is 20–150 MB) are attachments; reading
/// them whole would make memory grow with the largest message (a 256 MB message took 616 MB).
pub const MAX_MESSAGE_BYTES: usize = 16 << 20;

/// A From_ separator: `From <sender> <asctime date>`; the sender may be `-`, `MAILER-DAEMON`
/// or an id, the date may carry a zone before the year (Google Takeout).
fn separator_shape() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| Regex::new(r"^From \S*\s+.*\d{1,2}:\d{2}.*\d{4}\s*$").expect("valid regex"))
}

/// True when `line` (without its line end) is an mbox message separator.
pub fn is_separator(line: &[u8]) -> bool {
    line.starts_with(b"From ") && separator_shape().is_match(line)
}

fn trim_eol(line: &[u8]) -> &[u8] {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    line.strip_suffix(b"\r").unwrap_or(line)
}

/// Blank for the separator rule: whitespace-only lines count (git--sample.mbox has them).
fn is_blank(line: &[u8]) -> bool {
    line.trim_ascii().is_empty()
}

/// Bytes read from the file at a time; a message longer than this grows the buffer.
const CHUNK: usize = 4 << 20;

/// The From_ line that starts the next message, already found in the buffer.
struct Separator {
    /// File offset and 1-based line of the From_ line.
    offset: u64,
    line: u64,
    envelope: String,
    /// Buffer indices: start of the From_ line, and of the first line after it.
    start: usize,
    body: usize,
}

/// Reads an mbox message by message. A separator is a From_ line at the start of the file or
/// after a blank line; mboxrd quoting (`>From ` → `From `, `>>From ` → `>From `) is undone
/// when `unquote` is set.
///
/// The file is read in large chunks and separators are found by searching for `\nFrom `
/// (memchr), not line by line: only a candidate's previous line and its own line are looked at.
pub struct MboxReader<R> {
    inner: R,
    unquote: bool,
    chunk: usize,
    buf: Vec<u8>,
    /// File offset of `buf[0]`.
    base: u64,
    /// Before the first separator: where the next preamble line starts in `buf`.
    pos: usize,
    eof: bool,
    pending: Option<Separator>,
    /// Lines read before the first separator.
    line_no: u64,
    prev_blank: bool,
    started: bool,
    finder: memchr::memmem::Finder<'static>,
    /// Bytes before the first separator (prose, a BOM, blank lines).
    pub preamble: Vec<u8>,
    pub preamble_line: u64,
    /// The current message's lines already taken out of `buf` (see `retire_long_body`),
    /// the bytes of it dropped past [`MAX_MESSAGE_BYTES`], and the lines taken out.
    long: Vec<u8>,
    cut: u64,
    retired_lines: u64,
    /// After a line longer than the buffer was cut: `buf` starts inside that line, and
    /// whether its part taken out was blank (for the blank-line test before a separator).
    inside_line: Option<bool>,
}

impl<R: Read> MboxReader<R> {
    pub fn new(inner: R, unquote: bool) -> MboxReader<R> {
        MboxReader {
            inner,
            unquote,
            chunk: CHUNK,
            buf: Vec::new(),
            base: 0,
            pos: 0,
            eof: false,
            pending: None,
            line_no: 0,
            prev_blank: true,
            started: false,
            finder: memchr::memmem::Finder::new(b"\nFrom "),
            preamble: Vec::new(),
            preamble_line: 0,
            long: Vec::new(),
            cut: 0,
            retired_lines: 0,
            inside_line: None,
        }
    }

    /// Keeps a long message from growing the buffer: all of it but the last few bytes goes
    /// to `long` (up to [`MAX_MESSAGE_BYTES`]; past it, only counted), and the buffer is
    /// drained up to them. Every separator in the buffer has been looked for and judged
    /// already, except one the end of the buffer cuts: its search needs the newline before
    /// it (kept), and its blank-line test the line before that — kept, or, when it began
    /// before the kept bytes, whether that part of it was blank (`inside_line`).
    fn retire_long_body(&mut self, sep: &mut Separator) {
        const TAIL: usize = 64;
        if self.buf.len() - sep.body < self.chunk {
            return;
        }
        let body = &self.buf[sep.body..];
        let mut keep = body.len().saturating_sub(TAIL);
        // Not within a line's first bytes: they say whether it is a quoted `>From` line.
        // (The body starts a line unless it starts inside one.)
        let near = keep.saturating_sub(8);
        match memchr::memrchr(b'\n', &body[near..keep]) {
            Some(i) => keep = near + i + 1,
            None if near == 0 && self.inside_line.is_none() => return,
            None => {}
        }
        if keep == 0 {
            return;
        }
        let cut = sep.body + keep;
        let retired = &self.buf[sep.body..cut];
        let room = MAX_MESSAGE_BYTES.saturating_sub(self.long.len()).min(retired.len());
        copy_body(
            &retired[..room],
            self.unquote,
            self.inside_line.is_none(),
            &mut self.long,
        );
        self.cut += (retired.len() - room) as u64;
        self.retired_lines += memchr::memchr_iter(b'\n', &self.buf[sep.start..cut]).count() as u64;
        self.inside_line = (self.buf[cut - 1] != b'\n').then(|| {
            let line = memchr::memrchr(b'\n', &self.buf[sep.start..cut]).map_or(sep.start, |i| sep.start + i + 1);
            // A line that began before the buffer did is blank only if that part was too.
            let earlier = if line == sep.start { self.inside_line } else { None };
            earlier.unwrap_or(true) && is_blank(&self.buf[line..cut])
        });
        self.buf.drain(..cut);
        self.base += cut as u64;
        (sep.start, sep.body) = (0, 0);
    }

    /// Bytes consumed so far (through the From_ line of the next message).
    pub fn offset(&self) -> u64 {
        match &self.pending {
            Some(sep) => self.base + sep.body as u64,
            None if self.started => self.base + self.buf.len() as u64,
            None => self.base + self.pos as u64,
        }
    }

    /// Drops `buf[..keep_from]` and appends the next chunk of the file. Returns how far the
    /// kept bytes moved (subtract it from buffer indices), and sets `eof` at the end.
    fn fill(&mut self, keep_from: usize) -> io::Result<usize> {
        if keep_from > 0 {
            self.buf.drain(..keep_from);
            self.base += keep_from as u64;
            if let Some(sep) = self.pending.as_mut() {
                sep.start -= keep_from;
                sep.body -= keep_from;
            }
        }
        let n = self.inner.by_ref().take(self.chunk as u64).read_to_end(&mut self.buf)?;
        if n == 0 {
            self.eof = true;
        }
        Ok(keep_from)
    }

    /// The line starting at `at`: its end (after the `\n`), reading more when it is cut
    /// by the end of the buffer. `None` at end of file with nothing left.
    fn line_end(&mut self, at: &mut usize, keep_from: usize) -> io::Result<Option<usize>> {
        loop {
            if let Some(i) = memchr::memchr(b'\n', &self.buf[*at..]) {
                return Ok(Some(*at + i + 1));
            }
            if self.eof {
                return Ok((*at < self.buf.len()).then_some(self.buf.len()));
            }
            *at -= self.fill(keep_from.min(*at))?;
        }
    }

    /// Reads the preamble up to the first separator (line by line: it is short).
    fn find_first(&mut self) -> io::Result<()> {
        loop {
            let mut at = self.pos;
            let keep = at;
            let Some(end) = self.line_end(&mut at, keep)? else {
                self.pos = at;
                return Ok(());
            };
            self.pos = at;
            let line_offset = self.base + at as u64;
            self.line_no += 1;
            let line = &self.buf[at..end];
            let content = trim_eol(line);
            let content = if line_offset == 0 {
                content.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(content)
            } else {
                content
            };
            if self.prev_blank && is_separator(content) {
                self.pending = Some(Separator {
                    offset: line_offset,
                    line: self.line_no,
                    envelope: String::from_utf8_lossy(&content[5..]).trim().to_string(),
                    start: at,
                    body: end,
                });
                self.started = true;
                return Ok(());
            }
            self.prev_blank = is_blank(line);
            if self.preamble.is_empty() {
                self.preamble_line = self.line_no;
            }
            if self.preamble.len() < 64 * 1024 {
                self.preamble.extend_from_slice(line);
            }
            self.pos = end;
        }
    }

    /// The next message, or `None` at end of file.
    pub fn next_message(&mut self) -> io::Result<Option<RawMessage>> {
        if !self.started {
            self.find_first()?;
        }
        let Some(sep) = self.pending.take() else {
            return Ok(None);
        };
        let mut sep = sep;
        // The line right after a From_ line is never a separator (its previous line is not
        // blank), so the search starts at the body.
        let mut search = sep.body;
        let next = loop {
            let Some(i) = self.finder.find(&self.buf[search..]) else {
                if self.eof {
                    break None;
                }
                self.retire_long_body(&mut sep);
                // Keep the last bytes: `\nFrom ` may be cut by the end of the buffer.
                let resume = self.buf.len().saturating_sub(5).max(sep.body);
                self.pending = Some(sep);
                let shift = self.fill(self.pending.as_ref().map_or(0, |s| s.start))?;
                sep = self.pending.take().expect("separator kept");
                search = resume - shift;
                continue;
            };
            let nl = search + i;
            let mut at = nl + 1;
            self.pending = Some(sep);
            let keep = self.pending.as_ref().map_or(0, |s| s.start);
            let end = self.line_end(&mut at, keep)?;
            sep = self.pending.take().expect("separator kept");
            let nl = at - 1;
            let end = end.expect("a line starts here");
            let prev_start = memchr::memrchr(b'\n', &self.buf[sep.start..nl]).map_or(sep.start, |p| sep.start + p + 1);
            let content = trim_eol(&self.buf[at..end]);
            // The line before may have begun before the buffer (see `retire_long_body`).
            let before_blank = prev_start != sep.start || self.inside_line.unwrap_or(true);
            if before_blank && is_blank(&self.buf[prev_start..nl]) && is_separator(content) {
                let lines = memchr::memchr_iter(b'\n', &self.buf[sep.start..at]).count() as u64;
                break Some(Separator {
                    offset: self.base + at as u64,
                    line: sep.line + self.retired_lines + lines,
                    envelope: String::from_utf8_lossy(&content[5..]).trim().to_string(),
                    start: at,
                    body: end,
                });
            }
            search = at;
        };
        let body_end = next.as_ref().map_or(self.buf.len(), |n| n.start);
        let rest = &self.buf[sep.body..body_end];
        let mut bytes = std::mem::take(&mut self.long);
        let room = MAX_MESSAGE_BYTES.saturating_sub(bytes.len()).min(rest.len());
        bytes.reserve_exact(room);
        copy_body(&rest[..room], self.unquote, self.inside_line.is_none(), &mut bytes);
        let cut_bytes = std::mem::take(&mut self.cut) + (rest.len() - room) as u64;
        if cut_bytes == 0 {
            strip_final_blank(&mut bytes);
        }
        self.retired_lines = 0;
        self.inside_line = None;
        self.pending = next;
        Ok(Some(RawMessage {
            offset: sep.offset,
            line: sep.line,
            envelope: Some(sep.envelope),
            bytes,
            cut_bytes,
            ..Default::default()
        }))
    }
}

/// Appends a message body, undoing mboxrd quoting when asked: only lines that start with
/// `>` are looked at.
fn copy_body(body: &[u8], unquote: bool, at_line_start: bool, out: &mut Vec<u8>) {
    if !unquote {
        out.extend_from_slice(body);
        return;
    }
    let mut copied = 0;
    let mut check = |line_start: usize, out: &mut Vec<u8>| {
        if is_quoted_from(&body[line_start..]) {
            out.extend_from_slice(&body[copied..line_start]);
            copied = line_start + 1;
        }
    };
    if at_line_start && body.first() == Some(&b'>') {
        check(0, out);
    }
    for i in memchr::memmem::find_iter(body, b"\n>") {
        check(i + 1, out);
    }
    out.extend_from_slice(&body[copied..]);
}

/// mboxrd: a line `>+From ` had one `>` added by the writer.
fn is_quoted_from(line: &[u8]) -> bool {
    let rest = line.iter().position(|&b| b != b'>').map(|i| &line[i..]);
    line.first() == Some(&b'>') && rest.is_some_and(|r| r.starts_with(b"From "))
}

/// The blank line before a separator belongs to the mbox, not to the message.
fn strip_final_blank(bytes: &mut Vec<u8>) {
    if bytes.ends_with(b"\r\n\r\n") {
        bytes.truncate(bytes.len() - 2);
    } else if bytes.ends_with(b"\n\n") {
        bytes.truncate(bytes.len() - 1);
    }
}

/// MMDF: messages enclosed by `^A^A^A^A` lines.
pub struct MmdfReader<R> {
    inner: R,
    offset: u64,
    line_no: u64,
    line: Vec<u8>,
}

const MMDF_MARK: &[u8] = b"\x01\x01\x01\x01";

impl<R: BufRead> MmdfReader<R> {
    pub fn new(inner: R) -> MmdfReader<R> {
        MmdfReader {
            inner,
            offset: 0,
            line_no: 0,
            line: Vec::new(),
        }
    }

    pub fn offset(&self) -> u64 {
        self.offset
    }

    pub fn next_message(&mut self) -> io::Result<Option<RawMessage>> {
        let mut msg: Option<RawMessage> = None;
        loop {
            self.line.clear();
            let line_offset = self.offset;
            if self.inner.read_until(b'\n', &mut self.line)? == 0 {
                // An unterminated last message is still a message.
                return Ok(msg.filter(|m| !m.bytes.is_empty()));
            }
            self.offset += self.line.len() as u64;
            self.line_no += 1;
            if trim_eol(&self.line) == MMDF_MARK {
                match msg.take() {
                    Some(m) => return Ok(Some(m)),
                    None => {
                        msg = Some(RawMessage {
                            offset: line_offset,
                            line: self.line_no,
                            ..Default::default()
                        })
                    }
                }
                continue;
            }
            if let Some(m) = msg.as_mut() {
                let room = MAX_MESSAGE_BYTES.saturating_sub(m.bytes.len()).min(self.line.len());
                m.bytes.extend_from_slice(&self.line[..room]);
                m.cut_bytes += (self.line.len() - room) as u64;
            }
        }
    }
}

/// True when the first bytes are an mbox: `From ` separator at the start (after a BOM or
/// blank lines).
pub fn sniff_mbox(head: &[u8]) -> bool {
    let head = head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(head);
    let start = head
        .iter()
        .position(|&b| !b.is_ascii_whitespace())
        .unwrap_or(head.len());
    let first = &head[start..];
    let end = first.iter().position(|&b| b == b'\n').unwrap_or(first.len());
    is_separator(trim_eol(&first[..end]))
}

/// True when the file starts with an MMDF delimiter.
pub fn sniff_mmdf(head: &[u8]) -> bool {
    head.starts_with(b"\x01\x01\x01\x01\n") || head.starts_with(b"\x01\x01\x01\x01\r\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(text: &str, unquote: bool) -> Vec<RawMessage> {
        split_chunked(text, unquote, CHUNK)
    }

    fn split_chunked(text: &str, unquote: bool, chunk: usize) -> Vec<RawMessage> {
        let mut r = MboxReader::new(text.as_bytes(), unquote);
        r.chunk = chunk;
        let mut out = Vec::new();
        while let Some(m) = r.next_message().unwrap() {
            out.push(m);
        }
        out
    }

    #[test]
    fn separators_need_a_blank_line_before_and_a_date_shape() {
        let text = "From a@b Sun Dec 25 21:33:37 2011\nSubject: x\n\nbody\nFrom here on\n\nFrom me, hello\n\nFrom - Mon Jan 01 00:00:00 2024\nSubject: y\n\nz\n";
        let msgs = split(text, false);
        assert_eq!(msgs.len(), 2);
        assert!(String::from_utf8_lossy(&msgs[0].bytes).contains("From me, hello"));
        assert_eq!(msgs[1].envelope.as_deref(), Some("- Mon Jan 01 00:00:00 2024"));
        assert_eq!(msgs[1].line, 9);
    }

    #[test]
    fn buffer_boundaries_change_nothing() {
        let text = "\u{FEFF}prose\n\nFrom a@b Sun Dec 25 21:33:37 2011\r\nSubject: x\r\n\r\n>From one\r\nFrom here on\r\n \t\r\nFrom - Mon Jan 01 00:00:00 2024\nSubject: y\n\n>>From z\n\n\nFrom nobody Fri Aug  8 22:24:03 2008\nFrom nobody Fri Aug  8 22:24:03 2008\n\nFrom x Mon Sep 17 00:00:00 2001";
        let whole = split(text, true);
        assert_eq!(whole.len(), 4);
        let summary = |msgs: &[RawMessage]| -> Vec<(u64, u64, Option<String>, Vec<u8>)> {
            msgs.iter()
                .map(|m| (m.offset, m.line, m.envelope.clone(), m.bytes.clone()))
                .collect()
        };
        assert_eq!(whole[1].line, 9);
        assert_eq!(whole[1].bytes, b"Subject: y\n\n>From z\n\n");
        for chunk in 1..40 {
            assert_eq!(
                summary(&split_chunked(text, true, chunk)),
                summary(&whole),
                "chunk {chunk}"
            );
        }
    }

    /// Messages longer than the buffer's chunk are taken out of it line by line: the same
    /// messages, offsets and lines whatever the chunk, quoted `From` lines included.
    #[test]
    fn long_messages_split_the_same_whatever_the_chunk() {
        let mut text = String::new();
        for m in 0..6 {
            text.push_str(&format!(
                "From m{m}@example.com Mon Mar 11 10:0{m}:00 2024\nSubject: {m}\n\n"
            ));
            for l in 0..(40 * m + 3) {
                match l % 9 {
                    0 => text.push_str(">From a quoted line\n"),
                    1 => text.push_str("From a line that is no separator\n"),
                    2 => text.push('\n'),
                    // A line longer than small chunks, then a From_ line after it: not a
                    // separator, its line before is not blank.
                    3 => text.push_str(&format!("{}\nFrom x Mon Mar 11 10:00:00 2024\n", "w".repeat(300))),
                    _ => text.push_str(&format!("line {l} of message {m}, some words\n")),
                }
            }
            // A long blank line before the next separator: blank all the same.
            text.push_str(&" ".repeat(200 * (m % 2)));
            text.push('\n');
        }
        let summary = |msgs: &[RawMessage]| -> Vec<(u64, u64, Vec<u8>, u64)> {
            msgs.iter()
                .map(|m| (m.offset, m.line, m.bytes.clone(), m.cut_bytes))
                .collect()
        };
        let whole = summary(&split(&text, true));
        assert_eq!(whole.len(), 6);
        for chunk in [1, 5, 16, 64, 100, 333, 1000, 4096] {
            assert_eq!(summary(&split_chunked(&text, true, chunk)), whole, "chunk {chunk}");
        }
    }

    #[test]
    fn a_message_past_the_limit_is_cut_and_the_next_one_is_whole() {
        let line = "a line of a very long message, eighty bytes or so, over and over and over\n";
        let lines = (MAX_MESSAGE_BYTES + (4 << 20)) / line.len();
        let mut text = String::from("From a@b Sun Dec 25 21:33:37 2011\nSubject: big\n\n");
        text.push_str(&line.repeat(lines));
        text.push_str("\nFrom c@d Mon Dec 26 09:00:00 2011\nSubject: small\n\nhello\n");
        for chunk in [CHUNK, 1 << 16] {
            let msgs = split_chunked(&text, false, chunk);
            assert_eq!(msgs.len(), 2, "chunk {chunk}");
            let body = "Subject: big\n\n".len() + lines * line.len() + 1;
            assert_eq!(msgs[0].bytes.len(), MAX_MESSAGE_BYTES);
            assert_eq!(msgs[0].cut_bytes, (body - MAX_MESSAGE_BYTES) as u64);
            assert!(msgs[0].bytes.starts_with(b"Subject: big\n\na line"));
            assert_eq!(msgs[1].bytes, b"Subject: small\n\nhello\n");
            assert_eq!(msgs[1].line, lines as u64 + 5);
            assert_eq!(msgs[1].offset, text.find("From c@d").unwrap() as u64);
            assert_eq!(msgs[1].cut_bytes, 0);
        }
    }

    #[test]
    fn mboxrd_unquoting_removes_one_level() {
        let text = "From x Mon Sep 17 00:00:00 2001\nSubject: a\n\n>From one\n>>From two\n >From three\n>From\n";
        let msgs = split(text, true);
        let body = String::from_utf8_lossy(&msgs[0].bytes).to_string();
        assert!(body.contains("\nFrom one\n>From two\n >From three\n>From\n"), "{body}");
    }

    #[test]
    fn takeout_and_crlf_separators() {
        assert!(is_separator(
            b"From 1537866361256992303@xxx Wed Jun 22 19:27:30 +0000 2016"
        ));
        assert!(is_separator(b"From nobody Fri Aug  8 22:24:03 2008"));
        assert!(sniff_mbox(b"\r\nFrom nobody Mon Sep 17 00:00:00 2001\r\nFrom: a\r\n"));
        assert!(!sniff_mbox(b"This isn't an mbox.\n"));
    }
}
