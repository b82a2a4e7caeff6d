//! `omnitrail timeline CUSTOMER`: one customer's whole history across channels, in time
//! order, with markers where context was lost.

use super::analyze::{analyze, Outcome};
use super::load::{identities_path, load, LoadOptions, NotMatched};
use super::rows::Rows;
use super::settings::{format_secs, format_ts, ReportSettings};
use crate::model::{Direction, Kind};
use crate::normalize::phone::{looks_like_phone, to_e164, Region};
use crate::workspace::Workspace;
use anyhow::{anyhow, bail, Result};
use polars::prelude::*;
use std::collections::{BTreeSet, HashMap};

/// One identity row of `identities.parquet`.
struct IdentityRow {
    identity_id: String,
    kind: String,
    value: String,
    display_name: Option<String>,
    customer_id: String,
}

fn read_identity_rows(ws: &Workspace) -> Result<Vec<IdentityRow>> {
    let path = identities_path(ws.root());
    if !path.exists() {
        return Err(NotMatched(path.display().to_string()).into());
    }
    let df = LazyFrame::scan_parquet(PlRefPath::try_from_pathbuf(path.clone())?, ScanArgsParquet::default())
        .and_then(|lf| {
            lf.select([
                col("identity_id"),
                col("kind"),
                col("value"),
                col("display_name"),
                col("customer_id"),
            ])
            .collect()
        })
        .map_err(|e| anyhow!("cannot read {}: {e}", path.display()))?;
    let s = |name: &str| -> Result<Vec<Option<String>>> {
        Ok(df.column(name)?.str()?.iter().map(|v| v.map(str::to_string)).collect())
    };
    let (ids, kinds, values, names, customers) = (
        s("identity_id")?,
        s("kind")?,
        s("value")?,
        s("display_name")?,
        s("customer_id")?,
    );
    Ok((0..df.height())
        .filter_map(|i| {
            Some(IdentityRow {
                identity_id: ids[i].clone()?,
                kind: kinds[i].clone().unwrap_or_default(),
                value: values[i].clone().unwrap_or_default(),
                display_name: names[i].clone(),
                customer_id: customers[i].clone()?,
            })
        })
        .collect())
}

/// The customer a query names: a customer id, a phone number, an email address or a name.
fn resolve(rows: &[IdentityRow], query: &str, region: Region) -> Result<String> {
    let q = query.trim();
    let mut found: BTreeSet<&str> = BTreeSet::new();
    if rows.iter().any(|r| r.customer_id == q) {
        return Ok(q.to_string());
    }
    if q.contains('@') {
        let id = format!("email:{}", q.to_lowercase());
        found.extend(
            rows.iter()
                .filter(|r| r.identity_id == id)
                .map(|r| r.customer_id.as_str()),
        );
    } else if looks_like_phone(q) {
        let e164 = to_e164(q, region).or_else(|| to_e164(&format!("+{q}"), Region::none()));
        if let Some(e) = e164 {
            let id = format!("phone:{e}");
            found.extend(
                rows.iter()
                    .filter(|r| r.identity_id == id)
                    .map(|r| r.customer_id.as_str()),
            );
        }
    } else {
        let lower = q.to_lowercase();
        found.extend(
            rows.iter()
                .filter(|r| {
                    (r.kind == "name" && r.value.to_lowercase() == lower)
                        || r.display_name.as_deref().is_some_and(|n| n.to_lowercase() == lower)
                })
                .map(|r| r.customer_id.as_str()),
        );
    }
    match found.len() {
        0 => bail!(
            "no customer matches {q:?}: give a customer id (see `omnitrail report customers`), a phone number (E.164, or national with --region), an email address or a name"
        ),
        1 => Ok(found.into_iter().next().unwrap_or_default().to_string()),
        n => bail!(
            "{n} customers match {q:?}: {} — give one customer id",
            found.iter().take(10).copied().collect::<Vec<_>>().join(", ")
        ),
    }
}

