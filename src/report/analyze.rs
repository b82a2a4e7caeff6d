//! One pass over each customer's interactions in time order: episodes, contacts, responses,
//! channel switches, repeated details, repeat contacts and agent handoffs. Definitions are in
//! docs/metrics.md; this is the only place that applies them, so every report agrees.

use super::classify::{channel_bit, is_conversation, is_response, needs_response};
use super::load::{Dataset, NONE};
use super::settings::ReportSettings;
use crate::model::{Channel, Direction, Kind};
use std::collections::HashMap;

/// How one view (per channel or unified) judged a contact that needs a response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// A response within the SLA.
    Answered { row: usize, delay_ms: i64 },
    /// A response, but later than the SLA: counted as unanswered.
    Late { row: usize, delay_ms: i64 },
    /// No response at all, and the SLA ran out before the data ends: unanswered.
    None,
    /// No response yet, but the data ends before the SLA runs out: not judged.
    Pending,
}

impl Outcome {
    pub fn unanswered(self) -> bool {
        matches!(self, Outcome::Late { .. } | Outcome::None)
    }

    pub fn delay_ms(self) -> Option<i64> {
        match self {
            Outcome::Answered { delay_ms, .. } | Outcome::Late { delay_ms, .. } => Some(delay_ms),
            _ => None,
        }
    }

    pub fn row(self) -> Option<usize> {
        match self {
            Outcome::Answered { row, .. } | Outcome::Late { row, .. } => Some(row),
            _ => None,
        }
    }
}

/// A contact that needs a response, with both views' outcomes.
#[derive(Debug, Clone)]
pub struct ContactResult {
    pub customer: u32,
    pub first_row: usize,
    pub last_row: usize,
    pub messages: u32,
    pub channel: Channel,
    pub per_channel: Outcome,
    pub unified: Outcome,
}

/// An inbound contact on another channel than the customer's previous inbound contact, same episode.
#[derive(Debug, Clone)]
pub struct Switch {
    pub customer: u32,
    /// 1-based episode number within the customer.
    pub episode: u32,
    pub from_row: usize,
    pub to_row: usize,
    /// Mentions restated from an earlier contact on another channel of the same episode.
    pub repeated: Vec<u32>,
    /// Where each repeated mention was first given (parallel to `repeated`).
    pub first_given_rows: Vec<usize>,
}

/// A contact that follows the previous one within the repeat window with no response in between.
#[derive(Debug, Clone)]
pub struct Repeat {
    pub customer: u32,
    pub previous_row: usize,
    pub row: usize,
    pub same_channel: bool,
}

/// A change of responding agent within an episode.
#[derive(Debug, Clone)]
pub struct Handoff {
    pub customer: u32,
    pub from_row: usize,
    pub to_row: usize,
    pub cross_channel: bool,
}

/// Per channel: contacts and response figures in both views.
#[derive(Debug, Clone, Default)]
pub struct ChannelFigures {
    pub contacts: u64,
    pub needing_response: u64,
    pub unanswered_per_channel: u64,
    pub unanswered_unified: u64,
    pub pending_per_channel: u64,
    pub pending_unified: u64,
    /// Delays (ms) of contacts that got a response at any delay.
    pub delays_per_channel: Vec<i64>,
    pub delays_unified: Vec<i64>,
}

/// Per agent handle.
#[derive(Debug, Clone, Default)]
pub struct AgentFigures {
    pub responses: u64,
    pub channels: u16,
    pub customers: u64,
    pub episodes: u64,
    last_customer: u32,
    last_episode: u64,
}

/// Per customer (the `customers` report).
#[derive(Debug, Clone, Default)]
pub struct CustomerFigures {
    pub customer: u32,
    pub rows: u64,
    pub channels: u16,
    pub identities: u32,
    pub episodes: u32,
    pub contacts: u32,
    pub switches: u32,
    pub repeated_details: u32,
    pub unanswered_per_channel: u32,
    pub unanswered_unified: u32,
    pub repeats: u32,
    pub first_ts: i64,
    pub last_ts: i64,
}

/// What the walk found, over every customer.
#[derive(Debug, Default)]
pub struct Analysis {
    pub episodes: u64,
    pub episodes_with_switch: u64,
    pub contacts: u64,
    pub channel_switches: u64,
    pub switches_with_repeated_details: u64,
    pub repeats_same_channel: u64,
    pub repeats_cross_channel: u64,
    pub channels: HashMap<Channel, ChannelFigures>,
    pub agents: HashMap<u32, AgentFigures>,
    pub episodes_with_agents: u64,
    pub episodes_with_several_agents: u64,
    pub agent_episode_sum: u64,
    pub handoffs: u64,
    pub cross_channel_handoffs: u64,
    /// Filled when rows are requested.
    pub contact_results: Vec<ContactResult>,
    pub switches: Vec<Switch>,
    pub repeats: Vec<Repeat>,
    pub handoff_rows: Vec<Handoff>,
    pub customers: Vec<CustomerFigures>,
    /// Per row: first row of a new episode (timelines), when rows are requested.
    pub episode_starts: Vec<usize>,
}

