//! Call logs: Asterisk `Master.csv`, CDR CSVs with a header (FreePBX, CDR-Stats), Twilio
//! call logs, Android call-log XML (SMS Backup & Restore, SuperBackup), and any other CSV
//! with `--map` (issue #4). See docs/importers/calls.md.
//!
//! Rows are legs; legs are grouped into customer calls ([`leg::LegGrouper`]) before
//! anything is counted. One interaction per call. Accounting per file: `read` = calls
//! found + rows rejected; the notes say how many rows the calls were made of.

pub mod android;
pub mod asterisk;
pub mod cdr_csv;
pub mod csv_input;
pub mod direction;
pub mod generic;
pub mod leg;
pub mod mapped;
pub mod time;
pub mod twilio;

use self::csv_input::{raw_row, CsvInput, CsvReader};
use self::direction::{BusinessNumbers, End};
use self::generic::ColumnMap;
use self::leg::{CallLegs, Leg, LegGrouper, LegOutcome};
use self::mapped::{norm_header, Columns, Flavor};
use self::time::{DateReading, LocalClock, SlashEvidence, SlashRule};
use super::csv_records::{oversized, CsvRow};
use super::pipeline::{
    already_imported, dedup_key, existing_keys, hash_file, hex_into, id_hasher, interaction_id_into, stage_source,
    Progress, Sink, SourcePlan, SourceResult,
};
use super::{check_interrupt, expand_paths, CommonOptions, ImportError, ImportReport, SourceOutcome, SourceOutcomes};
use crate::import::encoding::TextEncoding;
use crate::import::whatsapp::dates::DateOrder;
use crate::model::{CallStatus, Channel, Direction, HandleKind, Kind};
use crate::normalize::phone::PhoneCache;
use crate::normalize::phone::{to_e164, Region};
use crate::workspace::{InteractionRow, Reject, Workspace};
use std::collections::HashSet;
use std::io::Read;
use std::path::{Path, PathBuf};

/// The call-log layouts this importer reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// Asterisk `cdr_csv` Master.csv (no header).
    Asterisk,
    /// A PBX CDR export with a header (FreePBX, CDR-Stats, …).
    CdrCsv,
    Twilio,
    AndroidXml,
    /// A CSV whose columns are named with `--map`.
    Generic,
}

impl Dialect {
    pub fn name(self) -> &'static str {
        match self {
            Dialect::Asterisk => "asterisk",
            Dialect::CdrCsv => "cdr-csv",
            Dialect::Twilio => "twilio",
            Dialect::AndroidXml => "android-xml",
            Dialect::Generic => "generic",
        }
    }

    pub fn parse(s: &str) -> Result<Dialect, String> {
        Ok(match s.trim().to_ascii_lowercase().as_str() {
            "asterisk" => Dialect::Asterisk,
            "cdr-csv" | "cdr" | "freepbx" => Dialect::CdrCsv,
            "twilio" => Dialect::Twilio,
            "android-xml" | "android" => Dialect::AndroidXml,
            "generic" => Dialect::Generic,
            other => {
                return Err(format!(
                    "unknown dialect {other:?}: expected asterisk, cdr-csv, twilio, android-xml or generic"
                ))
            }
        })
    }
}

/// Options of `import calls`.
#[derive(Debug, Clone, Default)]
pub struct CallOptions {
    /// Numbers of the business, any format (normalised with `--region`).
    pub business_numbers: Vec<String>,
    /// Force a dialect instead of detecting it.
    pub dialect: Option<Dialect>,
    /// Column names for generic CSVs.
    pub map: Option<ColumnMap>,
    /// Day/month order of `a/b/yyyy` dates and two-digit years (`--date-order`); inferred
    /// per file when absent.
    pub date_order: Option<DateOrder>,
}

/// Asterisk CEL event types: a CEL file is one row per channel event, not per call.
const CEL_EVENTS: &[&str] = &[
    "CHAN_START",
    "CHAN_END",
    "ANSWER",
    "HANGUP",
    "BRIDGE_START",
    "BRIDGE_END",
    "BRIDGE_ENTER",
    "BRIDGE_EXIT",
    "LINKEDID_END",
    "APP_START",
    "APP_END",
];

/// First CSV record of a text, split with its own delimiter.
fn first_record(text: &str) -> Vec<String> {
    let line = text.lines().next().unwrap_or("").trim_start_matches('\u{feff}');
    let delimiter = csv_input::sniff_delimiter(line);
    let mut r = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delimiter)
        .from_reader(line.as_bytes());
    r.records()
        .next()
        .and_then(Result::ok)
        .map(|rec| rec.iter().map(str::to_string).collect())
        .unwrap_or_default()
}

