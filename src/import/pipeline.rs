//! Runs an import command: finds the files, scans them, decides the business side,
//! writes every source inside one workspace transaction.

use super::whatsapp::{self, ChatInput, ChatScan, Sink, WhatsAppOptions};
use super::{expand_paths, ms_to_rfc3339, CommonOptions, ImportError, ImportReport, SourceOutcome};
use crate::workspace::{read_columns, SourceEntry, Workspace};
use anyhow::Result;
use polars::prelude::*;
use std::collections::HashSet;
use std::path::PathBuf;

/// Progress callbacks for the CLI (a bar on a terminal, nothing when piped).
pub trait Progress {
    fn start(&self, total_bytes: u64);
    fn advance(&self, bytes: u64);
    fn finish(&self);
}

/// No progress display.
pub struct NoProgress;

impl Progress for NoProgress {
    fn start(&self, _: u64) {}
    fn advance(&self, _: u64) {}
    fn finish(&self) {}
}

/// Dedup keys of the records already stored for a channel.
fn existing_keys(ws: &Workspace, channel: &str) -> Result<HashSet<u128>> {
    let batches: Vec<String> = ws
        .manifest()
        .sources
        .iter()
        .filter(|s| s.channel == channel)
        .filter_map(|s| s.batch.clone())
        .collect();
    let mut keys = HashSet::new();
    for df in read_columns(ws.root(), &batches, &["dedup_key"])? {
        let col = df.column("dedup_key")?.str()?.clone();
        for k in col.iter().flatten() {
            if let Ok(v) = u128::from_str_radix(k, 16) {
                keys.insert(v);
            }
        }
    }
    Ok(keys)
}

