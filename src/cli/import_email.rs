//! `omnitrail import email`

use super::import::{interrupted_or, CommonArgs, ImportRun};
use super::output::BarProgress;
use super::Globals;
use clap::Args;
use omnitrail::import::email::{import_email, EmailOptions};
use omnitrail::workspace::Workspace;
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
    let opts = match common.resolve() {
        Ok(o) => o,
        Err(e) => {
            eprintln!("omnitrail: {e}");
            return Ok(Err(2));
        }
    };
    for a in &args.business_addresses {
        if !a.contains('@') {
            eprintln!("omnitrail: --business-address {a:?} is not an e-mail address (expected name@domain)");
            return Ok(Err(2));
        }
    }
    let eopts = EmailOptions {
        business_domains: args.business_domains.clone(),
        business_addresses: args.business_addresses.clone(),
        mboxo: args.mboxo,
    };
    let mut ws = Workspace::open(&g.workspace)?;
    let progress = BarProgress::new(g.quiet);
    match import_email(&mut ws, paths, &eopts, &opts, &progress) {
        Ok(r) => Ok(Ok(r)),
        Err(e) => interrupted_or(e),
    }
}
