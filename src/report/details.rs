//! Detail reports: the cases behind each summary figure, each row naming the interactions
//! (id, time, channel) a consultant can open and show.

use super::analyze::{Analysis, Outcome};
use super::classify::CHANNELS;
use super::load::Dataset;
use super::rows::Rows;
use super::settings::{format_secs, format_ts, ReportSettings};
use super::summary::Summary;
use std::collections::HashMap;

/// Which detail report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DetailKind {
    Switches,
    Unanswered,
    Repeats,
    Agents,
    Customers,
    Metrics,
}

impl DetailKind {
    pub fn parse(s: &str) -> Option<DetailKind> {
        Some(match s {
            "switches" => DetailKind::Switches,
            "unanswered" => DetailKind::Unanswered,
            "repeats" => DetailKind::Repeats,
            "agents" => DetailKind::Agents,
            "customers" => DetailKind::Customers,
            "metrics" => DetailKind::Metrics,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            DetailKind::Switches => "switches",
            DetailKind::Unanswered => "unanswered",
            DetailKind::Repeats => "repeats",
            DetailKind::Agents => "agents",
            DetailKind::Customers => "customers",
            DetailKind::Metrics => "metrics",
        }
    }
}

/// Names shown for customers: the matcher's display name when known.
pub type CustomerNames = HashMap<String, String>;

struct Ctx<'a> {
    ds: &'a Dataset,
    settings: &'a ReportSettings,
}

impl Ctx<'_> {
    fn ts(&self, row: usize) -> String {
        format_ts(self.ds.ts[row], self.settings.display_tz)
    }
    fn id(&self, row: usize) -> String {
        self.ds
            .details
            .as_ref()
            .map(|d| d.interaction_id[row].clone())
            .unwrap_or_default()
    }
    fn customer(&self, c: u32) -> String {
        self.ds.customer_ids[c as usize].clone()
    }
    fn mention(&self, m: u32) -> &str {
        &self.ds.mentions[m as usize]
    }
}

fn outcome_text(o: Outcome, ds: &Dataset) -> String {
    match o {
        Outcome::Answered { row, delay_ms } => format!(
            "answered on {} in {}",
            ds.channel[row],
            format_secs(delay_ms as f64 / 1000.0)
        ),
        Outcome::Late { row, delay_ms } => {
            format!(
                "late: {} after {}",
                ds.channel[row],
                format_secs(delay_ms as f64 / 1000.0)
            )
        }
        Outcome::None => "no response".into(),
        Outcome::Pending => "pending (data ends within the SLA)".into(),
    }
}

/// Builds a detail report from the walk (run with rows) and the summary.
pub fn build(
    kind: DetailKind,
    ds: &Dataset,
    a: &Analysis,
    summary: &Summary,
    settings: &ReportSettings,
    names: &CustomerNames,
) -> Rows {
    let cx = Ctx { ds, settings };
    let mut out = match kind {
        DetailKind::Switches => switches(&cx, a),
        DetailKind::Unanswered => unanswered(&cx, a),
        DetailKind::Repeats => repeats(&cx, a),
        DetailKind::Agents => agents(&cx, a),
        DetailKind::Customers => customers(&cx, a, names),
        DetailKind::Metrics => metrics(summary),
    };
    out.coverage = summary.coverage.clone();
    out
}

fn switches(cx: &Ctx, a: &Analysis) -> Rows {
    let mut t = Rows::new(
        "switches",
        format!("Channel switches: {}", a.channel_switches),
        vec![
            "customer",
            "episode",
            "from_channel",
            "from_ts",
            "from_id",
            "to_channel",
            "to_ts",
            "to_id",
            "repeated_details",
            "first_given_ids",
        ],
    );
    for s in &a.switches {
        t.rows.push(vec![
            cx.customer(s.customer),
            s.episode.to_string(),
            cx.ds.channel[s.from_row].to_string(),
            cx.ts(s.from_row),
            cx.id(s.from_row),
            cx.ds.channel[s.to_row].to_string(),
            cx.ts(s.to_row),
            cx.id(s.to_row),
            s.repeated.iter().map(|&m| cx.mention(m)).collect::<Vec<_>>().join("; "),
            s.first_given_rows
                .iter()
                .map(|&r| cx.id(r))
                .collect::<Vec<_>>()
                .join("; "),
        ]);
    }
    t.notes.push(format!(
        "{} switch(es) with details the customer had already given on another channel",
        a.switches_with_repeated_details
    ));
    t
}