/// The dialect of a file from its first bytes, or why it is not a call log.
pub fn detect_dialect(head: &[u8]) -> Result<Dialect, String> {
    let (text, _) = csv_input::head_text(head);
    if android::sniff(&text) {
        return Ok(Dialect::AndroidXml);
    }
    let fields = first_record(&text);
    if fields.first().is_some_and(|f| CEL_EVENTS.contains(&f.trim())) {
        return Err(
            "an Asterisk CEL event log (one row per channel event, not per call): export the CDR (Master.csv) instead"
                .into(),
        );
    }
    if asterisk::looks_like_row(&fields) {
        return Ok(Dialect::Asterisk);
    }
    let headers: Vec<String> = fields.iter().map(|f| norm_header(f)).collect();
    if twilio::is_twilio_header(&headers) {
        return Ok(Dialect::Twilio);
    }
    if cdr_csv::is_cdr_header(&headers) {
        return Ok(Dialect::CdrCsv);
    }
    Err("not a call log this version recognises (expected Asterisk Master.csv rows, a CDR or Twilio header, or Android call-log XML); for another CSV pass --dialect generic --map ts=…,from=…,to=…".into())
}

/// True when the start of a file looks like a call log this importer reads (an Asterisk
/// CEL log too, so that `import PATH` says why it is refused). Never claims a contacts
/// CSV: a call-log header needs time, caller, callee and duration or outcome columns.
pub fn sniff(head: &[u8]) -> bool {
    match detect_dialect(head) {
        Ok(_) => true,
        Err(why) => why.contains("CEL"),
    }
}

/// Per-file parsing state shared by the CSV dialects.
pub struct RowCtx {
    pub clock: LocalClock,
    /// Twilio writes UTC.
    pub utc_clock: LocalClock,
    pub region: Region,
    /// The file shows signs of a spreadsheet round trip (`;`, UTF-16, scientific notation).
    pub spreadsheet: bool,
    pub unknown_status: u64,
    /// The file's day/month order and what reading dates under it met.
    pub dates: DateReading,
}

/// One thing read from a file, in order.
// Rows travel in batches of 4 096 events: a leg inline costs memory there, a boxed one an
// allocation (and a free on the importing thread) per row.
#[allow(clippy::large_enum_variant)]
pub enum RowEvent {
    Leg(Leg),
    Reject(RowReject),
    /// Bytes read so far (for the progress bar).
    Progress(u64),
}

/// A row that could not be read: where it was, why, and its text for the rejects file.
pub struct RowReject {
    pub line: Option<u64>,
    pub offset: u64,
    pub reason: String,
    pub raw: String,
}

/// What reading a file found out, besides its rows.
#[derive(Default)]
pub struct ReadInfo {
    pub rows: u64,
    pub notes: Vec<String>,
    pub no_unanswered: bool,
}

/// A file to import, hashed and sniffed.
struct CallFile {
    path: PathBuf,
    display: String,
    size: u64,
    content_hash: String,
    dialect: Dialect,
    /// Day/month order of its `a/b/yyyy` dates: forced, inferred by a pre-scan, or undecided.
    dates: SlashRule,
}

fn read_head(path: &Path) -> std::io::Result<Vec<u8>> {
    let mut head = vec![0u8; super::detect::HEAD_BYTES];
    let mut f = std::fs::File::open(path)?;
    let mut n = 0;
    while n < head.len() {
        let got = f.read(&mut head[n..])?;
        if got == 0 {
            break;
        }
        n += got;
    }
    head.truncate(n);
    Ok(head)
}

/// Reads the header row of a header CSV and finds its columns; `None` for an empty file.
fn header_columns(
    reader: &mut CsvReader,
    dialect: Dialect,
    map: Option<&ColumnMap>,
    display: &str,
) -> Result<Option<(Columns, Flavor)>, ImportError> {
    let mut rec = CsvRow::new();
    if reader
        .read_byte_record(&mut rec)
        .map_err(|e| ImportError::file(display, format!("cannot read CSV: {e}")))?
        .is_none()
    {
        return Ok(None);
    }
    let headers: Vec<String> = rec.iter().map(|h| norm_header(&String::from_utf8_lossy(h))).collect();
    let (cols, flavor) = match dialect {
        Dialect::Twilio => (twilio::columns(&headers), Flavor::Twilio),
        Dialect::CdrCsv => (cdr_csv::columns(&headers), Flavor::Cdr),
        _ => {
            let map = map.ok_or_else(|| {
                ImportError::file(display, "a generic CSV needs --map ts=COLUMN,from=COLUMN,to=COLUMN[,…]")
            })?;
            (
                map.columns(&headers).map_err(|e| ImportError::file(display, e))?,
                Flavor::Generic,
            )
        }
    };
    if cols.ts.is_none() || cols.from.is_none() || cols.to.is_none() {
        return Err(ImportError::file(
            display,
            "the header has no start time, caller or callee column: pass --dialect generic --map ts=…,from=…,to=…",
        ));
    }
    Ok(Some((cols, flavor)))
}

