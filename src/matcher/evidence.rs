//! Evidence rules: each finds pairs of identities that may be one person and records a
//! [`Link`] with a rule name, a score in 0–1 and a human-readable reason.
//! Weights are documented in docs/matcher.md; change both together.

use super::blocking;
use super::identities::{Collected, Guard};
use super::names::{local_part_matches, name_from_local_part, FoldedName, NameAgreement};
use super::Trace;
use crate::model::HandleKind;
use crate::normalize::phone::looks_like_phone;
use rayon::prelude::*;
use std::collections::{BTreeMap, HashMap, HashSet};

/// A contact row lists both identities.
pub const CONTACT: f64 = 0.97;
/// The customer wrote the other identity's number or address (inbound message, signature).
pub const MENTION: f64 = 0.95;
/// `ann+flowers@mail.example` and `ann@mail.example`: one mailbox.
pub const PLUS_ADDRESS: f64 = 0.95;
/// Two identities wrote the same number or address, which is not itself an identity.
pub const SHARED_MENTION: f64 = 0.9;
/// A contact from a phone's address book (vCard) whose full name is exactly the name a
/// WhatsApp chat shows (the saved name), and no other phone-book card is written the same.
pub const CONTACT_NAME: f64 = 0.9;
/// The same, when several cards carry the name or it is spelled differently: too ambiguous
/// to link at the default threshold.
pub const CONTACT_NAME_AMBIGUOUS: f64 = 0.5;
/// Differently spelled names shared by more (contact, chat) pairs than this are not compared.
pub const MAX_CONTACT_NAME_PAIRS: usize = 16;
/// Name agreement alone, by kind; never reaches the default threshold without corroboration.
pub const NAME_EXACT: f64 = 0.55;
pub const NAME_INITIAL: f64 = 0.45;
pub const NAME_SIMILAR: f64 = 0.45;
/// A name read from an email address's local part agreeing with the other side's name.
pub const NAME_FROM_ADDRESS: f64 = 0.45;
pub const NAME_GIVEN_ONLY: f64 = 0.3;
/// Corroboration added to a name agreement.
pub const WITH_ORDER: f64 = 0.35;
/// Active within [`NEAR_MS`] on different channels, and the only such agreeing pair for both.
pub const WITH_NEAR: f64 = 0.3;
/// Active within the episode window on different channels, the only such agreeing pair.
pub const WITH_WINDOW: f64 = 0.15;
/// Either of the above when either side met other agreeing names in the window.
pub const WITH_WINDOW_AMBIGUOUS: f64 = 0.05;
pub const WITH_LOCAL_PART: f64 = 0.05;
/// "Just now on another channel": the gap that counts as near.
pub const NEAR_MS: i64 = 2 * 3600 * 1000;
/// Both wrote the same order number inbound, names unknown or not agreeing: an order number
/// is one customer's, but a weak link (a gift's recipient may quote it), so it never bridges.
pub const ORDER_ONLY: f64 = 0.8;
/// Added to [`ORDER_ONLY`] when the two were active within the episode window.
pub const ORDER_WINDOW: f64 = 0.1;
/// Name-based links scoring below both this and the threshold are not recorded.
pub const LINK_FLOOR: f64 = 0.65;
/// Name links between namesakes of a common name (a big block) are kept only from this score.
pub const COMMON_NAME_MIN: f64 = 0.6;
/// Highest score a name-based link can reach: always below [`super::cluster::STRONG`], so a
/// cluster never hangs on a single name-based link between two groups.
pub const NAME_CAP: f64 = 0.89;
/// Episode window for "active close in time on another channel".
pub const WINDOW_MS: i64 = 72 * 3600 * 1000;
/// An order number written by more identities than this says nothing about who is who.
pub const MAX_ORDER_IDENTITIES: usize = 4;
/// A number or address written by more identities than this is not a person's (a shop's, a courier's).
pub const MAX_SHARED_MENTION_IDENTITIES: usize = 3;

/// One piece of evidence between two identities.
#[derive(Debug, Clone)]
pub struct Link {
    pub a: u32,
    pub b: u32,
    pub rule: String,
    pub score: f64,
    pub evidence: String,
    pub accepted: bool,
}

impl Link {
    fn new(a: u32, b: u32, rule: &str, score: f64, evidence: String) -> Link {
        let (a, b) = if a <= b { (a, b) } else { (b, a) };
        Link {
            a,
            b,
            rule: rule.to_string(),
            score,
            evidence,
            accepted: false,
        }
    }
}

