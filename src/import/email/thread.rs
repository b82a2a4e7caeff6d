//! Thread keys in one pass: the root of a message's References chain (or the root already
//! known for its parent), else the normalised subject with the same correspondent within a
//! time window. Memory: one small entry per message id and per subject.

use polars::prelude::PlRandomState;
use std::collections::HashMap;
use std::hash::BuildHasher;

/// Replies to the same subject and correspondent further apart than this start a new thread.
pub const SUBJECT_WINDOW_MS: i64 = 14 * 24 * 3600 * 1000;

/// The keys are already hashes: used as they are instead of hashed again.
#[derive(Clone, Copy, Default)]
pub struct PrehashedKey;

impl std::hash::BuildHasher for PrehashedKey {
    type Hasher = Prehashed;
    fn build_hasher(&self) -> Prehashed {
        Prehashed(0)
    }
}

/// Hasher of [`PrehashedKey`]: keeps the (last) integer written.
#[derive(Default)]
pub struct Prehashed(u64);

impl std::hash::Hasher for Prehashed {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        // Not used by integer keys; a plain mix keeps it correct for anything else.
        for &b in bytes {
            self.0 = (self.0.rotate_left(8) ^ u64::from(b)).wrapping_mul(0x100_0000_01b3);
        }
    }
    fn write_u64(&mut self, v: u64) {
        self.0 = v;
    }
    fn write_u128(&mut self, v: u128) {
        self.0 = v as u64 ^ (v >> 64) as u64;
    }
}

/// Remembers thread roots across every message of one import.
#[derive(Default)]
pub struct Threader {
    /// Hashes ids and subjects into the maps' keys: in memory only, so a fast seeded hash.
    hash: PlRandomState,
    roots: Vec<String>,
    by_id: HashMap<u64, u32, PrehashedKey>,
    /// (subject root, correspondent) → (thread root, last time seen)
    by_subject: HashMap<u64, (u32, i64), PrehashedKey>,
}

/// What the threader needs of a message.
pub struct ThreadInput<'a> {
    pub message_id: Option<&'a str>,
    pub in_reply_to: Option<&'a str>,
    pub references: &'a [String],
    /// Stands in for the Message-ID when there is none (`offset:123`, a file name).
    pub fallback_id: &'a str,
    pub subject: Option<&'a str>,
    /// The customer (or other correspondent) address: subjects only join within one.
    pub correspondent: Option<&'a str>,
    pub ts: i64,
}

impl Threader {
    /// The root id of the message's thread (without `email:`), and registers the message.
    pub fn root(&mut self, m: &ThreadInput<'_>) -> String {
        // Parent first (In-Reply-To, last Reference), then any earlier reference we know.
        let known = m
            .in_reply_to
            .iter()
            .copied()
            .chain(m.references.iter().rev().map(String::as_str))
            .find_map(|id| self.by_id.get(&self.key(id)).copied());
        let subject_key = m
            .subject
            .map(subject_root)
            .filter(|s| !s.is_empty())
            .map(|s| self.hash.hash_one((s, m.correspondent.unwrap_or(""))));
        let root_index = match known {
            Some(r) => r,
            None => {
                let ghost = m.references.first().map(String::as_str).or(m.in_reply_to);
                match ghost {
                    Some(g) => self.intern(g),
                    None => match subject_key.and_then(|k| self.by_subject.get(&k)) {
                        Some((r, last)) if m.correspondent.is_some() && (m.ts - last).abs() <= SUBJECT_WINDOW_MS => *r,
                        _ => self.intern(m.message_id.unwrap_or(m.fallback_id)),
                    },
                }
            }
        };
        if let Some(id) = m.message_id {
            self.by_id.entry(self.key(id)).or_insert(root_index);
        }
        if let Some(k) = subject_key {
            let e = self.by_subject.entry(k).or_insert((root_index, m.ts));
            e.1 = e.1.max(m.ts);
        }
        self.roots[root_index as usize].clone()
    }

    fn key(&self, id: &str) -> u64 {
        self.hash.hash_one(id)
    }

    fn intern(&mut self, id: &str) -> u32 {
        let k = self.key(id);
        if let Some(r) = self.by_id.get(&k) {
            return *r;
        }
        let r = self.roots.len() as u32;
        self.roots.push(id.to_string());
        self.by_id.insert(k, r);
        r
    }
}

/// A subject without reply/forward prefixes, lower-cased and with spaces collapsed: the key
/// for the subject fallback.
pub fn subject_root(subject: &str) -> String {
    let mut joined = String::with_capacity(subject.len());
    for word in strip_prefixes(subject).split_whitespace() {
        if !joined.is_empty() {
            joined.push(' ');
        }
        joined.push_str(word);
    }
    joined.to_lowercase()
}

/// A subject without reply/forward prefixes (`Re:`, `Fwd:`, `AW:`, `SV:`, `回复:` …, repeated,
/// with counters such as `Re[2]:`) and list tags (`[list]`), as written.
pub fn strip_prefixes(subject: &str) -> &str {
    const PREFIXES: &[&str] = &[
        "re", "fw", "fwd", "aw", "wg", "sv", "vs", "rif", "r", "res", "enc", "odp", "ynt", "ilt", "İlt", "antw", "tr",
        "ref", "rv", "回复", "答复", "转发", "回覆", "轉寄",
    ];
    let mut s = subject.trim();
    loop {
        let before = s;
        if s.starts_with('[') {
            if let Some(end) = s.find(']') {
                s = s[end + 1..].trim_start();
            }
        }
        if let Some(colon) = s.find([':', '：']) {
            let head = s[..colon].trim();
            let word = head.split(['[', '(']).next().unwrap_or("").trim();
            if PREFIXES.iter().any(|p| p.eq_ignore_ascii_case(word) || *p == word) {
                let width = s[colon..].chars().next().map_or(1, char::len_utf8);
                s = s[colon + width..].trim_start();
            }
        }
        if s == before {
            break;
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input<'a>(id: &'a str, irt: Option<&'a str>, refs: &'a [String], subject: &'a str, ts: i64) -> ThreadInput<'a> {
        ThreadInput {
            message_id: Some(id),
            in_reply_to: irt,
            references: refs,
            fallback_id: "offset:0",
            subject: Some(subject),
            correspondent: Some("ann@mail.example"),
            ts,
        }
    }

    #[test]
    fn replies_join_their_root_and_ghosts_become_roots() {
        let mut t = Threader::default();
        assert_eq!(t.root(&input("a", None, &[], "Hello", 0)), "a");
        assert_eq!(t.root(&input("b", Some("a"), &[], "Re: Hello", 10)), "a");
        assert_eq!(t.root(&input("c", Some("b"), &[], "Re: Re: Hello", 20)), "a");
        let refs = vec!["missing".to_string(), "x".to_string()];
        assert_eq!(t.root(&input("d", Some("x"), &refs, "Other", 30)), "missing");
        // No ids: the subject with the same correspondent, inside the window.
        assert_eq!(t.root(&input("e", None, &[], "AW: hello", 40)), "a");
        assert_eq!(t.root(&input("f", None, &[], "Hello", SUBJECT_WINDOW_MS * 3)), "f");
    }

    #[test]
    fn subject_prefixes_are_stripped() {
        assert_eq!(subject_root("Re: Fwd: [support] SV: Order 12"), "order 12");
        assert_eq!(subject_root("RE[2]: Hello"), "hello");
        assert_eq!(subject_root("回复：你好"), "你好");
        assert_eq!(subject_root("Reminder: tomorrow"), "reminder: tomorrow");
    }
}
