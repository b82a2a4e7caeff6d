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
        match std::fs::File::open(path) {
            Ok(file) => {
                // Read through a buffer: a workspace of 200 000 chats has a 200 MB manifest,
                // which would be held whole while parsed.
                let reader = std::io::BufReader::with_capacity(1 << 16, file);
                let m: Manifest = serde_json::from_reader(reader)
                    .with_context(|| format!("{} is not a valid omnitrail manifest", path.display()))?;
                if m.schema_version > SCHEMA_VERSION {
                    anyhow::bail!(
                        "{} has schema version {}, newer than this omnitrail ({}): upgrade omnitrail",
                        path.display(),
                        m.schema_version,
                        SCHEMA_VERSION
                    );
                }
                Ok(m)
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Manifest::empty()),
            Err(e) => Err(e).with_context(|| format!("cannot read {}", path.display())),
        }
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