/// `omnitrail import whatsapp PATH…`
pub fn import_whatsapp(
    ws: &mut Workspace,
    paths: &[PathBuf],
    opts: &WhatsAppOptions,
    common: &CommonOptions,
    progress: &dyn Progress,
) -> Result<ImportReport, ImportError> {
    let mut outcomes = Vec::new();
    let mut scans: Vec<ChatScan> = Vec::new();
    let mut hashes_this_run: HashSet<String> = HashSet::new();
    for (path, explicit) in expand_paths(paths) {
        let display = path.display().to_string();
        super::check_interrupt()?;
        if !explicit {
            let ext = path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase);
            if path.metadata().map(|m| m.len() == 0).unwrap_or(false) {
                outcomes.push(SourceOutcome::skipped(&display, "empty file: nothing to import".into()));
                continue;
            }
            if !matches!(ext.as_deref(), Some("txt") | Some("zip")) || super::detect::detect(&path).is_none() {
                let why = match ext.as_deref() {
                    Some("mbox" | "eml" | "mbx") => "a mailbox: the email importer is not built yet",
                    Some("csv" | "xml") => "a call log or contacts file: those importers are not built yet",
                    Some("vcf") => "contact cards: the contacts importer is not built yet",
                    _ => "not a format this version imports",
                };
                outcomes.push(SourceOutcome::skipped(&display, why.into()));
                continue;
            }
        }
        if !path.exists() {
            outcomes.push(SourceOutcome::failed(
                &display,
                format!("{display}: no such file or folder"),
            ));
            continue;
        }
        let scanned = ChatInput::open(&path).and_then(|input| whatsapp::scan(input, opts));
        match scanned {
            Ok(scan) => {
                if let Some(prev) = ws.source_by_hash(&scan.content_hash) {
                    let mut o = SourceOutcome::from_entry(prev, "already-imported");
                    o.path = scan.input.display();
                    o.notes = vec![format!(
                        "same content as {} (imported {}): nothing added",
                        prev.path, prev.imported_at
                    )];
                    o.counts = Default::default();
                    outcomes.push(o);
                } else if !hashes_this_run.insert(scan.content_hash.clone()) {
                    let mut o = SourceOutcome::skipped(
                        &scan.input.display(),
                        "same content as another file in this import".into(),
                    );
                    o.outcome = "already-imported".into();
                    outcomes.push(o);
                } else {
                    scans.push(scan);
                }
            }
            Err(ImportError::Interrupted) => return Err(ImportError::Interrupted),
            Err(e) => outcomes.push(SourceOutcome::failed(&display, e.to_string())),
        }
    }
    // A file whose day/month order is undecidable borrows it from files of the same
    // import written in exactly the same layout (one phone's chats), when they are certain.
    let (decided, undecided): (Vec<ChatScan>, Vec<ChatScan>) = scans.into_iter().partition(|s| s.undecided().is_none());
    let mut scans = decided;
    for scan in undecided {
        let display = scan.input.display();
        let Some((order, sibling)) = scan.order_from_siblings(scans.iter()) else {
            outcomes.push(SourceOutcome::failed(
                &display,
                format!("{display}: {}", scan.undecided().unwrap_or_default()),
            ));
            continue;
        };
        let forced = WhatsAppOptions {
            date_order: Some(order),
            ..opts.clone()
        };
        match whatsapp::scan(scan.input.clone(), &forced) {
            Ok(mut rescanned) => {
                rescanned.notes.retain(|n| !n.contains("forced by --date-order"));
                rescanned.notes.push(format!(
                    "date order {order}: undecidable from this file's dates, taken from {sibling}, which has the same header layout and where it is certain"
                ));
                scans.push(rescanned);
            }
            Err(e) => outcomes.push(SourceOutcome::failed(&display, e.to_string())),
        }
    }
    let business = whatsapp::decide_business(&scans, opts);
    let mut notes = vec![format!("time zone {} ({})", common.tz.name(), common.tz_origin)];
    let mut hows: Vec<&str> = business.values().map(|b| b.how.as_str()).collect();
    hows.sort();
    hows.dedup();
    for how in hows {
        notes.push(format!("business side {how}"));
    }
    let unknown: Vec<String> = (0..scans.len())
        .filter(|i| !business.contains_key(i) && !scans[*i].authors.is_empty())
        .map(|i| scans[i].input.display())
        .collect();
    if !unknown.is_empty() {
        notes.push(format!(
            "business side unknown for {} chat(s) ({}): their messages have direction `unknown`; pass --business-name NAME",
            unknown.len(),
            if unknown.len() > 3 { format!("{}, and {} more", unknown[..3].join(", "), unknown.len() - 3) } else { unknown.join(", ") }
        ));
    }
    let mut seen = existing_keys(ws, "whatsapp").map_err(ImportError::Other)?;
    progress.start(scans.iter().map(|s| s.size).sum());
    let mut txn = ws.begin();
    let total = scans.len();
    for (i, scan) in scans.iter().enumerate() {
        let source_id = format!("wa-{}", &scan.content_hash[..16]);
        let (mut batch, batch_rel) = txn.batch_writer(&source_id)?;
        let (mut rejects, rejects_rel) = txn.rejects_writer(&source_id)?;
        let mut new_keys = Vec::new();
        let advance = |n: u64| progress.advance(n);
        let mut sink = Sink {
            source_id: &source_id,
            batch: &mut batch,
            rejects: &mut rejects,
            seen: &seen,
            new_keys: (i + 1 < total).then_some(&mut new_keys),
            progress: &advance,
        };
        let result = whatsapp::import(scan, business.get(&i), common, &mut sink)?;
        batch.finish()?;
        let rejected = rejects.finish()?;
        seen.extend(new_keys);
        let mut drop_files = Vec::new();
        let batch = if result.counts.imported > 0 {
            Some(batch_rel.clone())
        } else {
            drop_files.push(batch_rel.clone());
            None
        };
        let rejects = if rejected > 0 {
            Some(rejects_rel.clone())
        } else {
            drop_files.push(rejects_rel.clone());
            None
        };
        txn.discard_files(&drop_files);
        let mut entry_notes = scan.notes.clone();
        entry_notes.extend(result.notes.iter().cloned());
        if let Some(b) = business.get(&i) {
            let mut names: Vec<&String> = b.names.iter().collect();
            names.sort();
            entry_notes.push(format!(
                "business side: {} ({})",
                names.iter().map(|s| format!("{s:?}")).collect::<Vec<_>>().join(", "),
                b.how
            ));
        }
        if let ChatInput::Zip { media, .. } = &scan.input {
            entry_notes.push(format!(
                "{} media file(s) in the zip (counted, not extracted)",
                media.len()
            ));
        }
        if result.counts.read >= 39_000 {
            entry_notes
                .push("close to WhatsApp's ~40 000-message export cap: this file may not hold the full history".into());
        }
        let options = serde_json::json!({
            "tz": common.tz.name(),
            "tz_origin": common.tz_origin,
            "region": common.region_code,
            "date_order": opts.date_order.map(|o| format!("{o:?}").to_lowercase()),
            "business_names": business.get(&i).map(|b| { let mut v: Vec<&String> = b.names.iter().collect(); v.sort(); v }),
            "zip_media": if let ChatInput::Zip { media, .. } = &scan.input { serde_json::json!(media) } else { serde_json::Value::Null },
        });
        let entry = SourceEntry {
            source_id: source_id.clone(),
            path: scan.input.display(),
            size: scan.size,
            content_hash: scan.content_hash.clone(),
            format: "whatsapp".into(),
            channel: "whatsapp".into(),
            options,
            counts: result.counts,
            first_ts: result.first_ms.map(ms_to_rfc3339),
            last_ts: result.last_ms.map(ms_to_rfc3339),
            imported_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            batch,
            rejects,
            notes: entry_notes,
        };
        outcomes.push(SourceOutcome::from_entry(&entry, "imported"));
        txn.add_source(entry);
    }
    progress.finish();
    super::check_interrupt()?;
    if !txn.staged_sources().is_empty() {
        txn.commit()?;
    }
    Ok(ImportReport {
        sources: outcomes,
        notes,
    })
}

impl From<PolarsError> for ImportError {
    fn from(e: PolarsError) -> Self {
        ImportError::Other(e.into())
    }
}
