//! One table written incrementally as CSV, JSON lines or Parquet from polars frames, with
//! the same column names and types everywhere.
//!
//! Text renderings: timestamps as RFC 3339 UTC with milliseconds (`2026-03-18T09:14:00.000Z`);
//! lists as a JSON array in CSV and as an array in JSON lines; nulls as an empty CSV cell
//! and `null` in JSON lines.

use anyhow::{anyhow, bail, Context, Result};
use polars::prelude::*;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

/// The dataset formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TableFormat {
    Csv,
    Jsonl,
    Parquet,
}

impl TableFormat {
    pub fn extension(self) -> &'static str {
        match self {
            TableFormat::Csv => "csv",
            TableFormat::Jsonl => "jsonl",
            TableFormat::Parquet => "parquet",
        }
    }
}

enum Sink {
    Csv(Box<csv::Writer<BufWriter<File>>>),
    Jsonl(BufWriter<File>),
    Parquet(Box<polars::io::parquet::write::BatchedWriter<File>>),
}

/// Writes frames with one fixed schema to one file.
pub struct TableWriter {
    path: PathBuf,
    schema: Schema,
    sink: Sink,
    rows: u64,
}

impl TableWriter {
    /// Creates the file; CSV gets its header at once, so an empty table is still a valid file.
    pub fn create(path: &Path, format: TableFormat, schema: Schema) -> Result<TableWriter> {
        let file = File::create(path).with_context(|| format!("cannot create {}", path.display()))?;
        let sink = match format {
            TableFormat::Csv => {
                let mut w = csv::Writer::from_writer(BufWriter::with_capacity(1 << 20, file));
                w.write_record(schema.iter_names().map(|n| n.as_str()))?;
                Sink::Csv(Box::new(w))
            }
            TableFormat::Jsonl => Sink::Jsonl(BufWriter::with_capacity(1 << 20, file)),
            TableFormat::Parquet => Sink::Parquet(Box::new(
                // Snappy: the codec every Parquet reader (Spark, Hive, DuckDB, pyarrow) has.
                ParquetWriter::new(file)
                    .with_compression(ParquetCompression::Snappy)
                    .with_statistics(StatisticsOptions::full())
                    .batched(&schema)
                    .map_err(|e| anyhow!("cannot start {}: {e}", path.display()))?,
            )),
        };
        Ok(TableWriter {
            path: path.to_path_buf(),
            schema,
            sink,
            rows: 0,
        })
    }

    /// Appends a frame (its columns are selected and cast to the table's schema).
    pub fn write(&mut self, df: &DataFrame) -> Result<()> {
        if df.height() == 0 {
            return Ok(());
        }
        let names: Vec<PlSmallStr> = self.schema.iter_names().cloned().collect();
        let mut df = df.select(names)?;
        for (name, dtype) in self.schema.iter() {
            if df.column(name)?.dtype() != dtype {
                let cast = df.column(name)?.cast(dtype)?;
                df.with_column(cast)?;
            }
        }
        df.rechunk_mut();
        match &mut self.sink {
            Sink::Parquet(w) => w
                .write_batch(&df)
                .map_err(|e| anyhow!("cannot write {}: {e}", self.path.display()))?,
            Sink::Csv(w) => {
                let cols = Cells::new(&df)?;
                let mut record: Vec<String> = vec![String::new(); cols.len()];
                for i in 0..df.height() {
                    for (c, cell) in cols.iter().zip(record.iter_mut()) {
                        cell.clear();
                        c.csv(i, cell)?;
                    }
                    w.write_record(&record)?;
                }
            }
            Sink::Jsonl(w) => {
                let cols = Cells::new(&df)?;
                let names: Vec<String> = df
                    .get_column_names()
                    .iter()
                    .map(|n| serde_json::to_string(n.as_str()))
                    .collect::<Result<_, _>>()?;
                let mut line = Vec::with_capacity(1024);
                for i in 0..df.height() {
                    line.clear();
                    line.push(b'{');
                    for (k, (c, name)) in cols.iter().zip(&names).enumerate() {
                        if k > 0 {
                            line.push(b',');
                        }
                        line.extend_from_slice(name.as_bytes());
                        line.push(b':');
                        c.json(i, &mut line)?;
                    }
                    line.extend_from_slice(b"}\n");
                    w.write_all(&line)?;
                }
            }
        }
        self.rows += df.height() as u64;
        Ok(())
    }

