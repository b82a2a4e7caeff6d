//! `omnitrail audit PATH…`: the whole pipeline in one go — detect every supported file under
//! the paths, import it, match identities into customers, and print the summary report.

use super::import::{apply_business_settings, import_detected, CommonArgs, WhatsAppArgs};
use super::import_calls::CallArgs;
use super::import_contacts::ContactArgs;
use super::import_email::EmailArgs;
use super::output::{emit, import_table, print_import_messages, print_import_report};
use super::report::{parse_tz, usage, ReportOptions};
use super::Globals;
use clap::Args;
use omnitrail::matcher::{self, MatchOptions, MatchSummary};
use omnitrail::normalize::phone::Region;
use omnitrail::report::{self, render};
use omnitrail::workspace::Workspace;
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
    /// Matcher: minimum score for a link to join two identities (see `omnitrail match --help`)
    #[arg(long, default_value_t = 0.8, value_name = "SCORE", value_parser = super::matching::parse_threshold)]
    pub threshold: f64,
    /// Matcher: CSV of `force_link|never_link,identity_a,identity_b`, applied last
    #[arg(long, value_name = "FILE")]
    pub overrides: Option<PathBuf>,
    #[command(flatten)]
    pub report: ReportOptions,
}

pub fn run(g: &Globals, args: AuditArgs) -> anyhow::Result<u8> {
    let AuditArgs {
        paths,
        mut common,
        mut whatsapp,
        mut email,
        mut calls,
        contacts,
        threshold,
        overrides,
        report: report_options,
    } = args;
    // Check every option before importing anything: a typo must not cost a long import.
    apply_business_settings(g, &mut common, &mut whatsapp, &mut email, &mut calls)?;
    let tz = match parse_tz(common.tz.as_deref()) {
        Ok(tz) => tz,
        Err(e) => return usage(e),
    };
    let settings = match report_options.settings(tz) {
        Ok(s) => s,
        Err(e) => return usage(e),
    };
    let region = match common.region.as_deref().map(Region::parse).transpose() {
        Ok(r) => r.unwrap_or_else(Region::none),
        Err(e) => return usage(format!("--region: {e}")),
    };
    let format = report_options.output_format(g.json);
    let as_json = format == render::Format::Json;
    let table = format == render::Format::Table;

    let imported = match import_detected(g, &paths, &common, &whatsapp, &email, &calls, &contacts)? {
        Ok(r) => r,
        Err(code) => return Ok(code),
    };
    // The import table belongs on stdout only next to the table report; other formats are
    // files a script or a browser reads, so it goes to stderr with the notes.
    if table {
        print_import_report(&imported, g.quiet)?;
    } else if !as_json {
        if !g.quiet {
            eprintln!("{}", import_table(&imported)?);
        }
        print_import_messages(&imported, g.quiet)?;
    }
    let import_code = imported.exit_code(common.strict);

    let nothing_found = || {
        let list: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
        eprintln!(
            "omnitrail: nothing was imported from {}: no supported export found (WhatsApp chats, mailboxes, call logs, contacts)",
            list.join(", ")
        );
        Ok(1)
    };
    // No workspace yet means this audit imported nothing and none was there before.
    if !g.workspace.join("manifest.json").exists() {
        return nothing_found();
    }
    let ws = Workspace::open_existing_to_change(&g.workspace)?;
    let opts = MatchOptions {
        threshold,
        region,
        overrides,
    };
    let Some(matched) = matcher::run(&ws, &opts)? else {
        return nothing_found();
    };
    if table {
        emit(match_line(&matched));
    } else if !g.quiet && !as_json {
        eprintln!("{}", match_line(&matched));
    }

    let summary = report::summary(&ws, &settings)?;
    if as_json {
        // The report's own keys at the top level (scripts read them as from `report --json`),
        // with what the import and the matcher did beside them.
        let mut value = serde_json::to_value(&summary)?;
        if let Some(obj) = value.as_object_mut() {
            obj.insert("import".into(), serde_json::to_value(&imported)?);
            obj.insert("match".into(), serde_json::to_value(&matched)?);
        }
        super::output::emit_json(&value)?;
    } else {
        emit(render::summary(&summary, format)?);
    }
    Ok(import_code)
}

fn match_line(m: &MatchSummary) -> String {
    format!(
        "Matched {} identities into {} customers ({} with two or more identities, threshold {}); \
         `omnitrail explain CUSTOMER` shows why, `omnitrail report customers` lists them.\n",
        m.identities, m.customers, m.linked_customers, m.threshold
    )
}
