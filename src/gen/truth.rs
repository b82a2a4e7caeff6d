//! Ground truth: every record's true customer, every identity's customer, and the report
//! figures (episodes, channel switches, repeated details, unanswered contacts) computed on
//! the true customers with the design's definitions and default settings (docs/gen.md).

use super::contacts::{ContactRow, CONTACTS};
use super::population::{Customer, WaContact};
use super::{Body, Event, GenSummary, MailKind, CONTACTS_MTIME_MS};
use crate::identity::identity_id;
use crate::model::{Channel, Direction, HandleKind};
use crate::normalize::text::clean_name;
use chrono::{TimeZone, Utc};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};

/// Report defaults the truth is computed with.
pub const WINDOW_MS: i64 = 72 * 3_600_000;
pub const SLA_MS: i64 = 24 * 3_600_000;

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
    /// Indexes into the customer's (time-sorted) events.
    pub members: Vec<usize>,
}

/// Splits a customer's events (sorted by time) into episodes: gaps under the window, and
/// groups that share an order number joined (union-find over the gap groups).
pub fn episodes(events: &[&Event]) -> Vec<Episode> {
    let mut groups: Vec<Vec<usize>> = Vec::new();
    for (i, e) in events.iter().enumerate() {
        match groups.last_mut() {
            Some(g) if e.ts - events[*g.last().unwrap()].ts < WINDOW_MS => g.push(i),
            _ => groups.push(vec![i]),
        }
    }
    let mut parent: Vec<usize> = (0..groups.len()).collect();
    fn find(p: &mut [usize], x: usize) -> usize {
        let mut r = x;
        while p[r] != r {
            r = p[r];
        }
        p[x] = r;
        r
    }
    let mut first_group: HashMap<&str, usize> = HashMap::new();
    for (g, members) in groups.iter().enumerate() {
        for &i in members {
            for o in &events[i].orders {
                match first_group.get(o.as_str()) {
                    Some(&h) => {
                        let (a, b) = (find(&mut parent, h), find(&mut parent, g));
                        parent[a.max(b)] = a.min(b);
                    }
                    None => {
                        first_group.insert(o, g);
                    }
                }
            }
        }
    }
    let mut by_root: BTreeMap<usize, Episode> = BTreeMap::new();
    for (g, members) in groups.into_iter().enumerate() {
        let r = find(&mut parent, g);
        by_root.entry(r).or_default().members.extend(members);
    }
    by_root.into_values().collect()
}

/// A channel switch inside an episode, and the order numbers restated after it.
#[derive(Debug, Clone, PartialEq)]
pub struct Switch {
    /// Index of the inbound event on the new channel.
    pub at: usize,
    pub from: Channel,
    pub to: Channel,
    /// (event index, order number, channel it was first given on)
    pub repeated: Vec<(usize, String, Channel)>,
}

/// Switches of one episode: an inbound contact on a channel other than the previous inbound
/// contact's. Repeated details: inbound records from the switch up to the next switch that
/// mention an order number the customer gave earlier in the episode on another channel.
pub fn switches(events: &[&Event], episode: &Episode) -> Vec<Switch> {
    let inbound: Vec<usize> = episode
        .members
        .iter()
        .copied()
        .filter(|&i| events[i].dir == Direction::Inbound)
        .collect();
    let mut given: HashMap<&str, Vec<Channel>> = HashMap::new();
    let mut out: Vec<Switch> = Vec::new();
    let mut prev: Option<Channel> = None;
    for &i in &inbound {
        let e = events[i];
        if let Some(p) = prev.filter(|&p| p != e.channel) {
            out.push(Switch {
                at: i,
                from: p,
                to: e.channel,
                repeated: vec![],
            });
        }
        prev = Some(e.channel);
        for o in &e.orders {
            let earlier = given.entry(o.as_str()).or_default();
            if let (Some(s), Some(&first)) = (out.last_mut(), earlier.iter().find(|&&c| c != e.channel)) {
                s.repeated.push((i, o.clone(), first));
            }
            if !earlier.contains(&e.channel) {
                earlier.push(e.channel);
            }
        }
    }
    out
}

/// Whether inbound event `i` got a response within the SLA: `(same channel, any channel)`.
/// An answered inbound call is its own response.
pub fn answered(events: &[&Event], i: usize) -> (bool, bool) {
    let e = events[i];
    if e.is_response() {
        return (true, true);
    }
    let mut same = false;
    let mut any = false;
    for (j, r) in events.iter().enumerate() {
        if j == i || !r.is_response() || r.ts < e.ts || r.ts - e.ts > SLA_MS {
            continue;
        }
        any = true;
        same |= r.channel == e.channel;
    }
    (same, any)
}

