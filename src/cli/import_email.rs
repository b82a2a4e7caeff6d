//! `omnitrail import email`

use super::import::{run_importer, CommonArgs, ImportRun};
use super::Globals;
use clap::Args;
use omnitrail::import::email::{import_email, EmailOptions};
use std::path::PathBuf;

#[derive(Debug, Args, Clone, Default)]
pub struct EmailArgs {
    /// Domain of the business's own mail (repeatable), e.g. bloomandstem.co.uk
    #[arg(long = "business-domain", value_name = "DOMAIN")]
    pub business_domains: Vec<String>,
    /// An address of the business (repeatable), e.g. orders@bloomandstem.co.uk
    #[arg(long = "business-address", value_name = "ADDRESS")]
    pub business_addresses: Vec<String>,
    /// mbox files are mboxo: keep `>From ` body lines as written (default: undo mboxrd quoting)
    #[arg(long)]
    pub mboxo: bool,
}

/// Imports mailboxes without printing; `import email`, detection and `audit` share it.
pub fn import_email_files(
    g: &Globals,
    paths: &[PathBuf],
    common: &CommonArgs,
    args: &EmailArgs,
) -> anyhow::Result<ImportRun> {
    let own = |_: &_| {
        if let Some(a) = args.business_addresses.iter().find(|a| !a.contains('@')) {
            return Err(format!(
                "--business-address {a:?} is not an e-mail address (expected name@domain)"
            ));
        }
        Ok(EmailOptions {
            business_domains: args.business_domains.clone(),
            business_addresses: args.business_addresses.clone(),
            mboxo: args.mboxo,
        })
    };
    run_importer(g, paths, common, own, import_email)
}