/// Decides the day/month order of a header CSV's `a/b/yyyy` dates for the whole file, from
/// a pre-scan of its start-time column only (constant memory: the rows are streamed later).
/// Other dialects have no such dates.
fn scan_dates(path: &Path, dialect: Dialect, map: Option<&ColumnMap>) -> Result<SlashRule, ImportError> {
    if !matches!(dialect, Dialect::CdrCsv | Dialect::Twilio | Dialect::Generic) {
        return Ok(SlashRule::default());
    }
    let display = path.display().to_string();
    let (mut reader, _) = CsvInput::open(path)?.into_csv();
    let Some((Columns { ts: Some(ts), .. }, _)) = header_columns(&mut reader, dialect, map, &display)? else {
        return Ok(SlashRule::default());
    };
    let mut evidence = SlashEvidence::default();
    let mut rec = CsvRow::new();
    let mut rows = 0u64;
    while reader
        .read_byte_record(&mut rec)
        .map_err(|e| ImportError::file(&display, format!("cannot read CSV: {e}")))?
        .is_some()
    {
        rows += 1;
        if rows.is_multiple_of(65_536) {
            check_interrupt()?;
        }
        // No a/b/yyyy date in the first 64 KiB: a file written by one system keeps one date
        // format, so it is not read twice. (A slashed date further on is still rejected
        // with its reason, never guessed.)
        if evidence.slashed == 0 && rec.position().byte() > super::detect::HEAD_BYTES as u64 {
            return Ok(SlashRule::default());
        }
        match rec.get(ts) {
            Some(f) if f.contains(&b'/') || f.contains(&b'-') => {
                let line = rec.position().line();
                evidence.add(&String::from_utf8_lossy(f), line);
            }
            _ => {}
        }
    }
    evidence.decide().map_err(|why| ImportError::file(&display, why))
}

