//! WhatsApp chat exports (`.txt`, `.zip`, folders of them), Android and iOS layouts.
//!
//! Each chat is read twice, streaming: the scan (`scan.rs`) votes on the header
//! shape, decides the date order from all dates and collects authors; the import (this
//! module) then turns messages into [`Interaction`](crate::model::Interaction) rows on every
//! core. Between the two, the business side is decided across all chats (`business.rs`).
//! `input.rs` opens a chat's text, in a `.txt` or inside a `.zip`.

mod business;
pub mod classify;
pub mod dates;
pub mod header;
mod input;
mod scan;

pub use business::{decide_business, AuthorCensus, BusinessSide, BusinessSides};
pub use input::{chat_title, zip_has_chat, ChatInput, MAX_ZIP_CHAT_BYTES};
use scan::author_candidate;
pub use scan::{scan, ChatScan, SiblingOrders};

use self::dates::{DateOrder, Decision};
use self::header::{Header, Shape};
use super::lines::{LineReader, MAX_LINE};
use super::pipeline::{self, Sink, SourceResult};
use super::{check_interrupt, CommonOptions, ImportError};
use crate::model::{Channel, Direction, HandleKind, Kind};
use crate::normalize::{mentions, phone, text};
use crate::workspace::{InteractionRow, Reject, RowChunk, NEAR_WHATSAPP_EXPORT_CAP};
use chrono::{LocalResult, NaiveDate, TimeZone};
use polars::prelude::{PlHashMap, PlHashSet};
use std::collections::HashSet;
use std::io::BufRead;
use std::ops::Range;
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::sync::{Arc, Mutex};

/// Options of `import whatsapp`.
#[derive(Debug, Clone, Default)]
pub struct WhatsAppOptions {
    /// Display names of the business side (`--business-name`, repeatable).
    pub business_names: Vec<String>,
    /// Forced day/month order (`--date-order`).
    pub date_order: Option<DateOrder>,
    /// Threads that build the records of a large chat; `None`: one per core (at most 8).
    pub workers: Option<usize>,
}

/// Chats up to this size are scanned in one pass and read on the importing thread (no
/// halves, no reader thread).
const SMALL_CHAT: u64 = 1 << 20;

/// What a chat's message count says about WhatsApp's export cap (~40 000 messages), if
/// anything: near it, older history may be missing; far past it, the file is not one export
/// as WhatsApp wrote it.
pub fn export_cap_note(read: u64) -> Option<String> {
    match read {
        0..39_000 => None,
        39_000..=41_000 => Some(format!(
            "{NEAR_WHATSAPP_EXPORT_CAP}: this file may not hold the full history"
        )),
        _ => Some(format!(
            "{read} messages, more than WhatsApp's ~40 000-message export cap: probably several exports joined, or a file written by another tool"
        )),
    }
}

/// One message (or an orphan line) as the reader thread found it. Its text lives in the
/// batch's shared buffer: `view` is the matching view of the first line, `body` the raw
/// text after the header followed by every continuation line, each after a `\n`.
struct Pending {
    /// Position among the chat's messages (from 1; 0 for an orphan line).
    seq: u64,
    /// `None` for an orphan line (text before the first header).
    header: Option<Header>,
    view: Range<usize>,
    body: Range<usize>,
    /// End of the first line within `body`.
    first_end: usize,
    line: u64,
    offset: u64,
    bad: Option<String>,
}

/// Messages read by the reader thread, with their text in one buffer (one allocation per
/// batch instead of several per message).
struct Batch {
    text: String,
    items: Vec<Pending>,
    /// A batch cut inside a minute (see [`HARD_BATCH`]) starts from the dedup counting
    /// its predecessor ends with, received here; the predecessor sends it on `carry_out`.
    carry_in: Option<Receiver<Occurrence>>,
    carry_out: Option<SyncSender<Occurrence>>,
}

/// The minute of the last message keyed, and how often each key occurred in it.
type Occurrence = (i64, PlHashMap<u128, u32>);

impl Batch {
    fn with_capacity(items: usize) -> Batch {
        Batch {
            text: String::with_capacity(items * 96),
            items: Vec::with_capacity(items),
            carry_in: None,
            carry_out: None,
        }
    }
}

/// The byte index in `raw` that corresponds to byte `view_idx` of its matching view.
fn raw_index(raw: &str, view_idx: usize) -> usize {
    let mut v = 0;
    for (i, c) in raw.char_indices() {
        if v >= view_idx {
            return i;
        }
        if !text::is_invisible(c) {
            v += if text::is_space_like(c) { 1 } else { c.len_utf8() };
        }
    }
    raw.len()
}

/// What is known about one raw author text of a chat, worked out once.
struct Author {
    raw: String,
    /// Cleaned name; `None` when nothing is left after cleaning.
    clean: Option<String>,
    /// Handle of the cleaned name, when it is used as the customer.
    handle: Option<(String, HandleKind)>,
    is_business: bool,
}

/// What every message of a chat is built with, worked out once and shared by the threads
/// that build its records.
struct ChatSetup {
    thread_key: String,
    /// The single customer of a 1:1 chat, with its handle.
    chat_customer: Option<(String, String, HandleKind)>,
    /// Known authors containing ':', longest first (the only ones a prefix search can find).
    known_authors: Vec<String>,
    known_set: PlHashSet<String>,
    /// BLAKE3 state after the file's content hash and `:`; a record's id adds its position.
    id_prefix: blake3::Hasher,
}

impl ChatSetup {
    fn new(scan: &ChatScan, business: Option<&BusinessSide>, common: &CommonOptions) -> ChatSetup {
        let thread_key = scan.thread_key();
        let participants: Vec<&String> = scan
            .authors
            .keys()
            .filter(|a| business.is_none_or(|b| !b.names.contains(*a)))
            .collect();
        let chat_customer = match (business, participants.as_slice()) {
            (Some(_), [one]) => Some((*one).clone()),
            (Some(_), []) => scan.title.clone(),
            _ => None,
        }
        .map(|name| {
            let (handle, kind) = handle_of(&name, common);
            (name, handle, kind)
        });
        let mut known_authors: Vec<String> = scan.authors.keys().cloned().collect();
        if let Some(b) = business {
            known_authors.extend(b.names.iter().cloned());
        }
        known_authors.sort_by_key(|a| std::cmp::Reverse(a.len()));
        ChatSetup {
            thread_key,
            chat_customer,
            known_set: known_authors.iter().cloned().collect(),
            known_authors: known_authors.into_iter().filter(|k| k.contains(':')).collect(),
            id_prefix: pipeline::id_hasher(&scan.content_hash),
        }
    }
}