/// Every rule over the collected identities.
pub fn find_links(c: &Collected, threshold: f64) -> Vec<Link> {
    let mut links = Vec::new();
    contact_links(c, &mut links);
    let n_contact = links.len();
    plus_address_links(c, &mut links);
    mention_links(c, &mut links);
    let n_mention = links.len();
    let orders = order_index(c);
    name_links(c, &orders, threshold.min(LINK_FLOOR), &mut links);
    Trace::new().phase(format_args!(
        "links: contact {n_contact}, +mention {n_mention}, total {}",
        links.len()
    ));
    // Some rules walk hash maps: a fixed order makes links.parquet the same on every run.
    links.par_sort_unstable_by(|x, y| {
        (x.a, x.b, &x.rule, &x.evidence)
            .cmp(&(y.a, y.b, &y.rule, &y.evidence))
            .then(x.score.total_cmp(&y.score))
    });
    links
}

fn contact_links(c: &Collected, links: &mut Vec<Link>) {
    let mut by_row: HashMap<u32, Vec<&str>> = HashMap::new();
    for m in c.mentions.iter().filter(|m| m.contact) {
        by_row.entry(m.row).or_default().push(&m.value);
    }
    // Contact names → name identities (WhatsApp saved names), by sorted folded key.
    let mut names_by_key: HashMap<String, Vec<u32>> = HashMap::new();
    for (ix, ident) in c.identities.iter().enumerate() {
        if ident.kind == HandleKind::Name && !ident.id.starts_with("name:contact:") {
            if let Some(f) = FoldedName::new(&ident.value) {
                names_by_key.entry(f.sorted_key()).or_default().push(ix as u32);
            }
        }
    }
    let mut contacts_by_key: HashMap<String, HashSet<u32>> = HashMap::new();
    // Phone-book cards by their full name exactly as written: WhatsApp shows that string.
    let mut cards_by_literal: HashMap<&str, HashSet<u32>> = HashMap::new();
    let is_phone_book = |row: u32| {
        c.source_file(row)
            .is_some_and(|f| f.to_ascii_lowercase().ends_with(".vcf"))
    };
    let mut phone_book_rows = Vec::new();
    for (ident, row, name) in &c.contact_rows {
        let Some(n) = name.as_deref() else { continue };
        if let Some(f) = FoldedName::new(n) {
            contacts_by_key.entry(f.sorted_key()).or_default().insert(*ident);
        }
        // WhatsApp shows the name saved in the business phone's address book: a vCard export
        // of that phone names the chat exactly. A CRM's spelling of a name says no more than
        // any other display name, and the name rule already compares the row's identity by
        // the names it goes by (the CRM name included).
        if is_phone_book(*row) {
            cards_by_literal.entry(n.trim()).or_default().insert(*ident);
            phone_book_rows.push((*ident, *row, n));
        }
    }
    for (ident, row, _) in &c.contact_rows {
        let place = c.describe_row(*row);
        if let Some(values) = by_row.get(row) {
            for v in values {
                if let Some(&other) = c.index.get(*v) {
                    if other != *ident {
                        links.push(Link::new(
                            *ident,
                            other,
                            "contact",
                            CONTACT,
                            format!("same contact record: {place}"),
                        ));
                    }
                }
            }
        }
    }
    for (ident, row, name) in phone_book_rows {
        let Some(f) = FoldedName::new(name) else { continue };
        let place = c.describe_row(row);
        let literal = name.trim();
        let key = f.sorted_key();
        let shown = names_by_key.get(&key).map_or(&[][..], Vec::as_slice);
        // Only the card whose name is written exactly as the chat shows it can be the saved
        // name; other spellings folding to the same key are other people's cards or CRM rows,
        // and pairing all of them would grow with the square of the namesakes.
        let folded_pairs = contacts_by_key.get(&key).map_or(1, HashSet::len) * shown.len();
        for &other in shown {
            if other == ident {
                continue;
            }
            let is_literal = c.identities[other as usize].value == literal;
            let cards = cards_by_literal.get(literal).map_or(1, HashSet::len);
            let (score, why) = if is_literal && cards == 1 {
                (
                    CONTACT_NAME,
                    format!("the only phone-book card named {name:?}, the name the chat shows: {place}"),
                )
            } else if is_literal {
                (
                    CONTACT_NAME_AMBIGUOUS,
                    format!("contact name {name:?} matches, but {cards} phone-book cards carry it: {place}"),
                )
            } else if folded_pairs <= MAX_CONTACT_NAME_PAIRS {
                (
                    CONTACT_NAME_AMBIGUOUS,
                    format!("contact name {name:?} folds to the chat name but is not written the same: {place}"),
                )
            } else {
                continue;
            };
            links.push(Link::new(ident, other, "contact_name", score, why));
        }
    }
}

