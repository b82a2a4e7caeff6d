//! `manifest.json`: what the workspace holds, one entry per imported source.

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use std::path::Path;

/// Version of the manifest and Parquet schemas; bumped on incompatible change.
pub const SCHEMA_VERSION: u32 = 1;

/// How the note on a chat that WhatsApp's export cap may have cut begins (the coverage report
/// looks for it).
pub const NEAR_WHATSAPP_EXPORT_CAP: &str = "close to WhatsApp's ~40 000-message export cap";

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Manifest {
    pub schema_version: u32,
    pub sources: Vec<SourceEntry>,
}

/// Per-source accounting: `read = imported + rejected + duplicates`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    pub read: u64,
    pub imported: u64,
    pub rejected: u64,
    pub duplicates: u64,
}

impl std::ops::AddAssign for Counts {
    fn add_assign(&mut self, other: Counts) {
        self.read += other.read;
        self.imported += other.imported;
        self.rejected += other.rejected;
        self.duplicates += other.duplicates;
    }
}

/// One imported file (or zip entry).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SourceEntry {
    pub source_id: String,
    pub path: String,
    pub size: u64,
    /// BLAKE3 of the file's bytes: the same content is never imported twice.
    pub content_hash: String,
    pub format: String,
    pub channel: String,
    /// Options in force (time zone, region, date order, business side) and how each was decided.
    /// Kept as JSON text (see [`options_json`]): few readers look inside, and a workspace can
    /// list 100 000 sources, each of whose options as a JSON tree takes about 600 bytes.
    pub options: Box<RawValue>,
    pub counts: Counts,
    pub first_ts: Option<String>,
    pub last_ts: Option<String>,
    pub imported_at: String,
    pub batch: Option<String>,
    pub rejects: Option<String>,
    /// What the importer decided or noticed (date order and its evidence, inferred business side, …).
    /// Shared with the import's report of the source (a folder of 100 000 chats would hold
    /// every note twice).
    #[serde(default)]
    pub notes: std::sync::Arc<[String]>,
}

/// A source's options as stored in [`SourceEntry::options`].
pub fn options_json(options: &serde_json::Value) -> Box<RawValue> {
    serde_json::value::to_raw_value(options).unwrap_or_else(|_| RawValue::NULL.to_owned())
}

impl SourceEntry {
    /// The options as a JSON value (`null` if they do not parse).
    pub fn options_value(&self) -> serde_json::Value {
        serde_json::from_str(self.options.get()).unwrap_or(serde_json::Value::Null)
    }
}

impl Manifest {
    pub fn empty() -> Manifest {
        Manifest {
            schema_version: SCHEMA_VERSION,
            sources: Vec::new(),
        }
    }

    pub fn load(path: &Path) -> Result<Manifest> {
        let mut sources = Vec::new();
        let schema_version = read_entries(path, |entry| {
            sources.push(entry);
            Ok(())
        })?;
        Ok(Manifest {
            schema_version: schema_version.unwrap_or(SCHEMA_VERSION),
            sources,
        })
    }

    /// Writes the manifest as pretty JSON, streamed (a workspace of 100 000 chats has a
    /// manifest of over 100 MB).
    pub fn write_json(&self, out: impl std::io::Write) -> Result<()> {
        let mut json = ManifestJson::start(out, self.schema_version)?;
        for entry in &self.sources {
            json.entry(entry)?;
        }
        json.finish()
    }
}

/// Reads the manifest at `path` one entry at a time, handing each to `each` (a workspace of
/// 200 000 chats has a 200 MB manifest: an import needs a few facts of each entry, not the
/// entries). An entry is read as `T`: a [`SourceEntry`], or a type of the few fields wanted
/// (the others are skipped without being kept). Returns the schema version, or `None` when
/// there is no manifest yet.
pub fn read_entries<T: serde::de::DeserializeOwned>(
    path: &Path,
    mut each: impl FnMut(T) -> Result<()>,
) -> Result<Option<u32>> {
    let file = match std::fs::File::open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
    };
    let mut reader = EntryReader {
        each: &mut each,
        failure: None,
        newer: None,
        entry: std::marker::PhantomData,
    };
    let mut json = serde_json::Deserializer::from_reader(std::io::BufReader::with_capacity(1 << 16, file));
    let read = serde::de::DeserializeSeed::deserialize(&mut reader, &mut json).and_then(|v| json.end().map(|()| v));
    if let Some(version) = reader.newer {
        anyhow::bail!(
            "{} has schema version {version}, newer than this omnitrail ({SCHEMA_VERSION}): upgrade omnitrail",
            path.display(),
        );
    }
    if let Some(failure) = reader.failure {
        return Err(failure);
    }
    let version = read.with_context(|| format!("{} is not a valid omnitrail manifest", path.display()))?;
    Ok(Some(version))
}

