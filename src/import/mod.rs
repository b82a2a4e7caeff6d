//! Importers: one module per export family, each turning its format into [`Interaction`]
//! records. They know nothing of the matcher or the reports.
//!
//! [`Interaction`]: crate::model::Interaction

pub mod calls;
pub mod contacts;
pub mod csv_records;
pub mod detect;
pub mod email;
pub mod encoding;
pub mod lines;
mod outcomes;
pub mod pipeline;
pub mod spill;
pub mod whatsapp;

use crate::normalize::phone::Region;
use crate::workspace::{Counts, SourceEntry};
use chrono_tz::Tz;
pub use outcomes::{message_kind, SourceOutcomes};
use serde::{Deserialize, Serialize};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};

/// Set by the Ctrl-C handler; importers check it and abandon their transaction.
pub static INTERRUPTED: AtomicBool = AtomicBool::new(false);

/// Fails with [`ImportError::Interrupted`] once Ctrl-C was pressed.
pub fn check_interrupt() -> Result<(), ImportError> {
    if INTERRUPTED.load(Ordering::Relaxed) {
        Err(ImportError::Interrupted)
    } else {
        Ok(())
    }
}

/// Options shared by all importers.
#[derive(Debug, Clone)]
pub struct CommonOptions {
    /// Time zone for sources without one, and how it was chosen (`--tz`, machine default).
    pub tz: Tz,
    pub tz_origin: String,
    pub region: Region,
    pub region_code: Option<String>,
}

/// A file-level failure: the file is not imported at all.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("{path}: {message}")]
    File { path: String, message: String },
    #[error("interrupted: the workspace was left as it was before this import")]
    Interrupted,
    /// An option's value is wrong (exit 2), found once the importer could check it: a
    /// `--business-number` is read with libphonenumber's metadata, which loads while the
    /// files are hashed.
    #[error("{0}")]
    Usage(String),
    #[error(transparent)]
    Other(#[from] anyhow::Error),
}

impl ImportError {
    pub fn file(path: impl Into<String>, message: impl Into<String>) -> ImportError {
        ImportError::File {
            path: path.into(),
            message: message.into(),
        }
    }
}

/// What happened to one input file.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SourceOutcome {
    pub path: String,
    /// `imported`, `already-imported`, `failed`, `skipped`
    pub outcome: String,
    pub format: Option<String>,
    pub counts: Counts,
    pub first_ts: Option<String>,
    pub last_ts: Option<String>,
    /// For an imported source, the very notes of its manifest entry (shared, not copied).
    pub notes: std::sync::Arc<[String]>,
    pub error: Option<String>,
}

impl SourceOutcome {
    pub fn from_entry(entry: &SourceEntry, outcome: &str) -> SourceOutcome {
        SourceOutcome {
            path: entry.path.clone(),
            outcome: outcome.to_string(),
            format: Some(entry.format.clone()),
            counts: entry.counts,
            first_ts: entry.first_ts.clone(),
            last_ts: entry.last_ts.clone(),
            notes: std::sync::Arc::clone(&entry.notes),
            error: None,
        }
    }

    pub fn failed(path: &str, error: String) -> SourceOutcome {
        SourceOutcome {
            path: path.to_string(),
            outcome: "failed".into(),
            format: None,
            counts: Counts::default(),
            first_ts: None,
            last_ts: None,
            notes: Default::default(),
            error: Some(error),
        }
    }

    pub fn skipped(path: &str, why: String) -> SourceOutcome {
        SourceOutcome {
            outcome: "skipped".into(),
            ..SourceOutcome::failed(path, why)
        }
    }
}

/// The result of one import command.
#[derive(Debug, Serialize)]
pub struct ImportReport {
    pub sources: SourceOutcomes,
    /// Decisions that apply to the whole import (business side, time zone).
    pub notes: Vec<String>,
}

impl ImportReport {
    /// 1 when a file failed, or with `strict` when a record was rejected; else 0.
    pub fn exit_code(&self, strict: bool) -> u8 {
        u8::from(self.sources.failed() > 0 || (strict && self.sources.rejected() > 0))
    }
}

/// A file that, inside a sub-folder, keeps the folder out of a walk: `omnitrail gen` puts
/// one in `truth/`, whose CSVs would otherwise read as a contacts export.
pub const IGNORE_MARKER: &str = ".omnitrail-ignore";

/// A path found by [`expand_paths`]: a file (or a Maildir folder) to read, and whether it
/// was named on the command line; or a folder the walk left out, and why.
#[derive(Debug, PartialEq, Eq)]
pub enum Found {
    File(PathBuf, bool),
    Unwalked(PathBuf, String),
}

impl Found {
    /// The file and whether it was named, or the outcome that reports a folder left out.
    pub fn into_file(self) -> Result<(PathBuf, bool), Box<SourceOutcome>> {
        match self {
            Found::File(path, explicit) => Ok((path, explicit)),
            Found::Unwalked(path, why) => Err(Box::new(SourceOutcome::skipped(&path.display().to_string(), why))),
        }
    }
}

