//! `omnitrail import`

use super::import_calls::{import_call_files, CallArgs};
use super::import_contacts::{import_contact_files, ContactArgs};
use super::import_email::{import_email_files, EmailArgs};
use super::output::{print_import_report, BarProgress};
use super::Globals;
use clap::{Args, Subcommand};
use omnitrail::config::BusinessSettings;
use omnitrail::import::detect::{group_by_format, Format};
use omnitrail::import::pipeline::import_whatsapp;
use omnitrail::import::pipeline::Progress;
use omnitrail::import::whatsapp::dates::DateOrder;
use omnitrail::import::whatsapp::WhatsAppOptions;
use omnitrail::import::{CommonOptions, ImportError, ImportReport, SourceOutcomes};
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
    #[command(flatten)]
    pub email: EmailArgs,
    #[command(flatten)]
    pub calls: CallArgs,
    #[command(flatten)]
    pub contacts: ContactArgs,
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
    /// Mailboxes: mbox, Maildir folders, .eml files, or folders of them
    #[command(
        after_help = "Examples:\n  omnitrail import email support.mbox --business-domain bloomandstem.co.uk\n  omnitrail import email Maildir/ --business-address orders@bloomandstem.co.uk --tz Europe/London"
    )]
    Email {
        #[arg(value_name = "PATH", required = true)]
        paths: Vec<PathBuf>,
        #[command(flatten)]
        common: CommonArgs,
        #[command(flatten)]
        email: EmailArgs,
    },
    /// Call logs: Asterisk/FreePBX CDR, Twilio CSV, Android XML, or a mapped CSV
    #[command(
        after_help = "Examples:\n  omnitrail import calls Master.csv --business-number \"+44 20 7946 0000\" --region GB\n  omnitrail import calls log.csv --dialect generic --map ts=Start,from=Caller,to=Callee,duration=Seconds,status=Result,agent=Extension\n  omnitrail import calls export.csv --date-order mdy"
    )]
    Calls {
        #[arg(value_name = "PATH", required = true)]
        paths: Vec<PathBuf>,
        #[command(flatten)]
        common: CommonArgs,
        #[command(flatten)]
        calls: CallArgs,
        /// Force the day/month order of a/b/yyyy (or a-b-yyyy) dates and two-digit years: dmy, mdy or ymd
        /// (default: inferred per file from dates with a field over 12)
        #[arg(long, value_name = "ORDER", value_parser = DateOrder::parse)]
        date_order: Option<DateOrder>,
    },
    /// Contacts: CRM CSV exports and vCards (.vcf)
    #[command(
        after_help = "Examples:\n  omnitrail import contacts crm-contacts.csv --region GB\n  omnitrail import contacts phone-book.vcf"
    )]
    Contacts {
        #[arg(value_name = "PATH", required = true)]
        paths: Vec<PathBuf>,
        #[command(flatten)]
        common: CommonArgs,
        #[command(flatten)]
        contacts: ContactArgs,
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
    /// Business settings (TOML: whatsapp_names, domains, addresses, numbers, region, tz), e.g. the
    /// business.toml that `omnitrail gen` writes; default: omnitrail.toml in the workspace. Flags win.
    #[arg(long = "business-file", value_name = "FILE")]
    pub business_file: Option<PathBuf>,
}