/// Writes the manifest at `path` to `out` entry by entry, as serializing the whole
/// [`Manifest`] would (a workspace of 200 000 sources held 250 MB of entries for `status
/// --json`). `false`, with nothing written, when the file does not begin as omnitrail writes
/// it (its schema version first): the caller then reads it whole.
pub fn write_json_streamed(path: &Path, out: impl std::io::Write) -> Result<bool> {
    use std::io::Read;
    let mut head = Vec::with_capacity(64);
    let file = std::fs::File::open(path).with_context(|| format!("cannot read {}", path.display()))?;
    file.take(64).read_to_end(&mut head)?;
    let Some((version, _)) = layout_head(&head) else {
        return Ok(false);
    };
    let mut json = ManifestJson::start(out, version)?;
    read_entries(path, |entry: SourceEntry| json.entry(&entry))?;
    json.finish()?;
    Ok(true)
}

/// The schema version a manifest laid out as [`ManifestJson`] writes it begins with, and
/// the bytes after its digits.
fn layout_head(head: &[u8]) -> Option<(u32, &[u8])> {
    let rest = head.strip_prefix(b"{\n  \"schema_version\": ".as_slice())?;
    let digits = rest.iter().take_while(|b| b.is_ascii_digit()).count();
    let version = std::str::from_utf8(&rest[..digits]).ok()?.parse().ok()?;
    Some((version, &rest[digits..]))
}

/// Where the entries of the manifest at `path` lie, when the file is laid out as
/// [`ManifestJson`] writes it: the text between `"sources": [` and the closing `\n  ]`, every
/// line of it indented by at least four spaces. Those bytes can be copied into a new manifest
/// as they are ([`ManifestJson::splice`]) instead of parsed and written again. `None` for any
/// other layout (an empty list, or a file written or edited by hand).
pub fn entries_span(path: &Path) -> Result<Option<std::ops::Range<u64>>> {
    use std::io::{BufRead, Read, Seek, SeekFrom};
    const FOOT: &[u8] = b"\n  ]\n}\n";
    let mut file = std::fs::File::open(path).with_context(|| format!("cannot read {}", path.display()))?;
    let len = file.metadata()?.len();
    let mut head = Vec::with_capacity(64);
    (&mut file).take(64).read_to_end(&mut head)?;
    let head = head.as_slice();
    let Some(after) = layout_head(head).and_then(|(_, rest)| rest.strip_prefix(b",\n  \"sources\": [\n".as_slice()))
    else {
        return Ok(None);
    };
    // The entries start at the line break before the first one.
    let start = (head.len() - after.len() - 1) as u64;
    if len < start + FOOT.len() as u64 {
        return Ok(None);
    }
    let end = len - FOOT.len() as u64;
    let mut foot = [0u8; FOOT.len()];
    file.seek(SeekFrom::Start(end))?;
    file.read_exact(&mut foot)?;
    if foot != FOOT {
        return Ok(None);
    }
    // Every line of the entries indented by four spaces or more: nothing at the top level.
    file.seek(SeekFrom::Start(start))?;
    let mut entries = std::io::BufReader::with_capacity(1 << 16, file.take(end - start));
    let mut indent_left = 0usize;
    loop {
        let chunk = entries.fill_buf()?;
        if chunk.is_empty() {
            break;
        }
        let mut at = 0;
        while at < chunk.len() {
            if indent_left > 0 {
                if chunk[at] != b' ' {
                    return Ok(None);
                }
                indent_left -= 1;
                at += 1;
                continue;
            }
            match memchr::memchr(b'\n', &chunk[at..]) {
                Some(i) => {
                    at += i + 1;
                    indent_left = 4;
                }
                None => at = chunk.len(),
            }
        }
        let n = chunk.len();
        entries.consume(n);
    }
    Ok((indent_left == 0).then_some(start..end))
}

/// The visitor of [`read_entries`]: the manifest object, its `sources` array element by element.
struct EntryReader<'f, F, T> {
    each: &'f mut F,
    /// What `each` failed with (serde only carries its own errors).
    failure: Option<anyhow::Error>,
    /// A schema version this omnitrail cannot read.
    newer: Option<u32>,
    entry: std::marker::PhantomData<fn() -> T>,
}

