//! mbox splitting (mboxo/mboxrd, Gmail Takeout, Thunderbird, git format-patch) and MMDF,
//! streamed: one message in memory at a time.

use regex::bytes::Regex;
use std::io::{self, BufRead};
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
    pub bytes: Vec<u8>,
}

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

/// Reads an mbox message by message. A separator is a From_ line at the start of the file or
/// after a blank line; mboxrd quoting (`>From ` → `From `, `>>From ` → `>From `) is undone
/// when `unquote` is set.
pub struct MboxReader<R> {
    inner: R,
    unquote: bool,
    line: Vec<u8>,
    /// The separator line already read for the next message.
    pending: Option<(u64, u64, String)>,
    offset: u64,
    line_no: u64,
    prev_blank: bool,
    started: bool,
    /// Bytes before the first separator (prose, a BOM, blank lines).
    pub preamble: Vec<u8>,
    pub preamble_line: u64,
}

impl<R: BufRead> MboxReader<R> {
    pub fn new(inner: R, unquote: bool) -> MboxReader<R> {
        MboxReader {
            inner,
            unquote,
            line: Vec::with_capacity(256),
            pending: None,
            offset: 0,
            line_no: 0,
            prev_blank: true,
            started: false,
            preamble: Vec::new(),
            preamble_line: 0,
        }
    }

    /// Bytes consumed so far.
    pub fn offset(&self) -> u64 {
        self.offset
    }

    fn read_line(&mut self) -> io::Result<bool> {
        self.line.clear();
        let n = self.inner.read_until(b'\n', &mut self.line)?;
        Ok(n > 0)
    }

    /// The next message, or `None` at end of file.
    pub fn next_message(&mut self) -> io::Result<Option<RawMessage>> {
        let mut msg = RawMessage::default();
        let mut have_start = false;
        if let Some((offset, line, env)) = self.pending.take() {
            msg.offset = offset;
            msg.line = line;
            msg.envelope = Some(env);
            have_start = true;
        }
        loop {
            let line_offset = self.offset;
            if !self.read_line()? {
                break;
            }
            self.offset += self.line.len() as u64;
            self.line_no += 1;
            let content = trim_eol(&self.line);
            let content = if line_offset == 0 {
                content.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(content)
            } else {
                content
            };
            if self.prev_blank && is_separator(content) {
                let env = String::from_utf8_lossy(&content[5..]).trim().to_string();
                self.prev_blank = false;
                if have_start {
                    self.pending = Some((line_offset, self.line_no, env));
                    strip_final_blank(&mut msg.bytes);
                    return Ok(Some(msg));
                }
                self.started = true;
                msg.offset = line_offset;
                msg.line = self.line_no;
                msg.envelope = Some(env);
                have_start = true;
                continue;
            }
            self.prev_blank = is_blank(&self.line);
            if !have_start {
                if self.preamble.is_empty() {
                    self.preamble_line = self.line_no;
                }
                if self.preamble.len() < 64 * 1024 {
                    self.preamble.extend_from_slice(&self.line);
                }
                continue;
            }
            if self.unquote && is_quoted_from(&self.line) {
                msg.bytes.extend_from_slice(&self.line[1..]);
            } else {
                msg.bytes.extend_from_slice(&self.line);
            }
        }
        if have_start {
            strip_final_blank(&mut msg.bytes);
            Ok(Some(msg))
        } else {
            Ok(None)
        }
    }
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
                m.bytes.extend_from_slice(&self.line);
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
        let mut r = MboxReader::new(text.as_bytes(), unquote);
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
