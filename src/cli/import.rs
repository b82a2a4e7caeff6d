//! `omnitrail import`

use super::output::{print_import_report, BarProgress};
use super::Globals;
use clap::{Args, Subcommand};
use omnitrail::import::pipeline::import_whatsapp;
use omnitrail::import::whatsapp::dates::DateOrder;
use omnitrail::import::whatsapp::WhatsAppOptions;
use omnitrail::import::{CommonOptions, ImportError, ImportReport};
use omnitrail::normalize::phone::Region;
use omnitrail::workspace::Workspace;
use std::path::PathBuf;

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct ImportArgs {
    #[command(subcommand)]
    pub format: Option<ImportFormat>,
    /// Files or folders; formats are detected by content
    #[arg(value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    #[command(flatten)]
    pub common: CommonArgs,
    #[command(flatten)]
    pub whatsapp: WhatsAppArgs,
}

#[derive(Debug, Subcommand)]
pub enum ImportFormat {
    /// WhatsApp chat exports: .txt, .zip, or folders of them
    #[command(
        after_help = "Examples:\n  omnitrail import whatsapp \"WhatsApp Chat with Sarah Jones.txt\"\n  omnitrail import whatsapp chats/ --business-name \"Bloom & Stem\" --tz Europe/London --region GB\n  omnitrail import whatsapp old-phone.txt --date-order mdy"
    )]
    Whatsapp {
        #[arg(value_name = "PATH", required = true)]
        paths: Vec<PathBuf>,
        #[command(flatten)]
        common: CommonArgs,
        #[command(flatten)]
        whatsapp: WhatsAppArgs,
    },
    /// Mailboxes: mbox, Maildir, .eml (not built yet)
    Email {
        #[arg(trailing_var_arg = true, allow_hyphen_values = true, hide = true)]
        rest: Vec<String>,
    },
    /// Call logs: Asterisk/FreePBX CDR, Twilio, Android XML (not built yet)
    Calls {
        #[arg(trailing_var_arg = true, allow_hyphen_values = true, hide = true)]
        rest: Vec<String>,
    },
    /// CRM contacts CSV and vCards (not built yet)
    Contacts {
        #[arg(trailing_var_arg = true, allow_hyphen_values = true, hide = true)]
        rest: Vec<String>,
    },
}

/// Options every importer takes.
#[derive(Debug, Args, Clone, Default)]
pub struct CommonArgs {
    /// Time zone of sources that record none (IANA name, e.g. Europe/London); default: this machine's
    #[arg(long, value_name = "ZONE")]
    pub tz: Option<String>,
    /// Region for national phone numbers (ISO code, e.g. GB, US, DE)
    #[arg(long, value_name = "CC")]
    pub region: Option<String>,
    /// Fail (exit 1) when any record is rejected
    #[arg(long)]
    pub strict: bool,
}

#[derive(Debug, Args, Clone, Default)]
pub struct WhatsAppArgs {
    /// Display name of the business in WhatsApp chats (repeatable)
    #[arg(long = "business-name", value_name = "NAME")]
    pub business_names: Vec<String>,
    /// Force the day/month order of WhatsApp dates: dmy, mdy or ymd
    #[arg(long, value_name = "ORDER", value_parser = DateOrder::parse)]
    pub date_order: Option<DateOrder>,
}

impl CommonArgs {
    /// Resolves time zone and region; bad values are usage errors.
    pub fn resolve(&self) -> Result<CommonOptions, String> {
        let (tz, tz_origin) = match &self.tz {
            Some(name) => (
                name.parse::<chrono_tz::Tz>()
                    .map_err(|_| format!("unknown time zone {name:?}: expected an IANA name such as Europe/London"))?,
                "--tz".to_string(),
            ),
            None => match iana_time_zone::get_timezone()
                .ok()
                .and_then(|n| n.parse::<chrono_tz::Tz>().ok())
            {
                Some(tz) => (tz, "this machine's time zone; pass --tz to change".to_string()),
                None => (
                    chrono_tz::UTC,
                    "machine time zone unknown, UTC assumed; pass --tz".to_string(),
                ),
            },
        };
        let region = match &self.region {
            Some(code) => Region::parse(code)?,
            None => Region::none(),
        };
        Ok(CommonOptions {
            tz,
            tz_origin,
            region,
            region_code: self.region.clone().map(|r| r.to_ascii_uppercase()),
        })
    }
}

pub fn run(g: &Globals, args: ImportArgs) -> anyhow::Result<u8> {
    let (paths, common, wa) = match args.format {
        Some(ImportFormat::Whatsapp {
            paths,
            common,
            whatsapp,
        }) => (paths, common, whatsapp),
        Some(ImportFormat::Email { .. }) | Some(ImportFormat::Calls { .. }) | Some(ImportFormat::Contacts { .. }) => {
            eprintln!("omnitrail: this importer is not built yet in this version; nothing was done (available: import whatsapp)");
            return Ok(2);
        }
        None if args.paths.is_empty() => {
            eprintln!(
                "omnitrail: import needs a format (whatsapp) or at least one PATH; see `omnitrail import --help`"
            );
            return Ok(2);
        }
        None => (args.paths, args.common, args.whatsapp),
    };
    run_whatsapp(g, &paths, &common, &wa).map(|(code, _)| code)
}

/// Imports WhatsApp exports and prints the report; shared with `audit`.
pub fn run_whatsapp(
    g: &Globals,
    paths: &[PathBuf],
    common: &CommonArgs,
    wa: &WhatsAppArgs,
) -> anyhow::Result<(u8, Option<ImportReport>)> {
    let opts = match common.resolve() {
        Ok(o) => o,
        Err(e) => {
            eprintln!("omnitrail: {e}");
            return Ok((2, None));
        }
    };
    let wopts = WhatsAppOptions {
        business_names: wa.business_names.clone(),
        date_order: wa.date_order,
    };
    let mut ws = Workspace::open(&g.workspace)?;
    let progress = BarProgress::new(g.quiet);
    let report = match import_whatsapp(&mut ws, paths, &wopts, &opts, &progress) {
        Ok(r) => r,
        Err(ImportError::Interrupted) => {
            eprintln!("omnitrail: interrupted: the workspace was left as it was before this import");
            return Ok((130, None));
        }
        Err(e) => return Err(e.into()),
    };
    if g.json {
        super::output::emit(serde_json::to_string_pretty(&report)?);
    } else {
        print_import_report(&report, g.quiet);
    }
    let code = if report.failed() > 0 || (common.strict && report.rejected() > 0) {
        1
    } else {
        0
    };
    Ok((code, Some(report)))
}