fn plus_address_links(c: &Collected, links: &mut Vec<Link>) {
    for (ix, ident) in c.identities.iter().enumerate() {
        if ident.kind != HandleKind::Email {
            continue;
        }
        let Some((local, domain)) = ident.value.split_once('@') else {
            continue;
        };
        let Some((base, _)) = local.split_once('+') else {
            continue;
        };
        if let Some(&other) = c.index.get(&format!("email:{base}@{domain}")) {
            links.push(Link::new(
                ix as u32,
                other,
                "plus_address",
                PLUS_ADDRESS,
                format!("{} is a +tag of {base}@{domain}", ident.value),
            ));
        }
    }
}

fn mention_links(c: &Collected, links: &mut Vec<Link>) {
    // value → (identity, row) of every inbound writer, for values that are not identities.
    let mut unowned: HashMap<&str, Vec<(u32, u32)>> = HashMap::new();
    let mut seen: HashSet<(u32, u32)> = HashSet::new();
    for m in c.mentions.iter().filter(|m| m.inbound && !m.contact) {
        if !(m.value.starts_with("phone:") || m.value.starts_with("email:")) {
            continue;
        }
        match c.index.get(m.value.as_str()) {
            Some(&other) if other != m.identity => {
                if seen.insert((m.identity.min(other), m.identity.max(other))) {
                    let what = m.value.split_once(':').map_or("", |x| x.0);
                    links.push(Link::new(
                        m.identity,
                        other,
                        "mention",
                        MENTION,
                        format!(
                            "{} wrote {what} {} in {}",
                            c.identities[m.identity as usize].id,
                            m.value,
                            c.describe_row(m.row)
                        ),
                    ));
                }
            }
            Some(_) => {}
            None => unowned.entry(m.value.as_str()).or_default().push((m.identity, m.row)),
        }
    }
    for (value, mut writers) in unowned {
        writers.sort_unstable();
        writers.dedup_by_key(|w| w.0);
        if writers.len() < 2 || writers.len() > MAX_SHARED_MENTION_IDENTITIES {
            continue;
        }
        for i in 0..writers.len() {
            for j in i + 1..writers.len() {
                let ((a, ra), (b, rb)) = (writers[i], writers[j]);
                links.push(Link::new(
                    a,
                    b,
                    "shared_mention",
                    SHARED_MENTION,
                    format!("both wrote {value}: {} and {}", c.describe_row(ra), c.describe_row(rb)),
                ));
            }
        }
    }
}

/// Order numbers → (identity, row, inbound) of the interactions that carry them, for orders
/// few enough identities mention to be telling.
/// (identity, row, inbound) of one interaction that mentions an order.
type OrderUse = (u32, u32, bool);

pub struct OrderIndex {
    by_identity: HashMap<u32, Vec<(u32, u32, bool)>>,
    orders: Vec<(String, Vec<OrderUse>)>,
}

fn order_index(c: &Collected) -> OrderIndex {
    // In value order: the order cited in a link's evidence must not depend on hashing.
    let mut by_value: BTreeMap<&str, Vec<OrderUse>> = BTreeMap::new();
    for m in c
        .mentions
        .iter()
        .filter(|m| m.value.starts_with("order:") && !m.contact)
    {
        by_value
            .entry(&m.value)
            .or_default()
            .push((m.identity, m.row, m.inbound));
    }
    let mut orders = Vec::new();
    let mut by_identity: HashMap<u32, Vec<(u32, u32, bool)>> = HashMap::new();
    for (value, mut uses) in by_value {
        // One entry per identity; prefer the customer's own (inbound) mention.
        uses.sort_by_key(|u| (u.0, !u.2, u.1));
        uses.dedup_by_key(|u| u.0);
        if uses.len() < 2 || uses.len() > MAX_ORDER_IDENTITIES {
            continue;
        }
        let oi = orders.len() as u32;
        for u in &uses {
            by_identity.entry(u.0).or_default().push((oi, u.1, u.2));
        }
        orders.push((value.to_string(), uses));
    }
    OrderIndex { by_identity, orders }
}

