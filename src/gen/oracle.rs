//! The "oracle" clustering: the matcher's output files written from gen's
//! `truth/identities.csv` instead of the matcher, so tests and benchmarks can tell the
//! report's own errors (definitions) from the matcher's (clustering).
//!
//! After importing a generated folder, [`write_truth_clustering`] writes `identities.parquet`,
//! `customers.parquet` and an empty `links.parquet` with the columns `crate::identity`
//! documents; `omnitrail report` then sees the true customers. An identity the truth lists for
//! several customers (a shared family landline) can belong to only one customer in
//! `identities.parquet`: it goes to the first customer listed, with guard `shared`, as gen's
//! truth figures assume (docs/gen.md).

use crate::identity::{identity_id, CUSTOMER_COLUMNS, IDENTITY_COLUMNS, LINK_COLUMNS};
use crate::matcher::output::{
    datetime, list_column, str_column, write_all, CUSTOMERS_FILE, IDENTITIES_FILE, LINKS_FILE,
};
use crate::model::HandleKind;
use crate::report::settings::parse_channel;
use crate::workspace::Workspace;
use anyhow::{anyhow, bail, Context, Result};
use polars::prelude::*;
use std::collections::{BTreeSet, HashMap};
use std::path::Path;

/// What [`write_truth_clustering`] wrote.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OracleCounts {
    pub identities: u64,
    pub customers: u64,
    /// Identities the truth gives to more than one customer (kept with the first).
    pub shared: u64,
    /// Truth identities no imported interaction carries (CRM keys of skipped rows, …).
    pub unseen: u64,
}

/// What the workspace's interactions say about one identity.
#[derive(Default)]
struct Seen {
    channels: BTreeSet<&'static str>,
    interactions: u64,
    first_ts: Option<i64>,
    last_ts: Option<i64>,
    display_name: Option<(u64, String)>,
}

fn parse_kind(s: &str) -> Option<HandleKind> {
    Some(match s {
        "phone" => HandleKind::Phone,
        "email" => HandleKind::Email,
        "name" => HandleKind::Name,
        _ => return None,
    })
}

/// Per identity: channels, interaction count, first/last time and most frequent display name,
/// from one lazy group-by over the workspace's interactions.
fn seen_identities(ws: &Workspace) -> Result<HashMap<String, Seen>> {
    let mut out: HashMap<String, Seen> = HashMap::new();
    let Some(lf) = ws.scan_interactions()? else {
        return Ok(out);
    };
    let df = lf
        .filter(col("customer_handle").is_not_null())
        .group_by([
            col("customer_handle_kind"),
            col("customer_handle"),
            col("channel"),
            col("customer_name"),
        ])
        .agg([
            len().alias("n"),
            col("ts").min().alias("first"),
            col("ts").max().alias("last"),
        ])
        .collect()
        .map_err(|e| anyhow!("cannot read the workspace's interactions: {e}"))?;
    let kinds = df.column("customer_handle_kind")?.str()?;
    let handles = df.column("customer_handle")?.str()?;
    let channels = df.column("channel")?.str()?;
    let names = df.column("customer_name")?.str()?;
    let counts = df.column("n")?.cast(&DataType::UInt64)?;
    let counts = counts.u64()?;
    let first = df
        .column("first")?
        .as_materialized_series()
        .to_physical_repr()
        .into_owned();
    let first = first.i64()?;
    let last = df
        .column("last")?
        .as_materialized_series()
        .to_physical_repr()
        .into_owned();
    let last = last.i64()?;
    for i in 0..df.height() {
        let (Some(kind), Some(handle), Some(channel)) = (
            kinds.get(i).and_then(parse_kind),
            handles.get(i),
            channels.get(i).and_then(parse_channel),
        ) else {
            continue;
        };
        let n = counts.get(i).unwrap_or(0);
        let s = out.entry(identity_id(kind, handle, channel)).or_default();
        s.channels.insert(channel.as_str());
        s.interactions += n;
        s.first_ts = s.first_ts.into_iter().chain(first.get(i)).min();
        s.last_ts = s.last_ts.into_iter().chain(last.get(i)).max();
        if let Some(name) = names.get(i) {
            if s.display_name.as_ref().is_none_or(|(m, _)| n > *m) {
                s.display_name = Some((n, name.to_string()));
            }
        }
    }
    Ok(out)
}

/// `kind` and `value` of an identity id (`phone:+44…`, `email:a@b`, `name:whatsapp:Ann`).
fn split_identity(id: &str) -> Result<(HandleKind, &str)> {
    let (kind, rest) = id.split_once(':').ok_or_else(|| anyhow!("bad identity id {id:?}"))?;
    let kind = parse_kind(kind).ok_or_else(|| anyhow!("bad identity kind in {id:?}"))?;
    let value = match kind {
        HandleKind::Name => rest.split_once(':').map(|(_, v)| v).unwrap_or(rest),
        _ => rest,
    };
    Ok((kind, value))
}

struct TruthCustomer {
    name: String,
    phone: Option<String>,
    email: Option<String>,
    members: Vec<usize>,
}

