//! Ground truth: every record's true customer, every identity's customer, and the report
//! figures (episodes, channel switches, repeated details, unanswered contacts) computed on
//! the true customers with the design's definitions and default settings (docs/gen.md).

use super::contacts::ContactRow;
use super::population::{Customer, WaContact};
use super::{Body, Event, GenSummary, MailKind, CONTACTS_MTIME_MS};
use crate::identity::identity_id;
use crate::model::{Channel, Direction, HandleKind};
use crate::normalize::text::clean_name;
use chrono::{TimeZone, Utc};
use std::collections::{BTreeMap, HashSet};
use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};

/// Report defaults the truth is computed with (docs/metrics.md).
pub const WINDOW_MS: i64 = 72 * 3_600_000;
pub const SLA_MS: i64 = 24 * 3_600_000;
pub const REPEAT_WINDOW_MS: i64 = 7 * 24 * 3_600_000;
pub const CONTACT_GAP_MS: i64 = 10 * 60_000;

const CHANNELS: [Channel; 3] = [Channel::Whatsapp, Channel::Email, Channel::Call];

fn rfc3339(ts: i64) -> String {
    Utc.timestamp_millis_opt(ts)
        .unwrap()
        .format("%Y-%m-%dT%H:%M:%S%.3fZ")
        .to_string()
}

type Csv = csv::Writer<BufWriter<File>>;

fn csv_file(dir: &Path, name: &str, header: &[&str]) -> anyhow::Result<Csv> {
    let mut w = csv::Writer::from_writer(BufWriter::with_capacity(1 << 16, File::create(dir.join(name))?));
    w.write_record(header)?;
    Ok(w)
}

/// One episode of a customer, as the truth sees it.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Episode {
    /// Indexes into the customer's (time-sorted) events: a contiguous run.
    pub members: Vec<usize>,
}

/// Splits a customer's events (sorted by time) into episodes, as docs/metrics.md defines
/// them: an event starts a new episode when the gap to the previous event is at least the
/// window, unless it mentions an order number already mentioned in the current episode.
pub fn episodes(events: &[&Event]) -> Vec<Episode> {
    let mut out: Vec<Episode> = Vec::new();
    let mut orders: Vec<&str> = Vec::new();
    for (i, e) in events.iter().enumerate() {
        let joins = out.last().is_some_and(|ep| {
            let prev = events[*ep.members.last().unwrap()];
            e.ts - prev.ts < WINDOW_MS || e.orders.iter().any(|o| orders.contains(&o.as_str()))
        });
        if !joins {
            out.push(Episode::default());
            orders.clear();
        }
        out.last_mut().unwrap().members.push(i);
        for o in &e.orders {
            if !orders.contains(&o.as_str()) {
                orders.push(o);
            }
        }
    }
    out
}

/// One approach by the customer (docs/metrics.md "Contacts"): an inbound call, or inbound
/// messages on one channel each less than the contact gap after the previous one with
/// nothing of the customer's conversation in between.
#[derive(Debug, Clone, PartialEq)]
pub struct Contact {
    /// First and last event (indexes into the customer's events); the contact is every
    /// event from `first` to `last`.
    pub first: usize,
    pub last: usize,
    pub channel: Channel,
}

/// The contacts of one episode, in time order.
pub fn contacts(events: &[&Event], episode: &Episode) -> Vec<Contact> {
    let mut out: Vec<Contact> = Vec::new();
    for &i in &episode.members {
        let e = events[i];
        if e.dir != Direction::Inbound {
            continue;
        }
        if let Some(c) = out.last_mut() {
            let prev = events[c.last];
            if c.last + 1 == i
                && !e.is_call()
                && !prev.is_call()
                && prev.channel == e.channel
                && e.ts - prev.ts < CONTACT_GAP_MS
            {
                c.last = i;
                continue;
            }
        }
        out.push(Contact {
            first: i,
            last: i,
            channel: e.channel,
        });
    }
    out
}

