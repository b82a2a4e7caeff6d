//! The workspace folder: `manifest.json`, Parquet batches under `interactions/`, rejected
//! records under `rejects/`. Every change goes through a [`Transaction`] whose files are
//! staged under `.tmp/` and become visible only when the manifest is replaced atomically.

mod batch;
pub mod lock;
mod manifest;

pub use batch::{
    count_rows, for_each_slice, interactions_schema, read_columns, scan_batches, to_frame, BatchWriter, InteractionRow,
    Interner, RowChunk, StrLists, INTERACTION_COLUMNS,
};
pub use manifest::{
    options_json, read_entries, Counts, Manifest, ManifestJson, SourceEntry, NEAR_WHATSAPP_EXPORT_CAP, SCHEMA_VERSION,
};

use anyhow::{Context, Result};
use lock::Hold;
use serde::Serialize;
use std::fs::{self, File};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

/// Default workspace folder when neither `--workspace` nor `OMNITRAIL_WORKSPACE` is given.
pub const DEFAULT_DIR: &str = "omnitrail-data";

/// An opened workspace folder.
#[derive(Debug)]
pub struct Workspace {
    root: PathBuf,
    /// What an import needs of the stored sources, read when the workspace opens (and
    /// again after a commit).
    stored: std::sync::OnceLock<StoredIndex>,
    /// This command's hold on the workspace (see [`lock`]), let go when it is dropped.
    _hold: Option<File>,
}

impl Workspace {
    /// Opens (creating if needed) the workspace at `root` to change it, held alone (another
    /// command's hold is waited for), and removes what an interrupted import left behind:
    /// staged files and batches that no manifest entry references.
    pub fn open(root: &Path) -> Result<Workspace> {
        for dir in ["interactions", "rejects", ".tmp"] {
            fs::create_dir_all(root.join(dir))
                .with_context(|| format!("cannot create workspace folder {}", root.join(dir).display()))?;
        }
        let ws = Workspace::at(root, lock::acquire(root, Hold::Alone)?);
        ws.recover()?;
        Ok(ws)
    }

    /// Opens an existing workspace to read it, without creating anything, held shared with
    /// other readers. When an interrupted command left files and no other command is using
    /// it, it is first recovered as [`Workspace::open`] does. Its manifest is read only when
    /// asked, and commands look at each source as it is read ([`Workspace::for_each_source`]):
    /// a workspace of 200 000 chats holds 250 MB of entries.
    pub fn open_existing(root: &Path) -> Result<Workspace> {
        Workspace::open_existing_as(root, Hold::Shared)
    }

    /// An existing workspace opened to change it (`match` writes its customers), held alone.
    pub fn open_existing_to_change(root: &Path) -> Result<Workspace> {
        Workspace::open_existing_as(root, Hold::Alone)
    }

    fn open_existing_as(root: &Path, hold: Hold) -> Result<Workspace> {
        let exists = || root.join("manifest.json").exists();
        let none = || {
            anyhow::anyhow!(
                "no workspace at {}: run `omnitrail import` or `omnitrail audit` first (or pass --workspace DIR)",
                root.display()
            )
        };
        // A first import holds the lock before it writes a manifest: wait for it.
        if !exists() && !root.join(".lock").exists() {
            return Err(none());
        }
        if hold == Hold::Shared {
            // What an interrupted command left waits in `.tmp/`: when it is there and
            // nobody is using the workspace, clear it (which reads the manifest once more).
            let leftovers = fs::read_dir(root.join(".tmp")).is_ok_and(|mut d| d.next().is_some());
            if let Some(alone) = leftovers.then(|| lock::try_alone(root)).flatten() {
                Workspace::at(root, Some(alone)).recover()?;
            }
        }
        let ws = Workspace::at(root, lock::acquire(root, hold)?);
        if !exists() {
            return Err(none());
        }
        if hold == Hold::Alone {
            ws.recover()?;
        }
        Ok(ws)
    }

