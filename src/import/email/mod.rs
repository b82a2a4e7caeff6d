//! Mailboxes: mbox (mboxo/mboxrd, Gmail Takeout, Thunderbird), MMDF, Maildir folders and
//! single messages (.eml), parsed with `mailparse` into one [`Interaction`] per message.
//!
//! Reading and MIME parsing run on a reader thread; sides, threads, dedup and record
//! building on the calling thread; Parquet encoding on the batch writer's thread.

pub mod body;
pub mod dates;
pub mod maildir;
pub mod mbox;
pub mod message;
pub mod sides;
pub mod thread;

use super::pipeline::{
    already_imported, dedup_key, existing_keys, interaction_id, stage_source, Progress, Sink, SourcePlan, SourceResult,
};
use super::{check_interrupt, expand_paths, CommonOptions, ImportError, ImportReport, SourceOutcome};
use crate::model::{Channel, Direction, HandleKind, Interaction, Kind};
use crate::normalize::mentions;
use crate::workspace::{Reject, Workspace};
use mbox::{MboxReader, MmdfReader, RawMessage};
use message::{ParseFailure, ParsedMessage};
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
        let mut hash_file = |p: &Path, hasher: &mut blake3::Hasher| -> std::io::Result<()> {
            let mut f = File::open(p)?;
            let mut buf = vec![0u8; 1 << 20];
            loop {
                check_interrupt().map_err(|_| std::io::Error::other("interrupted"))?;
                let n = f.read(&mut buf)?;
                if n == 0 {
                    return Ok(());
                }
                size += n as u64;
                hasher.update(&buf[..n]);
            }
        };
        if container == Container::Maildir {
            for f in maildir::message_files(path) {
                hasher.update(f.strip_prefix(path).unwrap_or(&f).to_string_lossy().as_bytes());
                hasher.update(b"\0");
                hash_file(&f, &mut hasher).map_err(|e| format!("{}: {e}", f.display()))?;
            }
        } else {
            hash_file(path, &mut hasher).map_err(|e| format!("cannot read: {e}"))?;
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
            Container::Mbox => MessageReader::Mbox(MboxReader::new(File::open(&self.path)?, unquote)),
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
    Mbox(MboxReader<File>),
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
                *bytes += m.bytes.len() as u64;
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

/// A message as the reader thread hands it over: where it was, and its parse.
struct ReadMessage {
    raw: RawMessage,
    parsed: Result<ParsedMessage, ParseFailure>,
    /// Reader position after this message (for progress).
    read_to: u64,
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
    let mut outcomes = Vec::new();
    let mut sources: Vec<MailSource> = Vec::new();
    let mut hashes_this_run: HashSet<String> = HashSet::new();
    for (path, explicit) in expand_paths(paths) {
        check_interrupt()?;
        let display = path.display().to_string();
        if !path.exists() {
            outcomes.push(SourceOutcome::failed(
                &display,
                format!("{display}: no such file or folder"),
            ));
            continue;
        }
        if path.is_file() && path.metadata().map(|m| m.len() == 0).unwrap_or(false) {
            outcomes.push(SourceOutcome::skipped(
                &display,
                format!("{display}: empty file: nothing to import"),
            ));
            continue;
        }
        match MailSource::open(&path) {
            Ok(src) => match already_imported(ws, &src.content_hash, &src.display, &mut hashes_this_run) {
                Some(o) => outcomes.push(o),
                None => sources.push(src),
            },
            Err(e) => {
                check_interrupt()?;
                let why = format!("{display}: {e}");
                outcomes.push(if explicit {
                    SourceOutcome::failed(&display, why)
                } else {
                    SourceOutcome::skipped(&display, why)
                });
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
    let mut seen = existing_keys(ws, "email").map_err(ImportError::Other)?;
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
        outcomes.push(outcome);
    }
    progress.finish();
    check_interrupt()?;
    if !txn.staged_sources().is_empty() {
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

/// Per-source tallies that become notes.
#[derive(Default)]
struct Tally {
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

fn import_source(
    src: &MailSource,
    business: Option<&BusinessSide>,
    unquote: bool,
    common: &CommonOptions,
    threader: &mut Threader,
    sink: &mut Sink<'_>,
) -> Result<SourceResult, ImportError> {
    let mut reader = src
        .reader(unquote)
        .map_err(|e| ImportError::file(&src.display, format!("cannot read: {e}")))?;
    let mut result = SourceResult::default();
    let mut tally = Tally::default();
    let mut local_keys: HashSet<u128> = HashSet::new();
    let mut seq = 0u64;
    let mut last_progress = 0u64;
    let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<ReadMessage>>(4);
    let display = src.display.as_str();
    let preamble = std::thread::scope(|scope| -> Result<Option<(u64, String)>, ImportError> {
        let producer = scope.spawn(move || -> Result<(MessageReader, u64), ImportError> {
            let mut batch = Vec::with_capacity(64);
            let mut batch_bytes = 0usize;
            loop {
                if check_interrupt().is_err() {
                    return Err(ImportError::Interrupted);
                }
                let raw = match reader.next() {
                    Ok(Some(raw)) => raw,
                    Ok(None) => break,
                    Err(e) => return Err(ImportError::file(display, format!("read error: {e}"))),
                };
                let parsed = message::parse(&raw.bytes);
                batch_bytes += raw.bytes.len();
                let read_to = reader.offset();
                batch.push(ReadMessage { raw, parsed, read_to });
                if batch.len() >= 64 || batch_bytes > (8 << 20) {
                    batch_bytes = 0;
                    if tx.send(std::mem::replace(&mut batch, Vec::with_capacity(64))).is_err() {
                        break;
                    }
                }
            }
            if !batch.is_empty() {
                let _ = tx.send(batch);
            }
            let end = reader.offset();
            Ok((reader, end))
        });
        for batch in rx {
            for msg in batch {
                check_interrupt()?;
                if msg.read_to - last_progress > (4 << 20) {
                    (sink.progress)(msg.read_to - last_progress);
                    last_progress = msg.read_to;
                }
                let ctx = MessageContext { src, business, common };
                import_message(
                    &ctx,
                    msg,
                    &mut seq,
                    threader,
                    sink,
                    &mut result,
                    &mut tally,
                    &mut local_keys,
                )?;
            }
        }
        let (reader, end) = producer
            .join()
            .map_err(|_| ImportError::Other(anyhow::anyhow!("mail reader thread panicked")))??;
        (sink.progress)(end.saturating_sub(last_progress));
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
    Ok(result)
}

fn push_notes(result: &mut SourceResult, t: &Tally) {
    let mut note = |n: u64, text: &str| {
        if n > 0 {
            result.notes.push(format!("{n} message(s) {text}"));
        }
    };
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

struct MessageContext<'a> {
    src: &'a MailSource,
    business: Option<&'a BusinessSide>,
    common: &'a CommonOptions,
}

/// Where a message sits: its Message-ID, else its byte offset (or Maildir file).
fn position_ref(raw: &RawMessage) -> String {
    match &raw.maildir_file {
        Some(f) => format!("file:{f}"),
        None => format!("offset:{}", raw.offset),
    }
}

#[allow(clippy::too_many_arguments)]
fn import_message(
    ctx: &MessageContext<'_>,
    msg: ReadMessage,
    seq: &mut u64,
    threader: &mut Threader,
    sink: &mut Sink<'_>,
    result: &mut SourceResult,
    tally: &mut Tally,
    local_keys: &mut HashSet<u128>,
) -> Result<(), ImportError> {
    let ReadMessage { raw, parsed, .. } = msg;
    let reject = |sink: &mut Sink<'_>, result: &mut SourceResult, reason: &str, raw: &RawMessage| {
        let text = String::from_utf8_lossy(&raw.bytes[..raw.bytes.len().min(64 * 1024)]);
        let reason = match &raw.maildir_file {
            Some(f) => format!("{reason} (file {f})"),
            None => reason.to_string(),
        };
        sink.reject(
            result,
            &Reject {
                file: &ctx.src.display,
                line: Some(raw.line),
                byte_offset: Some(raw.offset),
                reason: &reason,
                raw: &text,
            },
        )
    };
    let m = match parsed {
        Ok(m) if m.folder_internal => {
            tally.internal_pseudo += 1;
            return Ok(());
        }
        Ok(m) => m,
        Err(ParseFailure(why)) => {
            result.counts.read += 1;
            *seq += 1;
            return reject(sink, result, &why, &raw);
        }
    };
    result.counts.read += 1;
    *seq += 1;
    let this_seq = *seq;
    // Date → Received → From_ line → Maildir delivery time; else rejected.
    let date_broken = m.date_raw.is_some() && m.date_ms.is_none();
    let envelope_ms = raw
        .envelope
        .as_deref()
        .and_then(|e| dates::parse_envelope(e, ctx.common.tz));
    let (ts, ts_raw) = if let Some(ts) = m.date_ms {
        (ts, m.date_raw.clone().unwrap_or_default())
    } else if let Some(ts) = m.received_ms {
        tally.date_from_received += 1;
        (ts, m.date_raw.clone().unwrap_or_default())
    } else if let Some(ts) = envelope_ms {
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
        return reject(sink, result, &why, &raw);
    };
    if date_broken {
        tally.broken_dates += 1;
    }
    tally.before_1990 += u64::from(ts < dates::SUSPICIOUS_BEFORE_MS);
    tally.repaired_headers += u64::from(m.headers_repaired);
    tally.duplicate_headers += u64::from(m.duplicate_headers > 0);
    tally.html_only += u64::from(m.html_only);
    // Duplicates: the same Message-ID with the same content (sender, date, body).
    let key = dedup_key(&[
        b"email",
        m.message_id.as_deref().unwrap_or("").as_bytes(),
        m.from.as_ref().map_or(&b""[..], |f| f.addr.as_bytes()),
        &ts.to_le_bytes(),
        m.subject.as_deref().unwrap_or("").as_bytes(),
        m.body.as_bytes(),
    ]);
    if !local_keys.insert(key) || sink.is_duplicate(key) {
        result.counts.duplicates += 1;
        return Ok(());
    }
    let flags = raw.maildir_flags.as_deref().unwrap_or("");
    let draft = flags.contains('D');
    tally.drafts += u64::from(draft);
    tally.trashed += u64::from(flags.contains('T'));
    let sent_hint = !draft
        && (raw.maildir_folder.as_deref().is_some_and(maildir::is_sent_folder)
            || m.gmail_labels
                .as_deref()
                .is_some_and(|l| l.split(',').any(|x| x.trim() == "Sent")));
    let sides = sides::decide(&m, ctx.business, sent_hint);
    if sides.direction == Direction::Unknown && ctx.business.is_some() {
        tally.unknown_direction += 1;
    }
    let source_ref = match &m.message_id {
        Some(id) => id.clone(),
        None => {
            tally.no_message_id += 1;
            position_ref(&raw)
        }
    };
    let fallback_id = format!("{}:{}", sink.source_id, position_ref(&raw));
    let correspondent = sides.customer.as_ref().or(m.from.as_ref()).map(|a| a.addr.as_str());
    let root = match &m.gmail_thread {
        Some(thrid) => format!("gmail-thread:{thrid}"),
        None => threader.root(&ThreadInput {
            message_id: m.message_id.as_deref(),
            in_reply_to: m.in_reply_to.as_deref(),
            references: &m.references,
            fallback_id: &fallback_id,
            subject: m.subject.as_deref(),
            correspondent,
            ts,
        }),
    };
    let split = body::split_reply(&m.body);
    let mut mention_text = split.new_text.clone();
    if !split.signature.is_empty() {
        mention_text.push('\n');
        mention_text.push_str(&split.signature);
    }
    let mut found = mentions::extract(&mention_text, ctx.common.region);
    if let Some(c) = &sides.customer {
        // The customer's own address is the handle, not a mention.
        found.retain(|x| x.strip_prefix("email:") != Some(c.addr.as_str()));
    }
    let mut rec = Interaction::new(
        sink.source_id,
        Channel::Email,
        sides.direction,
        if m.automated.is_some() {
            Kind::System
        } else {
            Kind::Message
        },
        ts,
    );
    rec.interaction_id = interaction_id(&ctx.src.content_hash, this_seq);
    rec.source_file = ctx.src.display.clone();
    rec.source_ref = source_ref;
    rec.ts_raw = ts_raw;
    rec.thread_key = format!("email:{root}");
    rec.thread_title = m
        .subject
        .as_deref()
        .map(|s| thread::strip_prefixes(s).to_string())
        .filter(|s| !s.is_empty());
    if let Some(c) = &sides.customer {
        tally.plus_addressed += u64::from(c.local().contains('+'));
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
    rec.seq = this_seq;
    rec.author_raw = m.from_raw;
    rec.dedup_key = format!("{key:032x}");
    sink.push(result, rec)
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
