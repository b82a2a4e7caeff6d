//! Loading the workspace for reports: the interactions (projected and filtered lazily by
//! polars, one batch file at a time so memory stays near the compact arrays), each mapped to
//! its customer through `identities.parquet`, then sorted by customer and time.

use super::settings::{parse_channel, ReportSettings};
use crate::identity::identity_id;
use crate::model::{CallStatus, Channel, Direction, HandleKind, Kind};
use crate::workspace::{count_rows, for_each_slice, Interner, StrLists, Workspace};
use anyhow::{anyhow, Context, Result};
use polars::prelude::*;
use std::collections::HashMap;
use std::ops::Range;
use std::path::Path;

/// Marks "no value" in the index columns (`customer`, `identity`, `agent`).
pub const NONE: u32 = u32::MAX;

/// The workspace has interactions but no `identities.parquet`: reports would count handles,
/// not customers. Callers say so and suggest `omnitrail match`.
#[derive(Debug, thiserror::Error)]
#[error("the workspace has not been matched yet ({0} is missing): run `omnitrail match` first, then report again")]
pub struct NotMatched(pub String);

/// What to load besides the compact columns every metric needs.
#[derive(Debug, Clone, Default)]
pub struct LoadOptions {
    /// Interaction ids, source file/ref and a text snippet (detail reports and timelines).
    pub details: bool,
    /// Only rows whose `customer_handle` is one of these (timelines); empty: all rows.
    pub handles: Vec<String>,
}

/// Per-row strings kept for detail reports and timelines.
#[derive(Debug, Default, Clone)]
pub struct RowDetails {
    pub interaction_id: Vec<String>,
    pub source_file: Vec<String>,
    pub source_ref: Vec<String>,
    /// Subject or text, shortened.
    pub snippet: Vec<String>,
    pub customer_name: Vec<Option<String>>,
    pub handle: Vec<Option<String>>,
}

/// The interactions a report sees, as parallel columns sorted by (customer, ts, seq); rows
/// without a customer (system, internal, withheld callers) come last.
#[derive(Debug, Default)]
pub struct Dataset {
    pub ts: Vec<i64>,
    pub channel: Vec<Channel>,
    pub direction: Vec<Direction>,
    pub kind: Vec<Kind>,
    pub status: Vec<Option<CallStatus>>,
    pub customer: Vec<u32>,
    pub identity: Vec<u32>,
    pub agent: Vec<u32>,
    /// Mentions of row `i` are `mention_values[mention_offsets[i]..mention_offsets[i + 1]]`.
    pub mention_offsets: Vec<u32>,
    pub mention_values: Vec<u32>,
    pub details: Option<RowDetails>,
    /// Customer ids by index; customers of identities the matcher has not seen are `unmatched:<identity>`.
    pub customer_ids: Vec<String>,
    pub identity_ids: Vec<String>,
    pub agents: Vec<String>,
    pub mentions: Vec<String>,
    /// Row range of each customer that has rows, in customer order.
    pub customer_rows: Vec<(u32, Range<usize>)>,
    /// First row without a customer.
    pub unassigned_from: usize,
    /// Contact-channel rows (address-book anchors) seen and left out.
    pub contact_records: u64,
    /// Identities found in the interactions but absent from `identities.parquet` (imported after the last match).
    pub unmatched_identities: u64,
    /// Identities listed more than once in `identities.parquet` (the first customer is used).
    pub ambiguous_identities: u64,
    /// Latest instant the data can speak for: `--until` when given, else the latest interaction.
    pub data_end_ms: Option<i64>,
}

impl Dataset {
    pub fn len(&self) -> usize {
        self.ts.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ts.is_empty()
    }

    pub fn mentions_of(&self, row: usize) -> &[u32] {
        &self.mention_values[self.mention_offsets[row] as usize..self.mention_offsets[row + 1] as usize]
    }
}

/// Path of the matcher's identity table.
pub fn identities_path(root: &Path) -> std::path::PathBuf {
    root.join("identities.parquet")
}

/// identity_id → (identity index, customer index), from `identities.parquet`.
struct IdentityIndex {
    by_id: HashMap<String, (u32, u32)>,
    identity_ids: Vec<String>,
    customer_ids: Vec<String>,
    ambiguous: u64,
}