impl OrderIndex {
    /// A shared order between two identities: (order, row in a, inbound a, row in b, inbound b).
    fn shared(&self, a: u32, b: u32) -> Option<(u32, u32, bool, u32, bool)> {
        let ua = self.by_identity.get(&a)?;
        let ub = self.by_identity.get(&b)?;
        let mut best = None;
        for &(oa, ra, ia) in ua {
            for &(ob, rb, ib) in ub {
                if oa == ob {
                    let cand = (oa, ra, ia, rb, ib);
                    if ia && ib {
                        return Some(cand);
                    }
                    best.get_or_insert(cand);
                }
            }
        }
        best
    }
}

/// Closest pair of activities on different channels: (gap, ts a, channel a, ts b, channel b).
fn closest_cross_channel(a: &[(i64, u16)], b: &[(i64, u16)]) -> Option<(i64, i64, i64)> {
    let (mut i, mut j) = (0, 0);
    let mut best: Option<(i64, i64, i64)> = None;
    while i < a.len() && j < b.len() {
        let (ta, ca) = a[i];
        let (tb, cb) = b[j];
        if ca != cb {
            let gap = (ta - tb).abs();
            if best.is_none_or(|x| gap < x.0) {
                best = Some((gap, ta, tb));
            }
        }
        if ta <= tb {
            i += 1;
        } else {
            j += 1;
        }
    }
    // The walk skips same-channel neighbours; check the remaining nearest cross pairs cheaply.
    if best.is_none() && a.len() * b.len() <= 4096 {
        for &(ta, ca) in a {
            for &(tb, cb) in b {
                if ca != cb && best.is_none_or(|x| (ta - tb).abs() < x.0) {
                    best = Some(((ta - tb).abs(), ta, tb));
                }
            }
        }
    }
    best
}

fn human_gap(ms: i64) -> String {
    let s = ms / 1000;
    if s < 3600 {
        format!("{} min {} s", s / 60, s % 60)
    } else {
        format!("{} h {} min", s / 3600, (s % 3600) / 60)
    }
}

/// The names an identity goes by: display names seen with it (most frequent first) and, for
/// an address, the name its local part spells.
pub fn names_of(c: &Collected, ix: u32) -> Vec<(FoldedName, bool)> {
    let ident = &c.identities[ix as usize];
    let mut out: Vec<(FoldedName, bool)> = Vec::new();
    let mut names: Vec<&(String, u32)> = ident.names.iter().collect();
    names.sort_by_key(|x| std::cmp::Reverse(x.1));
    let candidates = std::iter::once(ident.value.as_str())
        .filter(|_| ident.kind == HandleKind::Name)
        .chain(names.iter().map(|(n, _)| n.as_str()))
        .filter(|n| !looks_like_phone(n) && !super::guards::is_withheld_name(n));
    for n in candidates.take(3) {
        if let Some(f) = FoldedName::new(n) {
            if !out.iter().any(|(o, _)| *o == f) {
                out.push((f, false));
            }
        }
    }
    if ident.kind == HandleKind::Email {
        if let Some(f) = name_from_local_part(&ident.value) {
            if !out.iter().any(|(o, _)| *o == f) {
                out.push((f, true));
            }
        }
    }
    out
}

