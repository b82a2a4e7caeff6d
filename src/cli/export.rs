//! `omnitrail export`

use super::Globals;
use clap::Args;
use std::path::PathBuf;

#[derive(Debug, Args, Clone)]
pub struct ExportArgs {
    /// csv, jsonl, parquet, or a platform profile: hubspot, chatwoot, zendesk, salesforce
    #[arg(long, value_name = "FORMAT")]
    pub format: String,
    /// Output folder (replaced atomically)
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Pseudonymise phones, emails, names and free text with a keyed hash
    #[arg(long)]
    pub redact: bool,
    /// Key for --redact (default: a key generated once and kept in the workspace)
    #[arg(
        long = "redact-key",
        value_name = "KEY",
        env = "OMNITRAIL_REDACT_KEY",
        hide_env_values = true
    )]
    pub redact_key: Option<String>,
    /// Only interactions at or after this date/time
    #[arg(long, value_name = "WHEN")]
    pub since: Option<String>,
    /// Only interactions before this date/time
    #[arg(long, value_name = "WHEN")]
    pub until: Option<String>,
    /// Only these channels (repeatable)
    #[arg(long, value_name = "CHANNEL")]
    pub channel: Vec<String>,
    /// File with one customer id per line: export only those customers
    #[arg(long, value_name = "FILE")]
    pub customers: Option<PathBuf>,
}

pub fn run(_g: &Globals, _args: ExportArgs) -> anyhow::Result<u8> {
    super::not_built("export")
}
