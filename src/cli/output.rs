//! Shared output helpers: progress bars on terminals, tables for people.

use indicatif::{ProgressBar, ProgressStyle};
use omnitrail::import::pipeline::Progress;
use omnitrail::import::ImportReport;
use omnitrail::workspace::Counts;
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

/// The per-source outcome table of an import.
pub fn import_table(report: &ImportReport) -> comfy_table::Table {
    sources_table(
        "outcome",
        report.sources.iter().map(|s| SourceRow {
            path: &s.path,
            label: &s.outcome,
            counts: s.counts,
            first: s.first_ts.as_deref(),
            last: s.last_ts.as_deref(),
        }),
    )
}

/// Errors, skipped files and the importers' decisions, on stderr (notes only without `--quiet`).
pub fn print_import_messages(report: &ImportReport, quiet: bool) {
    for s in &report.sources {
        if let Some(e) = &s.error {
            if s.outcome == "failed" {
                eprintln!("error: {e}");
            } else if !quiet {
                // Importer errors already start with the file's name.
                let reason = e.strip_prefix(&format!("{}: ", s.path)).unwrap_or(e);
                eprintln!("skipped {}: {reason}", s.path);
            }
        }
    }
    if quiet {
        return;
    }
    for n in &report.notes {
        eprintln!("note: {n}");
    }
    for s in &report.sources {
        for n in &s.notes {
            eprintln!("note: {}: {n}", s.path);
        }
    }
}

/// Writes to stdout; a closed pipe (`omnitrail status --json | head`) ends quietly.
pub fn emit(text: impl std::fmt::Display) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    if writeln!(out, "{text}").is_err() {
        std::process::exit(0);
    }
}
