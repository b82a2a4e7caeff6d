//! One CDR row ("leg") and how the legs of one customer call are put together.
//!
//! A PBX writes a row per dialled channel: a ring group that rings two phones writes two
//! rows, a queue one per agent attempt, Local channels more. Twilio writes a parent and a
//! child. Counting rows as calls doubles volumes, so legs are grouped by their call id
//! within a bounded window of rows (memory stays flat on big files) before anything is counted.

use crate::model::CallStatus;
use compact_str::CompactString;
use hashbrown::HashTable;
use polars::prelude::{PlHashSet, PlRandomState};
use slab::Slab;
use std::collections::VecDeque;
use std::hash::BuildHasher;

/// What happened on one leg, in the dialect's own words mapped to a common scale.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LegOutcome {
    /// Answered by a person (Asterisk: ANSWERED with a destination channel).
    Person,
    /// The line was answered, but by the PBX (greeting, IVR, queue music), not by a person.
    Machine,
    NoAnswer,
    Busy,
    Failed,
    Voicemail,
    /// A status word this importer does not know: kept as `status` null, counted in a note.
    Unknown,
}

/// Which side the source itself says the call went; `strong` hints (Twilio `direction`,
/// Android `type`) win over number rules, weak ones (dialplan contexts) only break ties.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Hint {
    pub direction: Option<crate::model::Direction>,
    pub strong: bool,
}

/// One row of a call log, parsed but not yet normalised.
#[derive(Debug, Clone)]
pub struct Leg {
    /// 1-based line where the row starts (Android: the element's index).
    pub line: u64,
    /// The id that groups legs into a call (`linkedid`, `uniqueid`, parent SID); `None`: the row is a call on its own.
    pub group: Option<CompactString>,
    /// `source_ref` when the row is a call on its own.
    pub own_ref: CompactString,
    pub start_ms: i64,
    pub ts_raw: CompactString,
    /// Caller number as written (may be empty, `anonymous`, `-1`).
    pub from: CompactString,
    /// Caller-ID name, when the source gives one that is not just the number.
    pub name: Option<CompactString>,
    /// Dialled number or extension as written.
    pub to: CompactString,
    pub outcome: LegOutcome,
    /// Talk time in seconds (billsec), where the source has it.
    pub talk_s: Option<i64>,
    /// The endpoint that was rung or picked up (Asterisk `dstchannel` without its suffix).
    pub callee_endpoint: Option<CompactString>,
    /// The endpoint that placed this leg (Asterisk `channel` without its suffix).
    pub caller_endpoint: Option<CompactString>,
    /// The caller is a device of the business itself (an extension's channel, the console).
    pub caller_is_device: bool,
    pub hint: Hint,
    /// Twilio: this row is a child leg (has a parent SID).
    pub child: bool,
    /// Extra parts of the dedup key (Android: type and duration).
    pub dedup_extra: CompactString,
}

/// The legs of one call, in file order, ready to be turned into one interaction.
#[derive(Debug, Default)]
pub struct CallLegs {
    pub source_ref: CompactString,
    pub legs: Vec<Leg>,
    /// Rows that belonged to this call (for the accounting note).
    pub rows: u64,
}

impl CallLegs {
    /// The leg that stands for the customer's call: a Twilio parent, else the earliest leg.
    pub fn primary(&self) -> &Leg {
        self.legs
            .iter()
            .filter(|l| !l.child)
            .min_by_key(|l| (l.start_ms, l.line))
            .or_else(|| self.legs.iter().min_by_key(|l| (l.start_ms, l.line)))
            .expect("a call has at least one leg")
    }

    /// The leg a person answered. Prefers a real device over a Local channel half, and
    /// Twilio child legs (the agent) over the parent.
    pub fn answered_leg(&self) -> Option<&Leg> {
        let has_children = self.legs.iter().any(|l| l.child);
        let mut first = None;
        for l in self
            .legs
            .iter()
            .filter(|l| l.outcome == LegOutcome::Person && (!has_children || l.child))
        {
            if !l.callee_endpoint.as_deref().is_some_and(|e| e.starts_with("Local/")) {
                return Some(l);
            }
            first = first.or(Some(l));
        }
        first
    }

