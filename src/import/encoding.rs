//! Bytes before text: contact files and call-log CSVs come as UTF-8 (with or without BOM),
//! UTF-16 (Excel's "Unicode text", Outlook on Windows) or Windows-1252 (Excel's plain "CSV"
//! on Western locales). The encoding is decided once per file from its first bytes; UTF-16 and
//! Windows-1252 are decoded to UTF-8 while streaming.

use encoding_rs::{Decoder, Encoding, UTF_16BE, UTF_16LE, WINDOWS_1252};
use std::io::{self, BufRead, BufReader, Read};

/// How a file's bytes are turned into text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextEncoding {
    Utf8,
    /// UTF-8 with a leading byte-order mark (removed).
    Utf8Bom,
    Utf16Le {
        bom: bool,
    },
    Utf16Be {
        bom: bool,
    },
    /// Not valid UTF-8 and no BOM: read as Windows-1252.
    Windows1252,
}

impl TextEncoding {
    /// Decides from the start of a file (at most the first 64 KiB).
    pub fn detect(head: &[u8]) -> TextEncoding {
        if head.starts_with(&[0xEF, 0xBB, 0xBF]) {
            return TextEncoding::Utf8Bom;
        }
        if let Some(utf16) = TextEncoding::utf16_bom(head) {
            return utf16;
        }
        // UTF-16 without BOM: ASCII-heavy text has a zero in every other byte.
        let sample = &head[..head.len().min(512) & !1];
        if sample.len() >= 4 {
            let pairs = sample.len() / 2;
            let odd_zero = sample.chunks(2).filter(|p| p[1] == 0 && p[0] != 0).count();
            let even_zero = sample.chunks(2).filter(|p| p[0] == 0 && p[1] != 0).count();
            if odd_zero * 10 >= pairs * 7 {
                return TextEncoding::Utf16Le { bom: false };
            }
            if even_zero * 10 >= pairs * 7 {
                return TextEncoding::Utf16Be { bom: false };
            }
        }
        match std::str::from_utf8(head) {
            Ok(_) => TextEncoding::Utf8,
            // A character cut by the end of the sample is not an error.
            Err(e) if e.error_len().is_none() => TextEncoding::Utf8,
            Err(_) => TextEncoding::Windows1252,
        }
    }

    /// UTF-16 announced by a byte-order mark at the start of `head` (how Windows Notepad
    /// saves "Unicode" text); `None` for anything else.
    pub fn utf16_bom(head: &[u8]) -> Option<TextEncoding> {
        if head.starts_with(&[0xFF, 0xFE]) {
            Some(TextEncoding::Utf16Le { bom: true })
        } else if head.starts_with(&[0xFE, 0xFF]) {
            Some(TextEncoding::Utf16Be { bom: true })
        } else {
            None
        }
    }

    pub fn is_utf16(self) -> bool {
        matches!(self, TextEncoding::Utf16Le { .. } | TextEncoding::Utf16Be { .. })
    }

