//! Command-line surface: one file per command; each only parses its arguments and calls
//! the library.

mod audit;
mod import;
mod output;
mod status;

use clap::{Args, Parser, Subcommand};
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
    /// Link identities into customers (not built yet)
    #[command(name = "match", after_help = "Example:\n  omnitrail match --threshold 0.9")]
    Match(Pending),
    /// Context-loss reports (not built yet)
    #[command(after_help = "Example:\n  omnitrail report switches --format json")]
    Report(Pending),
    /// One customer's history across channels (not built yet)
    #[command(after_help = "Example:\n  omnitrail timeline +447700900123")]
    Timeline(Pending),
    /// Why these identities are one customer (not built yet)
    #[command(after_help = "Example:\n  omnitrail explain C-000042")]
    Explain(Pending),
    /// Write the consolidated dataset (not built yet)
    #[command(after_help = "Example:\n  omnitrail export --format parquet --out dataset/")]
    Export(Pending),
    /// What the workspace holds, per source: read/imported/rejected/duplicates
    #[command(after_help = "Example:\n  omnitrail status --json")]
    Status(status::StatusArgs),
    /// Synthetic multi-channel dataset with ground truth (not built yet)
    #[command(after_help = "Example:\n  omnitrail gen --customers 1000 --seed 7 --out gen/")]
    Gen(Pending),
}

/// Arguments of a command that is not built yet: accepted, then refused plainly.
#[derive(Debug, Args)]
pub struct Pending {
    #[arg(trailing_var_arg = true, allow_hyphen_values = true, hide = true)]
    pub rest: Vec<String>,
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
    let pending = |name: &str| -> anyhow::Result<u8> {
        eprintln!("omnitrail: `{name}` is not built yet in this version; nothing was done");
        Ok(2)
    };
    match cli.command {
        Command::Audit(args) => audit::run(&globals, args),
        Command::Import(args) => import::run(&globals, args),
        Command::Status(args) => status::run(&globals, args),
        Command::Match(_) => pending("match"),
        Command::Report(_) => pending("report"),
        Command::Timeline(_) => pending("timeline"),
        Command::Explain(_) => pending("explain"),
        Command::Export(_) => pending("export"),
        Command::Gen(_) => pending("gen"),
    }
}
