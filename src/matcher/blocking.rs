//! Blocking: which identity pairs are worth comparing by name. Every name gives a few keys
//! (sorted tokens; initial + other token, both orders); only identities sharing a key are
//! compared. A big block (a common name) is compared only between identities active within
//! the episode window of each other, nearest first, so the work stays near-linear.

use super::evidence::WINDOW_MS;
use super::identities::Collected;
use super::names::FoldedName;
use std::collections::{HashMap, HashSet};

/// Blocks up to this size are compared all-pairs.
pub const SMALL_BLOCK: usize = 32;
/// In a bigger block, each identity is compared with at most this many time neighbours.
pub const NEIGHBOURS: usize = 24;

/// Candidate pairs `(a, b)` with `a < b`.
pub fn candidate_pairs(c: &Collected, names: &[Vec<(FoldedName, bool)>]) -> HashSet<(u32, u32)> {
    let mut blocks: HashMap<String, Vec<u32>> = HashMap::new();
    for (ix, ns) in names.iter().enumerate() {
        for (n, _) in ns {
            for key in n.blocking_keys() {
                let members = blocks.entry(key).or_default();
                if members.last() != Some(&(ix as u32)) {
                    members.push(ix as u32);
                }
            }
        }
    }
    let mut pairs = HashSet::new();
    for (_, mut members) in blocks {
        members.sort_unstable();
        members.dedup();
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
        // Common name: only identities whose activity overlaps within the window can be
        // corroborated by time; order numbers bring their own pairs (see evidence).
        let span = |ix: u32| {
            let ident = &c.identities[ix as usize];
            match (ident.activity.first(), ident.activity.last()) {
                (Some(f), Some(l)) => Some((f.0, l.0)),
                _ => None,
            }
        };
        let mut timed: Vec<(i64, i64, u32)> = members
            .iter()
            .filter_map(|&m| span(m).map(|(f, l)| (f, l, m)))
            .collect();
        timed.sort_unstable();
        for i in 0..timed.len() {
            let (_, last_i, a) = timed[i];
            for &(first_j, _, b) in timed[i + 1..].iter().take(NEIGHBOURS) {
                if first_j > last_i + WINDOW_MS {
                    break;
                }
                pairs.insert((a.min(b), a.max(b)));
            }
        }
    }
    pairs
}
