//! Every input file's outcome, for the import's report, without holding them all.

use super::spill::Spill;
use super::SourceOutcome;
use anyhow::Result;
use serde::ser::{Error as _, SerializeSeq};
use serde::{Serialize, Serializer};
use std::borrow::Cow;
use std::path::PathBuf;

/// Outcomes held in memory; an import of more files keeps the rest in a temporary file.
/// 200 000 chats' outcomes (paths, times, notes) took 150 MB.
const HELD: usize = 4096;

/// The outcomes of an import's files in the order they were met, with their totals. The
/// first 4 096 (`HELD`) of each importer's stay in memory (an ordinary import never touches the
/// disk for them); the rest wait in a [`Spill`] and are read back for each pass over them.
pub struct SourceOutcomes {
    /// Each importer's outcomes, appended whole; pushes go to the last.
    parts: Vec<Part>,
    failed: usize,
    rejected: u64,
}

struct Part {
    held: Vec<SourceOutcome>,
    spilled: Spill<SourceOutcome>,
}

impl Default for SourceOutcomes {
    /// Outcomes spilled to the system's temporary folder.
    fn default() -> SourceOutcomes {
        SourceOutcomes::spilling_to(std::env::temp_dir())
    }
}

impl SourceOutcomes {
    /// Outcomes whose overflow goes to `dir` (an importer uses its workspace's `.tmp/`).
    pub fn spilling_to(dir: impl Into<PathBuf>) -> SourceOutcomes {
        SourceOutcomes {
            parts: vec![Part {
                held: Vec::new(),
                spilled: Spill::new_in(dir),
            }],
            failed: 0,
            rejected: 0,
        }
    }

    pub fn push(&mut self, outcome: SourceOutcome) -> Result<()> {
        self.failed += usize::from(outcome.outcome == "failed");
        self.rejected += outcome.counts.rejected;
        let part = self.parts.last_mut().expect("outcomes always have a part");
        if part.held.len() < HELD {
            part.held.push(outcome);
            Ok(())
        } else {
            part.spilled.push(&outcome)
        }
    }

    /// The file `found` names and whether it was named on the command line; a folder the
    /// walk left out is pushed as a skipped outcome instead (`None`).
    pub fn file_of(&mut self, found: super::Found) -> Result<Option<(std::path::PathBuf, bool)>> {
        match found.into_file() {
            Ok(file) => Ok(Some(file)),
            Err(unwalked) => self.push(*unwalked).map(|()| None),
        }
    }

    /// Adds `other`'s outcomes after these (taking its spill as it is: nothing is copied).
    pub fn append(&mut self, other: SourceOutcomes) {
        self.failed += other.failed;
        self.rejected += other.rejected;
        self.parts.extend(other.parts);
    }

    pub fn len(&self) -> usize {
        self.parts.iter().map(|p| p.held.len() + p.spilled.len()).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Files that failed.
    pub fn failed(&self) -> usize {
        self.failed
    }

    /// Records rejected, over all files.
    pub fn rejected(&self) -> u64 {
        self.rejected
    }

    /// The first outcome, if any.
    pub fn first(&self) -> Option<&SourceOutcome> {
        self.parts.iter().find_map(|p| p.held.first())
    }

    /// Every outcome, in memory at once: for tests and imports known to be small.
    pub fn to_vec(&self) -> Result<Vec<SourceOutcome>> {
        self.iter().map(|o| o.map(Cow::into_owned)).collect()
    }

    /// Every outcome in order: the held ones borrowed, the spilled ones read back (an
    /// error when the temporary file cannot be read).
    pub fn iter(&self) -> impl Iterator<Item = Result<Cow<'_, SourceOutcome>>> {
        self.parts.iter().flat_map(|part| {
            let held = part.held.iter().map(|o| Ok(Cow::Borrowed(o)));
            let spilled: Box<dyn Iterator<Item = Result<Cow<'_, SourceOutcome>>>> = match part.spilled.read() {
                Ok(reader) => Box::new(reader.map(|o| o.map(Cow::Owned))),
                Err(e) => Box::new(std::iter::once(Err(e))),
            };
            held.chain(spilled)
        })
    }
}