    /// Outcome of the whole call: answered when a person answered any leg; voicemail when a
    /// leg reached voicemail; busy/failed only when every leg says so; otherwise missed.
    pub fn status(&self) -> Option<CallStatus> {
        if self.answered_leg().is_some() {
            return Some(CallStatus::Answered);
        }
        // Twilio: a parent with children is decided by its children (who the caller tried to reach).
        let has_children = self.legs.iter().any(|l| l.child);
        let legs = || self.legs.iter().filter(move |l| !has_children || l.child);
        let all = |o: LegOutcome| legs().all(|l| l.outcome == o);
        if legs().any(|l| l.outcome == LegOutcome::Voicemail) {
            Some(CallStatus::Voicemail)
        } else if all(LegOutcome::Unknown) {
            None
        } else if legs().any(|l| l.outcome == LegOutcome::Busy)
            && legs().all(|l| matches!(l.outcome, LegOutcome::Busy | LegOutcome::Failed))
        {
            Some(CallStatus::Busy)
        } else if all(LegOutcome::Failed) {
            Some(CallStatus::Failed)
        } else {
            Some(CallStatus::Missed)
        }
    }

    /// Every endpoint rung, with what happened there, for the record's leg summary.
    pub fn leg_summary(&self) -> Option<String> {
        use std::fmt::Write;
        if self.legs.len() < 2 {
            return None;
        }
        let mut out = String::with_capacity(16 + 32 * self.legs.len());
        let _ = write!(out, "{} legs: ", self.legs.len());
        for (i, l) in self.legs.iter().enumerate() {
            let who = l
                .callee_endpoint
                .as_deref()
                .filter(|e| !e.is_empty())
                .unwrap_or(l.to.as_str());
            let what = match l.outcome {
                LegOutcome::Person => "answered",
                LegOutcome::Machine => "answered by the system",
                LegOutcome::NoAnswer => "no answer",
                LegOutcome::Busy => "busy",
                LegOutcome::Failed => "failed",
                LegOutcome::Voicemail => "voicemail",
                LegOutcome::Unknown => "unknown",
            };
            if i > 0 {
                out.push_str(", ");
            }
            out.push_str(if who.is_empty() { "?" } else { who });
            out.push_str(" (");
            out.push_str(what);
            out.push(')');
        }
        Some(out)
    }
}

/// Rows after which a call with no new leg is considered complete. Legs of one call are
/// written within seconds of each other; 50 000 rows is hours of traffic on a busy PBX.
pub const WINDOW_ROWS: u64 = 50_000;

/// Released call ids are remembered for 10 to 20 windows (0.5–1 million rows), long enough
/// to recognise any real straggler, and then forgotten so that memory does not grow with
/// the file.
const REMEMBERED_WINDOWS: u64 = 10;

/// Groups legs by call id, releasing calls that have seen no leg for [`WINDOW_ROWS`] rows.
/// Asked on every row, it touches as little memory as it can: the table of open calls holds
/// slot numbers only (the call id's hash is kept with the call), and an id is hashed once
/// for the table and the set of released ids alike.
#[derive(Default)]
pub struct LegGrouper {
    /// Open calls: their slot in `calls`, by the hash of the call id.
    open: HashTable<u32>,
    calls: Slab<OpenCall>,
    /// (row count, slot) for every leg of an open call, oldest first: a sweep pops what
    /// has aged out instead of visiting every open call. An entry is stale when its call
    /// has had a leg since.
    arrivals: VecDeque<(u64, u32)>,
    /// Hashes of call ids already released, to catch a leg that arrives too late: this
    /// generation and the one before (older ones are forgotten, so memory stays flat).
    closed: PlHashSet<u64>,
    closed_before: PlHashSet<u64>,
    /// Row count at which `closed` becomes `closed_before`.
    next_generation: u64,
    ids: PlRandomState,
    rows: u64,
    next_sweep: u64,
    pub window: u64,
}

struct OpenCall {
    call: CallLegs,
    /// Row count when its last leg arrived.
    last: u64,
    /// Hash of the call id.
    hash: u64,
    /// Line of its first leg (releases sort by it without reading the legs).
    first_line: u64,
}

