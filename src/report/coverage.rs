//! What the sources cannot show. Every report lists these notes so that a blind spot is
//! never read as a good result (docs/metrics.md, "Coverage").

use super::analyze::Analysis;
use super::load::Dataset;
use super::summary::ChannelSummary;
use crate::model::{Direction, Kind};
use crate::workspace::Workspace;
use crate::workspace::NEAR_WHATSAPP_EXPORT_CAP;
use anyhow::{anyhow, Result};
use polars::prelude::*;
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};

/// One thing the figures cannot see, with a stable code for scripts.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Note {
    pub code: &'static str,
    pub message: String,
}

fn note(code: &'static str, message: String) -> Note {
    Note { code, message }
}

/// Inbound and not-answered calls per call source: a source with inbound calls but not one
/// that was missed, busy or failed may be an export that only logs connected calls, and then
/// missed calls cannot be counted.
fn inbound_calls_by_source(ws: &Workspace) -> Result<HashMap<String, (u64, u64)>> {
    // The sources of one import share a batch: one pass, grouped by source.
    let Some(lf) = crate::workspace::scan_batches(ws.root(), &ws.interaction_batches(Some("call"))?)? else {
        return Ok(HashMap::new());
    };
    let df = lf
        .filter(col("direction").eq(lit("inbound")))
        .group_by([col("source_id")])
        .agg([
            len().cast(DataType::UInt64).alias("inbound"),
            col("status")
                .neq(lit("answered"))
                .sum()
                .cast(DataType::UInt64)
                .alias("not_answered"),
        ])
        .collect()
        .map_err(|e| anyhow!("cannot read the call batches: {e}"))?;
    let ids = df.column("source_id")?.str()?;
    let inbound = df.column("inbound")?.u64()?;
    let not_answered = df.column("not_answered")?.u64()?;
    let mut per_source = HashMap::new();
    for i in 0..df.height() {
        if let Some(id) = ids.get(i) {
            per_source.insert(
                id.to_string(),
                (inbound.get(i).unwrap_or(0), not_answered.get(i).unwrap_or(0)),
            );
        }
    }
    Ok(per_source)
}

/// The coverage notes for a report over `ds`.
pub fn notes(
    ws: &Workspace,
    ds: &Dataset,
    a: &Analysis,
    channels: &BTreeMap<&'static str, ChannelSummary>,
) -> Result<Vec<Note>> {
    let calls = inbound_calls_by_source(ws)?;
    // One reading of the sources; the call logs' notes come first.
    let (mut out, mut per_source) = (Vec::new(), Vec::new());
    ws.for_each_source(|s| {
        if let Some(&(inbound @ 1.., 0)) = calls.get(&s.source_id).filter(|_| s.channel == "call") {
            out.push(note(
                "calls_without_unanswered",
                format!(
                    "call log {}: all {inbound} inbound calls were answered — it may not record missed calls, so unanswered calls cannot be counted from it",
                    s.path
                ),
            ));
        }
        if s.notes.iter().any(|n| n.starts_with(NEAR_WHATSAPP_EXPORT_CAP)) {
            per_source.push(note(
                "whatsapp_export_cap",
                format!(
                    "WhatsApp chat {}: {} messages, close to WhatsApp's ~40 000-message export cap — older history is probably missing",
                    s.path, s.counts.read
                ),
            ));
        }
        if s.counts.rejected > 0 {
            per_source.push(note(
                "rejected_records",
                format!(
                    "{}: {} record(s) were rejected at import and are not in these figures (`omnitrail status`)",
                    s.path, s.counts.rejected
                ),
            ));
        }
        Ok(())
    })?;
    out.append(&mut per_source);
    for (name, c) in channels {
        if c.unknown > 0 {
            out.push(note(
                "unknown_direction",
                format!(
                    "{name}: {} interaction(s) have direction `unknown` (the business side was not identified): they are neither contacts nor responses; re-import with the business side (e.g. --business-name)",
                    c.unknown
                ),
            ));
        }
    }
    // A channel where customers write but no response is ever recorded.
    for (channel, f) in &a.channels {
        let responses = (0..ds.len())
            .filter(|&r| {
                ds.channel[r] == *channel && super::classify::is_response(ds.direction[r], ds.kind[r], ds.status[r])
            })
            .take(1)
            .count();
        if f.contacts > 0 && responses == 0 {
            out.push(note(
                "no_business_side",
                format!(
                    "{channel}: {} inbound contact(s) and not one business response recorded — if the business answers there, its side is missing from the export or was not identified; the per-channel view counts every such contact unanswered",
                    f.contacts
                ),
            ));
        }
    }
    let calls_without_status = (0..ds.len())
        .filter(|&r| ds.kind[r] == Kind::Call && ds.direction[r] == Direction::Inbound && ds.status[r].is_none())
        .count();
    if calls_without_status > 0 {
        out.push(note(
            "calls_without_status",
            format!("{calls_without_status} inbound call(s) have no recorded outcome: neither counted as needing a response nor as a response"),
        ));
    }
    let pending: u64 = a.channels.values().map(|f| f.pending_unified).sum();
    if pending > 0 {
        out.push(note(
            "pending_at_end",
            format!("{pending} contact(s) arrived less than the SLA before the data ends and have no response yet: not judged"),
        ));
    }
    if ds.unmatched_identities > 0 {
        out.push(note(
            "unmatched_identities",
            format!(
                "{} identity(ies) were imported after the last `omnitrail match` and are each counted as their own customer: run `omnitrail match` again",
                ds.unmatched_identities
            ),
        ));
    }
    if ds.ambiguous_identities > 0 {
        out.push(note(
            "ambiguous_identities",
            format!(
                "{} identity row(s) repeat in identities.parquet: the first customer listed is used",
                ds.ambiguous_identities
            ),
        ));
    }
    let unassigned = (ds.len() - ds.unassigned_from) as u64;
    if unassigned > 0 {
        out.push(note(
            "no_customer_side",
            format!("{unassigned} interaction(s) have no customer side (system notices, internal calls and mail, withheld callers): counted in volumes only"),
        ));
    }
    if ds.contact_records > 0 {
        out.push(note(
            "contact_records",
            format!(
                "{} contact-list row(s) anchor identities for matching and are not interactions: left out of every figure",
                ds.contact_records
            ),
        ));
    }
    Ok(out)
}