/// Reads a file's rows as legs and rejects, in file order, stopping after `limit` rows.
/// Runs on a worker thread during an import; `emit` sends batches to the writer.
pub fn read_file(
    path: &Path,
    dialect: Dialect,
    map: Option<&ColumnMap>,
    dates: &SlashRule,
    common: &CommonOptions,
    limit: Option<u64>,
    emit: &mut dyn FnMut(RowEvent) -> Result<(), ImportError>,
) -> Result<ReadInfo, ImportError> {
    let display = path.display().to_string();
    let mut info = ReadInfo::default();
    if dialect == Dialect::AndroidXml {
        let io = |e: std::io::Error| ImportError::file(&display, format!("cannot read: {e}"));
        // A backup re-saved as UTF-16 (or Windows-1252) is decoded as the CSVs are: read raw,
        // it has no element the parser can see.
        let encoding = TextEncoding::detect(&read_head(path).map_err(io)?);
        if let Some(note) = encoding.note() {
            info.notes
                .push(format!("{note}: decoded; reject offsets count decoded bytes"));
        }
        let input = encoding.reader(std::fs::File::open(path).map_err(io)?).map_err(io)?;
        let is_backup = android::read(input, |event| {
            info.rows += 1;
            emit(event)
        })?;
        if !is_backup {
            return Err(ImportError::file(
                &display,
                "no <calls> or <alllogs> element: not an Android call-log backup (SMS Backup & Restore, SuperBackup)",
            ));
        }
        return Ok(info);
    }
    let input = CsvInput::open(path)?;
    let sci = input.head_text.lines().take(50).any(|l| {
        l.split([',', ';', '\t'])
            .any(|f| csv_input::is_scientific(f.trim_matches('"')))
    });
    let utf16 = input.encoding.is_utf16();
    let spreadsheet = utf16 || input.delimiter == b';' || sci;
    if let Some(note) = input.encoding.note() {
        info.notes.push(format!("{note}: decoded"));
    }
    if input.delimiter != b',' {
        info.notes.push(format!("delimiter {:?}", input.delimiter as char));
    }
    if spreadsheet {
        info.notes.push(
            "this file was re-saved by a spreadsheet: numbers in scientific notation or without their leading zero are rejected, never imported as real numbers".into(),
        );
    }
    let delimiter = input.delimiter;
    let (mut reader, tail) = input.into_csv();
    let mut ctx = RowCtx {
        clock: LocalClock::new(common.tz),
        utc_clock: LocalClock::new(chrono_tz::UTC),
        region: common.region,
        spreadsheet,
        unknown_status: 0,
        dates: DateReading::new(dates.clone()),
    };
    let io = |e: std::io::Error| ImportError::file(&display, format!("cannot read CSV: {e}"));
    let mut columns: Option<(Columns, Flavor)> = None;
    if dialect != Dialect::Asterisk {
        match header_columns(&mut reader, dialect, map, &display)? {
            Some(c) => columns = Some(c),
            None => return Ok(info),
        }
    }
    let mut saw_unanswered = false;
    // The row before the current one is processed only once the next is read, so that a
    // last row cut off inside a quoted field can be told apart. Two records, swapped.
    let mut prev = CsvRow::new();
    let mut pending: Option<(u64, u64)> = None;
    let mut last_progress = 0u64;
    let process = |rec: &CsvRow,
                   line: u64,
                   offset: u64,
                   ctx: &mut RowCtx,
                   saw: &mut bool,
                   emit: &mut dyn FnMut(RowEvent) -> Result<(), ImportError>| {
        if let Some(why) = oversized(rec) {
            return emit(RowEvent::Reject(RowReject {
                line: Some(line),
                offset,
                reason: format!("{why}: not a call-log row"),
                raw: raw_row(rec, delimiter),
            }));
        }
        let parsed = match &columns {
            None => asterisk::leg(rec, line, ctx),
            Some((cols, flavor)) => mapped::leg(rec, line, cols, *flavor, ctx),
        };
        match parsed {
            Ok(leg) => {
                if !matches!(leg.outcome, LegOutcome::Person) {
                    *saw = true;
                }
                emit(RowEvent::Leg(leg))
            }
            Err(reason) => emit(RowEvent::Reject(RowReject {
                line: Some(line),
                offset,
                reason,
                raw: raw_row(rec, delimiter),
            })),
        }
    };
    let mut next = CsvRow::new();
    loop {
        if reader.read_byte_record(&mut next).map_err(io)?.is_none() {
            break;
        }
        let pos = next.position().clone();
        if next.len() == 1 && next.get(0).is_some_and(|f| f.iter().all(u8::is_ascii_whitespace)) {
            continue;
        }
        info.rows += 1;
        if let Some((line, offset)) = pending.replace((pos.line(), pos.byte())) {
            process(&prev, line, offset, &mut ctx, &mut saw_unanswered, emit)?;
        }
        std::mem::swap(&mut prev, &mut next);
        if pos.byte() - last_progress >= 1 << 20 {
            emit(RowEvent::Progress(pos.byte() - last_progress))?;
            last_progress = pos.byte();
            check_interrupt()?;
        }
        if limit.is_some_and(|l| info.rows >= l) {
            break;
        }
    }
    if let Some((line, offset)) = pending.take() {
        if limit.is_none() && tail.ends_inside_quotes(offset) {
            emit(RowEvent::Reject(RowReject {
                line: Some(line),
                offset,
                reason: "the file ends inside a quoted field: this row was cut off".into(),
                raw: raw_row(&prev, delimiter),
            }))?;
        } else {
            process(&prev, line, offset, &mut ctx, &mut saw_unanswered, emit)?;
        }
    }
    info.notes.extend(ctx.dates.notes());
    info.notes.extend(ctx.clock.notes());
    if ctx.unknown_status > 0 {
        info.notes.push(format!(
            "{} row(s) with a status word this importer does not know: their calls have no status",
            ctx.unknown_status
        ));
    }
    info.no_unanswered = dialect == Dialect::Asterisk && !saw_unanswered && info.rows > 0;
    Ok(info)
}

/// A call's decided fields (see [`CallWriter::decide`]).
struct CallRecord<'c> {
    direction: Direction,
    /// The customer's number, E.164.
    handle: Option<String>,
    /// The caller-ID name is the customer's (the customer placed the call).
    show_name: bool,
    agent: Option<&'c str>,
    status: Option<CallStatus>,
    duration_s: i64,
    seq: u64,
}

/// Turns grouped legs into interactions: direction, customer, status, agent.
struct CallWriter<'a> {
    file: &'a CallFile,
    business: &'a BusinessNumbers,
    phones: PhoneCache,
    direction_counts: [u64; 5],
    invalid_numbers: u64,
    withheld: u64,
    legs_merged: u64,
    /// Dedup keys of this file's calls that have no call id (Android, generic rows): an
    /// overlapping backup repeats them within one file.
    own_keys: HashSet<u128>,
    /// Hashes the file's content hash once; each call's id adds its position.
    id_hasher: blake3::Hasher,
    /// Reused for each call's `thread_key`.
    thread_key: String,
}