/// Writes the workspace's `identities.parquet`, `customers.parquet` and (empty)
/// `links.parquet` from `gen_dir/truth/identities.csv` and `truth/customers.csv`, replacing
/// whatever the matcher wrote.
pub fn write_truth_clustering(gen_dir: &Path, ws: &Workspace) -> Result<OracleCounts> {
    let truth = gen_dir.join("truth");
    let mut customers: Vec<(String, TruthCustomer)> = Vec::new();
    let mut customer_index: HashMap<String, usize> = HashMap::new();
    let path = truth.join("customers.csv");
    let mut r = csv::Reader::from_path(&path).with_context(|| format!("cannot read {}", path.display()))?;
    for rec in r.records() {
        let rec = rec.with_context(|| format!("bad record in {}", path.display()))?;
        let first = |i: usize| {
            rec.get(i)
                .and_then(|s| s.split(';').find(|v| !v.is_empty()))
                .map(str::to_string)
        };
        customer_index.insert(rec[0].to_string(), customers.len());
        customers.push((
            rec[0].to_string(),
            TruthCustomer {
                name: rec[1].to_string(),
                phone: first(2),
                email: first(3),
                members: Vec::new(),
            },
        ));
    }
    let seen = seen_identities(ws)?;
    let mut ids: Vec<(String, usize)> = Vec::new();
    let mut listed: HashMap<String, usize> = HashMap::new();
    let mut counts = OracleCounts::default();
    let path = truth.join("identities.csv");
    let mut r = csv::Reader::from_path(&path).with_context(|| format!("cannot read {}", path.display()))?;
    let mut shared: BTreeSet<usize> = BTreeSet::new();
    for rec in r.records() {
        let rec = rec.with_context(|| format!("bad record in {}", path.display()))?;
        let (id, customer) = (&rec[0], &rec[1]);
        let Some(&c) = customer_index.get(customer) else {
            bail!("{}: customer {customer} is not in customers.csv", path.display());
        };
        if let Some(&ix) = listed.get(id) {
            shared.insert(ix);
            continue;
        }
        listed.insert(id.to_string(), ids.len());
        customers[c].1.members.push(ids.len());
        ids.push((id.to_string(), c));
    }
    counts.shared = shared.len() as u64;
    counts.identities = ids.len() as u64;

    let mut kind = Vec::with_capacity(ids.len());
    let mut value = Vec::with_capacity(ids.len());
    let mut channels: Vec<Vec<&str>> = Vec::with_capacity(ids.len());
    let mut display: Vec<Option<&str>> = Vec::with_capacity(ids.len());
    let mut interactions: Vec<Option<u64>> = Vec::with_capacity(ids.len());
    let empty = Seen::default();
    for (id, _) in &ids {
        let (k, v) = split_identity(id)?;
        kind.push(k.as_str());
        value.push(v);
        let s = seen.get(id).unwrap_or(&empty);
        counts.unseen += (s.interactions == 0) as u64;
        channels.push(s.channels.iter().copied().collect());
        display.push(s.display_name.as_ref().map(|(_, n)| n.as_str()));
        interactions.push(Some(s.interactions));
    }
    let interactions: UInt64Chunked = interactions.into_iter().collect();
    let mut identities = DataFrame::new(
        ids.len(),
        vec![
            str_column(IDENTITY_COLUMNS[0], ids.iter().map(|(i, _)| Some(i.as_str()))),
            str_column(IDENTITY_COLUMNS[1], kind.into_iter().map(Some)),
            str_column(IDENTITY_COLUMNS[2], value.into_iter().map(Some)),
            list_column(IDENTITY_COLUMNS[3], &channels),
            str_column(IDENTITY_COLUMNS[4], display.into_iter()),
            interactions.with_name(IDENTITY_COLUMNS[5].into()).into_column(),
            str_column(
                IDENTITY_COLUMNS[6],
                (0..ids.len()).map(|ix| shared.contains(&ix).then_some("shared")),
            ),
            str_column(
                IDENTITY_COLUMNS[7],
                ids.iter().map(|(_, c)| Some(customers[*c].0.as_str())),
            ),
        ],
    )?;

    // Customers with at least one identity, in truth order.
    let listed_customers: Vec<&(String, TruthCustomer)> =
        customers.iter().filter(|(_, c)| !c.members.is_empty()).collect();
    counts.customers = listed_customers.len() as u64;
    let mut cust_channels: Vec<Vec<&str>> = Vec::new();
    let mut cust_identities: Vec<Option<u32>> = Vec::new();
    let mut cust_interactions: Vec<Option<u64>> = Vec::new();
    let mut first: Vec<Option<i64>> = Vec::new();
    let mut last: Vec<Option<i64>> = Vec::new();
    for (_, c) in &listed_customers {
        let mut chans: BTreeSet<&str> = BTreeSet::new();
        let (mut n, mut f, mut l) = (0u64, None::<i64>, None::<i64>);
        for &m in &c.members {
            let s = seen.get(&ids[m].0).unwrap_or(&empty);
            chans.extend(s.channels.iter().copied());
            n += s.interactions;
            f = f.into_iter().chain(s.first_ts).min();
            l = l.into_iter().chain(s.last_ts).max();
        }
        cust_channels.push(chans.into_iter().collect());
        cust_identities.push(Some(c.members.len() as u32));
        cust_interactions.push(Some(n));
        first.push(f);
        last.push(l);
    }
    let cust_identities: UInt32Chunked = cust_identities.into_iter().collect();
    let cust_interactions: UInt64Chunked = cust_interactions.into_iter().collect();
    let mut customers_df = DataFrame::new(
        listed_customers.len(),
        vec![
            str_column(
                CUSTOMER_COLUMNS[0],
                listed_customers.iter().map(|(id, _)| Some(id.as_str())),
            ),
            str_column(
                CUSTOMER_COLUMNS[1],
                listed_customers.iter().map(|(_, c)| Some(c.name.as_str())),
            ),
            str_column(
                CUSTOMER_COLUMNS[2],
                listed_customers.iter().map(|(_, c)| c.phone.as_deref()),
            ),
            str_column(
                CUSTOMER_COLUMNS[3],
                listed_customers.iter().map(|(_, c)| c.email.as_deref()),
            ),
            cust_identities.with_name(CUSTOMER_COLUMNS[4].into()).into_column(),
            cust_interactions.with_name(CUSTOMER_COLUMNS[5].into()).into_column(),
            list_column(CUSTOMER_COLUMNS[6], &cust_channels),
            datetime(CUSTOMER_COLUMNS[7], first)?,
            datetime(CUSTOMER_COLUMNS[8], last)?,
        ],
    )?;

    let none = || str_column("", std::iter::empty());
    let mut links = DataFrame::new(
        0,
        vec![
            none().with_name(LINK_COLUMNS[0].into()),
            none().with_name(LINK_COLUMNS[1].into()),
            none().with_name(LINK_COLUMNS[2].into()),
            Float64Chunked::from_vec(LINK_COLUMNS[3].into(), vec![]).into_column(),
            none().with_name(LINK_COLUMNS[4].into()),
            BooleanChunked::from_iter_values(LINK_COLUMNS[5].into(), std::iter::empty()).into_column(),
        ],
    )?;
    write_all(
        ws.root(),
        [
            (CUSTOMERS_FILE, &mut customers_df),
            (IDENTITIES_FILE, &mut identities),
            (LINKS_FILE, &mut links),
        ],
    )?;
    Ok(counts)
}