fn unanswered(cx: &Ctx, a: &Analysis) -> Rows {
    let mut t = Rows::new(
        "unanswered",
        "Contacts unanswered within the SLA in at least one view".into(),
        vec![
            "customer",
            "channel",
            "ts",
            "interaction_id",
            "messages",
            "per_channel",
            "per_channel_response_id",
            "unified",
            "unified_response_channel",
            "unified_response_ts",
            "unified_response_id",
        ],
    );
    let (mut pc, mut un) = (0, 0);
    for c in &a.contact_results {
        if !(c.per_channel.unanswered() || c.unified.unanswered()) {
            continue;
        }
        pc += c.per_channel.unanswered() as u64;
        un += c.unified.unanswered() as u64;
        let unified_row = c.unified.row();
        t.rows.push(vec![
            cx.customer(c.customer),
            c.channel.to_string(),
            cx.ts(c.first_row),
            cx.id(c.first_row),
            c.messages.to_string(),
            outcome_text(c.per_channel, cx.ds),
            c.per_channel.row().map(|r| cx.id(r)).unwrap_or_default(),
            outcome_text(c.unified, cx.ds),
            unified_row.map(|r| cx.ds.channel[r].to_string()).unwrap_or_default(),
            unified_row.map(|r| cx.ts(r)).unwrap_or_default(),
            unified_row.map(|r| cx.id(r)).unwrap_or_default(),
        ]);
    }
    t.notes.push(format!(
        "unanswered per channel: {pc}; unified (a response on any channel counts): {un}; SLA {}",
        format_secs(cx.settings.sla_ms as f64 / 1000.0)
    ));
    t
}

fn repeats(cx: &Ctx, a: &Analysis) -> Rows {
    let mut t = Rows::new(
        "repeats",
        format!(
            "Repeat contacts: {} same channel, {} cross-channel",
            a.repeats_same_channel, a.repeats_cross_channel
        ),
        vec![
            "customer",
            "repeat",
            "previous_channel",
            "previous_ts",
            "previous_id",
            "channel",
            "ts",
            "interaction_id",
            "gap",
        ],
    );
    for r in &a.repeats {
        t.rows.push(vec![
            cx.customer(r.customer),
            if r.same_channel {
                "same channel"
            } else {
                "cross-channel"
            }
            .into(),
            cx.ds.channel[r.previous_row].to_string(),
            cx.ts(r.previous_row),
            cx.id(r.previous_row),
            cx.ds.channel[r.row].to_string(),
            cx.ts(r.row),
            cx.id(r.row),
            format_secs((cx.ds.ts[r.row] - cx.ds.ts[r.previous_row]) as f64 / 1000.0),
        ]);
    }
    t
}