/// What happened to a leg fed to the grouper.
pub enum Fed {
    Ok,
    /// A leg of a call that was already written (arrived more than the window later).
    Late(Box<Leg>),
    /// A leg of a call that already has [`MAX_LEGS_PER_CALL`] legs: not kept.
    TooMany(Box<Leg>),
}

impl Fed {
    /// The leg refused, with why (for its reject); `None` when it was taken.
    pub fn refused(self) -> Option<(Box<Leg>, String)> {
        let id = |leg: &Leg| leg.group.as_deref().unwrap_or("?").to_string();
        match self {
            Fed::Ok => None,
            Fed::Late(leg) => {
                let why = format!(
                    "leg of call {} arrived more than {WINDOW_ROWS} rows after the call's other legs, which were already written",
                    id(&leg)
                );
                Some((leg, why))
            }
            Fed::TooMany(leg) => {
                let why = format!(
                    "call {} already has {MAX_LEGS_PER_CALL} legs: a further leg is not kept (does the call-id column repeat one value?)",
                    id(&leg)
                );
                Some((leg, why))
            }
        }
    }
}

/// Legs one call keeps. A ring group or a queue rings a few dozen phones; a call id shared
/// by thousands of rows is a column that repeats one value (a constant, a placeholder), and
/// keeping every row as one call's leg would hold the whole file.
pub const MAX_LEGS_PER_CALL: usize = 512;

impl LegGrouper {
    pub fn new() -> LegGrouper {
        LegGrouper {
            window: WINDOW_ROWS,
            next_sweep: WINDOW_ROWS,
            next_generation: WINDOW_ROWS * REMEMBERED_WINDOWS,
            ..Default::default()
        }
    }

    /// Adds a leg; completed calls are appended to `out`.
    pub fn feed(&mut self, mut leg: Leg, out: &mut Vec<CallLegs>) -> Fed {
        self.rows += 1;
        match leg.group.as_deref() {
            None => out.push(CallLegs {
                source_ref: std::mem::take(&mut leg.own_ref),
                legs: vec![leg],
                rows: 1,
            }),
            Some(id) => {
                let hash = self.ids.hash_one(id);
                if let Some(slot) = self.find(hash, id) {
                    if self.calls[slot as usize].call.legs.len() >= MAX_LEGS_PER_CALL {
                        return Fed::TooMany(Box::new(leg));
                    }
                    self.join(slot, leg);
                } else if self.was_released(hash) {
                    return Fed::Late(Box::new(leg));
                } else {
                    let source_ref = CompactString::from(id);
                    self.open_call(source_ref, hash, leg);
                }
            }
        }
        if self.rows >= self.next_generation {
            self.next_generation = self.rows + self.window * REMEMBERED_WINDOWS;
            self.closed_before = std::mem::take(&mut self.closed);
        }
        if self.rows >= self.next_sweep {
            self.next_sweep = self.rows + self.window / 4;
            let horizon = self.rows.saturating_sub(self.window);
            self.release(horizon, out);
        }
        Fed::Ok
    }

    /// The slot of the open call with this id.
    fn find(&self, hash: u64, id: &str) -> Option<u32> {
        let calls = &self.calls;
        self.open
            .find(hash, |&slot| calls[slot as usize].call.source_ref == id)
            .copied()
    }

    /// Adds a leg to the open call in `slot`.
    fn join(&mut self, slot: u32, leg: Leg) {
        let open = &mut self.calls[slot as usize];
        let legs = &mut open.call.legs;
        // Most calls have two legs: grow one at a time at first (the default growth
        // reserves four).
        if legs.len() == legs.capacity() && legs.len() < 4 {
            legs.reserve_exact(1);
        }
        legs.push(leg);
        open.call.rows += 1;
        open.last = self.rows;
        self.arrivals.push_back((self.rows, slot));
    }

