//! What an export reads: the matcher's three files and the workspace's interactions,
//! streamed in bounded chunks with the export's filters applied.

use crate::identity::{identity_id, CUSTOMER_COLUMNS, IDENTITY_COLUMNS, LINK_COLUMNS};
use crate::model::{CallStatus, Channel, Direction, HandleKind, Interaction, Kind};
use crate::workspace::Workspace;
use anyhow::{anyhow, bail, Context, Result};
use polars::prelude::*;
use std::collections::{HashMap, HashSet};
use std::fs::File;
use std::path::Path;

/// Rows read from an interaction batch at a time: memory stays flat however large the workspace.
pub const CHUNK_ROWS: usize = 16_384;

/// One unified customer, with every phone and email the matcher linked to it.
#[derive(Debug, Clone, PartialEq)]
pub struct Customer {
    pub customer_id: String,
    pub display_name: Option<String>,
    pub primary_phone: Option<String>,
    pub primary_email: Option<String>,
    /// Every phone (E.164), the primary first.
    pub phones: Vec<String>,
    /// Every email, the primary first.
    pub emails: Vec<String>,
    pub channels: Vec<String>,
    pub interactions: u64,
    pub first_ts: Option<i64>,
    pub last_ts: Option<i64>,
}

/// The matcher's output, loaded whole (it grows with customers, not with interactions).
pub struct Matched {
    pub customers_frame: DataFrame,
    pub identities_frame: DataFrame,
    pub links_frame: DataFrame,
    pub customers: Vec<Customer>,
    /// identity_id → customer_id
    pub customer_of: HashMap<String, String>,
}

/// Which interactions and customers to export.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// Inclusive lower bound, UTC ms.
    pub since: Option<i64>,
    /// Exclusive upper bound, UTC ms.
    pub until: Option<i64>,
    /// Channel names; empty means all.
    pub channels: Vec<String>,
    /// Customer ids; `None` means all.
    pub customers: Option<HashSet<String>>,
}

impl Filter {
    pub fn wants_customer(&self, id: &str) -> bool {
        self.customers.as_ref().is_none_or(|s| s.contains(id))
    }

    fn wants_channel(&self, channel: &str) -> bool {
        self.channels.is_empty() || self.channels.iter().any(|c| c == channel)
    }
}

/// An interaction with the customer the matcher put it in (none when it has no customer
/// handle, or when it was imported after the last `omnitrail match`).
#[derive(Debug, Clone)]
pub struct ExportRow {
    pub interaction: Interaction,
    pub customer_id: Option<String>,
}

fn read_parquet(path: &Path, columns: &[&str]) -> Result<DataFrame> {
    let file = File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let df = ParquetReader::new(file)
        .finish()
        .map_err(|e| anyhow!("cannot read {}: {e}", path.display()))?;
    for c in columns {
        if df.column(c).is_err() {
            bail!(
                "{} has no column `{c}` (expected {})",
                path.display(),
                columns.join(", ")
            );
        }
    }
    Ok(df.select(columns.iter().copied())?)
}