impl<'de, T: serde::de::DeserializeOwned, F: FnMut(T) -> Result<()>> serde::de::DeserializeSeed<'de>
    for &mut EntryReader<'_, F, T>
{
    type Value = u32;

    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> std::result::Result<u32, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de, T: serde::de::DeserializeOwned, F: FnMut(T) -> Result<()>> serde::de::Visitor<'de>
    for &mut EntryReader<'_, F, T>
{
    type Value = u32;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("an omnitrail manifest: {\"schema_version\": …, \"sources\": […]}")
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> std::result::Result<u32, A::Error> {
        use serde::de::Error;
        let mut version = None;
        while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
            match key.as_ref() {
                "schema_version" => {
                    let v: u32 = map.next_value()?;
                    if v > SCHEMA_VERSION {
                        self.newer = Some(v);
                        return Err(A::Error::custom("newer schema"));
                    }
                    version = Some(v);
                }
                "sources" => map.next_value_seed(SourcesReader(&mut *self))?,
                _ => {
                    map.next_value::<serde::de::IgnoredAny>()?;
                }
            }
        }
        version.ok_or_else(|| A::Error::missing_field("schema_version"))
    }
}

/// The `sources` array of an [`EntryReader`].
struct SourcesReader<'r, 'f, F, T>(&'r mut EntryReader<'f, F, T>);