    /// The workspace at `root`, held by `hold`, nothing read yet.
    fn at(root: &Path, hold: Option<File>) -> Workspace {
        Workspace {
            root: root.to_path_buf(),
            stored: Default::default(),
            _hold: hold,
        }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// What the workspace holds, read whole from disk (commands look at each source as it
    /// is read instead: [`Workspace::for_each_source`]).
    pub fn manifest(&self) -> Result<Manifest> {
        Manifest::load(&self.root.join("manifest.json"))
    }

    /// Writes `manifest.json` as pretty JSON (what `status --json` prints), entry by entry
    /// when the file has the layout omnitrail writes, else from the manifest read whole.
    pub fn write_manifest_json(&self, out: &mut dyn Write) -> Result<()> {
        let path = self.root.join("manifest.json");
        if manifest::write_json_streamed(&path, &mut *out)? {
            return Ok(());
        }
        self.manifest()?.write_json(out)
    }

    /// Calls `each` with every stored source in manifest order, read entry by entry (a
    /// command that looks at each source once need not hold 200 000 of them).
    pub fn for_each_source(&self, each: impl FnMut(SourceEntry) -> Result<()>) -> Result<()> {
        manifest::read_entries(&self.root.join("manifest.json"), each).map(drop)
    }

    fn recover(&self) -> Result<()> {
        let tmp = self.root.join(".tmp");
        for entry in fs::read_dir(&tmp)?.flatten() {
            let _ = fs::remove_file(entry.path());
        }
        let referenced = &self.stored()?.referenced;
        for dir in ["interactions", "rejects"] {
            for entry in fs::read_dir(self.root.join(dir))?.flatten() {
                let rel = format!("{dir}/{}", entry.file_name().to_string_lossy());
                if !referenced.contains(&rel) {
                    let _ = fs::remove_file(entry.path());
                }
            }
        }
        Ok(())
    }

    /// Starts a change. Nothing is visible to other commands until [`Transaction::commit`].
    pub fn begin(&mut self) -> Transaction<'_> {
        let entries = self
            .root
            .join(".tmp")
            .join(format!("manifest-{}.part", std::process::id()));
        Transaction {
            ws: self,
            staged: Vec::new(),
            entries: StagedEntries {
                path: entries,
                json: None,
            },
            shared: None,
        }
    }

    /// Interaction batch files of every source, relative to the root (optionally one channel
    /// only), each named once, in manifest order.
    pub fn interaction_batches(&self, channel: Option<&str>) -> Result<Vec<String>> {
        self.batches_of(|c| channel.is_none_or(|channel| c == channel))
    }

    /// The batch files holding the sources of the channels `keep` selects, each named once
    /// (the sources of one import share a batch), in manifest order.
    pub fn batches_of(&self, keep: impl Fn(&str) -> bool) -> Result<Vec<String>> {
        let mut seen = std::collections::HashSet::new();
        Ok(self
            .stored()?
            .batches
            .iter()
            .filter(|(c, b)| keep(c) && seen.insert(b))
            .map(|(_, b)| b.clone())
            .collect())
    }

    /// All interactions as a lazy polars scan; `None` when nothing was imported yet.
    pub fn scan_interactions(&self) -> Result<Option<polars::prelude::LazyFrame>> {
        batch::scan_batches(&self.root, &self.interaction_batches(None)?)
    }

    /// The stored source with this content hash, if any.
    pub fn source_by_hash(&self, content_hash: &str) -> Result<Option<StoredSource<'_>>> {
        let stored = self.stored()?;
        let digest = hash_digest(content_hash);
        let from = stored.by_hash.partition_point(|&(d, _)| d < digest);
        Ok(stored.by_hash[from..]
            .iter()
            .take_while(|&&(d, _)| d == digest)
            .map(|&(_, i)| StoredSource::unpack(&stored.sources[i as usize]))
            .find(|s| s.content_hash == content_hash))
    }

    /// The index of the stored sources, built from the manifest entry by entry when first
    /// asked (and again after a commit).
    fn stored(&self) -> Result<&StoredIndex> {
        if let Some(stored) = self.stored.get() {
            return Ok(stored);
        }
        let mut index = StoredIndex::default();
        let version = manifest::read_entries(&self.root.join("manifest.json"), |s: EntryFacts| {
            index.add(&s);
            Ok(())
        })?;
        index.schema_version = version.unwrap_or(SCHEMA_VERSION);
        // Stable: of several sources with one content, the first stored is found.
        index.by_hash.sort_by_key(|&(digest, _)| digest);
        index.add_batch_parts(&self.root);
        Ok(self.stored.get_or_init(|| index))
    }
}