/// Fills options the user did not give from the business settings file; flags win.
pub fn apply_business_settings(
    g: &Globals,
    common: &mut CommonArgs,
    wa: &mut WhatsAppArgs,
    email: &mut EmailArgs,
    calls: &mut CallArgs,
) -> anyhow::Result<()> {
    let source = match &common.business_file {
        Some(p) => p.clone(),
        None => g.workspace.join(omnitrail::config::WORKSPACE_SETTINGS),
    };
    let s = BusinessSettings::resolve(common.business_file.as_deref(), &g.workspace)?;
    let mut used = Vec::new();
    if common.region.is_none() && s.region.is_some() {
        common.region = s.region;
        used.push("region");
    }
    if common.tz.is_none() && s.tz.is_some() {
        common.tz = s.tz;
        used.push("tz");
    }
    let mut fill = |flags: &mut Vec<String>, from_file: Vec<String>, what: &'static str| {
        if flags.is_empty() && !from_file.is_empty() {
            *flags = from_file;
            used.push(what);
        }
    };
    fill(&mut wa.business_names, s.whatsapp_names, "whatsapp_names");
    fill(&mut email.business_domains, s.domains, "domains");
    fill(&mut email.business_addresses, s.addresses, "addresses");
    fill(&mut calls.business_numbers, s.numbers, "numbers");
    if !used.is_empty() && !g.quiet && !g.json {
        eprintln!("note: taken from {}: {}", source.display(), used.join(", "));
    }
    Ok(())
}