impl<'de, T: serde::de::DeserializeOwned, F: FnMut(T) -> Result<()>> serde::de::DeserializeSeed<'de>
    for SourcesReader<'_, '_, F, T>
{
    type Value = ();

    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> std::result::Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de, T: serde::de::DeserializeOwned, F: FnMut(T) -> Result<()>> serde::de::Visitor<'de>
    for SourcesReader<'_, '_, F, T>
{
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a list of sources")
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> std::result::Result<(), A::Error> {
        while let Some(entry) = seq.next_element::<T>()? {
            if let Err(e) = (self.0.each)(entry) {
                self.0.failure = Some(e);
                return Err(serde::de::Error::custom("stopped"));
            }
        }
        Ok(())
    }
}

/// `manifest.json` written one entry at a time, byte for byte what serde_json's pretty printer
/// makes of a whole [`Manifest`]: an import of 100 000 chats stages its entries in a file
/// instead of memory, and the commit splices them in after the stored ones.
pub struct ManifestJson<W: std::io::Write> {
    out: W,
    entries: usize,
}

/// Indentation of an entry inside `"sources": [ … ]`.
const ENTRY_INDENT: &[u8] = b"    ";

impl<W: std::io::Write> ManifestJson<W> {
    pub fn start(mut out: W, schema_version: u32) -> Result<Self> {
        write!(out, "{{\n  \"schema_version\": {schema_version},\n  \"sources\": [")?;
        Ok(ManifestJson { out, entries: 0 })
    }

    /// Entries only, to be spliced into a manifest later (see [`ManifestJson::splice`]).
    pub fn headless(out: W) -> Self {
        ManifestJson { out, entries: 0 }
    }

    /// Appends one entry.
    pub fn entry(&mut self, entry: &SourceEntry) -> Result<()> {
        let text = serde_json::to_vec_pretty(entry)?;
        self.out.write_all(if self.entries == 0 { b"\n" } else { b",\n" })?;
        self.out.write_all(ENTRY_INDENT)?;
        // JSON strings escape their line breaks: every raw one is the printer's own.
        for (i, line) in text.split(|&b| b == b'\n').enumerate() {
            if i > 0 {
                self.out.write_all(b"\n")?;
                self.out.write_all(ENTRY_INDENT)?;
            }
            self.out.write_all(line)?;
        }
        self.entries += 1;
        Ok(())
    }

    /// Appends the `count` entries a [`ManifestJson::headless`] wrote.
    pub fn splice(&mut self, mut entries: impl std::io::Read, count: usize) -> Result<()> {
        if count == 0 {
            return Ok(());
        }
        let mut first = [0u8; 1];
        entries.read_exact(&mut first)?;
        anyhow::ensure!(first == *b"\n", "staged manifest entries do not start an entry");
        self.out.write_all(if self.entries == 0 { b"\n" } else { b",\n" })?;
        std::io::copy(&mut entries, &mut self.out)?;
        self.entries += count;
        Ok(())
    }

    /// Entries written so far.
    pub fn entries(&self) -> usize {
        self.entries
    }

    /// Closes the list and the object, and flushes.
    pub fn finish(mut self) -> Result<()> {
        self.out
            .write_all(if self.entries == 0 { b"]\n}\n" } else { b"\n  ]\n}\n" })?;
        self.out.flush()?;
        Ok(())
    }

    /// The writer, for entries written [`ManifestJson::headless`].
    pub fn into_inner(self) -> W {
        self.out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(n: usize) -> SourceEntry {
        SourceEntry {
            source_id: format!("wa-{n:016x}"),
            path: format!("chats/WhatsApp Chat {n}.txt"),
            size: n as u64,
            content_hash: format!("{n:064x}"),
            format: "whatsapp".into(),
            channel: "whatsapp".into(),
            options: options_json(&serde_json::json!({"tz": "UTC", "zip_media": ["a.jpg", "b\nc.opus"]})),
            counts: Counts {
                read: 3,
                imported: 2,
                rejected: 1,
                duplicates: 0,
            },
            first_ts: Some("2024-01-01T00:00:00Z".into()),
            last_ts: None,
            imported_at: "2026-11-24T00:00:00Z".into(),
            batch: Some("interactions/x.parquet".into()),
            rejects: None,
            notes: ["a note\nover \"two\" lines".to_string(), String::new()].into(),
        }
    }

    #[test]
    fn written_entry_by_entry_or_spliced_the_manifest_is_serde_jsons_pretty_text() {
        for n in [0, 1, 3] {
            let manifest = Manifest {
                schema_version: SCHEMA_VERSION,
                sources: (0..n).map(entry).collect(),
            };
            let mut whole = serde_json::to_vec_pretty(&manifest).unwrap();
            whole.push(b'\n');
            let mut streamed = Vec::new();
            manifest.write_json(&mut streamed).unwrap();
            assert_eq!(
                String::from_utf8(streamed).unwrap(),
                String::from_utf8(whole.clone()).unwrap()
            );
            // Any split between stored entries and staged ones gives the same text.
            for stored in 0..=n {
                let mut staged = ManifestJson::headless(Vec::new());
                for e in &manifest.sources[stored..] {
                    staged.entry(e).unwrap();
                }
                let count = staged.entries();
                let mut out = Vec::new();
                let mut json = ManifestJson::start(&mut out, SCHEMA_VERSION).unwrap();
                for e in &manifest.sources[..stored] {
                    json.entry(e).unwrap();
                }
                json.splice(&staged.into_inner()[..], count).unwrap();
                assert_eq!(json.entries(), n);
                json.finish().unwrap();
                assert_eq!(out, whole, "{stored} of {n} stored");
            }
        }
    }

    #[test]
    fn entries_are_read_one_by_one_and_a_bad_manifest_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("manifest.json");
        assert_eq!(
            read_entries(&path, |_: SourceEntry| Ok(())).unwrap(),
            None,
            "no manifest yet"
        );
        let manifest = Manifest {
            schema_version: SCHEMA_VERSION,
            sources: (0..3).map(entry).collect(),
        };
        let mut bytes = Vec::new();
        manifest.write_json(&mut bytes).unwrap();
        std::fs::write(&path, &bytes).unwrap();
        let mut ids = Vec::new();
        let version = read_entries(&path, |e: SourceEntry| {
            ids.push(e.source_id);
            Ok(())
        });
        assert_eq!(version.unwrap(), Some(SCHEMA_VERSION));
        assert_eq!(
            ids,
            ["wa-0000000000000000", "wa-0000000000000001", "wa-0000000000000002"]
        );
        // Keys in another order, and keys it does not know, read the same.
        std::fs::write(
            &path,
            br#"{"sources": [], "written_by": {"tool": "x"}, "schema_version": 1}"#,
        )
        .unwrap();
        assert_eq!(read_entries(&path, |_: SourceEntry| Ok(())).unwrap(), Some(1));
        // What the caller fails with comes back as it is.
        std::fs::write(&path, &bytes).unwrap();
        let err = read_entries(&path, |_: SourceEntry| anyhow::bail!("disk full")).unwrap_err();
        assert_eq!(err.to_string(), "disk full");
        for (text, says) in [
            (
                r#"{"schema_version": 9, "sources": []}"#.to_string(),
                "newer than this omnitrail",
            ),
            (
                r#"{"schema_version": 1, "sources": [{"source_id": 1}]}"#.to_string(),
                "is not a valid omnitrail manifest",
            ),
            (
                String::from_utf8(bytes[..bytes.len() / 2].to_vec()).unwrap(),
                "is not a valid omnitrail manifest",
            ),
            (r#"{"sources": []}"#.to_string(), "is not a valid omnitrail manifest"),
        ] {
            std::fs::write(&path, text).unwrap();
            let err = format!("{:#}", read_entries(&path, |_: SourceEntry| Ok(())).unwrap_err());
            assert!(err.contains(says) && err.contains("manifest.json"), "{err}");
        }
    }

    #[test]
    fn the_entries_of_a_manifest_in_its_own_layout_are_found_for_copying() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("manifest.json");
        for n in [1, 3] {
            let manifest = Manifest {
                schema_version: SCHEMA_VERSION,
                sources: (0..n).map(entry).collect(),
            };
            let mut bytes = Vec::new();
            manifest.write_json(&mut bytes).unwrap();
            std::fs::write(&path, &bytes).unwrap();
            let span = entries_span(&path).unwrap().expect("our own layout");
            let mut staged = ManifestJson::headless(Vec::new());
            manifest.sources.iter().for_each(|e| staged.entry(e).unwrap());
            assert_eq!(&bytes[span.start as usize..span.end as usize], &staged.into_inner()[..]);
            // A key after the list, at the top level: the bytes are not only entries.
            let text = String::from_utf8(bytes.clone()).unwrap();
            let extra = text.replacen("\n  ]\n}\n", "\n  ],\n  \"more\": [\n    1\n  ]\n}\n", 1);
            std::fs::write(&path, extra).unwrap();
            assert_eq!(entries_span(&path).unwrap(), None);
        }
        for other in [
            serde_json::to_string(&Manifest {
                schema_version: SCHEMA_VERSION,
                sources: vec![entry(1)],
            })
            .unwrap(),
            "{\n  \"schema_version\": 1,\n  \"sources\": []\n}\n".into(),
            "{\n  \"schema_version\": 1,\n  \"sources\": [\n".into(),
            String::new(),
        ] {
            std::fs::write(&path, other).unwrap();
            assert_eq!(entries_span(&path).unwrap(), None);
        }
    }

    #[test]
    fn a_manifest_streamed_entry_by_entry_is_what_serializing_it_whole_gives() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("manifest.json");
        for n in [0, 1, 3] {
            let manifest = Manifest {
                schema_version: SCHEMA_VERSION,
                sources: (0..n).map(entry).collect(),
            };
            let whole = serde_json::to_string_pretty(&manifest).unwrap() + "\n";
            std::fs::write(&path, &whole).unwrap();
            let mut streamed = Vec::new();
            assert!(write_json_streamed(&path, &mut streamed).unwrap());
            assert_eq!(String::from_utf8(streamed).unwrap(), whole);
        }
        // Another tool's layout: left to the caller, nothing written.
        let compact = serde_json::to_string(&Manifest {
            schema_version: SCHEMA_VERSION,
            sources: vec![entry(1)],
        })
        .unwrap();
        std::fs::write(&path, compact).unwrap();
        let mut streamed = Vec::new();
        assert!(!write_json_streamed(&path, &mut streamed).unwrap());
        assert!(streamed.is_empty());
    }

    #[test]
    fn options_kept_as_text_survive_a_write_and_a_load() {
        let options =
            serde_json::json!({"tz": "Europe/Madrid", "business_names": ["Bloom & Stem"], "date_order": null});
        let entry = SourceEntry {
            source_id: "wa-0123456789abcdef".into(),
            path: "chat.txt".into(),
            size: 1,
            content_hash: "00".repeat(32),
            format: "whatsapp".into(),
            channel: "whatsapp".into(),
            options: options_json(&options),
            counts: Counts::default(),
            first_ts: None,
            last_ts: None,
            imported_at: "2026-11-24T00:00:00Z".into(),
            batch: None,
            rejects: None,
            notes: ["a note".to_string()].into(),
        };
        let manifest = Manifest {
            schema_version: SCHEMA_VERSION,
            sources: vec![entry],
        };
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("manifest.json");
        let mut bytes = Vec::new();
        manifest.write_json(&mut bytes).unwrap();
        std::fs::write(&path, &bytes).unwrap();
        let loaded = Manifest::load(&path).unwrap();
        assert_eq!(loaded.sources[0].options_value(), options);
        let tree: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(tree["sources"][0]["options"]["business_names"][0], "Bloom & Stem");
    }
}