/// How one view judged a contact that needs a response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// A response within the SLA of the contact's first message.
    Answered,
    /// A response later than the SLA: unanswered.
    Late,
    /// No response at all: unanswered once the data runs past the SLA, else pending
    /// (decided when the end of the data is known).
    NoResponse,
}

impl Outcome {
    fn as_str(self) -> &'static str {
        match self {
            Outcome::Answered => "answered",
            Outcome::Late => "late",
            Outcome::NoResponse => "none",
        }
    }
}

/// The first response after event `after`, on `channel` when given.
fn next_response(events: &[&Event], after: usize, channel: Option<Channel>) -> Option<usize> {
    (after + 1..events.len()).find(|&j| events[j].is_response() && channel.is_none_or(|c| events[j].channel == c))
}

/// `(per channel, unified)` outcomes of a contact that needs a response: the first response
/// after its last message, on its own channel and on any channel, timed from its first.
pub fn outcomes(events: &[&Event], c: &Contact) -> (Outcome, Outcome) {
    let judge = |r: Option<usize>| match r {
        Some(r) if events[r].ts - events[c.first].ts <= SLA_MS => Outcome::Answered,
        Some(_) => Outcome::Late,
        None => Outcome::NoResponse,
    };
    (
        judge(next_response(events, c.last, Some(c.channel))),
        judge(next_response(events, c.last, None)),
    )
}

/// A channel switch inside an episode, and the order numbers restated in it.
#[derive(Debug, Clone, PartialEq)]
pub struct Switch {
    /// The contact on the new channel (index into the episode's contacts).
    pub contact: usize,
    pub from: Channel,
    pub to: Channel,
    /// (event index, order number, channel it was first given on)
    pub repeated: Vec<(usize, String, Channel)>,
}

/// Switches of one episode: a contact on another channel than the previous contact's.
/// Repeated details: an order number in the switch's contact that the customer gave in an
/// earlier contact of the episode on another channel.
pub fn switches(events: &[&Event], contacts: &[Contact]) -> Vec<Switch> {
    let mut given: Vec<(&str, Vec<Channel>)> = Vec::new();
    let mut out: Vec<Switch> = Vec::new();
    for (n, c) in contacts.iter().enumerate() {
        if n > 0 && contacts[n - 1].channel != c.channel {
            let mut repeated: Vec<(usize, String, Channel)> = Vec::new();
            for (i, e) in events.iter().enumerate().take(c.last + 1).skip(c.first) {
                for o in &e.orders {
                    let earlier = given.iter().find(|(g, _)| *g == o.as_str());
                    if let Some(&first) = earlier.and_then(|(_, chans)| chans.iter().find(|&&ch| ch != c.channel)) {
                        if !repeated.iter().any(|(_, r, _)| r == o) {
                            repeated.push((i, o.clone(), first));
                        }
                    }
                }
            }
            out.push(Switch {
                contact: n,
                from: contacts[n - 1].channel,
                to: c.channel,
                repeated,
            });
        }
        for e in &events[c.first..=c.last] {
            for o in &e.orders {
                match given.iter_mut().find(|(g, _)| *g == o.as_str()) {
                    Some((_, chans)) if !chans.contains(&c.channel) => chans.push(c.channel),
                    Some(_) => {}
                    None => given.push((o, vec![c.channel])),
                }
            }
        }
    }
    out
}

/// Whether contact `n` of an episode is a repeat contact: it starts within the repeat
/// window of the end of the previous contact, with no response in between (an answered
/// call that is itself the contact is not "in between").
pub fn is_repeat(events: &[&Event], contacts: &[Contact], n: usize) -> bool {
    let Some(prev) = n.checked_sub(1).map(|p| &contacts[p]) else {
        return false;
    };
    let c = &contacts[n];
    let answered_between = next_response(events, prev.last, None).is_some_and(|r| r < c.first);
    !answered_between && events[c.first].ts - events[prev.last].ts <= REPEAT_WINDOW_MS
}