impl Analysis {
    /// Puts the case rows in time order, the way a consultant walks a client through them.
    pub fn sort_cases_by_time(&mut self, ds: &Dataset) {
        self.contact_results.sort_by_key(|c| (ds.ts[c.first_row], c.first_row));
        self.switches.sort_by_key(|s| (ds.ts[s.to_row], s.to_row));
        self.repeats.sort_by_key(|r| (ds.ts[r.row], r.row));
        self.handoff_rows.sort_by_key(|h| (ds.ts[h.to_row], h.to_row));
    }
}

struct OpenContact {
    first: usize,
    last: usize,
    /// Positions in the conversation list.
    first_pos: usize,
    last_pos: usize,
    messages: u32,
    channel: Channel,
    is_call: bool,
    needs: bool,
}

/// Walks every customer; `rows` also keeps the per-case rows the detail reports list.
pub fn analyze(ds: &Dataset, settings: &ReportSettings, rows: bool) -> Analysis {
    let mut a = Analysis::default();
    let is_order: Vec<bool> = ds
        .mentions
        .iter()
        .map(|m| m.starts_with("order:") || m.starts_with("ticket:"))
        .collect();
    let mut scratch = Scratch::default();
    let mut episode_counter = 0u64;
    for (customer, range) in &ds.customer_rows {
        walk_customer(
            ds,
            settings,
            *customer,
            range.clone(),
            &is_order,
            rows,
            &mut scratch,
            &mut episode_counter,
            &mut a,
        );
    }
    a
}

#[derive(Default)]
struct Scratch {
    conv: Vec<usize>,
    next_any: Vec<usize>,
    next_same: Vec<usize>,
    episode_orders: Vec<u32>,
    given: HashMap<u32, (u16, usize)>,
    episode_agents: Vec<u32>,
    identities: Vec<u32>,
}

#[allow(clippy::too_many_arguments)]
fn walk_customer(
    ds: &Dataset,
    settings: &ReportSettings,
    customer: u32,
    range: std::ops::Range<usize>,
    is_order: &[bool],
    rows: bool,
    s: &mut Scratch,
    episode_counter: &mut u64,
    a: &mut Analysis,
) {
    let mut fig = CustomerFigures {
        customer,
        rows: range.len() as u64,
        first_ts: ds.ts[range.start],
        last_ts: ds.ts[range.end - 1],
        ..Default::default()
    };
    s.identities.clear();
    for r in range.clone() {
        if !matches!(ds.direction[r], Direction::System) && ds.kind[r] != Kind::System {
            fig.channels |= channel_bit(ds.channel[r]);
        }
        s.identities.push(ds.identity[r]);
    }
    s.identities.sort_unstable();
    s.identities.dedup();
    fig.identities = s.identities.len() as u32;

    s.conv.clear();
    s.conv
        .extend(range.filter(|&r| is_conversation(ds.direction[r], ds.kind[r])));
    let n = s.conv.len();
    let response = |r: usize| is_response(ds.direction[r], ds.kind[r], ds.status[r]);
    // Next response after each position: any channel, and on the position's own channel.
    s.next_any.clear();
    s.next_any.resize(n, usize::MAX);
    s.next_same.clear();
    s.next_same.resize(n, usize::MAX);
    let mut next_any = usize::MAX;
    let mut next_by_channel = [usize::MAX; 8];
    for p in (0..n).rev() {
        let r = s.conv[p];
        s.next_any[p] = next_any;
        s.next_same[p] = next_by_channel[ds.channel[r] as usize];
        if response(r) {
            next_any = p;
            next_by_channel[ds.channel[r] as usize] = p;
        }
    }

    let data_end = ds.data_end_ms.unwrap_or(i64::MAX);
    let mut p = 0;
    let mut episode_no = 0u32;
    while p < n {
        // One episode: extend while the gap is under the window or an order number is shared.
        let start = p;
        s.episode_orders.clear();
        push_orders(ds, s.conv[p], is_order, &mut s.episode_orders);
        let mut end = p + 1;
        while end < n {
            let (prev, r) = (s.conv[end - 1], s.conv[end]);
            let joined = ds.ts[r] - ds.ts[prev] < settings.window_ms
                || ds.mentions_of(r).iter().any(|m| s.episode_orders.contains(m));
            if !joined {
                break;
            }
            push_orders(ds, r, is_order, &mut s.episode_orders);
            end += 1;
        }
        episode_no += 1;
        *episode_counter += 1;
        a.episodes += 1;
        fig.episodes += 1;
        if rows {
            a.episode_starts.push(s.conv[start]);
        }
        let switched = walk_episode(
            ds,
            settings,
            is_order,
            customer,
            episode_no,
            start..end,
            data_end,
            rows,
            s,
            &mut fig,
            a,
        );
        if switched {
            a.episodes_with_switch += 1;
        }
        agents_of_episode(ds, customer, start..end, *episode_counter, rows, s, a);
        p = end;
    }
    if rows {
        a.customers.push(fig);
    }
}

