//! `omnitrail gen`: deterministic synthetic multi-channel exports with ground truth (issue #5).
//!
//! One fictional florist, "Bloom & Stem", and `N` customers. Customers are generated one at
//! a time from their own ChaCha8 stream (`seed`, index), their events are written to the
//! exports at once and their truth computed from the same events, so memory stays flat
//! whatever `N` is. Layout and truth columns: docs/gen.md.

pub mod behaviour;
pub mod calls;
pub mod contacts;
pub mod email;
pub mod oracle;
pub mod phonebook;
pub mod population;
pub mod truth;
pub mod whatsapp;

use crate::model::{Channel, Direction};
use anyhow::Context;
use population::Phone;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use std::fs;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

/// The business's display name on WhatsApp.
pub const BUSINESS_NAME: &str = "Bloom & Stem";
pub const BUSINESS_DOMAIN: &str = "bloomandstem.example";
pub const BUSINESS_ADDRESS: &str = "orders@bloomandstem.example";
/// Main line (Asterisk) and the sales line (Twilio).
pub const BUSINESS_NUMBERS: &[&str] = &["+442079460000", "+442079460001"];
pub const REGION: &str = "GB";
pub const TZ: chrono_tz::Tz = chrono_tz::Europe::London;
/// First day of the generated period (local), and its length.
pub const PERIOD_START: (i32, u32, u32) = (2024, 2, 1);
pub const PERIOD_DAYS: i64 = 300;
/// The contacts export's modification time (ms UTC): the contact records' `ts`.
pub const CONTACTS_MTIME_MS: i64 = 1_735_689_600_000; // 2025-01-01T00:00:00Z

/// The random stream for `(seed, stream)`: independent per customer, reproducible.
pub fn rng_for(seed: u64, stream: u64) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(stream);
    rng
}

/// Outcome of a generated call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallOutcome {
    Answered,
    Missed,
    Busy,
    Voicemail,
}

/// Who wrote a generated email.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MailKind {
    Customer,
    Agent,
    /// The business's autoresponder (`Auto-Submitted: auto-replied`).
    AutoReply,
    /// A delivery failure report from the mail server.
    Bounce,
    /// Staff writing to staff.
    Internal,
}

/// What an event carries, per channel.
#[derive(Debug, Clone)]
pub enum Body {
    /// A WhatsApp message; `\n` makes a multi-line message; `<Media omitted>` a media one.
    Wa { text: String },
    Email {
        /// Thread number within the customer (1-based); 0 = none.
        thread: u32,
        subject: String,
        text: String,
        signature: Option<String>,
        kind: MailKind,
        /// The customer's address: sender for inbound, recipient for outbound.
        address: String,
    },
    Call {
        outcome: CallOutcome,
        talk_s: u32,
        ring_s: u32,
        /// On the Twilio sales line rather than the Asterisk PBX.
        twilio: bool,
        /// The customer's number on this call.
        number: Phone,
        /// Agents the queue tried (1 = a direct call).
        queue_legs: u8,
    },
}

/// One generated interaction. `ts` is what the importer will compute (minute precision on
/// Android WhatsApp layouts); `file` and `source_ref` are filled in by the writers.
#[derive(Debug, Clone)]
pub struct Event {
    pub ts: i64,
    pub channel: Channel,
    pub dir: Direction,
    pub body: Body,
    /// Order numbers written in the event's own text (the only mentions the truth uses).
    pub orders: Vec<String>,
    pub agent: usize,
    /// Whether the event belongs to the customer (false: system and internal records).
    pub customer: bool,
    pub file: String,
    pub source_ref: String,
}

impl Event {
    pub fn wa(ts: i64, dir: Direction, text: &str, agent: usize) -> Event {
        Event {
            ts,
            channel: Channel::Whatsapp,
            dir,
            body: Body::Wa { text: text.to_string() },
            orders: vec![],
            agent,
            customer: true,
            file: String::new(),
            source_ref: String::new(),
        }
    }

