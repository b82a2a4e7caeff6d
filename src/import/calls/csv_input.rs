//! Reading call-log CSVs as they arrive from PBXs and from spreadsheets: encoding (UTF-8,
//! UTF-8 with BOM, UTF-16 from Excel's "Unicode text"), delimiter (`,` `;` tab `|`),
//! rows with their line numbers, a truncated last row, and the marks a spreadsheet
//! round trip leaves on phone numbers (`4.91512E+12`, lost leading zeros).

use crate::import::csv_records::{CsvRecords, CsvRow};
use crate::import::detect::HEAD_BYTES;
use crate::import::encoding::TextEncoding;
use crate::import::ImportError;
use crate::normalize::phone::Region;
use std::fs::File;
use std::io::{Cursor, Read, Seek, SeekFrom};
use std::path::Path;

/// An opened CSV: a byte stream in UTF-8 plus what was found out about it.
pub struct CsvInput {
    pub reader: Box<dyn Read + Send>,
    pub delimiter: u8,
    /// How the bytes were read; anything but UTF-8 is decoded up front (spreadsheet
    /// exports are small, and the tail check needs the decoded text).
    pub encoding: TextEncoding,
    /// The first 64 KiB, decoded (for sniffing).
    pub head_text: String,
    /// The decoded text when it was decoded up front (to check a truncated tail).
    decoded: Option<std::sync::Arc<Vec<u8>>>,
    bom: u64,
    path: std::path::PathBuf,
}

/// First bytes of a file as text, and whether it is UTF-16 (for sniffing).
pub fn head_text(head: &[u8]) -> (String, bool) {
    let encoding = TextEncoding::detect(head);
    (encoding.decode_head(head), encoding.is_utf16())
}

/// The delimiter of a CSV from its first line: the most frequent of `,` `;` tab `|` outside quotes.
pub fn sniff_delimiter(first_line: &str) -> u8 {
    let mut counts = [0usize; 4];
    let mut quoted = false;
    for c in first_line.chars() {
        match c {
            '"' => quoted = !quoted,
            ',' if !quoted => counts[0] += 1,
            ';' if !quoted => counts[1] += 1,
            '\t' if !quoted => counts[2] += 1,
            '|' if !quoted => counts[3] += 1,
            _ => {}
        }
    }
    let best = (0..4).max_by_key(|&i| (counts[i], std::cmp::Reverse(i))).unwrap_or(0);
    [b',', b';', b'\t', b'|'][best]
}

impl CsvInput {
    /// Opens a CSV for streaming. Files not in UTF-8 are decoded in memory first.
    pub fn open(path: &Path) -> Result<CsvInput, ImportError> {
        let display = path.display().to_string();
        let io = |e: std::io::Error| ImportError::file(&display, format!("cannot read: {e}"));
        let mut file = File::open(path).map_err(io)?;
        let mut head = Vec::with_capacity(HEAD_BYTES);
        (&mut file).take(HEAD_BYTES as u64).read_to_end(&mut head).map_err(io)?;
        let encoding = TextEncoding::detect(&head);
        let head_text = encoding.decode_head(&head);
        let delimiter = sniff_delimiter(head_text.lines().next().unwrap_or(""));
        file.seek(SeekFrom::Start(0)).map_err(io)?;
        if !matches!(encoding, TextEncoding::Utf8 | TextEncoding::Utf8Bom) {
            let mut decoded = Vec::new();
            encoding
                .reader(file)
                .and_then(|mut r| r.read_to_end(&mut decoded))
                .map_err(io)?;
            let decoded = std::sync::Arc::new(decoded);
            return Ok(CsvInput {
                reader: Box::new(Cursor::new(ArcBytes(decoded.clone()))),
                delimiter,
                encoding,
                head_text,
                decoded: Some(decoded),
                bom: 0,
                path: path.to_path_buf(),
            });
        }
        let bom = if encoding == TextEncoding::Utf8Bom { 3 } else { 0 };
        Ok(CsvInput {
            // The reader skips the BOM; the csv reader's offsets start after it.
            reader: encoding.reader(file).map_err(io)?,
            delimiter,
            encoding,
            head_text,
            decoded: None,
            bom,
            path: path.to_path_buf(),
        })
    }