fn push_orders(ds: &Dataset, row: usize, is_order: &[bool], out: &mut Vec<u32>) {
    for &m in ds.mentions_of(row) {
        if is_order[m as usize] && !out.contains(&m) {
            out.push(m);
        }
    }
}

/// Contacts, responses, switches and repeats of one episode; returns whether it had a switch.
#[allow(clippy::too_many_arguments)]
fn walk_episode(
    ds: &Dataset,
    settings: &ReportSettings,
    is_order: &[bool],
    customer: u32,
    episode_no: u32,
    positions: std::ops::Range<usize>,
    data_end: i64,
    rows: bool,
    s: &mut Scratch,
    fig: &mut CustomerFigures,
    a: &mut Analysis,
) -> bool {
    s.given.clear();
    let mut previous: Option<OpenContact> = None;
    let mut open: Option<OpenContact> = None;
    let mut switched = false;
    for p in positions {
        let r = s.conv[p];
        if ds.direction[r] != Direction::Inbound {
            continue;
        }
        let is_call = ds.kind[r] == Kind::Call;
        // Consecutive inbound messages on one channel, close together, with nothing in between, are one contact.
        if let Some(c) = open.as_mut() {
            if !is_call
                && !c.is_call
                && c.channel == ds.channel[r]
                && c.last_pos + 1 == p
                && ds.ts[r] - ds.ts[c.last] < settings.contact_gap_ms
            {
                c.last = r;
                c.last_pos = p;
                c.messages += 1;
                continue;
            }
        }
        if let Some(done) = open.take() {
            switched |= close_contact(
                ds,
                settings,
                is_order,
                customer,
                episode_no,
                done,
                &mut previous,
                data_end,
                rows,
                s,
                fig,
                a,
            );
        }
        open = Some(OpenContact {
            first: r,
            last: r,
            first_pos: p,
            last_pos: p,
            messages: 1,
            channel: ds.channel[r],
            is_call,
            needs: needs_response(ds.direction[r], ds.kind[r], ds.status[r]),
        });
    }
    if let Some(done) = open.take() {
        switched |= close_contact(
            ds,
            settings,
            is_order,
            customer,
            episode_no,
            done,
            &mut previous,
            data_end,
            rows,
            s,
            fig,
            a,
        );
    }
    switched
}

fn judge(ds: &Dataset, settings: &ReportSettings, first: usize, response: Option<usize>, data_end: i64) -> Outcome {
    match response {
        Some(row) => {
            let delay_ms = ds.ts[row] - ds.ts[first];
            if delay_ms <= settings.sla_ms {
                Outcome::Answered { row, delay_ms }
            } else {
                Outcome::Late { row, delay_ms }
            }
        }
        None if ds.ts[first].saturating_add(settings.sla_ms) > data_end => Outcome::Pending,
        None => Outcome::None,
    }
}

