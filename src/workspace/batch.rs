//! Interaction batches as Parquet, written through polars on a background thread so that
//! parsing (one core) and encoding (the other) overlap.

use crate::model::{CallStatus, Channel, Direction, HandleKind, Interaction, Kind};
use anyhow::{anyhow, Context, Result};
use polars::prelude::*;
use polars_arrow::array::{
    Array, DictionaryArray, MutableBinaryViewArray, MutableDictionaryArray, PrimitiveArray, TryPush, Utf8ViewArray,
};
use polars_arrow::bitmap::MutableBitmap;
use polars_arrow::datatypes::{ArrowDataType, IntegerType};
use polars_parquet::read::ParquetError;
use polars_parquet::write::{
    array_to_columns, get_dtype_encoding, CompressionOptions, Compressor, DynIter, DynStreamingIterator, Encoding,
    FallibleStreamingIterator, FileWriter, ParquetType, StatisticsOptions, Version, WriteOptions,
};
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
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
/// Text a chunk (and a row group) holds at most: 16 384 WhatsApp messages are ~1.4 MB, but
/// as many mails of 50 KB, or messages of 500 KB, would be gigabytes in memory at once.
pub const TEXT_BYTES_PER_CHUNK: usize = 16 << 20;
/// Builders of the first chunk start small: most sources (one chat, one mailbox) are short.
const FIRST_CHUNK: usize = 256;

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

/// One interaction with borrowed fields, for importers that build records without
/// allocating (the WhatsApp importer); [`BatchWriter::push_row`] copies it into columns.
#[derive(Debug, Clone, Copy)]
pub struct InteractionRow<'a> {
    pub interaction_id: &'a str,
    pub source_id: &'a str,
    pub source_file: &'a str,
    pub source_ref: &'a str,
    pub channel: Channel,
    pub direction: Direction,
    pub ts: i64,
    pub ts_raw: &'a str,
    pub thread_key: &'a str,
    pub customer_handle: Option<&'a str>,
    pub customer_handle_kind: Option<HandleKind>,
    pub customer_name: Option<&'a str>,
    pub agent: Option<&'a str>,
    pub text: Option<&'a str>,
    pub body_full: Option<&'a str>,
    pub subject: Option<&'a str>,
    pub attachments: &'a [String],
    pub duration_s: Option<i64>,
    pub status: Option<CallStatus>,
    pub mentions: &'a [String],
    pub kind: Kind,
    pub seq: u64,
    pub author_raw: Option<&'a str>,
    pub thread_title: Option<&'a str>,
    pub edited: bool,
    pub dedup_key: &'a str,
}

impl<'a> InteractionRow<'a> {
    /// Borrows every field of `r`.
    pub fn of(r: &'a Interaction) -> InteractionRow<'a> {
        InteractionRow {
            interaction_id: &r.interaction_id,
            source_id: &r.source_id,
            source_file: &r.source_file,
            source_ref: &r.source_ref,
            channel: r.channel,
            direction: r.direction,
            ts: r.ts,
            ts_raw: &r.ts_raw,
            thread_key: &r.thread_key,
            customer_handle: r.customer_handle.as_deref(),
            customer_handle_kind: r.customer_handle_kind,
            customer_name: r.customer_name.as_deref(),
            agent: r.agent.as_deref(),
            text: r.text.as_deref(),
            body_full: r.body_full.as_deref(),
            subject: r.subject.as_deref(),
            attachments: &r.attachments,
            duration_s: r.duration_s,
            status: r.status,
            mentions: &r.mentions,
            kind: r.kind,
            seq: r.seq,
            author_raw: r.author_raw.as_deref(),
            thread_title: r.thread_title.as_deref(),
            edited: r.edited,
            dedup_key: &r.dedup_key,
        }
    }
}

/// A string column builder for which a column holding one value in every row (a source's
/// id, its file, its channel, a 1:1 chat's customer) costs a comparison per row: the value
/// is kept once, and a dictionary column (see [`PLAIN_STRING_COLUMNS`]) is handed to the
/// writer as a one-entry dictionary. The first different value turns a dictionary column
/// into [`Keys`], which turns into an ordinary builder past [`KEYS_MAX`] distinct values;
/// other columns turn into an ordinary builder at once.
///
/// An ordinary builder is fed a block of rows at a time: values are first copied into a
/// small arena shared by the chunk's columns (see [`Columns::push`]), then pushed column by
/// column. Pushed row by row, the twenty columns' buffers are twenty streams of stores into
/// memory not yet in cache, more than the processor tracks at once; a column at a time is
/// one stream.
struct StrColumn {
    name: PlSmallStr,
    builder: StringChunkedBuilder,
    run: Run,
    /// Staged values: (start, length) in the arena, `None` for null.
    staged: Vec<Option<(u32, u32)>>,
    /// Whether the column is stored as a dictionary (see [`PLAIN_STRING_COLUMNS`]): then
    /// its rows are kept as keys while it has few distinct values.
    dictionary: bool,
}

enum Run {
    Empty,
    /// Every row so far holds this value; none is in the builder yet.
    Same(Option<String>, usize),
    /// Few distinct values so far (a dictionary column): rows are keys, none is in the
    /// builder yet.
    Keys(Box<Keys>),
    Mixed,
}

/// Values longer than this skip the arena (a mail body is copied once, not twice).
const STAGED_VALUE_MAX: usize = 1024;

/// Distinct values a chunk's dictionary column may have before it is built like any other
/// (the Parquet writer then decides by itself).
const KEYS_MAX: usize = 4096;

/// A dictionary column's distinct values and each row's key into them: the rows of a
/// column such as `direction` or `customer_handle` (a chat has few authors) are found in a
/// small table instead of being copied, and the writer gets them as a dictionary — polars
/// would otherwise estimate each chunk's cardinality, then hash every value again to build
/// the same dictionary.
type Keys = MutableDictionaryArray<u32, MutableBinaryViewArray<str>>;

impl StrColumn {
    fn new(name: &str, capacity: usize) -> StrColumn {
        StrColumn {
            name: name.into(),
            builder: StringChunkedBuilder::new(name.into(), capacity),
            run: Run::Empty,
            staged: Vec::new(),
            dictionary: !PLAIN_STRING_COLUMNS.contains(&name),
        }
    }