    /// What to tell the user when the encoding is not plain UTF-8.
    pub fn note(self) -> Option<&'static str> {
        match self {
            TextEncoding::Utf8 | TextEncoding::Utf8Bom => None,
            TextEncoding::Utf16Le { .. } => {
                Some("encoding UTF-16 little-endian (as Excel's \"Unicode text\" saves it)")
            }
            TextEncoding::Utf16Be { .. } => Some("encoding UTF-16 big-endian"),
            TextEncoding::Windows1252 => {
                Some("not valid UTF-8 and no byte-order mark: read as Windows-1252 (as Excel's plain CSV saves it)")
            }
        }
    }

    fn decoder(self) -> Option<(&'static Encoding, usize)> {
        match self {
            TextEncoding::Utf8 => None,
            TextEncoding::Utf8Bom => None,
            TextEncoding::Utf16Le { bom } => Some((UTF_16LE, if bom { 2 } else { 0 })),
            TextEncoding::Utf16Be { bom } => Some((UTF_16BE, if bom { 2 } else { 0 })),
            TextEncoding::Windows1252 => Some((WINDOWS_1252, 0)),
        }
    }

    /// Wraps a byte stream so that it yields UTF-8 (BOM removed).
    pub fn reader<R: Read + Send + 'static>(self, mut inner: R) -> io::Result<Box<dyn BufRead + Send>> {
        match self.decoder() {
            None => {
                if self == TextEncoding::Utf8Bom {
                    let mut bom = [0u8; 3];
                    inner.read_exact(&mut bom)?;
                }
                Ok(Box::new(BufReader::with_capacity(1 << 20, inner)))
            }
            Some((encoding, skip)) => {
                let mut skipped = vec![0u8; skip];
                inner.read_exact(&mut skipped)?;
                Ok(Box::new(BufReader::with_capacity(
                    1 << 20,
                    DecodingReader {
                        inner,
                        decoder: encoding.new_decoder_without_bom_handling(),
                        raw: vec![0; 1 << 16],
                        decoded: Vec::new(),
                        pos: 0,
                        eof: false,
                    },
                )))
            }
        }
    }

    /// Decodes a whole (small) buffer, for sniffing.
    pub fn decode_head(self, head: &[u8]) -> String {
        match self {
            TextEncoding::Utf8 => String::from_utf8_lossy(head).into_owned(),
            TextEncoding::Utf8Bom => String::from_utf8_lossy(&head[3..]).into_owned(),
            other => {
                let (encoding, skip) = other.decoder().expect("a decoder");
                let body = &head[skip.min(head.len())..];
                encoding.decode_without_bom_handling(body).0.into_owned()
            }
        }
    }
}

/// Streams bytes of another encoding as UTF-8.
struct DecodingReader<R> {
    inner: R,
    decoder: Decoder,
    raw: Vec<u8>,
    decoded: Vec<u8>,
    pos: usize,
    eof: bool,
}

impl<R: Read> DecodingReader<R> {
    /// Decodes the next chunk of input into `decoded`; false at the end.
    fn refill(&mut self) -> io::Result<bool> {
        while !self.eof {
            let n = self.inner.read(&mut self.raw)?;
            self.eof = n == 0;
            self.decoded.clear();
            self.pos = 0;
            let need = self.decoder.max_utf8_buffer_length(n).unwrap_or(n * 3 + 16);
            self.decoded.resize(need, 0);
            let (_, read, written, _) = self.decoder.decode_to_utf8(&self.raw[..n], &mut self.decoded, self.eof);
            debug_assert_eq!(read, n);
            self.decoded.truncate(written);
            if written > 0 {
                return Ok(true);
            }
        }
        Ok(false)
    }
}

impl<R: Read> Read for DecodingReader<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if self.pos >= self.decoded.len() && !self.refill()? {
            return Ok(0);
        }
        let n = out.len().min(self.decoded.len() - self.pos);
        out[..n].copy_from_slice(&self.decoded[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(bytes: Vec<u8>) -> String {
        let enc = TextEncoding::detect(&bytes);
        let mut s = String::new();
        enc.reader(std::io::Cursor::new(bytes))
            .unwrap()
            .read_to_string(&mut s)
            .unwrap();
        s
    }

    #[test]
    fn utf16_with_and_without_bom_and_windows_1252_become_utf8() {
        let text = "Name;Téléphone\nÉmilie;0612\n";
        let mut le = vec![0xFF, 0xFE];
        le.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
        assert_eq!(TextEncoding::detect(&le), TextEncoding::Utf16Le { bom: true });
        assert_eq!(decode(le), text);
        let be: Vec<u8> = text.encode_utf16().flat_map(u16::to_be_bytes).collect();
        assert_eq!(TextEncoding::detect(&be), TextEncoding::Utf16Be { bom: false });
        assert_eq!(decode(be), text);
        let cp1252 = WINDOWS_1252.encode(text).0.into_owned();
        assert_eq!(TextEncoding::detect(&cp1252), TextEncoding::Windows1252);
        assert_eq!(decode(cp1252), text);
        let mut bom = vec![0xEF, 0xBB, 0xBF];
        bom.extend(text.as_bytes());
        assert_eq!(decode(bom), text);
    }

    #[test]
    fn a_long_utf16_stream_decodes_across_chunk_boundaries() {
        let text: String = (0..50_000)
            .map(|i| format!("Zoë {i};+44 7700 900{:03}\n", i % 1000))
            .collect();
        let mut le = vec![0xFF, 0xFE];
        le.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
        assert_eq!(decode(le), text);
    }
}