/// Expands PATHs: files as given, folders walked recursively (sorted, hidden entries and
/// sub-folders holding an [`IGNORE_MARKER`] skipped). A Maildir folder (`cur/` and `new/`
/// inside) is one unit and is not walked. A folder that cannot be read, or a link back to a
/// folder the walk is inside (which would repeat it without end), is reported, not walked.
pub fn expand_paths(paths: &[PathBuf]) -> Vec<Found> {
    /// `inside`: the canonical paths of the folders being walked, outermost first.
    fn walk(dir: &std::path::Path, inside: &mut Vec<PathBuf>, out: &mut Vec<Found>) {
        // The directory listing says which entries are folders; only links are looked up
        // (a folder of 100 000 chats is otherwise asked about 200 000 times).
        let mut entries: Vec<(PathBuf, bool, bool)> = match std::fs::read_dir(dir) {
            Ok(rd) => rd
                .flatten()
                .map(|e| {
                    let path = e.path();
                    let (is_dir, link) = match e.file_type() {
                        Ok(t) if !t.is_symlink() => (t.is_dir(), false),
                        _ => (path.is_dir(), true),
                    };
                    (path, is_dir, link)
                })
                .collect(),
            Err(e) => {
                out.push(Found::Unwalked(
                    dir.to_path_buf(),
                    format!("cannot read this folder: {e}"),
                ));
                return;
            }
        };
        entries.sort();
        for (p, is_dir, link) in entries {
            let hidden = p
                .file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with('.') || n == "__MACOSX");
            if hidden {
                continue;
            }
            if is_dir && p.join(IGNORE_MARKER).exists() {
                continue;
            }
            if !is_dir || is_maildir(&p) {
                out.push(Found::File(p, false));
                continue;
            }
            // Only a link can lead back to where the walk already is.
            let real = if link {
                std::fs::canonicalize(&p).unwrap_or_else(|_| p.clone())
            } else {
                inside
                    .last()
                    .map_or_else(|| p.clone(), |d| d.join(p.file_name().unwrap_or_default()))
            };
            if let Some(above) = inside.iter().find(|d| **d == real) {
                let why = format!(
                    "a link back to {}, which is being walked: not walked again",
                    above.display()
                );
                out.push(Found::Unwalked(p, why));
                continue;
            }
            inside.push(real);
            walk(&p, inside, out);
            inside.pop();
        }
    }
    let mut out = Vec::new();
    for p in paths {
        if p.is_dir() && !is_maildir(p) {
            let mut inside = vec![std::fs::canonicalize(p).unwrap_or_else(|_| p.clone())];
            walk(p, &mut inside, &mut out);
        } else {
            out.push(Found::File(p.clone(), true));
        }
    }
    out
}

/// A Maildir folder: `cur/` and `new/` inside.
pub fn is_maildir(path: &std::path::Path) -> bool {
    path.join("cur").is_dir() && path.join("new").is_dir()
}

/// UTC milliseconds as RFC 3339 text.
pub fn ms_to_rfc3339(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|d| d.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
        .unwrap_or_default()
}

/// The machine's cores, asked once (an import of 100 000 chats would ask for each).
pub fn cores() -> usize {
    static CORES: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *CORES.get_or_init(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[cfg(unix)]
    fn folders_are_walked_in_order_through_links_past_hidden_ignored_and_maildir_insides() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("exports");
        let other = dir.path().join("elsewhere");
        for d in ["b", "a/deeper", "ignored", "mail/cur", "mail/new", ".hidden"] {
            std::fs::create_dir_all(root.join(d)).unwrap();
        }
        std::fs::create_dir_all(&other).unwrap();
        for f in [
            "z.txt",
            "b/chat.txt",
            "a/deeper/chat.zip",
            "ignored/data.csv",
            "mail/cur/1",
            ".hidden/x.txt",
            ".dotfile",
        ] {
            std::fs::write(root.join(f), "x").unwrap();
        }
        std::fs::write(root.join("ignored").join(IGNORE_MARKER), "").unwrap();
        std::fs::write(other.join("linked.txt"), "x").unwrap();
        std::os::unix::fs::symlink(&other, root.join("link")).unwrap();
        // A link back up: reported once, not walked (it would repeat without end).
        std::os::unix::fs::symlink(&root, root.join("b").join("up")).unwrap();
        let found: Vec<(String, bool)> = expand_paths(std::slice::from_ref(&root))
            .into_iter()
            .map(|f| match f {
                Found::File(p, explicit) => (p.strip_prefix(&root).unwrap().display().to_string(), explicit),
                Found::Unwalked(p, why) => {
                    assert!(why.contains("a link back to"), "{why}");
                    (format!("unwalked {}", p.strip_prefix(&root).unwrap().display()), false)
                }
            })
            .collect();
        let expected = [
            "a/deeper/chat.zip",
            "b/chat.txt",
            "unwalked b/up",
            "link/linked.txt",
            "mail",
            "z.txt",
        ];
        assert_eq!(found, expected.map(|p| (p.to_string(), false)));
        let named = expand_paths(&[root.join("z.txt")]);
        assert_eq!(named, [Found::File(root.join("z.txt"), true)]);
    }
}