    /// A CSV reader over the input: no header handling (dialects decide), ragged rows
    /// allowed, a row's memory bounded (see [`CsvRecords`]).
    pub fn into_csv(self) -> (CsvReader, TailCheck) {
        let tail = TailCheck {
            decoded: self.decoded,
            bom: self.bom,
            path: self.path,
        };
        let reader = CsvRecords::new(std::io::BufReader::with_capacity(1 << 20, self.reader), self.delimiter);
        (reader, tail)
    }
}

/// The rows of a call log.
pub type CsvReader = CsvRecords<std::io::BufReader<Box<dyn Read + Send>>>;

struct ArcBytes(std::sync::Arc<Vec<u8>>);

impl AsRef<[u8]> for ArcBytes {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

/// Finds out whether the file ends inside a quoted field (a row cut off mid-write).
pub struct TailCheck {
    decoded: Option<std::sync::Arc<Vec<u8>>>,
    bom: u64,
    path: std::path::PathBuf,
}

impl TailCheck {
    /// True when the text from `offset` (start of the last row) to the end has an odd
    /// number of quotes, i.e. the last quoted field never closes.
    pub fn ends_inside_quotes(&self, offset: u64) -> bool {
        let count = |bytes: &[u8]| bytes.iter().filter(|&&b| b == b'"').count();
        if let Some(d) = &self.decoded {
            return count(d.get(offset as usize..).unwrap_or(&[])) % 2 == 1;
        }
        let Ok(mut f) = File::open(&self.path) else {
            return false;
        };
        let len = f.metadata().map(|m| m.len()).unwrap_or(0);
        // The csv reader's offsets start after a skipped BOM.
        let start = offset + self.bom;
        if len.saturating_sub(start) > 4 << 20 || f.seek(SeekFrom::Start(start)).is_err() {
            return false;
        }
        let mut tail = Vec::new();
        if f.read_to_end(&mut tail).is_err() {
            return false;
        }
        count(&tail) % 2 == 1
    }
}

/// A field as text (lossy: caller-ID names carry arbitrary bytes).
pub fn field<'a>(rec: &'a CsvRow, i: usize) -> std::borrow::Cow<'a, str> {
    let bytes = rec.get(i).unwrap_or(b"");
    // The standard library's whole-slice check is several times faster than the chunked
    // walk of `from_utf8_lossy`, and nearly every field is valid.
    match std::str::from_utf8(bytes) {
        Ok(text) => std::borrow::Cow::Borrowed(text),
        Err(_) => String::from_utf8_lossy(bytes),
    }
}

/// A row's fields as text, with the row checked as UTF-8 once rather than field by field.
pub struct Row<'a> {
    rec: &'a CsvRow,
    /// The row's bytes (fields back to back), when they are UTF-8.
    text: Option<&'a str>,
}

impl<'a> Row<'a> {
    pub fn new(rec: &'a CsvRow) -> Row<'a> {
        Row {
            rec,
            text: std::str::from_utf8(rec.as_slice()).ok(),
        }
    }

    /// Field `i` as [`field`] gives it (empty when missing, lossy when not UTF-8).
    pub fn field(&self, i: usize) -> std::borrow::Cow<'a, str> {
        // `get` refuses a range that cuts a character: bytes that are UTF-8 only when two
        // fields are put together are still read field by field, lossily.
        match (self.text, self.rec.range(i)) {
            (Some(text), Some(range)) => match text.get(range) {
                Some(f) => std::borrow::Cow::Borrowed(f),
                None => field(self.rec, i),
            },
            _ => field(self.rec, i),
        }
    }
}

