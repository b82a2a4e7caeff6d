//! CSV records with a bound on the memory one record may take.
//!
//! `csv::Reader` grows a record until it ends: a quote that never closes makes the rest of
//! the file one field, held whole (and copied: a 150 MB field took 605 MB). This reader
//! parses with the same state machine (`csv_core`, the `csv` crate's own) and the same
//! settings as `csv::ReaderBuilder::new().has_headers(false).flexible(true)`, giving the
//! same records and positions; a record past [`MAX_RECORD`] keeps its first
//! [`MAX_RECORD`] and the rest of it is parsed and dropped, its length reported.

use super::lines::{MAX_LINE, MAX_RECORD};
use csv::Position;
use csv_core::ReadRecordResult;
use std::io::{self, BufRead};

/// Fields of one record kept (the rest are dropped like bytes past [`MAX_RECORD`]).
const MAX_FIELDS: usize = 1 << 16;

/// One CSV record: its fields' bytes back to back and where each ends, filled in place by
/// [`CsvRecords`] (as `csv::Reader` fills a `csv::ByteRecord`, whose parts it keeps private),
/// with the same accessors.
#[derive(Debug, Clone)]
pub struct CsvRow {
    data: Vec<u8>,
    ends: Vec<usize>,
    fields: usize,
    position: Position,
    /// Bytes of the row dropped past [`MAX_RECORD`] (at least 1 when fields past
    /// [`MAX_FIELDS`] were), and the whole length of the field that was cut, if one was.
    dropped: u64,
    cut_field: usize,
}

impl Default for CsvRow {
    fn default() -> CsvRow {
        CsvRow {
            data: vec![0; 1024],
            ends: vec![0; 64],
            fields: 0,
            position: Position::new(),
            dropped: 0,
            cut_field: 0,
        }
    }
}

impl CsvRow {
    pub fn new() -> CsvRow {
        CsvRow::default()
    }

    /// A row of these fields (for tests and fixtures).
    pub fn from_fields(fields: &[&[u8]]) -> CsvRow {
        let mut row = CsvRow {
            data: fields.concat(),
            ends: Vec::with_capacity(fields.len()),
            fields: fields.len(),
            position: Position::new(),
            dropped: 0,
            cut_field: 0,
        };
        let mut end = 0;
        for f in fields {
            end += f.len();
            row.ends.push(end);
        }
        row
    }

    pub fn len(&self) -> usize {
        self.fields
    }

    pub fn is_empty(&self) -> bool {
        self.fields == 0
    }

    /// Where field `i` sits in [`CsvRow::as_slice`].
    pub fn range(&self, i: usize) -> Option<std::ops::Range<usize>> {
        (i < self.fields).then(|| (if i == 0 { 0 } else { self.ends[i - 1] })..self.ends[i])
    }

    pub fn get(&self, i: usize) -> Option<&[u8]> {
        self.range(i).map(|r| &self.data[r])
    }

    pub fn iter(&self) -> impl Iterator<Item = &[u8]> {
        (0..self.fields).map(|i| self.get(i).expect("a field of the row"))
    }

    /// The fields' bytes back to back.
    pub fn as_slice(&self) -> &[u8] {
        &self.data[..self.fields.checked_sub(1).map_or(0, |last| self.ends[last])]
    }

    /// Where the row starts (as `csv::Reader` reports it: after the previous row).
    pub fn position(&self) -> &Position {
        &self.position
    }
}

/// Reads CSV records one at a time (see the module's documentation).
pub struct CsvRecords<R> {
    core: csv_core::Reader,
    input: R,
    /// Where the next record starts, as `csv::Reader` reports it.
    pos: Position,
    /// Where the rest of an overlong record is parsed to, and dropped.
    spill: Vec<u8>,
    spill_ends: Vec<usize>,
    eof: bool,
}

impl<R: BufRead> CsvRecords<R> {
    pub fn new(input: R, delimiter: u8) -> CsvRecords<R> {
        CsvRecords {
            core: csv_core::ReaderBuilder::new().delimiter(delimiter).build(),
            input,
            pos: Position::new(),
            spill: Vec::new(),
            spill_ends: Vec::new(),
            eof: false,
        }
    }