/// What an import needs to know of the stored sources, gathered entry by entry: a workspace
/// of 200 000 chats holds 240 MB of manifest entries, and an import into it needs a fifth.
#[derive(Debug, Default)]
struct StoredIndex {
    schema_version: u32,
    /// (digest of the content hash, position in `sources`), sorted by digest.
    by_hash: Vec<(u64, u32)>,
    /// Each source's [`StoredSource`], packed into one string.
    sources: Vec<Box<str>>,
    /// The batch and rejects files the entries name.
    referenced: std::collections::HashSet<String>,
    /// (channel, batch) of each source with a batch, in manifest order, a pair repeated only
    /// where the sources of two channels alternate.
    batches: Vec<(String, String)>,
}

/// The fields of a manifest entry that [`StoredIndex`] keeps; read alone, the others (its
/// notes and options) are skipped without being built.
#[derive(Debug, serde::Deserialize)]
struct EntryFacts {
    content_hash: String,
    path: String,
    imported_at: String,
    format: String,
    channel: String,
    first_ts: Option<String>,
    last_ts: Option<String>,
    batch: Option<String>,
    rejects: Option<String>,
}

impl StoredIndex {
    /// Adds the further files of batches past [`batch::ROW_GROUPS_PER_FILE`] row groups,
    /// which the entries do not name (they are written before their batch ends): each
    /// after its first file, as referenced.
    fn add_batch_parts(&mut self, root: &Path) {
        let mut files_of: std::collections::HashMap<String, Vec<String>> = Default::default();
        let mut batches = Vec::with_capacity(self.batches.len());
        for (channel, first) in std::mem::take(&mut self.batches) {
            let files = files_of
                .entry(first)
                .or_insert_with_key(|first| batch::batch_files(root, first));
            for file in files.iter().skip(1) {
                self.referenced.insert(file.clone());
            }
            batches.extend(files.iter().map(|f| (channel.clone(), f.clone())));
        }
        self.batches = batches;
    }

    fn add(&mut self, s: &EntryFacts) {
        self.by_hash
            .push((hash_digest(&s.content_hash), self.sources.len() as u32));
        self.sources.push(StoredSource::pack(s));
        for file in [&s.batch, &s.rejects].into_iter().flatten() {
            if !self.referenced.contains(file) {
                self.referenced.insert(file.clone());
            }
        }
        if let Some(batch) = &s.batch {
            if self.batches.last().is_none_or(|(c, b)| c != &s.channel || b != batch) {
                self.batches.push((s.channel.clone(), batch.clone()));
            }
        }
    }
}

/// What an import says of a file whose content is already stored: the stored source's
/// content hash, file, import time, format and time span.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StoredSource<'a> {
    pub content_hash: &'a str,
    pub path: &'a str,
    pub imported_at: &'a str,
    pub format: &'a str,
    pub first_ts: Option<&'a str>,
    pub last_ts: Option<&'a str>,
}

impl<'a> StoredSource<'a> {
    /// The fields joined by NUL, which no path, time or hash holds (six strings per source
    /// cost six allocations).
    fn pack(s: &EntryFacts) -> Box<str> {
        let parts = [
            s.content_hash.as_str(),
            &s.path,
            &s.imported_at,
            &s.format,
            s.first_ts.as_deref().unwrap_or(""),
            s.last_ts.as_deref().unwrap_or(""),
        ];
        parts.join("\0").into_boxed_str()
    }

    fn unpack(packed: &'a str) -> StoredSource<'a> {
        let mut parts = packed.split('\0');
        let mut next = || parts.next().unwrap_or("");
        let (content_hash, path, imported_at, format) = (next(), next(), next(), next());
        let some = |t: &'a str| (!t.is_empty()).then_some(t);
        let (first_ts, last_ts) = (some(next()), some(next()));
        StoredSource {
            content_hash,
            path,
            imported_at,
            format,
            first_ts,
            last_ts,
        }
    }
}

/// 64 bits of a content hash: its first 16 hex digits (BLAKE3 hex), or a hash of the text
/// for anything else.
fn hash_digest(content_hash: &str) -> u64 {
    match content_hash.get(..16).map(|hex| u64::from_str_radix(hex, 16)) {
        Some(Ok(digest)) => digest,
        _ => {
            use std::hash::{Hash, Hasher};
            let mut hasher = std::collections::hash_map::DefaultHasher::new();
            content_hash.hash(&mut hasher);
            hasher.finish()
        }
    }
}

/// A staged change to the workspace. Dropping it without committing removes the staged files.
pub struct Transaction<'a> {
    ws: &'a mut Workspace,
    /// (staged path, final path relative to root)
    staged: Vec<(PathBuf, String)>,
    entries: StagedEntries,
    /// The batch every source of this change writes into, once the first one asked for it.
    shared: Option<(BatchWriter, String)>,
}

