//! The matcher's files: `customers.parquet`, `identities.parquet`, `links.parquet` in the
//! workspace root, columns as `crate::identity` documents. All three are written to
//! temporary names and synced first, then renamed, so readers never see a half-written file.

use super::evidence::Link;
use super::identities::{Collected, CHANNELS};
use crate::model::HandleKind;
use anyhow::{Context, Result};
use polars::prelude::*;
use std::collections::HashMap;
use std::fs::File;
use std::path::Path;

pub const CUSTOMERS_FILE: &str = "customers.parquet";
pub const IDENTITIES_FILE: &str = "identities.parquet";
pub const LINKS_FILE: &str = "links.parquet";

/// One unified customer.
#[derive(Debug, Clone)]
pub struct Customer {
    pub customer_id: String,
    /// Index of the anchor identity (the one the id is derived from).
    pub anchor: u32,
    pub members: Vec<u32>,
}

/// `C-` and 10 hex digits of BLAKE3 of the anchor identity id.
pub fn customer_id(anchor_identity: &str) -> String {
    format!("C-{}", &blake3::hash(anchor_identity.as_bytes()).to_hex()[..10])
}

/// The identity a cluster's id derives from: phones before emails before names, unguarded
/// before guarded, then the smallest id — so the id stays the same when the same cluster
/// is found again.
pub fn anchor_rank(c: &Collected, ix: u32) -> (u8, bool, &str) {
    let ident = &c.identities[ix as usize];
    let kind = match ident.kind {
        HandleKind::Phone => 0,
        HandleKind::Email => 1,
        HandleKind::Name => 2,
    };
    (kind, ident.guard.is_some(), ident.id.as_str())
}

/// Groups identities by cluster root into customers with stable ids. Two anchors whose
/// hashes collide in 40 bits get `#1`, `#2`… appended to the later anchor before hashing.
pub fn customers(c: &Collected, roots: &[u32]) -> Vec<Customer> {
    let mut groups: HashMap<u32, Vec<u32>> = HashMap::new();
    for (ix, &r) in roots.iter().enumerate() {
        groups.entry(r).or_default().push(ix as u32);
    }
    let mut out: Vec<Customer> = groups
        .into_values()
        .map(|members| {
            let anchor = *members.iter().min_by_key(|&&m| anchor_rank(c, m)).expect("non-empty");
            Customer {
                customer_id: String::new(),
                anchor,
                members,
            }
        })
        .collect();
    out.sort_by(|x, y| {
        c.identities[x.anchor as usize]
            .id
            .cmp(&c.identities[y.anchor as usize].id)
    });
    let mut used: std::collections::HashSet<String> = Default::default();
    for cust in &mut out {
        let anchor = &c.identities[cust.anchor as usize].id;
        let mut id = customer_id(anchor);
        let mut k = 1;
        while !used.insert(id.clone()) {
            id = customer_id(&format!("{anchor}#{k}"));
            k += 1;
        }
        cust.customer_id = id;
    }
    out
}

/// A UTC millisecond datetime column.
pub(crate) fn datetime(name: &str, values: Vec<Option<i64>>) -> Result<Column> {
    let ca: Int64Chunked = values.into_iter().collect();
    Ok(ca
        .with_name(name.into())
        .into_datetime(TimeUnit::Milliseconds, Some(TimeZone::UTC))
        .into_column())
}

/// A list-of-strings column.
pub(crate) fn list_column(name: &str, values: &[Vec<&str>]) -> Column {
    let total: usize = values.iter().map(Vec::len).sum();
    let mut b = ListStringChunkedBuilder::new(name.into(), values.len(), total.max(1));
    for v in values {
        b.append_values_iter(v.iter().copied());
    }
    b.finish().into_column()
}

/// A string column.
pub(crate) fn str_column<'a>(name: &str, values: impl Iterator<Item = Option<&'a str>>) -> Column {
    let ca: StringChunked = values.collect();
    ca.with_name(name.into()).into_column()
}

