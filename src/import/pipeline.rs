//! Runs an import command: finds the files, scans them, decides the business side,
//! writes every source inside one workspace transaction.

use super::spill::Spill;
use super::whatsapp::{self, ChatInput, ChatScan, WhatsAppOptions};
use super::{expand_paths, ms_to_rfc3339, CommonOptions, ImportError, ImportReport, SourceOutcome, SourceOutcomes};
use crate::model::Interaction;
use crate::workspace::{
    for_each_slice, options_json, BatchWriter, Counts, InteractionRow, Reject, RejectWriter, SourceEntry, Transaction,
    Workspace,
};
use anyhow::Result;
use polars::prelude::*;
use std::collections::{HashMap, HashSet};
use std::path::PathBuf;

/// Where an importer puts what it read from one source: records, rejects, and the
/// duplicate check against what the workspace (and this import) already holds.
pub struct Sink<'a> {
    pub source_id: &'a str,
    pub batch: &'a mut BatchWriter,
    pub rejects: &'a mut RejectWriter,
    /// Dedup keys of records already in the workspace (other sources).
    pub seen: &'a HashSet<u128>,
    /// Receives this source's dedup keys when later sources need them.
    pub new_keys: Option<&'a mut Vec<u128>>,
    pub progress: &'a dyn Fn(u64),
}

impl Sink<'_> {
    /// True when a record with this dedup key is already stored; otherwise remembers the key.
    pub fn is_duplicate(&mut self, key: u128) -> bool {
        is_duplicate_key(self.seen, self.new_keys.as_deref_mut(), key)
    }

    /// Stores one record and counts it.
    pub fn push(&mut self, result: &mut SourceResult, interaction: Interaction) -> Result<(), ImportError> {
        self.push_row(result, &InteractionRow::of(&interaction))
    }

    /// [`Sink::push`] for a record given by reference (nothing of it is kept).
    pub fn push_row(&mut self, result: &mut SourceResult, row: &InteractionRow<'_>) -> Result<(), ImportError> {
        result.count_imported(row.ts);
        self.batch.push_row(row).map_err(ImportError::Other)
    }

    /// Keeps a record that could not be imported, with where it was and why.
    pub fn reject(&mut self, result: &mut SourceResult, reject: &Reject<'_>) -> Result<(), ImportError> {
        result.counts.rejected += 1;
        self.rejects.write(reject).map_err(ImportError::Other)
    }
}

/// What one source produced. `counts.read` is set by the importer; the sink counts the rest.
#[derive(Debug, Default)]
pub struct SourceResult {
    pub counts: Counts,
    pub first_ms: Option<i64>,
    pub last_ms: Option<i64>,
    pub notes: Vec<String>,
}

impl SourceResult {
    /// Counts one imported record at `ts` (ms).
    pub fn count_imported(&mut self, ts: i64) {
        self.counts.imported += 1;
        self.first_ms = Some(self.first_ms.map_or(ts, |f| f.min(ts)));
        self.last_ms = Some(self.last_ms.map_or(ts, |l| l.max(ts)));
    }
}

/// True when a record with this dedup key is already stored (`seen`); otherwise remembers
/// the key in `keys`, when later sources need them.
pub fn is_duplicate_key(seen: &HashSet<u128>, keys: Option<&mut Vec<u128>>, key: u128) -> bool {
    if seen.contains(&key) {
        return true;
    }
    if let Some(keys) = keys {
        keys.push(key);
    }
    false
}

/// Fails unless `path` is a regular file (or a link to one). Imports read a file more than
/// once (content hash, sniffing, import), which a pipe or device cannot give; and opening a
/// pipe whose writer is gone would wait for ever, so this is asked before any open.
/// Returns the file's metadata.
pub fn ensure_regular_file(path: &std::path::Path) -> std::io::Result<std::fs::Metadata> {
    let meta = std::fs::metadata(path)?;
    if meta.is_file() {
        Ok(meta)
    } else {
        Err(std::io::Error::other(
            "not a regular file: a pipe or device cannot be read more than once (content hash, then import); save it to a file first",
        ))
    }
}

