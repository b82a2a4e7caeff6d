//! `omnitrail explain`: finds a customer from an id, phone, email or name, and shows each
//! of its identities with the chain of accepted links that joined it to the anchor.

use super::names::fold;
use super::output::{self, CUSTOMERS_FILE, IDENTITIES_FILE, LINKS_FILE};
use crate::normalize::phone::{looks_like_phone, to_e164, Region};
use crate::workspace::Workspace;
use anyhow::Result;
use polars::prelude::*;
use serde::Serialize;
use std::collections::{HashMap, VecDeque};

/// One link as `explain` shows it.
#[derive(Debug, Clone, Serialize)]
pub struct LinkView {
    pub identity_a: String,
    pub identity_b: String,
    pub rule: String,
    pub score: f64,
    pub evidence: String,
    pub accepted: bool,
}

/// One identity of the customer, with the links from the anchor to it.
#[derive(Debug, Clone, Serialize)]
pub struct IdentityView {
    pub identity_id: String,
    pub kind: String,
    pub value: String,
    pub channels: Vec<String>,
    pub display_name: Option<String>,
    pub interactions: u64,
    pub guard: Option<String>,
    /// Links from the anchor to this identity, in order (empty for the anchor).
    pub chain: Vec<LinkView>,
}

/// Why these identities are one customer.
#[derive(Debug, Clone, Serialize)]
pub struct Explanation {
    pub customer_id: String,
    pub display_name: Option<String>,
    pub primary_phone: Option<String>,
    pub primary_email: Option<String>,
    pub interactions: u64,
    pub channels: Vec<String>,
    /// The identity the customer id derives from.
    pub anchor: String,
    pub identities: Vec<IdentityView>,
    /// Links that touch the customer but were not accepted (strongest first, at most 20).
    pub not_joined: Vec<LinkView>,
}

/// What a query resolved to.
#[derive(Debug)]
pub enum Resolution {
    Found(Box<Explanation>),
    NotFound,
    /// A name several customers carry: their ids and display names.
    Ambiguous(Vec<(String, Option<String>)>),
}

fn strs(df: &DataFrame, name: &str) -> Result<Vec<Option<String>>> {
    Ok(df.column(name)?.str()?.iter().map(|s| s.map(str::to_string)).collect())
}

fn lists(df: &DataFrame, name: &str) -> Result<Vec<Vec<String>>> {
    let col = df.column(name)?.list()?.clone();
    Ok((0..col.len())
        .map(|i| {
            col.get_as_series(i)
                .and_then(|s| s.str().ok().map(|ca| ca.iter().flatten().map(str::to_string).collect()))
                .unwrap_or_default()
        })
        .collect())
}

fn kind_rank(kind: &str) -> u8 {
    match kind {
        "phone" => 0,
        "email" => 1,
        _ => 2,
    }
}