    /// Flushes and closes; returns the row count.
    pub fn finish(self) -> Result<u64> {
        let path = self.path;
        match self.sink {
            Sink::Parquet(w) => {
                w.finish()
                    .map_err(|e| anyhow!("cannot finish {}: {e}", path.display()))?;
            }
            Sink::Csv(mut w) => w.flush().with_context(|| format!("cannot write {}", path.display()))?,
            Sink::Jsonl(mut w) => w.flush().with_context(|| format!("cannot write {}", path.display()))?,
        }
        Ok(self.rows)
    }
}

/// A column downcast once, read cell by cell.
enum Cell<'a> {
    Str(&'a StringChunked),
    I64(&'a Int64Chunked),
    U64(Series),
    F64(&'a Float64Chunked),
    Bool(&'a BooleanChunked),
    Datetime(Series),
    /// Each cell pre-rendered as a JSON array (null cells as `None`).
    List(Vec<Option<String>>),
}

struct Cells<'a>(Vec<Cell<'a>>);

impl<'a> Cells<'a> {
    fn new(df: &'a DataFrame) -> Result<Cells<'a>> {
        let mut out = Vec::new();
        for c in df.columns() {
            out.push(match c.dtype() {
                DataType::String => Cell::Str(c.str()?),
                DataType::Int64 => Cell::I64(c.i64()?),
                DataType::UInt64 | DataType::UInt32 | DataType::Int32 => {
                    Cell::U64(c.as_materialized_series().cast(&DataType::Int64)?)
                }
                DataType::Float64 => Cell::F64(c.f64()?),
                DataType::Boolean => Cell::Bool(c.bool()?),
                DataType::Datetime(_, _) => Cell::Datetime(
                    c.as_materialized_series()
                        .cast(&DataType::Datetime(TimeUnit::Milliseconds, None))?
                        .cast(&DataType::Int64)?,
                ),
                DataType::List(inner) if **inner == DataType::String => Cell::List(list_json(c.list()?)?),
                other => bail!("column {} has type {other}, which the export cannot write", c.name()),
            });
        }
        Ok(Cells(out))
    }

    fn len(&self) -> usize {
        self.0.len()
    }

    fn iter(&self) -> std::slice::Iter<'_, Cell<'a>> {
        self.0.iter()
    }
}

fn rfc3339_ms(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|d| d.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
        .unwrap_or_default()
}

fn list_json(ca: &ListChunked) -> Result<Vec<Option<String>>> {
    let mut out = Vec::with_capacity(ca.len());
    for cell in ca.amortized_iter() {
        out.push(match cell {
            Some(s) => {
                let values: Vec<Option<&str>> = s.as_ref().str()?.iter().collect();
                Some(serde_json::to_string(&values)?)
            }
            None => None,
        });
    }
    Ok(out)
}

impl Cell<'_> {
    fn csv(&self, i: usize, out: &mut String) -> Result<()> {
        use std::fmt::Write as _;
        match self {
            Cell::Str(ca) => out.push_str(ca.get(i).unwrap_or_default()),
            Cell::I64(ca) => {
                if let Some(v) = ca.get(i) {
                    write!(out, "{v}")?;
                }
            }
            Cell::U64(s) => {
                if let Some(v) = s.i64()?.get(i) {
                    write!(out, "{v}")?;
                }
            }
            Cell::F64(ca) => {
                if let Some(v) = ca.get(i) {
                    write!(out, "{v}")?;
                }
            }
            Cell::Bool(ca) => {
                if let Some(v) = ca.get(i) {
                    out.push_str(if v { "true" } else { "false" });
                }
            }
            Cell::Datetime(s) => {
                if let Some(v) = s.i64()?.get(i) {
                    out.push_str(&rfc3339_ms(v));
                }
            }
            Cell::List(cells) => {
                if let Some(v) = &cells[i] {
                    out.push_str(v);
                }
            }
        }
        Ok(())
    }

    fn json(&self, i: usize, out: &mut Vec<u8>) -> Result<()> {
        const NULL: &[u8] = b"null";
        match self {
            Cell::Str(ca) => match ca.get(i) {
                Some(v) => serde_json::to_writer(&mut *out, v)?,
                None => out.extend_from_slice(NULL),
            },
            Cell::I64(ca) => match ca.get(i) {
                Some(v) => out.extend_from_slice(v.to_string().as_bytes()),
                None => out.extend_from_slice(NULL),
            },
            Cell::U64(s) => match s.i64()?.get(i) {
                Some(v) => out.extend_from_slice(v.to_string().as_bytes()),
                None => out.extend_from_slice(NULL),
            },
            Cell::F64(ca) => match ca.get(i) {
                Some(v) => serde_json::to_writer(&mut *out, &v)?,
                None => out.extend_from_slice(NULL),
            },
            Cell::Bool(ca) => match ca.get(i) {
                Some(v) => out.extend_from_slice(if v { b"true" } else { b"false" }),
                None => out.extend_from_slice(NULL),
            },
            Cell::Datetime(s) => match s.i64()?.get(i) {
                Some(v) => serde_json::to_writer(&mut *out, &rfc3339_ms(v))?,
                None => out.extend_from_slice(NULL),
            },
            Cell::List(cells) => match &cells[i] {
                Some(v) => out.extend_from_slice(v.as_bytes()),
                None => out.extend_from_slice(NULL),
            },
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame() -> DataFrame {
        let ts = Int64Chunked::from_slice("ts".into(), &[1_700_000_000_123])
            .into_datetime(TimeUnit::Milliseconds, Some(TimeZone::UTC))
            .into_column();
        let mut tags = ListStringChunkedBuilder::new("tags".into(), 1, 2);
        tags.append_values_iter(["a", "b,\"c\""].into_iter());
        df!(
            "id" => ["x,1"],
            "n" => [Some(3i64)],
            "note" => [None::<&str>],
        )
        .unwrap()
        .hstack(&[ts, tags.finish().into_column()])
        .unwrap()
    }

    #[test]
    fn csv_and_jsonl_render_times_lists_and_nulls() {
        let dir = tempfile::tempdir().unwrap();
        let df = frame();
        for format in [TableFormat::Csv, TableFormat::Jsonl] {
            let path = dir.path().join(format!("t.{}", format.extension()));
            let mut w = TableWriter::create(&path, format, df.schema().as_ref().clone()).unwrap();
            w.write(&df).unwrap();
            assert_eq!(w.finish().unwrap(), 1);
            let text = std::fs::read_to_string(&path).unwrap();
            match format {
                TableFormat::Csv => assert_eq!(
                    text,
                    "id,n,note,ts,tags\n\"x,1\",3,,2023-11-14T22:13:20.123Z,\"[\"\"a\"\",\"\"b,\\\"\"c\\\"\"\"\"]\"\n"
                ),
                _ => assert_eq!(
                    text,
                    "{\"id\":\"x,1\",\"n\":3,\"note\":null,\"ts\":\"2023-11-14T22:13:20.123Z\",\"tags\":[\"a\",\"b,\\\"c\\\"\"]}\n"
                ),
            }
        }
    }

    #[test]
    fn parquet_keeps_types_and_an_empty_table_is_a_valid_file() {
        let dir = tempfile::tempdir().unwrap();
        let df = frame();
        let path = dir.path().join("t.parquet");
        let mut w = TableWriter::create(&path, TableFormat::Parquet, df.schema().as_ref().clone()).unwrap();
        w.write(&df).unwrap();
        w.finish().unwrap();
        let back = ParquetReader::new(File::open(&path).unwrap()).finish().unwrap();
        assert_eq!(back.schema(), df.schema());
        let empty = dir.path().join("e.parquet");
        TableWriter::create(&empty, TableFormat::Parquet, df.schema().as_ref().clone())
            .unwrap()
            .finish()
            .unwrap();
        let back = ParquetReader::new(File::open(&empty).unwrap()).finish().unwrap();
        assert_eq!(back.height(), 0);
        assert_eq!(back.schema(), df.schema());
    }
}
