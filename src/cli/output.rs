//! Shared output helpers: progress bars on terminals, tables for people.

use indicatif::{ProgressBar, ProgressStyle};
use omnitrail::import::pipeline::Progress;
use omnitrail::import::{ImportReport, SourceOutcome};
use omnitrail::workspace::Counts;
use std::collections::{BTreeMap, HashMap};
use std::io::IsTerminal;

/// A byte progress bar on stderr, shown only when stderr is a terminal and not `--quiet`.
pub struct BarProgress(Option<ProgressBar>);

impl BarProgress {
    pub fn new(quiet: bool) -> BarProgress {
        BarProgress((!quiet && std::io::stderr().is_terminal()).then(ProgressBar::hidden))
    }
}

impl Progress for BarProgress {
    fn start(&self, total: u64) {
        if let Some(bar) = &self.0 {
            bar.set_length(total);
            bar.set_style(
                ProgressStyle::with_template(
                    "{spinner} importing [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
                )
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
            );
            bar.set_draw_target(indicatif::ProgressDrawTarget::stderr());
        }
    }
    fn advance(&self, bytes: u64) {
        if let Some(bar) = &self.0 {
            bar.inc(bytes);
        }
    }
    fn finish(&self) {
        if let Some(bar) = &self.0 {
            bar.finish_and_clear();
        }
    }
}

/// One row of a per-source accounting table.
pub struct SourceRow<'a> {
    pub path: &'a str,
    /// Outcome (import) or format (status).
    pub label: &'a str,
    pub counts: Counts,
    pub first: Option<&'a str>,
    pub last: Option<&'a str>,
}

/// The per-source table shared by `import`, `audit` and `status`.
pub fn sources_table<'a>(label: &str, rows: impl IntoIterator<Item = SourceRow<'a>>) -> comfy_table::Table {
    let mut table = comfy_table::Table::new();
    table.load_preset(comfy_table::presets::UTF8_FULL_CONDENSED);
    table.set_header([
        "source",
        label,
        "read",
        "imported",
        "rejected",
        "duplicates",
        "first",
        "last",
    ]);
    for r in rows {
        table.add_row([
            r.path.to_string(),
            r.label.to_string(),
            r.counts.read.to_string(),
            r.counts.imported.to_string(),
            r.counts.rejected.to_string(),
            r.counts.duplicates.to_string(),
            r.first.unwrap_or_default().to_string(),
            r.last.unwrap_or_default().to_string(),
        ]);
    }
    table
}

/// Prints an import report: a table on stdout, notes on stderr (unless quiet).
pub fn print_import_report(report: &ImportReport, quiet: bool) -> anyhow::Result<()> {
    emit(import_table(report)?);
    print_import_messages(report, quiet)
}

/// Imports of more files than this are summarised: one table row per format and outcome
/// (files that failed still get their own), notes and skip reasons shared by files printed
/// once. `--json` keeps every file.
const MANY_SOURCES: usize = 25;
/// Distinct notes (or skip reasons) printed at most, in a summarised import.
const MAX_NOTES: usize = 20;

/// The files of one format and outcome, added up.
#[derive(Default)]
struct FileGroup {
    files: usize,
    counts: Counts,
    first: Option<String>,
    last: Option<String>,
}

impl FileGroup {
    fn add(&mut self, s: &SourceOutcome) {
        self.files += 1;
        self.counts += s.counts;
        if let Some(t) = &s.first_ts {
            if self.first.as_ref().is_none_or(|first| t < first) {
                self.first = Some(t.clone());
            }
        }
        if let Some(t) = &s.last_ts {
            if self.last.as_ref().is_none_or(|last| t > last) {
                self.last = Some(t.clone());
            }
        }
    }
}

fn outcome_row(s: &SourceOutcome) -> SourceRow<'_> {
    SourceRow {
        path: &s.path,
        label: &s.outcome,
        counts: s.counts,
        first: s.first_ts.as_deref(),
        last: s.last_ts.as_deref(),
    }
}

/// The per-source outcome table of an import.
pub fn import_table(report: &ImportReport) -> anyhow::Result<comfy_table::Table> {
    let sources = &report.sources;
    if sources.len() <= MANY_SOURCES {
        let all: Vec<_> = sources.iter().collect::<anyhow::Result<_>>()?;
        return Ok(sources_table("outcome", all.iter().map(|s| outcome_row(s))));
    }
    let mut groups: BTreeMap<(String, String), FileGroup> = BTreeMap::new();
    let mut singles = Vec::new();
    for s in sources.iter() {
        let s = s?;
        if s.outcome == "failed" {
            singles.push(s.into_owned());
            continue;
        }
        let format = s.format.as_deref().unwrap_or("other");
        groups
            .entry((format.to_string(), s.outcome.clone()))
            .or_default()
            .add(&s);
    }
    let labels: Vec<String> = groups
        .iter()
        .map(|((format, _), g)| format!("{} {format} file{}", g.files, if g.files == 1 { "" } else { "s" }))
        .collect();
    let mut rows: Vec<SourceRow<'_>> = groups
        .iter()
        .zip(&labels)
        .map(|(((_, outcome), g), label)| SourceRow {
            path: label,
            label: outcome,
            counts: g.counts,
            first: g.first.as_deref(),
            last: g.last.as_deref(),
        })
        .collect();
    rows.extend(singles.iter().map(outcome_row));
    let mut table = sources_table("outcome", rows);
    table.add_row([format!(
        "{} files in all; per file: --json (imported ones: omnitrail status)",
        sources.len()
    )]);
    Ok(table)
}

