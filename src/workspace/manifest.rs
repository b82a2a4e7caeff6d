//! `manifest.json`: what the workspace holds, one entry per imported source.

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};
use std::path::Path;

/// Version of the manifest and Parquet schemas; bumped on incompatible change.
pub const SCHEMA_VERSION: u32 = 1;

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
    pub options: serde_json::Value,
    pub counts: Counts,
    pub first_ts: Option<String>,
    pub last_ts: Option<String>,
    pub imported_at: String,
    pub batch: Option<String>,
    pub rejects: Option<String>,
    /// What the importer decided or noticed (date order and its evidence, inferred business side, …).
    #[serde(default)]
    pub notes: Vec<String>,
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