/// How many header times needed a correction to become an instant (said in notes).
#[derive(Debug, Default, Clone, Copy)]
struct TimeNotes {
    /// 12-hour times with hour 0 or 13+ (hand-edited files), read as 24-hour.
    odd_twelve_hour: u64,
    /// Times in the repeated hour of a DST change.
    repeated_hour: u64,
    /// Times in the skipped hour of a DST change.
    skipped_hour: u64,
}

impl TimeNotes {
    fn add(&mut self, other: TimeNotes) {
        self.odd_twelve_hour += other.odd_twelve_hour;
        self.repeated_hour += other.repeated_hour;
        self.skipped_hour += other.skipped_hour;
    }
}

/// The instant (ms since the epoch) of a header's local date and time in `tz`.
fn utc_millis(tz: chrono_tz::Tz, date: NaiveDate, h: &Header, notes: &mut TimeNotes) -> Result<i64, String> {
    let mut hour = h.hour;
    match h.meridiem {
        Some(header::Meridiem::Am) if hour == 12 => hour = 0,
        Some(header::Meridiem::Pm) if (1..12).contains(&hour) => hour += 12,
        Some(_) if hour == 0 || hour > 12 => notes.odd_twelve_hour += 1,
        _ => {}
    }
    if hour > 23 || h.minute > 59 || h.second > 59 {
        return Err(format!("impossible time {:02}:{:02}:{:02}", h.hour, h.minute, h.second));
    }
    let naive = date.and_hms_opt(hour, h.minute, h.second).ok_or("impossible time")?;
    let dt = match tz.from_local_datetime(&naive) {
        LocalResult::Single(d) => d,
        LocalResult::Ambiguous(a, _) => {
            notes.repeated_hour += 1;
            a
        }
        LocalResult::None => {
            notes.skipped_hour += 1;
            let shifted = naive + chrono::Duration::hours(1);
            tz.from_local_datetime(&shifted)
                .earliest()
                .ok_or("time does not exist in this time zone")?
        }
    };
    Ok(dt.timestamp_millis())
}

/// The instant (ms since the epoch) of a message with this header, or why it has none.
/// Both the records and the batch cuts of a parallel pass 2 take it from here.
fn message_ts(
    accepted: &[(Shape, Decision)],
    tz: chrono_tz::Tz,
    h: &Header,
    notes: &mut TimeNotes,
) -> Result<i64, String> {
    let order = accepted.iter().find(|(s, _)| *s == h.shape).map(|(_, d)| d.order());
    let Some(date) = order.and_then(|o| o.date(h.fields)) else {
        let order = order.map(|o| o.to_string()).unwrap_or_default();
        return Err(format!("impossible date for the file's {order} order"));
    };
    utc_millis(tz, date, h, notes)
}

/// The minute (since the epoch) a message with this header is stored at, if it has one.
fn message_minute(accepted: &[(Shape, Decision)], tz: chrono_tz::Tz, h: &Header) -> Option<i64> {
    let ms = message_ts(accepted, tz, h, &mut TimeNotes::default()).ok()?;
    Some(ms.div_euclid(60_000))
}

/// Distinct authors a chat's context remembers before it starts afresh. A WhatsApp group
/// has at most about a thousand members; a file with more authors was written by another
/// tool, and must not make memory grow with its size.
const MAX_CACHED_AUTHORS: usize = 16_384;

/// The state of one thread building a chat's records.
struct ChatContext<'a> {
    scan: &'a ChatScan,
    common: &'a CommonOptions,
    business: Option<&'a BusinessSide>,
    setup: &'a ChatSetup,
    /// Raw author texts seen in this chat (authors repeat on every line).
    authors: Vec<Author>,
    author_index: PlHashMap<String, usize>,
    last_author: usize,
    occurrence: Occurrence,
    notes: TimeNotes,
    /// Keys per header layout, kept only for files that switch layout (concatenated
    /// exports), where the overlap between the parts is a duplicate.
    segment_keys: Option<Vec<RecentKeys>>,
}

impl<'a> ChatContext<'a> {
    fn new(
        scan: &'a ChatScan,
        common: &'a CommonOptions,
        business: Option<&'a BusinessSide>,
        setup: &'a ChatSetup,
    ) -> ChatContext<'a> {
        ChatContext {
            scan,
            common,
            business,
            setup,
            authors: Vec::new(),
            author_index: PlHashMap::default(),
            last_author: 0,
            occurrence: (i64::MIN, PlHashMap::default()),
            notes: TimeNotes::default(),
            segment_keys: (scan.accepted.len() > 1).then(|| vec![RecentKeys::default(); scan.accepted.len()]),
        }
    }
}

/// The latest keys of one layout's segment of a file, in two generations of at most
/// [`SEGMENT_KEYS_GENERATION`]: when the newer fills, the older is dropped. Concatenated
/// exports repeat the end of one part at the start of the next — WhatsApp exports hold at
/// most ~40 000 messages — so the latest keys are the ones met again, and a file of
/// millions of messages in two layouts does not hold a key for each.
#[derive(Debug, Clone, Default)]
struct RecentKeys {
    newer: HashSet<u128>,
    older: HashSet<u128>,
}

const SEGMENT_KEYS_GENERATION: usize = 1 << 18;

impl RecentKeys {
    fn contains(&self, key: &u128) -> bool {
        self.newer.contains(key) || self.older.contains(key)
    }

    fn insert(&mut self, key: u128) {
        if self.newer.len() >= SEGMENT_KEYS_GENERATION {
            self.older = std::mem::take(&mut self.newer);
        }
        self.newer.insert(key);
    }
}