/// Adds the bytes of the file at `path` to `hasher` and returns how many there were.
///
/// The content hash must be known before a file is imported (a file already in the
/// workspace is not read again), so it is a pass of its own over the whole file: large
/// files are read in 4 MB windows, each hashed on every core while the next is read.
/// Ctrl-C is honoured between windows.
pub fn hash_file_into(hasher: &mut blake3::Hasher, path: &std::path::Path) -> std::io::Result<u64> {
    const WINDOW: usize = 4 << 20;
    let interrupted = || std::io::Error::other("interrupted");
    super::check_interrupt().map_err(|_| interrupted())?;
    let len = ensure_regular_file(path)?.len();
    let mut file = std::fs::File::open(path)?;
    // Windows are read into two buffers, not mapped: a file truncated or unreadable while
    // mapped kills the process with SIGBUS instead of giving a read error.
    let size = (len as usize).saturating_add(1).clamp(64 << 10, WINDOW);
    let mut current = vec![0u8; size];
    let mut filled = fill(&mut file, &mut current)?;
    if filled < size {
        // The whole file in one read (most mail files): no second buffer, no hand-offs, and
        // more than one core only where BLAKE3 gains from it (from 128 KiB).
        if filled >= 128 << 10 {
            hasher.update_rayon(&current[..filled]);
        } else {
            hasher.update(&current[..filled]);
        }
        return Ok(filled as u64);
    }
    let mut next = vec![0u8; size];
    let mut total = 0u64;
    while filled > 0 {
        super::check_interrupt().map_err(|_| interrupted())?;
        let (_, read) = rayon::join(
            || hasher.update_rayon(&current[..filled]),
            || fill(&mut file, &mut next),
        );
        total += filled as u64;
        filled = read?;
        std::mem::swap(&mut current, &mut next);
    }
    Ok(total)
}

/// [`hash_file`] on the calling thread alone (for a hash made beside other one-core work);
/// gives up when `stop` is set or on Ctrl-C.
pub fn hash_file_on_one_core(
    path: &std::path::Path,
    stop: &std::sync::atomic::AtomicBool,
) -> std::io::Result<(String, u64)> {
    let mut file = std::fs::File::open(path)?;
    let mut hasher = blake3::Hasher::new();
    let mut buf = vec![0u8; 1 << 20];
    let mut size = 0u64;
    loop {
        if stop.load(std::sync::atomic::Ordering::Relaxed) || super::check_interrupt().is_err() {
            return Err(std::io::Error::other("interrupted"));
        }
        let n = fill(&mut file, &mut buf)?;
        if n == 0 {
            return Ok((hasher.finalize().to_hex().to_string(), size));
        }
        hasher.update(&buf[..n]);
        size += n as u64;
    }
}

/// Reads from `file` until `buf` is full or the file ends; returns the bytes read.
fn fill(file: &mut std::fs::File, buf: &mut [u8]) -> std::io::Result<usize> {
    use std::io::Read;
    let mut filled = 0;
    while filled < buf.len() {
        match file.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

/// The BLAKE3 content hash (hex) and size of the file at `path`; see [`hash_file_into`].
pub fn hash_file(path: &std::path::Path) -> std::io::Result<(String, u64)> {
    let mut hasher = blake3::Hasher::new();
    let size = hash_file_into(&mut hasher, path)?;
    Ok((hasher.finalize().to_hex().to_string(), size))
}

/// The hasher every interaction id of a source starts from (its content hash and `:`):
/// an importer keeps one per source and clones it per record.
pub fn id_hasher(content_hash: &str) -> blake3::Hasher {
    let mut hasher = blake3::Hasher::new();
    hasher.update(content_hash.as_bytes());
    hasher.update(b":");
    hasher
}

/// The interaction id of the record at `seq`, from its source's [`id_hasher`], into `out`.
pub fn interaction_id_into(mut hasher: blake3::Hasher, seq: u64, out: &mut [u8; 32]) -> &str {
    hasher.update(&seq.to_le_bytes());
    hex_into(&hasher.finalize().as_bytes()[..16], out)
}

/// Stable interaction id: hash of the source's content hash and the record's position.
pub fn interaction_id(content_hash: &str, seq: u64) -> String {
    interaction_id_from(&id_hasher(content_hash), seq)
}

/// [`interaction_id`] from the source's [`id_hasher`], kept by the importer.
pub fn interaction_id_from(ids: &blake3::Hasher, seq: u64) -> String {
    interaction_id_into(ids.clone(), seq, &mut [0u8; 32]).to_string()
}

/// Lower-case hex of `bytes` into `out` (ids and keys are written per record: no allocation).
pub fn hex_into<'a>(bytes: &[u8], out: &'a mut [u8]) -> &'a str {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    for (i, b) in bytes.iter().enumerate() {
        out[2 * i] = DIGITS[usize::from(b >> 4)];
        out[2 * i + 1] = DIGITS[usize::from(b & 15)];
    }
    std::str::from_utf8(&out[..2 * bytes.len()]).expect("hex digits are ASCII")
}

