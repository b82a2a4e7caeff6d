//! `omnitrail export`: the consolidated dataset (CSV, JSON lines, Parquet) and platform
//! profiles (HubSpot, Chatwoot, Zendesk, Salesforce) built from the workspace's interactions
//! and the matcher's customers.
//!
//! Every export is staged in a hidden sibling folder and swapped into place at the end
//! ([`staging`]); it always carries a `manifest.json` with counts, options and checksums.

pub mod chatwoot;
pub mod dataset;
pub mod fidelity;
pub mod group;
pub mod hubspot;
pub mod input;
pub mod platform;
pub mod redact;
pub mod salesforce;
pub mod staging;
pub mod table;
pub mod zendesk;

use crate::workspace::Workspace;
use anyhow::{bail, Context, Result};
use input::{Customer, Filter, Matched};
use redact::Redactor;
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use table::TableFormat;

/// Version of the export layout and `manifest.json` (bumped only on incompatible change).
pub const EXPORT_SCHEMA_VERSION: u32 = 1;

/// What to write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Dataset(TableFormat),
    Hubspot,
    Chatwoot,
    Zendesk,
    Salesforce,
}

impl Format {
    /// Parses `--format`.
    pub fn parse(s: &str) -> Result<Format> {
        Ok(match s.to_ascii_lowercase().as_str() {
            "csv" => Format::Dataset(TableFormat::Csv),
            "jsonl" | "json-lines" | "ndjson" => Format::Dataset(TableFormat::Jsonl),
            "parquet" => Format::Dataset(TableFormat::Parquet),
            "hubspot" => Format::Hubspot,
            "chatwoot" => Format::Chatwoot,
            "zendesk" => Format::Zendesk,
            "salesforce" => Format::Salesforce,
            _ => bail!("unknown format `{s}`: use csv, jsonl, parquet, hubspot, chatwoot, zendesk or salesforce"),
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            Format::Dataset(f) => f.extension(),
            Format::Hubspot => "hubspot",
            Format::Chatwoot => "chatwoot",
            Format::Zendesk => "zendesk",
            Format::Salesforce => "salesforce",
        }
    }
}

/// Everything `omnitrail export` was asked for.
#[derive(Debug, Clone)]
pub struct ExportOptions {
    pub format: Format,
    pub out: PathBuf,
    pub filter: Filter,
    pub redact: Option<Redactor>,
    /// As given on the command line, for the manifest (`--customers FILE`).
    pub since_text: Option<String>,
    pub until_text: Option<String>,
    pub customers_file: Option<String>,
}

/// One file of an export.
#[derive(Debug, Clone, Serialize)]
pub struct FileEntry {
    /// Relative to the export folder.
    pub path: String,
    /// Data rows (records), when the file is a table or a list.
    pub rows: Option<u64>,
    pub bytes: u64,
    /// BLAKE3 of the file's bytes, hex.
    pub blake3: String,
}

/// What an export wrote; also the body of `manifest.json` (plus its header keys).
#[derive(Debug, Clone, Serialize)]
pub struct ExportSummary {
    pub format: String,
    pub out: String,
    pub counts: BTreeMap<String, u64>,
    pub files: Vec<FileEntry>,
    pub notes: Vec<String>,
}

/// Shared state of one export while it is written.
pub struct ExportContext<'a> {
    pub ws: &'a Workspace,
    pub matched: &'a Matched,
    pub filter: &'a Filter,
    pub redact: Option<&'a Redactor>,
    /// The staging folder.
    pub dir: &'a Path,
    /// Files written so far: relative path and row count.
    pub files: Vec<(String, Option<u64>)>,
    pub counts: BTreeMap<String, u64>,
    pub notes: Vec<String>,
}