fn read_identities(root: &Path) -> Result<IdentityIndex> {
    let path = identities_path(root);
    if !path.exists() {
        return Err(NotMatched(path.display().to_string()).into());
    }
    let pl_path = PlRefPath::try_from_pathbuf(path.clone())?;
    let df = LazyFrame::scan_parquet(pl_path, ScanArgsParquet::default())
        .and_then(|lf| lf.select([col("identity_id"), col("customer_id")]).collect())
        .map_err(|e| anyhow!("cannot read {}: {e}", path.display()))?;
    let ids = df.column("identity_id")?.str()?;
    let customers = df.column("customer_id")?.str()?;
    let mut index = IdentityIndex {
        by_id: HashMap::with_capacity(df.height()),
        identity_ids: Vec::with_capacity(df.height()),
        customer_ids: Vec::new(),
        ambiguous: 0,
    };
    let mut customer_index: HashMap<&str, u32> = HashMap::new();
    for (id, customer) in ids.iter().zip(customers.iter()) {
        let (Some(id), Some(customer)) = (id, customer) else {
            continue;
        };
        if index.by_id.contains_key(id) {
            index.ambiguous += 1;
            continue;
        }
        let next = customer_index.len() as u32;
        let c = *customer_index.entry(customer).or_insert_with(|| {
            index.customer_ids.push(customer.to_string());
            next
        });
        index.by_id.insert(id.to_string(), (index.identity_ids.len() as u32, c));
        index.identity_ids.push(id.to_string());
    }
    Ok(index)
}

fn ms_literal(ms: i64) -> Expr {
    lit(ms).cast(DataType::Datetime(TimeUnit::Milliseconds, Some(TimeZone::UTC)))
}

fn any_of(column: &str, values: impl IntoIterator<Item = String>) -> Option<Expr> {
    values
        .into_iter()
        .map(|v| col(column).eq(lit(v)))
        .reduce(|a, b| a.or(b))
}

/// Rows read at a time.
const SLICE_ROWS: usize = 65_536;

/// The columns a report reads.
fn report_columns(opts: &LoadOptions) -> Vec<&'static str> {
    let mut columns = vec![
        "ts",
        "seq",
        "channel",
        "direction",
        "kind",
        "status",
        "customer_handle",
        "customer_handle_kind",
        "agent",
        "mentions",
    ];
    if opts.details {
        columns.extend([
            "interaction_id",
            "source_file",
            "source_ref",
            "text",
            "subject",
            "customer_name",
        ]);
    }
    columns
}

/// The rows of `lf` (read with [`report_columns`]) a report sees (`--since`, `--until`,
/// channels, a timeline's handles).
fn batch_query(mut lf: LazyFrame, settings: &ReportSettings, opts: &LoadOptions) -> LazyFrame {
    if let Some(since) = settings.since_ms {
        lf = lf.filter(col("ts").gt_eq(ms_literal(since)));
    }
    if let Some(until) = settings.until_ms {
        lf = lf.filter(col("ts").lt(ms_literal(until)));
    }
    if !settings.channels.is_empty() {
        // Contact rows always pass: they are counted (and left out) whatever the filter.
        let keep = settings
            .channels
            .iter()
            .map(|c| c.as_str().to_string())
            .chain(["contact".to_string()]);
        if let Some(e) = any_of("channel", keep) {
            lf = lf.filter(e);
        }
    }
    if let Some(e) = any_of("customer_handle", opts.handles.iter().cloned()) {
        lf = lf.filter(e);
    }
    lf
}

fn parse_direction(s: &str) -> Direction {
    match s {
        "inbound" => Direction::Inbound,
        "outbound" => Direction::Outbound,
        "internal" => Direction::Internal,
        "system" => Direction::System,
        _ => Direction::Unknown,
    }
}

fn parse_kind(s: &str) -> Kind {
    match s {
        "media" => Kind::Media,
        "call" => Kind::Call,
        "deleted" => Kind::Deleted,
        "system" => Kind::System,
        "contact" => Kind::Contact,
        _ => Kind::Message,
    }
}

fn parse_status(s: &str) -> Option<CallStatus> {
    Some(match s {
        "answered" => CallStatus::Answered,
        "missed" => CallStatus::Missed,
        "voicemail" => CallStatus::Voicemail,
        "busy" => CallStatus::Busy,
        "failed" => CallStatus::Failed,
        _ => return None,
    })
}

fn parse_handle_kind(s: &str) -> Option<HandleKind> {
    Some(match s {
        "phone" => HandleKind::Phone,
        "email" => HandleKind::Email,
        "name" => HandleKind::Name,
        _ => return None,
    })
}

fn snippet(text: Option<&str>, subject: Option<&str>) -> String {
    let base = match (subject, text) {
        (Some(s), Some(t)) if !t.trim().is_empty() => format!("{s}: {t}"),
        (Some(s), _) => s.to_string(),
        (None, Some(t)) => t.to_string(),
        (None, None) => String::new(),
    };
    let flat: String = base.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() > 80 {
        let cut: String = flat.chars().take(79).collect();
        format!("{cut}…")
    } else {
        flat
    }
}

