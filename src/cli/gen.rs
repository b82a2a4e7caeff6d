//! `omnitrail gen`

use super::Globals;
use clap::Args;
use comfy_table::Table;
use omnitrail::gen::{generate, GenOptions};
use std::io::IsTerminal;
use std::path::PathBuf;

#[derive(Debug, Args, Clone)]
pub struct GenArgs {
    /// Number of customers
    #[arg(long, default_value_t = 1000, value_name = "N")]
    pub customers: u64,
    /// Seed: the same seed and options always give the same bytes
    #[arg(long, default_value_t = 1, value_name = "S")]
    pub seed: u64,
    /// Output folder
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Extra CRM contacts for people who never got in touch (leads), for big contacts files
    #[arg(long, default_value_t = 0, value_name = "N")]
    pub crm_leads: u64,
}

pub fn run(g: &Globals, args: GenArgs) -> anyhow::Result<u8> {
    if args.customers == 0 {
        eprintln!("omnitrail gen: --customers must be at least 1");
        return Ok(2);
    }
    if args.out.exists()
        && std::fs::read_dir(&args.out)
            .map(|mut d| d.next().is_some())
            .unwrap_or(true)
    {
        eprintln!(
            "omnitrail gen: {} exists and is not empty; choose a new folder so old files do not mix with new ones",
            args.out.display()
        );
        return Ok(2);
    }
    // Progress only on a terminal; counts customers, not bytes.
    let bar = (!g.quiet && std::io::stderr().is_terminal()).then(|| {
        let bar = indicatif::ProgressBar::new(args.customers);
        bar.set_style(
            indicatif::ProgressStyle::with_template("{spinner} generating [{bar:30}] {pos}/{len} customers eta {eta}")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
                .progress_chars("=> "),
        );
        bar
    });
    let opts = GenOptions {
        customers: args.customers,
        seed: args.seed,
        out: args.out.clone(),
        crm_leads: args.crm_leads,
    };
    let result = generate(&opts, |n| {
        if let Some(b) = &bar {
            if n % 64 == 0 || n == args.customers {
                b.set_position(n);
            }
        }
    });
    let summary = match result {
        Ok(s) => s,
        Err(e) if matches!(e.downcast_ref(), Some(omnitrail::import::ImportError::Interrupted)) => {
            eprintln!(
                "omnitrail gen: interrupted; {} is incomplete, delete it",
                args.out.display()
            );
            return Ok(130);
        }
        Err(e) => return Err(e),
    };
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    if g.json {
        super::output::emit_json(&summary)?;
        return Ok(0);
    }
    if !g.quiet {
        let mut t = Table::new();
        t.set_header(["written", "count"]);
        for (k, v) in [
            ("customers", summary.customers),
            ("WhatsApp chats", summary.whatsapp_chats),
            ("WhatsApp messages (incl. system lines)", summary.whatsapp_messages),
            ("emails (email/support.mbox)", summary.emails),
            ("calls (calls/Master.csv + calls/twilio-calls.csv)", summary.calls),
            ("call log rows (legs)", summary.call_rows),
            ("contacts (contacts/crm-contacts.csv)", summary.contacts),
            ("interactions in truth/interactions.csv", summary.interactions),
            ("bytes of exports", summary.bytes),
        ] {
            t.add_row([k.to_string(), v.to_string()]);
        }
        super::output::emit(format!("{}", args.out.display()));
        super::output::emit(t);
        super::output::emit("settings for the importers: business.toml; expected answers: truth/ (see docs/gen.md)");
    }
    Ok(0)
}