#[derive(Default, serde::Serialize)]
struct ChannelFigures {
    interactions: u64,
    customers: u64,
    inbound: u64,
    outbound: u64,
}

/// Contacts and unanswered contacts of one channel: the report's `unanswered.<channel>`.
#[derive(Default, serde::Serialize)]
struct UnansweredFigures {
    contacts: u64,
    needing_response: u64,
    per_channel: u64,
    unified: u64,
    pending_per_channel: u64,
    pending_unified: u64,
}

/// A contact with no response in some view, waiting for the end of the data to tell
/// unanswered (the SLA ran out before the data ends) from pending.
struct Undecided {
    first_ts: i64,
    channel: Channel,
    /// No response on the contact's channel / on any channel.
    none_per_channel: bool,
    none_unified: bool,
    /// The `unanswered.csv` row, written if the per-channel view turns out unanswered.
    row: [String; 8],
}

/// A customer's own events (and the identity each carries) waiting to be scored.
struct Held {
    index: u64,
    id: String,
    events: Vec<(Event, Option<String>)>,
    /// Identities the customer lists first in `identities.csv`.
    ids: Vec<String>,
}

/// Streams the truth files; keeps only counters (and 8-byte hashes of identities).
pub struct TruthWriter {
    dir: PathBuf,
    identities: Csv,
    interactions_csv: Csv,
    customers: Csv,
    episodes: Csv,
    switches: Csv,
    repeats: Csv,
    unanswered: Csv,
    identity_hashes: HashSet<u64>,
    /// Every record written to `interactions.csv`, contact rows included.
    pub records: u64,
    /// Records without contact rows: the report's `interactions`.
    interactions: u64,
    customers_with_events: u64,
    multichannel: u64,
    episode_count: u64,
    episodes_with_switch: u64,
    switch_count: u64,
    repeated_switches: u64,
    repeats_same_channel: u64,
    repeats_cross_channel: u64,
    unanswered_figures: BTreeMap<&'static str, UnansweredFigures>,
    undecided: Vec<Undecided>,
    /// Latest record time so far (contact rows excluded): the data ends no earlier.
    latest_ts: i64,
    channels: BTreeMap<&'static str, ChannelFigures>,
    /// The first member of a household, scored once the second is known (docs/gen.md).
    held: Option<Held>,
}

impl TruthWriter {
    pub fn create(root: &Path) -> anyhow::Result<TruthWriter> {
        let dir = root.join("truth");
        std::fs::create_dir_all(&dir)?;
        // `audit DIR` walks the whole output: the answers must not be imported as data.
        std::fs::write(
            dir.join(crate::import::IGNORE_MARKER),
            "omnitrail skips this folder when it walks a parent folder (ground truth, not an export)\n",
        )?;
        Ok(TruthWriter {
            identities: csv_file(&dir, "identities.csv", &["identity_id", "customer_id"])?,
            interactions_csv: csv_file(
                &dir,
                "interactions.csv",
                &["channel", "file", "source_ref", "customer_id", "ts"],
            )?,
            customers: csv_file(&dir, "customers.csv", &["customer_id", "name", "phones", "emails"])?,
            episodes: csv_file(
                &dir,
                "episodes.csv",
                &[
                    "customer_id",
                    "episode_id",
                    "start",
                    "end",
                    "interactions",
                    "inbound",
                    "channels",
                    "switches",
                    "switches_with_repeated_details",
                    "orders",
                    "contacts",
                    "repeat_contacts",
                ],
            )?,
            switches: csv_file(
                &dir,
                "switches.csv",
                &[
                    "customer_id",
                    "episode_id",
                    "ts",
                    "from_channel",
                    "to_channel",
                    "file",
                    "source_ref",
                    "repeated_details",
                ],
            )?,
            repeats: csv_file(
                &dir,
                "repeats.csv",
                &[
                    "customer_id",
                    "episode_id",
                    "switch_file",
                    "switch_ref",
                    "file",
                    "source_ref",
                    "ts",
                    "channel",
                    "mention",
                    "first_channel",
                ],
            )?,
            unanswered: csv_file(
                &dir,
                "unanswered.csv",
                &[
                    "customer_id",
                    "channel",
                    "file",
                    "source_ref",
                    "ts",
                    "unanswered_unified",
                    "per_channel",
                    "unified",
                ],
            )?,
            dir,
            identity_hashes: HashSet::new(),
            records: 0,
            interactions: 0,
            customers_with_events: 0,
            multichannel: 0,
            episode_count: 0,
            episodes_with_switch: 0,
            switch_count: 0,
            repeated_switches: 0,
            repeats_same_channel: 0,
            repeats_cross_channel: 0,
            unanswered_figures: CHANNELS
                .iter()
                .map(|c| (c.as_str(), UnansweredFigures::default()))
                .collect(),
            undecided: Vec::new(),
            latest_ts: i64::MIN,
            channels: CHANNELS
                .iter()
                .map(|c| (c.as_str(), ChannelFigures::default()))
                .collect(),
            held: None,
        })
    }