    /// A business response in the report's sense (docs/metrics.md): an outbound message or
    /// email, an outbound call that connected or left a voicemail, or an inbound call in which
    /// the customer spoke with an agent. A callback nobody picked up never reached the customer.
    pub fn is_response(&self) -> bool {
        match (&self.body, self.dir) {
            (Body::Call { outcome, .. }, Direction::Outbound) => {
                matches!(outcome, CallOutcome::Answered | CallOutcome::Voicemail)
            }
            (_, Direction::Outbound) => true,
            (Body::Call { outcome, .. }, Direction::Inbound) => *outcome == CallOutcome::Answered,
            _ => false,
        }
    }

    /// An inbound contact that asks for a response: every inbound message or email, and an
    /// inbound call nobody answered (an answered call is its own response).
    pub fn needs_response(&self) -> bool {
        self.dir == Direction::Inbound && !self.is_response()
    }

    pub fn is_call(&self) -> bool {
        matches!(self.body, Body::Call { .. })
    }
}

/// What to generate.
#[derive(Debug, Clone)]
pub struct GenOptions {
    pub customers: u64,
    pub seed: u64,
    pub out: PathBuf,
    /// Extra CRM rows for people who never contacted the business (leads): each is a
    /// customer in the truth with only a contact record. Makes big contacts files.
    pub crm_leads: u64,
}

/// Counts of what was written.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct GenSummary {
    pub customers: u64,
    pub whatsapp_chats: u64,
    pub whatsapp_messages: u64,
    pub emails: u64,
    pub calls: u64,
    pub call_rows: u64,
    pub contacts: u64,
    pub interactions: u64,
    pub bytes: u64,
    pub files: u64,
}

/// A buffered file writer that counts bytes.
pub struct Out {
    w: BufWriter<fs::File>,
    pub bytes: u64,
    pub rel: String,
}

impl Out {
    pub fn create(root: &Path, rel: &str) -> anyhow::Result<Out> {
        let path = root.join(rel);
        if let Some(dir) = path.parent() {
            fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        }
        let f = fs::File::create(&path).with_context(|| format!("cannot create {}", path.display()))?;
        Ok(Out {
            w: BufWriter::with_capacity(1 << 16, f),
            bytes: 0,
            rel: rel.to_string(),
        })
    }

    pub fn write_str(&mut self, s: &str) -> std::io::Result<()> {
        self.bytes += s.len() as u64;
        self.w.write_all(s.as_bytes())
    }

    pub fn finish(mut self) -> anyhow::Result<u64> {
        self.w.flush()?;
        Ok(self.bytes)
    }
}

impl Write for Out {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.w.write(buf)?;
        self.bytes += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.w.flush()
    }
}

/// `business.toml`: the settings the importers need, as documented in docs/gen.md.
pub fn business_toml() -> String {
    let numbers: Vec<String> = BUSINESS_NUMBERS.iter().map(|n| format!("{n:?}")).collect();
    format!(
        "name = {BUSINESS_NAME:?}\nwhatsapp_names = [{BUSINESS_NAME:?}]\ndomains = [{BUSINESS_DOMAIN:?}]\naddresses = [{BUSINESS_ADDRESS:?}]\nnumbers = [{}]\nregion = {REGION:?}\ntz = \"Europe/London\"\n",
        numbers.join(", ")
    )
}