/// Keys of `truth/summary.json` that are not report figures.
const NOT_FIGURES: &[&str] = &["settings", "generated"];

/// One figure both `truth/summary.json` and the report's JSON summary state.
#[derive(Debug, Clone, PartialEq)]
pub struct SharedFigure {
    /// Dotted key (`channels.email.customers`).
    pub key: String,
    pub truth: serde_json::Value,
    pub report: serde_json::Value,
}

/// Every number the truth states that the report also has, by dotted key, in key order; truth keys the report lacks are returned as `report: null`, so a renamed or
/// missing report key shows up instead of being skipped.
pub fn shared_figures(truth: &serde_json::Value, report: &serde_json::Value) -> Vec<SharedFigure> {
    fn walk(prefix: &str, t: &serde_json::Value, r: Option<&serde_json::Value>, out: &mut Vec<SharedFigure>) {
        match t {
            serde_json::Value::Object(map) => {
                for (k, v) in map {
                    if prefix.is_empty() && NOT_FIGURES.contains(&k.as_str()) {
                        continue;
                    }
                    let key = if prefix.is_empty() {
                        k.clone()
                    } else {
                        format!("{prefix}.{k}")
                    };
                    walk(&key, v, r.and_then(|r| r.get(k)), out);
                }
            }
            _ => out.push(SharedFigure {
                key: prefix.to_string(),
                truth: t.clone(),
                report: r.cloned().unwrap_or(serde_json::Value::Null),
            }),
        }
    }
    let mut out = Vec::new();
    walk("", truth, Some(report), &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identity_ids_split_into_kind_and_value() {
        assert_eq!(
            split_identity("name:whatsapp:Ann: the florist").unwrap(),
            (HandleKind::Name, "Ann: the florist")
        );
        assert_eq!(
            split_identity("email:a@b.example").unwrap(),
            (HandleKind::Email, "a@b.example")
        );
        assert!(split_identity("nonsense").is_err());
    }

    #[test]
    fn shared_figures_flatten_the_truth_and_show_missing_report_keys() {
        let truth = serde_json::json!({"customers": 3, "channels": {"email": {"inbound": 2}},
            "settings": {"sla": "24h"}, "gone": 1});
        let report = serde_json::json!({"customers": 4, "channels": {"email": {"inbound": 2}}});
        let f = shared_figures(&truth, &report);
        let keys: Vec<&str> = f.iter().map(|f| f.key.as_str()).collect();
        assert_eq!(keys, ["channels.email.inbound", "customers", "gone"]);
        assert_eq!(f[1].report, 4);
        assert_eq!(f[2].report, serde_json::Value::Null);
    }
}