    fn interaction(
        &mut self,
        channel: Channel,
        file: &str,
        source_ref: &str,
        customer: &str,
        ts: i64,
    ) -> anyhow::Result<()> {
        self.interactions_csv
            .write_record([channel.as_str(), file, source_ref, customer, &rfc3339(ts)])?;
        self.records += 1;
        // Contact-list rows are identity anchors, not interactions: the report leaves them out.
        if let Some(f) = self.channels.get_mut(channel.as_str()) {
            f.interactions += 1;
            self.interactions += 1;
            self.latest_ts = self.latest_ts.max(ts);
        }
        Ok(())
    }

    /// The identity omnitrail derives for a customer-side record.
    fn identity_of(c: &Customer, e: &Event) -> Option<String> {
        match (&e.body, e.channel) {
            (Body::Wa { .. }, _) => Some(match c.whatsapp.as_ref()? {
                WaContact::Saved(n) => identity_id(HandleKind::Name, &clean_name(n), Channel::Whatsapp),
                WaContact::Number(_) => identity_id(HandleKind::Phone, &c.mobile.e164(), Channel::Whatsapp),
            }),
            (
                Body::Email {
                    kind: MailKind::Customer | MailKind::Agent,
                    address,
                    ..
                },
                _,
            ) => Some(identity_id(HandleKind::Email, &address.to_lowercase(), Channel::Email)),
            (Body::Call { number, .. }, _) => Some(identity_id(HandleKind::Phone, &number.e164(), Channel::Call)),
            _ => None,
        }
    }

    pub fn write_customer(
        &mut self,
        c: &Customer,
        events: &[Event],
        extra: &[Event],
        contacts: &[ContactRow],
    ) -> anyhow::Result<()> {
        let id = c.id.as_str();
        self.customers
            .write_record([id, &c.full_name(), &c.phones().join(";"), &c.emails().join(";")])?;
        // Interactions and identities.
        let mut ids: Vec<String> = Vec::new();
        let mut own: Vec<(Event, Option<String>)> = Vec::new();
        for e in events.iter().chain(extra) {
            let owner = if e.customer { id } else { "" };
            self.interaction(e.channel, &e.file, &e.source_ref, owner, e.ts)?;
            if e.customer {
                let identity = Self::identity_of(c, e);
                if let Some(i) = &identity {
                    if !ids.contains(i) {
                        ids.push(i.clone());
                    }
                    // The report's `identities`: handles its interactions carry (contact rows left out).
                    let h = blake3::hash(i.as_bytes());
                    self.identity_hashes
                        .insert(u64::from_le_bytes(h.as_bytes()[..8].try_into().unwrap()));
                }
                own.push((e.clone(), identity));
            }
        }
        // Contact rows (CRM row, address-book card) anchor their key identity.
        for row in contacts {
            self.interaction(Channel::Contact, row.file, &row.source_ref, id, CONTACTS_MTIME_MS)?;
            if !ids.contains(&row.identity) {
                ids.push(row.identity.clone());
            }
        }
        for i in &ids {
            self.identities.write_record([i.as_str(), id])?;
        }
        for e in &own {
            let f = self.channels.get_mut(e.0.channel.as_str()).unwrap();
            f.inbound += (e.0.dir == Direction::Inbound) as u64;
            f.outbound += (e.0.dir == Direction::Outbound) as u64;
        }

        // A shared family landline is one identity, and an identity belongs to one customer:
        // the household member listed first (2j) gets the other's calls from it in the figures.
        let held = Held {
            index: c.index,
            id: id.to_string(),
            events: own,
            ids,
        };
        match self.held.take() {
            Some(mut first) if first.index + 1 == held.index && first.index % 2 == 0 => {
                let (moved, kept): (Vec<_>, Vec<_>) = held
                    .events
                    .into_iter()
                    .partition(|(_, i)| i.as_ref().is_some_and(|i| first.ids.contains(i)));
                first.events.extend(moved);
                self.score(&first.id, first.events)?;
                self.score(&held.id, kept)?;
            }
            Some(first) => {
                self.score(&first.id, first.events)?;
                self.hold_or_score(c, held)?;
            }
            None => self.hold_or_score(c, held)?,
        }
        Ok(())
    }