#[allow(clippy::too_many_arguments)]
fn close_contact(
    ds: &Dataset,
    settings: &ReportSettings,
    is_order: &[bool],
    customer: u32,
    episode_no: u32,
    c: OpenContact,
    previous: &mut Option<OpenContact>,
    data_end: i64,
    rows: bool,
    s: &mut Scratch,
    fig: &mut CustomerFigures,
    a: &mut Analysis,
) -> bool {
    a.contacts += 1;
    fig.contacts += 1;
    let figures = a.channels.entry(c.channel).or_default();
    figures.contacts += 1;
    if c.needs {
        let at = |p: usize| (p != usize::MAX).then(|| s.conv[p]);
        let per_channel = judge(ds, settings, c.first, at(s.next_same[c.last_pos]), data_end);
        let unified = judge(ds, settings, c.first, at(s.next_any[c.last_pos]), data_end);
        figures.needing_response += 1;
        figures.unanswered_per_channel += per_channel.unanswered() as u64;
        figures.unanswered_unified += unified.unanswered() as u64;
        figures.pending_per_channel += (per_channel == Outcome::Pending) as u64;
        figures.pending_unified += (unified == Outcome::Pending) as u64;
        figures.delays_per_channel.extend(per_channel.delay_ms());
        figures.delays_unified.extend(unified.delay_ms());
        fig.unanswered_per_channel += per_channel.unanswered() as u32;
        fig.unanswered_unified += unified.unanswered() as u32;
        if rows {
            a.contact_results.push(ContactResult {
                customer,
                first_row: c.first,
                last_row: c.last,
                messages: c.messages,
                channel: c.channel,
                per_channel,
                unified,
            });
        }
    }
    let mut switched = false;
    if let Some(prev) = previous.as_ref() {
        if prev.channel != c.channel {
            switched = true;
            a.channel_switches += 1;
            fig.switches += 1;
            // Restated details: order/ticket numbers the customer already gave on another channel
            // in this episode. Phones and addresses are not counted: signatures carry them into
            // every message, so they say nothing about lost context (docs/metrics.md).
            let mut repeated = Vec::new();
            let mut first_given_rows = Vec::new();
            for r in c.first..=c.last {
                for &m in ds.mentions_of(r).iter().filter(|&&m| is_order[m as usize]) {
                    if let Some(&(mask, given_row)) = s.given.get(&m) {
                        if mask & !channel_bit(c.channel) != 0 && !repeated.contains(&m) {
                            repeated.push(m);
                            first_given_rows.push(given_row);
                        }
                    }
                }
            }
            if !repeated.is_empty() {
                a.switches_with_repeated_details += 1;
                fig.repeated_details += 1;
            }
            if rows {
                a.switches.push(Switch {
                    customer,
                    episode: episode_no,
                    from_row: prev.first,
                    to_row: c.first,
                    repeated,
                    first_given_rows,
                });
            }
        }
        let no_response_between = s.next_any[prev.last_pos] == usize::MAX || s.next_any[prev.last_pos] >= c.first_pos;
        if no_response_between && ds.ts[c.first] - ds.ts[prev.last] <= settings.repeat_window_ms {
            let same_channel = prev.channel == c.channel;
            if same_channel {
                a.repeats_same_channel += 1;
            } else {
                a.repeats_cross_channel += 1;
            }
            fig.repeats += 1;
            if rows {
                a.repeats.push(Repeat {
                    customer,
                    previous_row: prev.first,
                    row: c.first,
                    same_channel,
                });
            }
        }
    }
    // Remember what the customer gave, by channel, for later switches in this episode.
    for r in c.first..=c.last {
        if ds.direction[r] != Direction::Inbound {
            continue;
        }
        for &m in ds.mentions_of(r) {
            let e = s.given.entry(m).or_insert((0, r));
            e.0 |= channel_bit(c.channel);
        }
    }
    *previous = Some(c);
    switched
}

/// Distinct responding agents of an episode, and the handoffs between them.
fn agents_of_episode(
    ds: &Dataset,
    customer: u32,
    positions: std::ops::Range<usize>,
    episode_id: u64,
    rows: bool,
    s: &mut Scratch,
    a: &mut Analysis,
) {
    s.episode_agents.clear();
    let mut last: Option<usize> = None;
    for p in positions {
        let r = s.conv[p];
        if ds.agent[r] == NONE || !is_response(ds.direction[r], ds.kind[r], ds.status[r]) {
            continue;
        }
        let agent = ds.agent[r];
        let f = a.agents.entry(agent).or_insert_with(|| AgentFigures {
            last_customer: NONE,
            last_episode: u64::MAX,
            ..Default::default()
        });
        f.responses += 1;
        f.channels |= channel_bit(ds.channel[r]);
        if f.last_customer != customer {
            f.last_customer = customer;
            f.customers += 1;
        }
        if f.last_episode != episode_id {
            f.last_episode = episode_id;
            f.episodes += 1;
        }
        if !s.episode_agents.contains(&agent) {
            s.episode_agents.push(agent);
        }
        if let Some(prev) = last {
            if ds.agent[prev] != agent {
                let cross_channel = ds.channel[prev] != ds.channel[r];
                a.handoffs += 1;
                a.cross_channel_handoffs += cross_channel as u64;
                if rows {
                    a.handoff_rows.push(Handoff {
                        customer,
                        from_row: prev,
                        to_row: r,
                        cross_channel,
                    });
                }
            }
        }
        last = Some(r);
    }
    if !s.episode_agents.is_empty() {
        a.episodes_with_agents += 1;
        a.agent_episode_sum += s.episode_agents.len() as u64;
        a.episodes_with_several_agents += (s.episode_agents.len() > 1) as u64;
    }
}
