//! `omnitrail report` and `omnitrail timeline`

use super::output::emit;
use super::Globals;
use chrono_tz::Tz;
use clap::{Args, ValueEnum};
use omnitrail::normalize::phone::Region;
use omnitrail::report::render::{self, Format};
use omnitrail::report::settings::{parse_channel, parse_duration, parse_instant};
use omnitrail::report::{self, DetailKind, ReportSettings};
use omnitrail::workspace::Workspace;

/// Output format of reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReportFormat {
    Table,
    Json,
    Csv,
    Markdown,
    Html,
}

/// Options every report takes (also accepted by `audit`).
#[derive(Debug, Args, Clone)]
pub struct ReportOptions {
    /// Output format (default: table; json when --json is given)
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub format: Option<ReportFormat>,
    /// Gap that ends an episode
    #[arg(long, default_value = "72h", value_name = "DURATION")]
    pub window: String,
    /// Time within which an inbound contact must get a response
    #[arg(long, default_value = "24h", value_name = "DURATION")]
    pub sla: String,
    /// Window for counting repeat contacts
    #[arg(long = "repeat-window", default_value = "7d", value_name = "DURATION")]
    pub repeat_window: String,
    /// Only interactions at or after this date/time (YYYY-MM-DD or RFC 3339)
    #[arg(long, value_name = "WHEN")]
    pub since: Option<String>,
    /// Only interactions before this date/time (YYYY-MM-DD or RFC 3339)
    #[arg(long, value_name = "WHEN")]
    pub until: Option<String>,
    /// Only these channels (repeatable: whatsapp, email, call)
    #[arg(long, value_name = "CHANNEL")]
    pub channel: Vec<String>,
    /// Inbound messages on one channel closer than this, with nothing in between, are one contact
    #[arg(long = "contact-gap", default_value = "10m", value_name = "DURATION")]
    pub contact_gap: String,
}

impl ReportOptions {
    /// The library settings these options stand for; `tz` shows times and reads bare `--since`/`--until` dates.
    pub fn settings(&self, tz: Tz) -> anyhow::Result<ReportSettings> {
        let mut channels = Vec::new();
        for c in &self.channel {
            for part in c.split(',').filter(|p| !p.trim().is_empty()) {
                channels.push(parse_channel(part).ok_or_else(|| {
                    anyhow::anyhow!(
                        "--channel {part:?}: expected whatsapp, email, call, sms, telegram, instagram or messenger"
                    )
                })?);
            }
        }
        Ok(ReportSettings {
            window_ms: parse_duration("--window", &self.window)?,
            sla_ms: parse_duration("--sla", &self.sla)?,
            repeat_window_ms: parse_duration("--repeat-window", &self.repeat_window)?,
            contact_gap_ms: parse_duration("--contact-gap", &self.contact_gap)?,
            since_ms: self
                .since
                .as_deref()
                .map(|s| parse_instant("--since", s, tz))
                .transpose()?,
            until_ms: self
                .until
                .as_deref()
                .map(|s| parse_instant("--until", s, tz))
                .transpose()?,
            channels,
            display_tz: tz,
        })
    }

    /// The output format: `--format`, else JSON under `--json`, else a table.
    pub fn output_format(&self, json: bool) -> Format {
        match self.format {
            Some(ReportFormat::Table) => Format::Table,
            Some(ReportFormat::Json) => Format::Json,
            Some(ReportFormat::Csv) => Format::Csv,
            Some(ReportFormat::Markdown) => Format::Markdown,
            Some(ReportFormat::Html) => Format::Html,
            None if json => Format::Json,
            None => Format::Table,
        }
    }
}

#[derive(Debug, Args, Clone)]
pub struct ReportArgs {
    /// summary (default), switches, unanswered, repeats, agents, customers, metrics
    #[arg(value_name = "KIND", default_value = "summary")]
    pub kind: String,
    #[command(flatten)]
    pub options: ReportOptions,
    /// Time zone for showing times and reading bare dates (IANA name; default UTC)
    #[arg(long, value_name = "ZONE")]
    pub tz: Option<String>,
}

#[derive(Debug, Args, Clone)]
pub struct TimelineArgs {
    /// Customer id, phone, email or name
    #[arg(value_name = "CUSTOMER")]
    pub customer: String,
    #[command(flatten)]
    pub options: ReportOptions,
    /// Time zone for showing times and reading bare dates (IANA name; default UTC)
    #[arg(long, value_name = "ZONE")]
    pub tz: Option<String>,
    /// Region for a national phone number given as CUSTOMER (ISO code, e.g. GB)
    #[arg(long, value_name = "CC")]
    pub region: Option<String>,
}

/// A usage error: message on stderr, exit 2.
pub(super) fn usage(message: impl std::fmt::Display) -> anyhow::Result<u8> {
    eprintln!("omnitrail: {message}");
    Ok(2)
}

pub(super) fn parse_tz(tz: Option<&str>) -> Result<Tz, String> {
    match tz {
        None => Ok(chrono_tz::UTC),
        Some(name) => name
            .parse::<Tz>()
            .map_err(|_| format!("unknown time zone {name:?}: expected an IANA name such as Europe/London")),
    }
}

pub fn run_report(g: &Globals, args: ReportArgs) -> anyhow::Result<u8> {
    let tz = match parse_tz(args.tz.as_deref()) {
        Ok(tz) => tz,
        Err(e) => return usage(e),
    };
    let settings = match args.options.settings(tz) {
        Ok(s) => s,
        Err(e) => return usage(e),
    };
    let kind = match args.kind.as_str() {
        "summary" => None,
        other => match DetailKind::parse(other) {
            Some(k) => Some(k),
            None => {
                return usage(format!(
                    "unknown report {other:?}: expected summary, switches, unanswered, repeats, agents, customers or metrics"
                ))
            }
        },
    };
    let format = args.options.output_format(g.json);
    let ws = Workspace::open_existing(&g.workspace)?;
    let text = match kind {
        None => render::summary(&report::summary(&ws, &settings)?, format)?,
        Some(k) => render::rows(&report::detail(&ws, &settings, k)?, format)?,
    };
    emit(text);
    Ok(0)
}

pub fn run_timeline(g: &Globals, args: TimelineArgs) -> anyhow::Result<u8> {
    let tz = match parse_tz(args.tz.as_deref()) {
        Ok(tz) => tz,
        Err(e) => return usage(e),
    };
    let settings = match args.options.settings(tz) {
        Ok(s) => s,
        Err(e) => return usage(e),
    };
    let region = match args.region.as_deref().map(Region::parse).transpose() {
        Ok(r) => r.unwrap_or_else(Region::none),
        Err(e) => return usage(e),
    };
    let ws = Workspace::open_existing(&g.workspace)?;
    let rows = report::timeline(&ws, &settings, &args.customer, region)?;
    emit(render::rows(&rows, args.options.output_format(g.json))?);
    Ok(0)
}