/// The row as text, fields joined by the delimiter, for the rejects file.
pub fn raw_row(rec: &CsvRow, delimiter: u8) -> String {
    let parts: Vec<std::borrow::Cow<'_, str>> = rec.iter().map(String::from_utf8_lossy).collect();
    parts.join(&(delimiter as char).to_string())
}

/// Why a phone-number field cannot be trusted after a spreadsheet round trip, if it cannot.
/// `spreadsheet` says the file shows other signs of one (`;`, UTF-16, scientific notation).
pub fn mangled_number(raw: &str, region: Region, spreadsheet: bool) -> Option<String> {
    let t = crate::normalize::text::trim(raw);
    if t.is_empty() {
        return None;
    }
    // Bytes, not chars: asked of two fields on every row.
    let b = t.as_bytes();
    let sci = b.len() >= 3
        && b[0].is_ascii_digit()
        && b.iter().any(|&c| c == b'E' || c == b'e')
        && b.iter()
            .all(|&c| c.is_ascii_digit() || matches!(c, b'.' | b',' | b'E' | b'e' | b'+' | b'-'));
    if sci {
        return Some(format!(
            "number {t:?} is in scientific notation (a spreadsheet rounded it): its digits are lost"
        ));
    }
    if spreadsheet && t.len() >= 7 && t.bytes().all(|b| b.is_ascii_digit()) && !t.starts_with('0') {
        let prefix = region
            .0
            .and_then(|id| phonenumber::metadata::DATABASE.by_id(id.as_ref()))
            .and_then(|m| m.national_prefix().map(str::to_string));
        if prefix.as_deref() == Some("0") {
            let with_zero = format!("0{t}");
            if crate::normalize::phone::to_e164(&with_zero, region).is_some() {
                return Some(format!(
                    "number {t:?} looks like {with_zero:?} with its leading zero stripped by a spreadsheet"
                ));
            }
        }
    }
    None
}

/// True when a number field reads like a spreadsheet turned it into a float.
pub fn is_scientific(raw: &str) -> bool {
    mangled_number(raw, Region::none(), false).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_row_checked_once_gives_each_field_as_checking_it_alone_does() {
        let rows: Vec<Vec<&[u8]>> = vec![
            vec![
                b"2026-03-02 09:14:05",
                "Zo\u{eb} \u{2014} caf\u{e9}".as_bytes(),
                b"",
                b"07700900123",
            ],
            // Bytes that are UTF-8 only when two fields are put together (\u{e9} cut in two).
            vec![b"a\xc3", b"\xa9b", b"c"],
            // A row that is not UTF-8 at all (Latin-1 caller-ID name).
            vec![b"Andr\xe9", b"201", b""],
        ];
        for fields in rows {
            let rec = CsvRow::from_fields(&fields);
            let row = Row::new(&rec);
            for i in 0..fields.len() + 1 {
                assert_eq!(row.field(i), field(&rec, i), "field {i} of {fields:?}");
            }
        }
    }

    #[test]
    fn spreadsheet_marks_on_numbers_are_caught() {
        let gb = Region::parse("GB").unwrap();
        assert!(mangled_number("4.91512E+12", gb, false).is_some());
        assert!(mangled_number("7700900123", gb, true).is_some());
        assert!(mangled_number("7700900123", gb, false).is_none());
        assert!(mangled_number("07700900123", gb, true).is_none());
        assert!(mangled_number("201", gb, true).is_none());
        assert!(mangled_number("+447700900123", gb, true).is_none());
    }

    #[test]
    fn delimiter_and_utf16_are_sniffed() {
        assert_eq!(sniff_delimiter("a;b;c,d"), b';');
        assert_eq!(sniff_delimiter("\"a;b\",c"), b',');
        let utf16: Vec<u8> = "calldate,src\n".encode_utf16().flat_map(|u| u.to_le_bytes()).collect();
        assert_eq!(head_text(&utf16), ("calldate,src\n".to_string(), true));
        let mut bom = vec![0xFF, 0xFE];
        bom.extend(&utf16);
        assert_eq!(head_text(&bom).0, "calldate,src\n");
    }
}