    /// Reads the next record into `row`, with its position. `None` at the end of the input;
    /// else the bytes of the record dropped past [`MAX_RECORD`] (0 for all but broken
    /// files), whose kept part ends with the field that was cut.
    pub fn read_byte_record(&mut self, row: &mut CsvRow) -> io::Result<Option<u64>> {
        (row.fields, row.dropped, row.cut_field) = (0, 0, 0);
        row.position = self.pos.clone();
        if self.eof {
            return Ok(None);
        }
        let (mut outlen, mut endlen) = (0, 0);
        // Past the limit, the rest of the record is parsed into `spill` and counted.
        let (mut dropping, mut dropped) = (false, 0u64);
        loop {
            let input = self.input.fill_buf()?;
            let (res, nin, nout, nend) = if dropping {
                self.core.read_record(input, &mut self.spill, &mut self.spill_ends)
            } else {
                self.core
                    .read_record(input, &mut row.data[outlen..], &mut row.ends[endlen..])
            };
            self.input.consume(nin);
            let byte = self.pos.byte() + nin as u64;
            self.pos.set_byte(byte).set_line(self.core.line());
            if dropping {
                dropped += nout as u64;
                if nend > 0 && row.cut_field == 0 {
                    // The parser's field ends count from the record's start, dropped bytes too.
                    let start = endlen.checked_sub(1).map_or(0, |last| row.ends[last]);
                    row.cut_field = self.spill_ends[0] - start;
                }
            } else {
                outlen += nout;
                endlen += nend;
            }
            match res {
                ReadRecordResult::InputEmpty => {}
                ReadRecordResult::OutputFull | ReadRecordResult::OutputEndsFull if dropping => {}
                ReadRecordResult::OutputFull if row.data.len() < MAX_RECORD => {
                    let len = (row.data.len() * 2).min(MAX_RECORD);
                    row.data.resize(len, 0);
                }
                ReadRecordResult::OutputEndsFull if row.ends.len() < MAX_FIELDS => {
                    let len = row.ends.len() * 2;
                    row.ends.resize(len, 0);
                }
                ReadRecordResult::OutputFull | ReadRecordResult::OutputEndsFull => {
                    dropping = true;
                    self.spill.resize(1 << 16, 0);
                    self.spill_ends.resize(1024, 0);
                }
                ReadRecordResult::Record => {
                    if dropping {
                        // The field that was being read when the record ran over ends here.
                        if endlen == row.ends.len() {
                            row.ends.push(0);
                        }
                        row.ends[endlen] = outlen;
                        endlen += 1;
                        // A record cut where a field ended has dropped fields, not bytes.
                        dropped = dropped.max(1);
                    }
                    (row.fields, row.dropped) = (endlen, dropped);
                    return Ok(Some(dropped));
                }
                ReadRecordResult::End => {
                    self.eof = true;
                    return Ok(None);
                }
            }
        }
    }
}