impl CallWriter<'_> {
    /// What the call becomes: direction, customer, status, agent — everything of its
    /// record that is not borrowed from the legs or the file. Counted in the notes, so
    /// asked only of calls that are imported. `p` is the call's [`CallLegs::primary`] leg.
    fn decide<'c>(&mut self, call: &'c CallLegs, p: &'c Leg) -> CallRecord<'c> {
        let from_end = if p.from.is_empty() && p.caller_is_device {
            End::Extension
        } else {
            self.business.classify(&p.from, &mut self.phones)
        };
        let to_end = if p.to.is_empty() && self.file.dialect == Dialect::AndroidXml {
            End::Extension
        } else {
            self.business.classify(&p.to, &mut self.phones)
        };
        let direction = direction::decide(p, &from_end, &to_end);
        let (customer_raw, customer_end) = match direction {
            Direction::Inbound => (Some(&p.from), from_end),
            Direction::Outbound => (Some(&p.to), to_end),
            Direction::Internal | Direction::System => (None, End::Extension),
            Direction::Unknown => match (&from_end, &to_end) {
                (End::External(_) | End::Invalid, _) | (_, End::Extension | End::Business) => (Some(&p.from), from_end),
                _ => (Some(&p.to), to_end),
            },
        };
        let idx = match direction {
            Direction::Inbound => 0,
            Direction::Outbound => 1,
            Direction::Internal => 2,
            Direction::System => 3,
            Direction::Unknown => 4,
        };
        self.direction_counts[idx] += 1;
        let handle = match customer_end {
            End::External(n) => Some(n),
            End::Invalid => {
                self.invalid_numbers += 1;
                None
            }
            End::Withheld if customer_raw.is_some() => {
                self.withheld += 1;
                None
            }
            _ => None,
        };
        let customer_is_caller = customer_raw.is_some_and(|r| std::ptr::eq(r, &p.from)) || p.from.is_empty();
        let show_name = customer_is_caller && direction != Direction::Internal;
        let status = call.status();
        let answered = call.answered_leg();
        let agent = match direction {
            Direction::Outbound | Direction::Internal => p.caller_endpoint.as_deref().or_else(|| {
                answered
                    .and_then(|a| a.callee_endpoint.as_deref())
                    .filter(|_| direction == Direction::Internal)
            }),
            _ => answered.and_then(|a| a.callee_endpoint.as_deref()),
        };
        let seq = call.legs.iter().map(|l| l.line).min().unwrap_or(p.line);
        CallRecord {
            direction,
            handle,
            show_name,
            agent,
            status,
            duration_s: match status {
                Some(CallStatus::Answered) => answered.and_then(|a| a.talk_s).unwrap_or(0),
                _ => 0,
            },
            seq,
        }
    }

    /// The call's dedup key: its call id and start, or for a row without one its ends,
    /// start and dialect details.
    fn key(&self, call: &CallLegs, p: &Leg) -> u128 {
        let start = p.start_ms.to_le_bytes();
        if p.group.is_some() {
            dedup_key(&[b"call", call.source_ref.as_bytes(), &start])
        } else {
            dedup_key(&[
                b"call-row",
                self.file.dialect.name().as_bytes(),
                &start,
                p.from.as_bytes(),
                p.to.as_bytes(),
                p.dedup_extra.as_bytes(),
            ])
        }
    }

    fn notes(&self) -> Vec<String> {
        let mut notes = Vec::new();
        let [i, o, n, _, u] = self.direction_counts;
        notes.push(format!(
            "directions: {i} inbound, {o} outbound, {n} internal, {u} unknown"
        ));
        if u > 0 {
            notes.push(format!(
                "{u} call(s) with unknown direction: neither end is a known business number or extension; pass --business-number"
            ));
        }
        if self.withheld > 0 {
            notes.push(format!(
                "{} call(s) from withheld/anonymous numbers: kept, with no customer handle",
                self.withheld
            ));
        }
        if self.invalid_numbers > 0 {
            notes.push(format!(
                "{} call(s) whose customer number is not a valid phone number for the region: kept in author_raw, no customer handle (pass --region?)",
                self.invalid_numbers
            ));
        }
        notes
    }
}

/// What the reader thread hands the importing thread, in file order.
enum Handoff {
    Call(CallLegs),
    /// A leg its call refused (see [`leg::Fed`]), and why.
    Refused(Box<Leg>, String),
    /// Boxed: rare, and twice the size of a call.
    Reject(Box<RowReject>),
    Progress(u64),
}