fn name_links(c: &Collected, orders: &OrderIndex, floor: f64, links: &mut Vec<Link>) {
    let names: Vec<Vec<(FoldedName, bool)>> = (0..c.identities.len() as u32).map(|ix| names_of(c, ix)).collect();
    let usable = |ix: u32| {
        !matches!(
            c.identities[ix as usize].guard,
            Some(Guard::Business) | Some(Guard::Withheld)
        )
    };
    // Each name's blocking keys, computed once: they make the blocks, and the size of a
    // sorted-token block (`k:`) is how many identities go by that name: near in time
    // corroborates only a name that nobody else has. Per identity and name, the largest.
    let keys = blocking::name_keys(&names);
    let blocks = blocking::blocks(&keys);
    let namesakes: Vec<Vec<u32>> = keys
        .iter()
        .map(|per_identity| {
            per_identity
                .iter()
                .map(|ks| {
                    ks.iter()
                        .filter(|k| k.starts_with("k:"))
                        .map(|k| blocks[k.as_str()].len() as u32)
                        .max()
                        .unwrap_or(0)
                })
                .collect()
        })
        .collect();
    let trace = Trace::new();
    let (mut pairs, common) = blocking::candidate_pairs(c, &blocks);
    drop(blocks);
    drop(keys);
    trace.phase(format_args!(
        "blocking: {} small-block pairs, {} common-name pairs",
        pairs.len(),
        common.len()
    ));
    let common_only: HashSet<(u32, u32)> = common.difference(&pairs).copied().collect();
    pairs.extend(common);
    // Identities that wrote the same order number are compared even when their names do not block together.
    for (_, uses) in &orders.orders {
        for i in 0..uses.len() {
            for j in i + 1..uses.len() {
                let (a, b) = (uses[i].0, uses[j].0);
                pairs.insert((a.min(b), a.max(b)));
            }
        }
    }
    let mut pairs: Vec<(u32, u32)> = pairs
        .into_iter()
        .filter(|&(a, b)| a != b && usable(a) && usable(b))
        .collect();
    pairs.sort_unstable();
    // Score first, describe later: most candidates fall below the floor and never need words.
    // Pairs are independent: scored on every core, collected in pair order.
    let mut scored: Vec<Candidate> = pairs
        .into_par_iter()
        .filter_map(|(a, b)| score_pair(c, orders, &names, &namesakes, a, b))
        .collect();
    trace.phase(format_args!("scored {} candidates", scored.len()));
    // Activity close in time only says something when nobody else of that name was active
    // then: count, per identity, the agreeing names it met within the window.
    let mut met = vec![0u32; c.identities.len()];
    for k in &scored {
        if k.window.is_some() && k.name.is_some() && k.order.is_none() {
            met[k.a as usize] += 1;
            met[k.b as usize] += 1;
        }
    }
    for k in &mut scored {
        if k.window.is_some() && k.name.is_some() && k.order.is_none() {
            k.rivals = met[k.a as usize].max(met[k.b as usize]) - 1;
            if k.rivals > 0 {
                k.score -= if k.near { WITH_NEAR } else { WITH_WINDOW } - WITH_WINDOW_AMBIGUOUS;
            }
        }
        k.score = k.score.min(NAME_CAP);
    }
    // Below the floor a link is not worth a row: at a million identities there are
    // millions of namesake pairs with nothing else in common.
    scored.retain(|k| !(k.score < floor || (k.score < COMMON_NAME_MIN && common_only.contains(&(k.a, k.b)))));
    links.par_extend(scored.into_par_iter().map(|k| describe(c, orders, &names, k)));
}