    fn hold_or_score(&mut self, c: &Customer, held: Held) -> anyhow::Result<()> {
        if c.family_phone.is_some() && c.index.is_multiple_of(2) {
            self.held = Some(held);
            Ok(())
        } else {
            self.score(&held.id, held.events)
        }
    }

    /// The report figures of one customer's own events.
    fn score(&mut self, id: &str, mut events: Vec<(Event, Option<String>)>) -> anyhow::Result<()> {
        if events.is_empty() {
            return Ok(());
        }
        events.sort_by_key(|(e, _)| e.ts);
        let own: Vec<&Event> = events.iter().map(|(e, _)| e).collect();
        self.customers_with_events += 1;
        let mut used = 0;
        for ch in CHANNELS {
            if own.iter().any(|e| e.channel == ch) {
                used += 1;
                self.channels.get_mut(ch.as_str()).unwrap().customers += 1;
            }
        }
        if used >= 2 {
            self.multichannel += 1;
        }

        for (n, ep) in episodes(&own).iter().enumerate() {
            let ep_id = format!("{id}-E{}", n + 1);
            let cs = contacts(&own, ep);
            let sw = switches(&own, &cs);
            let mut repeats = 0;
            for (k, ct) in cs.iter().enumerate() {
                if is_repeat(&own, &cs, k) {
                    repeats += 1;
                    if cs[k - 1].channel == ct.channel {
                        self.repeats_same_channel += 1;
                    } else {
                        self.repeats_cross_channel += 1;
                    }
                }
                self.contact_outcome(id, &own, ct)?;
            }
            let first = own[ep.members[0]];
            let last = own[*ep.members.last().unwrap()];
            let mut chans: Vec<&str> = Vec::new();
            let mut orders: Vec<&str> = Vec::new();
            for &m in &ep.members {
                let ch = own[m].channel.as_str();
                if !chans.contains(&ch) {
                    chans.push(ch);
                }
                for o in &own[m].orders {
                    if !orders.contains(&o.as_str()) {
                        orders.push(o);
                    }
                }
            }
            let inbound = ep.members.iter().filter(|&&m| own[m].dir == Direction::Inbound).count();
            let with_repeats = sw.iter().filter(|s| !s.repeated.is_empty()).count();
            self.episodes.write_record([
                id,
                &ep_id,
                &rfc3339(first.ts),
                &rfc3339(last.ts),
                &ep.members.len().to_string(),
                &inbound.to_string(),
                &chans.join(";"),
                &sw.len().to_string(),
                &with_repeats.to_string(),
                &orders.join(";"),
                &cs.len().to_string(),
                &repeats.to_string(),
            ])?;
            self.episode_count += 1;
            self.episodes_with_switch += !sw.is_empty() as u64;
            self.switch_count += sw.len() as u64;
            self.repeated_switches += with_repeats as u64;
            for s in &sw {
                let at = own[cs[s.contact].first];
                self.switches.write_record([
                    id,
                    &ep_id,
                    &rfc3339(at.ts),
                    s.from.as_str(),
                    s.to.as_str(),
                    &at.file,
                    &at.source_ref,
                    if s.repeated.is_empty() { "false" } else { "true" },
                ])?;
                for (i, order, first_channel) in &s.repeated {
                    let r = own[*i];
                    self.repeats.write_record([
                        id,
                        &ep_id,
                        &at.file,
                        &at.source_ref,
                        &r.file,
                        &r.source_ref,
                        &rfc3339(r.ts),
                        r.channel.as_str(),
                        &format!("order:{order}"),
                        first_channel.as_str(),
                    ])?;
                }
            }
        }
        self.settle_undecided(false)?;
        Ok(())
    }