    #[inline]
    fn push(&mut self, value: Option<&str>, arena: &mut String) {
        match &mut self.run {
            Run::Mixed => match value {
                Some(v) if v.len() > STAGED_VALUE_MAX => {
                    self.flush(arena);
                    self.builder.append_value(v);
                }
                Some(v) => {
                    self.staged.push(Some((arena.len() as u32, v.len() as u32)));
                    arena.push_str(v);
                }
                None => self.staged.push(None),
            },
            Run::Keys(keys) => {
                keys.try_push(value).expect("u32 keys for a chunk's values");
                if keys.values().len() > KEYS_MAX {
                    let (keys, values) = (keys.keys(), keys.values());
                    for k in keys.iter() {
                        self.builder.append_option(k.map(|&k| values.value(k as usize)));
                    }
                    self.run = Run::Mixed;
                }
            }
            Run::Same(same, rows) if same.as_deref() == value => *rows += 1,
            Run::Same(same, rows) if self.dictionary => {
                let mut keys = Box::new(Keys::new(false));
                for value in std::iter::repeat_n(same.as_deref(), *rows).chain([value]) {
                    keys.try_push(value).expect("u32 keys for a chunk's values");
                }
                self.run = Run::Keys(keys);
            }
            Run::Same(same, rows) => {
                for _ in 0..*rows {
                    self.builder.append_option(same.as_deref());
                }
                self.builder.append_option(value);
                self.run = Run::Mixed;
            }
            Run::Empty => self.run = Run::Same(value.map(str::to_owned), 1),
        }
    }

    /// Pushes the staged values into the builder.
    fn flush(&mut self, arena: &str) {
        for span in self.staged.drain(..) {
            self.builder
                .append_option(span.map(|(start, len)| &arena[start as usize..(start + len) as usize]));
        }
    }

    /// The column as an Arrow array: a dictionary when it is a dictionary column of one
    /// value or few, else `Utf8View`.
    fn finish(mut self, arena: &str) -> ArrayRef {
        self.flush(arena);
        match self.run {
            Run::Same(Some(value), rows) if self.dictionary && rows > 1 => {
                let dtype = ArrowDataType::Dictionary(IntegerType::UInt32, Box::new(ArrowDataType::Utf8View), false);
                let values = Utf8ViewArray::from_slice_values([value.as_str()]).boxed();
                DictionaryArray::try_new(dtype, PrimitiveArray::from_vec(vec![0u32; rows]), values)
                    .expect("key 0 of one value")
                    .boxed()
            }
            Run::Same(Some(value), rows) => StringChunked::full(self.name, &value, rows).rechunk().chunks()[0].clone(),
            Run::Same(None, rows) => Utf8ViewArray::new_null(ArrowDataType::Utf8View, rows).boxed(),
            Run::Keys(keys) => DictionaryArray::<u32>::from(*keys).boxed(),
            Run::Empty | Run::Mixed => self.builder.finish().rechunk().chunks()[0].clone(),
        }
    }
}

/// Rows staged before the string columns are fed (see [`StrColumn`]): a few hundred
/// rows' values stay in the processor's cache.
const STAGED_ROWS: usize = 256;

/// Column builders for one chunk of rows: records are appended field by field, so no
/// per-record structure is kept and the frame is ready as soon as the chunk is full.
struct Columns {
    rows: usize,
    /// Bytes of the free-text values pushed (text, body, subject): what makes a chunk big.
    text_bytes: usize,
    /// Values of the staged rows (those since the last multiple of [`STAGED_ROWS`]), back
    /// to back.
    arena: String,
    interaction_id: StrColumn,
    source_id: StrColumn,
    source_file: StrColumn,
    source_ref: StrColumn,
    channel: StrColumn,
    direction: StrColumn,
    ts: Vec<i64>,
    ts_raw: StrColumn,
    thread_key: StrColumn,
    customer_handle: StrColumn,
    customer_handle_kind: StrColumn,
    customer_name: StrColumn,
    agent: StrColumn,
    text: StrColumn,
    body_full: StrColumn,
    subject: StrColumn,
    attachments: ListStringChunkedBuilder,
    duration_s: PrimitiveChunkedBuilder<Int64Type>,
    status: StrColumn,
    mentions: ListStringChunkedBuilder,
    kind: StrColumn,
    seq: Vec<u64>,
    author_raw: StrColumn,
    thread_title: StrColumn,
    edited: Vec<bool>,
    dedup_key: StrColumn,
}

impl Columns {
    fn new(capacity: usize) -> Columns {
        let s = |name: &str| StrColumn::new(name, capacity);
        Columns {
            rows: 0,
            text_bytes: 0,
            arena: String::new(),
            interaction_id: s("interaction_id"),
            source_id: s("source_id"),
            source_file: s("source_file"),
            source_ref: s("source_ref"),
            channel: s("channel"),
            direction: s("direction"),
            ts: Vec::with_capacity(capacity),
            ts_raw: s("ts_raw"),
            thread_key: s("thread_key"),
            customer_handle: s("customer_handle"),
            customer_handle_kind: s("customer_handle_kind"),
            customer_name: s("customer_name"),
            agent: s("agent"),
            text: s("text"),
            body_full: s("body_full"),
            subject: s("subject"),
            attachments: ListStringChunkedBuilder::new("attachments".into(), capacity, 16),
            duration_s: PrimitiveChunkedBuilder::new("duration_s".into(), capacity),
            status: s("status"),
            mentions: ListStringChunkedBuilder::new("mentions".into(), capacity, 16),
            kind: s("kind"),
            seq: Vec::with_capacity(capacity),
            author_raw: s("author_raw"),
            thread_title: s("thread_title"),
            edited: Vec::with_capacity(capacity),
            dedup_key: s("dedup_key"),
        }
    }

    fn push(&mut self, r: &InteractionRow<'_>) {
        self.rows += 1;
        self.text_bytes += [r.text, r.body_full, r.subject]
            .iter()
            .map(|v| v.map_or(0, str::len))
            .sum::<usize>();
        let a = &mut self.arena;
        self.interaction_id.push(Some(r.interaction_id), a);
        self.source_id.push(Some(r.source_id), a);
        self.source_file.push(Some(r.source_file), a);
        self.source_ref.push(Some(r.source_ref), a);
        self.channel.push(Some(r.channel.as_str()), a);
        self.direction.push(Some(r.direction.as_str()), a);
        self.ts.push(r.ts);
        self.ts_raw.push(Some(r.ts_raw), a);
        self.thread_key.push(Some(r.thread_key), a);
        self.customer_handle.push(r.customer_handle, a);
        self.customer_handle_kind
            .push(r.customer_handle_kind.map(HandleKind::as_str), a);
        self.customer_name.push(r.customer_name, a);
        self.agent.push(r.agent, a);
        self.text.push(r.text, a);
        self.body_full.push(r.body_full, a);
        self.subject.push(r.subject, a);
        self.attachments
            .append_values_iter(r.attachments.iter().map(String::as_str));
        self.duration_s.append_option(r.duration_s);
        self.status.push(r.status.map(CallStatus::as_str), a);
        self.mentions.append_values_iter(r.mentions.iter().map(String::as_str));
        self.kind.push(Some(r.kind.as_str()), a);
        self.seq.push(r.seq);
        self.author_raw.push(r.author_raw, a);
        self.thread_title.push(r.thread_title, a);
        self.edited.push(r.edited);
        self.dedup_key.push(Some(r.dedup_key), a);
        if self.rows.is_multiple_of(STAGED_ROWS) {
            self.flush_staged();
        }
    }

