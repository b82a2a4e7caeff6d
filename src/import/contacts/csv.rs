//! Contacts CSV exports (CRMs, Google Contacts, Outlook, HubSpot, Salesforce, spreadsheets):
//! delimiter and header decided from the first line, then every row streamed with the
//! `csv` crate.

use super::header::{ColumnMap, Columns, Role};
use super::{ContactBuilder, FileContext, PhoneCache, Prepared, RawContact, RecordPlace};
use crate::import::check_interrupt;
use crate::import::csv_records::{oversized, CsvRecords, CsvRow};
use crate::import::lines::MAX_LINE;
use crate::import::pipeline::Sink;
use crate::import::ImportError;
use crate::normalize::phone::Region;
use std::io::BufRead;

/// How a contacts CSV is laid out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CsvLayout {
    pub delimiter: u8,
    /// Excel's `sep=;` hint line precedes the header.
    pub sep_line: bool,
    pub header: Vec<String>,
    pub columns: Columns,
    pub mapped: bool,
}

impl CsvLayout {
    /// For the import notes: delimiter and which column means what.
    pub fn describe(&self) -> String {
        let delimiter = match self.delimiter {
            b',' => "`,`".to_string(),
            b';' => "`;` (as spreadsheets in many locales save CSV)".to_string(),
            b'\t' => "tab".to_string(),
            d => format!("`{}`", d as char),
        };
        format!(
            "delimiter {delimiter}; columns {}: {}",
            if self.mapped {
                "from --contacts-map"
            } else {
                "detected from the header"
            },
            self.columns.describe(&self.header)
        )
    }
}

/// The delimiter of a header line: the most frequent of `,` `;` tab `|` outside quotes.
fn sniff_delimiter(line: &str) -> u8 {
    let mut counts = [0usize; 4];
    let mut quoted = false;
    for b in line.bytes() {
        match b {
            b'"' => quoted = !quoted,
            b',' if !quoted => counts[0] += 1,
            b';' if !quoted => counts[1] += 1,
            b'\t' if !quoted => counts[2] += 1,
            b'|' if !quoted => counts[3] += 1,
            _ => {}
        }
    }
    let best = (0..4).max_by_key(|&i| (counts[i], std::cmp::Reverse(i))).unwrap_or(0);
    if counts[best] == 0 {
        b','
    } else {
        [b',', b';', b'\t', b'|'][best]
    }
}