/// Resolves `query` and explains the customer it names.
pub fn explain(ws: &Workspace, query: &str, region: Region) -> Result<Resolution> {
    let root = ws.root();
    let ids = output::read(root, IDENTITIES_FILE)?;
    let id_col = strs(&ids, "identity_id")?;
    let kind_col = strs(&ids, "kind")?;
    let value_col = strs(&ids, "value")?;
    let dn_col = strs(&ids, "display_name")?;
    let guard_col = strs(&ids, "guard")?;
    let cust_col = strs(&ids, "customer_id")?;
    let chan_col = lists(&ids, "channels")?;
    let inter_col: Vec<u64> = ids
        .column("interactions")?
        .u64()?
        .iter()
        .map(|v| v.unwrap_or(0))
        .collect();
    let q = query.trim();
    let wanted_identity: Option<String> =
        if q.starts_with("phone:") || q.starts_with("email:") || q.starts_with("name:") {
            Some(q.to_string())
        } else if q.contains('@') {
            Some(format!("email:{}", q.to_lowercase()))
        } else if looks_like_phone(q) {
            to_e164(q, region)
                .or_else(|| to_e164(q, Region::none()))
                .map(|p| format!("phone:{p}"))
        } else {
            None
        };
    let mut candidates: Vec<String> = Vec::new();
    if q.starts_with("C-") {
        if cust_col.iter().flatten().any(|c| c == q) {
            candidates.push(q.to_string());
        }
    } else if let Some(w) = &wanted_identity {
        if let Some(i) = id_col.iter().position(|x| x.as_deref() == Some(w.as_str())) {
            candidates.extend(cust_col[i].clone());
        }
    } else {
        let fq = fold(q);
        for i in 0..id_col.len() {
            let hit = [value_col[i].as_deref(), dn_col[i].as_deref()]
                .into_iter()
                .flatten()
                .any(|v| fold(v) == fq);
            if hit {
                if let Some(c) = &cust_col[i] {
                    if !candidates.contains(c) {
                        candidates.push(c.clone());
                    }
                }
            }
        }
    }
    let customers = output::read(root, CUSTOMERS_FILE)?;
    let c_ids = strs(&customers, "customer_id")?;
    let c_names = strs(&customers, "display_name")?;
    match candidates.len() {
        0 => return Ok(Resolution::NotFound),
        1 => {}
        _ => {
            candidates.sort();
            let names: HashMap<&str, Option<String>> = c_ids
                .iter()
                .zip(&c_names)
                .filter_map(|(i, n)| i.as_deref().map(|i| (i, n.clone())))
                .collect();
            return Ok(Resolution::Ambiguous(
                candidates
                    .into_iter()
                    .map(|c| {
                        let n = names.get(c.as_str()).cloned().flatten();
                        (c, n)
                    })
                    .collect(),
            ));
        }
    }
    let customer_id = candidates.remove(0);
    let row = c_ids
        .iter()
        .position(|c| c.as_deref() == Some(customer_id.as_str()))
        .unwrap_or(0);
    let members: Vec<usize> = (0..id_col.len())
        .filter(|&i| cust_col[i].as_deref() == Some(customer_id.as_str()))
        .collect();
    let anchor = *members
        .iter()
        .min_by_key(|&&i| {
            (
                kind_rank(kind_col[i].as_deref().unwrap_or("")),
                guard_col[i].is_some(),
                id_col[i].clone().unwrap_or_default(),
            )
        })
        .ok_or_else(|| anyhow::anyhow!("customer {customer_id} has no identities"))?;
    let member_ids: HashMap<String, usize> = members
        .iter()
        .map(|&i| (id_col[i].clone().unwrap_or_default(), i))
        .collect();
    // Links touching the customer.
    let links = output::read(root, LINKS_FILE)?;
    let la = strs(&links, "identity_a")?;
    let lb = strs(&links, "identity_b")?;
    let rule = strs(&links, "rule")?;
    let evidence = strs(&links, "evidence")?;
    let score: Vec<f64> = links.column("score")?.f64()?.iter().map(|v| v.unwrap_or(0.0)).collect();
    let accepted: Vec<bool> = links
        .column("accepted")?
        .bool()?
        .iter()
        .map(|v| v.unwrap_or(false))
        .collect();
    let mut inside: Vec<LinkView> = Vec::new();
    let mut not_joined: Vec<LinkView> = Vec::new();
    for k in 0..la.len() {
        let (a, b) = (la[k].clone().unwrap_or_default(), lb[k].clone().unwrap_or_default());
        let (ina, inb) = (member_ids.contains_key(&a), member_ids.contains_key(&b));
        if !(ina || inb) {
            continue;
        }
        let view = LinkView {
            identity_a: a,
            identity_b: b,
            rule: rule[k].clone().unwrap_or_default(),
            score: score[k],
            evidence: evidence[k].clone().unwrap_or_default(),
            accepted: accepted[k],
        };
        if accepted[k] && ina && inb {
            inside.push(view);
        } else {
            not_joined.push(view);
        }
    }
    // Breadth-first from the anchor over accepted links, strongest first: each identity's chain.
    inside.sort_by(|x, y| y.score.total_cmp(&x.score));
    let mut adj: HashMap<&str, Vec<usize>> = HashMap::new();
    for (k, l) in inside.iter().enumerate() {
        adj.entry(l.identity_a.as_str()).or_default().push(k);
        adj.entry(l.identity_b.as_str()).or_default().push(k);
    }
    let anchor_id = id_col[anchor].clone().unwrap_or_default();
    let mut via: HashMap<String, Option<(String, usize)>> = HashMap::new();
    via.insert(anchor_id.clone(), None);
    let mut queue = VecDeque::from([anchor_id.clone()]);
    let mut bfs_order = vec![anchor_id.clone()];
    while let Some(v) = queue.pop_front() {
        for &k in adj.get(v.as_str()).into_iter().flatten() {
            let l = &inside[k];
            let w = if l.identity_a == v {
                &l.identity_b
            } else {
                &l.identity_a
            };
            if !via.contains_key(w) {
                via.insert(w.clone(), Some((v.clone(), k)));
                queue.push_back(w.clone());
                bfs_order.push(w.clone());
            }
        }
    }
    let mut identities = Vec::new();
    let mut ordered: Vec<usize> = bfs_order.iter().filter_map(|id| member_ids.get(id).copied()).collect();
    for &m in &members {
        if !ordered.contains(&m) {
            ordered.push(m);
        }
    }
    for i in ordered {
        let id = id_col[i].clone().unwrap_or_default();
        let mut chain = Vec::new();
        let mut cur = id.clone();
        while let Some(Some((prev, k))) = via.get(&cur) {
            chain.push(inside[*k].clone());
            cur = prev.clone();
        }
        chain.reverse();
        identities.push(IdentityView {
            identity_id: id,
            kind: kind_col[i].clone().unwrap_or_default(),
            value: value_col[i].clone().unwrap_or_default(),
            channels: chan_col[i].clone(),
            display_name: dn_col[i].clone(),
            interactions: inter_col[i],
            guard: guard_col[i].clone(),
            chain,
        });
    }
    not_joined.sort_by(|x, y| y.score.total_cmp(&x.score));
    not_joined.truncate(20);
    let c_phone = strs(&customers, "primary_phone")?;
    let c_email = strs(&customers, "primary_email")?;
    let c_chan = lists(&customers, "channels")?;
    let c_inter: Vec<u64> = customers
        .column("interactions")?
        .u64()?
        .iter()
        .map(|v| v.unwrap_or(0))
        .collect();
    Ok(Resolution::Found(Box::new(Explanation {
        customer_id,
        display_name: c_names[row].clone(),
        primary_phone: c_phone[row].clone(),
        primary_email: c_email[row].clone(),
        interactions: c_inter[row],
        channels: c_chan[row].clone(),
        anchor: anchor_id,
        identities,
        not_joined,
    })))
}

/// True when the matcher's files exist in the workspace.
pub fn matched(ws: &Workspace) -> bool {
    super::has_run(ws)
}