    /// Feeds the staged values to the string columns, a column at a time.
    fn flush_staged(&mut self) {
        let arena = self.arena.as_str();
        for column in [
            &mut self.interaction_id,
            &mut self.source_id,
            &mut self.source_file,
            &mut self.source_ref,
            &mut self.channel,
            &mut self.direction,
            &mut self.ts_raw,
            &mut self.thread_key,
            &mut self.customer_handle,
            &mut self.customer_handle_kind,
            &mut self.customer_name,
            &mut self.agent,
            &mut self.text,
            &mut self.body_full,
            &mut self.subject,
            &mut self.status,
            &mut self.kind,
            &mut self.author_raw,
            &mut self.thread_title,
            &mut self.dedup_key,
        ] {
            column.flush(arena);
        }
        self.arena.clear();
    }

    /// The rows pushed so far as Arrow arrays in the order of [`INTERACTION_COLUMNS`], as
    /// the Parquet writer takes them (dictionary columns as dictionaries).
    fn finish(mut self) -> Frame {
        let arena = std::mem::take(&mut self.arena);
        let a = arena.as_str();
        let arrow = |series: Series| series.to_arrow(0, CompatLevel::newest());
        let ts = Int64Chunked::from_vec("ts".into(), self.ts)
            .into_datetime(TimeUnit::Milliseconds, Some(TimeZone::UTC))
            .into_series();
        let columns = vec![
            self.interaction_id.finish(a),
            self.source_id.finish(a),
            self.source_file.finish(a),
            self.source_ref.finish(a),
            self.channel.finish(a),
            self.direction.finish(a),
            arrow(ts),
            self.ts_raw.finish(a),
            self.thread_key.finish(a),
            self.customer_handle.finish(a),
            self.customer_handle_kind.finish(a),
            self.customer_name.finish(a),
            self.agent.finish(a),
            self.text.finish(a),
            self.body_full.finish(a),
            self.subject.finish(a),
            arrow(self.attachments.finish().into_series()),
            arrow(self.duration_s.finish().into_series()),
            self.status.finish(a),
            arrow(self.mentions.finish().into_series()),
            self.kind.finish(a),
            arrow(UInt64Chunked::from_vec("seq".into(), self.seq).into_series()),
            self.author_raw.finish(a),
            self.thread_title.finish(a),
            arrow(BooleanChunked::from_slice("edited".into(), &self.edited).into_series()),
            self.dedup_key.finish(a),
        ];
        Frame {
            rows: self.rows,
            text_bytes: self.text_bytes,
            columns,
        }
    }

