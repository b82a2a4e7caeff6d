//! `omnitrail export`

use super::output::emit;
use super::Globals;
use clap::Args;
use omnitrail::export::input::{Filter, CHANNELS};
use omnitrail::export::redact::Redactor;
use omnitrail::export::{export, parse_when, read_customer_ids, ExportOptions, Format};
use omnitrail::workspace::Workspace;
use std::path::PathBuf;

#[derive(Debug, Args, Clone)]
pub struct ExportArgs {
    /// csv, jsonl, parquet, or a platform profile: hubspot, chatwoot, zendesk, salesforce
    #[arg(long, value_name = "FORMAT")]
    pub format: String,
    /// Output folder (replaced atomically)
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Pseudonymise phones, emails, names and free text with a keyed hash
    #[arg(long)]
    pub redact: bool,
    /// Key for --redact (default: a key generated once and kept in the workspace)
    #[arg(
        long = "redact-key",
        value_name = "KEY",
        env = "OMNITRAIL_REDACT_KEY",
        hide_env_values = true
    )]
    pub redact_key: Option<String>,
    /// Only interactions at or after this date/time
    #[arg(long, value_name = "WHEN")]
    pub since: Option<String>,
    /// Only interactions before this date/time
    #[arg(long, value_name = "WHEN")]
    pub until: Option<String>,
    /// Only these channels (repeatable)
    #[arg(long, value_name = "CHANNEL")]
    pub channel: Vec<String>,
    /// File with one customer id per line: export only those customers
    #[arg(long, value_name = "FILE")]
    pub customers: Option<PathBuf>,
}

/// Bad usage: message on stderr, exit code 2.
fn usage(message: String) -> anyhow::Result<u8> {
    eprintln!("omnitrail: {message}");
    Ok(2)
}

pub fn run(g: &Globals, args: ExportArgs) -> anyhow::Result<u8> {
    let format = match Format::parse(&args.format) {
        Ok(f) => f,
        Err(e) => return usage(e.to_string()),
    };
    let mut filter = Filter::default();
    for (text, slot) in [(&args.since, &mut filter.since), (&args.until, &mut filter.until)] {
        if let Some(t) = text {
            match parse_when(t) {
                Ok(ms) => *slot = Some(ms),
                Err(e) => return usage(e.to_string()),
            }
        }
    }
    if let (Some(s), Some(u)) = (filter.since, filter.until) {
        if s >= u {
            return usage("--since must be before --until".to_string());
        }
    }
    for c in &args.channel {
        let c = c.to_ascii_lowercase();
        if !CHANNELS.contains(&c.as_str()) {
            return usage(format!("unknown channel `{c}`: use one of {}", CHANNELS.join(", ")));
        }
        filter.channels.push(c);
    }
    if args.redact_key.is_some() && !args.redact {
        return usage("--redact-key needs --redact".to_string());
    }
    let ws = Workspace::open_existing(&g.workspace)?;
    if let Some(path) = &args.customers {
        filter.customers = Some(read_customer_ids(path)?);
    }
    let redact = if args.redact {
        Some(match &args.redact_key {
            Some(k) if !k.is_empty() => Redactor::from_passphrase(k),
            Some(_) => return usage("--redact-key is empty".to_string()),
            None => Redactor::workspace_key(ws.root())?,
        })
    } else {
        None
    };
    let opts = ExportOptions {
        format,
        out: args.out.clone(),
        filter,
        redact,
        since_text: args.since.clone(),
        until_text: args.until.clone(),
        customers_file: args.customers.as_ref().map(|p| p.display().to_string()),
    };
    let summary = match export(&ws, &opts) {
        Ok(s) => s,
        Err(e) if omnitrail::import::INTERRUPTED.load(std::sync::atomic::Ordering::Relaxed) => {
            eprintln!(
                "omnitrail: interrupted ({e}); {} was left as it was",
                args.out.display()
            );
            return Ok(130);
        }
        Err(e) => return Err(e),
    };
    if g.json {
        super::output::emit_json(&summary)?;
        return Ok(0);
    }
    let mut table = comfy_table::Table::new();
    table.load_preset(comfy_table::presets::UTF8_FULL_CONDENSED);
    table.set_header(["file", "rows", "bytes"]);
    for f in &summary.files {
        table.add_row([
            f.path.clone(),
            f.rows.map(|r| r.to_string()).unwrap_or_default(),
            f.bytes.to_string(),
        ]);
    }
    emit(format!("export ({}) written to {}", summary.format, summary.out));
    emit(table);
    if !g.quiet {
        for (k, v) in &summary.counts {
            eprintln!("{k}: {v}");
        }
        for n in &summary.notes {
            eprintln!("note: {n}");
        }
    }
    Ok(0)
}