impl Transaction<'_> {
    /// A Parquet writer for one import batch, staged until commit.
    pub fn batch_writer(&mut self, batch_id: &str) -> Result<(BatchWriter, String)> {
        let rel = format!("interactions/{batch_id}.parquet");
        let staged = self.ws.root.join(".tmp").join(format!("{batch_id}.parquet"));
        let writer = BatchWriter::create(&staged)?;
        self.staged.push((staged, rel.clone()));
        Ok((writer, rel))
    }

    /// The Parquet writer all sources of this change share: one batch per import, so that
    /// thousands of small chats make one file (with full row groups), not thousands.
    /// It is named after the source that first asks for it; [`Transaction::commit`] closes it.
    pub fn shared_batch(&mut self, first_source_id: &str) -> Result<(&mut BatchWriter, String)> {
        if self.shared.is_none() {
            // A source that failed in an earlier import may have named that import's batch:
            // never reuse the name of a file in place.
            let mut name = first_source_id.to_string();
            let mut n = 1;
            while self.ws.root.join(format!("interactions/{name}.parquet")).exists() {
                n += 1;
                name = format!("{first_source_id}-{n}");
            }
            let (writer, rel) = self.batch_writer(&name)?;
            self.shared = Some((writer, rel));
        }
        let (writer, rel) = self.shared.as_mut().expect("just set");
        Ok((writer, rel.clone()))
    }

    /// A JSON-lines writer for one batch's rejected records, staged until commit. The file
    /// is created with the first reject: most sources have none (a folder of 100 000 chats
    /// would create and delete as many files).
    pub fn rejects_writer(&mut self, batch_id: &str) -> Result<(RejectWriter, String)> {
        let rel = format!("rejects/{batch_id}.jsonl");
        let staged = self.ws.root.join(".tmp").join(format!("{batch_id}.jsonl"));
        self.staged.push((staged.clone(), rel.clone()));
        Ok((
            RejectWriter {
                path: staged,
                out: None,
                count: 0,
            },
            rel,
        ))
    }

    /// Records a source; it becomes part of the manifest on commit.
    pub fn add_source(&mut self, entry: SourceEntry) -> Result<()> {
        let json = match &mut self.entries.json {
            Some(json) => json,
            None => {
                let path = &self.entries.path;
                let file = File::create(path).with_context(|| format!("cannot create {}", path.display()))?;
                self.entries
                    .json
                    .insert(ManifestJson::headless(BufWriter::with_capacity(1 << 16, file)))
            }
        };
        json.entry(&entry)
            .with_context(|| format!("cannot write {}", self.entries.path.display()))
    }

    /// How many sources were staged so far.
    pub fn staged_sources(&self) -> usize {
        self.entries.json.as_ref().map_or(0, ManifestJson::entries)
    }

    /// Drops a staged source and its files (e.g. a file that turned out to be unusable).
    pub fn discard_files(&mut self, rels: &[String]) {
        self.staged.retain(|(path, rel)| {
            if rels.contains(rel) {
                let _ = fs::remove_file(path);
                false
            } else {
                true
            }
        });
    }

    /// The further files of staged batches past [`batch::ROW_GROUPS_PER_FILE`] row groups
    /// (their writers made them): (staged path, final path).
    fn staged_parts(&self) -> Vec<(PathBuf, String)> {
        let tmp = self.ws.root.join(".tmp");
        self.staged
            .iter()
            .filter_map(|(path, rel)| Some((path.file_name()?.to_str()?, rel)))
            .filter(|(_, rel)| rel.starts_with("interactions/"))
            .flat_map(|(name, rel)| {
                let staged = batch::batch_files(&tmp, name);
                let placed = (2..).map(move |part| batch::batch_part(rel, part));
                staged.into_iter().skip(1).map(|name| tmp.join(name)).zip(placed)
            })
            .collect()
    }

    /// Forgets a staged file that was never created (a rejects file without rejects).
    pub fn unstage(&mut self, rel: &str) {
        self.staged.retain(|(_, r)| r != rel);
    }

    /// Makes the change visible: staged files are synced and moved into place, then the
    /// manifest is replaced atomically. A crash before the manifest rename leaves only
    /// unreferenced files, which the next [`Workspace::open`] removes.
    pub fn commit(mut self) -> Result<()> {
        if let Some((writer, rel)) = self.shared.take() {
            if writer.finish()? == 0 {
                self.discard_files(&[rel]);
            }
        }
        let parts = self.staged_parts();
        self.staged.extend(parts);
        for (path, _) in &self.staged {
            File::open(path)?.sync_all()?;
        }
        for (path, rel) in &self.staged {
            let dest = self.ws.root.join(rel);
            if dest.exists() {
                anyhow::bail!("{} already exists: refusing to replace a stored file", dest.display());
            }
            fs::rename(path, &dest).with_context(|| format!("cannot move {} into place", dest.display()))?;
        }
        self.staged.clear();
        let staged = match self.entries.json.take() {
            Some(json) => {
                let count = json.entries();
                json.into_inner().flush()?;
                count
            }
            None => 0,
        };
        // The stored entries, then the staged ones copied from their file. The stored ones
        // are copied as they are when the file has the layout this writes, else read and
        // written again one by one.
        let stored = self.ws.stored()?;
        let (schema_version, stored_count) = (stored.schema_version, stored.sources.len());
        let manifest_path = self.ws.root.join("manifest.json");
        let entries_path = &self.entries.path;
        let span = match stored_count {
            1.. => manifest::entries_span(&manifest_path)?,
            0 => None,
        };
        write_atomic_with(&manifest_path, |out| {
            let mut json = ManifestJson::start(out, schema_version)?;
            match span {
                Some(span) => {
                    use std::io::{Read, Seek};
                    let mut file = File::open(&manifest_path)?;
                    file.seek(std::io::SeekFrom::Start(span.start))?;
                    let bytes = std::io::BufReader::with_capacity(1 << 16, file.take(span.end - span.start));
                    json.splice(bytes, stored_count)?;
                }
                None => {
                    manifest::read_entries(&manifest_path, |entry| json.entry(&entry))?;
                }
            }
            if staged > 0 {
                let file =
                    File::open(entries_path).with_context(|| format!("cannot read {}", entries_path.display()))?;
                json.splice(std::io::BufReader::with_capacity(1 << 16, file), staged)?;
            }
            json.finish()
        })?;
        sync_dir(&self.ws.root);
        self.ws.stored = Default::default();
        Ok(())
    }
}

