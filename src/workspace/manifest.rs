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
        match std::fs::read(path) {
            Ok(bytes) => {
                let m: Manifest = serde_json::from_slice(&bytes)
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
    pub fn write_json(&self, mut out: impl std::io::Write) -> Result<()> {
        serde_json::to_writer_pretty(&mut out, self)?;
        out.write_all(b"\n")?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