/// Errors, skipped files and the importers' decisions, on stderr (notes only without `--quiet`).
pub fn print_import_messages(report: &ImportReport, quiet: bool) -> anyhow::Result<()> {
    let many = report.sources.len() > MANY_SOURCES;
    let (mut skipped, mut notes) = (PerFile::new(many), PerFile::new(many));
    for s in report.sources.iter() {
        let s = s?;
        if let Some(e) = &s.error {
            if s.outcome == "failed" {
                eprintln!("error: {e}");
            } else if !quiet {
                // Importer errors already start with the file's name.
                skipped.add(&s.path, e.strip_prefix(&format!("{}: ", s.path)).unwrap_or(e));
            }
        }
        if !quiet {
            s.notes.iter().for_each(|n| notes.add(&s.path, n));
        }
    }
    if quiet {
        return Ok(());
    }
    skipped.print("skipped ");
    let shown = if many { MAX_NOTES } else { usize::MAX };
    for n in report.notes.iter().take(shown) {
        eprintln!("note: {n}");
    }
    if report.notes.len() > shown {
        eprintln!(
            "note: {} more notes like these; `--json` lists them all",
            report.notes.len() - shown
        );
    }
    notes.print("note: ");
    Ok(())
}

/// `(file, message)` lines for stderr. With many files, messages of one kind (see
/// [`omnitrail::import::message_kind`]) are said once, with how many files and one of them
/// as the example, the most common first, and only so many: what is kept grows with the
/// kinds of message, not with the files.
enum PerFile {
    Each(Vec<(String, String)>),
    Alike(HashMap<String, MessageGroup>),
}

/// Files whose messages are alike, and one of them.
struct MessageGroup {
    files: usize,
    example_file: String,
    example: String,
    /// Every message of the group is the example's, word for word.
    same: bool,
}

impl PerFile {
    fn new(many: bool) -> PerFile {
        if many {
            PerFile::Alike(HashMap::new())
        } else {
            PerFile::Each(Vec::new())
        }
    }

    fn add(&mut self, file: &str, message: &str) {
        match self {
            PerFile::Each(lines) => lines.push((file.to_string(), message.to_string())),
            PerFile::Alike(groups) => {
                let group = groups
                    .entry(omnitrail::import::message_kind(message))
                    .or_insert_with(|| MessageGroup {
                        files: 0,
                        example_file: file.to_string(),
                        example: message.to_string(),
                        same: true,
                    });
                group.files += 1;
                group.same &= group.example == message;
            }
        }
    }

    fn print(self, prefix: &str) {
        let groups = match self {
            PerFile::Each(lines) => {
                for (file, message) in lines {
                    eprintln!("{prefix}{file}: {message}");
                }
                return;
            }
            PerFile::Alike(groups) => groups,
        };
        let mut grouped: Vec<MessageGroup> = groups.into_values().collect();
        grouped.sort_by(|a, b| b.files.cmp(&a.files).then_with(|| a.example.cmp(&b.example)));
        for g in grouped.iter().take(MAX_NOTES) {
            match (g.files, g.same) {
                (1, _) => eprintln!("{prefix}{}: {}", g.example_file, g.example),
                (n, true) => eprintln!("{prefix}{n} files (e.g. {}): {}", g.example_file, g.example),
                (n, false) => eprintln!(
                    "{prefix}{n} files, alike but for names and numbers (e.g. {}): {}",
                    g.example_file, g.example
                ),
            }
        }
        if let Some(rest) = grouped.get(MAX_NOTES..).filter(|r| !r.is_empty()) {
            eprintln!(
                "{prefix}{} more kinds of message ({} files): `--json` lists every file's",
                rest.len(),
                rest.iter().map(|g| g.files).sum::<usize>()
            );
        }
    }
}

/// Writes `value` to stdout as pretty JSON, streamed: the `--json` report of an import
/// of 100 000 files is never held as one string. A closed pipe ends the program quietly.
pub fn emit_json(value: &impl serde::Serialize) -> anyhow::Result<()> {
    emit_streamed(|out| {
        serde_json::to_writer_pretty(&mut *out, value).map_err(std::io::Error::from)?;
        Ok(out.write_all(b"\n")?)
    })
}

/// Runs `write` on a buffered stdout and flushes it. A closed pipe (`omnitrail status --json
/// | head`) ends the program quietly.
pub fn emit_streamed(write: impl FnOnce(&mut dyn std::io::Write) -> anyhow::Result<()>) -> anyhow::Result<()> {
    use std::io::Write;
    let mut out = std::io::BufWriter::with_capacity(1 << 16, std::io::stdout().lock());
    match write(&mut out).and_then(|()| Ok(out.flush()?)) {
        Ok(()) => Ok(()),
        Err(e) if is_broken_pipe(&e) => std::process::exit(0),
        Err(e) => Err(e),
    }
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

pub fn emit(text: impl std::fmt::Display) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    if writeln!(out, "{text}").is_err() {
        std::process::exit(0);
    }
}