#[derive(Default, serde::Serialize)]
struct ChannelFigures {
    interactions: u64,
    customers: u64,
    inbound: u64,
    outbound: u64,
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
    pub interactions: u64,
    customers_with_events: u64,
    multichannel: u64,
    episode_count: u64,
    switch_count: u64,
    repeated_switches: u64,
    unanswered_channel: BTreeMap<&'static str, u64>,
    unanswered_unified: u64,
    channels: BTreeMap<&'static str, ChannelFigures>,
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
                ],
            )?,
            dir,
            identity_hashes: HashSet::new(),
            interactions: 0,
            customers_with_events: 0,
            multichannel: 0,
            episode_count: 0,
            switch_count: 0,
            repeated_switches: 0,
            unanswered_channel: CHANNELS.iter().map(|c| (c.as_str(), 0)).collect(),
            unanswered_unified: 0,
            channels: CHANNELS
                .iter()
                .chain([Channel::Contact].iter())
                .map(|c| (c.as_str(), ChannelFigures::default()))
                .collect(),
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
        self.interactions += 1;
        self.channels.get_mut(channel.as_str()).unwrap().interactions += 1;
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
        contact: Option<&ContactRow>,
    ) -> anyhow::Result<()> {
        let id = c.id.as_str();
        self.customers
            .write_record([id, &c.full_name(), &c.phones().join(";"), &c.emails().join(";")])?;
        // Interactions and identities.
        let mut ids: Vec<String> = Vec::new();
        for e in events.iter().chain(extra) {
            let owner = if e.customer { id } else { "" };
            self.interaction(e.channel, &e.file, &e.source_ref, owner, e.ts)?;
            if e.customer {
                if let Some(i) = Self::identity_of(c, e) {
                    if !ids.contains(&i) {
                        ids.push(i);
                    }
                }
            }
        }
        if let Some(row) = contact {
            self.interaction(Channel::Contact, CONTACTS, &row.source_ref, id, CONTACTS_MTIME_MS)?;
            if !ids.contains(&row.identity) {
                ids.push(row.identity.clone());
            }
            self.channels.get_mut("contact").unwrap().customers += 1;
        }
        for i in &ids {
            self.identities.write_record([i.as_str(), id])?;
            let h = blake3::hash(i.as_bytes());
            self.identity_hashes
                .insert(u64::from_le_bytes(h.as_bytes()[..8].try_into().unwrap()));
        }

        let own: Vec<&Event> = events.iter().filter(|e| e.customer).collect();
        if own.is_empty() {
            return Ok(());
        }
        self.customers_with_events += 1;
        let mut used = 0;
        for ch in CHANNELS {
            let f = self.channels.get_mut(ch.as_str()).unwrap();
            let mine: Vec<&&Event> = own.iter().filter(|e| e.channel == ch).collect();
            if !mine.is_empty() {
                used += 1;
                f.customers += 1;
            }
            f.inbound += mine.iter().filter(|e| e.dir == Direction::Inbound).count() as u64;
            f.outbound += mine.iter().filter(|e| e.dir == Direction::Outbound).count() as u64;
        }
        if used >= 2 {
            self.multichannel += 1;
        }

        // Unanswered inbound contacts.
        for (i, e) in own.iter().enumerate().filter(|(_, e)| e.dir == Direction::Inbound) {
            let (same, any) = answered(&own, i);
            if !same {
                *self.unanswered_channel.get_mut(e.channel.as_str()).unwrap() += 1;
                if !any {
                    self.unanswered_unified += 1;
                }
                self.unanswered.write_record([
                    id,
                    e.channel.as_str(),
                    &e.file,
                    &e.source_ref,
                    &rfc3339(e.ts),
                    if any { "false" } else { "true" },
                ])?;
            }
        }

        // Episodes, switches, repeated details.
        for (n, ep) in episodes(&own).iter().enumerate() {
            let ep_id = format!("{id}-E{}", n + 1);
            let sw = switches(&own, ep);
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
            ])?;
            self.episode_count += 1;
            self.switch_count += sw.len() as u64;
            self.repeated_switches += with_repeats as u64;
            for s in &sw {
                let at = own[s.at];
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
        Ok(())
    }

    /// Flushes the CSVs and writes `summary.json`.
    pub fn finish(mut self, written: &GenSummary) -> anyhow::Result<()> {
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
        let total: u64 = self.unanswered_channel.values().sum();
        let summary = serde_json::json!({
            "interactions": self.interactions,
            "customers": self.customers_with_events,
            "identities": self.identity_hashes.len(),
            "channels": self.channels,
            "multichannel_customers": self.multichannel,
            "episodes": self.episode_count,
            "channel_switches": self.switch_count,
            "switches_with_repeated_details": self.repeated_switches,
            "unanswered_per_channel": self.unanswered_channel,
            "unanswered_per_channel_total": total,
            "unanswered_unified": self.unanswered_unified,
            "settings": {"window": "72h", "sla": "24h", "repeat_window": "7d"},
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
    fn episodes_split_on_gaps_and_join_on_orders() {
        let ev = [
            wa(0, Direction::Inbound, &["BS-1"]),
            wa(71 * H, Direction::Inbound, &[]),
            wa(200 * H, Direction::Inbound, &["BS-2"]),
            wa(400 * H, Direction::Inbound, &["BS-1"]),
        ];
        let refs: Vec<&Event> = ev.iter().collect();
        let eps = episodes(&refs);
        assert_eq!(eps.len(), 2);
        assert_eq!(eps[0].members, vec![0, 1, 3]);
        assert_eq!(eps[1].members, vec![2]);
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
        let sw = switches(&refs, &eps[0]);
        assert_eq!(sw.len(), 2);
        assert_eq!((sw[0].from, sw[0].to), (Channel::Whatsapp, Channel::Call));
        assert!(sw[0].repeated.is_empty());
        assert_eq!(sw[1].repeated, vec![(3, "BS-1".to_string(), Channel::Whatsapp)]);
        // The WhatsApp message and the missed call got no answer on their channel; the
        // emails' answer (within 24 h) also answers the call and the chat unified.
        assert_eq!(answered(&refs, 0), (false, true));
        assert_eq!(answered(&refs, 1), (false, true));
        assert_eq!(answered(&refs, 2), (true, true));
        let late = [wa(0, Direction::Inbound, &[]), wa(25 * H, Direction::Outbound, &[])];
        let refs: Vec<&Event> = late.iter().collect();
        assert_eq!(answered(&refs, 0), (false, false));
        let picked = [call(0, Direction::Inbound, CallOutcome::Answered)];
        let refs: Vec<&Event> = picked.iter().collect();
        assert_eq!(answered(&refs, 0), (true, true));
    }
}