/// The customer handle of a name: E.164 for phone-number authors, else the name itself.
fn handle_of(name: &str, common: &CommonOptions) -> (String, HandleKind) {
    if phone::looks_like_phone(name) {
        if let Some(e) = phone::to_e164(name, common.region) {
            return (e, HandleKind::Phone);
        }
    }
    (name.to_string(), HandleKind::Name)
}

impl ChatContext<'_> {
    /// Index of the author entry for this raw author text, creating it on first sight.
    fn author(&mut self, raw: &str) -> usize {
        if let Some(a) = self.authors.get(self.last_author) {
            if a.raw == raw {
                return self.last_author;
            }
        }
        let i = match self.author_index.get(raw) {
            Some(&i) => i,
            None => {
                if self.authors.len() >= MAX_CACHED_AUTHORS {
                    self.authors.clear();
                    self.author_index.clear();
                }
                let clean = Some(text::clean_name(raw)).filter(|a| !a.is_empty());
                let is_business = clean
                    .as_ref()
                    .is_some_and(|c| self.business.is_some_and(|b| b.names.contains(c)));
                self.authors.push(Author {
                    raw: raw.to_string(),
                    clean,
                    handle: None,
                    is_business,
                });
                self.author_index.insert(raw.to_string(), self.authors.len() - 1);
                self.authors.len() - 1
            }
        };
        self.last_author = i;
        i
    }
}

/// Where the records of a chat go: the import's [`Sink`], or a worker's [`BatchOut`]
/// that is handed to the sink in file order.
trait MessageOut<'s> {
    fn source_id(&self) -> &'s str;
    fn is_duplicate(&mut self, key: u128) -> bool;
    fn push_row(&mut self, result: &mut SourceResult, row: &InteractionRow<'_>) -> Result<(), ImportError>;
    fn reject(&mut self, result: &mut SourceResult, reject: &Reject<'_>) -> Result<(), ImportError>;
}

impl<'s> MessageOut<'s> for Sink<'s> {
    fn source_id(&self) -> &'s str {
        self.source_id
    }

    fn is_duplicate(&mut self, key: u128) -> bool {
        Sink::is_duplicate(self, key)
    }

    fn push_row(&mut self, result: &mut SourceResult, row: &InteractionRow<'_>) -> Result<(), ImportError> {
        Sink::push_row(self, result, row)
    }

    fn reject(&mut self, result: &mut SourceResult, reject: &Reject<'_>) -> Result<(), ImportError> {
        Sink::reject(self, result, reject)
    }
}

/// A reject kept by a worker until its batch is stored.
struct KeptReject {
    line: Option<u64>,
    byte_offset: Option<u64>,
    reason: String,
    raw: String,
}

/// The records, rejects and new dedup keys of one batch built on a worker thread.
struct BatchOut<'a> {
    source_id: &'a str,
    /// Dedup keys of the workspace's other sources (read-only, shared by the workers).
    seen: &'a HashSet<u128>,
    /// This batch's keys, kept when later sources of the import need them.
    keys: Option<Vec<u128>>,
    rows: RowChunk,
    rejects: Vec<KeptReject>,
}

impl<'s> MessageOut<'s> for BatchOut<'s> {
    fn source_id(&self) -> &'s str {
        self.source_id
    }

    fn is_duplicate(&mut self, key: u128) -> bool {
        pipeline::is_duplicate_key(self.seen, self.keys.as_mut(), key)
    }

    fn push_row(&mut self, result: &mut SourceResult, row: &InteractionRow<'_>) -> Result<(), ImportError> {
        result.count_imported(row.ts);
        self.rows.push_row(row);
        Ok(())
    }

    fn reject(&mut self, result: &mut SourceResult, reject: &Reject<'_>) -> Result<(), ImportError> {
        result.counts.rejected += 1;
        self.rejects.push(KeptReject {
            line: reject.line,
            byte_offset: reject.byte_offset,
            reason: reject.reason.to_string(),
            raw: reject.raw.to_string(),
        });
        Ok(())
    }
}

/// What building one batch gave, besides its records.
#[derive(Default)]
struct BatchTally {
    result: SourceResult,
    notes: TimeNotes,
    orphan_lines: u64,
    /// Byte offset of the batch's last message (for progress).
    last_offset: u64,
}

impl BatchTally {
    /// Adds a later batch's tally to this one.
    fn add(&mut self, other: BatchTally) {
        let (a, b) = (&mut self.result, other.result);
        a.counts += b.counts;
        a.notes.extend(b.notes);
        a.first_ms = a.first_ms.into_iter().chain(b.first_ms).min();
        a.last_ms = a.last_ms.into_iter().chain(b.last_ms).max();
        self.notes.add(other.notes);
        self.orphan_lines += other.orphan_lines;
        self.last_offset = self.last_offset.max(other.last_offset);
    }
}

/// Turns a batch's messages into records and rejects.
fn build_batch<'s, O: MessageOut<'s>>(
    batch: &Batch,
    display: &str,
    ctx: &mut ChatContext<'_>,
    out: &mut O,
) -> Result<BatchTally, ImportError> {
    let mut tally = BatchTally::default();
    for p in &batch.items {
        tally.last_offset = p.offset;
        if p.header.is_none() {
            tally.orphan_lines += 1;
            tally.result.counts.read += 1;
            out.reject(
                &mut tally.result,
                &Reject {
                    file: display,
                    line: Some(p.line),
                    byte_offset: Some(p.offset),
                    reason: "text before the first message header",
                    raw: &batch.text[p.body.clone()],
                },
            )?;
            continue;
        }
        finish(p, &batch.text, display, ctx, out, &mut tally.result)?;
    }
    tally.notes = std::mem::take(&mut ctx.notes);
    Ok(tally)
}

/// Worker threads for building one chat's records: as asked, else the machine's cores
/// (at most 8).
fn workers(opts: &WhatsAppOptions) -> usize {
    opts.workers.unwrap_or_else(|| super::cores().min(8)).max(1)
}

