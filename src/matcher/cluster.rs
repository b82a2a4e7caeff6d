//! Clustering: union-find over the links at or above the threshold, strongest first, with
//! the guards applied; then a cluster held together by one weak link between two groups is
//! split; then overrides, which are always obeyed.

use super::evidence::Link;
use super::identities::{Guard, Identity};
use super::overrides::{Override, OverrideKind};
use std::collections::{HashMap, HashSet, VecDeque};

/// Links scoring below this are "weak": a cluster may not hang on a single one of them.
pub const STRONG: f64 = 0.9;

/// Disjoint sets over identity indices.
pub struct UnionFind {
    parent: Vec<u32>,
    size: Vec<u32>,
}

impl UnionFind {
    pub fn new(n: usize) -> UnionFind {
        UnionFind {
            parent: (0..n as u32).collect(),
            size: vec![1; n],
        }
    }

    pub fn find(&mut self, mut x: u32) -> u32 {
        while self.parent[x as usize] != x {
            let p = self.parent[x as usize];
            self.parent[x as usize] = self.parent[p as usize];
            x = p;
        }
        x
    }

    pub fn union(&mut self, a: u32, b: u32) -> bool {
        let (ra, rb) = (self.find(a), self.find(b));
        if ra == rb {
            return false;
        }
        let (big, small) = if self.size[ra as usize] >= self.size[rb as usize] {
            (ra, rb)
        } else {
            (rb, ra)
        };
        self.parent[small as usize] = big;
        self.size[big as usize] += self.size[small as usize];
        true
    }
}

fn pair(a: u32, b: u32) -> (u32, u32) {
    (a.min(b), a.max(b))
}

/// Decides which links are accepted and returns the cluster root of every identity.
/// Override links are appended to `links` (rule `force_link` / `never_link`).
pub fn cluster(
    identities: &[Identity],
    links: &mut Vec<Link>,
    threshold: f64,
    overrides: &[Override],
) -> anyhow::Result<Vec<u32>> {
    let n = identities.len();
    let never: HashSet<(u32, u32)> = overrides
        .iter()
        .filter(|o| o.kind == OverrideKind::NeverLink)
        .map(|o| pair(o.a, o.b))
        .collect();
    let mut order: Vec<usize> = (0..links.len()).collect();
    order.sort_by(|&x, &y| {
        links[y]
            .score
            .total_cmp(&links[x].score)
            .then((links[x].a, links[x].b).cmp(&(links[y].a, links[y].b)))
    });
    let mut uf = UnionFind::new(n);
    // Guarded identities (shared numbers, role mailboxes) may join one cluster, never bridge two.
    let mut deferred: HashMap<u32, Vec<usize>> = HashMap::new();
    for &li in &order {
        let l = &links[li];
        if l.score < threshold || never.contains(&pair(l.a, l.b)) {
            continue;
        }
        let (ga, gb) = (identities[l.a as usize].guard, identities[l.b as usize].guard);
        if [ga, gb]
            .iter()
            .any(|g| matches!(g, Some(Guard::Business) | Some(Guard::Withheld)))
        {
            continue;
        }
        match (ga, gb) {
            (None, None) => {
                uf.union(l.a, l.b);
                links[li].accepted = true;
            }
            (Some(_), None) => deferred.entry(l.a).or_default().push(li),
            (None, Some(_)) => deferred.entry(l.b).or_default().push(li),
            _ => {}
        }
    }
    split_weak_bridges(n, links);
    // Each guarded identity joins the cluster of its strongest link only (links are already
    // in score order within `deferred`).
    let mut guarded: Vec<(&u32, &Vec<usize>)> = deferred.iter().collect();
    guarded.sort_unstable_by_key(|(g, _)| **g);
    for (_, lis) in guarded {
        if let Some(&best) = lis.iter().find(|&&li| !links[li].accepted) {
            links[best].accepted = true;
        }
    }
    apply_overrides(n, links, overrides)?;
    let mut uf = UnionFind::new(n);
    for l in links.iter().filter(|l| l.accepted) {
        uf.union(l.a, l.b);
    }
    Ok((0..n as u32).map(|i| uf.find(i)).collect())
}

/// Pair-level graph of accepted links: neighbours with the strongest score of the pair.
fn accepted_graph(n: usize, links: &[Link]) -> Vec<Vec<(u32, f64)>> {
    let mut best: HashMap<(u32, u32), f64> = HashMap::new();
    for l in links.iter().filter(|l| l.accepted && l.a != l.b) {
        let e = best.entry(pair(l.a, l.b)).or_insert(0.0);
        *e = e.max(l.score);
    }
    let mut adj = vec![Vec::new(); n];
    for ((a, b), s) in best {
        adj[a as usize].push((b, s));
        adj[b as usize].push((a, s));
    }
    adj
}

