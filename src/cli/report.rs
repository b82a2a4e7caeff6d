//! `omnitrail report` and `omnitrail timeline`

use super::Globals;
use clap::{Args, ValueEnum};

/// Output format of reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReportFormat {
    Table,
    Json,
    Csv,
    Markdown,
    Html,
}

/// Options every report takes (also accepted by `audit`).
#[derive(Debug, Args, Clone)]
pub struct ReportOptions {
    /// Output format (default: table; json when --json is given)
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub format: Option<ReportFormat>,
    /// Gap that ends an episode
    #[arg(long, default_value = "72h", value_name = "DURATION")]
    pub window: String,
    /// Time within which an inbound contact must get a response
    #[arg(long, default_value = "24h", value_name = "DURATION")]
    pub sla: String,
    /// Window for counting repeat contacts
    #[arg(long = "repeat-window", default_value = "7d", value_name = "DURATION")]
    pub repeat_window: String,
    /// Only interactions at or after this date/time (YYYY-MM-DD or RFC 3339)
    #[arg(long, value_name = "WHEN")]
    pub since: Option<String>,
    /// Only interactions before this date/time (YYYY-MM-DD or RFC 3339)
    #[arg(long, value_name = "WHEN")]
    pub until: Option<String>,
    /// Only these channels (repeatable: whatsapp, email, call)
    #[arg(long, value_name = "CHANNEL")]
    pub channel: Vec<String>,
}

#[derive(Debug, Args, Clone)]
pub struct ReportArgs {
    /// summary (default), switches, unanswered, repeats, agents, customers, metrics
    #[arg(value_name = "KIND", default_value = "summary")]
    pub kind: String,
    #[command(flatten)]
    pub options: ReportOptions,
}

#[derive(Debug, Args, Clone)]
pub struct TimelineArgs {
    /// Customer id, phone, email or name
    #[arg(value_name = "CUSTOMER")]
    pub customer: String,
    #[command(flatten)]
    pub options: ReportOptions,
}

pub fn run_report(_g: &Globals, _args: ReportArgs) -> anyhow::Result<u8> {
    super::not_built("report")
}

pub fn run_timeline(_g: &Globals, _args: TimelineArgs) -> anyhow::Result<u8> {
    super::not_built("timeline")
}
