//! Mailboxes: mbox (mboxo/mboxrd, Gmail Takeout, Thunderbird), MMDF, Maildir folders and
//! single messages (.eml), parsed with `mailparse` into one [`Interaction`] per message.
//!
//! Threads: a reader cuts the source into messages and hands them out in numbered batches;
//! a pool of workers (one per core) does everything that does not depend on earlier
//! messages (MIME parsing, dates, sides, reply/signature split, mentions, dedup key, the
//! record itself); the calling thread takes the batches back in file order and does what
//! does (sequence numbers, duplicates, threads, interaction ids) before the batch writer's
//! thread encodes Parquet. Batches in flight are bounded, so memory stays flat.

pub mod body;
pub mod dates;
pub mod maildir;
pub mod mbox;
pub mod message;
pub mod sides;
pub mod thread;

use super::pipeline::{
    already_imported, dedup_key, existing_keys, hash_file_into, id_hasher, interaction_id_from, stage_source, Progress,
    Sink, SourcePlan, SourceResult,
};
use super::{check_interrupt, expand_paths, CommonOptions, ImportError, ImportReport, SourceOutcome, SourceOutcomes};
use crate::model::{Channel, Direction, HandleKind, Interaction, Kind};
use crate::normalize::mentions;
use crate::workspace::{Reject, Workspace};
use mbox::{MboxReader, MmdfReader, RawMessage};
use message::ParseFailure;
use sides::{BusinessSide, SideSample};
use std::collections::HashSet;
use std::fs::File;
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};
use thread::{ThreadInput, Threader};

/// Options of `import email`.
#[derive(Debug, Clone, Default)]
pub struct EmailOptions {
    /// `--business-domain` (repeatable).
    pub business_domains: Vec<String>,
    /// `--business-address` (repeatable).
    pub business_addresses: Vec<String>,
    /// `--mboxo`: keep `>From ` lines as written instead of undoing mboxrd quoting.
    pub mboxo: bool,
}

/// True when the start of a file looks like a mailbox or a single message.
pub fn sniff(head: &[u8]) -> bool {
    mbox::sniff_mbox(head) || mbox::sniff_mmdf(head) || looks_like_message(head)
}

/// A single RFC 5322 message: the first lines are `Name: value` headers (or continuations),
/// and at least one of them is a mail header.
fn looks_like_message(head: &[u8]) -> bool {
    let head = head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(head);
    if head.contains(&0) && !head[..head.len().min(512)].is_ascii() {
        return false;
    }
    let text = String::from_utf8_lossy(&head[..head.len().min(16 * 1024)]);
    let mut mail_headers = 0;
    let mut lines = text.lines().skip_while(|l| l.trim().is_empty()).peekable();
    // A bare envelope line (`From mike@nowhere.com`) may precede the headers.
    if lines.peek().is_some_and(|l| l.starts_with("From ")) {
        lines.next();
    }
    for (i, line) in lines.enumerate().take(60) {
        let line = line.trim_end_matches('\r');
        if line.is_empty() {
            break;
        }
        if i > 0 && line.starts_with([' ', '\t']) {
            continue;
        }
        let name = line.split_once(':').map(|(n, _)| n.trim_end());
        let Some(name) =
            name.filter(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'))
        else {
            // A body line right after the headers (no blank line between) ends the block.
            if mail_headers > 0 {
                break;
            }
            return false;
        };
        if message::MAIL_HEADERS.contains(&name.to_ascii_lowercase().as_str()) {
            mail_headers += 1;
        }
    }
    mail_headers > 0
}

/// The container of one source.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Container {
    Mbox,
    Mmdf,
    Message,
    Maildir,
}

impl Container {
    fn name(self) -> &'static str {
        match self {
            Container::Mbox => "mbox",
            Container::Mmdf => "mmdf",
            Container::Message => "eml",
            Container::Maildir => "maildir",
        }
    }
}

