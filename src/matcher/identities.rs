//! Collects every identity in the workspace with what the matcher needs about it: channels,
//! names seen, when it was active, what its messages mention, and contact rows.
//! Reads only the columns it needs, a slice of rows at a time.

use super::guards::agent_identity;
use crate::identity::identity_id;
use crate::model::{Channel, HandleKind};
use crate::workspace::Workspace;
use anyhow::{Context, Result};
use polars::prelude::*;
use std::collections::HashMap;

/// Channels in a fixed order: an identity's channels are a bit set over it.
pub const CHANNELS: &[Channel] = &[
    Channel::Whatsapp,
    Channel::Email,
    Channel::Call,
    Channel::Sms,
    Channel::Telegram,
    Channel::Instagram,
    Channel::Messenger,
    Channel::Contact,
];

pub fn channel_from_str(s: &str) -> Option<Channel> {
    CHANNELS.iter().copied().find(|c| c.as_str() == s)
}

fn channel_bit(c: Channel) -> u16 {
    1 << CHANNELS.iter().position(|x| *x == c).unwrap_or(0)
}

/// Why an identity may not glue different people together.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Guard {
    /// A number several differently named people use (family phone, switchboard).
    Shared,
    /// A role mailbox (info@, support@, noreply@…).
    Generic,
    /// A withheld / anonymous caller shown as a name.
    Withheld,
    /// The business's own address, number or account.
    Business,
}

impl Guard {
    pub fn as_str(self) -> &'static str {
        match self {
            Guard::Shared => "shared",
            Guard::Generic => "generic",
            Guard::Withheld => "withheld",
            Guard::Business => "business",
        }
    }
}

/// One identity and what was seen with it.
#[derive(Debug, Clone)]
pub struct Identity {
    pub id: String,
    pub kind: HandleKind,
    pub value: String,
    pub channels: u16,
    /// Display names seen with it and how often (contact rows included).
    pub names: Vec<(String, u32)>,
    pub interactions: u64,
    pub first_ts: Option<i64>,
    pub last_ts: Option<i64>,
    /// Conversation activity (not contact rows): (ts, channel bit), sorted by ts.
    pub activity: Vec<(i64, u16)>,
    pub guard: Option<Guard>,
}

impl Identity {
    pub fn channels(&self) -> Vec<Channel> {
        CHANNELS
            .iter()
            .copied()
            .filter(|c| self.channels & channel_bit(*c) != 0)
            .collect()
    }

    /// The most frequent display name seen with it (ties: the first seen).
    pub fn display_name(&self) -> Option<&str> {
        let mut best: Option<&(String, u32)> = None;
        for n in &self.names {
            if best.is_none_or(|b| n.1 > b.1) {
                best = Some(n);
            }
        }
        best.map(|(n, _)| n.as_str())
    }
}

/// A detail written in an interaction (`phone:`, `email:`, `order:`…).
#[derive(Debug, Clone)]
pub struct MentionRef {
    /// The identity whose interaction carries it.
    pub identity: u32,
    /// Row of the interaction among the rows the matcher read (see `Collected::places`).
    pub row: u32,
    pub value: String,
    /// Written by the customer (an inbound message, email or signature).
    pub inbound: bool,
    /// On a contact row (an address-book or CRM record).
    pub contact: bool,
}

/// Everything the matcher reads from the workspace.
pub struct Collected {
    pub identities: Vec<Identity>,
    pub index: HashMap<String, u32>,
    pub mentions: Vec<MentionRef>,
    /// (identity, row, full name) of every contact row.
    pub contact_rows: Vec<(u32, u32, Option<String>)>,
    /// Identities the business speaks as (agents of outbound records), as identity ids.
    pub business: Vec<String>,
    /// Where each row that evidence can cite (one with mentions, a contact row) came from,
    /// by row, in row order: keeping every row's took 0.5 GB for 10 million messages.
    places: Vec<(u32, RowPlace)>,
    /// The source files the places name, each once.
    files: Vec<String>,
    pub interactions: u64,
}

/// Where a row came from; `None` where the workspace holds null.
struct RowPlace {
    channel: Option<Channel>,
    file: Option<u32>,
    source_ref: Option<String>,
    ts: Option<i64>,
}

impl Collected {
    /// Where a row that evidence can cite came from.
    fn place(&self, row: u32) -> Option<&RowPlace> {
        let at = self.places.binary_search_by_key(&row, |(r, _)| *r).ok()?;
        Some(&self.places[at].1)
    }

    /// The file a citable row came from.
    pub fn source_file(&self, row: u32) -> Option<&str> {
        Some(self.files[self.place(row)?.file? as usize].as_str())
    }

    /// Where a row came from, for evidence: `email support.mbox <ref> 2026-03-19T10:21:37Z`
    /// (`null` for a field the workspace holds none of).
    pub fn describe_row(&self, row: u32) -> String {
        let Some(place) = self.place(row) else {
            return "   ".into();
        };
        let or_null = |v: Option<String>| v.unwrap_or_else(|| "null".into());
        format!(
            "{} {} {} {}",
            or_null(place.channel.map(|c| c.as_str().to_string())),
            or_null(place.file.map(|f| self.files[f as usize].clone())),
            or_null(place.source_ref.clone()),
            or_null(place.ts.map(crate::import::ms_to_rfc3339))
        )
    }
}

/// Rows read at a time.
const SLICE_ROWS: usize = 65_536;

/// The columns the matcher reads.
const COLUMNS: &[&str] = &[
    "channel",
    "direction",
    "ts",
    "customer_handle",
    "customer_handle_kind",
    "customer_name",
    "agent",
    "kind",
    "source_file",
    "source_ref",
    "mentions",
];