/// Reads the layout from the decoded start of a file. Errors say what was expected.
pub fn inspect(text: &str, map: Option<&ColumnMap>) -> Result<CsvLayout, String> {
    let mut lines = text.lines().skip_while(|l| l.trim().is_empty());
    let first = lines.next().unwrap_or("");
    let (sep_line, delimiter) = match first
        .trim()
        .strip_prefix("sep=")
        .or_else(|| first.trim().strip_prefix("SEP="))
    {
        Some(d) if d.len() == 1 => (true, d.as_bytes()[0]),
        Some(d) if d.eq_ignore_ascii_case("\\t") => (true, b'\t'),
        _ => (false, sniff_delimiter(first)),
    };
    let start = text.len() - text.trim_start_matches(['\r', '\n']).len();
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(false)
        .flexible(true)
        .from_reader(&text.as_bytes()[start..]);
    let mut records = reader.records();
    if sep_line {
        records.next();
    }
    let header: Vec<String> = match records.next() {
        Some(Ok(r)) => r
            .iter()
            .map(|f| f.trim().trim_start_matches('\u{FEFF}').to_string())
            .collect(),
        _ => return Err("expected a header row naming the columns (e.g. Name,Email,Phone), found none".into()),
    };
    let columns = match map {
        Some(m) => Columns::from_map(m, &header)?,
        None => Columns::detect(&header),
    };
    if !columns.identifies() || header.iter().any(|h| h.contains('@') || looks_like_data(h)) {
        return Err(format!(
            "no contact columns in the header: expected a name, email or phone column (found {}); name them with --contacts-map name=…,email=…,phone=…",
            header
                .iter()
                .take(12)
                .map(|h| format!("{:?}", h.chars().take(40).collect::<String>()))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    Ok(CsvLayout {
        delimiter,
        sep_line,
        header,
        columns,
        mapped: map.is_some(),
    })
}

/// A header cell never holds a date or a time (`12/03/2026`, `09:14`): such a first line
/// is data (a chat, a headerless log), not column names.
fn looks_like_data(cell: &str) -> bool {
    let b = cell.as_bytes();
    b.windows(3)
        .any(|w| w[0].is_ascii_digit() && matches!(w[1], b'/' | b':' | b'.') && w[2].is_ascii_digit())
}

/// Splits a cell that may hold several values: Google's `a ::: b`, or lists separated by
/// `;`, `,` or new lines. A number in scientific notation (`4,47701E+11`) stays whole.
fn split_values(cell: &str, role: Role) -> impl Iterator<Item = &str> {
    // Most cells hold one value and none of the separators: that value, without building
    // the splitters (a substring searcher per cell was most of the cost of reading a row).
    let single = !cell
        .bytes()
        .any(|b| matches!(b, b':' | b';' | b',' | b'\n') || (b == b' ' && role == Role::Email));
    let one = single.then(|| cell.trim()).filter(|v| !v.is_empty());
    let many = (!single).then(|| split_listed(cell, role));
    one.into_iter().chain(many.into_iter().flatten())
}

/// [`split_values`] of a cell that has a separator in it.
fn split_listed(cell: &str, role: Role) -> impl Iterator<Item = &str> {
    cell.split(":::").flat_map(move |part| {
        let part = part.trim();
        let whole = role == Role::Phone && super::is_scientific(part);
        let seps: &[char] = if whole {
            &[]
        } else if role == Role::Email {
            &[';', ',', '\n', ' ']
        } else {
            &[';', ',', '\n']
        };
        part.split(seps).map(str::trim).filter(|v| !v.is_empty())
    })
}

/// The raw text of a row for the rejects file.
fn raw_row(fields: &[&str], delimiter: u8) -> String {
    let d = delimiter as char;
    fields
        .iter()
        .map(|f| {
            if f.contains([d, '"', '\n', '\r']) {
                format!("\"{}\"", f.replace('"', "\"\""))
            } else {
                f.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join(&d.to_string())
}

/// Line breaks seen in the stream the CSV parser reads, so that a record's byte offset
/// gives its line number: the `csv` crate's own line count is one short after CRLF
/// endings, and lone-CR files (Excel for Mac) must count too.
#[derive(Default)]
struct LineIndex {
    /// Breaks seen so far.
    total: u64,
    /// Offsets of the breaks not yet behind the current record (the parser's read-ahead).
    recent: std::collections::VecDeque<u64>,
    offset: u64,
    prev_cr: bool,
}

impl LineIndex {
    /// 1-based line of the byte at `offset`; forgets breaks before it.
    fn line_at(&mut self, offset: u64) -> u64 {
        while self.recent.front().is_some_and(|&b| b < offset) {
            self.recent.pop_front();
        }
        1 + self.total - self.recent.len() as u64
    }
}

/// Breaks kept by [`LineIndex`] at most (far more than 64 KiB of read-ahead can hold).
const RECENT_BREAKS: usize = 1 << 20;

struct LineCounting<R> {
    inner: R,
    index: std::rc::Rc<std::cell::RefCell<LineIndex>>,
}

impl<R: std::io::Read> std::io::Read for LineCounting<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        let mut index = self.index.borrow_mut();
        let base = index.offset;
        for pos in memchr::memchr2_iter(b'\n', b'\r', &buf[..n]) {
            let at = base + pos as u64;
            // `\r\n` is one break, counted at the `\r`.
            let crlf_tail = buf[pos] == b'\n' && (if pos == 0 { index.prev_cr } else { buf[pos - 1] == b'\r' });
            if !crlf_tail {
                index.total += 1;
                index.recent.push_back(at);
            }
        }
        // The parser reads at most its buffer (64 KiB) ahead of the record it returns, so
        // breaks further back than this are behind the next record's start: dropping them
        // now changes no line number, and a row swallowed by a quote that never closes
        // does not keep a break for each of its lines.
        while index.recent.len() > RECENT_BREAKS {
            index.recent.pop_front();
        }
        if n > 0 {
            index.prev_cr = buf[n - 1] == b'\r';
        }
        index.offset += n as u64;
        Ok(n)
    }
}

fn row_place(line: u64, byte: u64, raw: &str) -> RecordPlace<'_> {
    RecordPlace {
        source_ref: format!("line:{line}"),
        line,
        byte_offset: Some(byte),
        raw,
    }
}

/// Rows read per batch. One batch is prepared on the thread pool while the previous one
/// is committed and the next one read, so at most three are held at a time.
const BATCH_ROWS: usize = 4096;

/// One CSV row as read, with where it starts and its place among the file's records.
struct RowIn {
    record: CsvRow,
    line: u64,
    byte: u64,
    /// The record's position among the file's records; 0 for an empty row (no record).
    seq: u64,
}

/// Rows read in file order; the `RowIn`s (and their buffers) are reused batch after batch.
#[derive(Default)]
struct Batch {
    rows: Vec<RowIn>,
    len: usize,
}

/// Reads the rows of one file in batches: header and `sep=` line skipped, line numbers
/// counted, records numbered.
struct RowReader<R: std::io::Read> {
    reader: CsvRecords<std::io::BufReader<LineCounting<R>>>,
    lines: std::rc::Rc<std::cell::RefCell<LineIndex>>,
    to_skip: usize,
    rows: u64,
    records: u64,
    display: String,
}

impl<R: std::io::Read> RowReader<R> {
    /// Fills `batch` with up to [`BATCH_ROWS`] rows; an empty batch at the end of the file.
    fn fill(&mut self, batch: &mut Batch) -> Result<(), ImportError> {
        batch.len = 0;
        while batch.len < BATCH_ROWS {
            if batch.len == batch.rows.len() {
                batch.rows.push(RowIn {
                    record: CsvRow::new(),
                    line: 0,
                    byte: 0,
                    seq: 0,
                });
            }
            let row = &mut batch.rows[batch.len];
            if self
                .reader
                .read_byte_record(&mut row.record)
                .map_err(|e| ImportError::file(&self.display, format!("CSV read error: {e}")))?
                .is_none()
            {
                break;
            }
            if self.to_skip > 0 {
                self.to_skip -= 1;
                continue;
            }
            self.rows += 1;
            if self.rows.is_multiple_of(65_536) {
                check_interrupt()?;
            }
            row.byte = row.record.position().byte();
            row.line = self.lines.borrow_mut().line_at(row.byte);
            row.seq = if row.record.iter().all(|f| f.iter().all(u8::is_ascii_whitespace)) {
                0
            } else {
                self.records += 1;
                self.records
            };
            batch.len += 1;
        }
        Ok(())
    }
}

thread_local! {
    /// Each thread's phone memo (threads of the pool prepare rows of any file).
    static PHONES: std::cell::RefCell<Option<PhoneCache>> = const { std::cell::RefCell::new(None) };
}

/// Runs `f` with this thread's phone memo for `region`.
fn with_phones<T>(region: Region, f: impl FnOnce(&mut PhoneCache) -> T) -> T {
    PHONES.with(|cell| {
        let mut cache = cell.borrow_mut();
        if cache.as_ref().map(PhoneCache::region) != Some(region) {
            *cache = Some(PhoneCache::new(region));
        }
        f(cache.as_mut().expect("just set"))
    })
}

/// Reads one row into a record, a reject or nothing (an empty row).
fn prepare_row(row: &RowIn, layout: &CsvLayout, context: &FileContext, phones: &mut PhoneCache) -> Prepared {
    let (line, record) = (row.line, &row.record);
    if row.seq == 0 {
        return Prepared::ignored(line);
    }
    let width = layout.header.len();
    if let Some(why) = oversized(record) {
        let raw = String::from_utf8_lossy(&record.as_slice()[..MAX_LINE.min(record.as_slice().len())]);
        return Prepared::rejected(
            &row_place(line, row.byte, &raw),
            row.seq,
            format!("{why}: not a contact row"),
        );
    }
    // The row's bytes checked once, then cut into fields; a field cut inside a character
    // (invalid in the file: a lead byte before a delimiter) is not on a character boundary,
    // so `get` refuses it just as checking each field alone would.
    let checked = std::str::from_utf8(record.as_slice()).ok().and_then(|all| {
        (0..record.len())
            .map(|i| record.range(i).and_then(|r| all.get(r)))
            .collect::<Option<Vec<&str>>>()
    });
    let fields: Vec<&str> = match checked {
        Some(f) => f,
        None => {
            let lossy: Vec<String> = record.iter().map(|f| String::from_utf8_lossy(f).into_owned()).collect();
            let refs: Vec<&str> = lossy.iter().map(String::as_str).collect();
            let raw = raw_row(&refs, layout.delimiter);
            return Prepared::rejected(
                &row_place(line, row.byte, &raw),
                row.seq,
                "invalid UTF-8 in the row".into(),
            );
        }
    };
    let extra_filled = fields.len() > width && fields[width..].iter().any(|f| !f.trim().is_empty());
    if fields.len() < width || extra_filled {
        let place_raw = raw_row(&fields, layout.delimiter);
        let reason = format!(
            "expected {width} fields as in the header, found {} (a row cut off, or a delimiter inside an unquoted value)",
            fields.len()
        );
        return Prepared::rejected(&row_place(line, row.byte, &place_raw), row.seq, reason);
    }
    let mut contact = RawContact::default();
    let (mut first, mut middle, mut last) = (None, None, None);
    for &(i, role) in &layout.columns.roles {
        let cell = fields.get(i).map(|f| f.trim()).unwrap_or("");
        if cell.is_empty() {
            continue;
        }
        match role {
            Role::Name => {
                if contact.name.is_none() {
                    contact.name = Some(cell.to_string());
                }
            }
            Role::First => first = first.or(Some(cell)),
            Role::Middle => middle = middle.or(Some(cell)),
            Role::Last => last = last.or(Some(cell)),
            Role::Email => contact.emails.extend(split_values(cell, role).map(str::to_string)),
            Role::Phone => contact.phones.extend(split_values(cell, role).map(str::to_string)),
            Role::Company => contact.company = contact.company.or(Some(cell.to_string())),
            Role::Id => contact.id = contact.id.or(Some(cell.to_string())),
        }
    }
    if contact.name.is_none() {
        let parts: Vec<&str> = [first, middle, last].into_iter().flatten().collect();
        if !parts.is_empty() {
            contact.name = Some(parts.join(" "));
        }
    }
    // Only a row without a name can be rejected from here on; only then is its text needed.
    let raw = if contact.name.is_none() {
        raw_row(&fields, layout.delimiter)
    } else {
        String::new()
    };
    context.prepare(phones, row_place(line, row.byte, &raw), row.seq, contact)
}

/// Streams the rows of a contacts CSV into `builder`.
///
/// Rows are read and committed in file order on this thread; in between, each batch of
/// rows is normalised on the thread pool (phones, names, emails, dedup keys, records)
/// while this thread commits the previous batch and reads the next.
pub fn import(
    input: Box<dyn BufRead + Send>,
    layout: &CsvLayout,
    display: &str,
    builder: &mut ContactBuilder<'_>,
    sink: &mut Sink<'_>,
) -> Result<(), ImportError> {
    use rayon::prelude::*;
    let lines = std::rc::Rc::new(std::cell::RefCell::new(LineIndex::default()));
    let mut rows = RowReader {
        reader: CsvRecords::new(
            std::io::BufReader::with_capacity(
                1 << 16,
                LineCounting {
                    inner: input,
                    index: lines.clone(),
                },
            ),
            layout.delimiter,
        ),
        lines,
        to_skip: 1 + usize::from(layout.sep_line),
        rows: 0,
        records: builder.records(),
        display: display.to_string(),
    };
    // Shared by the pool while this thread commits through `builder`.
    let context = builder.context(sink).clone();
    let region = builder.region();
    let (mut current, mut next) = (Batch::default(), Batch::default());
    let (mut prepared, mut to_commit): (Vec<Prepared>, Vec<Prepared>) = (Vec::new(), Vec::new());
    // A read error (or Ctrl-C) ends the reading; the rows read before it are still
    // committed first, as a row-by-row loop would have.
    let mut failed: Option<ImportError> = None;
    if let Err(e) = rows.fill(&mut current) {
        failed = Some(e);
    }
    while current.len > 0 || !to_commit.is_empty() {
        let mut committed = Ok(());
        let mut read = Ok(());
        rayon::in_place_scope(|scope| {
            let (rows_now, out, context) = (&current.rows[..current.len], &mut prepared, &context);
            scope.spawn(move |_| {
                rows_now
                    .par_iter()
                    .with_min_len(256)
                    .map(|row| with_phones(region, |phones| prepare_row(row, layout, context, phones)))
                    .collect_into_vec(out);
            });
            committed = to_commit.drain(..).try_for_each(|p| builder.commit(sink, p));
            next.len = 0;
            if committed.is_ok() && failed.is_none() {
                read = rows.fill(&mut next);
            }
        });
        committed?;
        if let Err(e) = read {
            failed = Some(e);
        }
        std::mem::swap(&mut to_commit, &mut prepared);
        std::mem::swap(&mut current, &mut next);
    }
    match failed {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    #[test]
    fn excel_sep_hint_and_delimiters_are_recognised() {
        let l = inspect("sep=;\r\nName;Email\r\nAnn;a@b.example\r\n", None).unwrap();
        assert_eq!((l.delimiter, l.sep_line), (b';', true));
        assert_eq!(inspect("Name\tPhone\n", None).unwrap().delimiter, b'\t');
        assert_eq!(inspect("\"Name, full\",Email\n", None).unwrap().delimiter, b',');
        assert!(inspect("Date,Time\n", None).unwrap_err().contains("no contact columns"));
        assert!(inspect("12/03/2026, 09:14 - Ann: Name, email\n", None).is_err());
    }

    #[test]
    fn multi_value_cells_split_but_scientific_numbers_stay_whole() {
        let v: Vec<&str> = split_values("a@x.example ::: b@y.example; c@z.example", Role::Email).collect();
        assert_eq!(v, vec!["a@x.example", "b@y.example", "c@z.example"]);
        let v: Vec<&str> = split_values("4,47701E+11 ::: 07700 900123, 020 7946 0000", Role::Phone).collect();
        assert_eq!(v, vec!["4,47701E+11", "07700 900123", "020 7946 0000"]);
    }

    #[test]
    fn a_cell_without_separators_gives_what_the_full_split_gives() {
        let pieces = [
            "a@x.example",
            "07700 900123",
            "+44 20 7946 0100",
            ":::",
            ":",
            ";",
            ",",
            "\n",
            "\r",
            " ",
            "\t",
            "4.47701E+11",
            "4,47701E+11",
            "é",
            "x",
        ];
        let mut rng = crate::benchkit::SplitMix64(23);
        for _ in 0..20_000 {
            let n = 1 + rng.below(5) as usize;
            let cell: String = (0..n).map(|_| *rng.pick(&pieces)).collect();
            for role in [Role::Email, Role::Phone] {
                let fast: Vec<&str> = split_values(&cell, role).collect();
                let full: Vec<&str> = split_listed(&cell, role).collect();
                assert_eq!(fast, full, "{cell:?}");
            }
        }
    }

    #[test]
    fn line_numbers_count_lf_crlf_and_lone_cr() {
        for (text, starts) in [
            ("a\nb\nc\n", [0u64, 2, 4]),
            ("a\r\nb\r\nc\r\n", [0, 3, 6]),
            ("a\rb\rc\r", [0, 2, 4]),
        ] {
            let index = std::rc::Rc::new(std::cell::RefCell::new(LineIndex::default()));
            let mut r = LineCounting {
                inner: std::io::Cursor::new(text.as_bytes().to_vec()),
                index: index.clone(),
            };
            let mut sink = Vec::new();
            r.read_to_end(&mut sink).unwrap();
            let lines: Vec<u64> = starts.iter().map(|&b| index.borrow_mut().line_at(b)).collect();
            assert_eq!(lines, vec![1, 2, 3], "{text:?}");
        }
    }
}
