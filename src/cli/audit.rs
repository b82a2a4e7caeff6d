//! `omnitrail audit PATH…`: detect every supported file under the paths, import it, and
//! print the per-source summary. Matching and reports join as they land.

use super::import::{apply_business_settings, finish, import_detected, CommonArgs, WhatsAppArgs};
use super::import_calls::CallArgs;
use super::import_contacts::ContactArgs;
use super::import_email::EmailArgs;
use super::Globals;
use clap::Args;
use std::path::PathBuf;

#[derive(Debug, Args)]
pub struct AuditArgs {
    /// Files or folders holding exports
    #[arg(value_name = "PATH", required = true)]
    pub paths: Vec<PathBuf>,
    #[command(flatten)]
    pub common: CommonArgs,
    #[command(flatten)]
    pub whatsapp: WhatsAppArgs,
    #[command(flatten)]
    pub email: EmailArgs,
    #[command(flatten)]
    pub calls: CallArgs,
    #[command(flatten)]
    pub contacts: ContactArgs,
}

pub fn run(g: &Globals, args: AuditArgs) -> anyhow::Result<u8> {
    let AuditArgs {
        paths,
        mut common,
        mut whatsapp,
        mut email,
        mut calls,
        contacts,
    } = args;
    apply_business_settings(g, &mut common, &mut whatsapp, &mut email, &mut calls)?;
    let run = import_detected(g, &paths, &common, &whatsapp, &email, &calls, &contacts)?;
    Ok(finish(g, run, common.strict))
}