/// Un-accepts every weak link that is the only connection between two groups of at least
/// two identities each (a bridge in the accepted graph). Returns how many pairs were split.
pub fn split_weak_bridges(n: usize, links: &mut [Link]) -> usize {
    let adj = accepted_graph(n, links);
    let mut disc = vec![u32::MAX; n];
    let mut low = vec![0u32; n];
    let mut sub = vec![1u32; n];
    let mut comp_size = vec![0u32; n];
    let mut comp_of = vec![u32::MAX; n];
    let mut timer = 0u32;
    let mut weak_bridges: Vec<(u32, u32, u32)> = Vec::new(); // (parent, child, child subtree size)
    for root in 0..n as u32 {
        if disc[root as usize] != u32::MAX || adj[root as usize].is_empty() {
            continue;
        }
        // Iterative DFS (Tarjan's bridges): (node, parent, next neighbour index).
        let mut stack: Vec<(u32, u32, usize)> = vec![(root, u32::MAX, 0)];
        disc[root as usize] = timer;
        low[root as usize] = timer;
        timer += 1;
        let mut members = vec![root];
        while let Some(&mut (v, parent, ref mut next)) = stack.last_mut() {
            if *next < adj[v as usize].len() {
                let (w, _) = adj[v as usize][*next];
                *next += 1;
                if w == parent {
                    continue;
                }
                if disc[w as usize] == u32::MAX {
                    disc[w as usize] = timer;
                    low[w as usize] = timer;
                    timer += 1;
                    members.push(w);
                    stack.push((w, v, 0));
                } else {
                    low[v as usize] = low[v as usize].min(disc[w as usize]);
                }
            } else {
                stack.pop();
                if parent != u32::MAX {
                    low[parent as usize] = low[parent as usize].min(low[v as usize]);
                    sub[parent as usize] += sub[v as usize];
                    if low[v as usize] > disc[parent as usize] {
                        let score = adj[v as usize].iter().find(|(w, _)| *w == parent).map_or(1.0, |x| x.1);
                        if score < STRONG {
                            weak_bridges.push((parent, v, sub[v as usize]));
                        }
                    }
                }
            }
        }
        for &m in &members {
            comp_size[m as usize] = members.len() as u32;
            comp_of[m as usize] = root;
        }
    }
    let mut cut: HashSet<(u32, u32)> = HashSet::new();
    for (p, c, child_size) in weak_bridges {
        let other = comp_size[p as usize] - child_size;
        if child_size >= 2 && other >= 2 {
            cut.insert(pair(p, c));
        }
    }
    for l in links.iter_mut() {
        if l.accepted && cut.contains(&pair(l.a, l.b)) && l.rule != "force_link" {
            l.accepted = false;
            l.evidence.push_str(" [split: the only, weak, link between two groups]");
        }
    }
    cut.len()
}

fn apply_overrides(n: usize, links: &mut Vec<Link>, overrides: &[Override]) -> anyhow::Result<()> {
    for o in overrides.iter().filter(|o| o.kind == OverrideKind::ForceLink) {
        let mut l = Link {
            a: o.a.min(o.b),
            b: o.a.max(o.b),
            rule: "force_link".into(),
            score: 1.0,
            evidence: format!("override: {}", o.origin),
            accepted: true,
        };
        l.accepted = true;
        links.push(l);
    }
    for o in overrides.iter().filter(|o| o.kind == OverrideKind::NeverLink) {
        links.push(Link {
            a: o.a.min(o.b),
            b: o.a.max(o.b),
            rule: "never_link".into(),
            score: 0.0,
            evidence: format!("override: {}", o.origin),
            accepted: false,
        });
        // Cut the weakest accepted pair on a path between them until they are apart.
        loop {
            let adj = accepted_graph(n, links);
            let Some(path) = path_between(&adj, o.a, o.b) else {
                break;
            };
            let weakest = path
                .windows(2)
                .map(|w| pair(w[0], w[1]))
                .filter(|&(x, y)| {
                    !links
                        .iter()
                        .any(|l| l.accepted && l.rule == "force_link" && pair(l.a, l.b) == (x, y))
                })
                .min_by(|p, q| {
                    let s = |pp: &(u32, u32)| adj[pp.0 as usize].iter().find(|e| e.0 == pp.1).map_or(1.0, |e| e.1);
                    s(p).total_cmp(&s(q))
                });
            let Some(cut) = weakest else {
                anyhow::bail!(
                    "overrides contradict each other: {} and a chain of force_link join the same pair",
                    o.origin
                );
            };
            for l in links.iter_mut() {
                if l.accepted && pair(l.a, l.b) == cut {
                    l.accepted = false;
                    l.evidence
                        .push_str(&format!(" [cut by never_link override: {}]", o.origin));
                }
            }
        }
    }
    Ok(())
}