    /// Counts a contact and, when it needs a response, its outcomes in both views.
    fn contact_outcome(&mut self, id: &str, own: &[&Event], ct: &Contact) -> anyhow::Result<()> {
        let first = own[ct.first];
        let f = self.unanswered_figures.get_mut(ct.channel.as_str()).unwrap();
        f.contacts += 1;
        if !first.needs_response() {
            return Ok(());
        }
        f.needing_response += 1;
        let (per_channel, unified) = outcomes(own, ct);
        f.per_channel += (per_channel == Outcome::Late) as u64;
        f.unified += (unified == Outcome::Late) as u64;
        let row = [
            id.to_string(),
            ct.channel.as_str().to_string(),
            first.file.clone(),
            first.source_ref.clone(),
            rfc3339(first.ts),
            String::new(),
            per_channel.as_str().to_string(),
            unified.as_str().to_string(),
        ];
        if per_channel == Outcome::NoResponse || unified == Outcome::NoResponse {
            self.undecided.push(Undecided {
                first_ts: first.ts,
                channel: ct.channel,
                none_per_channel: per_channel == Outcome::NoResponse,
                none_unified: unified == Outcome::NoResponse,
                row,
            });
        } else if per_channel == Outcome::Late {
            self.write_unanswered(row, unified == Outcome::Late)?;
        }
        Ok(())
    }

    fn write_unanswered(&mut self, mut row: [String; 8], unified: bool) -> anyhow::Result<()> {
        row[5] = unified.to_string();
        self.unanswered.write_record(&row)?;
        Ok(())
    }

    /// Decides the contacts without a response whose SLA ran out before the latest record
    /// seen (the data ends no earlier); at the end (`last`), the rest are pending.
    fn settle_undecided(&mut self, last: bool) -> anyhow::Result<()> {
        let end = self.latest_ts;
        let mut keep = Vec::new();
        for u in std::mem::take(&mut self.undecided) {
            let expired = u.first_ts.saturating_add(SLA_MS) <= end;
            if !expired && !last {
                keep.push(u);
                continue;
            }
            let f = self.unanswered_figures.get_mut(u.channel.as_str()).unwrap();
            if u.none_per_channel {
                if expired {
                    f.per_channel += 1;
                } else {
                    f.pending_per_channel += 1;
                }
            }
            if u.none_unified {
                if expired {
                    f.unified += 1;
                } else {
                    f.pending_unified += 1;
                }
            }
            // A per-channel outcome `none` is unanswered when expired; `late` was counted already.
            let per_channel_unanswered = (u.none_per_channel && expired) || u.row[6] == "late";
            let unified_unanswered = (u.none_unified && expired) || u.row[7] == "late";
            if per_channel_unanswered {
                let mut row = u.row;
                if u.none_unified && !expired {
                    row[7] = "pending".into();
                }
                self.write_unanswered(row, unified_unanswered)?;
            }
        }
        self.undecided = keep;
        Ok(())
    }

