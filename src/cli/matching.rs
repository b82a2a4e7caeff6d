//! `omnitrail match` and `omnitrail explain`

use super::Globals;
use clap::Args;
use std::path::PathBuf;

#[derive(Debug, Args, Clone)]
pub struct MatchArgs {
    /// Minimum score for a link to join two identities (higher: more precision, less recall)
    #[arg(long, default_value_t = 0.8, value_name = "SCORE")]
    pub threshold: f64,
    /// CSV of `force_link|never_link,identity_a,identity_b`, applied last and always obeyed
    #[arg(long, value_name = "FILE")]
    pub overrides: Option<PathBuf>,
    /// Region for national phone numbers found in text (ISO code, e.g. GB)
    #[arg(long, value_name = "CC")]
    pub region: Option<String>,
}

#[derive(Debug, Args, Clone)]
pub struct ExplainArgs {
    /// Customer id, phone, email or name
    #[arg(value_name = "CUSTOMER")]
    pub customer: String,
}

pub fn run_match(_g: &Globals, _args: MatchArgs) -> anyhow::Result<u8> {
    super::not_built("match")
}

pub fn run_explain(_g: &Globals, _args: ExplainArgs) -> anyhow::Result<u8> {
    super::not_built("explain")
}