impl ExportContext<'_> {
    /// The customers the export covers (`--customers` subset), redacted when asked.
    pub fn customers(&self) -> Vec<Customer> {
        self.matched
            .customers
            .iter()
            .filter(|c| self.filter.wants_customer(&c.customer_id))
            .cloned()
            .map(|mut c| {
                if let Some(r) = self.redact {
                    r.customer(&mut c);
                }
                c
            })
            .collect()
    }

    /// Interactions the workspace holds (an upper bound of what an export streams), from
    /// the batch files' footers.
    pub fn workspace_rows(&self) -> Result<u64> {
        let batches = self.ws.interaction_batches(None)?;
        Ok(crate::workspace::count_rows(self.ws.root(), &batches)? as u64)
    }

    /// Records a written file.
    pub fn add_file(&mut self, rel: impl Into<String>, rows: Option<u64>) {
        self.files.push((rel.into(), rows));
    }

    pub fn count(&mut self, key: &str, n: u64) {
        *self.counts.entry(key.to_string()).or_default() += n;
    }

    /// Streams the selected interactions as frames (workspace columns + `customer_id`);
    /// only for exports without redaction.
    pub fn stream_frames(&mut self, consume: impl FnMut(polars::prelude::DataFrame) -> Result<()>) -> Result<()> {
        debug_assert!(self.redact.is_none());
        let counts = input::stream_frames(self.ws, self.matched, self.filter, consume)?;
        self.record_stream(counts);
        Ok(())
    }

    fn record_stream(&mut self, counts: input::StreamCounts) {
        self.count("interactions_read", counts.read);
        self.count("interactions_selected", counts.selected);
        self.count("interactions_without_customer", counts.without_customer);
        if counts.without_customer > 0 {
            self.notes.push(format!(
                "{} interactions have no customer_id: they have no customer handle (system lines, withheld callers, internal mail) or were imported after the last `omnitrail match`",
                counts.without_customer
            ));
        }
    }

    /// Streams the selected interactions, redacted when asked.
    pub fn stream(&mut self, mut consume: impl FnMut(Vec<input::ExportRow>) -> Result<()>) -> Result<()> {
        let redact = self.redact;
        let counts = input::stream_interactions(self.ws, self.matched, self.filter, |mut rows| {
            if let Some(r) = redact {
                for row in &mut rows {
                    r.interaction(&mut row.interaction);
                }
            }
            consume(rows)
        })?;
        self.record_stream(counts);
        Ok(())
    }
}

/// Runs an export: reads the matcher's output and the interactions, writes the files into a
/// staging folder, then replaces `opts.out` with it.
pub fn export(ws: &Workspace, opts: &ExportOptions) -> Result<ExportSummary> {
    let matched = Matched::load(ws)?;
    if let Some(wanted) = &opts.filter.customers {
        let known = matched
            .customers
            .iter()
            .filter(|c| wanted.contains(&c.customer_id))
            .count();
        if known == 0 {
            bail!(
                "none of the {} customer ids in {} is a customer of this workspace (ids look like C-1a2b3c4d5e; see `omnitrail report customers`)",
                wanted.len(),
                opts.customers_file.as_deref().unwrap_or("--customers")
            );
        }
    }
    let staged = staging::StagedDir::begin(&opts.out)?;
    let mut ctx = ExportContext {
        ws,
        matched: &matched,
        filter: &opts.filter,
        redact: opts.redact.as_ref(),
        dir: staged.path(),
        files: Vec::new(),
        counts: BTreeMap::new(),
        notes: Vec::new(),
    };
    if let Some(wanted) = &opts.filter.customers {
        let known: std::collections::HashSet<&str> = matched.customers.iter().map(|c| c.customer_id.as_str()).collect();
        let unknown = wanted.iter().filter(|id| !known.contains(id.as_str())).count();
        if unknown > 0 {
            ctx.notes.push(format!(
                "{unknown} customer ids in the --customers file are not customers of this workspace"
            ));
        }
    }
    match opts.format {
        Format::Dataset(f) => dataset::write(&mut ctx, f)?,
        Format::Hubspot => hubspot::write(&mut ctx)?,
        Format::Chatwoot => chatwoot::write(&mut ctx)?,
        Format::Zendesk => zendesk::write(&mut ctx)?,
        Format::Salesforce => salesforce::write(&mut ctx)?,
    }
    let mut files = Vec::with_capacity(ctx.files.len());
    for (rel, rows) in &ctx.files {
        let path = staged.path().join(rel);
        let file = std::fs::File::open(&path).with_context(|| format!("cannot read back {}", path.display()))?;
        let bytes = file.metadata()?.len();
        let mut hasher = blake3::Hasher::new();
        hasher.update_reader(file)?;
        files.push(FileEntry {
            path: rel.clone(),
            rows: *rows,
            bytes,
            blake3: hasher.finalize().to_hex().to_string(),
        });
    }
    let summary = ExportSummary {
        format: opts.format.name().to_string(),
        out: opts.out.display().to_string(),
        counts: ctx.counts.clone(),
        files,
        notes: ctx.notes.clone(),
    };
    write_manifest(ws, opts, &summary, &staged.path().join("manifest.json"))?;
    staged.commit()?;
    Ok(summary)
}

