//! Command-line surface: one file per command; each only parses its arguments and calls
//! the library.

mod audit;
mod export;
mod gen;
mod import;
mod import_calls;
mod import_contacts;
mod import_email;
mod matching;
mod output;
mod report;
mod status;

use clap::{Parser, Subcommand};
use std::path::PathBuf;

/// Audit and migrate customer communications across WhatsApp, email and phone.
#[derive(Debug, Parser)]
#[command(name = "omnitrail", version, about, long_about = None, after_help = "Example:\n  omnitrail audit fixtures/demo\n  omnitrail --workspace ./client-a import whatsapp exports/ --business-name \"Bloom & Stem\"")]
pub struct Cli {
    /// Workspace folder (default ./omnitrail-data)
    #[arg(long, global = true, env = "OMNITRAIL_WORKSPACE", value_name = "DIR")]
    pub workspace: Option<PathBuf>,
    /// No progress bars or notes on stderr
    #[arg(long, short, global = true)]
    pub quiet: bool,
    /// Machine-readable JSON on stdout
    #[arg(long, global = true)]
    pub json: bool,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Detect, import, match and report in one go
    #[command(after_help = "Example:\n  omnitrail audit fixtures/demo --tz Europe/London --region GB")]
    Audit(audit::AuditArgs),
    /// Import exports into the workspace
    #[command(
        after_help = "Examples:\n  omnitrail import whatsapp \"WhatsApp Chat with Sarah Jones.txt\" --business-name \"Bloom & Stem\"\n  omnitrail import exports/        (formats detected by content)"
    )]
    Import(import::ImportArgs),
    /// Link identities into customers
    #[command(
        name = "match",
        after_help = "Example:\n  omnitrail match --threshold 0.9 --overrides overrides.csv"
    )]
    Match(matching::MatchArgs),
    /// Context-loss reports
    #[command(after_help = "Examples:\n  omnitrail report\n  omnitrail report switches --format json --window 48h")]
    Report(report::ReportArgs),
    /// One customer's history across channels
    #[command(after_help = "Example:\n  omnitrail timeline +447700900123")]
    Timeline(report::TimelineArgs),
    /// Why these identities are one customer
    #[command(after_help = "Example:\n  omnitrail explain C-1a2b3c4d5e")]
    Explain(matching::ExplainArgs),
    /// Write the consolidated dataset
    #[command(
        after_help = "Examples:\n  omnitrail export --format parquet --out dataset/\n  omnitrail export --format hubspot --out hubspot/ --redact"
    )]
    Export(export::ExportArgs),
    /// What the workspace holds, per source: read/imported/rejected/duplicates
    #[command(after_help = "Example:\n  omnitrail status --json")]
    Status(status::StatusArgs),
    /// Synthetic multi-channel dataset with ground truth
    #[command(after_help = "Example:\n  omnitrail gen --customers 1000 --seed 7 --out gen/")]
    Gen(gen::GenArgs),
}

/// Global options every command sees.
pub struct Globals {
    pub workspace: PathBuf,
    pub quiet: bool,
    pub json: bool,
}

/// Runs a parsed command line; returns the exit code.
pub fn run(cli: Cli) -> anyhow::Result<u8> {
    let globals = Globals {
        workspace: cli
            .workspace
            .unwrap_or_else(|| PathBuf::from(omnitrail::workspace::DEFAULT_DIR)),
        quiet: cli.quiet,
        json: cli.json,
    };
    if !globals.quiet {
        omnitrail::workspace::lock::on_wait(|root| {
            eprintln!(
                "omnitrail: waiting for another omnitrail command to finish with {} (Ctrl-C to stop)",
                root.display()
            )
        });
    }
    match cli.command {
        Command::Audit(args) => audit::run(&globals, args),
        Command::Import(args) => import::run(&globals, args),
        Command::Status(args) => status::run(&globals, args),
        Command::Match(args) => matching::run_match(&globals, args),
        Command::Report(args) => report::run_report(&globals, args),
        Command::Timeline(args) => report::run_timeline(&globals, args),
        Command::Explain(args) => matching::run_explain(&globals, args),
        Command::Export(args) => export::run(&globals, args),
        Command::Gen(args) => gen::run(&globals, args),
    }
}