/// A dedup key as stored in `dedup_key`: 32 lower-case hex digits.
pub fn key_hex(key: u128) -> String {
    hex_into(&key.to_be_bytes(), &mut [0u8; 32]).to_string()
}

/// 128-bit dedup key from the parts that identify a record independently of its file.
pub fn dedup_key(parts: &[&[u8]]) -> u128 {
    let mut hasher = blake3::Hasher::new();
    for p in parts {
        hasher.update(&(p.len() as u64).to_le_bytes());
        hasher.update(p);
    }
    u128::from_le_bytes(hasher.finalize().as_bytes()[..16].try_into().expect("16 bytes"))
}

/// The outcome for a file whose content is already in the workspace or earlier in this
/// import; `None` when it is new (and then it is remembered in `this_run`).
pub fn already_imported(
    ws: &Workspace,
    content_hash: &str,
    display: &str,
    this_run: &mut HashSet<String>,
) -> Result<Option<SourceOutcome>> {
    if let Some(prev) = ws.source_by_hash(content_hash)? {
        let o = SourceOutcome {
            path: display.to_string(),
            outcome: "already-imported".into(),
            format: Some(prev.format.to_string()),
            counts: Default::default(),
            first_ts: prev.first_ts.map(str::to_string),
            last_ts: prev.last_ts.map(str::to_string),
            notes: [format!(
                "same content as {} (imported {}): nothing added",
                prev.path, prev.imported_at
            )]
            .into(),
            error: None,
        };
        return Ok(Some(o));
    }
    if !this_run.insert(content_hash.to_string()) {
        let mut o = SourceOutcome::skipped(display, "same content as another file in this import".into());
        o.outcome = "already-imported".into();
        return Ok(Some(o));
    }
    Ok(None)
}

/// Describes a source about to be written by [`stage_source`].
pub struct SourcePlan {
    /// Short prefix of the source id (`wa`, `em`, `cl`, `ct`).
    pub id_prefix: &'static str,
    pub display: String,
    pub size: u64,
    pub content_hash: String,
    pub format: String,
    pub channel: String,
    pub options: serde_json::Value,
    pub notes: Vec<String>,
}

