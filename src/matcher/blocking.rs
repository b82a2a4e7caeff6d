//! Blocking: which identity pairs are worth comparing by name. Every name gives a few keys
//! (sorted tokens; initial + other token, both orders); only identities sharing a key are
//! compared. A big block (a common name) is compared only between identities active within
//! the same or neighbouring 72-hour bucket, so the work stays near-linear.

use super::evidence::WINDOW_MS;
use super::identities::Collected;
use super::names::FoldedName;
use std::collections::{HashMap, HashSet};

/// Blocks up to this size are compared all-pairs.
pub const SMALL_BLOCK: usize = 32;
/// In a bigger block, each activity is compared with at most this many neighbours in its bucket.
pub const NEIGHBOURS: usize = 8;

/// Identity pairs `(a, b)` with `a < b`.
pub type Pairs = HashSet<(u32, u32)>;

/// The blocking keys of every name of every identity (identity → name → keys).
pub fn name_keys(names: &[Vec<(FoldedName, bool)>]) -> Vec<Vec<Vec<String>>> {
    names
        .iter()
        .map(|ns| ns.iter().map(|(n, _)| n.blocking_keys()).collect())
        .collect()
}

/// The identities sharing each key, sorted, each once.
pub fn blocks(keys: &[Vec<Vec<String>>]) -> HashMap<&str, Vec<u32>> {
    let mut blocks: HashMap<&str, Vec<u32>> = HashMap::new();
    for (ix, per_name) in keys.iter().enumerate() {
        for key in per_name.iter().flatten() {
            let members = blocks.entry(key.as_str()).or_default();
            if members.last() != Some(&(ix as u32)) {
                members.push(ix as u32);
            }
        }
    }
    for members in blocks.values_mut() {
        members.sort_unstable();
        members.dedup();
    }
    blocks
}

/// Candidate pairs: from small blocks, and from common-name blocks.
pub fn candidate_pairs(c: &Collected, blocks: &HashMap<&str, Vec<u32>>) -> (Pairs, Pairs) {
    let mut pairs = HashSet::new();
    let mut common = HashSet::new();
    for (key, members) in blocks {
        if members.len() < 2 {
            continue;
        }
        if members.len() <= SMALL_BLOCK {
            for i in 0..members.len() {
                for j in i + 1..members.len() {
                    pairs.insert((members[i], members[j]));
                }
            }
            continue;
        }
        if !key.starts_with("k:") {
            // A common initial or given name: too many to compare by time; namesakes spelt
            // this way are found through order numbers (their own pairs) or the full-name key.
            continue;
        }
        // Common name: without an order number (which brings its own pairs) only activity
        // close in time can corroborate it, so compare identities active in the same or the
        // next 72-hour bucket on any of their activities (rivals in the window count too).
        let mut buckets: HashMap<i64, Vec<u32>> = HashMap::new();
        for &m in members {
            let ident = &c.identities[m as usize];
            let mut last = i64::MIN;
            for &(ts, _) in ident.activity.iter().take(64) {
                let bucket = ts.div_euclid(WINDOW_MS);
                if bucket != last {
                    buckets.entry(bucket).or_default().push(m);
                    last = bucket;
                }
            }
        }
        for (bucket, here) in &buckets {
            let next = buckets.get(&(bucket + 1));
            for (i, &a) in here.iter().enumerate() {
                let after = here[i + 1..].iter().chain(next.into_iter().flatten());
                for &b in after.take(NEIGHBOURS) {
                    if a != b {
                        common.insert((a.min(b), a.max(b)));
                    }
                }
            }
        }
    }
    (pairs, common)
}