/// Pass 2: reads the chat again and writes its interactions and rejects.
pub fn import(
    scan: &ChatScan,
    business: Option<&BusinessSide>,
    common: &CommonOptions,
    opts: &WhatsAppOptions,
    sink: &mut Sink<'_>,
) -> Result<SourceResult, ImportError> {
    let display = scan.input.display();
    if let Some(why) = scan.undecided() {
        return Err(ImportError::file(&display, why));
    }
    let setup = ChatSetup::new(scan, business, common);
    let input = scan.input.reader()?;
    let accepted = &scan.accepted;
    let display_ref = display.as_str();
    let mut tally = BatchTally::default();
    let mut last_progress = 0u64;
    let mut progress = |sink: &mut Sink<'_>, offset: u64| {
        (sink.progress)(offset.saturating_sub(last_progress));
        last_progress = last_progress.max(offset);
    };
    // A file with one header layout (all but concatenated exports, whose parts are
    // compared with each other) is built by several workers, batch by batch.
    let workers = workers(opts);
    let total_bytes = if scan.size > SMALL_CHAT && accepted.len() == 1 && workers > 1 {
        let chat = (scan, common, business, &setup);
        build_in_parallel(input, chat, workers, display_ref, sink, &mut |sink, t| {
            progress(sink, t.last_offset);
            tally.add(t);
        })?
    } else if scan.size <= SMALL_CHAT {
        // A small chat is read and built on this thread: starting a reader thread and
        // handing batches over would cost more than reading it.
        let mut batches = Vec::new();
        let total = read_items(input, accepted, display_ref, Cut::Anywhere, &mut |b| {
            batches.push(b);
            true
        })?;
        let mut ctx = ChatContext::new(scan, common, business, &setup);
        for batch in batches {
            tally.add(build_batch(&batch, display_ref, &mut ctx, sink)?);
        }
        total
    } else {
        // Reading and header recognition run on one thread, message building on this
        // one, Parquet encoding on a third.
        let (tx, rx) = sync_channel::<Batch>(4);
        let mut ctx = ChatContext::new(scan, common, business, &setup);
        std::thread::scope(|scope| -> Result<u64, ImportError> {
            let producer = scope
                .spawn(move || read_items(input, accepted, display_ref, Cut::Anywhere, &mut |b| tx.send(b).is_ok()));
            for batch in rx {
                let t = build_batch(&batch, display_ref, &mut ctx, sink)?;
                progress(sink, t.last_offset);
                tally.add(t);
            }
            producer
                .join()
                .map_err(|_| ImportError::Other(anyhow::anyhow!("reader thread panicked")))?
        })?
    };
    progress(sink, total_bytes);
    let BatchTally {
        mut result,
        notes,
        orphan_lines,
        ..
    } = tally;
    if orphan_lines > 0 {
        result.notes.push(format!(
            "{orphan_lines} line(s) before the first message header rejected"
        ));
    }
    if notes.odd_twelve_hour > 0 {
        result.notes.push(format!(
            "{} line(s) carry AM/PM with an hour of 0 or above 12 (e.g. `23:59 PM`): read as 24-hour times",
            notes.odd_twelve_hour
        ));
    }
    if notes.repeated_hour > 0 {
        result.notes.push(format!(
            "{} message(s) fall in the repeated hour of a DST change: the earlier instant was used",
            notes.repeated_hour
        ));
    }
    if notes.skipped_hour > 0 {
        result.notes.push(format!(
            "{} message(s) fall in the skipped hour of a DST change: moved forward one hour",
            notes.skipped_hour
        ));
    }
    if let Some(b) = business {
        if !scan.authors.keys().any(|a| b.names.contains(a)) {
            result.notes.push("the business side never writes in this chat".into());
        }
    }
    Ok(result)
}

/// A batch built by a worker: its tally, rows, rejects and (when wanted) new dedup keys.
type Built = (BatchTally, RowChunk, Vec<KeptReject>, Option<Vec<u128>>);

/// What every worker of one chat shares.
#[derive(Clone, Copy)]
struct Workshop<'a> {
    scan: &'a ChatScan,
    common: &'a CommonOptions,
    business: Option<&'a BusinessSide>,
    setup: &'a ChatSetup,
    display: &'a str,
    source_id: &'a str,
    seen: &'a HashSet<u128>,
    keep_keys: bool,
}

impl Workshop<'_> {
    /// A worker's loop: takes batches in file order until there are none, sends each one
    /// built (or its error) with its index.
    fn work(self, batches: &Mutex<Receiver<(usize, Batch)>>, done: &SyncSender<(usize, Result<Built, ImportError>)>) {
        let mut ctx = ChatContext::new(self.scan, self.common, self.business, self.setup);
        loop {
            let next = batches.lock().map_err(|_| ()).and_then(|rx| rx.recv().map_err(|_| ()));
            let Ok((index, mut batch)) = next else { break };
            // A batch starts where no earlier message shares its minute, or from the counting
            // its predecessor ends with, which that batch's worker hands on when done.
            ctx.occurrence = batch
                .carry_in
                .take()
                .and_then(|rx| rx.recv().ok())
                .unwrap_or_else(|| (i64::MIN, PlHashMap::default()));
            // A panic must reach the storing thread as an error: it waits for every batch in
            // turn, and would wait for this one for ever.
            let built = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| self.build(&batch, &mut ctx)))
                .unwrap_or_else(|_| Err(ImportError::Other(anyhow::anyhow!("a worker thread panicked"))));
            if let Some(next) = batch.carry_out.take() {
                let _ = next.send(std::mem::take(&mut ctx.occurrence));
            }
            if done.send((index, built)).is_err() {
                break;
            }
        }
    }

    fn build(&self, batch: &Batch, ctx: &mut ChatContext<'_>) -> Result<Built, ImportError> {
        let mut out = BatchOut {
            source_id: self.source_id,
            seen: self.seen,
            keys: self.keep_keys.then(Vec::new),
            rows: RowChunk::with_capacity(batch.items.len()),
            rejects: Vec::new(),
        };
        let tally = build_batch(batch, self.display, ctx, &mut out)?;
        Ok((tally, out.rows, out.rejects, out.keys))
    }
}