/// Writes one source inside `txn`: opens its rejects file, lets `fill` push records
/// through a [`Sink`] into the import's shared batch, drops an empty rejects file, and
/// stages the manifest entry.
/// `seen` gains this source's dedup keys when `more_follow` (later sources need them).
pub fn stage_source(
    txn: &mut Transaction<'_>,
    seen: &mut HashSet<u128>,
    more_follow: bool,
    plan: SourcePlan,
    progress: &dyn Progress,
    fill: impl FnOnce(&mut Sink<'_>) -> Result<SourceResult, ImportError>,
) -> Result<SourceOutcome, ImportError> {
    let source_id = format!("{}-{}", plan.id_prefix, &plan.content_hash[..16]);
    let (mut rejects, rejects_rel) = txn.rejects_writer(&source_id)?;
    let (batch, batch_rel) = txn.shared_batch(&source_id)?;
    let mut new_keys = Vec::new();
    let advance = |n: u64| progress.advance(n);
    let rows_before = batch.rows();
    let result = {
        let mut sink = Sink {
            source_id: &source_id,
            batch: &mut *batch,
            rejects: &mut rejects,
            seen,
            new_keys: more_follow.then_some(&mut new_keys),
            progress: &advance,
        };
        fill(&mut sink)
    };
    let result = match result {
        Ok(r) => r,
        Err(e) => {
            let wrote = batch.rows() > rows_before;
            txn.discard_files(&[rejects_rel]);
            return Err(match e {
                // Its records are already in the batch the other sources share: the caller
                // must not commit, so this file cannot fail alone.
                ImportError::File { path, message } if wrote => ImportError::Other(anyhow::anyhow!(
                    "{path}: {message} (after some of its records were read; nothing was imported: fix or leave out this file)"
                )),
                e => e,
            });
        }
    };
    let rejected = rejects.finish()?;
    seen.extend(new_keys);
    debug_assert_eq!(rejected, result.counts.rejected);
    let batch = (result.counts.imported > 0).then_some(batch_rel);
    let rejects = if rejected > 0 {
        Some(rejects_rel)
    } else {
        // Created with the first reject: there is no file.
        txn.unstage(&rejects_rel);
        None
    };
    let mut notes = plan.notes;
    notes.extend(result.notes);
    // Kept until the commit (and again in the outcome): `format!` leaves spare capacity.
    for note in &mut notes {
        note.shrink_to_fit();
    }
    let entry = SourceEntry {
        source_id,
        path: plan.display,
        size: plan.size,
        content_hash: plan.content_hash,
        format: plan.format,
        channel: plan.channel,
        options: options_json(&plan.options),
        counts: result.counts,
        first_ts: result.first_ms.map(ms_to_rfc3339),
        last_ts: result.last_ms.map(ms_to_rfc3339),
        imported_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        batch,
        rejects,
        notes: notes.into(),
    };
    let outcome = SourceOutcome::from_entry(&entry, "imported");
    txn.add_source(entry)?;
    Ok(outcome)
}

/// Progress callbacks for the CLI (a bar on a terminal, nothing when piped).
pub trait Progress {
    fn start(&self, total_bytes: u64);
    fn advance(&self, bytes: u64);
    fn finish(&self);
}

/// No progress display.
pub struct NoProgress;

impl Progress for NoProgress {
    fn start(&self, _: u64) {}
    fn advance(&self, _: u64) {}
    fn finish(&self) {}
}

/// Dedup keys of the records already stored for a channel; with `threads`, only those of
/// the threads whose [`thread_hash`]es are its keys — for importers whose keys include the
/// thread, the only ones a new record can meet (and a few more, should hashes collide).
pub fn existing_keys(ws: &Workspace, channel: &str, threads: Option<&HashMap<u64, usize>>) -> Result<HashSet<u128>> {
    let mut keys = HashSet::new();
    if threads.is_some_and(HashMap::is_empty) {
        return Ok(keys);
    }
    let columns: &[&str] = if threads.is_some() {
        &["dedup_key", "thread_key"]
    } else {
        &["dedup_key"]
    };
    let batches = ws.interaction_batches(Some(channel))?;
    // A slice at a time: the two columns of 2 million records took 250 MB.
    for_each_slice(ws.root(), &batches, Some(columns), 1 << 16, |_, df| {
        let key = df.column("dedup_key")?.str()?;
        let wanted: Vec<bool> = match threads {
            Some(threads) => df
                .column("thread_key")?
                .str()?
                .iter()
                .map(|t| t.is_some_and(|t| threads.contains_key(&thread_hash(t))))
                .collect(),
            None => vec![true; key.len()],
        };
        let kept = key.iter().zip(wanted).filter_map(|(k, wanted)| k.filter(|_| wanted));
        keys.extend(kept.filter_map(|k| u128::from_str_radix(k, 16).ok()));
        Ok(())
    })?;
    Ok(keys)
}

/// A thread key's 64-bit hash. Threads are told apart by it where a collision only keeps
/// more dedup keys than needed (100 000 chats' thread keys as strings took 22 MB).
pub fn thread_hash(thread_key: &str) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    thread_key.hash(&mut hasher);
    hasher.finish()
}

/// The chats of a WhatsApp import waiting for the second pass, and what deciding across
/// them needs (their authors, their threads, their size), gathered as they are queued.
struct ChatQueue {
    spill: Spill<ChatScan>,
    census: whatsapp::AuthorCensus,
    threads: Vec<u64>,
    bytes: u64,
}