    /// Opens a call with its first leg.
    fn open_call(&mut self, source_ref: CompactString, hash: u64, leg: Leg) {
        let slot = self.calls.insert(OpenCall {
            first_line: leg.line,
            call: CallLegs {
                source_ref,
                legs: vec![leg],
                rows: 1,
            },
            last: self.rows,
            hash,
        }) as u32;
        let calls = &self.calls;
        self.open.insert_unique(hash, slot, |&s| calls[s as usize].hash);
        self.arrivals.push_back((self.rows, slot));
    }

    /// A call with this id's hash was released (this generation or the one before).
    fn was_released(&self, hash: u64) -> bool {
        self.closed.contains(&hash) || self.closed_before.contains(&hash)
    }

    #[cfg(test)]
    fn is_closed(&self, id: &str) -> bool {
        self.was_released(self.ids.hash_one(id))
    }

    /// Releases every open call (end of file).
    pub fn finish(&mut self, out: &mut Vec<CallLegs>) {
        self.release(u64::MAX, out);
    }

    /// Releases the calls whose last leg arrived at or before row count `horizon`, in the
    /// order of their first line.
    fn release(&mut self, horizon: u64, out: &mut Vec<CallLegs>) {
        let mut calls: Vec<(u64, CallLegs)> = Vec::new();
        while let Some(&(row, slot)) = self.arrivals.front() {
            if row > horizon {
                break;
            }
            self.arrivals.pop_front();
            // A stale entry: its call had a leg since (or was released already).
            if self.calls.get(slot as usize).is_none_or(|c| c.last != row) {
                continue;
            }
            let open = self.calls.remove(slot as usize);
            if let Ok(found) = self.open.find_entry(open.hash, |&s| s == slot) {
                found.remove();
            }
            self.closed.insert(open.hash);
            calls.push((open.first_line, open.call));
        }
        calls.sort_unstable_by_key(|(line, _)| *line);
        out.extend(calls.into_iter().map(|(_, call)| call));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn leg(line: u64, group: &str, outcome: LegOutcome, callee: &str) -> Leg {
        Leg {
            line,
            group: Some(group.into()),
            own_ref: compact_str::format_compact!("line:{line}"),
            start_ms: 0,
            ts_raw: CompactString::default(),
            from: "07700900456".into(),
            name: None,
            to: "02079460100".into(),
            outcome,
            talk_s: Some(10),
            callee_endpoint: Some(callee.into()),
            caller_endpoint: None,
            caller_is_device: false,
            hint: Hint::default(),
            child: false,
            dedup_extra: CompactString::default(),
        }
    }

    #[test]
    fn a_ring_group_with_one_answered_leg_is_one_answered_call() {
        let mut g = LegGrouper::new();
        let mut out = Vec::new();
        g.feed(leg(1, "a", LegOutcome::NoAnswer, "SIP/201"), &mut out);
        g.feed(leg(2, "b", LegOutcome::Busy, "SIP/201"), &mut out);
        g.feed(leg(3, "a", LegOutcome::Person, "SIP/202"), &mut out);
        g.finish(&mut out);
        assert_eq!(out.len(), 2);
        assert_eq!(out[0].source_ref, "a");
        assert_eq!(out[0].status(), Some(CallStatus::Answered));
        assert_eq!(
            out[0].answered_leg().unwrap().callee_endpoint.as_deref(),
            Some("SIP/202")
        );
        assert_eq!(out[1].status(), Some(CallStatus::Busy));
    }

    #[test]
    fn answered_by_the_pbx_only_is_missed_and_busy_needs_every_leg_busy() {
        let call = CallLegs {
            source_ref: "a".into(),
            legs: vec![
                leg(1, "a", LegOutcome::Machine, ""),
                leg(2, "a", LegOutcome::Busy, "SIP/201"),
            ],
            rows: 2,
        };
        assert_eq!(call.status(), Some(CallStatus::Missed));
    }

    /// A grouper that sweeps every `window / 4` rows from row `window` on.
    fn grouper(window: u64) -> LegGrouper {
        let mut g = LegGrouper::new();
        g.window = window;
        g.next_sweep = window;
        g
    }

    #[test]
    fn interleaved_calls_keep_all_their_legs_across_sweeps_and_reused_slots() {
        let mut g = grouper(40);
        let mut out = Vec::new();
        // Call i has 1 + i % 3 legs, each a few rows after the previous (never beyond the window).
        let mut rows: Vec<(u64, String)> = Vec::new();
        for i in 0..600u64 {
            for k in 0..=(i % 3) {
                rows.push((i * 4 + k * 7, format!("c{i}")));
            }
        }
        rows.sort();
        for (line, (_, id)) in rows.iter().enumerate() {
            let fed = g.feed(leg(line as u64 + 1, id, LegOutcome::NoAnswer, "SIP/201"), &mut out);
            assert!(matches!(fed, Fed::Ok), "{id} arrived late");
        }
        g.finish(&mut out);
        assert_eq!(out.len(), 600);
        let mut seen = std::collections::HashSet::new();
        for call in &out {
            let i: u64 = call.source_ref[1..].parse().unwrap();
            assert!(seen.insert(i), "c{i} released twice");
            assert_eq!(call.legs.len() as u64, 1 + i % 3, "c{i}");
            assert!(call
                .legs
                .iter()
                .all(|l| l.group.as_deref() == Some(call.source_ref.as_str())));
            assert!(
                call.legs.windows(2).all(|w| w[0].line < w[1].line),
                "legs in file order"
            );
        }
        assert!(g.calls.capacity() < 128, "slots are reused: {}", g.calls.capacity());
    }

    #[test]
    fn a_call_keeps_at_most_its_leg_limit_and_refuses_the_rest() {
        let mut g = LegGrouper::new();
        let mut out = Vec::new();
        let mut refused = 0;
        for line in 1..=(MAX_LEGS_PER_CALL as u64 + 100) {
            match g.feed(leg(line, "same", LegOutcome::NoAnswer, "SIP/201"), &mut out) {
                Fed::Ok => {}
                Fed::TooMany(l) => {
                    assert!(l.line > MAX_LEGS_PER_CALL as u64);
                    refused += 1;
                }
                Fed::Late(_) => panic!("not late"),
            }
        }
        assert!(matches!(
            g.feed(leg(9999, "other", LegOutcome::Person, "SIP/202"), &mut out),
            Fed::Ok
        ));
        g.finish(&mut out);
        assert_eq!(refused, 100);
        assert_eq!(out.len(), 2);
        assert_eq!(out[0].legs.len(), MAX_LEGS_PER_CALL);
        assert_eq!(out[1].legs.len(), 1);
    }

    #[test]
    fn a_leg_arriving_after_its_call_was_released_is_reported_late() {
        let mut g = grouper(4);
        let mut out = Vec::new();
        g.feed(leg(1, "a", LegOutcome::NoAnswer, "SIP/201"), &mut out);
        for i in 2..12 {
            g.feed(leg(i, &format!("x{i}"), LegOutcome::NoAnswer, "SIP/201"), &mut out);
        }
        assert!(out.iter().any(|c| c.source_ref == "a"));
        assert!(matches!(
            g.feed(leg(12, "a", LegOutcome::Person, "SIP/202"), &mut out),
            Fed::Late(_)
        ));
    }

    #[test]
    fn released_ids_are_remembered_for_ten_to_twenty_windows_then_forgotten() {
        let mut g = grouper(4);
        g.next_generation = 4 * REMEMBERED_WINDOWS;
        let mut out = Vec::new();
        g.feed(leg(1, "a", LegOutcome::NoAnswer, "SIP/201"), &mut out);
        let mut line = 1;
        let mut filler = |g: &mut LegGrouper, out: &mut Vec<CallLegs>, rows: u64| {
            for _ in 0..rows {
                line += 1;
                g.feed(leg(line, &format!("x{line}"), LegOutcome::NoAnswer, "SIP/201"), out);
            }
        };
        filler(&mut g, &mut out, 4 * REMEMBERED_WINDOWS);
        assert!(g.is_closed("a"), "still remembered one generation on");
        filler(&mut g, &mut out, 4 * REMEMBERED_WINDOWS);
        assert!(!g.is_closed("a"), "forgotten after two generations");
        assert!(g.closed.len() + g.closed_before.len() <= 2 * 4 * REMEMBERED_WINDOWS as usize + 8);
    }
}