/// Loads the interactions the settings select, mapped to customers. Fails with
/// [`NotMatched`] when the workspace has interactions but no `identities.parquet`.
pub fn load(ws: &Workspace, settings: &ReportSettings, opts: &LoadOptions) -> Result<Dataset> {
    let batches = ws.interaction_batches(None)?;
    let mut identities = if batches.is_empty() {
        IdentityIndex {
            by_id: HashMap::new(),
            identity_ids: Vec::new(),
            customer_ids: Vec::new(),
            ambiguous: 0,
        }
    } else {
        read_identities(ws.root())?
    };
    let matched_identities = identities.identity_ids.len();
    let mut ds = Dataset {
        ambiguous_identities: identities.ambiguous,
        ..Dataset::default()
    };
    let mut seq: Vec<u64> = Vec::new();
    let mut agents = Interner::default();
    let mut mentions = Interner::default();
    let mut details = opts.details.then(RowDetails::default);
    // Sized once for every row of the batches (an upper bound: filters and contact rows
    // keep fewer): grown by doubling, a workspace of 10 million rows held ~200 MB of spare
    // capacity and copies at the peak.
    let rows = count_rows(ws.root(), &batches)?;
    ds.ts.reserve_exact(rows);
    seq.reserve_exact(rows);
    ds.channel.reserve_exact(rows);
    ds.direction.reserve_exact(rows);
    ds.kind.reserve_exact(rows);
    ds.status.reserve_exact(rows);
    ds.customer.reserve_exact(rows);
    ds.identity.reserve_exact(rows);
    ds.agent.reserve_exact(rows);
    ds.mention_offsets.reserve_exact(rows + 1);
    ds.mention_offsets.push(0);
    let mut key = String::new();
    // A slice at a time: a batch of 10 million messages collected whole took 1 GB more
    // than the report's own columns.
    let columns = report_columns(opts);
    for_each_slice(ws.root(), &batches, Some(&columns), SLICE_ROWS, |path, df| {
        let df = batch_query(df.lazy(), settings, opts)
            .collect()
            .map_err(|e| anyhow!("cannot read {}: {e}", path.display()))?;
        append_frame(
            &df,
            &mut ds,
            &mut seq,
            &mut identities,
            &mut agents,
            &mut mentions,
            &mut key,
            details.as_mut(),
        )
        .with_context(|| format!("unexpected columns in {}", path.display()))
    })?;
    ds.unmatched_identities = (identities.identity_ids.len() - matched_identities) as u64;
    ds.customer_ids = identities.customer_ids;
    ds.identity_ids = identities.identity_ids;
    ds.agents = agents.into_values();
    ds.mentions = mentions.into_values();
    ds.details = details;
    ds.data_end_ms = settings.until_ms.or_else(|| ds.ts.iter().copied().max());
    sort_rows(&mut ds, &seq);
    Ok(ds)
}