impl Matched {
    /// Loads `customers.parquet`, `identities.parquet` and `links.parquet`; fails with a
    /// pointer to `omnitrail match` when they are missing.
    pub fn load(ws: &Workspace) -> Result<Matched> {
        let root = ws.root();
        for f in ["customers.parquet", "identities.parquet", "links.parquet"] {
            if !root.join(f).exists() {
                bail!(
                    "the workspace has no {f}: run `omnitrail match` first, so every interaction can carry its customer_id"
                );
            }
        }
        let customers_frame = read_parquet(&root.join("customers.parquet"), CUSTOMER_COLUMNS)?;
        let identities_frame = read_parquet(&root.join("identities.parquet"), IDENTITY_COLUMNS)?;
        let links_frame = read_parquet(&root.join("links.parquet"), LINK_COLUMNS)?;
        let mut customer_of = HashMap::with_capacity(identities_frame.height());
        let mut phones: HashMap<String, Vec<String>> = HashMap::new();
        let mut emails: HashMap<String, Vec<String>> = HashMap::new();
        {
            let ids = identities_frame.column("identity_id")?.str()?;
            let kinds = identities_frame.column("kind")?.str()?;
            let values = identities_frame.column("value")?.str()?;
            let cids = identities_frame.column("customer_id")?.str()?;
            for i in 0..identities_frame.height() {
                let (Some(id), Some(cid)) = (ids.get(i), cids.get(i)) else {
                    continue;
                };
                customer_of.insert(id.to_string(), cid.to_string());
                match (kinds.get(i), values.get(i)) {
                    (Some("phone"), Some(v)) => phones.entry(cid.to_string()).or_default().push(v.to_string()),
                    (Some("email"), Some(v)) => emails.entry(cid.to_string()).or_default().push(v.to_string()),
                    _ => {}
                }
            }
        }
        let mut customers = Vec::with_capacity(customers_frame.height());
        {
            let f = &customers_frame;
            let id = f.column("customer_id")?.str()?;
            let name = f.column("display_name")?.str()?;
            let phone = f.column("primary_phone")?.str()?;
            let email = f.column("primary_email")?.str()?;
            let n = f.column("interactions")?.cast(&DataType::UInt64)?;
            let n = n.u64()?;
            let mut channels = list_column(f.column("channels")?.list()?).into_iter();
            let first = f.column("first_ts")?.cast(&DataType::Int64)?;
            let first = first.i64()?;
            let last = f.column("last_ts")?.cast(&DataType::Int64)?;
            let last = last.i64()?;
            for i in 0..f.height() {
                let Some(cid) = id.get(i) else { continue };
                let primary_phone = phone.get(i).map(str::to_string);
                let primary_email = email.get(i).map(str::to_string);
                let with_primary_first = |primary: &Option<String>, mut all: Vec<String>| {
                    all.sort();
                    all.dedup();
                    if let Some(p) = primary {
                        all.retain(|x| x != p);
                        all.insert(0, p.clone());
                    }
                    all
                };
                customers.push(Customer {
                    customer_id: cid.to_string(),
                    display_name: name.get(i).map(str::to_string),
                    phones: with_primary_first(&primary_phone, phones.remove(cid).unwrap_or_default()),
                    emails: with_primary_first(&primary_email, emails.remove(cid).unwrap_or_default()),
                    primary_phone,
                    primary_email,
                    channels: channels.next().unwrap_or_default(),
                    interactions: n.get(i).unwrap_or(0),
                    first_ts: first.get(i),
                    last_ts: last.get(i),
                });
            }
        }
        customers.sort_by(|a, b| a.customer_id.cmp(&b.customer_id));
        Ok(Matched {
            customers_frame,
            identities_frame,
            links_frame,
            customers,
            customer_of,
        })
    }

    /// The customer an interaction belongs to, through its identity.
    pub fn customer_of(&self, r: &Interaction) -> Option<&String> {
        let (handle, kind) = (r.customer_handle.as_deref()?, r.customer_handle_kind?);
        self.customer_of.get(&identity_id(kind, handle, r.channel))
    }
}

/// Every cell of a `List<String>` column as owned strings (null cells as empty lists),
/// iterating without a Series allocation per row.
pub fn list_column(ca: &ListChunked) -> Vec<Vec<String>> {
    ca.amortized_iter()
        .map(|cell| match cell {
            Some(s) => s
                .as_ref()
                .str()
                .map(|s| s.iter().flatten().map(str::to_string).collect())
                .unwrap_or_default(),
            None => Vec::new(),
        })
        .collect()
}

/// Counts of a streaming pass.
#[derive(Debug, Clone, Copy, Default)]
pub struct StreamCounts {
    /// Rows read from the workspace.
    pub read: u64,
    /// Rows passed to the consumer (after filters).
    pub selected: u64,
    /// Selected rows with no customer.
    pub without_customer: u64,
}

/// Calls `f` with each slice of [`CHUNK_ROWS`] rows of every batch file the channel filter
/// keeps (the Parquet reader only decodes the row groups a slice touches). Ctrl-C stops at
/// the next slice.
fn for_each_slice(ws: &Workspace, filter: &Filter, mut f: impl FnMut(&Path, DataFrame) -> Result<()>) -> Result<()> {
    let batches = ws.batches_of(|channel| filter.wants_channel(channel) || channel.is_empty())?;
    crate::workspace::for_each_slice(ws.root(), &batches, None, CHUNK_ROWS, |path, df| {
        crate::import::check_interrupt().map_err(|_| anyhow!("interrupted"))?;
        f(path, df)
    })
}

/// Whether the filter keeps a row, and its customer.
fn select(
    matched: &Matched,
    filter: &Filter,
    ts: i64,
    channel: Channel,
    handle: Option<(HandleKind, &str)>,
) -> Option<Option<String>> {
    if filter.since.is_some_and(|s| ts < s)
        || filter.until.is_some_and(|u| ts >= u)
        || !filter.wants_channel(channel.as_str())
    {
        return None;
    }
    let customer_id = handle.and_then(|(k, h)| matched.customer_of.get(&identity_id(k, h, channel)).cloned());
    if filter.customers.is_some() && !customer_id.as_deref().is_some_and(|c| filter.wants_customer(c)) {
        return None;
    }
    Some(customer_id)
}