fn str_column<'a>(df: &'a DataFrame, name: &str) -> Result<&'a StringChunked> {
    df.column(name)?
        .str()
        .map_err(anyhow::Error::from)
        .with_context(|| format!("column {name}"))
}

/// Reads every identity of the workspace, a slice of rows at a time (memory grows with the
/// identities and what evidence can cite, not with the interactions). `None` when nothing
/// was imported.
pub fn collect(ws: &Workspace) -> Result<Option<Collected>> {
    let batches = ws.interaction_batches(None)?;
    if batches.is_empty() {
        return Ok(None);
    }
    let mut identities: Vec<Identity> = Vec::new();
    let mut index: HashMap<String, u32> = HashMap::new();
    let mut contact_rows = Vec::new();
    let mut mentions = Vec::new();
    let mut places: Vec<(u32, RowPlace)> = Vec::new();
    let mut files = crate::workspace::Interner::default();
    let mut business: Vec<String> = Vec::new();
    let mut name_ix: HashMap<(u32, String), usize> = HashMap::new();
    let mut agent_seen: std::collections::HashSet<String> = Default::default();
    let mut n = 0usize;
    crate::workspace::for_each_slice(ws.root(), &batches, Some(COLUMNS), SLICE_ROWS, |path, df| {
        let unexpected = |e: PolarsError| anyhow::anyhow!("unexpected columns in {}: {e}", path.display());
        let ts_col = df.column("ts")?.cast(&DataType::Int64)?;
        let ts_col = ts_col.i64().map_err(unexpected)?;
        let row_mentions =
            crate::workspace::StrLists::of(&df, "mentions").with_context(|| format!("{}", path.display()))?;
        let (source_file, source_ref) = (str_column(&df, "source_file")?, str_column(&df, "source_ref")?);
        let cols = (
            str_column(&df, "channel")?.iter(),
            str_column(&df, "direction")?.iter(),
            str_column(&df, "customer_handle")?.iter(),
            str_column(&df, "customer_handle_kind")?.iter(),
            str_column(&df, "customer_name")?.iter(),
            str_column(&df, "agent")?.iter(),
            str_column(&df, "kind")?.iter(),
        );
        let (ch_it, dir_it, h_it, hk_it, name_it, agent_it, kind_it) = cols;
        for (local, ((((((ch, dir), handle), hkind), name), agent), rkind)) in ch_it
            .zip(dir_it)
            .zip(h_it)
            .zip(hk_it)
            .zip(name_it)
            .zip(agent_it)
            .zip(kind_it)
            .enumerate()
        {
            let row = (n + local) as u32;
            let channel = ch.and_then(channel_from_str).unwrap_or(Channel::Whatsapp);
            if let (Some(a), Some("outbound")) = (agent, dir) {
                if agent_seen.len() < 100_000 && agent_seen.insert(format!("{channel}\u{0}{a}")) {
                    business.push(agent_identity(a, channel));
                }
            }
            let (Some(handle), Some(hkind)) = (handle, hkind) else {
                continue;
            };
            let kind = match hkind {
                "phone" => HandleKind::Phone,
                "email" => HandleKind::Email,
                _ => HandleKind::Name,
            };
            let id = identity_id(kind, handle, channel);
            let ix = match index.get(&id) {
                Some(&ix) => ix,
                None => {
                    let ix = identities.len() as u32;
                    identities.push(Identity {
                        id: id.clone(),
                        kind,
                        value: handle.to_string(),
                        channels: 0,
                        names: Vec::new(),
                        interactions: 0,
                        first_ts: None,
                        last_ts: None,
                        activity: Vec::new(),
                        guard: None,
                    });
                    index.insert(id, ix);
                    ix
                }
            };
            let ident = &mut identities[ix as usize];
            ident.channels |= channel_bit(channel);
            ident.interactions += 1;
            let is_contact_row = channel == Channel::Contact || rkind == Some("contact");
            if let Some(nm) = name.filter(|s| !s.trim().is_empty()) {
                let key = (ix, nm.to_string());
                match name_ix.get(&key) {
                    Some(&p) => ident.names[p].1 += 1,
                    None => {
                        if ident.names.len() < 16 {
                            name_ix.insert(key, ident.names.len());
                            ident.names.push((nm.to_string(), 1));
                        }
                    }
                }
            }
            let ts = ts_col.get(local);
            if is_contact_row || row_mentions.has_values(local) {
                let file = source_file.get(local).map(|f| files.get(f));
                let source_ref = source_ref.get(local).map(str::to_string);
                let channel = ch.and_then(channel_from_str);
                places.push((
                    row,
                    RowPlace {
                        channel,
                        file,
                        source_ref,
                        ts,
                    },
                ));
            }
            for value in row_mentions.row(local) {
                mentions.push(MentionRef {
                    identity: ix,
                    row,
                    value: value.to_string(),
                    inbound: dir == Some("inbound"),
                    contact: is_contact_row,
                });
            }
            if is_contact_row {
                contact_rows.push((ix, row, name.map(str::to_string)));
                continue;
            }
            if let Some(ts) = ts {
                ident.first_ts = Some(ident.first_ts.map_or(ts, |f| f.min(ts)));
                ident.last_ts = Some(ident.last_ts.map_or(ts, |l| l.max(ts)));
                if matches!(dir, Some("inbound") | Some("outbound")) {
                    ident.activity.push((ts, channel_bit(channel)));
                }
            }
        }
        n += df.height();
        Ok(())
    })
    .context("cannot read the workspace's interactions")?;
    for ident in &mut identities {
        ident.activity.sort_unstable();
        ident.activity.dedup();
    }
    Ok(Some(Collected {
        identities,
        index,
        mentions,
        contact_rows,
        business,
        places,
        files: files.into_values(),
        interactions: n as u64,
    }))
}