    /// Flushes the CSVs and writes `summary.json`.
    pub fn finish(mut self, written: &GenSummary) -> anyhow::Result<()> {
        if let Some(h) = self.held.take() {
            self.score(&h.id, h.events)?;
        }
        self.settle_undecided(true)?;
        for w in [
            &mut self.identities,
            &mut self.interactions_csv,
            &mut self.customers,
            &mut self.episodes,
            &mut self.switches,
            &mut self.repeats,
            &mut self.unanswered,
        ] {
            w.flush()?;
        }
        let per_channel: u64 = self.unanswered_figures.values().map(|u| u.per_channel).sum();
        let unified: u64 = self.unanswered_figures.values().map(|u| u.unified).sum();
        let contacts: u64 = self.unanswered_figures.values().map(|u| u.contacts).sum();
        let needing: u64 = self.unanswered_figures.values().map(|u| u.needing_response).sum();
        let repeats = self.repeats_same_channel + self.repeats_cross_channel;
        let summary = serde_json::json!({
            "interactions": self.interactions,
            "customers": self.customers_with_events,
            "identities": self.identity_hashes.len(),
            "channels": self.channels,
            "multichannel_customers": self.multichannel,
            "episodes": self.episode_count,
            "episodes_with_switch": self.episodes_with_switch,
            "contacts": contacts,
            "channel_switches": self.switch_count,
            "switches_with_repeated_details": self.repeated_switches,
            "needing_response": needing,
            "unanswered_per_channel": per_channel,
            "unanswered_unified": unified,
            "unanswered": self.unanswered_figures,
            "repeat_contacts": repeats,
            "repeat_contacts_same_channel": self.repeats_same_channel,
            "repeat_contacts_cross_channel": self.repeats_cross_channel,
            "settings": {"window": "72h", "sla": "24h", "repeat_window": "7d", "contact_gap": "10m"},
            "generated": written,
        });
        std::fs::write(
            self.dir.join("summary.json"),
            serde_json::to_string_pretty(&summary)? + "\n",
        )?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gen::population::mobile;
    use crate::gen::CallOutcome;

    const H: i64 = 3_600_000;

    fn wa(ts: i64, dir: Direction, orders: &[&str]) -> Event {
        let mut e = Event::wa(ts, dir, "x", 0);
        e.orders = orders.iter().map(|o| o.to_string()).collect();
        e
    }

    fn call(ts: i64, dir: Direction, outcome: CallOutcome) -> Event {
        Event {
            channel: Channel::Call,
            body: Body::Call {
                outcome,
                talk_s: 0,
                ring_s: 5,
                twilio: false,
                number: mobile(1),
                queue_legs: 1,
            },
            ..wa(ts, dir, &[])
        }
    }

    fn mail(ts: i64, dir: Direction, orders: &[&str]) -> Event {
        Event {
            channel: Channel::Email,
            body: Body::Email {
                thread: 1,
                subject: String::new(),
                text: String::new(),
                signature: None,
                kind: MailKind::Customer,
                address: String::new(),
            },
            ..wa(ts, dir, orders)
        }
    }

    #[test]
    fn episodes_split_on_gaps_and_join_the_current_episode_on_its_orders() {
        let ev = [
            wa(0, Direction::Inbound, &["BS-1"]),
            wa(71 * H, Direction::Inbound, &[]),
            wa(200 * H, Direction::Inbound, &["BS-1"]),
            wa(300 * H, Direction::Inbound, &["BS-2"]),
            wa(400 * H, Direction::Inbound, &["BS-1"]),
        ];
        let refs: Vec<&Event> = ev.iter().collect();
        let eps = episodes(&refs);
        // BS-1 after 129 h joins the current episode; BS-1 again after BS-2's episode does not
        // merge back into an earlier episode.
        let members: Vec<Vec<usize>> = eps.into_iter().map(|e| e.members).collect();
        assert_eq!(members, vec![vec![0, 1, 2], vec![3], vec![4]]);
    }

    #[test]
    fn messages_close_together_are_one_contact_and_calls_are_their_own() {
        let ev = [
            wa(0, Direction::Inbound, &[]),
            wa(5 * 60_000, Direction::Inbound, &[]),
            wa(16 * 60_000, Direction::Inbound, &[]),
            call(17 * 60_000, Direction::Inbound, CallOutcome::Missed),
            call(18 * 60_000, Direction::Inbound, CallOutcome::Missed),
            wa(19 * 60_000, Direction::Outbound, &[]),
            wa(20 * 60_000, Direction::Inbound, &[]),
        ];
        let refs: Vec<&Event> = ev.iter().collect();
        let cs = contacts(&refs, &episodes(&refs)[0]);
        let spans: Vec<(usize, usize)> = cs.iter().map(|c| (c.first, c.last)).collect();
        assert_eq!(spans, vec![(0, 1), (2, 2), (3, 3), (4, 4), (6, 6)]);
        // The reply at 19 min answers the calls on WhatsApp only, and every contact unified.
        assert_eq!(outcomes(&refs, &cs[0]), (Outcome::Answered, Outcome::Answered));
        assert_eq!(outcomes(&refs, &cs[2]), (Outcome::NoResponse, Outcome::Answered));
        assert_eq!(outcomes(&refs, &cs[4]), (Outcome::NoResponse, Outcome::NoResponse));
        // Redialling and writing again with no reply in between are repeat contacts.
        assert!(!is_repeat(&refs, &cs, 0));
        assert!(is_repeat(&refs, &cs, 1));
        assert!(is_repeat(&refs, &cs, 3));
        assert!(!is_repeat(&refs, &cs, 4));
    }

    #[test]
    fn switches_and_repeated_orders() {
        let ev = [
            wa(0, Direction::Inbound, &["BS-1"]),
            call(2 * H, Direction::Inbound, CallOutcome::Missed),
            mail(3 * H, Direction::Inbound, &[]),
            mail(3 * H + 60_000, Direction::Inbound, &["BS-1"]),
            mail(4 * H, Direction::Outbound, &[]),
        ];
        let refs: Vec<&Event> = ev.iter().collect();
        let eps = episodes(&refs);
        let cs = contacts(&refs, &eps[0]);
        assert_eq!(cs.len(), 3);
        let sw = switches(&refs, &cs);
        assert_eq!(sw.len(), 2);
        assert_eq!((sw[0].from, sw[0].to), (Channel::Whatsapp, Channel::Call));
        assert!(sw[0].repeated.is_empty());
        assert_eq!(sw[1].repeated, vec![(3, "BS-1".to_string(), Channel::Whatsapp)]);
        // The WhatsApp message and the missed call got no answer on their channel; the
        // emails' answer (within 24 h) also answers the call and the chat unified.
        assert_eq!(outcomes(&refs, &cs[0]), (Outcome::NoResponse, Outcome::Answered));
        assert_eq!(outcomes(&refs, &cs[1]), (Outcome::NoResponse, Outcome::Answered));
        assert_eq!(outcomes(&refs, &cs[2]), (Outcome::Answered, Outcome::Answered));
        let late = [wa(0, Direction::Inbound, &[]), wa(25 * H, Direction::Outbound, &[])];
        let refs: Vec<&Event> = late.iter().collect();
        let cs = contacts(&refs, &episodes(&refs)[0]);
        assert_eq!(outcomes(&refs, &cs[0]), (Outcome::Late, Outcome::Late));
        // A callback nobody picks up is not a response; an answered inbound call needs none.
        let missed_callback = [
            wa(0, Direction::Inbound, &[]),
            call(H, Direction::Outbound, CallOutcome::Missed),
        ];
        let refs: Vec<&Event> = missed_callback.iter().collect();
        let cs = contacts(&refs, &episodes(&refs)[0]);
        assert_eq!(outcomes(&refs, &cs[0]).1, Outcome::NoResponse);
        assert!(!call(0, Direction::Inbound, CallOutcome::Answered).needs_response());
    }
}