/// A scored candidate pair, before its evidence is put into words.
struct Candidate {
    a: u32,
    b: u32,
    score: f64,
    /// Name agreement: (what, index of a's name, index of b's name).
    name: Option<(&'static str, usize, usize)>,
    /// Shared order: (order, row in a, row in b).
    order: Option<(u32, u32, u32)>,
    /// Closest cross-channel activity within the window: (gap, ts a, ts b).
    window: Option<(i64, i64, i64)>,
    near: bool,
    /// Near in time, but other identities go by the name (how many).
    crowded: Option<u32>,
    local: bool,
    /// Other agreeing pairs active in the same window.
    rivals: u32,
}

/// The name-and-corroboration rule for one candidate pair.
fn score_pair(
    c: &Collected,
    orders: &OrderIndex,
    names: &[Vec<(FoldedName, bool)>],
    namesakes: &[Vec<u32>],
    a: u32,
    b: u32,
) -> Option<Candidate> {
    let (ia, ib) = (&c.identities[a as usize], &c.identities[b as usize]);
    // Best name agreement over the names each goes by.
    let mut best: Option<(f64, &'static str, usize, usize)> = None;
    for (xa, (na, from_addr_a)) in names[a as usize].iter().enumerate() {
        for (xb, (nb, from_addr_b)) in names[b as usize].iter().enumerate() {
            if *from_addr_a && *from_addr_b {
                continue;
            }
            let Some(agree) = na.agreement(nb) else { continue };
            let (score, what) = if *from_addr_a || *from_addr_b {
                (NAME_FROM_ADDRESS, "name from address")
            } else {
                match agree {
                    NameAgreement::Exact => (NAME_EXACT, "same name"),
                    NameAgreement::Initial => (NAME_INITIAL, "initial and family name"),
                    NameAgreement::Similar(_) => (NAME_SIMILAR, "similar name"),
                    NameAgreement::GivenOnly => (NAME_GIVEN_ONLY, "same given name"),
                }
            };
            if best.is_none_or(|x| score > x.0) {
                best = Some((score, what, xa, xb));
            }
        }
    }
    let order = orders.shared(a, b);
    let window = closest_cross_channel(&ia.activity, &ib.activity).filter(|w| w.0 <= WINDOW_MS);
    let mut k = Candidate {
        a,
        b,
        score: 0.0,
        name: None,
        order: order.map(|(o, ra, _, rb, _)| (o, ra, rb)),
        window,
        near: false,
        crowded: None,
        local: false,
        rivals: 0,
    };
    match best {
        Some((s, what, xa, xb)) => {
            k.score = s;
            k.name = Some((what, xa, xb));
            let (na, nb) = (&names[a as usize][xa].0, &names[b as usize][xb].0);
            k.local = s != NAME_FROM_ADDRESS
                && [(ia, nb), (ib, na)]
                    .into_iter()
                    .any(|(ident, n)| ident.kind == HandleKind::Email && local_part_matches(&ident.value, n));
            if order.is_some() {
                k.score += WITH_ORDER;
            }
            if let Some((gap, _, _)) = window {
                let others = namesakes[a as usize][xa]
                    .max(namesakes[b as usize][xb])
                    .saturating_sub(2);
                // "Near" counts only for a name no other identity goes by: with dozens of
                // namesakes (40 given × 70 family names over 100 000 customers) one of them is
                // often active within two hours of someone else (gen data: 22 % right).
                k.near = gap <= NEAR_MS && others == 0;
                if gap <= NEAR_MS && !k.near {
                    k.crowded = Some(others);
                }
                k.score += if k.near { WITH_NEAR } else { WITH_WINDOW };
            }
            if k.local {
                k.score += WITH_LOCAL_PART;
            }
        }
        None => {
            let (_, _, ia_in, _, ib_in) = order?;
            if !(ia_in && ib_in) {
                return None;
            }
            // The order number is the customer's own: the window only needs to confirm it.
            k.score = ORDER_ONLY + if window.is_some() { ORDER_WINDOW } else { 0.0 };
        }
    }
    Some(k)
}

/// Puts a scored candidate's evidence into words (rule name and evidence text).
fn describe(c: &Collected, orders: &OrderIndex, names: &[Vec<(FoldedName, bool)>], k: Candidate) -> Link {
    let mut parts: Vec<String> = Vec::new();
    let mut rule = Vec::new();
    let window_text = |(gap, ta, tb): (i64, i64, i64)| {
        format!(
            "active {} apart on different channels ({} / {})",
            human_gap(gap),
            crate::import::ms_to_rfc3339(ta),
            crate::import::ms_to_rfc3339(tb)
        )
    };
    match k.name {
        Some((what, xa, xb)) => {
            let (na, nb) = (&names[k.a as usize][xa].0, &names[k.b as usize][xb].0);
            rule.push("name");
            parts.push(format!("{what}: {:?} / {:?}", na.tokens.join(" "), nb.tokens.join(" ")));
            if let Some((o, ra, rb)) = k.order {
                rule.push("order");
                parts.push(format!(
                    "{} in {} and in {}",
                    orders.orders[o as usize].0,
                    c.describe_row(ra),
                    c.describe_row(rb)
                ));
            }
            if let Some(w) = k.window {
                rule.push(if k.rivals > 0 {
                    "window_ambiguous"
                } else if k.near {
                    "near"
                } else {
                    "window"
                });
                parts.push(window_text(w));
                if let Some(others) = k.crowded {
                    parts.push(format!("{others} other identities go by that name"));
                }
            }
            if k.local {
                rule.push("local_part");
                parts.push("the address's local part spells the name".into());
            }
            if k.rivals > 0 {
                parts.push(format!(
                    "({} other identity pair(s) with an agreeing name active in the same window)",
                    k.rivals
                ));
            }
        }
        None => {
            let (o, ra, rb) = k.order.expect("an order-only candidate has an order");
            rule.push("order");
            parts.push(format!(
                "both wrote {}: {} and {}",
                orders.orders[o as usize].0,
                c.describe_row(ra),
                c.describe_row(rb)
            ));
            if let Some(w) = k.window {
                rule.push("window");
                parts.push(window_text(w));
            }
        }
    }
    Link::new(k.a, k.b, &rule.join("+"), k.score, parts.join("; "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn closest_activity_on_another_channel() {
        let a = [(0, 1), (10_000, 1)];
        let b = [(12_000, 2), (50_000, 1)];
        assert_eq!(closest_cross_channel(&a, &b), Some((2_000, 10_000, 12_000)));
        assert_eq!(closest_cross_channel(&[(0, 1)], &[(5, 1)]), None);
    }
}