/// Generates the whole dataset under `opts.out`. `tick` is called after each customer.
pub fn generate(opts: &GenOptions, mut tick: impl FnMut(u64)) -> anyhow::Result<GenSummary> {
    let root = &opts.out;
    fs::create_dir_all(root).with_context(|| format!("cannot create {}", root.display()))?;
    let mut summary = GenSummary {
        customers: opts.customers,
        ..Default::default()
    };
    fs::write(root.join("business.toml"), business_toml())?;
    let mut reg = population::Registry::default();
    let mut wa = whatsapp::ChatWriter::new(root);
    let mut mail = email::MboxWriter::create(root, opts.seed)?;
    let mut calls = calls::CallWriters::create(root, opts.seed)?;
    let mut contacts = contacts::ContactsWriter::create(root)?;
    let mut book = phonebook::PhoneBookWriter::create(root)?;
    let mut truth = truth::TruthWriter::create(root)?;
    for k in 0..opts.customers {
        crate::import::check_interrupt()?;
        let c = population::customer(opts.seed, k, &mut reg);
        let layout = &whatsapp::LAYOUTS[c.wa_layout];
        let mut rng = rng_for(opts.seed, k * 2 + 1);
        let mut events = behaviour::events(&c, &mut rng, layout.ambiguous_order);
        if !layout.seconds {
            for e in events.iter_mut().filter(|e| e.channel == Channel::Whatsapp) {
                e.ts -= e.ts.rem_euclid(60_000);
            }
        }
        events.sort_by_key(|e| e.ts);
        let card = phonebook::plan(&c, &mut events, &mut phonebook::rng(opts.seed, k));
        let mut extra = Vec::new();
        if let Some(sys) = wa.write_chat(&c, &mut events)? {
            extra.push(sys);
        }
        mail.write_customer(&c, &mut events, &mut rng)?;
        calls.write_customer(&c, &mut events)?;
        extra.extend(internal_events(opts.seed, k, &c, &mut rng));
        mail.write_internal(&mut extra)?;
        calls.write_internal(&mut extra)?;
        let mut rows: Vec<contacts::ContactRow> = contacts.write_customer(&c, &mut rng)?.into_iter().collect();
        if let Some(card) = &card {
            rows.push(book.write(card)?);
        }
        truth.write_customer(&c, &events, &extra, &rows)?;
        tick(k + 1);
    }
    for k in opts.customers..opts.customers + opts.crm_leads {
        crate::import::check_interrupt()?;
        let mut lead = population::customer(opts.seed, k, &mut reg);
        lead.in_crm = true;
        let contact = contacts.write_customer(&lead, &mut rng_for(opts.seed, k * 2 + 1))?;
        let rows: Vec<contacts::ContactRow> = contact.into_iter().collect();
        truth.write_customer(&lead, &[], &[], &rows)?;
    }
    summary.whatsapp_chats = wa.chats;
    summary.whatsapp_messages = wa.messages;
    summary.emails = mail.messages;
    summary.calls = calls.calls;
    summary.call_rows = calls.rows;
    summary.contacts = contacts.rows + book.cards;
    summary.bytes = wa.bytes
        + mail.finish()?
        + calls.finish()?
        + contacts.finish()?
        + book.finish()?
        + business_toml().len() as u64;
    summary.files = wa.chats + 6;
    summary.interactions = truth.records;
    truth.finish(&summary)?;
    Ok(summary)
}

/// Staff-only records now and then: an internal email or an extension-to-extension call.
fn internal_events(seed: u64, k: u64, c: &population::Customer, rng: &mut impl rand::Rng) -> Vec<Event> {
    let _ = (seed, c);
    let mut out = Vec::new();
    if rng.random_bool(0.03) {
        let day = rng.random_range(0..PERIOD_DAYS);
        let ts = chrono::NaiveDate::from_ymd_opt(PERIOD_START.0, PERIOD_START.1, PERIOD_START.2).unwrap()
            + chrono::Duration::days(day);
        let ts = chrono::TimeZone::from_local_datetime(
            &TZ,
            &ts.and_hms_opt(
                rng.random_range(9..18),
                rng.random_range(0..60),
                rng.random_range(0..60),
            )
            .unwrap(),
        )
        .earliest()
        .unwrap()
        .timestamp_millis();
        let a = rng.random_range(0..population::AGENTS.len());
        let b = (a + 1 + rng.random_range(0..population::AGENTS.len() - 1)) % population::AGENTS.len();
        let (channel, body) = if rng.random_bool(0.5) {
            (
                Channel::Email,
                Body::Email {
                    thread: k as u32,
                    subject: "Rota for next week".into(),
                    text: "Can you swap Saturday with me?".into(),
                    signature: None,
                    kind: MailKind::Internal,
                    address: population::AGENTS[b].email.into(),
                },
            )
        } else {
            (
                Channel::Call,
                Body::Call {
                    outcome: CallOutcome::Answered,
                    talk_s: rng.random_range(10..200),
                    ring_s: rng.random_range(2..10),
                    twilio: false,
                    number: Phone {
                        national: population::AGENTS[b].ext.into(),
                    },
                    queue_legs: 1,
                },
            )
        };
        out.push(Event {
            ts,
            channel,
            dir: Direction::Internal,
            body,
            orders: vec![],
            agent: a,
            customer: false,
            file: String::new(),
            source_ref: String::new(),
        });
    }
    out
}
