//! A streaming line splitter for exports: splits on `\n`, `\r\n` and lone `\r`, keeps each
//! line's number and byte offset, caps line length, and hashes every byte it reads.

use std::io::{self, BufRead};

/// Lines longer than this are cut and flagged: a real message is at most 65 536 characters.
/// Also the longest value (a message's lines joined, a vCard property, a CSV field or XML
/// attribute) any importer keeps.
pub const MAX_LINE: usize = 1 << 20;

/// Longest record (a CSV row, an XML element) held while it is read: more than a value may
/// have before it is rejected ([`MAX_LINE`]), so that such a value is still seen. Past it,
/// a quote that never closes has swallowed the file.
pub const MAX_RECORD: usize = 2 * MAX_LINE;

/// One line of input, without its terminator.
pub struct Line<'a> {
    pub number: u64,
    pub offset: u64,
    pub bytes: &'a [u8],
    /// The line was longer than [`MAX_LINE`]; `bytes` holds its beginning only.
    pub too_long: bool,
}

pub struct LineReader<R> {
    inner: R,
    buf: Vec<u8>,
    number: u64,
    offset: u64,
    pending_cr: bool,
    hasher: Option<blake3::Hasher>,
    /// Bytes at the start of the inner reader's buffer already hashed: the hasher takes
    /// whole buffers (fast, vectorised) rather than one short line at a time.
    hashed_ahead: usize,
    bytes_read: u64,
}

impl<R: BufRead> LineReader<R> {
    pub fn new(inner: R, hash: bool) -> LineReader<R> {
        LineReader {
            inner,
            buf: Vec::with_capacity(256),
            number: 0,
            offset: 0,
            pending_cr: false,
            hasher: hash.then(blake3::Hasher::new),
            hashed_ahead: 0,
            bytes_read: 0,
        }
    }

    /// Lines returned so far (the number of the last one).
    pub fn lines_read(&self) -> u64 {
        self.number
    }

    pub fn bytes_read(&self) -> u64 {
        self.bytes_read
    }

    /// Hex BLAKE3 of every byte read so far (call after the last line).
    pub fn hash_hex(&self) -> Option<String> {
        self.hasher.as_ref().map(|h| h.finalize().to_hex().to_string())
    }

    /// The next line, or `None` at end of input.
    pub fn next_line(&mut self) -> io::Result<Option<Line<'_>>> {
        self.buf.clear();
        let mut start = self.offset;
        let mut too_long = false;
        let mut consumed_any = false;
        loop {
            let chunk = match self.inner.fill_buf() {
                Ok(c) => c,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            if let Some(h) = self.hasher.as_mut() {
                if chunk.len() > self.hashed_ahead {
                    h.update(&chunk[self.hashed_ahead..]);
                    self.hashed_ahead = chunk.len();
                }
            }
            if chunk.is_empty() {
                if !consumed_any {
                    return Ok(None);
                }
                break;
            }
            let mut skip = 0;
            if self.pending_cr {
                self.pending_cr = false;
                if chunk[0] == b'\n' {
                    skip = 1;
                    start += 1;
                }
            }
            let data = &chunk[skip..];
            let found = memchr::memchr2(b'\n', b'\r', data);
            let take = found.unwrap_or(data.len());
            let room = MAX_LINE.saturating_sub(self.buf.len());
            if take > room {
                too_long = true;
            }
            self.buf.extend_from_slice(&data[..take.min(room)]);
            let used = skip + take + usize::from(found.is_some());
            self.hashed_ahead = self.hashed_ahead.saturating_sub(used);
            if let Some(pos) = found {
                if data[pos] == b'\r' {
                    self.pending_cr = true;
                }
            }
            self.inner.consume(used);
            self.bytes_read += used as u64;
            self.offset += used as u64;
            consumed_any = true;
            if found.is_some() {
                break;
            }
        }
        if start == 0 && self.buf.starts_with(b"\xEF\xBB\xBF") {
            self.buf.drain(..3);
        }
        self.number += 1;
        Ok(Some(Line {
            number: self.number,
            offset: start,
            bytes: &self.buf,
            too_long,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(input: &[u8]) -> Vec<(u64, u64, Vec<u8>)> {
        let mut r = LineReader::new(input, true);
        let mut out = Vec::new();
        while let Some(l) = r.next_line().unwrap() {
            out.push((l.number, l.offset, l.bytes.to_vec()));
        }
        out
    }

    #[test]
    fn splits_all_line_endings() {
        let got = lines(b"\xEF\xBB\xBFa\r\nb\rc\nd");
        let texts: Vec<&[u8]> = got.iter().map(|(_, _, b)| b.as_slice()).collect();
        assert_eq!(texts, vec![&b"a"[..], b"b", b"c", b"d"]);
        assert_eq!(got[1].1, 6);
        assert!(lines(b"").is_empty());
        assert_eq!(lines(b"x\n").len(), 1);
    }

    #[test]
    fn hash_covers_every_byte_whatever_the_buffering() {
        let input: Vec<u8> = (0..5000u32)
            .flat_map(|i| format!("line {i}\r\n").into_bytes())
            .collect();
        let want = blake3::hash(&input).to_hex().to_string();
        for cap in [1, 7, 64, 1 << 20] {
            let mut r = LineReader::new(io::BufReader::with_capacity(cap, &input[..]), true);
            while r.next_line().unwrap().is_some() {}
            assert_eq!(r.hash_hex().unwrap(), want, "capacity {cap}");
            assert_eq!(r.bytes_read(), input.len() as u64);
        }
    }
}