    /// Whether the chunk is as big as one gets, in rows or in text.
    fn is_full(&self) -> bool {
        self.rows >= ROWS_PER_CHUNK || self.text_bytes >= TEXT_BYTES_PER_CHUNK
    }
}

/// One chunk of rows as Arrow arrays, in the order of [`INTERACTION_COLUMNS`].
struct Frame {
    rows: usize,
    /// See [`Columns::text_bytes`].
    text_bytes: usize,
    columns: Vec<ArrayRef>,
}

impl Frame {
    /// As a polars frame with [`interactions_schema`] (dictionaries decoded).
    fn into_data_frame(self) -> Result<DataFrame> {
        let columns = INTERACTION_COLUMNS
            .iter()
            .zip(self.columns)
            .map(|(&name, array)| {
                let array = match array.as_any().downcast_ref::<DictionaryArray<u32>>() {
                    Some(dictionary) => decode_dictionary(dictionary),
                    None => array,
                };
                Ok(Series::from_arrow(name.into(), array)?.into_column())
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(DataFrame::new(self.rows, columns)?)
    }
}

/// The `Utf8View` array a dictionary of `Utf8View` values stands for.
fn decode_dictionary(dictionary: &DictionaryArray<u32>) -> ArrayRef {
    let values = dictionary
        .values()
        .as_any()
        .downcast_ref::<Utf8ViewArray>()
        .expect("dictionaries of strings");
    let mut out = MutableBinaryViewArray::<str>::with_capacity(dictionary.len());
    for key in dictionary.keys().iter() {
        out.push(key.map(|&k| values.value(k as usize)));
    }
    out.freeze().boxed()
}

/// Rows a row group gathers from consecutive frames. The Parquet writer keeps a few hundred
/// bytes per column chunk and per page until the file ends (the footer and page index need
/// them): with a row group per frame of 8 192 rows (a large chat's batches), memory grew by
/// ~9 bytes a record (87 MB for a 9.7M-message chat). Larger groups than the writer's own
/// chunks hold more frames at once, make the writer's work come in bursts that stall an
/// importer's workers, and are decoded twice by readers that take 16 384 rows at a time.
pub(crate) const ROWS_PER_GROUP: usize = ROWS_PER_CHUNK;

/// How a frame stores one column: joining a dictionary with plain values would mean
/// decoding the dictionary, then having polars hash every value to build one again.
#[derive(Clone, Copy, PartialEq)]
enum Storage {
    Nulls,
    Dictionary,
    Values,
}

impl Storage {
    fn of(array: &dyn Array) -> Storage {
        if array.as_any().is::<DictionaryArray<u32>>() {
            Storage::Dictionary
        } else if array.null_count() == array.len() {
            Storage::Nulls
        } else {
            Storage::Values
        }
    }

    /// How a column joined from parts stored as `self` and `other` is stored; `None` when a
    /// dictionary would meet plain values.
    fn join(self, other: Storage) -> Option<Storage> {
        match (self, other) {
            (Storage::Nulls, s) | (s, Storage::Nulls) => Some(s),
            (a, b) if a == b => Some(a),
            _ => None,
        }
    }
}

/// Joins consecutive frames into row groups of at least [`ROWS_PER_GROUP`] rows (or
/// [`TEXT_BYTES_PER_CHUNK`] of text), except where a column turns from a dictionary to plain
/// values or back (and at the end).
fn row_groups(frames: impl IntoIterator<Item = Frame>) -> impl Iterator<Item = Result<Frame>> {
    let mut frames = frames.into_iter();
    let mut held: Option<Frame> = None;
    std::iter::from_fn(move || {
        let first = held.take().or_else(|| frames.next())?;
        let mut stored: Vec<Storage> = first.columns.iter().map(|a| Storage::of(a.as_ref())).collect();
        let (mut rows, mut text_bytes) = (first.rows, first.text_bytes);
        let mut group = vec![first];
        while rows < ROWS_PER_GROUP && text_bytes < TEXT_BYTES_PER_CHUNK {
            let Some(frame) = frames.next() else { break };
            let joined: Option<Vec<Storage>> = stored
                .iter()
                .zip(&frame.columns)
                .map(|(s, a)| s.join(Storage::of(a.as_ref())))
                .collect();
            let Some(joined) = joined else {
                held = Some(frame);
                break;
            };
            stored = joined;
            rows += frame.rows;
            text_bytes += frame.text_bytes;
            group.push(frame);
        }
        Some(merge_frames(group, &stored))
    })
}

/// One frame with the rows of `frames`, in order; `stored` says how each joined column is
/// stored (see [`row_groups`]).
fn merge_frames(mut frames: Vec<Frame>, stored: &[Storage]) -> Result<Frame> {
    if frames.len() == 1 {
        return Ok(frames.remove(0));
    }
    let columns = stored
        .iter()
        .enumerate()
        .map(|(c, storage)| {
            let parts: Vec<&dyn Array> = frames.iter().map(|f| f.columns[c].as_ref()).collect();
            if *storage == Storage::Dictionary {
                Ok(merge_dictionaries(&parts))
            } else {
                Ok(polars_arrow::compute::concatenate::concatenate_unchecked(&parts)?)
            }
        })
        .collect::<Result<_>>()?;
    Ok(Frame {
        rows: frames.iter().map(|f| f.rows).sum(),
        text_bytes: frames.iter().map(|f| f.text_bytes).sum(),
        columns,
    })
}

/// One dictionary for parts that are dictionaries or all null: only the parts' distinct
/// values are hashed, each row's key is translated.
fn merge_dictionaries(parts: &[&dyn Array]) -> ArrayRef {
    let rows = parts.iter().map(|a| a.len()).sum();
    let mut values = MutableBinaryViewArray::<str>::new();
    let mut index: PlHashMap<&str, u32> = PlHashMap::new();
    let mut keys: Vec<u32> = Vec::with_capacity(rows);
    let mut validity = MutableBitmap::with_capacity(rows);
    let mut dtype = None;
    for part in parts {
        let Some(dictionary) = part.as_any().downcast_ref::<DictionaryArray<u32>>() else {
            assert_eq!(part.null_count(), part.len(), "only dictionaries and nulls are merged");
            keys.extend(std::iter::repeat_n(0, part.len()));
            validity.extend_constant(part.len(), false);
            continue;
        };
        dtype.get_or_insert_with(|| dictionary.dtype().clone());
        let local = dictionary
            .values()
            .as_any()
            .downcast_ref::<Utf8ViewArray>()
            .expect("dictionaries of strings");
        let merged: Vec<u32> = local
            .values_iter()
            .map(|value| {
                *index.entry(value).or_insert_with(|| {
                    values.push_value(value);
                    (values.len() - 1) as u32
                })
            })
            .collect();
        // A null row's key is 0 whatever the dictionary holds (it may hold nothing).
        let part_keys = dictionary.keys();
        keys.extend(
            part_keys
                .values()
                .iter()
                .map(|&k| merged.get(k as usize).copied().unwrap_or(0)),
        );
        match part_keys.validity() {
            Some(bits) => validity.extend_from_bitmap(bits),
            None => validity.extend_constant(part_keys.len(), true),
        }
    }
    let keys = PrimitiveArray::new(ArrowDataType::UInt32, keys.into(), validity.into());
    let dtype = dtype.expect("at least one dictionary part");
    DictionaryArray::try_new(dtype, keys, values.freeze().boxed())
        .expect("keys within the merged dictionary")
        .boxed()
}

/// Rows built away from the [`BatchWriter`] (on an importer's worker thread), handed to
/// it whole with [`BatchWriter::push_chunk`]; consecutive chunks share a row group.
pub struct RowChunk(Columns);

impl RowChunk {
    pub fn with_capacity(rows: usize) -> RowChunk {
        RowChunk(Columns::new(rows))
    }

    pub fn push_row(&mut self, row: &InteractionRow<'_>) {
        self.0.push(row);
    }

    pub fn rows(&self) -> usize {
        self.0.rows
    }
}

/// Streams interactions into one Parquet file, a row group per chunk. Rows go straight
/// into column builders; full chunks are encoded on a background thread, started with the
/// first full chunk, so that a small source (most chats, most mailboxes) is written on the
/// calling thread without any hand-off.
pub struct BatchWriter {
    /// The first file; a batch past [`ROW_GROUPS_PER_FILE`] goes on in [`batch_part`]s.
    path: PathBuf,
    pending: Columns,
    output: Output,
    rows: u64,
}

/// Row groups in one file of a batch (4 million rows); a larger batch goes on in further
/// files ([`batch_part`]). The Parquet writer keeps a description of every page it wrote
/// until the file ends (for the page index), ~4.6 bytes a row: a 3.2 GB chat in one file
/// peaked at 370 MB.
#[cfg(not(test))]
pub(crate) const ROW_GROUPS_PER_FILE: usize = 256;
/// Small in unit tests, so that they meet batches of several files.
#[cfg(test)]
pub(crate) const ROW_GROUPS_PER_FILE: usize = 2;

/// The `part`th file (from 2) of the batch whose first file is `first`:
/// `interactions/X.parquet` → `interactions/X.part2.parquet`.
pub(crate) fn batch_part(first: &str, part: usize) -> String {
    let stem = first.strip_suffix(".parquet").unwrap_or(first);
    format!("{stem}.part{part}.parquet")
}

/// The files of the batch whose first file is `first` (a path relative to `root`), in order,
/// as far as they exist.
pub(crate) fn batch_files(root: &Path, first: &str) -> Vec<String> {
    let more = (2..).map(|part| batch_part(first, part));
    std::iter::once(first.to_string())
        .chain(more.take_while(|rel| root.join(rel).exists()))
        .collect()
}

enum Output {
    /// No chunk is full yet: the file is still ours.
    Idle(File),
    Worker {
        tx: Option<SyncSender<Frame>>,
        worker: Option<JoinHandle<Result<u64>>>,
    },
    Done,
}

/// Bytes written between two background flushes of a batch file to disk.
const WRITEBACK_BYTES: u64 = 32 << 20;

/// The background flushing of one batch file: a thread (started at the first
/// [`WRITEBACK_BYTES`]) that calls `sync_data` when asked and keeps the first error.
#[derive(Default)]
struct Writeback {
    syncer: Option<(SyncSender<()>, JoinHandle<std::io::Result<()>>)>,
}

impl Writeback {
    /// Asks for a flush of what `file` holds (starting the thread with a clone of it).
    fn request(&mut self, file: &File) {
        if self.syncer.is_none() {
            let Ok(clone) = file.try_clone() else { return };
            // One request waits at most: a queued sync also covers bytes written after it.
            let (tx, rx) = sync_channel::<()>(1);
            let thread = std::thread::Builder::new().spawn(move || {
                let mut first = Ok(());
                for () in rx {
                    if let Err(e) = clone.sync_data() {
                        first = first.and(Err(e));
                    }
                }
                first
            });
            // No thread (the system refused one): the commit's fsync does all the work.
            let Ok(thread) = thread else { return };
            self.syncer = Some((tx, thread));
        }
        if let Some((tx, _)) = &self.syncer {
            let _ = tx.try_send(());
        }
    }

    /// Stops the thread and returns the first error a flush met. It must be returned: the
    /// kernel reports a failed write-back once, to whichever sync sees it first, so the
    /// commit's own fsync would not hear of it.
    fn finish(&mut self) -> std::io::Result<()> {
        match self.syncer.take() {
            Some((tx, thread)) => {
                drop(tx);
                thread
                    .join()
                    .unwrap_or_else(|_| Err(std::io::Error::other("disk flush thread panicked")))
            }
            None => Ok(()),
        }
    }
}

/// A batch file whose bytes go to disk in the background as they accumulate (every
/// [`WRITEBACK_BYTES`]), so that the fsync at commit finds little left to write: a 500 MB
/// mailbox's 170 MB batch used to wait 0.17 s there, both cores idle.
struct WritebackFile {
    file: File,
    unsynced: u64,
    writeback: Writeback,
}

impl Write for WritebackFile {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.file.write(buf)?;
        self.unsynced += n as u64;
        if self.unsynced >= WRITEBACK_BYTES {
            self.unsynced = 0;
            self.writeback.request(&self.file);
        }
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.file.flush()
    }
}

/// String columns stored plain, never as a dictionary: ids, keys, times and line numbers
/// as written are (nearly) one value per record, and message text is never worth one.
const PLAIN_STRING_COLUMNS: &[&str] = &[
    "interaction_id",
    "dedup_key",
    "ts_raw",
    "source_ref",
    "text",
    "body_full",
];

/// How one column is stored: its encoding, compression and statistics.
struct ColumnPlan {
    encoding: Vec<Encoding>,
    compression: CompressionOptions,
    statistics: StatisticsOptions,
}

/// Per-column choices where polars' one-size default costs time for nothing: ids and dedup
/// keys are random hex (every value distinct, so no dictionary; LZ4 cannot shrink them;
/// their minimum and maximum filter nothing), and message text is never a dictionary and
/// has no useful minimum either. Everything else gets polars' defaults.
fn column_plans(schema: &ArrowSchema) -> Vec<ColumnPlan> {
    let no_stats = StatisticsOptions {
        min_value: false,
        max_value: false,
        distinct_count: false,
        null_count: true,
        binary_statistics_truncate_length: None,
    };
    schema
        .iter_values()
        .map(|field| match field.name.as_str() {
            "interaction_id" | "dedup_key" => ColumnPlan {
                encoding: vec![Encoding::Plain],
                compression: CompressionOptions::Uncompressed,
                statistics: no_stats,
            },
            // Sequence numbers and times mostly step by little: their differences, bit-packed,
            // are smaller than LZ4 makes the values, at a fraction of its work.
            "seq" | "ts" => ColumnPlan {
                encoding: vec![Encoding::DeltaBinaryPacked],
                compression: CompressionOptions::Uncompressed,
                statistics: StatisticsOptions::default(),
            },
            // Nearly one value per record: a dictionary is tried and given up on every chunk.
            "ts_raw" | "source_ref" => ColumnPlan {
                encoding: vec![Encoding::Plain],
                compression: CompressionOptions::Lz4Raw,
                statistics: StatisticsOptions::default(),
            },
            "text" | "body_full" => ColumnPlan {
                encoding: vec![Encoding::Plain],
                compression: CompressionOptions::Lz4Raw,
                statistics: no_stats,
            },
            _ => ColumnPlan {
                encoding: get_dtype_encoding(&field.dtype),
                compression: CompressionOptions::Lz4Raw,
                statistics: StatisticsOptions::default(),
            },
        })
        .collect()
}

/// Writes frames as Parquet row groups (see [`row_groups`]) with [`column_plans`] into
/// `file` (at `path`), and past [`ROW_GROUPS_PER_FILE`] into further files ([`batch_part`]).
fn write_frames(file: File, path: &Path, frames: impl IntoIterator<Item = Frame>) -> Result<u64> {
    let mut groups = row_groups(frames).peekable();
    let (mut file, mut part, mut rows) = (file, 1, 0);
    loop {
        rows += write_file(file, groups.by_ref().take(ROW_GROUPS_PER_FILE))?;
        if groups.peek().is_none() {
            return Ok(rows);
        }
        part += 1;
        let next = path.with_file_name(batch_part(
            &path.file_name().unwrap_or_default().to_string_lossy(),
            part,
        ));
        file = File::create(&next).with_context(|| format!("cannot create {}", next.display()))?;
    }
}

/// Writes row groups into one Parquet file.
fn write_file(file: File, groups: impl Iterator<Item = Result<Frame>>) -> Result<u64> {
    // The Parquet encoder issues many small writes (page headers, footer fields):
    // buffered, they cost a few syscalls per row group instead of thousands per file.
    let file = WritebackFile {
        file,
        unsynced: 0,
        writeback: Writeback::default(),
    };
    let out = BufWriter::with_capacity(1 << 20, file);
    let schema = interactions_schema().to_arrow(CompatLevel::newest());
    let plans = column_plans(&schema);
    let file_options = WriteOptions {
        statistics: StatisticsOptions::default(),
        compression: CompressionOptions::Lz4Raw,
        version: Version::V1,
        data_page_size: None,
    };
    let mut writer = FileWriter::try_new(out, schema, file_options)?;
    let fields: Vec<ParquetType> = writer.parquet_schema().fields().to_vec();
    let mut rows = 0u64;
    for frame in groups {
        let frame = frame?;
        // Encoded on one thread: the importer keeps the other core busy.
        let mut columns = Vec::with_capacity(fields.len());
        for ((array, field), plan) in frame.columns.iter().zip(&fields).zip(&plans) {
            let options = WriteOptions {
                statistics: plan.statistics,
                compression: plan.compression,
                ..file_options
            };
            for pages in array_to_columns(array, field.clone(), options, &plan.encoding)? {
                let compressed = Compressor::new_from_vec(
                    pages.map(|page| page.map_err(|e| ParquetError::FeatureNotSupported(e.to_string()))),
                    plan.compression,
                    Vec::new(),
                )
                .map_err(PolarsError::from);
                columns.push(Ok(DynStreamingIterator::new(compressed)));
            }
        }
        rows += frame.rows as u64;
        writer.write(frame.rows as u64, DynIter::new(columns.into_iter()))?;
    }
    writer.end(None)?;
    let mut file = writer.into_inner().into_inner().map_err(|e| e.into_error())?;
    file.writeback.finish().context("writing the batch to disk")?;
    Ok(rows)
}

impl BatchWriter {
    pub fn create(path: &Path) -> Result<BatchWriter> {
        let file = File::create(path).with_context(|| format!("cannot create {}", path.display()))?;
        Ok(BatchWriter {
            path: path.to_path_buf(),
            pending: Columns::new(FIRST_CHUNK),
            output: Output::Idle(file),
            rows: 0,
        })
    }