/// Items per hand-off from the reader thread to the importing thread.
const HANDOFF_BATCH: usize = 4096;

/// Writes the calls of one file through the sink.
fn import_file(
    file: &CallFile,
    opts: &CallOptions,
    common: &CommonOptions,
    business: &BusinessNumbers,
    sink: &mut Sink<'_>,
) -> Result<SourceResult, ImportError> {
    let mut result = SourceResult::default();
    let mut writer = CallWriter {
        file,
        business,
        phones: PhoneCache::new(common.region),
        direction_counts: [0; 5],
        invalid_numbers: 0,
        withheld: 0,
        legs_merged: 0,
        own_keys: HashSet::new(),
        id_hasher: id_hasher(&file.content_hash),
        thread_key: String::new(),
    };
    let display = file.display.clone();
    // The reader thread also groups the legs: a leg is hashed and stored while it is still
    // in that core's cache, and the importing thread (the busier one) receives whole calls.
    let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<Handoff>>(8);
    // Emptied batches go back to the reader: refilled, their memory is still mapped and
    // likely cached, where a new one would be fresh pages.
    let (recycle, recycled) = std::sync::mpsc::sync_channel::<Vec<Handoff>>(10);
    let info = std::thread::scope(|scope| -> Result<ReadInfo, ImportError> {
        let reader = scope.spawn(move || {
            let mut grouper = LegGrouper::new();
            let mut done: Vec<CallLegs> = Vec::new();
            let mut batch = Vec::with_capacity(HANDOFF_BATCH);
            let info = read_file(
                &file.path,
                file.dialect,
                opts.map.as_ref(),
                &file.dates,
                common,
                None,
                &mut |ev| {
                    match ev {
                        RowEvent::Leg(leg) => {
                            if let Some((leg, why)) = grouper.feed(leg, &mut done).refused() {
                                batch.push(Handoff::Refused(leg, why));
                            }
                            batch.extend(done.drain(..).map(Handoff::Call));
                        }
                        RowEvent::Reject(r) => batch.push(Handoff::Reject(Box::new(r))),
                        RowEvent::Progress(n) => batch.push(Handoff::Progress(n)),
                    }
                    if batch.len() >= HANDOFF_BATCH {
                        let empty = recycled
                            .try_recv()
                            .unwrap_or_else(|_| Vec::with_capacity(HANDOFF_BATCH));
                        let full = std::mem::replace(&mut batch, empty);
                        tx.send(full).map_err(|_| ImportError::Interrupted)?;
                    }
                    Ok(())
                },
            );
            if info.is_ok() {
                grouper.finish(&mut done);
                batch.extend(done.drain(..).map(Handoff::Call));
            }
            if !batch.is_empty() {
                let _ = tx.send(batch);
            }
            info
        });
        let mut consume = |events: &mut Vec<Handoff>, result: &mut SourceResult| -> Result<(), ImportError> {
            for ev in events.drain(..) {
                match ev {
                    Handoff::Progress(n) => (sink.progress)(n),
                    Handoff::Reject(r) => {
                        result.counts.read += 1;
                        sink.reject(
                            result,
                            &Reject {
                                file: &display,
                                line: r.line,
                                byte_offset: Some(r.offset),
                                reason: &r.reason,
                                raw: &r.raw,
                            },
                        )?;
                    }
                    Handoff::Refused(leg, why) => {
                        result.counts.read += 1;
                        sink.reject(
                            result,
                            &Reject {
                                file: &display,
                                line: Some(leg.line),
                                byte_offset: None,
                                reason: &why,
                                raw: &format!("{} {} -> {}", leg.ts_raw, leg.from, leg.to),
                            },
                        )?;
                    }
                    Handoff::Call(call) => write_call(&mut writer, &call, sink, result)?,
                }
            }
            Ok(())
        };
        let mut outcome = Ok(());
        for mut events in rx.iter() {
            if let Err(e) = consume(&mut events, &mut result) {
                outcome = Err(e);
                break;
            }
            let _ = recycle.try_send(events);
        }
        drop(rx);
        let info = reader
            .join()
            .map_err(|_| ImportError::file(&display, "reader thread panicked"))?;
        outcome?;
        info
    })?;
    let calls = result.counts.imported + result.counts.duplicates;
    result.notes.push(format!("dialect {}", file.dialect.name()));
    result.notes.push(format!(
        "{} row(s) read: {} call(s) after grouping legs ({} row(s) were further legs of a call: ring groups, queues, Local channels, child legs), {} row(s) rejected",
        info.rows,
        calls,
        writer.legs_merged,
        result.counts.rejected
    ));
    result.notes.extend(info.notes);
    result.notes.extend(writer.notes());
    if info.no_unanswered {
        result.notes.push(
            "no unanswered legs in this file: if cdr.conf has unanswered=no (the default), missed calls are under-reported".into(),
        );
    }
    Ok(result)
}