fn path_between(adj: &[Vec<(u32, f64)>], a: u32, b: u32) -> Option<Vec<u32>> {
    let mut prev: HashMap<u32, u32> = HashMap::new();
    let mut queue = VecDeque::from([a]);
    prev.insert(a, a);
    while let Some(v) = queue.pop_front() {
        if v == b {
            let mut path = vec![b];
            let mut x = b;
            while x != a {
                x = prev[&x];
                path.push(x);
            }
            return Some(path);
        }
        for &(w, _) in &adj[v as usize] {
            if let std::collections::hash_map::Entry::Vacant(e) = prev.entry(w) {
                e.insert(v);
                queue.push_back(w);
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::HandleKind;

    fn ident(id: &str, guard: Option<Guard>) -> Identity {
        Identity {
            id: id.into(),
            kind: HandleKind::Email,
            value: id.into(),
            channels: 0,
            names: vec![],
            interactions: 1,
            first_ts: None,
            last_ts: None,
            activity: vec![],
            guard,
        }
    }

    fn link(a: u32, b: u32, score: f64) -> Link {
        Link {
            a,
            b,
            rule: "test".into(),
            score,
            evidence: String::new(),
            accepted: false,
        }
    }

    #[test]
    fn links_below_the_threshold_do_not_join() {
        let ids: Vec<Identity> = (0..3).map(|i| ident(&i.to_string(), None)).collect();
        let mut links = vec![link(0, 1, 0.95), link(1, 2, 0.7)];
        let roots = cluster(&ids, &mut links, 0.8, &[]).unwrap();
        assert_eq!(roots[0], roots[1]);
        assert_ne!(roots[1], roots[2]);
        let roots = cluster(&ids, &mut links, 0.6, &[]).unwrap();
        assert_eq!(roots[0], roots[2]);
    }

    #[test]
    fn a_single_weak_link_between_two_groups_is_split() {
        let ids: Vec<Identity> = (0..5).map(|i| ident(&i.to_string(), None)).collect();
        // {0,1} strong, {2,3} strong, 1–2 weak; 4 hangs on 3 by a weak link (kept: one identity).
        let mut links = vec![link(0, 1, 0.97), link(2, 3, 0.95), link(1, 2, 0.85), link(3, 4, 0.85)];
        let roots = cluster(&ids, &mut links, 0.8, &[]).unwrap();
        assert_eq!(roots[0], roots[1]);
        assert_eq!(roots[2], roots[3]);
        assert_eq!(roots[3], roots[4]);
        assert_ne!(roots[1], roots[2]);
        // Two weak links between the groups: not a single link, stays joined.
        let mut links = vec![link(0, 1, 0.97), link(2, 3, 0.95), link(1, 2, 0.85), link(0, 3, 0.85)];
        let roots = cluster(&ids, &mut links, 0.8, &[]).unwrap();
        assert_eq!(roots[0], roots[2]);
    }

    #[test]
    fn a_shared_number_joins_one_person_and_never_bridges_two() {
        let ids = vec![ident("a", None), ident("shared", Some(Guard::Shared)), ident("b", None)];
        let mut links = vec![link(0, 1, 0.95), link(1, 2, 0.97)];
        let roots = cluster(&ids, &mut links, 0.8, &[]).unwrap();
        assert_ne!(roots[0], roots[2]);
        assert_eq!(roots[1], roots[2], "joins its strongest link only");
    }

    #[test]
    fn business_identities_glue_nobody() {
        let ids = vec![ident("a", None), ident("shop", Some(Guard::Business)), ident("b", None)];
        let mut links = vec![link(0, 1, 0.99), link(1, 2, 0.99)];
        let roots = cluster(&ids, &mut links, 0.8, &[]).unwrap();
        assert!(roots[0] != roots[1] && roots[1] != roots[2] && roots[0] != roots[2]);
    }

    #[test]
    fn overrides_are_obeyed_last() {
        let ids: Vec<Identity> = (0..4).map(|i| ident(&i.to_string(), None)).collect();
        let mut links = vec![link(0, 1, 0.97), link(1, 2, 0.96)];
        let ov = [
            Override {
                kind: OverrideKind::NeverLink,
                a: 0,
                b: 2,
                origin: "o.csv line 1".into(),
            },
            Override {
                kind: OverrideKind::ForceLink,
                a: 2,
                b: 3,
                origin: "o.csv line 2".into(),
            },
        ];
        let roots = cluster(&ids, &mut links, 0.8, &ov).unwrap();
        assert_ne!(roots[0], roots[2]);
        assert_eq!(roots[0], roots[1], "the weaker link 1–2 is the one cut");
        assert_eq!(roots[2], roots[3]);
        // Contradiction: force 0–1 and never 0–1.
        let ov = [
            Override {
                kind: OverrideKind::ForceLink,
                a: 0,
                b: 1,
                origin: "x line 1".into(),
            },
            Override {
                kind: OverrideKind::NeverLink,
                a: 0,
                b: 1,
                origin: "x line 2".into(),
            },
        ];
        let mut links = vec![];
        assert!(cluster(&ids, &mut links, 0.8, &ov).is_err());
    }
}