impl Drop for Transaction<'_> {
    fn drop(&mut self) {
        // The shared writer's thread must stop before its file goes.
        drop(self.shared.take());
        let parts = self.staged_parts();
        for (path, _) in self.staged.iter().chain(&parts) {
            let _ = fs::remove_file(path);
        }
        drop(self.entries.json.take());
        let _ = fs::remove_file(&self.entries.path);
    }
}

/// The manifest entries a [`Transaction`] staged, in a file under `.tmp/` (100 000 chats'
/// entries took 200 MB of memory), created with the first.
struct StagedEntries {
    path: PathBuf,
    json: Option<ManifestJson<BufWriter<File>>>,
}

/// One rejected input record, as stored in `rejects/<batch>.jsonl`.
#[derive(Debug, Clone, Serialize)]
pub struct Reject<'a> {
    pub file: &'a str,
    pub line: Option<u64>,
    pub byte_offset: Option<u64>,
    pub reason: &'a str,
    pub raw: &'a str,
}

/// Appends rejects as JSON lines.
pub struct RejectWriter {
    path: PathBuf,
    /// Opened at the first reject.
    out: Option<BufWriter<File>>,
    count: u64,
}

/// A rejected record's text longer than this is kept by its beginning only (a message is at
/// most 65 536 characters; a 60 MB field is garbage, and the rejects file must stay readable).
pub const MAX_REJECT_RAW: usize = 1 << 16;

/// [`Reject`] as written: `raw` cut at [`MAX_REJECT_RAW`], `raw_bytes` saying how long it was.
#[derive(Serialize)]
struct StoredReject<'a> {
    #[serde(flatten)]
    reject: Reject<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    raw_bytes: Option<usize>,
}