/// Streams the interactions the filter selects, chunk by chunk, with their customer.
pub fn stream_interactions(
    ws: &Workspace,
    matched: &Matched,
    filter: &Filter,
    mut consume: impl FnMut(Vec<ExportRow>) -> Result<()>,
) -> Result<StreamCounts> {
    let mut counts = StreamCounts::default();
    for_each_slice(ws, filter, |path, df| {
        let rows = frame_to_interactions(&df).with_context(|| format!("in {}", path.display()))?;
        counts.read += rows.len() as u64;
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            let handle = r
                .customer_handle
                .as_deref()
                .zip(r.customer_handle_kind)
                .map(|(h, k)| (k, h));
            let Some(customer_id) = select(matched, filter, r.ts, r.channel, handle) else {
                continue;
            };
            if customer_id.is_none() {
                counts.without_customer += 1;
            }
            out.push(ExportRow {
                interaction: r,
                customer_id,
            });
        }
        counts.selected += out.len() as u64;
        if !out.is_empty() {
            consume(out)?;
        }
        Ok(())
    })?;
    Ok(counts)
}

/// Like [`stream_interactions`], but hands over the selected rows as frames with the
/// workspace's columns plus `customer_id`, without building records: the fast path for
/// datasets that need no redaction.
pub fn stream_frames(
    ws: &Workspace,
    matched: &Matched,
    filter: &Filter,
    mut consume: impl FnMut(DataFrame) -> Result<()>,
) -> Result<StreamCounts> {
    let mut counts = StreamCounts::default();
    for_each_slice(ws, filter, |path, mut df| {
        df.rechunk_mut();
        let ts = df.column("ts")?.cast(&DataType::Int64)?;
        let ts = ts.i64()?;
        let channel = df.column("channel")?.str()?;
        let handle = df.column("customer_handle")?.str()?;
        let kind = df.column("customer_handle_kind")?.str()?;
        let mut keep = Vec::with_capacity(df.height());
        let mut customer_ids: Vec<Option<String>> = Vec::with_capacity(df.height());
        for i in 0..df.height() {
            let ch =
                parse_channel(channel.get(i).unwrap_or_default()).with_context(|| format!("in {}", path.display()))?;
            let k = kind.get(i).map(parse_handle_kind).transpose()?;
            let h = k.zip(handle.get(i));
            match select(matched, filter, ts.get(i).unwrap_or_default(), ch, h) {
                Some(cid) => {
                    if cid.is_none() {
                        counts.without_customer += 1;
                    }
                    keep.push(true);
                    customer_ids.push(cid);
                }
                None => keep.push(false),
            }
        }
        counts.read += df.height() as u64;
        let mask = BooleanChunked::from_slice("keep".into(), &keep);
        let mut out = df.filter(&mask)?;
        let cids: StringChunked = customer_ids.iter().map(|c| c.as_deref()).collect();
        out.with_column(cids.with_name("customer_id".into()).into_column())?;
        counts.selected += out.height() as u64;
        if out.height() > 0 {
            consume(out)?;
        }
        Ok(())
    })?;
    Ok(counts)
}

fn parse_channel(s: &str) -> Result<Channel> {
    Ok(match s {
        "whatsapp" => Channel::Whatsapp,
        "email" => Channel::Email,
        "call" => Channel::Call,
        "sms" => Channel::Sms,
        "telegram" => Channel::Telegram,
        "instagram" => Channel::Instagram,
        "messenger" => Channel::Messenger,
        "contact" => Channel::Contact,
        _ => bail!("unknown channel `{s}`"),
    })
}

/// The channel names `--channel` accepts.
pub const CHANNELS: &[&str] = &[
    "whatsapp",
    "email",
    "call",
    "sms",
    "telegram",
    "instagram",
    "messenger",
    "contact",
];

fn parse_direction(s: &str) -> Result<Direction> {
    Ok(match s {
        "inbound" => Direction::Inbound,
        "outbound" => Direction::Outbound,
        "internal" => Direction::Internal,
        "system" => Direction::System,
        "unknown" => Direction::Unknown,
        _ => bail!("unknown direction `{s}`"),
    })
}

fn parse_handle_kind(s: &str) -> Result<HandleKind> {
    Ok(match s {
        "phone" => HandleKind::Phone,
        "email" => HandleKind::Email,
        "name" => HandleKind::Name,
        _ => bail!("unknown handle kind `{s}`"),
    })
}

fn parse_kind(s: &str) -> Result<Kind> {
    Ok(match s {
        "message" => Kind::Message,
        "media" => Kind::Media,
        "call" => Kind::Call,
        "deleted" => Kind::Deleted,
        "system" => Kind::System,
        "contact" => Kind::Contact,
        _ => bail!("unknown kind `{s}`"),
    })
}