#[allow(clippy::too_many_arguments)]
fn append_frame(
    df: &DataFrame,
    ds: &mut Dataset,
    seq_out: &mut Vec<u64>,
    identities: &mut IdentityIndex,
    agents: &mut Interner,
    mentions: &mut Interner,
    key: &mut String,
    mut details: Option<&mut RowDetails>,
) -> Result<()> {
    let ts = df
        .column("ts")?
        .as_materialized_series()
        .to_physical_repr()
        .into_owned();
    let ts = ts.i64()?;
    let seq = df.column("seq")?.u64()?;
    let channel = df.column("channel")?.str()?;
    let direction = df.column("direction")?.str()?;
    let kind = df.column("kind")?.str()?;
    let status = df.column("status")?.str()?;
    let handle = df.column("customer_handle")?.str()?;
    let handle_kind = df.column("customer_handle_kind")?.str()?;
    let agent = df.column("agent")?.str()?;
    let row_mentions = StrLists::of(df, "mentions")?;
    let text_cols = if details.is_some() {
        Some((
            df.column("interaction_id")?.str()?,
            df.column("source_file")?.str()?,
            df.column("source_ref")?.str()?,
            df.column("text")?.str()?,
            df.column("subject")?.str()?,
            df.column("customer_name")?.str()?,
        ))
    } else {
        None
    };
    for i in 0..df.height() {
        let Some(ch) = channel.get(i).and_then(parse_channel) else {
            anyhow::bail!("row {i}: unknown channel {:?}", channel.get(i));
        };
        if ch == Channel::Contact {
            ds.contact_records += 1;
            continue;
        }
        ds.ts.push(ts.get(i).unwrap_or(0));
        seq_out.push(seq.get(i).unwrap_or(0));
        ds.channel.push(ch);
        ds.direction
            .push(direction.get(i).map(parse_direction).unwrap_or(Direction::Unknown));
        ds.kind.push(kind.get(i).map(parse_kind).unwrap_or(Kind::Message));
        ds.status.push(status.get(i).and_then(parse_status));
        let h = handle.get(i);
        let (ident, cust) = match (h, handle_kind.get(i).and_then(parse_handle_kind)) {
            (Some(h), Some(k)) => {
                key.clear();
                // Same text as identity::identity_id, built without allocating per row.
                match k {
                    HandleKind::Name => {
                        key.push_str("name:");
                        key.push_str(ch.as_str());
                        key.push(':');
                    }
                    _ => {
                        key.push_str(k.as_str());
                        key.push(':');
                    }
                }
                key.push_str(h);
                match identities.by_id.get(key.as_str()) {
                    Some(&pair) => pair,
                    None => {
                        debug_assert_eq!(key.as_str(), identity_id(k, h, ch));
                        let ident = identities.identity_ids.len() as u32;
                        let cust = identities.customer_ids.len() as u32;
                        identities.customer_ids.push(format!("unmatched:{key}"));
                        identities.identity_ids.push(key.clone());
                        identities.by_id.insert(key.clone(), (ident, cust));
                        (ident, cust)
                    }
                }
            }
            _ => (NONE, NONE),
        };
        ds.identity.push(ident);
        ds.customer.push(cust);
        ds.agent.push(agent.get(i).map(|a| agents.get(a)).unwrap_or(NONE));
        for m in row_mentions.row(i) {
            ds.mention_values.push(mentions.get(m));
        }
        ds.mention_offsets.push(ds.mention_values.len() as u32);
        if let (Some(d), Some((id, file, sref, text, subject, name))) = (details.as_deref_mut(), &text_cols) {
            d.interaction_id.push(id.get(i).unwrap_or_default().to_string());
            d.source_file.push(file.get(i).unwrap_or_default().to_string());
            d.source_ref.push(sref.get(i).unwrap_or_default().to_string());
            d.snippet.push(snippet(text.get(i), subject.get(i)));
            d.customer_name.push(name.get(i).map(str::to_string));
            d.handle.push(h.map(str::to_string));
        }
    }
    Ok(())
}

fn permute<T: Clone>(v: &mut Vec<T>, order: &[u32]) {
    let sorted: Vec<T> = order.iter().map(|&i| v[i as usize].clone()).collect();
    *v = sorted;
}

/// Sorts every column by (customer, ts, seq) and records each customer's row range.
fn sort_rows(ds: &mut Dataset, seq: &[u64]) {
    let n = ds.ts.len();
    let mut order: Vec<u32> = (0..n as u32).collect();
    order.sort_unstable_by_key(|&i| {
        let i = i as usize;
        (ds.customer[i], ds.ts[i], seq[i])
    });
    permute(&mut ds.ts, &order);
    permute(&mut ds.channel, &order);
    permute(&mut ds.direction, &order);
    permute(&mut ds.kind, &order);
    permute(&mut ds.status, &order);
    permute(&mut ds.customer, &order);
    permute(&mut ds.identity, &order);
    permute(&mut ds.agent, &order);
    let mut offsets = Vec::with_capacity(n + 1);
    let mut values = Vec::with_capacity(ds.mention_values.len());
    offsets.push(0u32);
    for &i in &order {
        let i = i as usize;
        values
            .extend_from_slice(&ds.mention_values[ds.mention_offsets[i] as usize..ds.mention_offsets[i + 1] as usize]);
        offsets.push(values.len() as u32);
    }
    ds.mention_offsets = offsets;
    ds.mention_values = values;
    if let Some(d) = ds.details.as_mut() {
        permute(&mut d.interaction_id, &order);
        permute(&mut d.source_file, &order);
        permute(&mut d.source_ref, &order);
        permute(&mut d.snippet, &order);
        permute(&mut d.customer_name, &order);
        permute(&mut d.handle, &order);
    }
    let mut start = 0;
    while start < n && ds.customer[start] != NONE {
        let c = ds.customer[start];
        let mut end = start + 1;
        while end < n && ds.customer[end] == c {
            end += 1;
        }
        ds.customer_rows.push((c, start..end));
        start = end;
    }
    ds.unassigned_from = start;
}