impl ChatQueue {
    fn push(&mut self, scan: &ChatScan) -> Result<(), ImportError> {
        self.census.add(scan);
        self.threads.push(thread_hash(&scan.thread_key()));
        self.bytes += scan.size;
        Ok(self.spill.push(scan)?)
    }
}

/// `omnitrail import whatsapp PATH…`
pub fn import_whatsapp(
    ws: &mut Workspace,
    paths: &[PathBuf],
    opts: &WhatsAppOptions,
    common: &CommonOptions,
    progress: &dyn Progress,
) -> Result<ImportReport, ImportError> {
    crate::normalize::phone::load_metadata_in_background();
    let mut outcomes = SourceOutcomes::spilling_to(ws.root().join(".tmp"));
    // The scans wait for the second pass in files (see `spill`).
    let spill = || Spill::new_in(ws.root().join(".tmp"));
    let mut chats = ChatQueue {
        spill: spill(),
        census: Default::default(),
        threads: Vec::new(),
        bytes: 0,
    };
    let mut undecided = spill();
    let mut siblings = whatsapp::SiblingOrders::default();
    let mut hashes_this_run: HashSet<String> = HashSet::new();
    for found in expand_paths(paths) {
        let Some((path, explicit)) = outcomes.file_of(found)? else {
            continue;
        };
        let display = path.display().to_string();
        super::check_interrupt()?;
        if !explicit {
            let ext = path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase);
            if path.metadata().map(|m| m.len() == 0).unwrap_or(false) {
                outcomes.push(SourceOutcome::skipped(&display, "empty file: nothing to import".into()))?;
                continue;
            }
            let whatsapp = super::detect::Format::WhatsApp;
            let detected = super::detect::detect_export(&path);
            if !matches!(ext.as_deref(), Some("txt") | Some("zip")) || detected != Some(whatsapp) {
                outcomes.push(SourceOutcome::skipped(
                    &display,
                    super::detect::skip_reason(detected, whatsapp),
                ))?;
                continue;
            }
        } else if !path.exists() {
            // A file found by the walk was just read by detection.
            outcomes.push(SourceOutcome::failed(
                &display,
                format!("{display}: no such file or folder"),
            ))?;
            continue;
        }
        let scanned = ChatInput::open(&path).and_then(|input| whatsapp::scan(input, opts));
        match scanned {
            Ok(scan) => match already_imported(ws, &scan.content_hash, &scan.input.display(), &mut hashes_this_run)? {
                Some(o) => outcomes.push(o)?,
                None if scan.undecided().is_some() => undecided.push(&scan)?,
                None => {
                    siblings.add(&scan);
                    chats.push(&scan)?;
                }
            },
            Err(ImportError::Interrupted) => return Err(ImportError::Interrupted),
            Err(e) => outcomes.push(SourceOutcome::failed(&display, e.to_string()))?,
        }
    }
    drop(hashes_this_run);
    // A file whose day/month order is undecidable borrows it from files of the same
    // import written in exactly the same layout (one phone's chats), when they are certain.
    for scan in undecided.read()? {
        let scan = scan?;
        let display = scan.input.display();
        let Some((order, sibling)) = siblings.order_for(&scan) else {
            outcomes.push(SourceOutcome::failed(
                &display,
                format!("{display}: {}", scan.undecided().unwrap_or_default()),
            ))?;
            continue;
        };
        let forced = WhatsAppOptions {
            date_order: Some(order),
            ..opts.clone()
        };
        match whatsapp::scan(scan.input.clone(), &forced) {
            Ok(mut rescanned) => {
                rescanned.notes.retain(|n| !n.contains("forced by --date-order"));
                rescanned.notes.push(format!(
                    "date order {order}: undecidable from this file's dates, taken from {sibling}, which has the same header layout and where it is certain"
                ));
                chats.push(&rescanned)?;
            }
            Err(e) => outcomes.push(SourceOutcome::failed(&display, e.to_string()))?,
        }
    }
    drop(siblings);
    let ChatQueue {
        spill: chats,
        census,
        threads,
        bytes,
    } = chats;
    let mut business = whatsapp::decide_business(census, opts);
    // A dedup key includes the chat's thread key: a chat's keys are looked up only by later
    // chats of the same thread, and stored keys only of this import's threads are loaded
    // (a folder of 100 000 distinct chats keeps none).
    let mut threads_left: HashMap<u64, usize> = HashMap::new();
    for &thread in &threads {
        *threads_left.entry(thread).or_default() += 1;
    }
    let mut seen = existing_keys(ws, "whatsapp", Some(&threads_left)).map_err(ImportError::Other)?;
    progress.start(bytes);
    let mut txn = ws.begin();
    // Each chat's thread count is dropped once its last chat is staged: with 100 000 chats
    // they add up.
    for (scan, thread) in chats.read()?.zip(threads) {
        let mut scan = scan?;
        let more_follow = match threads_left.get_mut(&thread) {
            Some(left) if *left > 1 => {
                *left -= 1;
                true
            }
            _ => {
                threads_left.remove(&thread);
                false
            }
        };
        let side = business.take(&scan);
        let mut notes = std::mem::take(&mut scan.notes);
        if let Some(b) = &side {
            let mut names: Vec<&String> = b.names.iter().collect();
            names.sort();
            notes.push(format!(
                "business side: {} ({})",
                names.iter().map(|s| format!("{s:?}")).collect::<Vec<_>>().join(", "),
                b.how
            ));
        }
        if let ChatInput::Zip { media, .. } = &scan.input {
            notes.push(format!(
                "{} media file(s) in the zip (counted, not extracted)",
                media.len()
            ));
        }
        let options = serde_json::json!({
            "tz": common.tz.name(),
            "tz_origin": common.tz_origin,
            "region": common.region_code,
            "date_order": opts.date_order.map(whatsapp::dates::DateOrder::flag),
            "business_names": side.as_ref().map(|b| { let mut v: Vec<&String> = b.names.iter().collect(); v.sort(); v }),
            "zip_media": if let ChatInput::Zip { media, .. } = &scan.input { serde_json::json!(media) } else { serde_json::Value::Null },
        });
        let plan = SourcePlan {
            id_prefix: "wa",
            display: scan.input.display(),
            size: scan.size,
            content_hash: scan.content_hash.clone(),
            format: "whatsapp".into(),
            channel: "whatsapp".into(),
            options,
            notes,
        };
        let outcome = stage_source(&mut txn, &mut seen, more_follow, plan, progress, |sink| {
            let mut result = whatsapp::import(&scan, side.as_deref(), common, opts, sink)?;
            result.notes.extend(whatsapp::export_cap_note(result.counts.read));
            Ok(result)
        })?;
        outcomes.push(outcome)?;
    }
    let mut notes = vec![format!("time zone {} ({})", common.tz.name(), common.tz_origin)];
    notes.extend(business.notes());
    progress.finish();
    super::check_interrupt()?;
    if txn.staged_sources() > 0 {
        txn.commit()?;
    }
    Ok(ImportReport {
        sources: outcomes,
        notes,
    })
}