impl std::fmt::Debug for SourceOutcomes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SourceOutcomes")
            .field("len", &self.len())
            .field("failed", &self.failed)
            .field("rejected", &self.rejected)
            .finish()
    }
}

/// A JSON array, streamed from the spill.
impl Serialize for SourceOutcomes {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(self.len()))?;
        for outcome in self.iter() {
            seq.serialize_element(&*outcome.map_err(S::Error::custom)?)?;
        }
        seq.end()
    }
}

/// A message with its numbers (dates, line numbers, counts) and quoted names (a chat's
/// title, a business name) blanked: "date order day-month-year: 20/3/2024 at line 1 …" and
/// "… 30/10/2024 at line 7 …" are one kind.
pub fn message_kind(message: &str) -> String {
    let mut kind = String::with_capacity(message.len());
    let mut quoted = false;
    for c in message.chars() {
        match c {
            '"' => {
                quoted = !quoted;
                kind.push(c);
                if quoted {
                    kind.push('…');
                }
            }
            _ if quoted => {}
            '0'..='9' if kind.ends_with('#') => {}
            '0'..='9' => kind.push('#'),
            _ => kind.push(c),
        }
    }
    kind
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workspace::Counts;

    fn outcome(i: usize) -> SourceOutcome {
        let mut o = if i.is_multiple_of(7) {
            SourceOutcome::failed(&format!("f{i}.txt"), format!("f{i}.txt: not a chat"))
        } else {
            SourceOutcome::skipped(&format!("f{i}.txt"), "why".into())
        };
        o.counts = Counts {
            read: i as u64,
            rejected: 1,
            ..Counts::default()
        };
        o.notes = vec![format!("note {i}")].into();
        o
    }

    #[test]
    fn past_the_held_ones_outcomes_come_back_from_the_spill_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let n = 2 * HELD + 1000;
        let mut first = SourceOutcomes::spilling_to(dir.path());
        (0..n / 2).try_for_each(|i| first.push(outcome(i))).unwrap();
        let mut second = SourceOutcomes::spilling_to(dir.path());
        (n / 2..n).try_for_each(|i| second.push(outcome(i))).unwrap();
        first.append(second);
        assert_eq!(first.len(), n);
        assert_eq!(first.failed(), (0..n).filter(|i| i % 7 == 0).count());
        assert_eq!(first.rejected(), n as u64);
        let json = |o: &SourceOutcome| serde_json::to_string(o).unwrap();
        let back: Vec<String> = first.iter().map(|o| json(&o.unwrap())).collect();
        assert_eq!(back, (0..n).map(|i| json(&outcome(i))).collect::<Vec<_>>());
        // Twice, and as JSON.
        assert_eq!(first.iter().count(), n);
        let array: Vec<serde_json::Value> = serde_json::from_str(&serde_json::to_string(&first).unwrap()).unwrap();
        assert_eq!(array.len(), n);
        assert_eq!(array[n - 1]["path"], format!("f{}.txt", n - 1));
        assert_eq!(
            std::fs::read_dir(dir.path()).unwrap().count(),
            0,
            "the spill leaves no file"
        );
    }

    #[test]
    fn messages_differing_in_numbers_and_quoted_names_are_one_kind() {
        let kind = message_kind("date order day-month-year: 20/3/2024 at line 1 rules out month-day-year");
        assert_eq!(
            kind,
            "date order day-month-year: #/#/# at line # rules out month-day-year"
        );
        assert_eq!(
            message_kind("date order day-month-year: 30/10/2024 at line 17 rules out month-day-year"),
            kind
        );
        let side = r#"business side: "Bloom & Stem" (inferred: "Bloom & Stem" is the other party of the chat titled "+44 7700 900050")"#;
        assert_eq!(
            message_kind(side),
            r#"business side: "…" (inferred: "…" is the other party of the chat titled "…")"#
        );
        assert_ne!(
            message_kind("3 media file(s) in the zip"),
            message_kind("3 lines rejected")
        );
    }
}
