//! `omnitrail import calls`

use super::import::{interrupted_or, CommonArgs, ImportRun};
use super::output::BarProgress;
use super::Globals;
use clap::Args;
use omnitrail::import::calls::generic::ColumnMap;
use omnitrail::import::calls::{import_calls, CallOptions, Dialect};
use omnitrail::normalize::phone::to_e164;
use omnitrail::workspace::Workspace;
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

impl CallArgs {
    /// Checks the call options; bad values are usage errors.
    pub fn resolve(&self, region: omnitrail::normalize::phone::Region) -> Result<CallOptions, String> {
        let dialect = self.dialect.as_deref().map(Dialect::parse).transpose()?;
        let map = self.map.as_deref().map(ColumnMap::parse).transpose()?;
        if dialect == Some(Dialect::Generic) && map.is_none() {
            return Err(
                "--dialect generic needs --map ts=COLUMN,from=COLUMN,to=COLUMN[,duration=…,status=…,agent=…]".into(),
            );
        }
        for n in &self.business_numbers {
            if to_e164(n, region).is_none() {
                return Err(format!(
                    "--business-number {n:?} is not a phone number (national numbers need --region)"
                ));
            }
        }
        Ok(CallOptions {
            business_numbers: self.business_numbers.clone(),
            dialect,
            map,
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
    let opts = match common.resolve() {
        Ok(o) => o,
        Err(e) => {
            eprintln!("omnitrail: {e}");
            return Ok(Err(2));
        }
    };
    let copts = match args.resolve(opts.region) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("omnitrail: {e}");
            return Ok(Err(2));
        }
    };
    let mut ws = Workspace::open(&g.workspace)?;
    let progress = BarProgress::new(g.quiet);
    match import_calls(&mut ws, paths, &copts, &opts, &progress) {
        Ok(r) => Ok(Ok(r)),
        Err(e) => interrupted_or(e),
    }
}