/// Why a row read by [`CsvRecords`] cannot be a record, if it is too big to be one: a
/// field over [`MAX_LINE`] (no name, number or address is that long), or a row cut at
/// [`MAX_RECORD`] bytes or [`MAX_FIELDS`] fields. Either way a quote that never closes
/// swallowed the file, or the file is not an export.
pub fn oversized(row: &CsvRow) -> Option<String> {
    if row.dropped == 0 && row.as_slice().len() <= MAX_LINE {
        return None;
    }
    let widest = row.iter().map(<[u8]>::len).max().unwrap_or(0).max(row.cut_field);
    if widest > MAX_LINE {
        return Some(format!("a field of {widest} bytes (over {MAX_LINE})"));
    }
    (row.dropped > 0).then(|| {
        let len = row.as_slice().len() as u64 + row.dropped;
        format!("a row too big to be a record ({len} bytes, over {MAX_RECORD}, or over {MAX_FIELDS} fields; a quote that never closes?)")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A record's fields and where it starts (byte, line).
    type Read = (Vec<Vec<u8>>, (u64, u64));

    /// Every record, position and field as `csv::Reader` reads them, and as this reader does.
    fn both(text: &[u8], delimiter: u8) -> (Vec<Read>, Vec<Read>) {
        let mut theirs = Vec::new();
        let mut r = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .delimiter(delimiter)
            .from_reader(text);
        let mut rec = csv::ByteRecord::new();
        while r.read_byte_record(&mut rec).unwrap() {
            let p = rec.position().unwrap();
            theirs.push((rec.iter().map(<[u8]>::to_vec).collect(), (p.byte(), p.line())));
        }
        let mut ours = Vec::new();
        // A small buffer, so that records and fields are cut by its end.
        let mut r = CsvRecords::new(io::BufReader::with_capacity(7, text), delimiter);
        let mut row = CsvRow::new();
        while let Some(dropped) = r.read_byte_record(&mut row).unwrap() {
            assert_eq!(dropped, 0);
            let p = row.position();
            ours.push((row.iter().map(<[u8]>::to_vec).collect(), (p.byte(), p.line())));
        }
        (theirs, ours)
    }

    #[test]
    fn records_and_positions_are_the_csv_crate_s() {
        let texts: [&[u8]; 6] = [
            b"\xef\xbb\xbfa,b,c\n1,\"two, three\",4\r\n\n\n5,\"six \"\"quoted\"\"\nline\",7\r\nlast,row",
            b"x;y\n\"unclosed;quote\nand more\n",
            b"\n\n\r\n",
            b"",
            b"one\ntwo,three,four,five,six,seven,eight,nine,ten,eleven,twelve\n,\n\"\"\n",
            b"a,b\n\"q\"x,y\n\"\"\"\",z\r\r\n",
        ];
        for text in texts {
            for delimiter in [b',', b';'] {
                let (theirs, ours) = both(text, delimiter);
                assert_eq!(ours, theirs, "{:?}", String::from_utf8_lossy(text));
            }
        }
        // Pseudo-random texts of the characters that matter.
        let mut seed = 7u64;
        for _ in 0..300 {
            let mut text = Vec::new();
            for _ in 0..(seed % 400) {
                seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                text.push(b"ab,\"\n\r;x"[(seed >> 33) as usize % 8]);
            }
            let (theirs, ours) = both(&text, b',');
            assert_eq!(ours, theirs, "{:?}", String::from_utf8_lossy(&text));
        }
    }

    #[test]
    fn a_row_of_too_many_fields_is_cut_and_called_too_big() {
        let mut text = ",".repeat(MAX_FIELDS + 100).into_bytes();
        text.extend_from_slice(b"\n4,5\n");
        let mut r = CsvRecords::new(io::BufReader::new(&text[..]), b',');
        let mut rec = CsvRow::new();
        let dropped = r.read_byte_record(&mut rec).unwrap().unwrap();
        assert!(dropped > 0 && rec.len() <= MAX_FIELDS + 1);
        let why = oversized(&rec).unwrap();
        assert!(why.starts_with("a row too big to be a record"), "{why}");
        assert_eq!(r.read_byte_record(&mut rec).unwrap(), Some(0));
        assert_eq!((rec.get(0), rec.get(1)), (Some(&b"4"[..]), Some(&b"5"[..])));
    }

    #[test]
    fn a_record_past_the_limit_keeps_its_start_and_the_next_one_is_whole() {
        let mut text = b"a,b\n1,\"".to_vec();
        text.extend(std::iter::repeat_n(b'x', MAX_RECORD + 5000));
        text.extend_from_slice(b"\",3\n4,5\n");
        let mut r = CsvRecords::new(io::BufReader::new(&text[..]), b',');
        let mut rec = CsvRow::new();
        assert_eq!(r.read_byte_record(&mut rec).unwrap(), Some(0));
        let dropped = r.read_byte_record(&mut rec).unwrap().unwrap();
        assert_eq!(rec.len(), 2, "the fields before the cut and the cut one");
        assert_eq!(rec.get(0), Some(&b"1"[..]));
        let kept = rec.get(1).unwrap().len() as u64;
        assert!(kept > (MAX_RECORD - 16) as u64);
        // The cut field's rest and the field after it.
        assert_eq!(kept + dropped, (MAX_RECORD + 5000 + 1) as u64);
        assert_eq!(rec.position().line(), 2);
        assert_eq!(r.read_byte_record(&mut rec).unwrap(), Some(0));
        assert_eq!((rec.get(0), rec.get(1)), (Some(&b"4"[..]), Some(&b"5"[..])));
        assert_eq!(rec.position().line(), 3);
        assert_eq!(r.read_byte_record(&mut rec).unwrap(), None);
    }
}
