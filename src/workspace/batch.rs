//! Interaction batches as Parquet, written through polars on a background thread so that
//! parsing (one core) and encoding (the other) overlap.

use crate::model::Interaction;
use anyhow::{anyhow, Context, Result};
use polars::prelude::*;
use std::fs::File;
use std::path::Path;
use std::sync::mpsc::{sync_channel, SyncSender};
use std::thread::JoinHandle;

/// Column names of `interactions/*.parquet`, in order (documented in docs/schema.md).
pub const INTERACTION_COLUMNS: &[&str] = &[
    "interaction_id",
    "source_id",
    "source_file",
    "source_ref",
    "channel",
    "direction",
    "ts",
    "ts_raw",
    "thread_key",
    "customer_handle",
    "customer_handle_kind",
    "customer_name",
    "agent",
    "text",
    "body_full",
    "subject",
    "attachments",
    "duration_s",
    "status",
    "mentions",
    "kind",
    "seq",
    "author_raw",
    "thread_title",
    "edited",
    "dedup_key",
];

const ROWS_PER_CHUNK: usize = 16_384;

/// The Parquet schema of interaction batches.
pub fn interactions_schema() -> Schema {
    let list_str = DataType::List(Box::new(DataType::String));
    INTERACTION_COLUMNS
        .iter()
        .map(|&name| {
            let dtype = match name {
                "ts" => DataType::Datetime(TimeUnit::Milliseconds, Some(TimeZone::UTC)),
                "attachments" | "mentions" => list_str.clone(),
                "duration_s" => DataType::Int64,
                "seq" => DataType::UInt64,
                "edited" => DataType::Boolean,
                _ => DataType::String,
            };
            Field::new(name.into(), dtype)
        })
        .collect()
}

/// Streams interactions into one Parquet file, a row group per chunk.
pub struct BatchWriter {
    pending: Vec<Interaction>,
    tx: Option<SyncSender<Vec<Interaction>>>,
    worker: Option<JoinHandle<Result<u64>>>,
    rows: u64,
}

impl BatchWriter {
    pub fn create(path: &Path) -> Result<BatchWriter> {
        let file = File::create(path).with_context(|| format!("cannot create {}", path.display()))?;
        let schema = interactions_schema();
        let (tx, rx) = sync_channel::<Vec<Interaction>>(2);
        let worker = std::thread::spawn(move || -> Result<u64> {
            let mut writer = ParquetWriter::new(file)
                .with_compression(ParquetCompression::Lz4Raw)
                .batched(&schema)?;
            let mut rows = 0u64;
            for chunk in rx {
                rows += chunk.len() as u64;
                let df = to_frame(&chunk)?;
                writer.write_batch(&df)?;
            }
            writer.finish()?;
            Ok(rows)
        });
        Ok(BatchWriter {
            pending: Vec::with_capacity(ROWS_PER_CHUNK),
            tx: Some(tx),
            worker: Some(worker),
            rows: 0,
        })
    }

    pub fn push(&mut self, interaction: Interaction) -> Result<()> {
        self.pending.push(interaction);
        self.rows += 1;
        if self.pending.len() >= ROWS_PER_CHUNK {
            self.flush()?;
        }
        Ok(())
    }

    pub fn rows(&self) -> u64 {
        self.rows
    }

    fn flush(&mut self) -> Result<()> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let chunk = std::mem::replace(&mut self.pending, Vec::with_capacity(ROWS_PER_CHUNK));
        let sent = self.tx.as_ref().map(|tx| tx.send(chunk).is_ok()).unwrap_or(false);
        if !sent {
            // The worker stopped early: its error explains why.
            return Err(self.join().err().unwrap_or_else(|| anyhow!("parquet writer stopped")));
        }
        Ok(())
    }

    fn join(&mut self) -> Result<u64> {
        self.tx.take();
        match self.worker.take() {
            Some(h) => h.join().map_err(|_| anyhow!("parquet writer thread panicked"))?,
            None => Ok(self.rows),
        }
    }

    /// Writes what is pending and closes the file; returns the row count.
    pub fn finish(mut self) -> Result<u64> {
        self.flush()?;
        self.join()
    }
}

impl Drop for BatchWriter {
    fn drop(&mut self) {
        let _ = self.join();
    }
}

fn str_col<'a>(name: &str, rows: &'a [Interaction], f: impl Fn(&'a Interaction) -> Option<&'a str>) -> Column {
    let ca: StringChunked = rows.iter().map(f).collect();
    ca.with_name(name.into()).into_column()
}

