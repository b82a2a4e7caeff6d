//! Matcher benchmark: runs `omnitrail match` on a workspace and scores its customers
//! against ground truth (pairwise precision / recall / F1 over identity pairs), with the
//! match's wall time and peak RSS (VmHWM of the child process). See docs/benchmarks.md.
//!
//! Usage:
//!   bench-matcher --workspace WS --truth GEN/truth/identities.csv [--threshold T]
//!       a workspace that already holds an imported `omnitrail gen` dataset;
//!   bench-matcher --synth N --workspace WS [--threshold T]
//!       writes about N identities of synthetic customers straight into WS (interaction
//!       batches through the workspace API, with their own truth in WS/truth-identities.csv)
//!       and then benchmarks on them.
//! `--omnitrail PATH` picks the binary (default: `omnitrail` beside this one).

use anyhow::{bail, Context, Result};
use omnitrail::benchkit::measure;
use omnitrail::import::pipeline::{interaction_id, stage_source, NoProgress, SourcePlan, SourceResult};
use omnitrail::matcher::cluster::UnionFind;
use omnitrail::matcher::output::{self, IDENTITIES_FILE, LINKS_FILE};
use omnitrail::model::{CallStatus, Channel, Direction, HandleKind, Interaction, Kind};
use omnitrail::workspace::Workspace;
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

const USAGE: &str = "usage: bench-matcher --workspace WS --truth GEN/truth/identities.csv [--threshold T]
       bench-matcher --synth N --workspace WS [--threshold T]";

