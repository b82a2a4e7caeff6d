//! Shared output helpers: progress bars on terminals, tables for people.

use indicatif::{ProgressBar, ProgressStyle};
use omnitrail::import::pipeline::Progress;
use omnitrail::import::ImportReport;
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
                ProgressStyle::with_template("{spinner} importing [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} eta {eta}")
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

/// Prints an import report: a table on stdout, notes on stderr (unless quiet).
pub fn print_import_report(report: &ImportReport, quiet: bool) {
    let mut table = comfy_table::Table::new();
    table.load_preset(comfy_table::presets::UTF8_FULL_CONDENSED);
    table.set_header([
        "source",
        "outcome",
        "read",
        "imported",
        "rejected",
        "duplicates",
        "first",
        "last",
    ]);
    for s in &report.sources {
        table.add_row([
            s.path.clone(),
            s.outcome.clone(),
            s.counts.read.to_string(),
            s.counts.imported.to_string(),
            s.counts.rejected.to_string(),
            s.counts.duplicates.to_string(),
            s.first_ts.clone().unwrap_or_default(),
            s.last_ts.clone().unwrap_or_default(),
        ]);
    }
    emit(table);
    for s in &report.sources {
        if let Some(e) = &s.error {
            if s.outcome == "failed" {
                eprintln!("error: {e}");
            } else if !quiet {
                eprintln!("skipped {}: {e}", s.path);
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