fn parse_status(s: &str) -> Result<CallStatus> {
    Ok(match s {
        "answered" => CallStatus::Answered,
        "missed" => CallStatus::Missed,
        "voicemail" => CallStatus::Voicemail,
        "busy" => CallStatus::Busy,
        "failed" => CallStatus::Failed,
        _ => bail!("unknown call status `{s}`"),
    })
}

/// Rebuilds [`Interaction`]s from a frame with the workspace's interaction columns.
pub fn frame_to_interactions(df: &DataFrame) -> Result<Vec<Interaction>> {
    // Single-chunk columns make per-row `get` O(1).
    let mut df = df.clone();
    df.rechunk_mut_par();
    let s = |name: &str| -> Result<StringChunked> { Ok(df.column(name)?.str()?.clone()) };
    let (id, src, file, sref, channel, direction) = (
        s("interaction_id")?,
        s("source_id")?,
        s("source_file")?,
        s("source_ref")?,
        s("channel")?,
        s("direction")?,
    );
    let (ts_raw, thread, handle, handle_kind, name, agent) = (
        s("ts_raw")?,
        s("thread_key")?,
        s("customer_handle")?,
        s("customer_handle_kind")?,
        s("customer_name")?,
        s("agent")?,
    );
    let (text, body, subject, status, kind, author, title, dedup) = (
        s("text")?,
        s("body_full")?,
        s("subject")?,
        s("status")?,
        s("kind")?,
        s("author_raw")?,
        s("thread_title")?,
        s("dedup_key")?,
    );
    let ts = df.column("ts")?.cast(&DataType::Int64)?;
    let ts = ts.i64()?;
    let duration = df.column("duration_s")?.cast(&DataType::Int64)?;
    let duration = duration.i64()?;
    let seq = df.column("seq")?.cast(&DataType::UInt64)?;
    let seq = seq.u64()?;
    let edited = df.column("edited")?.bool()?.clone();
    let mut attachments = list_column(df.column("attachments")?.list()?).into_iter();
    let mut mentions = list_column(df.column("mentions")?.list()?).into_iter();
    let own = |ca: &StringChunked, i: usize| ca.get(i).map(str::to_string);
    let mut out = Vec::with_capacity(df.height());
    for i in 0..df.height() {
        let row = Interaction {
            interaction_id: own(&id, i).unwrap_or_default(),
            source_id: own(&src, i).unwrap_or_default(),
            source_file: own(&file, i).unwrap_or_default(),
            source_ref: own(&sref, i).unwrap_or_default(),
            channel: parse_channel(channel.get(i).unwrap_or_default())?,
            direction: parse_direction(direction.get(i).unwrap_or_default())?,
            ts: ts.get(i).unwrap_or_default(),
            ts_raw: own(&ts_raw, i).unwrap_or_default(),
            thread_key: own(&thread, i).unwrap_or_default(),
            customer_handle: own(&handle, i),
            customer_handle_kind: handle_kind.get(i).map(parse_handle_kind).transpose()?,
            customer_name: own(&name, i),
            agent: own(&agent, i),
            text: own(&text, i),
            body_full: own(&body, i),
            subject: own(&subject, i),
            attachments: attachments.next().unwrap_or_default(),
            duration_s: duration.get(i),
            status: status.get(i).map(parse_status).transpose()?,
            mentions: mentions.next().unwrap_or_default(),
            kind: parse_kind(kind.get(i).unwrap_or_default())?,
            seq: seq.get(i).unwrap_or_default(),
            author_raw: own(&author, i),
            thread_title: own(&title, i),
            edited: edited.get(i).unwrap_or_default(),
            dedup_key: own(&dedup, i).unwrap_or_default(),
        };
        out.push(row);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workspace::to_frame;

    #[test]
    fn interactions_survive_a_round_trip_through_a_frame() {
        let mut r = Interaction::new("s-1", Channel::Call, Direction::Inbound, Kind::Call, 1_700_000_000_123);
        r.interaction_id = "i1".into();
        r.customer_handle = Some("+447700900123".into());
        r.customer_handle_kind = Some(HandleKind::Phone);
        r.status = Some(CallStatus::Voicemail);
        r.duration_s = Some(42);
        r.mentions = vec!["order:BS-10442".into()];
        r.attachments = vec!["a.jpg".into(), "b.jpg".into()];
        r.seq = 7;
        r.edited = true;
        let back = frame_to_interactions(&to_frame(std::slice::from_ref(&r)).unwrap()).unwrap();
        assert_eq!(back, vec![r]);
    }
}