fn main() -> Result<()> {
    omnitrail::benchkit::exit_on_help(USAGE);
    let args: Vec<String> = std::env::args().skip(1).collect();
    let get = |flag: &str| {
        args.iter()
            .position(|a| a == flag)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    let ws = PathBuf::from(get("--workspace").context("--workspace WS is required")?);
    let threshold = get("--threshold").unwrap_or_else(|| "0.8".into());
    let omnitrail = get("--omnitrail").map(PathBuf::from).unwrap_or_else(|| {
        std::env::current_exe()
            .ok()
            .and_then(|p| p.parent().map(|d| d.join("omnitrail")))
            .unwrap_or_else(|| PathBuf::from("omnitrail"))
    });
    let truth = match (get("--synth"), get("--truth")) {
        (Some(n), _) => {
            let n: u64 = n.parse().context("--synth N: a number of identities")?;
            let started = Instant::now();
            let truth = synth::write(&ws, n)?;
            eprintln!("synthesised {n} identities in {:.1} s", started.elapsed().as_secs_f64());
            truth
        }
        (None, Some(t)) => PathBuf::from(t),
        _ => bail!("give --synth N or --truth FILE"),
    };
    let (elapsed, peak, ok) = run_measured(&omnitrail, &ws, &threshold)?;
    if !ok {
        bail!("omnitrail match failed");
    }
    let score = score(&ws, &truth)?;
    if let Some(n) = get("--show-errors") {
        show_errors(&ws, &truth, n.parse().unwrap_or(20))?;
    }
    println!(
        "{}",
        serde_json::to_string_pretty(&serde_json::json!({
            "threshold": threshold.parse::<f64>().unwrap_or(0.8),
            "match_seconds": (elapsed.as_secs_f64() * 100.0).round() / 100.0,
            "peak_rss_mb": peak / (1 << 20),
            "identities": score.identities,
            "identities_scored": score.scored,
            "customers": score.customers,
            "truth_pairs": score.truth_pairs,
            "predicted_pairs": score.predicted_pairs,
            "true_positive_pairs": score.tp,
            "precision": score.precision(),
            "recall": score.recall(),
            "f1": score.f1(),
        }))?
    );
    Ok(())
}

/// Runs `omnitrail match` and samples the child's VmHWM.
fn run_measured(bin: &Path, ws: &Path, threshold: &str) -> Result<(Duration, u64, bool)> {
    let run = measure(Command::new(bin).arg("--workspace").arg(ws).args([
        "--quiet",
        "--json",
        "match",
        "--threshold",
        threshold,
    ]))
    .with_context(|| format!("cannot run {}", bin.display()))?;
    Ok((run.elapsed, run.peak_rss, run.success))
}

/// A string column, nulls as "".
fn strings(df: &polars::prelude::DataFrame, column: &str) -> Result<Vec<String>> {
    Ok(df
        .column(column)?
        .str()?
        .iter()
        .map(|v| v.unwrap_or("").to_string())
        .collect())
}

/// Accepted links between identities of different true customers, counted by rule, with
/// examples (`--show-errors N`): what to fix first.
fn show_errors(ws: &Path, truth_csv: &Path, examples: usize) -> Result<()> {
    let mut truth: HashMap<String, Vec<String>> = HashMap::new();
    for rec in csv::Reader::from_path(truth_csv)?.records() {
        let rec = rec?;
        truth.entry(rec[0].to_string()).or_default().push(rec[1].to_string());
    }
    let df = output::read(ws, LINKS_FILE)?;
    let s = |c: &str| strings(&df, c);
    let (a, b, rule, ev) = (s("identity_a")?, s("identity_b")?, s("rule")?, s("evidence")?);
    let acc: Vec<bool> = df
        .column("accepted")?
        .bool()?
        .iter()
        .map(|v| v.unwrap_or(false))
        .collect();
    let mut by_rule: HashMap<&str, (u64, u64, u64, u64)> = HashMap::new();
    let mut shown = 0;
    for i in 0..a.len() {
        let (Some(ta), Some(tb)) = (truth.get(&a[i]), truth.get(&b[i])) else {
            continue;
        };
        let same = ta.iter().any(|c| tb.contains(c));
        let e = by_rule.entry(rule[i].as_str()).or_default();
        if acc[i] && !same {
            e.0 += 1;
            if shown < examples {
                shown += 1;
                eprintln!("FALSE {} {} — {}  [{}] {}", rule[i], a[i], b[i], ta.join("|"), ev[i]);
            }
        }
        if !acc[i] && same {
            e.1 += 1;
        }
        if acc[i] && same {
            e.2 += 1;
        }
        if !acc[i] && !same {
            e.3 += 1;
        }
    }
    let mut rules: Vec<_> = by_rule.into_iter().collect();
    rules.sort_by(|x, y| x.0.cmp(y.0));
    for (r, (fp, fnn, tp, tn)) in rules {
        let share = (tp + fnn) as f64 / (tp + fnn + fp + tn).max(1) as f64;
        eprintln!(
            "rule {r}: {tp} true and {fp} false links accepted, {fnn} true and {tn} false not accepted ({:.1} % of its candidates true)",
            share * 100.0
        );
    }
    show_missed(ws, &truth, &a, &b, &rule, &df, examples)
}

/// The recall an oracle would reach by accepting exactly the true links among the candidates
/// (all of them, and only those of each score band): the ceiling the evidence allows.
fn oracle_recall(
    truth: &HashMap<String, Vec<String>>,
    predicted: &HashMap<&str, (&str, &str)>,
    a: &[String],
    b: &[String],
    rule: &[String],
    scores: &[f64],
) {
    let ids: Vec<&str> = truth
        .keys()
        .map(|s| s.as_str())
        .filter(|s| predicted.contains_key(s))
        .collect();
    let index: HashMap<&str, u32> = ids.iter().enumerate().map(|(i, s)| (*s, i as u32)).collect();
    let mut truth_pairs = 0u64;
    let mut by_cust: HashMap<&str, Vec<u32>> = HashMap::new();
    for (i, id) in ids.iter().enumerate() {
        for c in &truth[*id] {
            by_cust.entry(c.as_str()).or_default().push(i as u32);
        }
    }
    for m in by_cust.values() {
        let n = m.len() as u64;
        truth_pairs += n * n.saturating_sub(1) / 2;
    }
    for (label, min) in [("all true candidates", 0.0), ("true candidates scoring >= 0.9", 0.9)] {
        let mut sets = UnionFind::new(ids.len());
        for i in 0..a.len() {
            if scores[i] < min || rule[i] == "never_link" {
                continue;
            }
            let (Some(&x), Some(&y)) = (index.get(a[i].as_str()), index.get(b[i].as_str())) else {
                continue;
            };
            if truth[a[i].as_str()].iter().any(|c| truth[b[i].as_str()].contains(c)) {
                sets.union(x, y);
            }
        }
        let mut tp = 0u64;
        for m in by_cust.values() {
            for i in 0..m.len() {
                for j in i + 1..m.len() {
                    tp += u64::from(sets.find(m[i]) == sets.find(m[j]));
                }
            }
        }
        eprintln!(
            "oracle recall ({label}): {:.4} ({tp} of {truth_pairs} true pairs)",
            tp as f64 / truth_pairs.max(1) as f64
        );
    }
}

/// True pairs the matcher did not join, counted by the kinds of the two identities and by
/// the best link considered between them (none: no evidence was even a candidate), with
/// examples of split customers: what recall is lost to.
fn show_missed(
    ws: &Path,
    truth: &HashMap<String, Vec<String>>,
    a: &[String],
    b: &[String],
    rule: &[String],
    links: &polars::prelude::DataFrame,
    examples: usize,
) -> Result<()> {
    let df = output::read(ws, IDENTITIES_FILE)?;
    let col = |c: &str| strings(&df, c);
    let (ids, custs, names) = (col("identity_id")?, col("customer_id")?, col("display_name")?);
    let predicted: HashMap<&str, (&str, &str)> = ids
        .iter()
        .zip(custs.iter().zip(names.iter()))
        .map(|(i, (c, n))| (i.as_str(), (c.as_str(), n.as_str())))
        .collect();
    let scores: Vec<f64> = links.column("score")?.f64()?.iter().map(|v| v.unwrap_or(0.0)).collect();
    let mut best: HashMap<(&str, &str), (f64, &str)> = HashMap::new();
    for i in 0..a.len() {
        let key = if a[i] < b[i] {
            (a[i].as_str(), b[i].as_str())
        } else {
            (b[i].as_str(), a[i].as_str())
        };
        let e = best.entry(key).or_insert((-1.0, ""));
        if scores[i] > e.0 {
            *e = (scores[i], rule[i].as_str());
        }
    }
    oracle_recall(truth, &predicted, a, b, rule, &scores);
    let mut members: HashMap<&str, Vec<&str>> = HashMap::new();
    for (id, cs) in truth {
        if predicted.contains_key(id.as_str()) {
            for c in cs {
                members.entry(c.as_str()).or_default().push(id.as_str());
            }
        }
    }
    let kind = |id: &str| id.split(':').next().unwrap_or("").to_string();
    let mut by_kinds: HashMap<(String, String), u64> = HashMap::new();
    let mut by_best: HashMap<String, u64> = HashMap::new();
    let mut custs_sorted: Vec<_> = members.into_iter().collect();
    custs_sorted.sort();
    let mut shown = 0;
    for (c, mut ids) in custs_sorted {
        ids.sort_unstable();
        let mut split = false;
        for i in 0..ids.len() {
            for j in i + 1..ids.len() {
                if predicted[ids[i]].0 == predicted[ids[j]].0 {
                    continue;
                }
                split = true;
                let (mut ka, mut kb) = (kind(ids[i]), kind(ids[j]));
                if ka > kb {
                    std::mem::swap(&mut ka, &mut kb);
                }
                *by_kinds.entry((ka, kb)).or_default() += 1;
                let r = best
                    .get(&(ids[i], ids[j]))
                    .map(|(_, r)| r.to_string())
                    .unwrap_or_else(|| "none".into());
                *by_best.entry(r).or_default() += 1;
            }
        }
        if split && shown < examples {
            shown += 1;
            eprintln!("MISSED {c}:");
            for id in &ids {
                let (pc, name) = predicted[id];
                eprintln!("    {id}  -> {pc} ({name})");
            }
        }
    }
    let mut v: Vec<_> = by_kinds.into_iter().collect();
    v.sort_by_key(|y| std::cmp::Reverse(y.1));
    for ((ka, kb), n) in v {
        eprintln!("missed pairs {ka}—{kb}: {n}");
    }
    let mut v: Vec<_> = by_best.into_iter().collect();
    v.sort_by_key(|y| std::cmp::Reverse(y.1));
    for (r, n) in v {
        eprintln!("missed pairs whose best direct link is {r}: {n}");
    }
    Ok(())
}

struct Score {
    identities: u64,
    scored: u64,
    customers: u64,
    truth_pairs: u64,
    predicted_pairs: u64,
    tp: u64,
}

impl Score {
    fn precision(&self) -> f64 {
        if self.predicted_pairs == 0 {
            1.0
        } else {
            self.tp as f64 / self.predicted_pairs as f64
        }
    }
    fn recall(&self) -> f64 {
        if self.truth_pairs == 0 {
            1.0
        } else {
            self.tp as f64 / self.truth_pairs as f64
        }
    }
    fn f1(&self) -> f64 {
        let (p, r) = (self.precision(), self.recall());
        if p + r == 0.0 {
            0.0
        } else {
            2.0 * p * r / (p + r)
        }
    }
}

/// Pairwise scores over identities present in both the truth and the workspace.
/// A truth identity used by several customers (a shared phone) is in each of them.
fn score(ws: &Path, truth_csv: &Path) -> Result<Score> {
    let df = output::read(ws, IDENTITIES_FILE)?;
    let (ids, custs) = (strings(&df, "identity_id")?, strings(&df, "customer_id")?);
    let index: HashMap<&str, u32> = ids.iter().enumerate().map(|(i, s)| (s.as_str(), i as u32)).collect();
    let mut truth: HashMap<String, Vec<u32>> = HashMap::new();
    let mut in_truth: HashSet<u32> = HashSet::new();
    let mut reader =
        csv::Reader::from_path(truth_csv).with_context(|| format!("cannot read {}", truth_csv.display()))?;
    for rec in reader.records() {
        let rec = rec?;
        if let Some(&ix) = index.get(&rec[0]) {
            truth.entry(rec[1].to_string()).or_default().push(ix);
            in_truth.insert(ix);
        }
    }
    let mut truth_pairs: HashSet<(u32, u32)> = HashSet::new();
    for members in truth.values_mut() {
        members.sort_unstable();
        members.dedup();
        for i in 0..members.len() {
            for j in i + 1..members.len() {
                truth_pairs.insert((members[i], members[j]));
            }
        }
    }
    let mut predicted: HashMap<&str, Vec<u32>> = HashMap::new();
    for (i, c) in custs.iter().enumerate() {
        if in_truth.contains(&(i as u32)) {
            predicted.entry(c.as_str()).or_default().push(i as u32);
        }
    }
    let customers = custs.iter().collect::<HashSet<_>>().len() as u64;
    let (mut pred_pairs, mut tp) = (0u64, 0u64);
    for members in predicted.values_mut() {
        members.sort_unstable();
        let n = members.len() as u64;
        pred_pairs += n * (n.saturating_sub(1)) / 2;
        for i in 0..members.len() {
            for j in i + 1..members.len() {
                tp += u64::from(truth_pairs.contains(&(members[i], members[j])));
            }
        }
    }
    Ok(Score {
        identities: ids.len() as u64,
        scored: in_truth.len() as u64,
        customers,
        truth_pairs: truth_pairs.len() as u64,
        predicted_pairs: pred_pairs,
        tp,
    })
}

/// Synthetic customers written straight into a workspace, shaped like `omnitrail gen`'s:
/// nickname/initial/typo/swapped name variants, saved WhatsApp names (unique, tagged when
/// taken), e-mail signatures with the mobile, orders repeated across channels within an
/// episode, CRM contact rows for half of them, and households sharing a landline.
mod synth {
    use super::*;

    use omnitrail::benchkit::SplitMix64 as Rng;

    const GIVEN: &[(&str, &[&str])] = &[
        ("Robert", &["Bob", "Rob"]),
        ("William", &["Bill", "Will"]),
        ("Elizabeth", &["Liz", "Beth"]),
        ("Margaret", &["Maggie", "Peggy"]),
        ("Katherine", &["Kate", "Katie"]),
        ("James", &["Jim", "Jamie"]),
        ("Michael", &["Mike"]),
        ("Alexander", &["Alex", "Sasha"]),
        ("Mohammed", &["Muhammad", "Mo"]),
        ("Sarah", &["Sara"]),
        ("Jennifer", &["Jen"]),
        ("Thomas", &["Tom"]),
        ("Christopher", &["Chris"]),
        ("Rebecca", &["Becky"]),
        ("Daniel", &["Dan"]),
        ("Olga", &[]),
        ("Zoë", &["Zoe"]),
        ("José", &["Jose"]),
        ("Łukasz", &["Lukasz"]),
        ("Siân", &["Sian"]),
        ("Priyanka", &["Priya"]),
        ("Hannah", &[]),
        ("Edward", &["Ed", "Ted"]),
        ("Victoria", &["Vicky"]),
        ("Grace", &[]),
        ("Aisha", &[]),
        ("Wei", &[]),
        ("Niamh", &[]),
        ("Joseph", &["Joe"]),
        ("Dmitri", &["Dima"]),
    ];
    const FAMILY: &[&str] = &[
        "Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Johnson", "Davies", "Patel", "Robinson", "Wright",
        "Thompson", "Evans", "Walker", "White", "Roberts", "Green", "Hall", "Wood", "Jackson", "Clarke", "Khan",
        "Singh", "Ahmed", "Murphy", "Kelly", "Nguyen", "Chen", "Kowalski", "Novak", "Ivanova", "Müller", "García",
        "Rossi", "Okafor", "Adeyemi", "O'Brien", "Lewis", "Hughes", "Edwards",
    ];
    const DOMAINS: &[&str] = &[
        "mail.example",
        "post.example",
        "inbox.example",
        "web.example",
        "box.example",
    ];
    const TAGS: &[&str] = &["Leeds", "work", "wedding", "florist", "neighbour", "gym", "school"];

    fn typo(s: &str, rng: &mut Rng) -> String {
        let mut c: Vec<char> = s.chars().collect();
        if c.len() < 4 {
            return s.to_string();
        }
        let i = 1 + rng.below(c.len() as u64 - 3) as usize;
        if c[i].is_alphabetic() && c[i + 1].is_alphabetic() {
            c.swap(i, i + 1);
        }
        c.into_iter().collect()
    }

    fn variant(given: &(&str, &[&str]), family: &str, rng: &mut Rng) -> String {
        let g = if !given.1.is_empty() && rng.chance(0.3) {
            *rng.pick(given.1)
        } else {
            given.0
        };
        match rng.below(10) {
            0 => format!("{family} {g}"),
            1 => format!("{}, {g}", family.to_uppercase()),
            2 => format!("{}. {family}", g.chars().next().unwrap()),
            3 => typo(&format!("{g} {family}"), rng),
            4 => format!("{g} {family}").to_lowercase(),
            _ => format!("{g} {family}"),
        }
    }

    fn ascii(s: &str) -> String {
        omnitrail::matcher::names::fold(s).replace(' ', "")
    }

    struct Person {
        id: String,
        given: &'static (&'static str, &'static [&'static str]),
        family: &'static str,
        mobile: String,
        landline: Option<String>,
        email: Option<String>,
        wa: Option<(HandleKind, String)>,
        channels: Vec<Channel>,
    }

    struct Sink {
        rows: Vec<Interaction>,
        truth: Vec<(String, String)>,
    }

    fn row(
        channel: Channel,
        dir: Direction,
        ts: i64,
        handle: (HandleKind, &str),
        name: Option<String>,
        mentions: Vec<String>,
    ) -> Interaction {
        let kind = match channel {
            Channel::Call => Kind::Call,
            Channel::Contact => Kind::Contact,
            _ => Kind::Message,
        };
        let mut r = Interaction::new("", channel, dir, kind, ts);
        r.customer_handle = Some(handle.1.to_string());
        r.customer_handle_kind = Some(handle.0);
        r.customer_name = name;
        r.mentions = mentions;
        if channel == Channel::Call {
            r.status = Some(CallStatus::Answered);
        }
        if dir == Direction::Outbound {
            r.agent = Some(match channel {
                Channel::Email => "grace@bloomandstem.example".into(),
                Channel::Whatsapp => "Bloom & Stem".into(),
                _ => "SIP/201".into(),
            });
        }
        r
    }

    fn handle_of(p: &Person, ch: Channel, rng: &mut Rng) -> Option<((HandleKind, String), Option<String>)> {
        match ch {
            Channel::Whatsapp => p.wa.clone().map(|h| {
                let name = h.1.clone();
                (h, Some(name))
            }),
            Channel::Email => p
                .email
                .clone()
                .map(|e| ((HandleKind::Email, e), Some(variant(p.given, p.family, rng)))),
            _ => {
                let (num, name) = match &p.landline {
                    Some(l) if rng.chance(0.4) => (
                        l.clone(),
                        Some(format!(
                            "{} {}",
                            p.family.to_uppercase(),
                            p.given.0.chars().next().unwrap()
                        )),
                    ),
                    _ => (p.mobile.clone(), None),
                };
                Some(((HandleKind::Phone, num), name))
            }
        }
    }

    fn person_events(p: &Person, k: u64, rng: &mut Rng, out: &mut Sink) {
        const DAY: i64 = 86_400_000;
        let t0 = 1_706_745_600_000; // 2024-02-01
        let mut used: HashSet<String> = HashSet::new();
        let episodes = 1 + rng.below(3);
        for e in 0..episodes {
            let mut t = t0 + rng.below(300) as i64 * DAY + (8 + rng.below(10) as i64) * 3_600_000;
            let order = rng.chance(0.7).then(|| format!("BS-{}", 100_000 + k * 8 + e));
            let mut ch = p.channels[0];
            for step in 0..3 {
                let Some((h, name)) = handle_of(p, ch, rng) else { break };
                let mut mentions = Vec::new();
                if let Some(o) = order.as_ref().filter(|_| ch != Channel::Call && rng.chance(0.75)) {
                    mentions.push(format!("order:{o}"));
                }
                if ch == Channel::Email && rng.chance(0.3) {
                    mentions.push(format!("phone:{}", p.mobile));
                }
                let hid = omnitrail::identity::identity_id(h.0, &h.1, ch);
                if used.insert(hid.clone()) {
                    out.truth.push((hid, p.id.clone()));
                }
                out.rows
                    .push(row(ch, Direction::Inbound, t, (h.0, &h.1), name.clone(), mentions));
                if rng.chance(0.6) {
                    out.rows
                        .push(row(ch, Direction::Outbound, t + 3_600_000, (h.0, &h.1), name, vec![]));
                    break;
                }
                // Nobody answered: the customer tries another of their channels within a day.
                let others: Vec<Channel> = p.channels.iter().copied().filter(|c| *c != ch).collect();
                if others.is_empty() || step == 2 {
                    break;
                }
                ch = *rng.pick(&others);
                t += (1 + rng.below(24) as i64) * 3_600_000;
            }
        }
    }

    /// Writes about `target` identities into a new workspace at `ws`; returns the truth CSV path.
    pub fn write(ws_root: &Path, target: u64) -> Result<PathBuf> {
        let _ = std::fs::remove_dir_all(ws_root);
        let mut ws = Workspace::open(ws_root)?;
        let mut rng = Rng(7);
        let mut wa_names: HashSet<String> = HashSet::new();
        let mut emails: HashSet<String> = HashSet::new();
        let mut sink = Sink {
            rows: Vec::new(),
            truth: Vec::new(),
        };
        let mut contacts: Vec<Interaction> = Vec::new();
        let mut k = 0u64;
        let mut household: Option<(String, &'static str)> = None;
        let mut identities = 0u64;
        while identities < target {
            let given = rng.pick(GIVEN);
            let mut family = *rng.pick(FAMILY);
            let mut landline = None;
            if let Some((l, f)) = household.take() {
                family = f;
                landline = Some(l);
            } else if k.is_multiple_of(2) && rng.chance(0.06) {
                let l = format!("+441{:09}", 100_000_000 + k);
                landline = Some(l.clone());
                household = Some((l, family));
            }
            let mobile = format!("+4474{:08}", 70_000_000 + k);
            let n = match rng.below(100) {
                0..55 => 1,
                55..85 => 2,
                _ => 3,
            };
            let mut all = [Channel::Whatsapp, Channel::Email, Channel::Call];
            let first = rng.below(3) as usize;
            all.swap(0, first);
            let channels = all[..n].to_vec();
            let email = (channels.contains(&Channel::Email) || rng.chance(0.6)).then(|| {
                let (g, f) = (ascii(given.0), ascii(family));
                let local = match rng.below(4) {
                    0 => format!("{g}.{f}"),
                    1 => format!("{}{f}", &g[..1]),
                    2 => format!("{f}.{g}"),
                    _ => format!("{g}{}", rng.below(999)),
                };
                let mut e = format!("{local}@{}", rng.pick(DOMAINS));
                let mut m = 0;
                while !emails.insert(e.clone()) {
                    m += 1;
                    e = format!("{local}{k}{m}@{}", rng.pick(DOMAINS));
                }
                e
            });
            let wa = channels.contains(&Channel::Whatsapp).then(|| {
                if rng.chance(0.15) {
                    (HandleKind::Phone, mobile.clone())
                } else {
                    let base = variant(given, family, &mut rng);
                    let mut name = base.clone();
                    let mut m = 0;
                    while !wa_names.insert(name.to_lowercase()) {
                        name = if m < TAGS.len() {
                            format!("{base} {}", TAGS[(k as usize + m) % TAGS.len()])
                        } else {
                            format!("{base} {m}")
                        };
                        m += 1;
                    }
                    (HandleKind::Name, name)
                }
            });
            let p = Person {
                id: format!("cust-{:07}", k + 1),
                given,
                family,
                mobile,
                landline,
                email,
                wa,
                channels,
            };
            let before = sink.truth.len();
            person_events(&p, k, &mut rng, &mut sink);
            if rng.chance(0.5) {
                // CRM row: landline first when there is one, the mobile, the address.
                let mut mentions = Vec::new();
                let land = p.landline.clone().filter(|_| rng.chance(0.6));
                let handle = land
                    .clone()
                    .map(|l| (HandleKind::Phone, l))
                    .unwrap_or((HandleKind::Phone, p.mobile.clone()));
                mentions.extend(land.iter().map(|l| format!("phone:{l}")));
                mentions.push(format!("phone:{}", p.mobile));
                if let Some(e) = p.email.as_ref().filter(|_| rng.chance(0.85)) {
                    mentions.push(format!("email:{e}"));
                }
                for m in &mentions {
                    let id = m.clone();
                    if !sink.truth.iter().skip(before).any(|(i, _)| *i == id) {
                        sink.truth.push((id, p.id.clone()));
                    }
                }
                let name = format!(
                    "{} {}",
                    if rng.chance(0.2) && !given.1.is_empty() {
                        given.1[0]
                    } else {
                        given.0
                    },
                    family
                );
                contacts.push(row(
                    Channel::Contact,
                    Direction::System,
                    1_735_689_600_000,
                    (handle.0, &handle.1),
                    Some(name),
                    mentions,
                ));
            }
            identities += (sink.truth.len() - before) as u64;
            k += 1;
        }
        // Truth: one row per (identity, customer); a shared landline has one per household member.
        let truth_path = ws_root.join("truth-identities.csv");
        let mut w = csv::Writer::from_path(&truth_path)?;
        w.write_record(["identity_id", "customer_id"])?;
        let mut seen = HashSet::new();
        for (i, c) in &sink.truth {
            if seen.insert((i.clone(), c.clone())) {
                w.write_record([i, c])?;
            }
        }
        w.flush()?;
        let mut rows = std::mem::take(&mut sink.rows);
        rows.sort_by_key(|r| r.ts);
        for (name, channel, rows) in [
            ("synth-interactions", "mixed", rows),
            ("synth-contacts.csv", "contact", contacts),
        ] {
            write_source(&mut ws, name, channel, rows)?;
        }
        Ok(truth_path)
    }

    fn write_source(ws: &mut Workspace, file: &str, channel: &str, rows: Vec<Interaction>) -> Result<()> {
        let hash = blake3::hash(file.as_bytes()).to_hex().to_string();
        let mut seen = HashSet::new();
        let mut txn = ws.begin();
        let plan = SourcePlan {
            id_prefix: "sy",
            display: file.to_string(),
            size: 0,
            content_hash: hash.clone(),
            format: "synthetic".into(),
            channel: channel.into(),
            options: serde_json::json!({"business_names": ["Bloom & Stem"], "business_domains": ["bloomandstem.example"]}),
            notes: vec![],
        };
        stage_source(&mut txn, &mut seen, false, plan, &NoProgress, |sink| {
            let mut result = SourceResult::default();
            for (i, mut r) in rows.into_iter().enumerate() {
                result.counts.read += 1;
                r.source_id = sink.source_id.to_string();
                r.source_file = file.to_string();
                r.source_ref = format!("line:{}", i + 1);
                r.seq = i as u64;
                r.interaction_id = interaction_id(&hash, i as u64);
                sink.push(&mut result, r)?;
            }
            Ok(result)
        })
        .map_err(|e| anyhow::anyhow!("{e}"))?;
        txn.commit()?;
        Ok(())
    }
}