impl From<PolarsError> for ImportError {
    fn from(e: PolarsError) -> Self {
        ImportError::Other(e.into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Channel, Direction, Kind};

    #[test]
    fn file_hashes_are_blake3_of_the_bytes_whatever_the_size() {
        let dir = tempfile::tempdir().unwrap();
        let mut rng = crate::benchkit::SplitMix64(1);
        // Empty, smaller than a window, and across one and two window boundaries (the next
        // window is read while one is hashed) with a ragged end.
        for len in [0usize, 1000, (1 << 20) + 3, (16 << 20) + 4097, (32 << 20) + 5] {
            let bytes: Vec<u8> = (0..len).map(|_| rng.below(256) as u8).collect();
            let path = dir.path().join(format!("f{len}"));
            std::fs::write(&path, &bytes).unwrap();
            let (hash, size) = hash_file(&path).unwrap();
            assert_eq!(hash, blake3::hash(&bytes).to_hex().to_string(), "{len} bytes");
            assert_eq!(size, len as u64);
        }
    }

    #[cfg(unix)]
    #[test]
    fn a_pipe_is_refused_instead_of_waited_on() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("pipe");
        assert!(std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success());
        let err = hash_file(&fifo).unwrap_err();
        assert!(err.to_string().contains("not a regular file"), "{err}");
    }

