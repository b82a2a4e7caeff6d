//! `omnitrail import calls`

use super::import::{run_importer, CommonArgs, ImportRun};
use super::Globals;
use clap::Args;
use omnitrail::import::calls::generic::ColumnMap;
use omnitrail::import::calls::{import_calls, CallOptions, Dialect};
use omnitrail::import::whatsapp::dates::DateOrder;
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
    /// Day/month order of a/b/yyyy (or a-b-yyyy) dates and two-digit years: set by `import calls
    /// --date-order` or, when formats are detected, by the shared `--date-order`; inferred
    /// per file when absent. Checked in [`CallArgs::resolve`].
    #[arg(skip)]
    pub date_order: Option<DateOrder>,
}

impl CallArgs {
    /// Checks the call options; bad values are usage errors.
    pub fn resolve(&self) -> Result<CallOptions, String> {
        let dialect = self.dialect.as_deref().map(Dialect::parse).transpose()?;
        let map = self.map.as_deref().map(ColumnMap::parse).transpose()?;
        if let Some(o @ (DateOrder::Myd | DateOrder::Dym)) = self.date_order {
            return Err(format!(
                "--date-order {}: call-log dates are day-, month- or year-first (dmy, mdy or ymd)",
                o.flag()
            ));
        }
        if dialect == Some(Dialect::Generic) && map.is_none() {
            return Err(
                "--dialect generic needs --map ts=COLUMN,from=COLUMN,to=COLUMN[,duration=…,status=…,agent=…]".into(),
            );
        }
        // Read as phone numbers by the importer (libphonenumber's metadata loads while the
        // files are hashed); a value without a digit is refused before the workspace opens.
        if let Some(n) = self
            .business_numbers
            .iter()
            .find(|n| !n.bytes().any(|b| b.is_ascii_digit()))
        {
            return Err(format!("--business-number {n:?} is not a phone number"));
        }
        Ok(CallOptions {
            business_numbers: self.business_numbers.clone(),
            dialect,
            map,
            date_order: self.date_order,
        })
    }
}

/// Imports call logs without printing; `import calls`, detection and `audit` share it.
pub fn import_call_files(
    g: &Globals,
    paths: &[PathBuf],
    common: &CommonArgs,
    args: &CallArgs,
) -> anyhow::Result<ImportRun> {
    run_importer(g, paths, common, |_| args.resolve(), import_calls)
}