#[derive(Debug, Args, Clone, Default)]
pub struct WhatsAppArgs {
    /// Display name of the business in WhatsApp chats (repeatable)
    #[arg(long = "business-name", value_name = "NAME")]
    pub business_names: Vec<String>,
    /// Force the day/month order of dates: dmy, mdy or ymd (WhatsApp chats and, with `import PATH…`/`audit`, call logs; default: inferred per file)
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

/// What an importer run gives the CLI: a report to print, or an exit code when it stopped
/// early (bad usage, Ctrl-C) after saying why.
pub type ImportRun = Result<ImportReport, u8>;

pub fn run(g: &Globals, args: ImportArgs) -> anyhow::Result<u8> {
    let (mut wa, mut email, mut calls) = (WhatsAppArgs::default(), EmailArgs::default(), CallArgs::default());
    let (run, strict) = match args.format {
        Some(ImportFormat::Whatsapp {
            paths,
            mut common,
            mut whatsapp,
        }) => {
            apply_business_settings(g, &mut common, &mut whatsapp, &mut email, &mut calls)?;
            (import_whatsapp_files(g, &paths, &common, &whatsapp)?, common.strict)
        }
        Some(ImportFormat::Email {
            paths,
            mut common,
            email: mut e,
        }) => {
            apply_business_settings(g, &mut common, &mut wa, &mut e, &mut calls)?;
            (import_email_files(g, &paths, &common, &e)?, common.strict)
        }
        Some(ImportFormat::Calls {
            paths,
            mut common,
            calls: mut c,
            date_order,
        }) => {
            c.date_order = date_order;
            apply_business_settings(g, &mut common, &mut wa, &mut email, &mut c)?;
            (import_call_files(g, &paths, &common, &c)?, common.strict)
        }
        Some(ImportFormat::Contacts {
            paths,
            mut common,
            contacts,
        }) => {
            apply_business_settings(g, &mut common, &mut wa, &mut email, &mut calls)?;
            (import_contact_files(g, &paths, &common, &contacts)?, common.strict)
        }
        None if args.paths.is_empty() => {
            eprintln!(
                "omnitrail: import needs a format (whatsapp, email, calls, contacts) or at least one PATH; see `omnitrail import --help`"
            );
            return Ok(2);
        }
        None => {
            let (mut common, mut wa, mut email, mut calls) = (args.common, args.whatsapp, args.email, args.calls);
            apply_business_settings(g, &mut common, &mut wa, &mut email, &mut calls)?;
            let run = import_detected(g, &args.paths, &common, &wa, &email, &calls, &args.contacts)?;
            (run, common.strict)
        }
    };
    Ok(finish(g, run, strict))
}

/// Prints an import run and returns its exit code: 1 when a file failed, or with
/// `--strict` when a record was rejected.
pub fn finish(g: &Globals, run: ImportRun, strict: bool) -> u8 {
    let report = match run {
        Ok(r) => r,
        Err(code) => return code,
    };
    if g.json {
        if let Err(e) = super::output::emit_json(&report) {
            eprintln!("omnitrail: cannot write the report: {e}");
            return 1;
        }
    } else if let Err(e) = print_import_report(&report, g.quiet) {
        eprintln!("omnitrail: cannot write the report: {e:#}");
        return 1;
    }
    report.exit_code(strict)
}

/// Detects the format of every file under PATHs and runs each importer on its files,
/// as one report. Used by `import PATH…` and `audit`.
#[allow(clippy::too_many_arguments)]
pub fn import_detected(
    g: &Globals,
    paths: &[PathBuf],
    common: &CommonArgs,
    wa: &WhatsAppArgs,
    email: &EmailArgs,
    calls: &CallArgs,
    contacts: &ContactArgs,
) -> anyhow::Result<ImportRun> {
    let (groups, skipped) = group_by_format(paths);
    let mut all = ImportReport {
        sources: SourceOutcomes::default(),
        notes: Vec::new(),
    };
    for s in skipped {
        all.sources.push(s)?;
    }
    // Contacts first: later importers and the matcher can use them as anchors.
    let order = [Format::Contacts, Format::WhatsApp, Format::Email, Format::Calls];
    for format in order {
        let Some(files) = groups.get(&format) else { continue };
        let run = match format {
            Format::WhatsApp => import_whatsapp_files(g, files, common, wa)?,
            Format::Email => import_email_files(g, files, common, email)?,
            Format::Calls => {
                // One `--date-order` for every format when formats are detected.
                let calls = CallArgs {
                    date_order: wa.date_order,
                    ..calls.clone()
                };
                import_call_files(g, files, common, &calls)?
            }
            Format::Contacts => import_contact_files(g, files, common, contacts)?,
        };
        match run {
            Ok(report) => {
                all.sources.append(report.sources);
                for n in report.notes {
                    if !all.notes.contains(&n) {
                        all.notes.push(n);
                    }
                }
            }
            Err(130) => return Ok(Err(130)),
            Err(code) => return Ok(Err(code)),
        }
    }
    Ok(Ok(all))
}

/// What every importer takes and returns (`import_whatsapp`, `import_email`, …).
pub type Importer<O> =
    fn(&mut Workspace, &[PathBuf], &O, &CommonOptions, &dyn Progress) -> Result<ImportReport, ImportError>;

/// Resolves the options every importer shares and this importer's own (a bad value is a
/// usage error: exit 2, nothing imported), then runs `import` into the workspace without printing.
pub fn run_importer<O>(
    g: &Globals,
    paths: &[PathBuf],
    common: &CommonArgs,
    own: impl FnOnce(&CommonOptions) -> Result<O, String>,
    import: Importer<O>,
) -> anyhow::Result<ImportRun> {
    let (opts, own) = match common.resolve().and_then(|c| own(&c).map(|o| (c, o))) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("omnitrail: {e}");
            return Ok(Err(2));
        }
    };
    let mut ws = Workspace::open(&g.workspace)?;
    let progress = BarProgress::new(g.quiet);
    match import(&mut ws, paths, &own, &opts, &progress) {
        Ok(r) => Ok(Ok(r)),
        Err(e) => interrupted_or(e),
    }
}

/// Runs the WhatsApp importer without printing.
pub fn import_whatsapp_files(
    g: &Globals,
    paths: &[PathBuf],
    common: &CommonArgs,
    wa: &WhatsAppArgs,
) -> anyhow::Result<ImportRun> {
    let own = |_: &CommonOptions| {
        Ok(WhatsAppOptions {
            business_names: wa.business_names.clone(),
            date_order: wa.date_order,
            workers: None,
        })
    };
    run_importer(g, paths, common, own, import_whatsapp)
}

/// Maps an importer error: Ctrl-C becomes exit 130 (after saying so), anything else fails.
pub fn interrupted_or(e: ImportError) -> anyhow::Result<ImportRun> {
    match e {
        ImportError::Interrupted => {
            eprintln!("omnitrail: interrupted: the workspace was left as it was before this import");
            Ok(Err(130))
        }
        ImportError::Usage(message) => {
            eprintln!("omnitrail: {message}");
            Ok(Err(2))
        }
        e => Err(e.into()),
    }
}