fn write_call(
    writer: &mut CallWriter<'_>,
    call: &CallLegs,
    sink: &mut Sink<'_>,
    result: &mut SourceResult,
) -> Result<(), ImportError> {
    result.counts.read += 1;
    // Rows of a call read, imported or not: the accounting note adds them up.
    writer.legs_merged += call.rows.saturating_sub(1);
    // Picking the primary leg scans every leg: once per call.
    let p = call.primary();
    let key = writer.key(call, p);
    let without_id = call.legs[0].group.is_none();
    if sink.is_duplicate(key) || (without_id && !writer.own_keys.insert(key)) {
        result.counts.duplicates += 1;
        return Ok(());
    }
    let r = writer.decide(call, p);
    // Borrowed from the legs and stack buffers: the importing thread is the busy one.
    let (mut id, mut key_hex) = ([0u8; 32], [0u8; 32]);
    let thread_key = &mut writer.thread_key;
    thread_key.clear();
    thread_key.push_str("call:");
    thread_key.push_str(&call.source_ref);
    let summary = call.leg_summary();
    let row = InteractionRow {
        interaction_id: interaction_id_into(writer.id_hasher.clone(), r.seq, &mut id),
        source_id: sink.source_id,
        source_file: &writer.file.display,
        source_ref: &call.source_ref,
        channel: Channel::Call,
        direction: r.direction,
        ts: p.start_ms,
        ts_raw: &p.ts_raw,
        thread_key,
        customer_handle: r.handle.as_deref(),
        customer_handle_kind: r.handle.as_ref().map(|_| HandleKind::Phone),
        customer_name: p.name.as_deref().filter(|_| r.show_name),
        agent: r.agent,
        text: None,
        body_full: summary.as_deref(),
        subject: None,
        attachments: &[],
        duration_s: Some(r.duration_s),
        status: r.status,
        mentions: &[],
        kind: Kind::Call,
        seq: r.seq,
        author_raw: Some(p.from.as_str()).filter(|f| !f.is_empty()),
        thread_title: None,
        edited: false,
        dedup_key: hex_into(&key.to_be_bytes(), &mut key_hex),
    };
    sink.push_row(result, &row)
}

/// Reads the first rows of every file and infers business numbers from them.
fn infer_business_numbers(
    files: &[CallFile],
    opts: &CallOptions,
    common: &CommonOptions,
) -> Result<Vec<(String, usize, usize)>, ImportError> {
    let mut sample: Vec<CallLegs> = Vec::new();
    for f in files.iter().filter(|f| f.dialect != Dialect::AndroidXml) {
        let mut grouper = LegGrouper::new();
        let mut out = Vec::new();
        read_file(
            &f.path,
            f.dialect,
            opts.map.as_ref(),
            &f.dates,
            common,
            Some(20_000),
            &mut |ev| {
                if let RowEvent::Leg(l) = ev {
                    let _ = grouper.feed(l, &mut out);
                }
                Ok(())
            },
        )?;
        grouper.finish(&mut out);
        sample.extend(out);
    }
    let mut phones = PhoneCache::new(common.region);
    Ok(direction::infer_business(&sample, &mut phones))
}