    pub fn push(&mut self, interaction: Interaction) -> Result<()> {
        self.push_row(&InteractionRow::of(&interaction))
    }

    /// Appends one record given by reference (nothing of it is kept).
    pub fn push_row(&mut self, row: &InteractionRow<'_>) -> Result<()> {
        self.pending.push(row);
        self.rows += 1;
        if self.pending.is_full() {
            self.flush()?;
        }
        Ok(())
    }

    pub fn rows(&self) -> u64 {
        self.rows
    }

    /// Appends rows built elsewhere, after the rows pushed so far.
    pub fn push_chunk(&mut self, chunk: RowChunk) -> Result<()> {
        if chunk.rows() == 0 {
            return Ok(());
        }
        self.flush()?;
        self.rows += chunk.rows() as u64;
        self.send(chunk.0.finish())
    }

    /// Hands the pending chunk to the writer thread (starting it if needed).
    fn flush(&mut self) -> Result<()> {
        if self.pending.rows == 0 {
            return Ok(());
        }
        let chunk = std::mem::replace(&mut self.pending, Columns::new(ROWS_PER_CHUNK));
        self.send(chunk.finish())
    }

    /// Hands a frame to the writer thread (starting it if needed).
    fn send(&mut self, frame: Frame) -> Result<()> {
        if let Some(file) = self.take_idle_file() {
            // Room for a row group's worth of frames (at least two): the sender goes on while
            // the writer encodes a group.
            let depth = (ROWS_PER_GROUP / frame.rows.max(1))
                .min(TEXT_BYTES_PER_CHUNK / frame.text_bytes.max(1))
                .clamp(2, 4);
            let (tx, rx) = sync_channel::<Frame>(depth);
            let path = self.path.clone();
            let worker = std::thread::spawn(move || write_frames(file, &path, rx));
            self.output = Output::Worker {
                tx: Some(tx),
                worker: Some(worker),
            };
        }
        let sent = match &self.output {
            Output::Worker { tx: Some(tx), .. } => tx.send(frame).is_ok(),
            _ => false,
        };
        if !sent {
            // The worker stopped early: its error explains why.
            return Err(self.join().err().unwrap_or_else(|| anyhow!("parquet writer stopped")));
        }
        Ok(())
    }

