//! `omnitrail import contacts`

use super::import::{CommonArgs, ImportRun};
use super::Globals;
use clap::Args;
use std::path::PathBuf;

#[derive(Debug, Args, Clone, Default)]
pub struct ContactArgs {
    /// Column mapping for contact CSVs, e.g. name=Full Name,email=E-mail,phone=Mobile,company=Org,id=CRM ID
    #[arg(long = "contacts-map", value_name = "MAPPING")]
    pub contacts_map: Option<String>,
}

/// Imports contacts (CSV, vCard) without printing; `import contacts`, detection and `audit` share it.
pub fn import_contact_files(
    _g: &Globals,
    _paths: &[PathBuf],
    _common: &CommonArgs,
    _args: &ContactArgs,
) -> anyhow::Result<ImportRun> {
    super::not_built("import contacts").map(Err)
}
