//! `omnitrail gen`

use super::Globals;
use clap::Args;
use std::path::PathBuf;

#[derive(Debug, Args, Clone)]
pub struct GenArgs {
    /// Number of customers
    #[arg(long, default_value_t = 1000, value_name = "N")]
    pub customers: u64,
    /// Seed: the same seed and options always give the same bytes
    #[arg(long, default_value_t = 1, value_name = "S")]
    pub seed: u64,
    /// Output folder
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
}

pub fn run(_g: &Globals, _args: GenArgs) -> anyhow::Result<u8> {
    super::not_built("gen")
}
