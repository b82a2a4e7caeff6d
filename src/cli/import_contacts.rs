//! `omnitrail import contacts`

use super::import::{run_importer, CommonArgs, ImportRun};
use super::Globals;
use clap::Args;
use omnitrail::import::contacts::header::ColumnMap;
use omnitrail::import::contacts::{import_contacts, ContactOptions};
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
    let own = |_: &_| {
        let map = args.contacts_map.as_deref().map(ColumnMap::parse).transpose()?;
        Ok(ContactOptions { map })
    };
    run_importer(g, paths, common, own, import_contacts)
}
