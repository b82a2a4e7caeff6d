//! `omnitrail match` and `omnitrail explain`

use super::output::{emit, emit_json};
use super::Globals;
use clap::Args;
use omnitrail::matcher::explain::{self, Explanation, Resolution};
use omnitrail::matcher::{self, MatchOptions};
use omnitrail::normalize::phone::Region;
use omnitrail::workspace::Workspace;
use std::path::PathBuf;

#[derive(Debug, Args, Clone)]
pub struct MatchArgs {
    /// Minimum score for a link to join two identities (higher: more precision, less recall)
    #[arg(long, default_value_t = 0.8, value_name = "SCORE", value_parser = parse_threshold)]
    pub threshold: f64,
    /// CSV of `force_link|never_link,identity_a,identity_b`, applied last and always obeyed
    #[arg(long, value_name = "FILE")]
    pub overrides: Option<PathBuf>,
    /// Region for national phone numbers found in text (ISO code, e.g. GB)
    #[arg(long, value_name = "CC")]
    pub region: Option<String>,
}

#[derive(Debug, Args, Clone)]
pub struct ExplainArgs {
    /// Customer id, phone, email or name
    #[arg(value_name = "CUSTOMER")]
    pub customer: String,
    /// Region for a phone number given in national form (ISO code, e.g. GB)
    #[arg(long, value_name = "CC")]
    pub region: Option<String>,
}

fn region(code: &Option<String>) -> Result<Option<Region>, String> {
    code.as_deref().map(Region::parse).transpose()
}

/// `--threshold`: a score between 0 and 1 (clap reports anything else as a usage error).
pub(super) fn parse_threshold(s: &str) -> Result<f64, String> {
    let t: f64 = s.parse().map_err(|_| format!("{s:?} is not a number"))?;
    if (0.0..=1.0).contains(&t) {
        Ok(t)
    } else {
        Err(format!("must be between 0 and 1, got {t}"))
    }
}

pub fn run_match(g: &Globals, args: MatchArgs) -> anyhow::Result<u8> {
    let region = match region(&args.region) {
        Ok(r) => r.unwrap_or(Region::none()),
        Err(e) => {
            eprintln!("omnitrail: --region: {e}");
            return Ok(2);
        }
    };
    let ws = Workspace::open_existing_to_change(&g.workspace)?;
    let opts = MatchOptions {
        threshold: args.threshold,
        region,
        overrides: args.overrides.clone(),
    };
    let Some(summary) = matcher::run(&ws, &opts)? else {
        eprintln!("omnitrail: the workspace holds no interactions: import something first (`omnitrail import PATH`)");
        return Ok(1);
    };
    if g.json {
        emit_json(&summary)?;
        return Ok(0);
    }
    let mut table = comfy_table::Table::new();
    table.load_preset(comfy_table::presets::UTF8_FULL_CONDENSED);
    table.set_header(["", "count"]);
    for (label, v) in [
        ("interactions", summary.interactions),
        ("identities", summary.identities),
        ("customers", summary.customers),
        ("customers with 2+ identities", summary.linked_customers),
        ("links considered", summary.links),
        ("links accepted", summary.links_accepted),
        ("overrides", summary.overrides),
    ] {
        table.add_row([label.to_string(), v.to_string()]);
    }
    for (g, n) in &summary.guards {
        table.add_row([format!("guard: {g}"), n.to_string()]);
    }
    emit(table);
    let mut rules = comfy_table::Table::new();
    rules.load_preset(comfy_table::presets::UTF8_FULL_CONDENSED);
    rules.set_header(["rule", "links", "accepted"]);
    for (r, c) in &summary.rules {
        rules.add_row([r.clone(), c.links.to_string(), c.accepted.to_string()]);
    }
    emit(rules);
    if !g.quiet {
        eprintln!(
            "note: threshold {}; wrote {}; `omnitrail explain CUSTOMER` shows why identities were joined",
            summary.threshold,
            summary.files.join(", ")
        );
    }
    Ok(0)
}

pub fn run_explain(g: &Globals, args: ExplainArgs) -> anyhow::Result<u8> {
    let region = match region(&args.region) {
        Ok(r) => r.unwrap_or(Region::none()),
        Err(e) => {
            eprintln!("omnitrail: --region: {e}");
            return Ok(2);
        }
    };
    let ws = Workspace::open_existing(&g.workspace)?;
    if !explain::matched(&ws) {
        eprintln!(
            "omnitrail: no customers yet in {}: run `omnitrail match` first",
            ws.root().display()
        );
        return Ok(1);
    }
    match explain::explain(&ws, &args.customer, region)? {
        Resolution::NotFound => {
            eprintln!(
                "omnitrail: no customer matches {:?} (give a customer id C-…, a phone, an email or a name)",
                args.customer
            );
            Ok(1)
        }
        Resolution::Ambiguous(list) => {
            if g.json {
                let v: Vec<serde_json::Value> = list
                    .iter()
                    .map(|(id, name)| serde_json::json!({"customer_id": id, "display_name": name}))
                    .collect();
                emit_json(&serde_json::json!({"ambiguous": v}))?;
            } else {
                eprintln!(
                    "omnitrail: {:?} matches {} customers; pick one by id:",
                    args.customer,
                    list.len()
                );
                for (id, name) in &list {
                    eprintln!("  {id}  {}", name.as_deref().unwrap_or(""));
                }
            }
            Ok(1)
        }
        Resolution::Found(e) => {
            if g.json {
                emit_json(&e)?;
            } else {
                print_explanation(&e);
            }
            Ok(0)
        }
    }
}

fn print_explanation(e: &Explanation) {
    emit(format!(
        "customer {}{}  ({} interactions on {})",
        e.customer_id,
        e.display_name.as_deref().map(|n| format!(" — {n}")).unwrap_or_default(),
        e.interactions,
        e.channels.join(", ")
    ));
    let mut table = comfy_table::Table::new();
    table.load_preset(comfy_table::presets::UTF8_FULL_CONDENSED);
    table.set_header(["identity", "channels", "interactions", "guard", "joined by"]);
    for i in &e.identities {
        let how = if i.identity_id == e.anchor {
            "anchor (the id derives from it)".to_string()
        } else if i.chain.is_empty() {
            "—".to_string()
        } else {
            i.chain
                .iter()
                .map(|l| format!("{} {:.2}", l.rule, l.score))
                .collect::<Vec<_>>()
                .join(" → ")
        };
        table.add_row([
            i.identity_id.clone(),
            i.channels.join(", "),
            i.interactions.to_string(),
            i.guard.clone().unwrap_or_default(),
            how,
        ]);
    }
    emit(table);
    for i in e.identities.iter().filter(|i| !i.chain.is_empty()) {
        emit(format!("\n{}:", i.identity_id));
        for l in &i.chain {
            emit(format!(
                "  {} ↔ {}  [{} {:.2}]\n    {}",
                l.identity_a, l.identity_b, l.rule, l.score, l.evidence
            ));
        }
    }
    if !e.not_joined.is_empty() {
        emit("\nconsidered but not joined:");
        for l in &e.not_joined {
            emit(format!(
                "  {} ↔ {}  [{} {:.2}]\n    {}",
                l.identity_a, l.identity_b, l.rule, l.score, l.evidence
            ));
        }
    }
}