fn list_col(name: &str, rows: &[Interaction], f: impl Fn(&Interaction) -> &Vec<String>) -> Column {
    let values: usize = rows.iter().map(|r| f(r).len()).sum();
    let mut b = ListStringChunkedBuilder::new(name.into(), rows.len(), values.max(1));
    for r in rows {
        b.append_values_iter(f(r).iter().map(String::as_str));
    }
    b.finish().into_column()
}

/// Converts interactions into a frame with [`interactions_schema`].
pub fn to_frame(rows: &[Interaction]) -> Result<DataFrame> {
    let ts: Int64Chunked = rows.iter().map(|r| Some(r.ts)).collect();
    let ts = ts
        .with_name("ts".into())
        .into_datetime(TimeUnit::Milliseconds, Some(TimeZone::UTC))
        .into_column();
    let duration: Int64Chunked = rows.iter().map(|r| r.duration_s).collect();
    let seq: UInt64Chunked = rows.iter().map(|r| Some(r.seq)).collect();
    let edited: BooleanChunked = rows.iter().map(|r| Some(r.edited)).collect();
    let columns = vec![
        str_col("interaction_id", rows, |r| Some(&r.interaction_id)),
        str_col("source_id", rows, |r| Some(&r.source_id)),
        str_col("source_file", rows, |r| Some(&r.source_file)),
        str_col("source_ref", rows, |r| Some(&r.source_ref)),
        str_col("channel", rows, |r| Some(r.channel.as_str())),
        str_col("direction", rows, |r| Some(r.direction.as_str())),
        ts,
        str_col("ts_raw", rows, |r| Some(&r.ts_raw)),
        str_col("thread_key", rows, |r| Some(&r.thread_key)),
        str_col("customer_handle", rows, |r| r.customer_handle.as_deref()),
        str_col("customer_handle_kind", rows, |r| {
            r.customer_handle_kind.map(|k| k.as_str())
        }),
        str_col("customer_name", rows, |r| r.customer_name.as_deref()),
        str_col("agent", rows, |r| r.agent.as_deref()),
        str_col("text", rows, |r| r.text.as_deref()),
        str_col("body_full", rows, |r| r.body_full.as_deref()),
        str_col("subject", rows, |r| r.subject.as_deref()),
        list_col("attachments", rows, |r| &r.attachments),
        duration.with_name("duration_s".into()).into_column(),
        str_col("status", rows, |r| r.status.map(|s| s.as_str())),
        list_col("mentions", rows, |r| &r.mentions),
        str_col("kind", rows, |r| Some(r.kind.as_str())),
        seq.with_name("seq".into()).into_column(),
        str_col("author_raw", rows, |r| r.author_raw.as_deref()),
        str_col("thread_title", rows, |r| r.thread_title.as_deref()),
        edited.with_name("edited".into()).into_column(),
        str_col("dedup_key", rows, |r| Some(&r.dedup_key)),
    ];
    Ok(DataFrame::new(rows.len(), columns)?)
}

/// Reads selected columns of every batch file given (relative to `root`).
pub fn read_columns(root: &Path, batches: &[String], columns: &[&str]) -> Result<Vec<DataFrame>> {
    let mut out = Vec::new();
    for rel in batches {
        let path = root.join(rel);
        let file = File::open(&path).map_err(|e| anyhow!("cannot open {}: {e}", path.display()))?;
        let df = ParquetReader::new(file)
            .with_columns(Some(columns.iter().map(|c| c.to_string()).collect()))
            .finish()
            .map_err(|e| anyhow!("cannot read {}: {e}", path.display()))?;
        out.push(df);
    }
    Ok(out)
}

/// A lazy scan over the given interaction batches (relative to `root`), for projections,
/// filters and aggregations that polars pushes down to the Parquet reader.
/// `None` when there is no batch.
pub fn scan_batches(root: &Path, batches: &[String]) -> Result<Option<LazyFrame>> {
    if batches.is_empty() {
        return Ok(None);
    }
    let paths: Vec<PlRefPath> = batches
        .iter()
        .map(|rel| PlRefPath::try_from_pathbuf(root.join(rel)))
        .collect::<PolarsResult<_>>()?;
    let lf = LazyFrame::scan_parquet_files(paths.into_iter().collect(), ScanArgsParquet::default())?;
    Ok(Some(lf))
}