    /// The file, while no chunk has gone to a writer thread yet.
    fn take_idle_file(&mut self) -> Option<File> {
        match std::mem::replace(&mut self.output, Output::Done) {
            Output::Idle(file) => Some(file),
            other => {
                self.output = other;
                None
            }
        }
    }

    fn join(&mut self) -> Result<u64> {
        match &mut self.output {
            Output::Worker { tx, worker } => {
                tx.take();
                match worker.take() {
                    Some(h) => h.join().map_err(|_| anyhow!("parquet writer thread panicked"))?,
                    None => Ok(self.rows),
                }
            }
            _ => Ok(self.rows),
        }
    }

    /// Writes what is pending and closes the file; returns the row count.
    pub fn finish(mut self) -> Result<u64> {
        if let Some(file) = self.take_idle_file() {
            // Everything fits in one chunk: written here, no thread needed.
            let chunk = std::mem::replace(&mut self.pending, Columns::new(0));
            let frames = if chunk.rows > 0 {
                vec![chunk.finish()]
            } else {
                Vec::new()
            };
            return write_frames(file, &self.path, frames);
        }
        self.flush()?;
        self.join()
    }
}

impl Drop for BatchWriter {
    fn drop(&mut self) {
        let _ = self.join();
    }
}

/// Converts interactions into a frame with [`interactions_schema`].
pub fn to_frame(rows: &[Interaction]) -> Result<DataFrame> {
    let mut columns = Columns::new(rows.len());
    for r in rows {
        columns.push(&InteractionRow::of(r));
    }
    columns.finish().into_data_frame()
}

/// Reads selected columns of every batch file given (relative to `root`).
pub fn read_columns(root: &Path, batches: &[String], columns: &[&str]) -> Result<Vec<DataFrame>> {
    let mut out = Vec::new();
    for_each_slice(root, batches, Some(columns), usize::MAX, |_, df| {
        out.push(df);
        Ok(())
    })?;
    Ok(out)
}

/// Rows in the batch files (relative to `root`), from their footers.
pub fn count_rows(root: &Path, batches: &[String]) -> Result<usize> {
    batches
        .iter()
        .map(|rel| {
            let path = root.join(rel);
            let file = File::open(&path).with_context(|| format!("cannot open {}", path.display()))?;
            ParquetReader::new(file)
                .num_rows()
                .map_err(|e| anyhow!("cannot read {}: {e}", path.display()))
        })
        .sum()
}

/// Strings read from a column many times each (files, agents, mentions), kept once and
/// named by their index.
#[derive(Default)]
pub struct Interner {
    index: std::collections::HashMap<String, u32>,
    values: Vec<String>,
}

impl Interner {
    /// The index of `s`, added on first sight.
    pub fn get(&mut self, s: &str) -> u32 {
        if let Some(&i) = self.index.get(s) {
            return i;
        }
        let i = self.values.len() as u32;
        self.index.insert(s.to_string(), i);
        self.values.push(s.to_string());
        i
    }