fn classify(path: &Path) -> Result<Container, String> {
    if path.is_dir() {
        return if super::is_maildir(path) || path.join("cur").is_dir() || path.join("new").is_dir() {
            Ok(Container::Maildir)
        } else {
            Err("a folder without cur/ or new/: not a Maildir".into())
        };
    }
    crate::import::pipeline::ensure_regular_file(path).map_err(|e| e.to_string())?;
    let mut head = vec![0u8; 64 * 1024];
    let n = File::open(path)
        .and_then(|mut f| f.read(&mut head))
        .map_err(|e| format!("cannot read: {e}"))?;
    head.truncate(n);
    if head.starts_with(&[0xD0, 0xCF, 0x11, 0xE0]) {
        return Err("an Outlook .msg/.pst (OLE2) file: export the mailbox as mbox or .eml first".into());
    }
    if mbox::sniff_mbox(&head) {
        Ok(Container::Mbox)
    } else if mbox::sniff_mmdf(&head) {
        Ok(Container::Mmdf)
    } else if looks_like_message(&head) {
        Ok(Container::Message)
    } else {
        Err("not a mailbox: expected an mbox (first line `From <sender> <date>`), an MMDF file, a Maildir folder or an .eml message starting with mail headers".into())
    }
}

/// One mailbox to import.
struct MailSource {
    path: PathBuf,
    display: String,
    container: Container,
    size: u64,
    content_hash: String,
}

impl MailSource {
    fn open(path: &Path) -> Result<MailSource, String> {
        let container = classify(path)?;
        let display = path.display().to_string();
        let mut hasher = blake3::Hasher::new();
        let mut size = 0u64;
        if container == Container::Maildir {
            for f in maildir::message_files(path) {
                hasher.update(f.strip_prefix(path).unwrap_or(&f).to_string_lossy().as_bytes());
                hasher.update(b"\0");
                size += hash_file_into(&mut hasher, &f).map_err(|e| format!("{}: {e}", f.display()))?;
            }
        } else {
            size = hash_file_into(&mut hasher, path).map_err(|e| format!("cannot read: {e}"))?;
        }
        Ok(MailSource {
            path: path.to_path_buf(),
            display,
            container,
            size,
            content_hash: hasher.finalize().to_hex().to_string(),
        })
    }

    fn reader(&self, unquote: bool) -> std::io::Result<MessageReader> {
        Ok(match self.container {
            Container::Mbox => MessageReader::Mbox(Box::new(MboxReader::new(File::open(&self.path)?, unquote))),
            Container::Mmdf => MessageReader::Mmdf(MmdfReader::new(BufReader::new(File::open(&self.path)?))),
            Container::Message => MessageReader::Files {
                root: None,
                files: vec![self.path.clone()],
                next: 0,
                bytes: 0,
            },
            Container::Maildir => MessageReader::Files {
                root: Some(self.path.clone()),
                files: maildir::message_files(&self.path),
                next: 0,
                bytes: 0,
            },
        })
    }
}

/// Messages of a source, one at a time.
enum MessageReader {
    Mbox(Box<MboxReader<File>>),
    Mmdf(MmdfReader<BufReader<File>>),
    Files {
        root: Option<PathBuf>,
        files: Vec<PathBuf>,
        next: usize,
        bytes: u64,
    },
}

impl MessageReader {
    fn next(&mut self) -> std::io::Result<Option<RawMessage>> {
        match self {
            MessageReader::Mbox(r) => r.next_message(),
            MessageReader::Mmdf(r) => r.next_message(),
            MessageReader::Files {
                root,
                files,
                next,
                bytes,
            } => {
                let Some(f) = files.get(*next) else { return Ok(None) };
                *next += 1;
                let m = maildir::read_message(root.as_deref(), f)?;
                *bytes += m.bytes.len() as u64 + m.cut_bytes;
                Ok(Some(m))
            }
        }
    }

    fn offset(&self) -> u64 {
        match self {
            MessageReader::Mbox(r) => r.offset(),
            MessageReader::Mmdf(r) => r.offset(),
            MessageReader::Files { bytes, .. } => *bytes,
        }
    }

    /// Prose before the first From_ line of an mbox: rejected, never silently dropped.
    fn preamble(&self) -> Option<(u64, String)> {
        match self {
            MessageReader::Mbox(r) if r.preamble.iter().any(|b| !b.is_ascii_whitespace()) => {
                Some((r.preamble_line, String::from_utf8_lossy(&r.preamble).into_owned()))
            }
            _ => None,
        }
    }
}

/// How many messages per source the business-side inference looks at.
const SAMPLE_PER_SOURCE: usize = 500;
const SAMPLE_TOTAL: usize = 5000;

