//! Shared output helpers: progress bars on terminals, tables for people.

use indicatif::{ProgressBar, ProgressStyle};
use omnitrail::import::pipeline::Progress;
use omnitrail::import::{ImportReport, SourceOutcome};
use omnitrail::workspace::Counts;
use std::collections::BTreeMap;
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
pub fn print_import_report(report: &ImportReport, quiet: bool) {
    emit(import_table(report));
    print_import_messages(report, quiet);
}

/// Imports of more files than this are summarised: one table row per format and outcome
/// (files that failed still get their own), notes and skip reasons shared by files printed
/// once. `--json` keeps every file.
const MANY_SOURCES: usize = 25;
/// Distinct notes (or skip reasons) printed at most, in a summarised import.
const MAX_NOTES: usize = 20;

/// The files of one format and outcome, added up.
#[derive(Default)]
struct FileGroup<'a> {
    files: usize,
    counts: Counts,
    first: Option<&'a str>,
    last: Option<&'a str>,
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
pub fn import_table(report: &ImportReport) -> comfy_table::Table {
    if report.sources.len() <= MANY_SOURCES {
        return sources_table("outcome", report.sources.iter().map(outcome_row));
    }
    let mut groups: BTreeMap<(&str, &str), FileGroup<'_>> = BTreeMap::new();
    let mut singles = Vec::new();
    for s in &report.sources {
        if s.outcome == "failed" {
            singles.push(s);
            continue;
        }
        let g = groups
            .entry((s.format.as_deref().unwrap_or("other"), s.outcome.as_str()))
            .or_default();
        g.files += 1;
        g.counts += s.counts;
        g.first = g.first.into_iter().chain(s.first_ts.as_deref()).min();
        g.last = g.last.into_iter().chain(s.last_ts.as_deref()).max();
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
            first: g.first,
            last: g.last,
        })
        .collect();
    rows.extend(singles.into_iter().map(outcome_row));
    let mut table = sources_table("outcome", rows);
    table.add_row([format!(
        "{} files in all; per file: --json (imported ones: omnitrail status)",
        report.sources.len()
    )]);
    table
}

/// Errors, skipped files and the importers' decisions, on stderr (notes only without `--quiet`).
pub fn print_import_messages(report: &ImportReport, quiet: bool) {
    let many = report.sources.len() > MANY_SOURCES;
    let mut skipped = Vec::new();
    for s in &report.sources {
        if let Some(e) = &s.error {
            if s.outcome == "failed" {
                eprintln!("error: {e}");
            } else {
                // Importer errors already start with the file's name.
                skipped.push((s.path.as_str(), e.strip_prefix(&format!("{}: ", s.path)).unwrap_or(e)));
            }
        }
    }
    if quiet {
        return;
    }
    print_per_file("skipped ", skipped, many);
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
    let notes = report
        .sources
        .iter()
        .flat_map(|s| s.notes.iter().map(|n| (s.path.as_str(), n.as_str())))
        .collect();
    print_per_file("note: ", notes, many);
}

/// `(file, message)` lines on stderr. With many files, a message shared by several is said
/// once with how many and an example, the most common first, and only so many.
fn print_per_file(prefix: &str, messages: Vec<(&str, &str)>, many: bool) {
    if !many {
        for (file, message) in messages {
            eprintln!("{prefix}{file}: {message}");
        }
        return;
    }
    let mut by_message: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (file, message) in messages {
        by_message.entry(message).or_default().push(file);
    }
    let mut grouped: Vec<(&str, Vec<&str>)> = by_message.into_iter().collect();
    grouped.sort_by_key(|(_, files)| std::cmp::Reverse(files.len()));
    for (message, files) in grouped.iter().take(MAX_NOTES) {
        match files.len() {
            1 => eprintln!("{prefix}{}: {message}", files[0]),
            n => eprintln!("{prefix}{n} files (e.g. {}): {message}", files[0]),
        }
    }
    if let Some(rest) = grouped.get(MAX_NOTES..).filter(|r| !r.is_empty()) {
        eprintln!(
            "{prefix}{} more distinct messages ({} files): `--json` lists every file's",
            rest.len(),
            rest.iter().map(|(_, f)| f.len()).sum::<usize>()
        );
    }
}

/// Writes to stdout; a closed pipe (`omnitrail status --json | head`) ends quietly.
/// Writes `value` to stdout as pretty JSON, streamed: the `--json` report of an import
/// of 100 000 files is never held as one string. A closed pipe ends the program quietly.
pub fn emit_json(value: &impl serde::Serialize) -> anyhow::Result<()> {
    use std::io::Write;
    let mut out = std::io::BufWriter::with_capacity(1 << 16, std::io::stdout().lock());
    let written = serde_json::to_writer_pretty(&mut out, value);
    match written.map_err(std::io::Error::from).and_then(|()| {
        out.write_all(b"\n")?;
        out.flush()
    }) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => std::process::exit(0),
        Err(e) => Err(e.into()),
    }
}

pub fn emit(text: impl std::fmt::Display) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    if writeln!(out, "{text}").is_err() {
        std::process::exit(0);
    }
}