    /// The strings, by index.
    pub fn into_values(self) -> Vec<String> {
        self.values
    }
}

/// A list-of-strings column of a frame (`mentions`, `attachments`), read through its Arrow
/// offsets: no Series per row, and most rows have no value.
pub struct StrLists {
    offsets: polars_arrow::offset::OffsetsBuffer<i64>,
    values: StringChunked,
}

impl StrLists {
    pub fn of(df: &DataFrame, name: &str) -> Result<StrLists> {
        let lists = df.column(name)?.list()?.rechunk();
        let offsets = match lists.downcast_iter().next() {
            Some(array) => array.offsets().clone(),
            None => anyhow::bail!("empty {name} column"),
        };
        let values = lists.get_inner().str()?.clone();
        Ok(StrLists { offsets, values })
    }

    /// Whether row `i` has any value.
    pub fn has_values(&self, i: usize) -> bool {
        let (from, to) = self.offsets.start_end(i);
        from < to
    }

    /// The values of row `i`.
    pub fn row(&self, i: usize) -> impl Iterator<Item = &str> {
        let (from, to) = self.offsets.start_end(i);
        (from..to).filter_map(|j| self.values.get(j))
    }
}

/// Calls `each` with slices of at most `rows` rows (all columns, or those named) of every
/// batch file given (relative to `root`), in order: a workspace of millions of records is
/// never read whole. Each file's footer is read once (read for every slice, a file of 600
/// row groups parsed its metadata 600 times); a slice that is a whole number of 16 384-row
/// groups decodes no group twice.
pub fn for_each_slice(
    root: &Path,
    batches: &[String],
    columns: Option<&[&str]>,
    rows: usize,
    mut each: impl FnMut(&Path, DataFrame) -> Result<()>,
) -> Result<()> {
    for rel in batches {
        let path = root.join(rel);
        let open = || File::open(&path).with_context(|| format!("cannot open {}", path.display()));
        let unreadable = |e: PolarsError| anyhow!("cannot read {}: {e}", path.display());
        let metadata = ParquetReader::new(open()?).get_metadata().map_err(unreadable)?.clone();
        let total = metadata.num_rows;
        let mut offset = 0;
        while offset < total {
            let mut reader = ParquetReader::new(open()?);
            reader.set_metadata(metadata.clone());
            let df = reader
                .with_columns(columns.map(|c| c.iter().map(|c| c.to_string()).collect()))
                .with_slice(Some((offset, rows)))
                .finish()
                .map_err(unreadable)?;
            offset = offset.saturating_add(rows);
            each(&path, df)?;
        }
    }
    Ok(())
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Every file of the batch whose first file is `path`, in order.
    fn batch_paths(path: &Path) -> Vec<PathBuf> {
        let dir = path.parent().unwrap();
        let name = path.file_name().unwrap().to_str().unwrap();
        batch_files(dir, name).into_iter().map(|f| dir.join(f)).collect()
    }

    /// The rows of a batch, over its files.
    fn read_batch(path: &Path) -> DataFrame {
        let mut frames = batch_paths(path)
            .into_iter()
            .map(|p| ParquetReader::new(File::open(p).unwrap()).finish().unwrap());
        let mut all = frames.next().unwrap();
        frames.for_each(|f| {
            all.vstack_mut(&f).unwrap();
        });
        all
    }

    /// Rows per row group of a batch, over its files.
    fn group_rows(path: &Path) -> Vec<usize> {
        batch_paths(path)
            .iter()
            .flat_map(|p| {
                let meta = polars_parquet::read::read_metadata(&mut File::open(p).unwrap()).unwrap();
                meta.row_groups.iter().map(|g| g.num_rows()).collect::<Vec<_>>()
            })
            .collect()
    }
    #[test]
    fn writeback_passes_every_byte_through_and_flushes_in_the_background() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("b.parquet");
        let mut out = WritebackFile {
            file: File::create(&path).unwrap(),
            unsynced: 0,
            writeback: Writeback::default(),
        };
        let piece: Vec<u8> = (0..1_000_003u32).map(|i| (i % 251) as u8).collect();
        for _ in 0..40 {
            out.write_all(&piece).unwrap();
        }
        out.flush().unwrap();
        assert!(
            out.writeback.syncer.is_some(),
            "40 MB written without a background flush"
        );
        out.writeback.finish().unwrap();
        assert!(out.writeback.syncer.is_none(), "the flush thread is stopped");
        drop(out);
        let written = std::fs::read(&path).unwrap();
        assert_eq!(written.len(), 40 * piece.len());
        assert!(written.chunks(piece.len()).all(|c| c == piece.as_slice()));
    }

    use crate::model::{CallStatus, Channel, Direction, HandleKind, Kind};

    fn sample() -> Vec<Interaction> {
        let mut a = Interaction::new(
            "s-1",
            Channel::Whatsapp,
            Direction::Inbound,
            Kind::Media,
            1_700_000_000_000,
        );
        a.interaction_id = "id-a".into();
        a.customer_handle = Some("+447700900123".into());
        a.customer_handle_kind = Some(HandleKind::Phone);
        a.attachments = vec!["IMG-1.jpg".into(), "a much longer attachment file name.pdf".into()];
        a.mentions = vec!["order:BS-10442".into()];
        a.duration_s = Some(12);
        a.status = Some(CallStatus::Answered);
        a.edited = true;
        a.seq = 7;
        let mut b = Interaction::new("s-1", Channel::Email, Direction::System, Kind::System, -5);
        b.text = Some("a text longer than twelve bytes".into());
        vec![a, b]
    }

    #[test]
    fn frames_have_the_schema_and_survive_parquet() {
        let rows = sample();
        let df = to_frame(&rows).unwrap();
        assert_eq!(df.schema().as_ref(), &interactions_schema());
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("b.parquet");
        let mut w = BatchWriter::create(&path).unwrap();
        for r in &rows {
            w.push_row(&InteractionRow::of(r)).unwrap();
        }
        assert_eq!(w.finish().unwrap(), 2);
        let back = ParquetReader::new(File::open(&path).unwrap()).finish().unwrap();
        assert!(back.equals_missing(&df), "{back:?}\n{df:?}");
    }

