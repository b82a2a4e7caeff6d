//! Collects every identity in the workspace with what the matcher needs about it: channels,
//! names seen, when it was active, what its messages mention, and contact rows.
//! Reads only the columns it needs through the workspace's lazy scan.

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
    /// Row of the interaction in [`Collected::rows`].
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
    /// `source_file`, `source_ref`, `channel`, `ts` of every row, for evidence text.
    pub rows: DataFrame,
    pub interactions: u64,
}

impl Collected {
    /// Where a row came from, for evidence: `email support.mbox <ref> 2026-03-19T10:21:37Z`.
    /// One field of a row (`source_file`, `source_ref`, `channel`, `ts` as RFC 3339).
    pub fn row_field(&self, row: u32, name: &str) -> String {
        self.rows
            .column(name)
            .ok()
            .and_then(|c| c.get(row as usize).ok())
            .map(|v| match v {
                AnyValue::String(s) => s.to_string(),
                AnyValue::StringOwned(s) => s.to_string(),
                AnyValue::Int64(ms) => crate::import::ms_to_rfc3339(ms),
                other => other.to_string(),
            })
            .unwrap_or_default()
    }

    pub fn describe_row(&self, row: u32) -> String {
        let get = |name: &str| -> String {
            self.rows
                .column(name)
                .ok()
                .and_then(|c| c.get(row as usize).ok())
                .map(|v| match v {
                    AnyValue::String(s) => s.to_string(),
                    AnyValue::StringOwned(s) => s.to_string(),
                    AnyValue::Int64(ms) => crate::import::ms_to_rfc3339(ms),
                    other => other.to_string(),
                })
                .unwrap_or_default()
        };
        format!(
            "{} {} {} {}",
            get("channel"),
            get("source_file"),
            get("source_ref"),
            get("ts")
        )
    }
}

fn str_iter<'a>(df: &'a DataFrame, name: &str) -> Result<impl Iterator<Item = Option<&'a str>> + 'a> {
    Ok(df
        .column(name)?
        .str()
        .map_err(anyhow::Error::from)
        .with_context(|| format!("column {name}"))?
        .iter())
}

/// Reads every identity of the workspace. `None` when nothing was imported.
pub fn collect(ws: &Workspace) -> Result<Option<Collected>> {
    let Some(lf) = ws.scan_interactions()? else {
        return Ok(None);
    };
    let lf = lf.with_row_index("row", None);
    let df = lf
        .clone()
        .select([
            col("channel"),
            col("direction"),
            col("ts").cast(DataType::Int64),
            col("customer_handle"),
            col("customer_handle_kind"),
            col("customer_name"),
            col("agent"),
            col("kind"),
            col("source_file"),
            col("source_ref"),
        ])
        .collect()
        .map_err(anyhow::Error::from)
        .context("cannot read the workspace's interactions")?;
    let mentions_df = lf
        .select([col("row"), col("mentions")])
        .explode(
            by_name(["mentions"], true, false),
            ExplodeOptions {
                empty_as_null: false,
                keep_nulls: false,
            },
        )
        .filter(col("mentions").is_not_null())
        .collect()
        .map_err(anyhow::Error::from)
        .context("cannot read mentions")?;

    let n = df.height();
    let mut identities: Vec<Identity> = Vec::new();
    let mut index: HashMap<String, u32> = HashMap::new();
    let mut row_identity: Vec<u32> = vec![u32::MAX; n];
    let mut row_inbound: Vec<bool> = vec![false; n];
    let mut row_contact: Vec<bool> = vec![false; n];
    let mut contact_rows = Vec::new();
    let mut business: Vec<String> = Vec::new();
    let ts_col = df.column("ts")?.i64()?.clone();
    let mut name_ix: HashMap<(u32, String), usize> = HashMap::new();
    let cols = (
        str_iter(&df, "channel")?,
        str_iter(&df, "direction")?,
        str_iter(&df, "customer_handle")?,
        str_iter(&df, "customer_handle_kind")?,
        str_iter(&df, "customer_name")?,
        str_iter(&df, "agent")?,
        str_iter(&df, "kind")?,
    );
    let (ch_it, dir_it, h_it, hk_it, name_it, agent_it, kind_it) = cols;
    let mut agent_seen: std::collections::HashSet<String> = Default::default();
    for (row, ((((((ch, dir), handle), hkind), name), agent), rkind)) in ch_it
        .zip(dir_it)
        .zip(h_it)
        .zip(hk_it)
        .zip(name_it)
        .zip(agent_it)
        .zip(kind_it)
        .enumerate()
    {
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
        row_identity[row] = ix;
        row_inbound[row] = dir == Some("inbound");
        row_contact[row] = is_contact_row;
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
        if is_contact_row {
            contact_rows.push((ix, row as u32, name.map(str::to_string)));
            continue;
        }
        if let Some(ts) = ts_col.get(row) {
            ident.first_ts = Some(ident.first_ts.map_or(ts, |f| f.min(ts)));
            ident.last_ts = Some(ident.last_ts.map_or(ts, |l| l.max(ts)));
            if matches!(dir, Some("inbound") | Some("outbound")) {
                ident.activity.push((ts, channel_bit(channel)));
            }
        }
    }
    for ident in &mut identities {
        ident.activity.sort_unstable();
        ident.activity.dedup();
    }
    let mut mentions = Vec::new();
    let rows_ix = mentions_df.column("row")?.idx()?;
    let values = mentions_df.column("mentions")?.str()?;
    for (r, v) in rows_ix.iter().zip(values.iter()) {
        let (Some(r), Some(v)) = (r, v) else { continue };
        let r = r as usize;
        let identity = row_identity[r];
        if identity == u32::MAX {
            continue;
        }
        mentions.push(MentionRef {
            identity,
            row: r as u32,
            value: v.to_string(),
            inbound: row_inbound[r],
            contact: row_contact[r],
        });
    }
    let mut rows = df.select(["source_file", "source_ref", "channel", "ts"])?;
    // One chunk per column: evidence text looks rows up by index.
    rows.rechunk_mut();
    Ok(Some(Collected {
        identities,
        index,
        mentions,
        contact_rows,
        business,
        rows,
        interactions: n as u64,
    }))
}