fn channel_list(mask: u16) -> String {
    CHANNELS
        .iter()
        .filter(|c| mask & super::classify::channel_bit(**c) != 0)
        .map(|c| c.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

fn agents(cx: &Ctx, a: &Analysis) -> Rows {
    let mut t = Rows::new(
        "agents",
        format!("Agents: {} handle(s) answering customers", a.agents.len()),
        vec!["agent", "channels", "responses", "customers", "episodes"],
    );
    let mut list: Vec<(&u32, &super::analyze::AgentFigures)> = a.agents.iter().collect();
    list.sort_by(|x, y| {
        y.1.responses
            .cmp(&x.1.responses)
            .then(cx.ds.agents[*x.0 as usize].cmp(&cx.ds.agents[*y.0 as usize]))
    });
    for (agent, f) in list {
        t.rows.push(vec![
            cx.ds.agents[*agent as usize].clone(),
            channel_list(f.channels),
            f.responses.to_string(),
            f.customers.to_string(),
            f.episodes.to_string(),
        ]);
    }
    t.notes.push(format!(
        "{} episode(s) answered by 2+ agent handles; {} handoff(s), {} across channels",
        a.episodes_with_several_agents, a.handoffs, a.cross_channel_handoffs
    ));
    for h in a.handoff_rows.iter().take(50) {
        t.notes.push(format!(
            "handoff {}: {} {} ({}) → {} {} ({}){}",
            cx.customer(h.customer),
            cx.ds.agents[cx.ds.agent[h.from_row] as usize],
            cx.ts(h.from_row),
            cx.id(h.from_row),
            cx.ds.agents[cx.ds.agent[h.to_row] as usize],
            cx.ts(h.to_row),
            cx.id(h.to_row),
            if h.cross_channel { ", across channels" } else { "" }
        ));
    }
    t
}

fn customers(cx: &Ctx, a: &Analysis, names: &CustomerNames) -> Rows {
    let mut t = Rows::new(
        "customers",
        format!("Customers: {}", a.customers.len()),
        vec![
            "customer",
            "name",
            "identities",
            "channels",
            "interactions",
            "episodes",
            "contacts",
            "switches",
            "repeated_details",
            "unanswered_per_channel",
            "unanswered_unified",
            "repeat_contacts",
            "first_ts",
            "last_ts",
        ],
    );
    for f in &a.customers {
        let id = cx.customer(f.customer);
        t.rows.push(vec![
            names.get(&id).cloned().unwrap_or_default(),
            f.identities.to_string(),
            channel_list(f.channels),
            f.rows.to_string(),
            f.episodes.to_string(),
            f.contacts.to_string(),
            f.switches.to_string(),
            f.repeated_details.to_string(),
            f.unanswered_per_channel.to_string(),
            f.unanswered_unified.to_string(),
            f.repeats.to_string(),
            format_ts(f.first_ts, cx.settings.display_tz),
            format_ts(f.last_ts, cx.settings.display_tz),
        ]);
        t.rows.last_mut().expect("pushed").insert(0, id);
    }
    t
}

/// One row per figure of the summary with its definition (a glossary with values).
pub fn metrics(s: &Summary) -> Rows {
    let mut t = Rows::new(
        "metrics",
        "Metrics and definitions".into(),
        vec!["metric", "value", "definition"],
    );
    let mut add = |name: &str, value: String, def: &str| t.rows.push(vec![name.to_string(), value, def.to_string()]);
    let opt = |v: Option<f64>| v.map(|x| x.to_string()).unwrap_or_else(|| "n/a".into());
    add(
        "interactions",
        s.interactions.to_string(),
        "messages, emails and calls (contact-list rows excluded), system notices included",
    );
    add(
        "customers",
        s.customers.to_string(),
        "unified customers with at least one interaction",
    );
    add(
        "identities",
        s.identities.to_string(),
        "distinct customer handles (phone, email, or name per channel)",
    );
    add(
        "multichannel_customers",
        s.multichannel_customers.to_string(),
        "customers seen on 2+ channels (system records aside)",
    );
    add(
        "episodes",
        s.episodes.to_string(),
        "a customer's conversation: interactions with gaps under --window, or joined by a shared order number",
    );
    add(
        "contacts",
        s.contacts.to_string(),
        "inbound contacts: a call, or consecutive inbound messages on one channel less than --contact-gap apart",
    );
    add(
        "channel_switches",
        s.channel_switches.to_string(),
        "inbound contact on another channel than the previous inbound contact of the episode",
    );
    add(
        "switches_with_repeated_details",
        s.switches_with_repeated_details.to_string(),
        "switches where the customer restates an order or ticket number already given on another channel of the episode",
    );
    add(
        "needing_response",
        s.needing_response.to_string(),
        "contacts that ask for a response: inbound messages/emails, inbound calls not answered",
    );
    add(
        "unanswered_per_channel",
        s.unanswered_per_channel.to_string(),
        "no response on the same channel within --sla",
    );
    add(
        "unanswered_unified",
        s.unanswered_unified.to_string(),
        "no response on any channel within --sla",
    );
    add(
        "repeat_contacts",
        s.repeat_contacts.to_string(),
        "contacts within --repeat-window of the previous one in the episode with no response in between",
    );
    add(
        "repeat_contacts_same_channel",
        s.repeat_contacts_same_channel.to_string(),
        "repeat contacts on the previous contact's channel",
    );
    add(
        "repeat_contacts_cross_channel",
        s.repeat_contacts_cross_channel.to_string(),
        "repeat contacts on another channel",
    );
    add(
        "customer_overcount_ratio",
        opt(s.customer_overcount_ratio),
        "sum over channels of distinct handles / unified customers",
    );
    add(
        "agents",
        s.agents.to_string(),
        "distinct agent handles that responded to customers",
    );
    add(
        "handoffs",
        s.agent_fragmentation.handoffs.to_string(),
        "changes of responding agent within an episode",
    );
    for (ch, f) in &s.first_response {
        add(
            &format!("first_response.{ch}.per_channel.median_s"),
            opt(f.per_channel.median_s),
            "median delay to the first response on the same channel",
        );
        add(
            &format!("first_response.{ch}.per_channel.p90_s"),
            opt(f.per_channel.p90_s),
            "90th percentile, same channel",
        );
        add(
            &format!("first_response.{ch}.unified.median_s"),
            opt(f.unified.median_s),
            "median delay to the first response on any channel",
        );
        add(
            &format!("first_response.{ch}.unified.p90_s"),
            opt(f.unified.p90_s),
            "90th percentile, any channel",
        );
    }
    add(
        "recommendation",
        s.recommendation.verdict.to_string(),
        "design.md's rule on seats and switch frequency",
    );
    t
}