    #[test]
    fn string_columns_keep_every_value_and_give_dictionaries_where_planned() {
        let long = "a mail body longer than the arena takes ".repeat(40);
        let many: Vec<String> = (0..KEYS_MAX + 10).map(|i| format!("customer {i}")).collect();
        let mut past_the_table: Vec<Option<&str>> = vec![Some("first"), None];
        past_the_table.extend(many.iter().map(|v| Some(v.as_str())));
        past_the_table.extend([None, Some("first")]);
        let cases: [&[Option<&str>]; 8] = [
            &[],
            &[Some("a source id longer than twelve bytes"); 5],
            &[None, None],
            &[Some("only one")],
            &[
                Some("same value, long enough"),
                Some("same value, long enough"),
                Some("other"),
                None,
                Some("x"),
            ],
            &[None, Some("late")],
            // Staged values, a long one pushed past them, a block flushed midway.
            &[
                Some("a"),
                Some("b"),
                Some(long.as_str()),
                None,
                Some("c"),
                Some(long.as_str()),
                Some("d"),
            ],
            // More distinct values than the table holds: built like a plain column.
            &past_the_table,
        ];
        for values in cases {
            for name in ["customer_handle", "text"] {
                let mut column = StrColumn::new(name, 4);
                let mut arena = String::new();
                for (i, v) in values.iter().enumerate() {
                    column.push(*v, &mut arena);
                    if i == 4 {
                        column.flush(&arena);
                        arena.clear();
                    }
                }
                let array = column.finish(&arena);
                let dictionary = array.as_any().downcast_ref::<DictionaryArray<u32>>();
                let strings = dictionary.map(decode_dictionary).unwrap_or_else(|| array.clone());
                let strings = strings.as_any().downcast_ref::<Utf8ViewArray>().unwrap();
                let got: Vec<Option<&str>> = strings.iter().collect();
                assert_eq!(got, values, "{name}");
                let distinct: std::collections::HashSet<_> = values.iter().collect();
                let stored_as_keys =
                    values.len() > 1 && distinct.len() <= KEYS_MAX && !(distinct.len() == 1 && values[0].is_none());
                assert_eq!(
                    dictionary.is_some(),
                    name != "text" && stored_as_keys,
                    "{name} {values:?}"
                );
            }
        }
    }

    #[test]
    fn columns_are_stored_as_planned() {
        use polars_parquet::parquet::compression::Compression;
        let rows = sample();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("b.parquet");
        let mut w = BatchWriter::create(&path).unwrap();
        for _ in 0..100 {
            for r in &rows {
                w.push_row(&InteractionRow::of(r)).unwrap();
            }
        }
        w.finish().unwrap();
        let meta = polars_parquet::read::read_metadata(&mut File::open(&path).unwrap()).unwrap();
        let group = &meta.row_groups[0];
        let column = |name: &str| group.columns_under_root_iter(name).unwrap().next().unwrap();
        for (name, compression, dictionary) in [
            ("interaction_id", Compression::Uncompressed, false),
            ("dedup_key", Compression::Uncompressed, false),
            ("text", Compression::Lz4Raw, false),
            ("source_id", Compression::Lz4Raw, true),
            ("channel", Compression::Lz4Raw, true),
        ] {
            let c = column(name);
            assert_eq!(c.compression(), compression, "{name}");
            assert_eq!(c.dictionary_page_offset().is_some(), dictionary, "{name}");
        }
    }

    #[test]
    fn rows_of_long_texts_make_smaller_row_groups() {
        let mut long = sample()[0].clone();
        long.text = Some("x".repeat(1 << 20));
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("long.parquet");
        let mut w = BatchWriter::create(&path).unwrap();
        for _ in 0..40 {
            w.push_row(&InteractionRow::of(&long)).unwrap();
        }
        assert_eq!(w.finish().unwrap(), 40);
        // 16 MiB of text to a chunk and to a row group, not 16 384 rows.
        let per_group = TEXT_BYTES_PER_CHUNK >> 20;
        assert_eq!(group_rows(&path), [per_group, per_group, 40 - 2 * per_group]);
        assert_eq!(read_batch(&path).height(), 40);
    }

    #[test]
    fn many_rows_go_through_the_writer_thread() {
        let rows = sample();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("big.parquet");
        let mut w = BatchWriter::create(&path).unwrap();
        let n = ROWS_PER_CHUNK * 2 + 3;
        for i in 0..n {
            w.push_row(&InteractionRow::of(&rows[i % 2])).unwrap();
        }
        assert_eq!(w.finish().unwrap(), n as u64);
        let back = read_batch(&path);
        assert_eq!(back.height(), n);
        // A full chunk is a row group of its own; the three rows left over make the last,
        // in a second file (unit tests put two row groups in a file).
        assert_eq!(group_rows(&path), [ROWS_PER_GROUP, ROWS_PER_GROUP, 3]);
        assert_eq!(batch_paths(&path).len(), 2);
        assert!(back.slice(0, 2).equals_missing(&to_frame(&rows).unwrap()));
        // Rows cross blocks of staged values and chunks: the last ones are still in order.
        let last = to_frame(&[rows[1].clone(), rows[0].clone()]).unwrap();
        assert!(back.slice(n as i64 - 2, 2).equals_missing(&last));
    }

    #[test]
    fn consecutive_chunks_share_row_groups_and_keep_every_value() {
        let base = sample();
        let row = |i: usize, name: Option<String>, handle: Option<&str>| {
            let mut r = base[i % 2].clone();
            r.customer_name = name;
            r.customer_handle = handle.map(str::to_owned);
            r.seq = i as u64;
            r
        };
        let parts: Vec<Vec<Interaction>> = vec![
            // Dictionaries of a few values.
            (0..300)
                .map(|i| row(i, Some(format!("name {}", i % 3)), Some("+447700900123")))
                .collect(),
            // Nothing but nulls.
            (0..200).map(|i| row(i, None, None)).collect(),
            // More names than a chunk's dictionary holds (plain), one handle.
            (0..KEYS_MAX + 50)
                .map(|i| row(i, Some(format!("customer {i}")), Some("+447700900999")))
                .collect(),
            // One value, seen before.
            (0..100)
                .map(|i| row(i, Some("name 1".into()), Some("+447700900123")))
                .collect(),
        ];
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("b.parquet");
        let mut w = BatchWriter::create(&path).unwrap();
        for part in &parts {
            let mut chunk = RowChunk::with_capacity(part.len());
            for r in part {
                chunk.push_row(&InteractionRow::of(r));
            }
            w.push_chunk(chunk).unwrap();
        }
        let all = parts.concat();
        assert_eq!(w.finish().unwrap(), all.len() as u64);
        let back = read_batch(&path);
        assert!(back.equals_missing(&to_frame(&all).unwrap()));
        // Dictionaries and null parts make one dictionary; a column turning to plain values
        // (the names of the third chunk) or back starts a row group.
        assert_eq!(group_rows(&path), [500, KEYS_MAX + 50, 100]);
        let meta = polars_parquet::read::read_metadata(&mut File::open(&path).unwrap()).unwrap();
        let handle = meta.row_groups[0]
            .columns_under_root_iter("customer_handle")
            .unwrap()
            .next()
            .unwrap();
        assert!(handle.dictionary_page_offset().is_some());
    }
}