    fn plan(name: &str) -> SourcePlan {
        SourcePlan {
            id_prefix: "cl",
            display: name.into(),
            size: 1,
            content_hash: blake3::hash(name.as_bytes()).to_hex().to_string(),
            format: "test".into(),
            channel: "call".into(),
            options: serde_json::Value::Null,
            notes: vec![],
        }
    }

    fn push_one(sink: &mut Sink<'_>, result: &mut SourceResult) -> Result<(), ImportError> {
        let mut r = Interaction::new(sink.source_id, Channel::Call, Direction::Inbound, Kind::Call, 0);
        r.interaction_id = format!("{}-0", sink.source_id);
        result.counts.read += 1;
        sink.push(result, r)
    }

    #[test]
    fn ids_and_keys_are_the_documented_hex() {
        let mut h = blake3::Hasher::new();
        h.update(b"abc:");
        h.update(&7u64.to_le_bytes());
        assert_eq!(interaction_id("abc", 7), h.finalize().to_hex()[..32]);
        let key = 0x0123_4567_89ab_cdef_0011_2233_4455_6677u128;
        assert_eq!(key_hex(key), format!("{key:032x}"));
        assert_eq!(key_hex(5), format!("{:032x}", 5u128));
    }

    #[test]
    fn a_batch_named_after_a_file_that_failed_is_never_replaced_when_it_comes_back() {
        let dir = tempfile::tempdir().unwrap();
        let mut ws = Workspace::open(dir.path()).unwrap();
        let one = |sink: &mut Sink<'_>| {
            let mut result = SourceResult::default();
            push_one(sink, &mut result)?;
            Ok(result)
        };
        // a.csv fails before writing, but its id names the import's batch; b.csv commits there.
        let mut seen = HashSet::new();
        let mut txn = ws.begin();
        let failed = stage_source(&mut txn, &mut seen, true, plan("a.csv"), &NoProgress, |_| {
            Err(ImportError::file("a.csv", "cannot open"))
        });
        assert!(failed.is_err());
        stage_source(&mut txn, &mut seen, false, plan("b.csv"), &NoProgress, one).unwrap();
        txn.commit().unwrap();
        // a.csv again, now readable: its batch must get another name.
        let mut txn = ws.begin();
        stage_source(&mut txn, &mut seen, false, plan("a.csv"), &NoProgress, one).unwrap();
        txn.commit().unwrap();
        let batches = ws.interaction_batches(None).unwrap();
        assert_eq!(batches.len(), 2, "{batches:?}");
        let rows: usize = crate::workspace::read_columns(ws.root(), &batches, &["source_id"])
            .unwrap()
            .iter()
            .map(|df| df.height())
            .sum();
        assert_eq!(rows, 2);
    }

    #[test]
    fn a_file_failing_after_writing_to_the_shared_batch_fails_the_whole_import() {
        let dir = tempfile::tempdir().unwrap();
        let mut ws = Workspace::open(dir.path()).unwrap();
        let mut seen = HashSet::new();
        let mut txn = ws.begin();
        let fine = stage_source(&mut txn, &mut seen, true, plan("a.csv"), &NoProgress, |sink| {
            let mut result = SourceResult::default();
            push_one(sink, &mut result)?;
            Ok(result)
        });
        assert!(fine.is_ok());
        // Failing before any record: only this file fails, the import goes on.
        let early = stage_source(&mut txn, &mut seen, true, plan("b.csv"), &NoProgress, |_| {
            Err(ImportError::file("b.csv", "not a call log"))
        });
        assert!(matches!(early, Err(ImportError::File { .. })));
        // Failing midway: its record is in the shared batch, so the import cannot commit.
        let late = stage_source(&mut txn, &mut seen, false, plan("c.csv"), &NoProgress, |sink| {
            let mut result = SourceResult::default();
            push_one(sink, &mut result)?;
            Err(ImportError::file("c.csv", "broken at line 2"))
        });
        match late {
            Err(ImportError::Other(e)) => assert!(e.to_string().contains("c.csv: broken at line 2"), "{e}"),
            other => panic!("expected a fatal error, got {other:?}"),
        }
        drop(txn);
        assert!(ws.manifest().unwrap().sources.is_empty());
        assert_eq!(std::fs::read_dir(dir.path().join("interactions")).unwrap().count(), 0);
    }
}