/// Stores built batches in file order as they arrive (rejects, dedup keys, rows), returning
/// a ticket for each; fails on the first batch that failed or never came back.
fn store_in_order(
    done: &Receiver<(usize, Result<Built, ImportError>)>,
    tickets: &SyncSender<()>,
    display: &str,
    sink: &mut Sink<'_>,
    stored: &mut dyn FnMut(&mut Sink<'_>, BatchTally),
) -> Result<(), ImportError> {
    let mut waiting: std::collections::BTreeMap<usize, Built> = Default::default();
    let mut next = 0;
    for (index, built) in done {
        waiting.insert(index, built?);
        while let Some((tally, rows, rejects, keys)) = waiting.remove(&next) {
            for r in &rejects {
                let reject = Reject {
                    file: display,
                    line: r.line,
                    byte_offset: r.byte_offset,
                    reason: &r.reason,
                    raw: &r.raw,
                };
                sink.rejects.write(&reject).map_err(ImportError::Other)?;
            }
            if let (Some(new_keys), Some(keys)) = (sink.new_keys.as_mut(), keys) {
                new_keys.extend(keys);
            }
            sink.batch.push_chunk(rows).map_err(ImportError::Other)?;
            stored(sink, tally);
            next += 1;
            // The reader may have finished; a ticket it no longer wants is fine.
            let _ = tickets.send(());
        }
    }
    match waiting.keys().next() {
        Some(index) => Err(ImportError::Other(anyhow::anyhow!(
            "batch {next} of the chat never came back (batch {index} did)"
        ))),
        None => Ok(()),
    }
}

/// Pass 2 on several cores: a reader thread splits the chat into batches (cut only where
/// each batch's duplicate counting starts afresh, see [`Cut::BetweenMinutes`]), workers
/// build them, and this thread stores them in file order. Returns the bytes read.
fn build_in_parallel(
    input: Box<dyn BufRead + Send>,
    (scan, common, business, setup): (&ChatScan, &CommonOptions, Option<&BusinessSide>, &ChatSetup),
    workers: usize,
    display: &str,
    sink: &mut Sink<'_>,
    stored: &mut dyn FnMut(&mut Sink<'_>, BatchTally),
) -> Result<u64, ImportError> {
    // Batches in flight (being read, built or waiting for their turn) hold a ticket each,
    // so memory stays bounded however uneven the workers are.
    let in_flight = workers + 2;
    let (ticket_tx, ticket_rx) = sync_channel::<()>(in_flight);
    for _ in 0..in_flight {
        ticket_tx.send(()).expect("room for every ticket");
    }
    let (batch_tx, batch_rx) = sync_channel::<(usize, Batch)>(workers);
    let batch_rx = Arc::new(Mutex::new(batch_rx));
    let (done_tx, done_rx) = sync_channel::<(usize, Result<Built, ImportError>)>(workers);
    let workshop = Workshop {
        scan,
        common,
        business,
        setup,
        display,
        source_id: sink.source_id,
        seen: sink.seen,
        keep_keys: sink.new_keys.is_some(),
    };
    let (accepted, tz) = (&scan.accepted, common.tz);
    std::thread::scope(|scope| -> Result<u64, ImportError> {
        let thread = || std::thread::Builder::new();
        let mut started = 0;
        for _ in 0..workers {
            let (batch_rx, done_tx) = (batch_rx.clone(), done_tx.clone());
            // A thread the system refuses is one worker fewer.
            let worker = thread().spawn_scoped(scope, move || workshop.work(&batch_rx, &done_tx));
            started += usize::from(worker.is_ok());
        }
        let reader = (started > 0)
            .then(|| {
                thread().spawn_scoped(scope, move || {
                    let mut index = 0;
                    read_items(input, accepted, display, Cut::BetweenMinutes(tz), &mut |batch| {
                        let sent = ticket_rx.recv().is_ok() && batch_tx.send((index, batch)).is_ok();
                        index += 1;
                        sent
                    })
                })
            })
            .and_then(Result::ok)
            .ok_or_else(|| ImportError::Other(anyhow::anyhow!("cannot start the threads that read the chat")));
        // The workers and the reader stop when the receiving ends they hold are all gone.
        drop((batch_rx, done_tx));
        let reader = reader?;
        let stored_all = store_in_order(&done_rx, &ticket_tx, display, sink, stored);
        drop((done_rx, ticket_tx));
        let read = reader
            .join()
            .map_err(|_| ImportError::Other(anyhow::anyhow!("reader thread panicked")))?;
        stored_all?;
        read
    })
}

/// Where [`read_items`] may end a batch.
#[derive(Clone, Copy)]
enum Cut {
    /// After [`BATCH`] messages, anywhere.
    Anywhere,
    /// After [`PARALLEL_BATCH`] messages, and only where the valid messages on either side
    /// fall in different minutes (in this zone): a message's dedup key counts the same
    /// messages before it in its minute, so a batch built alone must not start inside a
    /// minute (rejected messages take no part in the counting). After [`HARD_BATCH`]
    /// messages without such a place, the cut is made anyway and the counting is handed on.
    BetweenMinutes(chrono_tz::Tz),
}

/// Messages per batch when one thread builds them.
const BATCH: usize = 4096;
/// Messages per batch when workers build them (each batch is a row group).
const PARALLEL_BATCH: usize = 8192;
/// Messages after which a batch is cut even inside a minute (see [`Batch::carry_in`]).
const HARD_BATCH: usize = 4 * PARALLEL_BATCH;
/// Text after which a batch is cut as if it were full (four times that even inside a
/// minute): 4 096 messages are ~350 KB, but as many messages of 500 KB would be 2 GB.
const BATCH_TEXT: usize = 8 << 20;

/// The minute of a message that takes part in the dedup counting (a valid one).
fn valid_minute(p: &Pending, accepted: &[(Shape, Decision)], tz: chrono_tz::Tz) -> Option<i64> {
    let h = p.header.as_ref().filter(|_| p.bad.is_none())?;
    message_minute(accepted, tz, h)
}

/// Where a full batch looks for its end: the minute of the last valid message before its
/// last (complete) message, updated as messages arrive.
struct CutSearch {
    last_valid: Option<i64>,
}

impl CutSearch {
    /// True when the batch may end before its last message: that message is valid and its
    /// minute differs from the last valid message's before it (rejected messages between
    /// them take no part in the counting). Called each time a message has been completed.
    fn may_cut(&mut self, batch: &Batch, accepted: &[(Shape, Decision)], tz: chrono_tz::Tz) -> bool {
        let [.., before, last] = batch.items.as_slice() else {
            return false;
        };
        if self.last_valid.is_none() {
            self.last_valid = valid_minute(before, accepted, tz);
        }
        let Some(minute) = valid_minute(last, accepted, tz) else {
            return false;
        };
        let cut = self.last_valid.is_some_and(|m| m != minute);
        self.last_valid = Some(minute);
        cut
    }
}

/// Moves the last message of `batch` into a new batch.
fn split_off_last(batch: &mut Batch, capacity: usize) -> Batch {
    let mut last = batch.items.pop().expect("a batch to split has messages");
    // A message's text is the end of the buffer, from its first line's view on.
    let start = last.view.start.min(last.body.start);
    let mut next = Batch::with_capacity(capacity);
    next.text.push_str(&batch.text[start..]);
    batch.text.truncate(start);
    last.view = last.view.start - start..last.view.end - start;
    last.body = last.body.start - start..last.body.end - start;
    last.first_end -= start;
    next.items.push(last);
    next
}

/// Splits a chat into messages: a header of an accepted layout starts one, other lines
/// continue it. Sends them in batches cut as `cut` allows; returns the bytes read.
fn read_items(
    input: Box<dyn BufRead + Send>,
    accepted: &[(Shape, Decision)],
    display: &str,
    cut: Cut,
    send: &mut dyn FnMut(Batch) -> bool,
) -> Result<u64, ImportError> {
    let capacity = match cut {
        Cut::Anywhere => BATCH,
        Cut::BetweenMinutes(_) => PARALLEL_BATCH,
    };
    let mut reader = LineReader::new(input, false);
    let mut batch = Batch::with_capacity(capacity);
    let mut seq = 0u64;
    let mut search = CutSearch { last_valid: None };
    // Index in `batch.items` of the message that continuation lines extend.
    let mut open = false;
    while let Some(line) = reader
        .next_line()
        .map_err(|e| ImportError::file(display, format!("read error: {e}")))?
    {
        if line.number % 65_536 == 0 {
            check_interrupt()?;
        }
        let (raw, bad) = match std::str::from_utf8(line.bytes) {
            Ok(s) => (std::borrow::Cow::Borrowed(s), None),
            Err(e) => (
                String::from_utf8_lossy(line.bytes),
                Some(format!(
                    "invalid UTF-8 at line {} byte offset {}",
                    line.number,
                    line.offset + e.valid_up_to() as u64
                )),
            ),
        };
        let bad = bad.or_else(|| {
            line.too_long
                .then(|| format!("line {} is longer than 1 MiB", line.number))
        });
        let view = text::matching_view(&raw);
        let header = header::parse(&view).filter(|h| accepted.iter().any(|(s, _)| *s == h.shape));
        match header {
            Some(h) => {
                // A full batch is sent before a new message starts, never in the middle of one.
                let full = match cut {
                    Cut::Anywhere if batch.items.len() >= BATCH || batch.text.len() >= BATCH_TEXT => {
                        Some(std::mem::replace(&mut batch, Batch::with_capacity(BATCH)))
                    }
                    Cut::BetweenMinutes(tz)
                        if (batch.items.len() > PARALLEL_BATCH || batch.text.len() >= BATCH_TEXT)
                            && search.may_cut(&batch, accepted, tz) =>
                    {
                        let next = split_off_last(&mut batch, capacity);
                        search.last_valid = None;
                        Some(std::mem::replace(&mut batch, next))
                    }
                    Cut::BetweenMinutes(_) if batch.items.len() >= HARD_BATCH || batch.text.len() >= 4 * BATCH_TEXT => {
                        // No minute change in sight: cut anyway, and have the next batch wait
                        // for this one's counting (memory stays bounded; these two batches
                        // are built one after the other).
                        let mut next = split_off_last(&mut batch, capacity);
                        let (carry_out, carry_in) = sync_channel(1);
                        (batch.carry_out, next.carry_in) = (Some(carry_out), Some(carry_in));
                        search.last_valid = None;
                        Some(std::mem::replace(&mut batch, next))
                    }
                    _ => None,
                };
                if let Some(full) = full {
                    if !send(full) {
                        return Ok(reader.bytes_read());
                    }
                }
                seq += 1;
                let start = batch.text.len();
                batch.text.push_str(&view);
                let view_range = start..batch.text.len();
                let body = match &view {
                    // The view is the raw line: the body is its tail.
                    std::borrow::Cow::Borrowed(_) => start + h.body_start..batch.text.len(),
                    std::borrow::Cow::Owned(_) => {
                        let tail = &raw[raw_index(&raw, h.body_start)..];
                        let body_start = batch.text.len();
                        batch.text.push_str(tail);
                        body_start..batch.text.len()
                    }
                };
                batch.items.push(Pending {
                    seq,
                    header: Some(h),
                    view: view_range,
                    first_end: body.end,
                    body,
                    line: line.number,
                    offset: line.offset,
                    bad,
                });
                open = true;
            }
            None if open => {
                let p = batch.items.last_mut().expect("an open message");
                if p.bad.is_none() {
                    p.bad = bad;
                }
                if p.body.len() + 1 + raw.len() > MAX_LINE {
                    // WhatsApp allows 65 536 characters in a message (at most 256 KiB): the
                    // rest of one this long is not kept, so that a file of one header and a
                    // million lines is not held, and the message becomes a reject.
                    if p.bad.is_none() {
                        p.bad = Some(format!(
                            "message longer than 1 MiB (line {} on): WhatsApp allows 65 536 characters in one",
                            line.number
                        ));
                    }
                    continue;
                }
                batch.text.push('\n');
                batch.text.push_str(&raw);
                p.body.end = batch.text.len();
            }
            None if view.trim().is_empty() => {}
            None => {
                let start = batch.text.len();
                batch.text.push_str(&raw);
                batch.items.push(Pending {
                    seq: 0,
                    header: None,
                    view: start..start,
                    body: start..batch.text.len(),
                    first_end: batch.text.len(),
                    line: line.number,
                    offset: line.offset,
                    bad: None,
                });
            }
        }
    }
    send(batch);
    Ok(reader.bytes_read())
}

/// Distinct messages of one minute counted for their keys (a message repeated in the same
/// minute gets the next key) before the count starts afresh. A real chat has a few hundred
/// messages in a minute at most; a file of millions in one minute must not hold them all.
/// Past the cap, a message repeated more than this many messages after its twin in the same
/// minute gets its twin's key.
const MAX_COUNTED_IN_A_MINUTE: usize = 1 << 16;

/// `line:N` into `out`, without the formatting machinery (it is written for every message).
fn line_ref(line: u64, out: &mut [u8; 25]) -> &str {
    let mut at = out.len();
    let mut n = line;
    loop {
        at -= 1;
        out[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    at -= 5;
    out[at..at + 5].copy_from_slice(b"line:");
    std::str::from_utf8(&out[at..]).expect("ASCII")
}

fn reject<'s, O: MessageOut<'s>>(
    p: &Pending,
    text: &str,
    reason: &str,
    display: &str,
    sink: &mut O,
    result: &mut SourceResult,
) -> Result<(), ImportError> {
    // The first line's matching view, then the continuation lines as read.
    let mut raw = text[p.view.clone()].to_string();
    raw.push_str(&text[p.first_end..p.body.end]);
    sink.reject(
        result,
        &Reject {
            file: display,
            line: Some(p.line),
            byte_offset: Some(p.offset),
            reason,
            raw: &raw,
        },
    )
}

fn finish<'s, O: MessageOut<'s>>(
    p: &Pending,
    text: &str,
    display: &str,
    ctx: &mut ChatContext<'_>,
    sink: &mut O,
    result: &mut SourceResult,
) -> Result<(), ImportError> {
    result.counts.read += 1;
    if let Some(bad) = &p.bad {
        return reject(p, text, bad, display, sink, result);
    }
    let h = p.header.as_ref().expect("a message has a header");
    let ts = match message_ts(&ctx.scan.accepted, ctx.common.tz, h, &mut ctx.notes) {
        Ok(ts) => ts,
        Err(e) => return reject(p, text, &e, display, sink, result),
    };
    let view_first = &text[p.view.clone()];
    let ts_raw = &view_first[usize::from(h.shape.bracketed)..h.ts_end];
    // Author and text: split at ": ", preferring the longest known author.
    let body_view = &view_first[h.body_start..];
    let mut author: Option<&str> = None;
    let mut text_view_start = body_view.len();
    // Only authors that themselves contain ':' can be longer than the first-colon split,
    // so only those are tried by prefix; the rest is a set lookup.
    let first_split = body_view.find(':').map(|p| &body_view[..p]);
    if let Some(a) = first_split.filter(|a| ctx.setup.known_set.contains(*a)) {
        author = Some(a);
        text_view_start = a.len() + 1;
    }
    for known in &ctx.setup.known_authors {
        if let Some(rest) = body_view.strip_prefix(known.as_str()) {
            // `Name:.` (a view-once message) and `Name:text` (CJK exports) follow a known author.
            if rest.starts_with(':') {
                author = Some(&body_view[..known.len()]);
                text_view_start = known.len() + 1;
                break;
            }
        }
    }
    if author.is_none() {
        if let Some(a) = author_candidate(body_view) {
            author = Some(a);
            text_view_start = a.len() + 1;
        } else {
            text_view_start = 0;
        }
    }
    let raw_first = &text[p.body.start..p.first_end];
    // Map the view offset (relative to body) into the raw body.
    let text_raw_start = if p.view.end == p.first_end {
        text_view_start.min(raw_first.len())
    } else {
        raw_index(raw_first, text_view_start)
    };
    let mut text_first = &raw_first[text_raw_start..];
    if author.is_some() {
        text_first = text_first.strip_prefix(' ').unwrap_or(text_first);
    }
    let author_id = author.map(|a| ctx.author(a));
    let author_entry = author_id.map(|i| &ctx.authors[i]).filter(|a| a.clean.is_some());
    let author_clean = author_entry.and_then(|a| a.clean.as_deref());
    let strong = author_clean.is_none()
        || text_first.starts_with('\u{200E}')
        || author_clean.is_some_and(|a| ctx.scan.title.as_deref() == Some(a) && ctx.scan.authors.len() > 2);
    // The text is the first line's tail and the continuation lines; an Android line
    // without an author is a system line, and its whole body is the text.
    let body_text = if author_clean.is_none() {
        let skip = raw_first.len() - raw_first.trim_start().len();
        &text[p.body.start + skip..p.body.end]
    } else {
        let start = p.first_end - text_first.len();
        &text[start..p.body.end]
    };
    // One search tells most messages apart from every special case (the first line's
    // text is a prefix of the body).
    let phrase_free = author_clean.is_some() && classify::phrase_free(body_text);
    let is_system =
        author_clean.is_none() || classify::is_system_text_of(text_first, author_clean, strong, phrase_free);
    // Dedup key: the same message seen in an overlapping export of the same chat.
    // Minute precision because Android exports have no seconds; invisible marks ignored.
    let minute = ts.div_euclid(60_000);
    let mut hasher = blake3::Hasher::new();
    hasher.update(ctx.setup.thread_key.as_bytes());
    hasher.update(&[0]);
    hasher.update(&minute.to_le_bytes());
    hasher.update(author_clean.unwrap_or("").as_bytes());
    hasher.update(&[0]);
    let trimmed = body_text.trim();
    if !trimmed.is_ascii() && trimmed.chars().any(text::is_invisible) {
        let visible: String = trimmed.chars().filter(|c| !text::is_invisible(*c)).collect();
        hasher.update(visible.trim().as_bytes());
    } else {
        hasher.update(trimmed.as_bytes());
    }
    let base = u128::from_le_bytes(hasher.finalize().as_bytes()[..16].try_into().unwrap());
    let counted = &mut ctx.occurrence.1;
    if ctx.occurrence.0 != minute || (counted.len() >= MAX_COUNTED_IN_A_MINUTE && !counted.contains_key(&base)) {
        ctx.occurrence.0 = minute;
        counted.clear();
    }
    let occ = counted.entry(base).or_insert(0);
    *occ += 1;
    let key = base ^ u128::from(*occ - 1).wrapping_mul(0x9E37_79B9_7F4A_7C15_F39C_C060_5CED_C835);
    // A layout switch inside one file repeats messages: a key met in another layout's
    // segment of this file is a duplicate too.
    let mut duplicate = false;
    if let Some(segments) = ctx.segment_keys.as_mut() {
        let own = ctx.scan.accepted.iter().position(|(s, _)| *s == h.shape).unwrap_or(0);
        duplicate = segments
            .iter()
            .enumerate()
            .any(|(i, keys)| i != own && keys.contains(&key));
        segments[own].insert(key);
    }
    if duplicate || sink.is_duplicate(key) {
        result.counts.duplicates += 1;
        return Ok(());
    }
    let body = if is_system {
        classify::Body {
            kind: Kind::System,
            text: Some(std::borrow::Cow::Borrowed(body_text)),
            attachments: vec![],
            edited: false,
            call_status: None,
            duration_s: None,
        }
    } else {
        classify::classify_of(body_text, phrase_free)
    };
    let is_business = author_entry.is_some_and(|a| a.is_business);
    let direction = if is_system {
        Direction::System
    } else {
        match (ctx.business, author_clean) {
            (Some(_), Some(_)) if is_business => Direction::Outbound,
            (Some(_), Some(_)) => Direction::Inbound,
            _ => Direction::Unknown,
        }
    };
    // The customer is the chat's single customer, else the author; its handle is worked
    // out once per name.
    let use_author = match direction {
        Direction::System => false,
        Direction::Outbound => false,
        Direction::Inbound => ctx.setup.chat_customer.is_none(),
        _ => true,
    };
    let use_chat = matches!(direction, Direction::Outbound | Direction::Inbound) && ctx.setup.chat_customer.is_some();
    if use_author {
        if let Some(i) = author_id.filter(|_| author_clean.is_some()) {
            if ctx.authors[i].handle.is_none() {
                let h = handle_of(ctx.authors[i].clean.as_deref().unwrap_or(""), ctx.common);
                ctx.authors[i].handle = Some(h);
            }
        }
    }
    let author_entry = author_id.map(|i| &ctx.authors[i]).filter(|a| a.clean.is_some());
    let author_clean = author_entry.and_then(|a| a.clean.as_deref());
    let (customer_handle, customer_handle_kind, customer_name) = if use_chat {
        let (name, handle, kind) = ctx.setup.chat_customer.as_ref().expect("checked");
        (Some(handle.as_str()), Some(*kind), Some(name.as_str()))
    } else if use_author && author_entry.is_some() {
        let a = author_entry.expect("checked");
        let (handle, kind) = a.handle.as_ref().expect("computed above");
        (Some(handle.as_str()), Some(*kind), a.clean.as_deref())
    } else {
        (None, None, None)
    };
    let agent = if direction == Direction::Outbound {
        author_clean
    } else {
        None
    };
    let mentions = match (&body.text, body.kind) {
        (Some(t), Kind::Message | Kind::Media) => mentions::extract(t, ctx.common.region),
        _ => Vec::new(),
    };
    let mut id_buf = [0u8; 32];
    let interaction_id = pipeline::interaction_id_into(ctx.setup.id_prefix.clone(), p.seq, &mut id_buf);
    let mut key_buf = [0u8; 32];
    let dedup_key = pipeline::hex_into(&key.to_be_bytes(), &mut key_buf);
    let mut ref_buf = [0u8; 25];
    let source_ref = line_ref(p.line, &mut ref_buf);
    let row = InteractionRow {
        interaction_id,
        source_id: sink.source_id(),
        source_file: display,
        source_ref,
        channel: Channel::Whatsapp,
        direction,
        ts,
        ts_raw,
        thread_key: &ctx.setup.thread_key,
        customer_handle,
        customer_handle_kind,
        customer_name,
        agent,
        text: body.text.as_deref(),
        body_full: None,
        subject: None,
        attachments: &body.attachments,
        duration_s: body.duration_s,
        status: body.call_status,
        mentions: &mentions,
        kind: body.kind,
        seq: p.seq,
        author_raw: author_clean,
        thread_title: ctx.scan.title.as_deref(),
        edited: body.edited,
        dedup_key,
    };
    sink.push_row(result, &row)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_export_cap_note_tells_near_from_far_past() {
        assert_eq!(export_cap_note(38_999), None);
        for near in [39_000, 40_000, 41_000] {
            assert!(export_cap_note(near).unwrap().starts_with(NEAR_WHATSAPP_EXPORT_CAP));
        }
        let far = export_cap_note(2_417_276).unwrap();
        assert!(!far.starts_with(NEAR_WHATSAPP_EXPORT_CAP), "{far}");
        assert!(far.starts_with("2417276 messages, more than"), "{far}");
    }

    #[test]
    fn a_segment_keeps_at_least_its_latest_generation_of_keys() {
        let mut keys = RecentKeys::default();
        let n = SEGMENT_KEYS_GENERATION as u128;
        for k in 0..3 * n + 5 {
            keys.insert(k);
        }
        assert!((2 * n..3 * n + 5).all(|k| keys.contains(&k)));
        assert!(!keys.contains(&0) && !keys.contains(&(n - 1)));
        assert!(keys.newer.len() + keys.older.len() <= 2 * SEGMENT_KEYS_GENERATION);
    }

    #[test]
    fn line_refs_are_written_like_format() {
        for n in [0, 7, 10, 1234, 99_999_999, u64::MAX] {
            assert_eq!(line_ref(n, &mut [0; 25]), format!("line:{n}"));
        }
    }
}