impl RejectWriter {
    pub fn write(&mut self, reject: &Reject<'_>) -> Result<()> {
        let mut stored = StoredReject {
            reject: reject.clone(),
            raw_bytes: None,
        };
        if reject.raw.len() > MAX_REJECT_RAW {
            let cut = (0..=MAX_REJECT_RAW)
                .rev()
                .find(|&i| reject.raw.is_char_boundary(i))
                .unwrap_or(0);
            stored.reject.raw = &reject.raw[..cut];
            stored.raw_bytes = Some(reject.raw.len());
        }
        let out = match &mut self.out {
            Some(out) => out,
            None => {
                let file =
                    File::create(&self.path).with_context(|| format!("cannot create {}", self.path.display()))?;
                self.out.insert(BufWriter::new(file))
            }
        };
        serde_json::to_writer(&mut *out, &stored)?;
        out.write_all(b"\n")?;
        self.count += 1;
        Ok(())
    }

    pub fn count(&self) -> u64 {
        self.count
    }

    pub fn finish(mut self) -> Result<u64> {
        if let Some(out) = &mut self.out {
            out.flush()?;
        }
        Ok(self.count)
    }
}

/// Writes `bytes` to `path` through a temporary sibling, fsync and rename.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    write_atomic_with(path, |out| Ok(out.write_all(bytes)?))
}

/// Like [`write_atomic`], with the content streamed by `write`.
pub fn write_atomic_with(path: &Path, write: impl FnOnce(&mut BufWriter<File>) -> Result<()>) -> Result<()> {
    let tmp = path.with_extension("tmp-write");
    {
        let f = File::create(&tmp).with_context(|| format!("cannot write {}", tmp.display()))?;
        let mut out = BufWriter::with_capacity(1 << 16, f);
        write(&mut out).with_context(|| format!("cannot write {}", tmp.display()))?;
        let f = out.into_inner().map_err(|e| e.into_error())?;
        f.sync_all()?;
    }
    fs::rename(&tmp, path).with_context(|| format!("cannot replace {}", path.display()))?;
    Ok(())
}

fn sync_dir(dir: &Path) {
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
}

