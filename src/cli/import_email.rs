//! `omnitrail import email`

use super::import::{CommonArgs, ImportRun};
use super::Globals;
use clap::Args;
use std::path::PathBuf;

#[derive(Debug, Args, Clone, Default)]
pub struct EmailArgs {
    /// Domain of the business's own mail (repeatable), e.g. bloomandstem.co.uk
    #[arg(long = "business-domain", value_name = "DOMAIN")]
    pub business_domains: Vec<String>,
    /// An address of the business (repeatable), e.g. orders@bloomandstem.co.uk
    #[arg(long = "business-address", value_name = "ADDRESS")]
    pub business_addresses: Vec<String>,
}

/// Imports mailboxes without printing; `import email`, detection and `audit` share it.
pub fn import_email_files(
    _g: &Globals,
    _paths: &[PathBuf],
    _common: &CommonArgs,
    _args: &EmailArgs,
) -> anyhow::Result<ImportRun> {
    super::not_built("import email").map(Err)
}