/// The export's `manifest.json`, its keys in alphabetical order at every level (as it was
/// when built as a `serde_json::Value`).
#[derive(Serialize)]
struct ExportManifest<'a> {
    counts: &'a BTreeMap<String, u64>,
    created_at: String,
    export_schema_version: u32,
    files: serde_json::Value,
    format: &'a str,
    generator: String,
    notes: &'a [String],
    options: serde_json::Value,
    schema_version: u32,
    sources: ExportedSources<'a>,
}

/// The workspace's sources an export covers, written as they are read from its manifest
/// (202 274 of them took 510 MB as `serde_json::Value`s, and 250 MB read whole).
struct ExportedSources<'a> {
    ws: &'a Workspace,
    opts: &'a ExportOptions,
}

impl Serialize for ExportedSources<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        use serde::ser::{Error, SerializeSeq};
        let mut seq = serializer.serialize_seq(None)?;
        let mut failed: Option<S::Error> = None;
        let channels = &self.opts.filter.channels;
        let read = self.ws.for_each_source(|s| {
            if channels.is_empty() || channels.contains(&s.channel) {
                let source = ExportedSource::of(&s, self.opts.redact.as_ref());
                if let Err(e) = seq.serialize_element(&source) {
                    failed = Some(e);
                    bail!("stopped");
                }
            }
            Ok(())
        });
        match (failed, read) {
            (Some(e), _) => Err(e),
            (None, Err(e)) => Err(S::Error::custom(format!("{e:#}"))),
            (None, Ok(())) => seq.end(),
        }
    }
}

/// One source of an export's `manifest.json`, borrowed from the workspace's.
#[derive(Serialize)]
struct ExportedSource<'a> {
    channel: &'a str,
    content_hash: &'a str,
    counts: SortedCounts,
    first_ts: Option<&'a str>,
    format: &'a str,
    imported_at: &'a str,
    last_ts: Option<&'a str>,
    path: std::borrow::Cow<'a, str>,
    source_id: &'a str,
}