/// `omnitrail import calls PATH…`: every file in one workspace transaction.
pub fn import_calls(
    ws: &mut Workspace,
    paths: &[PathBuf],
    opts: &CallOptions,
    common: &CommonOptions,
    progress: &dyn Progress,
) -> Result<ImportReport, ImportError> {
    // The metadata loads on its own thread while the files are hashed: business numbers
    // are read after that.
    crate::normalize::phone::load_metadata_in_background();
    let mut outcomes = SourceOutcomes::spilling_to(ws.root().join(".tmp"));
    let mut files: Vec<CallFile> = Vec::new();
    let mut hashes_this_run = HashSet::new();
    for found in expand_paths(paths) {
        let Some((path, _)) = outcomes.file_of(found)? else {
            continue;
        };
        check_interrupt()?;
        let display = path.display().to_string();
        if !path.exists() {
            outcomes.push(SourceOutcome::failed(
                &display,
                format!("{display}: no such file or folder"),
            ))?;
            continue;
        }
        let (content_hash, size) = match hash_file(&path) {
            Ok(h) => h,
            Err(e) => {
                check_interrupt()?;
                outcomes.push(SourceOutcome::failed(&display, format!("{display}: cannot read: {e}")))?;
                continue;
            }
        };
        if size == 0 {
            outcomes.push(SourceOutcome::skipped(
                &display,
                format!("{display}: empty file: nothing to import"),
            ))?;
            continue;
        }
        let dialect = match opts.dialect {
            Some(d) => d,
            None => {
                let head = read_head(&path).unwrap_or_default();
                match detect_dialect(&head) {
                    Ok(d) if opts.map.is_some() && d != Dialect::AndroidXml => Dialect::Generic,
                    Ok(d) => d,
                    Err(_) if opts.map.is_some() => Dialect::Generic,
                    Err(why) => {
                        outcomes.push(SourceOutcome::failed(&display, format!("{display}: {why}")))?;
                        continue;
                    }
                }
            }
        };
        if let Some(o) = already_imported(ws, &content_hash, &display, &mut hashes_this_run)? {
            outcomes.push(o)?;
            continue;
        }
        let dates = match opts.date_order {
            Some(order) => SlashRule::forced(order),
            None => match scan_dates(&path, dialect, opts.map.as_ref()) {
                Ok(rule) => rule,
                Err(ImportError::File { path, message }) => {
                    outcomes.push(SourceOutcome::failed(&display, format!("{path}: {message}")))?;
                    continue;
                }
                Err(e) => return Err(e),
            },
        };
        files.push(CallFile {
            path,
            display,
            size,
            content_hash,
            dialect,
            dates,
        });
    }
    let mut business = BusinessNumbers::default();
    for n in &opts.business_numbers {
        let e164 = to_e164(n, common.region).ok_or_else(|| {
            ImportError::Usage(format!(
                "--business-number {n:?} is not a phone number (national numbers need --region)"
            ))
        })?;
        business.given.insert(e164);
    }
    let mut notes = vec![format!("time zone {} ({})", common.tz.name(), common.tz_origin)];
    if !business.given.is_empty() {
        let mut given: Vec<&String> = business.given.iter().collect();
        given.sort();
        notes.push(format!(
            "business numbers (--business-number): {}",
            given.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ")
        ));
    } else {
        let inferred = infer_business_numbers(&files, opts, common)?;
        if inferred.is_empty() {
            notes.push(
                "business numbers: none given, none inferred; direction from extensions and dialplan contexts (pass --business-number)".into(),
            );
        } else {
            notes.push(format!(
                "business numbers inferred (on one side of many calls, with many different numbers on the other): {}; pass --business-number to set them",
                inferred
                    .iter()
                    .map(|(n, calls, peers)| format!("{n} ({calls} calls, {peers} other numbers)"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
            business.inferred = inferred.into_iter().map(|(n, _, _)| n).collect();
        }
    }
    notes.push("extensions: numbers of 1 to 5 digits and named SIP peers are the business side".into());
    let mut seen = existing_keys(ws, "call", None).map_err(ImportError::Other)?;
    progress.start(files.iter().map(|f| f.size).sum());
    let mut txn = ws.begin();
    let total = files.len();
    let mut all_numbers: Vec<&String> = business.given.iter().chain(business.inferred.iter()).collect();
    all_numbers.sort();
    for (i, file) in files.iter().enumerate() {
        let options = serde_json::json!({
            "dialect": file.dialect.name(),
            "tz": common.tz.name(),
            "tz_origin": common.tz_origin,
            "region": common.region_code,
            "business_numbers": all_numbers,
            "map": opts.map.as_ref().map(|m| m.0.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(",")),
            "date_order": file.dates.order.map(DateOrder::flag),
            "date_order_origin": file.dates.order.map(|_| if file.dates.forced { "--date-order" } else { "inferred" }),
        });
        let plan = SourcePlan {
            id_prefix: "cl",
            display: file.display.clone(),
            size: file.size,
            content_hash: file.content_hash.clone(),
            format: format!("calls/{}", file.dialect.name()),
            channel: "call".into(),
            options,
            notes: Vec::new(),
        };
        let staged = stage_source(&mut txn, &mut seen, i + 1 < total, plan, progress, |sink| {
            import_file(file, opts, common, &business, sink)
        });
        match staged {
            Ok(o) => outcomes.push(o)?,
            Err(ImportError::Interrupted) => return Err(ImportError::Interrupted),
            Err(ImportError::File { path, message }) => {
                outcomes.push(SourceOutcome::failed(&file.display, format!("{path}: {message}")))?
            }
            Err(e) => return Err(e),
        }
    }
    progress.finish();
    check_interrupt()?;
    if txn.staged_sources() > 0 {
        txn.commit()?;
    }
    Ok(ImportReport {
        sources: outcomes,
        notes,
    })
}