/// Whether `e` comes from a full disk (polars passes the I/O error on as text only).
pub fn disk_full(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::StorageFull)
            || c.to_string().contains("No space left on device")
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_full_disk_is_recognised_as_an_error_or_as_polars_text() {
        let io = std::io::Error::new(std::io::ErrorKind::StorageFull, "full");
        assert!(disk_full(&anyhow::Error::new(io).context("writing the batch")));
        let polars = anyhow::anyhow!("parquet: underlying IO error: No space left on device (os error 28)");
        assert!(disk_full(&polars));
        assert!(!disk_full(&anyhow::anyhow!("not a WhatsApp export")));
    }
    use super::*;

    #[test]
    fn an_overlong_rejected_record_is_kept_by_its_beginning_with_its_length() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.jsonl");
        let mut w = RejectWriter {
            path: path.clone(),
            out: None,
            count: 0,
        };
        let long = "é".repeat(MAX_REJECT_RAW);
        for raw in ["short", long.as_str()] {
            let r = Reject {
                file: "f.csv",
                line: Some(2),
                byte_offset: Some(10),
                reason: "why",
                raw,
            };
            w.write(&r).unwrap();
        }
        assert_eq!(w.finish().unwrap(), 2);
        let lines: Vec<serde_json::Value> = std::fs::read_to_string(&path)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines[0]["raw"], "short");
        assert!(lines[0].get("raw_bytes").is_none());
        assert_eq!(lines[1]["raw_bytes"], long.len());
        assert_eq!(lines[1]["raw"].as_str().unwrap().len(), MAX_REJECT_RAW);
        assert_eq!(lines[1]["line"], 2);
    }

    #[test]
    fn dropped_transaction_leaves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let mut ws = Workspace::open(dir.path()).unwrap();
        {
            let mut txn = ws.begin();
            let (_w, _) = txn.rejects_writer("b1").unwrap();
            let (mut w, _) = txn.rejects_writer("b2").unwrap();
            let reject = Reject {
                file: "f.txt",
                line: Some(1),
                byte_offset: Some(0),
                reason: "why",
                raw: "x",
            };
            w.write(&reject).unwrap();
            w.finish().unwrap();
            txn.add_source(source("s-1", "00")).unwrap();
            assert_eq!(txn.staged_sources(), 1);
            assert_eq!(fs::read_dir(dir.path().join(".tmp")).unwrap().count(), 2);
        }
        assert_eq!(fs::read_dir(dir.path().join(".tmp")).unwrap().count(), 0);
        assert!(!dir.path().join("manifest.json").exists());
        assert!(ws.manifest().unwrap().sources.is_empty());
    }

    fn source(id: &str, hash: &str) -> SourceEntry {
        SourceEntry {
            source_id: id.into(),
            path: format!("{id}.txt"),
            size: 1,
            content_hash: hash.into(),
            format: "whatsapp".into(),
            channel: "whatsapp".into(),
            options: serde_json::value::RawValue::NULL.to_owned(),
            counts: Counts::default(),
            first_ts: None,
            last_ts: None,
            imported_at: String::new(),
            batch: None,
            rejects: None,
            notes: Default::default(),
        }
    }

    /// An inbound email of `source_id`.
    fn email(source_id: &str) -> crate::model::Interaction {
        use crate::model::{Channel, Direction, Interaction, Kind};
        Interaction::new(
            source_id,
            Channel::Email,
            Direction::Inbound,
            Kind::Message,
            1_700_000_000_000,
        )
    }

    /// The workspace's sources by id, in manifest order.
    fn source_ids(ws: &Workspace) -> Vec<String> {
        ws.manifest()
            .unwrap()
            .sources
            .iter()
            .map(|s| s.source_id.clone())
            .collect()
    }

    #[test]
    fn a_commit_keeps_the_stored_entries_whether_copied_or_written_again() {
        let dir = tempfile::tempdir().unwrap();
        let ids = |root: &Path| source_ids(&Workspace::open(root).unwrap());
        let commit = |ids: &[&str]| {
            // Opened afresh each time: the manifest is not in memory.
            let mut ws = Workspace::open(dir.path()).unwrap();
            let mut txn = ws.begin();
            for id in ids {
                txn.add_source(source(id, id)).unwrap();
            }
            txn.commit().unwrap();
        };
        commit(&["a", "b"]);
        commit(&["c"]);
        assert_eq!(ids(dir.path()), ["a", "b", "c"]);
        // Written by another tool: compact, keys reordered. Read and written again.
        let path = dir.path().join("manifest.json");
        let m = Manifest::load(&path).unwrap();
        let compact = serde_json::json!({"sources": m.sources, "schema_version": 1});
        fs::write(&path, compact.to_string()).unwrap();
        commit(&["d"]);
        assert_eq!(ids(dir.path()), ["a", "b", "c", "d"]);
        let mut pretty = Vec::new();
        Manifest::load(&path).unwrap().write_json(&mut pretty).unwrap();
        assert_eq!(fs::read(&path).unwrap(), pretty, "back in the usual layout");
    }

    #[test]
    fn staged_sources_follow_the_stored_ones_and_are_read_back_after_each_commit() {
        let dir = tempfile::tempdir().unwrap();
        let mut ws = Workspace::open(dir.path()).unwrap();
        for round in 0..2 {
            let mut txn = ws.begin();
            for i in 0..3 {
                let id = format!("s-{round}{i}");
                txn.add_source(source(&id, &id)).unwrap();
            }
            txn.commit().unwrap();
            let ids = source_ids(&ws);
            assert_eq!(ids.len(), 3 * (round + 1));
            assert_eq!(ids.last(), Some(&format!("s-{round}2")));
            assert_eq!(ws.source_by_hash("s-01").unwrap().map(|s| s.path), Some("s-01.txt"));
        }
        // Stored sources are found by content hash, the first of two with one content.
        let mut txn = ws.begin();
        let mut again = source("s-20", "s-01");
        again.first_ts = Some("2024-01-01T00:00:00Z".into());
        txn.add_source(again).unwrap();
        txn.commit().unwrap();
        drop(ws);
        let mut reopened = Workspace::open(dir.path()).unwrap();
        let found = reopened.source_by_hash("s-01").unwrap().unwrap();
        assert_eq!((found.path, found.first_ts, found.last_ts), ("s-01.txt", None, None));
        assert!(reopened.source_by_hash("s-03").unwrap().is_none());
        let mut txn = reopened.begin();
        txn.add_source(source("s-30", &"ab".repeat(32))).unwrap();
        txn.commit().unwrap();
        drop(reopened);
        let reopened = Workspace::open(dir.path()).unwrap();
        assert_eq!(
            reopened.source_by_hash(&"ab".repeat(32)).unwrap().map(|s| s.format),
            Some("whatsapp")
        );
        assert!(reopened
            .source_by_hash(&format!("{}00", "ab".repeat(31)))
            .unwrap()
            .is_none());
        let ids = source_ids(&reopened);
        assert_eq!(ids, ["s-00", "s-01", "s-02", "s-10", "s-11", "s-12", "s-20", "s-30"]);
        assert_eq!(fs::read_dir(dir.path().join(".tmp")).unwrap().count(), 0);
    }

    #[test]
    fn orphan_batches_are_removed_on_open() {
        let dir = tempfile::tempdir().unwrap();
        Workspace::open(dir.path()).unwrap();
        fs::write(dir.path().join("interactions/orphan.parquet"), b"x").unwrap();
        Workspace::open(dir.path()).unwrap();
        assert!(!dir.path().join("interactions/orphan.parquet").exists());
    }

    #[test]
    fn scan_interactions_reads_every_batch_lazily() {
        use polars::prelude::*;
        let dir = tempfile::tempdir().unwrap();
        let mut ws = Workspace::open(dir.path()).unwrap();
        assert!(ws.scan_interactions().unwrap().is_none());
        let mut txn = ws.begin();
        let (mut batch, rel) = txn.batch_writer("t-1").unwrap();
        let mut row = email("t-1");
        row.interaction_id = "first".into();
        batch.push(row.clone()).unwrap();
        row.interaction_id = "second".into();
        batch.push(row).unwrap();
        batch.finish().unwrap();
        let entry = SourceEntry {
            source_id: "t-1".into(),
            path: "t.mbox".into(),
            size: 1,
            content_hash: "00".into(),
            format: "mbox".into(),
            channel: "email".into(),
            options: serde_json::value::RawValue::NULL.to_owned(),
            counts: Counts::default(),
            first_ts: None,
            last_ts: None,
            imported_at: String::new(),
            batch: Some(rel),
            rejects: None,
            notes: Default::default(),
        };
        txn.add_source(entry).unwrap();
        txn.commit().unwrap();
        let df = ws
            .scan_interactions()
            .unwrap()
            .unwrap()
            .select([col("interaction_id")])
            .collect()
            .unwrap();
        assert_eq!(df.height(), 2);
    }

    #[test]
    fn a_batch_past_its_row_groups_per_file_goes_on_in_further_files_read_as_one() {
        let dir = tempfile::tempdir().unwrap();
        // Unit tests put two row groups in a file: five make three files.
        let rows = batch::ROWS_PER_GROUP * 4 + 7;
        let stage = |ws: &mut Workspace, commit: bool| {
            let mut txn = ws.begin();
            let (batch, rel) = txn.shared_batch("t-1").unwrap();
            let mut row = email("t-1");
            for i in 0..rows {
                row.interaction_id = format!("i-{i}");
                batch.push(row.clone()).unwrap();
            }
            let mut entry = source("t-1", "00");
            entry.batch = Some(rel);
            txn.add_source(entry).unwrap();
            if commit {
                txn.commit().unwrap();
            }
        };
        let mut ws = Workspace::open(dir.path()).unwrap();
        stage(&mut ws, false);
        assert_eq!(
            fs::read_dir(dir.path().join(".tmp")).unwrap().count(),
            0,
            "an abandoned batch leaves no file"
        );
        stage(&mut ws, true);
        let files = [
            "interactions/t-1.parquet",
            "interactions/t-1.part2.parquet",
            "interactions/t-1.part3.parquet",
        ];
        let check = |ws: &Workspace| {
            assert_eq!(ws.interaction_batches(None).unwrap(), files);
            let ids = ws
                .scan_interactions()
                .unwrap()
                .unwrap()
                .select([polars::prelude::col("interaction_id")])
                .collect()
                .unwrap();
            let ids: Vec<String> = ids
                .column("interaction_id")
                .unwrap()
                .str()
                .unwrap()
                .iter()
                .map(|id| id.unwrap_or_default().to_owned())
                .collect();
            assert_eq!(ids, (0..rows).map(|i| format!("i-{i}")).collect::<Vec<_>>());
        };
        check(&ws);
        assert_eq!(fs::read_dir(dir.path().join(".tmp")).unwrap().count(), 0);
        // Kept by the recovery of the next command, which removes a file no batch explains.
        drop(ws);
        fs::write(dir.path().join("interactions/t-9.part2.parquet"), b"").unwrap();
        let ws = Workspace::open(dir.path()).unwrap();
        check(&ws);
        assert_eq!(fs::read_dir(dir.path().join("interactions")).unwrap().count(), 3);
    }
}