/// The three frames, in the documented column order.
pub fn frames(c: &Collected, customers: &[Customer], links: &[Link]) -> Result<(DataFrame, DataFrame, DataFrame)> {
    let n = c.identities.len();
    let mut owner = vec![0usize; n];
    for (ci, cust) in customers.iter().enumerate() {
        for &m in &cust.members {
            owner[m as usize] = ci;
        }
    }
    // identities.parquet
    let ids = &c.identities;
    let channels: Vec<Vec<&str>> = ids
        .iter()
        .map(|i| i.channels().iter().map(|c| c.as_str()).collect())
        .collect();
    let interactions: UInt64Chunked = ids.iter().map(|i| Some(i.interactions)).collect();
    let identities = DataFrame::new(
        n,
        vec![
            str_column("identity_id", ids.iter().map(|i| Some(i.id.as_str()))),
            str_column("kind", ids.iter().map(|i| Some(i.kind.as_str()))),
            str_column("value", ids.iter().map(|i| Some(i.value.as_str()))),
            list_column("channels", &channels),
            str_column("display_name", ids.iter().map(|i| i.display_name())),
            interactions.with_name("interactions".into()).into_column(),
            str_column("guard", ids.iter().map(|i| i.guard.map(|g| g.as_str()))),
            str_column(
                "customer_id",
                (0..n).map(|ix| Some(customers[owner[ix]].customer_id.as_str())),
            ),
        ],
    )?;
    // customers.parquet
    let mut display = Vec::with_capacity(customers.len());
    let mut phone = Vec::with_capacity(customers.len());
    let mut email = Vec::with_capacity(customers.len());
    let mut count: Vec<Option<u32>> = Vec::new();
    let mut inter: Vec<Option<u64>> = Vec::new();
    let mut chans: Vec<Vec<&str>> = Vec::new();
    let mut first: Vec<Option<i64>> = Vec::new();
    let mut last: Vec<Option<i64>> = Vec::new();
    for cust in customers {
        let members: Vec<&super::identities::Identity> = cust.members.iter().map(|&m| &ids[m as usize]).collect();
        let best = |kind: HandleKind| {
            members
                .iter()
                .filter(|i| i.kind == kind && i.guard.is_none())
                .max_by(|a, b| a.interactions.cmp(&b.interactions).then(b.id.cmp(&a.id)))
                .or_else(|| members.iter().filter(|i| i.kind == kind).max_by_key(|i| i.interactions))
                .map(|i| i.value.as_str())
        };
        phone.push(best(HandleKind::Phone));
        email.push(best(HandleKind::Email));
        // The name people see: a saved/display name of the member with the most interactions.
        let name = members
            .iter()
            .filter(|i| i.guard.is_none())
            .filter_map(|i| {
                i.display_name()
                    .filter(|n| !crate::normalize::phone::looks_like_phone(n))
                    .map(|n| (i.interactions, n))
            })
            .max_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(a.1)))
            .map(|x| x.1);
        display.push(name);
        count.push(Some(members.len() as u32));
        inter.push(Some(members.iter().map(|i| i.interactions).sum()));
        let mut bits = 0u16;
        for i in &members {
            bits |= i.channels;
        }
        chans.push(
            CHANNELS
                .iter()
                .enumerate()
                .filter(|(k, _)| bits & (1 << k) != 0)
                .map(|(_, c)| c.as_str())
                .collect(),
        );
        first.push(members.iter().filter_map(|i| i.first_ts).min());
        last.push(members.iter().filter_map(|i| i.last_ts).max());
    }
    let count: UInt32Chunked = count.into_iter().collect();
    let inter: UInt64Chunked = inter.into_iter().collect();
    let customers_df = DataFrame::new(
        customers.len(),
        vec![
            str_column("customer_id", customers.iter().map(|c| Some(c.customer_id.as_str()))),
            str_column("display_name", display.into_iter()),
            str_column("primary_phone", phone.into_iter()),
            str_column("primary_email", email.into_iter()),
            count.with_name("identities".into()).into_column(),
            inter.with_name("interactions".into()).into_column(),
            list_column("channels", &chans),
            datetime("first_ts", first)?,
            datetime("last_ts", last)?,
        ],
    )?;
    // links.parquet
    let score: Float64Chunked = links.iter().map(|l| Some(l.score)).collect();
    let accepted: BooleanChunked = links.iter().map(|l| Some(l.accepted)).collect();
    let links_df = DataFrame::new(
        links.len(),
        vec![
            str_column("identity_a", links.iter().map(|l| Some(ids[l.a as usize].id.as_str()))),
            str_column("identity_b", links.iter().map(|l| Some(ids[l.b as usize].id.as_str()))),
            str_column("rule", links.iter().map(|l| Some(l.rule.as_str()))),
            score.with_name("score".into()).into_column(),
            str_column("evidence", links.iter().map(|l| Some(l.evidence.as_str()))),
            accepted.with_name("accepted".into()).into_column(),
        ],
    )?;
    Ok((customers_df, identities, links_df))
}

/// Writes the three files: all to temporary names first (synced), then renamed into place.
pub fn write_all(root: &Path, files: [(&str, &mut DataFrame); 3]) -> Result<()> {
    let mut staged = Vec::new();
    for (name, df) in files {
        let tmp = root.join(format!(".{name}.tmp-write"));
        let file = File::create(&tmp).with_context(|| format!("cannot write {}", tmp.display()))?;
        ParquetWriter::new(&file)
            .with_compression(ParquetCompression::Lz4Raw)
            .finish(df)
            .map_err(anyhow::Error::from)
            .with_context(|| format!("cannot write {}", tmp.display()))?;
        file.sync_all()?;
        staged.push((tmp, root.join(name)));
    }
    for (tmp, dest) in staged {
        std::fs::rename(&tmp, &dest).with_context(|| format!("cannot replace {}", dest.display()))?;
    }
    if let Ok(d) = File::open(root) {
        let _ = d.sync_all();
    }
    Ok(())
}

/// Reads one of the matcher's files from the workspace root.
pub fn read(root: &Path, name: &str) -> Result<DataFrame> {
    let path = root.join(name);
    let file = File::open(&path).with_context(|| format!("cannot open {}", path.display()))?;
    ParquetReader::new(file)
        .finish()
        .map_err(anyhow::Error::from)
        .with_context(|| format!("cannot read {}", path.display()))
}
