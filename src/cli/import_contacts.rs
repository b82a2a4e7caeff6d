//! `omnitrail import contacts`

use super::import::{interrupted_or, CommonArgs, ImportRun};
use super::output::BarProgress;
use super::Globals;
use clap::Args;
use omnitrail::import::contacts::header::ColumnMap;
use omnitrail::import::contacts::{import_contacts, ContactOptions};
use omnitrail::workspace::Workspace;
use std::path::PathBuf;

#[derive(Debug, Args, Clone, Default)]
pub struct ContactArgs {
    /// Column mapping for contact CSVs, e.g. name=Full Name,email=E-mail,phone=Mobile,company=Org,id=CRM ID
    /// (keys: name, first, middle, last, email, phone, company, id; email and phone may repeat)
    #[arg(long = "contacts-map", value_name = "MAPPING")]
    pub contacts_map: Option<String>,
}

/// Imports contacts (CSV, vCard) without printing; `import contacts`, detection and `audit` share it.
pub fn import_contact_files(
    g: &Globals,
    paths: &[PathBuf],
    common: &CommonArgs,
    args: &ContactArgs,
) -> anyhow::Result<ImportRun> {
    let resolved = common.resolve().and_then(|c| {
        args.contacts_map
            .as_deref()
            .map(ColumnMap::parse)
            .transpose()
            .map(|m| (c, m))
    });
    let (opts, map) = match resolved {
        Ok(r) => r,
        Err(e) => {
            eprintln!("omnitrail: {e}");
            return Ok(Err(2));
        }
    };
    let mut ws = Workspace::open(&g.workspace)?;
    let progress = BarProgress::new(g.quiet);
    match import_contacts(&mut ws, paths, &ContactOptions { map }, &opts, &progress) {
        Ok(r) => Ok(Ok(r)),
        Err(e) => interrupted_or(e),
    }
}