/// `omnitrail import email PATH…`
pub fn import_email(
    ws: &mut Workspace,
    paths: &[PathBuf],
    opts: &EmailOptions,
    common: &CommonOptions,
    progress: &dyn Progress,
) -> Result<ImportReport, ImportError> {
    crate::normalize::phone::load_metadata_in_background();
    let mut outcomes = SourceOutcomes::spilling_to(ws.root().join(".tmp"));
    let mut sources: Vec<MailSource> = Vec::new();
    let mut hashes_this_run: HashSet<String> = HashSet::new();
    for found in expand_paths(paths) {
        let Some((path, explicit)) = outcomes.file_of(found)? else {
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
        if path.is_file() && path.metadata().map(|m| m.len() == 0).unwrap_or(false) {
            outcomes.push(SourceOutcome::skipped(
                &display,
                format!("{display}: empty file: nothing to import"),
            ))?;
            continue;
        }
        match MailSource::open(&path) {
            Ok(src) => match already_imported(ws, &src.content_hash, &src.display, &mut hashes_this_run)? {
                Some(o) => outcomes.push(o)?,
                None => sources.push(src),
            },
            Err(e) => {
                check_interrupt()?;
                let why = format!("{display}: {e}");
                outcomes.push(if explicit {
                    SourceOutcome::failed(&display, why)
                } else {
                    SourceOutcome::skipped(&display, why)
                })?;
            }
        }
    }
    let unquote = !opts.mboxo;
    let business = decide_business(&sources, opts, unquote)?;
    let mut notes = vec![format!(
        "time zone {} ({}): used only for mbox From_ line dates, which carry no zone",
        common.tz.name(),
        common.tz_origin
    )];
    match &business {
        Some(b) => notes.push(format!("business side {}", describe(b))),
        None if !sources.is_empty() => notes.push(
            "business side unknown: no address takes part in most messages; directions are `unknown` and no customer is set; pass --business-domain DOMAIN or --business-address ADDRESS".into(),
        ),
        None => {}
    }
    let mut seen = existing_keys(ws, "email", None).map_err(ImportError::Other)?;
    progress.start(sources.iter().map(|s| s.size).sum());
    let mut threader = Threader::default();
    let mut txn = ws.begin();
    let total = sources.len();
    for (i, src) in sources.iter().enumerate() {
        check_interrupt()?;
        let options = serde_json::json!({
            "tz": common.tz.name(),
            "region": common.region_code,
            "business_domains": business.as_ref().map(|b| b.domains.clone()),
            "business_addresses": business.as_ref().map(|b| b.addresses.clone()),
            "business_side": business.as_ref().map(|b| b.how.clone()),
            "mboxrd_unquoting": src.container == Container::Mbox && unquote,
        });
        let plan = SourcePlan {
            id_prefix: "em",
            display: src.display.clone(),
            size: src.size,
            content_hash: src.content_hash.clone(),
            format: src.container.name().into(),
            channel: "email".into(),
            options,
            notes: Vec::new(),
        };
        let outcome = stage_source(&mut txn, &mut seen, i + 1 < total, plan, progress, |sink| {
            import_source(src, business.as_ref(), unquote, common, &mut threader, sink)
        })?;
        outcomes.push(outcome)?;
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

fn describe(b: &BusinessSide) -> String {
    let mut parts: Vec<String> = b.domains.iter().map(|d| format!("@{d}")).collect();
    parts.extend(b.addresses.iter().cloned());
    format!("{} ({})", parts.join(", "), b.how)
}

/// The configured business side, or one inferred from a sample of the messages.
fn decide_business(
    sources: &[MailSource],
    opts: &EmailOptions,
    unquote: bool,
) -> Result<Option<BusinessSide>, ImportError> {
    if !opts.business_domains.is_empty() || !opts.business_addresses.is_empty() {
        let norm = |v: &[String]| -> Vec<String> {
            v.iter()
                .map(|s| s.trim().trim_start_matches('@').to_lowercase())
                .filter(|s| !s.is_empty())
                .collect()
        };
        let how = match (opts.business_domains.is_empty(), opts.business_addresses.is_empty()) {
            (false, false) => "--business-domain, --business-address",
            (false, true) => "--business-domain",
            _ => "--business-address",
        };
        return Ok(Some(BusinessSide {
            domains: norm(&opts.business_domains),
            addresses: norm(&opts.business_addresses),
            how: how.into(),
        }));
    }
    let mut sample = SideSample::default();
    let mut taken = 0;
    for src in sources {
        let Ok(mut reader) = src.reader(unquote) else { continue };
        let mut n = 0;
        while n < SAMPLE_PER_SOURCE && taken < SAMPLE_TOTAL {
            check_interrupt()?;
            let Ok(Some(raw)) = reader.next() else { break };
            if let Ok(m) = message::parse(&raw.bytes) {
                if m.automated.is_none() {
                    sample.add(&m);
                }
            }
            n += 1;
            taken += 1;
        }
    }
    Ok(sample.infer())
}

/// Per-source tallies that become notes. Workers keep their own and they are summed.
#[derive(Default)]
struct Tally {
    /// Messages longer than `MAX_MESSAGE_BYTES`, read up to it.
    cut_long: u64,
    date_from_received: u64,
    date_from_envelope: u64,
    date_from_maildir: u64,
    broken_dates: u64,
    repaired_headers: u64,
    duplicate_headers: u64,
    html_only: u64,
    plus_addressed: u64,
    no_message_id: u64,
    internal_pseudo: u64,
    drafts: u64,
    trashed: u64,
    unknown_direction: u64,
    before_1990: u64,
}

impl Tally {
    fn add(&mut self, o: &Tally) {
        self.cut_long += o.cut_long;
        self.date_from_received += o.date_from_received;
        self.date_from_envelope += o.date_from_envelope;
        self.date_from_maildir += o.date_from_maildir;
        self.broken_dates += o.broken_dates;
        self.repaired_headers += o.repaired_headers;
        self.duplicate_headers += o.duplicate_headers;
        self.html_only += o.html_only;
        self.plus_addressed += o.plus_addressed;
        self.no_message_id += o.no_message_id;
        self.internal_pseudo += o.internal_pseudo;
        self.drafts += o.drafts;
        self.trashed += o.trashed;
        self.unknown_direction += o.unknown_direction;
        self.before_1990 += o.before_1990;
    }
}

/// Messages the reader hands to the workers at a time, and how many batches may be on
/// their way (read, parsed or waiting for their turn) at once: this bounds memory.
const BATCH_MESSAGES: usize = 256;
const BATCH_BYTES: usize = 2 << 20;
const BATCHES_IN_FLIGHT: usize = 8;

/// A batch of raw messages, numbered so the results can be put back in file order.
struct RawBatch {
    index: u64,
    messages: Vec<RawMessage>,
    /// Reader position after the batch (for progress).
    read_to: u64,
}

struct PreparedBatch {
    index: u64,
    messages: Vec<Prepared>,
    read_to: u64,
}

/// A message after the per-message work (parsing, dates, sides, reply split, mentions,
/// dedup key) that does not depend on earlier messages: done on a worker thread.
enum Prepared {
    /// The UW-IMAP folder-internal pseudo message: not mail, not counted.
    Internal,
    Reject {
        line: u64,
        offset: u64,
        reason: String,
        raw: String,
    },
    Record(Box<Candidate>),
}

/// A record waiting for what only file order can give: its dedup verdict, sequence number,
/// interaction id and thread.
struct Candidate {
    key: u128,
    rec: Interaction,
    message_id: Option<String>,
    in_reply_to: Option<String>,
    references: Vec<String>,
    gmail_thread: Option<String>,
    correspondent: Option<String>,
    fallback_id: String,
    /// Tallied only when the record is not a duplicate.
    draft: bool,
    trashed: bool,
    unknown_direction: bool,
    no_message_id: bool,
    plus_addressed: bool,
}

fn import_source(
    src: &MailSource,
    business: Option<&BusinessSide>,
    unquote: bool,
    common: &CommonOptions,
    threader: &mut Threader,
    sink: &mut Sink<'_>,
) -> Result<SourceResult, ImportError> {
    let reader = src
        .reader(unquote)
        .map_err(|e| ImportError::file(&src.display, format!("cannot read: {e}")))?;
    let mut result = SourceResult::default();
    let mut tally = Tally::default();
    let display = src.display.as_str();
    let workers = super::cores().clamp(1, 8);
    let ctx = MessageContext {
        src,
        source_id: sink.source_id.to_string(),
        business,
        common,
        ids: id_hasher(&src.content_hash),
    };
    let ctx = &ctx;
    let preamble = std::thread::scope(|scope| -> Result<Option<(u64, String)>, ImportError> {
        let (work_tx, work_rx) = std::sync::mpsc::sync_channel::<RawBatch>(BATCHES_IN_FLIGHT);
        let (done_tx, done_rx) = std::sync::mpsc::sync_channel::<PreparedBatch>(BATCHES_IN_FLIGHT);
        // The reader takes a token per batch and the importer gives it back once the batch
        // is stored, so a slow batch cannot make the others pile up in memory.
        let (token_tx, token_rx) = std::sync::mpsc::sync_channel::<()>(BATCHES_IN_FLIGHT);
        for _ in 0..BATCHES_IN_FLIGHT {
            token_tx.send(()).expect("room for every token");
        }
        let producer = scope.spawn(move || read_batches(reader, display, work_tx, token_rx));
        let work_rx = std::sync::Arc::new(std::sync::Mutex::new(work_rx));
        let pool: Vec<_> = (0..workers)
            .map(|_| {
                let done_tx = done_tx.clone();
                let work_rx = work_rx.clone();
                scope.spawn(move || -> Tally {
                    let mut tally = Tally::default();
                    loop {
                        let batch = match work_rx.lock() {
                            Ok(rx) => rx.recv(),
                            Err(_) => return tally,
                        };
                        let Ok(batch) = batch else { return tally };
                        let messages = batch
                            .messages
                            .into_iter()
                            .map(|raw| prepare_guarded(ctx, &raw, &mut tally))
                            .collect();
                        let out = PreparedBatch {
                            index: batch.index,
                            messages,
                            read_to: batch.read_to,
                        };
                        if done_tx.send(out).is_err() {
                            return tally;
                        }
                    }
                })
            })
            .collect();
        drop((done_tx, work_rx));
        let mut state = OrderState {
            seq: 0,
            local_keys: HashSet::with_hasher(thread::PrehashedKey),
            last_progress: 0,
        };
        let mut waiting: std::collections::BTreeMap<u64, PreparedBatch> = Default::default();
        let mut next = 0u64;
        for batch in done_rx {
            waiting.insert(batch.index, batch);
            while let Some(batch) = waiting.remove(&next) {
                next += 1;
                store_batch(ctx, batch, &mut state, threader, sink, &mut result, &mut tally)?;
                let _ = token_tx.send(());
            }
        }
        for w in pool {
            let t = w
                .join()
                .map_err(|_| ImportError::Other(anyhow::anyhow!("mail parser thread panicked")))?;
            tally.add(&t);
        }
        let (reader, end) = producer
            .join()
            .map_err(|_| ImportError::Other(anyhow::anyhow!("mail reader thread panicked")))??;
        if !waiting.is_empty() {
            return Err(ImportError::Other(anyhow::anyhow!("mail parser stopped early")));
        }
        (sink.progress)(end.saturating_sub(state.last_progress));
        Ok(reader.preamble())
    })?;
    if let Some((line, raw)) = preamble {
        result.counts.read += 1;
        sink.reject(
            &mut result,
            &Reject {
                file: &src.display,
                line: Some(line),
                byte_offset: Some(0),
                reason: "text before the first mbox From_ line: not part of any message",
                raw: &raw,
            },
        )?;
    }
    push_notes(&mut result, &tally);
    if src.container == Container::Mbox && !ends_with_line_break(&src.path) {
        result.notes.push(
            "the file does not end with a line break: its last message may be cut short (was the export or the copy complete?)"
                .into(),
        );
    }
    Ok(result)
}

/// False when the file's last byte is not `\n`: a mailbox written to its end always closes
/// its last line, and an mbox has no other end marker to show that it was cut.
fn ends_with_line_break(path: &Path) -> bool {
    use std::io::{Seek, SeekFrom};
    let mut last = [0u8; 1];
    File::open(path)
        .and_then(|mut f| {
            f.seek(SeekFrom::End(-1))?;
            f.read_exact(&mut last)
        })
        .map_or(true, |()| last[0] == b'\n')
}

/// Reader thread: cuts the source into messages and hands them out in numbered batches.
fn read_batches(
    mut reader: MessageReader,
    display: &str,
    work_tx: std::sync::mpsc::SyncSender<RawBatch>,
    token_rx: std::sync::mpsc::Receiver<()>,
) -> Result<(MessageReader, u64), ImportError> {
    let mut index = 0u64;
    let mut done = false;
    while !done {
        if token_rx.recv().is_err() {
            break;
        }
        let mut messages = Vec::with_capacity(BATCH_MESSAGES);
        let mut bytes = 0usize;
        while messages.len() < BATCH_MESSAGES && bytes < BATCH_BYTES {
            if check_interrupt().is_err() {
                return Err(ImportError::Interrupted);
            }
            match reader.next() {
                Ok(Some(raw)) => {
                    bytes += raw.bytes.len();
                    messages.push(raw);
                }
                Ok(None) => {
                    done = true;
                    break;
                }
                Err(e) => return Err(ImportError::file(display, format!("read error: {e}"))),
            }
        }
        if messages.is_empty() {
            break;
        }
        let batch = RawBatch {
            index,
            messages,
            read_to: reader.offset(),
        };
        index += 1;
        if work_tx.send(batch).is_err() {
            break;
        }
    }
    let end = reader.offset();
    Ok((reader, end))
}

/// What storing in file order carries from one batch to the next.
struct OrderState {
    seq: u64,
    local_keys: HashSet<u128, thread::PrehashedKey>,
    last_progress: u64,
}

/// Stores a batch in file order: counts, rejects, dedup, threads, ids.
fn store_batch(
    ctx: &MessageContext<'_>,
    batch: PreparedBatch,
    state: &mut OrderState,
    threader: &mut Threader,
    sink: &mut Sink<'_>,
    result: &mut SourceResult,
    tally: &mut Tally,
) -> Result<(), ImportError> {
    for prepared in batch.messages {
        check_interrupt()?;
        let c = match prepared {
            Prepared::Internal => continue,
            Prepared::Reject {
                line,
                offset,
                reason,
                raw,
            } => {
                result.counts.read += 1;
                state.seq += 1;
                sink.reject(
                    result,
                    &Reject {
                        file: &ctx.src.display,
                        line: Some(line),
                        byte_offset: Some(offset),
                        reason: &reason,
                        raw: &raw,
                    },
                )?;
                continue;
            }
            Prepared::Record(c) => c,
        };
        result.counts.read += 1;
        state.seq += 1;
        let Candidate {
            key,
            mut rec,
            message_id,
            in_reply_to,
            references,
            gmail_thread,
            correspondent,
            fallback_id,
            draft,
            trashed,
            unknown_direction,
            no_message_id,
            plus_addressed,
        } = *c;
        if !state.local_keys.insert(key) || sink.is_duplicate(key) {
            result.counts.duplicates += 1;
            continue;
        }
        tally.drafts += u64::from(draft);
        tally.trashed += u64::from(trashed);
        tally.unknown_direction += u64::from(unknown_direction);
        tally.no_message_id += u64::from(no_message_id);
        tally.plus_addressed += u64::from(plus_addressed);
        let root = match gmail_thread {
            Some(thrid) => format!("gmail-thread:{thrid}"),
            None => threader.root(&ThreadInput {
                message_id: message_id.as_deref(),
                in_reply_to: in_reply_to.as_deref(),
                references: &references,
                fallback_id: &fallback_id,
                subject: rec.subject.as_deref(),
                correspondent: correspondent.as_deref(),
                ts: rec.ts,
            }),
        };
        rec.interaction_id = interaction_id_from(&ctx.ids, state.seq);
        rec.thread_key = format!("email:{root}");
        rec.seq = state.seq;
        sink.push(result, rec)?;
    }
    if batch.read_to - state.last_progress > (4 << 20) {
        (sink.progress)(batch.read_to - state.last_progress);
        state.last_progress = batch.read_to;
    }
    Ok(())
}

fn push_notes(result: &mut SourceResult, t: &Tally) {
    let mut note = |n: u64, text: &str| {
        if n > 0 {
            result.notes.push(format!("{n} message(s) {text}"));
        }
    };
    note(
        t.cut_long,
        "longer than 16 MiB: read up to 16 MiB each (headers, text and the attachments named before that; the rest skipped)",
    );
    note(
        t.broken_dates,
        "with an unusable Date header (empty, impossible or implausible)",
    );
    note(
        t.date_from_received,
        "dated by their topmost Received: header (no usable Date)",
    );
    note(
        t.date_from_envelope,
        "dated by the mbox From_ line (no usable Date or Received)",
    );
    note(
        t.date_from_maildir,
        "dated by the Maildir file name's delivery time (no usable Date)",
    );
    note(
        t.repaired_headers,
        "with a broken header block: read up to the first line that is not a header",
    );
    note(
        t.duplicate_headers,
        "repeat a single-instance header (From, Date, Message-ID…): the first was used",
    );
    note(t.html_only, "are HTML-only: converted to text");
    note(
        t.plus_addressed,
        "come from or go to a plus-addressed customer address (kept as written)",
    );
    note(
        t.no_message_id,
        "have no Message-ID: source_ref is their byte offset or file",
    );
    note(t.drafts, "are Maildir drafts (flag D): imported, never sent");
    note(t.trashed, "are marked trashed in Maildir (flag T): imported");
    note(t.before_1990, "are dated before 1990 (kept; check the sender's clock)");
    note(t.unknown_direction, "could not be placed on a side (direction unknown)");
    if t.internal_pseudo > 0 {
        result.notes.push(format!(
            "{} UW-IMAP folder-internal pseudo message(s) skipped (not mail)",
            t.internal_pseudo
        ));
    }
}

/// What every worker needs to know about the source.
struct MessageContext<'a> {
    src: &'a MailSource,
    source_id: String,
    business: Option<&'a BusinessSide>,
    common: &'a CommonOptions,
    /// The source's [`id_hasher`], cloned per record.
    ids: blake3::Hasher,
}

/// Where a message sits: its Message-ID, else its byte offset (or Maildir file).
fn position_ref(raw: &RawMessage) -> String {
    match &raw.maildir_file {
        Some(f) => format!("file:{f}"),
        None => format!("offset:{}", raw.offset),
    }
}

fn rejected(raw: &RawMessage, reason: &str) -> Prepared {
    let text = String::from_utf8_lossy(&raw.bytes[..raw.bytes.len().min(64 * 1024)]).into_owned();
    let reason = match &raw.maildir_file {
        Some(f) => format!("{reason} (file {f})"),
        None => reason.to_string(),
    };
    Prepared::Reject {
        line: raw.line,
        offset: raw.offset,
        reason,
        raw: text,
    }
}

/// [`prepare`], with a panic in the parsing crates turned into a rejected message: the
/// other messages go on, and the pipeline never waits for a batch that will not come.
fn prepare_guarded(ctx: &MessageContext<'_>, raw: &RawMessage, tally: &mut Tally) -> Prepared {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| prepare(ctx, raw, tally)))
        .unwrap_or_else(|_| rejected(raw, "this message made the mail parser fail (internal error)"))
}

/// Mentions in a message's new text and its signature (a number in a signature is what
/// ties an address to a phone).
pub fn message_mentions(new_text: &str, signature: &str, region: crate::normalize::phone::Region) -> Vec<String> {
    if signature.is_empty() {
        return mentions::extract(new_text, region);
    }
    let mut text = String::with_capacity(new_text.len() + signature.len() + 1);
    text.push_str(new_text);
    text.push('\n');
    text.push_str(signature);
    mentions::extract(&text, region)
}

/// The dedup key of a message: the same Message-ID with the same content (sender, date,
/// subject, body) is a duplicate.
pub fn message_key(m: &message::ParsedMessage, ts: i64) -> u128 {
    dedup_key(&[
        b"email",
        m.message_id.as_deref().unwrap_or("").as_bytes(),
        m.from.as_ref().map_or(&b""[..], |f| f.addr.as_bytes()),
        &ts.to_le_bytes(),
        m.subject.as_deref().unwrap_or("").as_bytes(),
        m.body.as_bytes(),
    ])
}

/// The per-message work that does not depend on earlier messages (runs on a worker).
fn prepare(ctx: &MessageContext<'_>, raw: &RawMessage, tally: &mut Tally) -> Prepared {
    let mut m = match message::parse(&raw.bytes) {
        Ok(m) if m.folder_internal => {
            tally.internal_pseudo += 1;
            return Prepared::Internal;
        }
        Ok(m) => m,
        Err(ParseFailure(why)) => return rejected(raw, &why),
    };
    if raw.cut_bytes > 0 {
        tally.cut_long += 1;
    }
    // Date → Received → From_ line → Maildir delivery time; else rejected.
    let date_broken = m.date_raw.is_some() && m.date_ms.is_none();
    // The From_ line date is read only when it is needed.
    let envelope_ms = || {
        raw.envelope
            .as_deref()
            .and_then(|e| dates::parse_envelope(e, ctx.common.tz))
    };
    let (ts, ts_raw) = if let Some(ts) = m.date_ms {
        (ts, m.date_raw.take().unwrap_or_default())
    } else if let Some(ts) = m.received_ms {
        tally.date_from_received += 1;
        (ts, m.date_raw.take().unwrap_or_default())
    } else if let Some(ts) = envelope_ms() {
        tally.date_from_envelope += 1;
        (ts, raw.envelope.clone().unwrap_or_default())
    } else if let Some(epoch) = raw.maildir_epoch {
        tally.date_from_maildir += 1;
        (epoch * 1000, raw.maildir_file.clone().unwrap_or_default())
    } else {
        let why = match &m.date_raw {
            Some(d) if !d.is_empty() => format!(
                "no usable date: Date header {d:?} cannot be read as an RFC 5322 date (or is implausible), and there is no Received stamp or From_ line date"
            ),
            Some(_) => "no usable date: the Date header is empty, and there is no Received stamp or From_ line date".into(),
            None => "no usable date: no Date header, no Received stamp, no From_ line date".into(),
        };
        return rejected(raw, &why);
    };
    if date_broken {
        tally.broken_dates += 1;
    }
    tally.before_1990 += u64::from(ts < dates::SUSPICIOUS_BEFORE_MS);
    tally.repaired_headers += u64::from(m.headers_repaired);
    tally.duplicate_headers += u64::from(m.duplicate_headers > 0);
    tally.html_only += u64::from(m.html_only);
    let key = message_key(&m, ts);
    let flags = raw.maildir_flags.as_deref().unwrap_or("");
    let draft = flags.contains('D');
    let sent_hint = !draft
        && (raw.maildir_folder.as_deref().is_some_and(maildir::is_sent_folder)
            || m.gmail_labels
                .as_deref()
                .is_some_and(|l| l.split(',').any(|x| x.trim() == "Sent")));
    let sides = sides::decide(&m, ctx.business, sent_hint);
    let unknown_direction = sides.direction == Direction::Unknown && ctx.business.is_some();
    let position = position_ref(raw);
    let no_message_id = m.message_id.is_none();
    let source_ref = m.message_id.clone().unwrap_or_else(|| position.clone());
    let fallback_id = format!("{}:{position}", ctx.source_id);
    let correspondent = sides.customer.as_ref().or(m.from.as_ref()).map(|a| a.addr.clone());
    let split = body::split_reply(&m.body);
    let mut found = message_mentions(&split.new_text, &split.signature, ctx.common.region);
    if let Some(c) = &sides.customer {
        // The customer's own address is the handle, not a mention.
        found.retain(|x| x.strip_prefix("email:") != Some(c.addr.as_str()));
    }
    let mut rec = Interaction::new(
        &ctx.source_id,
        Channel::Email,
        sides.direction,
        if m.automated.is_some() {
            Kind::System
        } else {
            Kind::Message
        },
        ts,
    );
    rec.source_file = ctx.src.display.clone();
    rec.source_ref = source_ref;
    rec.ts_raw = ts_raw;
    rec.thread_title = m
        .subject
        .as_deref()
        .map(|s| thread::strip_prefixes(s).to_string())
        .filter(|s| !s.is_empty());
    let mut plus_addressed = false;
    if let Some(c) = &sides.customer {
        plus_addressed = c.local().contains('+');
        rec.customer_handle = Some(c.addr.clone());
        rec.customer_handle_kind = Some(HandleKind::Email);
        rec.customer_name = c.name.clone();
    }
    rec.agent = sides.agent;
    rec.text = Some(split.new_text).filter(|t| !t.is_empty());
    rec.body_full = Some(m.body).filter(|b| !b.trim().is_empty());
    rec.subject = m.subject;
    rec.attachments = m.attachments;
    rec.mentions = found;
    rec.author_raw = m.from_raw;
    rec.dedup_key = super::pipeline::key_hex(key);
    Prepared::Record(Box::new(Candidate {
        key,
        rec,
        message_id: m.message_id,
        in_reply_to: m.in_reply_to,
        references: m.references,
        gmail_thread: m.gmail_thread,
        correspondent,
        fallback_id,
        draft,
        trashed: flags.contains('T'),
        unknown_direction,
        no_message_id,
        plus_addressed,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sniffs_mailboxes_and_messages_not_chats_or_csv() {
        assert!(sniff(b"From a@b Sun Dec 25 21:33:37 2011\nSubject: x\n\nhi\n"));
        assert!(sniff(b"Return-Path: <a@b>\nX-Foo: y\n\tfolded\nSubject: x\n\nhi\n"));
        assert!(sniff(b"\x01\x01\x01\x01\n"));
        assert!(!sniff(b"12/03/2024, 10:00 - Ann: hello\n"));
        assert!(!sniff(b"name,phone,email\nAnn,0770,a@b\n"));
        assert!(!sniff(b"BEGIN:VCARD\nVERSION:3.0\nEND:VCARD\n"));
        assert!(!sniff(b"This isn't an mbox.\n"));
    }
}
