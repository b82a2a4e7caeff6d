//! `omnitrail import calls`

use super::import::{CommonArgs, ImportRun};
use super::Globals;
use clap::Args;
use std::path::PathBuf;

#[derive(Debug, Args, Clone, Default)]
pub struct CallArgs {
    /// A number of the business, any format (repeatable)
    #[arg(long = "business-number", value_name = "NUMBER")]
    pub business_numbers: Vec<String>,
    /// Force the dialect: asterisk, cdr-csv, twilio, android-xml, generic
    #[arg(long, value_name = "DIALECT")]
    pub dialect: Option<String>,
    /// Column mapping for generic CSVs, e.g. ts=Start,from=Caller,to=Callee,duration=Seconds,status=Result,agent=Extension
    #[arg(long, value_name = "MAPPING")]
    pub map: Option<String>,
}

/// Imports call logs without printing; `import calls`, detection and `audit` share it.
pub fn import_call_files(
    _g: &Globals,
    _paths: &[PathBuf],
    _common: &CommonArgs,
    _args: &CallArgs,
) -> anyhow::Result<ImportRun> {
    super::not_built("import calls").map(Err)
}
