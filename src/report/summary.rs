//! The summary report: the figures `omnitrail report` prints and `--format json` emits under
//! the key names design.md fixes (add keys, never rename).

use super::analyze::Analysis;
use super::classify::{channel_bit, CHANNELS};
use super::coverage::Note;
use super::load::Dataset;
use super::response::{delay_stats, DelayStats};
use super::settings::{format_ts, ReportSettings};
use crate::model::{Channel, Direction, Kind};
use serde::Serialize;
use std::collections::BTreeMap;

/// Per-channel volumes.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ChannelSummary {
    pub interactions: u64,
    pub customers: u64,
    /// Distinct customer handles (identities) on the channel: what a per-channel tool calls customers.
    pub identities: u64,
    pub inbound: u64,
    pub outbound: u64,
    pub internal: u64,
    pub system: u64,
    pub unknown: u64,
}

/// Unanswered contacts on one channel, both views.
#[derive(Debug, Clone, Default, Serialize)]
pub struct UnansweredSummary {
    pub contacts: u64,
    pub needing_response: u64,
    pub per_channel: u64,
    pub unified: u64,
    pub pending_per_channel: u64,
    pub pending_unified: u64,
}

/// First response times on one channel (or all), both views.
#[derive(Debug, Clone, Default, Serialize)]
pub struct FirstResponse {
    pub per_channel: DelayStats,
    pub unified: DelayStats,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct RepeatRates {
    pub same_channel: Option<f64>,
    pub cross_channel: Option<f64>,
    pub all: Option<f64>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct AgentFragmentation {
    pub episodes_with_agents: u64,
    pub episodes_with_several_agents: u64,
    pub mean_agents_per_episode: Option<f64>,
    pub handoffs: u64,
    pub cross_channel_handoffs: u64,
}

/// The verdict of design.md's rule and the figures behind it.
#[derive(Debug, Clone, Serialize)]
pub struct Recommendation {
    /// `multichannel_suffices`, `omnichannel_valuable` or `omnichannel_required`.
    pub code: &'static str,
    pub verdict: &'static str,
    pub seats: u64,
    pub multichannel_share: Option<f64>,
    pub switch_episode_share: Option<f64>,
    pub reasons: Vec<String>,
}

/// The settings in force, as given.
#[derive(Debug, Clone, Serialize)]
pub struct SettingsEcho {
    pub window_s: i64,
    pub sla_s: i64,
    pub repeat_window_s: i64,
    pub contact_gap_s: i64,
    pub since: Option<String>,
    pub until: Option<String>,
    pub channels: Vec<&'static str>,
    pub tz: String,
}

/// The summary report.
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    pub matched: bool,
    pub settings: SettingsEcho,
    pub first_ts: Option<String>,
    pub last_ts: Option<String>,
    pub interactions: u64,
    pub directions: BTreeMap<&'static str, u64>,
    pub customers: u64,
    pub identities: u64,
    pub channels: BTreeMap<&'static str, ChannelSummary>,
    pub multichannel_customers: u64,
    pub multichannel_share: Option<f64>,
    pub episodes: u64,
    pub episodes_with_switch: u64,
    pub contacts: u64,
    pub channel_switches: u64,
    pub switches_with_repeated_details: u64,
    pub needing_response: u64,
    pub unanswered_per_channel: u64,
    pub unanswered_unified: u64,
    pub unanswered: BTreeMap<&'static str, UnansweredSummary>,
    pub repeat_contacts: u64,
    pub repeat_contacts_same_channel: u64,
    pub repeat_contacts_cross_channel: u64,
    pub repeat_contact_rates: RepeatRates,
    pub customer_overcount_ratio: Option<f64>,
    pub agents: u64,
    pub agent_fragmentation: AgentFragmentation,
    pub first_response: BTreeMap<&'static str, FirstResponse>,
    pub recommendation: Recommendation,
    pub coverage: Vec<Note>,
}

/// Seats from which omnichannel is required, and up to which multichannel can suffice (design.md).
pub const SEATS_REQUIRED: u64 = 20;
pub const SEATS_SUFFICE: u64 = 5;
/// Share of episodes with a channel switch from which switches count as frequent.
pub const FREQUENT_SWITCH_SHARE: f64 = 0.2;

fn share(part: u64, whole: u64) -> Option<f64> {
    (whole > 0).then(|| round4(part as f64 / whole as f64))
}

fn round4(x: f64) -> f64 {
    (x * 10_000.0).round() / 10_000.0
}

fn pct(x: Option<f64>) -> String {
    x.map(|v| format!("{:.0} %", v * 100.0)).unwrap_or_else(|| "n/a".into())
}

/// design.md's rule: 20+ seats → required; more than 5 seats or frequent switches → valuable;
/// otherwise multichannel can suffice.
pub fn recommend(seats: u64, multichannel_share: Option<f64>, switch_share: Option<f64>, lost: u64) -> Recommendation {
    let frequent = switch_share.is_some_and(|s| s >= FREQUENT_SWITCH_SHARE);
    let mut reasons = vec![
        format!("{seats} agent handle(s) answer customers"),
        format!("{} of customers use 2+ channels", pct(multichannel_share)),
        format!(
            "{} of episodes include a channel switch (frequent from {:.0} %)",
            pct(switch_share),
            FREQUENT_SWITCH_SHARE * 100.0
        ),
    ];
    if lost > 0 {
        reasons.push(format!(
            "{lost} switch(es) where the customer restated details already given on another channel"
        ));
    }
    let (code, verdict) = if seats >= SEATS_REQUIRED {
        reasons.push(format!("{SEATS_REQUIRED}+ seats: one shared timeline is required"));
        ("omnichannel_required", "omnichannel is required")
    } else if seats > SEATS_SUFFICE || frequent {
        if seats > SEATS_SUFFICE {
            reasons.push(format!("more than {SEATS_SUFFICE} seats"));
        }
        if frequent {
            reasons.push("customers switch channels frequently".into());
        }
        ("omnichannel_valuable", "omnichannel is valuable")
    } else {
        reasons.push(format!("{SEATS_SUFFICE} seats or fewer and few switches"));
        ("multichannel_suffices", "multichannel can suffice")
    };
    Recommendation {
        code,
        verdict,
        seats,
        multichannel_share,
        switch_episode_share: switch_share,
        reasons,
    }
}

fn settings_echo(s: &ReportSettings) -> SettingsEcho {
    SettingsEcho {
        window_s: s.window_ms / 1000,
        sla_s: s.sla_ms / 1000,
        repeat_window_s: s.repeat_window_ms / 1000,
        contact_gap_s: s.contact_gap_ms / 1000,
        since: s.since_ms.map(|t| format_ts(t, s.display_tz)),
        until: s.until_ms.map(|t| format_ts(t, s.display_tz)),
        channels: s.channels.iter().map(|c| c.as_str()).collect(),
        tz: s.display_tz.name().to_string(),
    }
}

/// Builds the summary from the loaded rows and the walk.
pub fn build(ds: &Dataset, a: &Analysis, settings: &ReportSettings, coverage: Vec<Note>) -> Summary {
    let mut channels: BTreeMap<&'static str, ChannelSummary> = BTreeMap::new();
    let mut directions: BTreeMap<&'static str, u64> = BTreeMap::new();
    for i in 0..ds.len() {
        let c = channels.entry(ds.channel[i].as_str()).or_default();
        c.interactions += 1;
        match ds.direction[i] {
            Direction::Inbound => c.inbound += 1,
            Direction::Outbound => c.outbound += 1,
            Direction::Internal => c.internal += 1,
            Direction::System => c.system += 1,
            Direction::Unknown => c.unknown += 1,
        }
        *directions.entry(ds.direction[i].as_str()).or_default() += 1;
    }
    // Customers and identities per channel: a customer's rows are contiguous.
    let mut multichannel = 0u64;
    let mut identities_total = 0u64;
    let mut pairs: Vec<(Channel, u32)> = Vec::new();
    let mut idents: Vec<u32> = Vec::new();
    for (_, range) in &ds.customer_rows {
        let mut mask = 0u16;
        pairs.clear();
        idents.clear();
        for r in range.clone() {
            let counted = ds.direction[r] != Direction::System && ds.kind[r] != Kind::System;
            if counted {
                mask |= channel_bit(ds.channel[r]);
                pairs.push((ds.channel[r], ds.identity[r]));
            }
            idents.push(ds.identity[r]);
        }
        idents.sort_unstable();
        idents.dedup();
        identities_total += idents.len() as u64;
        pairs.sort_unstable_by_key(|(c, i)| (*c as u8, *i));
        pairs.dedup();
        for (c, _) in &pairs {
            channels.entry(c.as_str()).or_default().identities += 1;
        }
        for ch in CHANNELS {
            if mask & channel_bit(ch) != 0 {
                channels.entry(ch.as_str()).or_default().customers += 1;
            }
        }
        if mask.count_ones() >= 2 {
            multichannel += 1;
        }
    }
    // An identity belongs to one customer, so the per-customer distinct counts add up.
    let customers = ds.customer_rows.len() as u64;
    let handle_sum: u64 = channels.values().map(|c| c.identities).sum();

    let mut unanswered = BTreeMap::new();
    let mut first_response = BTreeMap::new();
    let (mut all_pc, mut all_un) = (Vec::new(), Vec::new());
    let (mut needing, mut un_pc, mut un_un) = (0, 0, 0);
    for ch in CHANNELS {
        let Some(f) = a.channels.get(&ch) else { continue };
        needing += f.needing_response;
        un_pc += f.unanswered_per_channel;
        un_un += f.unanswered_unified;
        unanswered.insert(
            ch.as_str(),
            UnansweredSummary {
                contacts: f.contacts,
                needing_response: f.needing_response,
                per_channel: f.unanswered_per_channel,
                unified: f.unanswered_unified,
                pending_per_channel: f.pending_per_channel,
                pending_unified: f.pending_unified,
            },
        );
        if f.needing_response > 0 {
            first_response.insert(
                ch.as_str(),
                FirstResponse {
                    per_channel: delay_stats(&f.delays_per_channel),
                    unified: delay_stats(&f.delays_unified),
                },
            );
        }
        all_pc.extend_from_slice(&f.delays_per_channel);
        all_un.extend_from_slice(&f.delays_unified);
    }
    first_response.insert(
        "all",
        FirstResponse {
            per_channel: delay_stats(&all_pc),
            unified: delay_stats(&all_un),
        },
    );
    let repeats = a.repeats_same_channel + a.repeats_cross_channel;
    let multichannel_share = share(multichannel, customers);
    let switch_share = share(a.episodes_with_switch, a.episodes);
    let seats = a.agents.len() as u64;
    Summary {
        matched: true,
        settings: settings_echo(settings),
        first_ts: ds.ts.iter().min().map(|&t| format_ts(t, settings.display_tz)),
        last_ts: ds.ts.iter().max().map(|&t| format_ts(t, settings.display_tz)),
        interactions: ds.len() as u64,
        directions,
        customers,
        identities: identities_total,
        channels,
        multichannel_customers: multichannel,
        multichannel_share,
        episodes: a.episodes,
        episodes_with_switch: a.episodes_with_switch,
        contacts: a.contacts,
        channel_switches: a.channel_switches,
        switches_with_repeated_details: a.switches_with_repeated_details,
        needing_response: needing,
        unanswered_per_channel: un_pc,
        unanswered_unified: un_un,
        unanswered,
        repeat_contacts: repeats,
        repeat_contacts_same_channel: a.repeats_same_channel,
        repeat_contacts_cross_channel: a.repeats_cross_channel,
        repeat_contact_rates: RepeatRates {
            same_channel: share(a.repeats_same_channel, a.contacts),
            cross_channel: share(a.repeats_cross_channel, a.contacts),
            all: share(repeats, a.contacts),
        },
        customer_overcount_ratio: share(handle_sum, customers),
        agents: seats,
        agent_fragmentation: AgentFragmentation {
            episodes_with_agents: a.episodes_with_agents,
            episodes_with_several_agents: a.episodes_with_several_agents,
            mean_agents_per_episode: share(a.agent_episode_sum, a.episodes_with_agents),
            handoffs: a.handoffs,
            cross_channel_handoffs: a.cross_channel_handoffs,
        },
        first_response,
        recommendation: recommend(
            seats,
            multichannel_share,
            switch_share,
            a.switches_with_repeated_details,
        ),
        coverage,
    }
}