/// The timeline of the customer `query` names.
pub fn timeline(ws: &Workspace, settings: &ReportSettings, query: &str, region: Region) -> Result<Rows> {
    let identity_rows = read_identity_rows(ws)?;
    let customer_id = resolve(&identity_rows, query, region)?;
    let handles: Vec<String> = identity_rows
        .iter()
        .filter(|r| r.customer_id == customer_id)
        .map(|r| r.value.clone())
        .collect();
    let opts = LoadOptions { details: true, handles };
    let mut ds = load(ws, settings, &opts)?;
    // Pending contacts are judged against the end of the whole dataset, not this customer's last row.
    if settings.until_ms.is_none() {
        if let Some(lf) = ws.scan_interactions()? {
            let df = lf
                .select([col("ts").max()])
                .collect()
                .map_err(|e| anyhow!("cannot read the workspace: {e}"))?;
            let ts = df
                .column("ts")?
                .as_materialized_series()
                .to_physical_repr()
                .into_owned();
            ds.data_end_ms = ts.i64()?.get(0).or(ds.data_end_ms);
        }
    }
    let a = analyze(&ds, settings, true);
    let Some((cidx, range)) = ds
        .customer_rows
        .iter()
        .find(|(c, _)| ds.customer_ids[*c as usize] == customer_id)
        .cloned()
    else {
        let mut t = Rows::new(
            "timeline",
            format!("Timeline of {customer_id}: no interactions"),
            columns(),
        );
        t.notes
            .push("no interactions in the selected period and channels".into());
        return Ok(t);
    };
    let mut markers: HashMap<usize, Vec<String>> = HashMap::new();
    let mut mark = |row: usize, text: String| markers.entry(row).or_default().push(text);
    let mut episode = 0;
    for &r in &a.episode_starts {
        if range.contains(&r) {
            episode += 1;
            mark(r, format!("episode {episode} starts"));
        }
    }
    for s in a.switches.iter().filter(|s| s.customer == cidx) {
        let mut text = format!("switch: {} → {}", ds.channel[s.from_row], ds.channel[s.to_row]);
        if !s.repeated.is_empty() {
            let what: Vec<&str> = s.repeated.iter().map(|&m| ds.mentions[m as usize].as_str()).collect();
            text.push_str(&format!("; CONTEXT LOST: restates {}", what.join(", ")));
        }
        mark(s.to_row, text);
    }
    for r in a.repeats.iter().filter(|r| r.customer == cidx) {
        mark(
            r.row,
            format!(
                "repeat contact ({}) after {}",
                if r.same_channel {
                    "same channel"
                } else {
                    "cross-channel"
                },
                format_secs((ds.ts[r.row] - ds.ts[r.previous_row]) as f64 / 1000.0)
            ),
        );
    }
    for c in a.contact_results.iter().filter(|c| c.customer == cidx) {
        let text = match (c.per_channel, c.unified) {
            (Outcome::Answered { delay_ms, .. }, _) => format!("answered in {}", format_secs(delay_ms as f64 / 1000.0)),
            (pc, Outcome::Answered { row, delay_ms }) => format!(
                "UNANSWERED on {} ({}), answered on {} in {}",
                c.channel,
                if matches!(pc, Outcome::Late { .. }) {
                    "late"
                } else {
                    "no reply"
                },
                ds.channel[row],
                format_secs(delay_ms as f64 / 1000.0)
            ),
            (_, Outcome::Late { row, delay_ms }) => format!(
                "UNANSWERED within the SLA (first response on {} after {})",
                ds.channel[row],
                format_secs(delay_ms as f64 / 1000.0)
            ),
            (_, Outcome::None) => "UNANSWERED on every channel".into(),
            (_, Outcome::Pending) => "no response yet (data ends within the SLA)".into(),
        };
        mark(c.first_row, text);
    }
    for h in a.handoff_rows.iter().filter(|h| h.customer == cidx) {
        mark(
            h.to_row,
            format!(
                "handoff {} → {}{}",
                ds.agents[ds.agent[h.from_row] as usize],
                ds.agents[ds.agent[h.to_row] as usize],
                if h.cross_channel { " across channels" } else { "" }
            ),
        );
    }
    let d = ds.details.as_ref().ok_or_else(|| anyhow!("details not loaded"))?;
    let name = identity_rows
        .iter()
        .filter(|r| r.customer_id == customer_id)
        .find_map(|r| r.display_name.clone())
        .unwrap_or_default();
    let mut t = Rows::new(
        "timeline",
        format!("Timeline of {customer_id} {name} — {} interaction(s)", range.len())
            .trim_end()
            .to_string(),
        columns(),
    );
    for r in range {
        let mut what = d.snippet[r].clone();
        if ds.kind[r] == Kind::Call {
            what = format!(
                "call{}{}",
                ds.status[r].map(|s| format!(" {}", s.as_str())).unwrap_or_default(),
                if what.is_empty() {
                    String::new()
                } else {
                    format!(": {what}")
                }
            );
        }
        let mut m = markers.remove(&r).unwrap_or_default();
        if ds.direction[r] == Direction::System {
            m.push("automatic, not a response".into());
        }
        t.rows.push(vec![
            format_ts(ds.ts[r], settings.display_tz),
            ds.channel[r].to_string(),
            ds.direction[r].as_str().to_string(),
            d.handle[r].clone().unwrap_or_default(),
            if ds.agent[r] == super::load::NONE {
                String::new()
            } else {
                ds.agents[ds.agent[r] as usize].clone()
            },
            what,
            m.join("; "),
            d.interaction_id[r].clone(),
            format!("{}#{}", d.source_file[r], d.source_ref[r]),
        ]);
    }
    Ok(t)
}

fn columns() -> Vec<&'static str> {
    vec![
        "ts",
        "channel",
        "direction",
        "handle",
        "agent",
        "what",
        "markers",
        "interaction_id",
        "source",
    ]
}