impl<'a> ExportedSource<'a> {
    fn of(s: &'a crate::workspace::SourceEntry, redact: Option<&Redactor>) -> ExportedSource<'a> {
        ExportedSource {
            channel: &s.channel,
            content_hash: &s.content_hash,
            counts: SortedCounts {
                duplicates: s.counts.duplicates,
                imported: s.counts.imported,
                read: s.counts.read,
                rejected: s.counts.rejected,
            },
            first_ts: s.first_ts.as_deref(),
            format: &s.format,
            imported_at: &s.imported_at,
            last_ts: s.last_ts.as_deref(),
            path: match redact {
                Some(r) => r.token("file", &s.path).into(),
                None => s.path.as_str().into(),
            },
            source_id: &s.source_id,
        }
    }
}

/// A source's counts, keys in alphabetical order.
#[derive(Serialize)]
struct SortedCounts {
    duplicates: u64,
    imported: u64,
    read: u64,
    rejected: u64,
}

/// Writes `manifest.json`: what was exported, from which sources, with which options, and a
/// checksum per file so a recipient can verify the set is complete.
fn write_manifest(ws: &Workspace, opts: &ExportOptions, summary: &ExportSummary, path: &Path) -> Result<()> {
    debug_assert_eq!(staging::MARKER_KEY, "export_schema_version");
    let redact = opts.redact.as_ref();
    let manifest = ExportManifest {
        counts: &summary.counts,
        created_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        export_schema_version: EXPORT_SCHEMA_VERSION,
        files: serde_json::to_value(&summary.files)?,
        format: &summary.format,
        generator: format!("omnitrail {}", env!("CARGO_PKG_VERSION")),
        notes: &summary.notes,
        options: serde_json::json!({
            "since": opts.since_text,
            "until": opts.until_text,
            "channels": opts.filter.channels,
            "customers_file": opts.customers_file.as_ref().map(|p| Path::new(p).file_name().map(|n| n.to_string_lossy().to_string()).unwrap_or_default()),
            "customers_requested": opts.filter.customers.as_ref().map(|s| s.len()),
            "redact": redact.is_some(),
        }),
        schema_version: crate::workspace::SCHEMA_VERSION,
        sources: ExportedSources { ws, opts },
    };
    let file = std::fs::File::create(path).with_context(|| format!("cannot write {}", path.display()))?;
    let mut out = std::io::BufWriter::with_capacity(1 << 16, file);
    serde_json::to_writer_pretty(&mut out, &manifest)?;
    use std::io::Write;
    out.write_all(b"\n")?;
    out.flush()
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}

/// Parses `--since` / `--until`: RFC 3339 (`2026-03-18T09:00:00Z`), `YYYY-MM-DD HH:MM[:SS]`
/// (UTC) or a date `YYYY-MM-DD` (midnight UTC).
pub fn parse_when(s: &str) -> Result<i64> {
    let t = s.trim();
    if let Ok(d) = chrono::DateTime::parse_from_rfc3339(t) {
        return Ok(d.timestamp_millis());
    }
    for fmt in [
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%d %H:%M",
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%dT%H:%M",
    ] {
        if let Ok(d) = chrono::NaiveDateTime::parse_from_str(t, fmt) {
            return Ok(d.and_utc().timestamp_millis());
        }
    }
    if let Ok(d) = chrono::NaiveDate::parse_from_str(t, "%Y-%m-%d") {
        return Ok(d.and_hms_opt(0, 0, 0).expect("midnight").and_utc().timestamp_millis());
    }
    bail!("`{s}` is not a date: use 2026-03-18, 2026-03-18 09:00 (UTC) or 2026-03-18T09:00:00+01:00")
}

/// Reads a `--customers` file: one customer id per line; blank lines, `#` comments and a
/// `customer_id` header are ignored; the first CSV field is used when a line has commas.
pub fn read_customer_ids(path: &Path) -> Result<std::collections::HashSet<String>> {
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let ids: std::collections::HashSet<String> = text
        .lines()
        .map(|l| l.split(',').next().unwrap_or_default().trim().trim_matches('"'))
        .filter(|l| !l.is_empty() && !l.starts_with('#') && *l != "customer_id")
        .map(str::to_string)
        .collect();
    if ids.is_empty() {
        bail!(
            "{} lists no customer id (one per line, like C-1a2b3c4d5e)",
            path.display()
        );
    }
    Ok(ids)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_read_as_utc_and_nonsense_is_refused() {
        assert_eq!(parse_when("2026-03-18").unwrap(), 1_773_792_000_000);
        assert_eq!(parse_when("2026-03-18 01:00").unwrap(), 1_773_795_600_000);
        assert_eq!(parse_when("2026-03-18T02:00:00+01:00").unwrap(), 1_773_795_600_000);
        assert!(parse_when("18/03/2026").is_err());
    }

    #[test]
    fn formats_parse_by_name() {
        assert_eq!(Format::parse("Parquet").unwrap(), Format::Dataset(TableFormat::Parquet));
        assert_eq!(Format::parse("zendesk").unwrap(), Format::Zendesk);
        assert!(Format::parse("xlsx").is_err());
    }
}
