//! What customers do: episodes of contact about an order, on their channels, with the
//! business answering or not, and the customer switching channel (repeating their order
//! number) when nobody answers. Produces one customer's events in time order.

use super::population::{agent_for, Customer, Phone};
use super::{Body, CallOutcome, Event, MailKind, PERIOD_DAYS, PERIOD_START, TZ};
use crate::model::{Channel, Direction};
use chrono::{NaiveDate, TimeZone, Timelike};
use rand::seq::IndexedRandom;
use rand::Rng;

const MIN: i64 = 60_000;
const HOUR: i64 = 60 * MIN;
const DAY: i64 = 24 * HOUR;

struct Topic {
    subject: &'static str,
    open: &'static [&'static str],
    detail: &'static [&'static str],
    needs_order: bool,
}

const TOPICS: &[Topic] = &[
    Topic {
        subject: "Where is my delivery?",
        open: &[
            "Hi, my flowers haven't arrived yet",
            "Hello, the delivery was due today and nothing came",
            "Hi there, still waiting for my bouquet",
        ],
        detail: &[
            "It was meant to arrive by 2pm",
            "It's for my mum's birthday so it matters",
            "The tracking page says nothing",
        ],
        needs_order: true,
    },
    Topic {
        subject: "Damaged bouquet",
        open: &[
            "The roses arrived wilted",
            "Hi, the vase was broken when it arrived",
            "Some of the stems are snapped",
        ],
        detail: &[
            "I have photos if you need them",
            "Can you send a replacement?",
            "Really disappointed to be honest",
        ],
        needs_order: true,
    },
    Topic {
        subject: "Change delivery address",
        open: &[
            "Can I change the delivery address please?",
            "I put the wrong address on my order",
        ],
        detail: &[
            "New address is 14 Elm Road, Leeds LS1 4AB",
            "It should go to my office instead",
        ],
        needs_order: true,
    },
    Topic {
        subject: "Refund request",
        open: &["I'd like a refund please", "I was charged twice"],
        detail: &["The payment went out on Monday", "Please refund to the same card"],
        needs_order: true,
    },
    Topic {
        subject: "Wedding flowers enquiry",
        open: &[
            "Do you do wedding flowers?",
            "Hello! Looking for flowers for a wedding in June",
        ],
        detail: &[
            "About 80 guests",
            "We like peonies and eucalyptus",
            "What would it cost roughly?",
        ],
        needs_order: false,
    },
    Topic {
        subject: "Saturday delivery",
        open: &[
            "Do you deliver on Saturdays?",
            "Can you deliver to Harrogate this weekend?",
        ],
        detail: &[
            "It's a surprise so please don't call the recipient",
            "Morning would be best",
        ],
        needs_order: false,
    },
];

const ORDER_PHRASES: &[&str] = &[
    "My order number is {}",
    "Order {}",
    "it's order {}",
    "Ref {} if that helps",
    "order no. {}",
];
const REPEAT_PHRASES: &[&str] = &[
    "I already sent a message about order {} but nobody replied",
    "Tried WhatsApp/email already - order {}",
    "Again: order {}. Still no answer",
    "Following up on {}",
];
const REPLIES: &[&str] = &[
    "Hi, thanks for getting in touch. Let me check that for you.",
    "Sorry about that! I'm looking into it now.",
    "Thanks for your patience, our driver is on the way.",
    "We've arranged a replacement for tomorrow morning.",
    "Yes, we can do that. I'll send you the details.",
];
const CUSTOMER_FOLLOWUPS: &[&str] = &[
    "Thank you!",
    "Great, thanks",
    "ok",
    "Perfect 👍",
    "Thanks so much, really appreciate it",
];
const MEDIA_ANDROID: &str = "<Media omitted>";

/// Clamps an instant out of the night: people here write and call between 07:00 and 24:00
/// local time. Keeps generated wall-clock times away from the 01:00–02:00 DST fold.
fn daytime(ts: i64) -> i64 {
    let local = TZ.timestamp_millis_opt(ts).unwrap();
    if local.hour() >= 7 {
        return ts;
    }
    let midnight = local.date_naive().and_hms_opt(7, 0, 0).unwrap();
    let seven = TZ.from_local_datetime(&midnight).earliest().unwrap().timestamp_millis();
    let into_night = (local.hour() * 3600 + local.minute() * 60 + local.second()) as i64;
    seven + into_night * 1000 / 4 // [00:00, 07:00) → [07:00, 08:45)
}

/// A random daytime instant on `day` (days after the period start).
fn day_instant(day: i64, rng: &mut impl Rng) -> i64 {
    let date =
        NaiveDate::from_ymd_opt(PERIOD_START.0, PERIOD_START.1, PERIOD_START.2).unwrap() + chrono::Duration::days(day);
    let t = date
        .and_hms_opt(
            rng.random_range(8..21),
            rng.random_range(0..60),
            rng.random_range(0..60),
        )
        .unwrap();
    TZ.from_local_datetime(&t).earliest().unwrap().timestamp_millis()
}

struct Builder<'a, R: Rng> {
    c: &'a Customer,
    rng: &'a mut R,
    events: Vec<Event>,
    threads: u32,
}

impl<R: Rng> Builder<'_, R> {
    fn push(&mut self, ts: i64, channel: Channel, dir: Direction, body: Body, orders: Vec<String>, agent: usize) {
        self.events.push(Event {
            ts: daytime(ts),
            channel,
            dir,
            body,
            orders,
            agent,
            customer: matches!(dir, Direction::Inbound | Direction::Outbound),
            file: String::new(),
            source_ref: String::new(),
        });
    }

    fn other_channel(&mut self, current: Channel) -> Option<Channel> {
        let others: Vec<Channel> = self.c.channels.iter().copied().filter(|&c| c != current).collect();
        others.choose(self.rng).copied()
    }

    fn caller_number(&mut self) -> Phone {
        let c = self.c;
        match (&c.family_phone, &c.work_phone) {
            (Some(f), _) if self.rng.random_bool(0.4) => f.clone(),
            (_, Some(w)) if self.rng.random_bool(0.25) => w.clone(),
            _ => c.mobile.clone(),
        }
    }

    fn sender_address(&mut self) -> String {
        let c = self.c;
        if let Some(p) = c.email_plus.as_ref().filter(|_| self.rng.random_bool(0.35)) {
            return p.clone();
        }
        if let Some(w) = c.work_email.as_ref().filter(|_| self.rng.random_bool(0.3)) {
            return w.clone();
        }
        c.email.clone().unwrap_or_default()
    }

    fn signature(&mut self) -> Option<String> {
        let c = self.c;
        if !self.rng.random_bool(0.3) {
            return None;
        }
        let phone = c.mobile.written(c.phone_style);
        Some(match self.rng.random_range(0..3) {
            0 => format!("{}\n{phone}", c.full_name()),
            1 => format!("{}\nMobile: {phone}", c.given.name),
            _ => format!("Kind regards,\n{}\nTel {phone}", c.full_name()),
        })
    }

    /// The customer reaches out on `channel`. Returns the time of their last inbound event.
    fn contact(
        &mut self,
        channel: Channel,
        t: i64,
        topic: &Topic,
        order: Option<&str>,
        repeat: bool,
        thread: &mut Option<(u32, String)>,
    ) -> i64 {
        let give_order = order.filter(|_| self.rng.random_bool(if repeat { 0.85 } else { 0.7 }));
        let order_line = give_order.map(|o| {
            let phrases = if repeat { REPEAT_PHRASES } else { ORDER_PHRASES };
            phrases.choose(self.rng).unwrap().replace("{}", o)
        });
        let orders: Vec<String> = give_order.map(|o| vec![o.to_string()]).unwrap_or_default();
        match channel {
            Channel::Whatsapp => {
                let mut t = t;
                let mut texts = vec![topic.open.choose(self.rng).unwrap().to_string()];
                if let Some(l) = order_line {
                    if self.rng.random_bool(0.5) {
                        texts.push(l);
                    } else {
                        texts[0] = format!("{}\n{l}", texts[0]);
                    }
                }
                if self.rng.random_bool(0.4) {
                    texts.push(topic.detail.choose(self.rng).unwrap().to_string());
                }
                if self.rng.random_bool(0.12) {
                    texts.push(MEDIA_ANDROID.to_string());
                }
                // Identity evidence: the number written into the chat.
                if !repeat && self.rng.random_bool(0.2) {
                    let phone = self.c.mobile.written(self.c.phone_style);
                    texts.push(format!("You can call me on {phone}"));
                }
                if self.rng.random_bool(0.03) {
                    texts[0].push_str(" <This message was edited>");
                }
                for (i, text) in texts.into_iter().enumerate() {
                    let has = if text.contains(order.unwrap_or("\u{0}")) {
                        orders.clone()
                    } else {
                        vec![]
                    };
                    if i > 0 {
                        t += self.rng.random_range(5_000..180_000);
                    }
                    self.push(t, channel, Direction::Inbound, Body::Wa { text }, has, 0);
                }
                t
            }
            Channel::Email => {
                let mut text = topic.open.choose(self.rng).unwrap().to_string();
                let end = |t: &mut String| {
                    if !t.ends_with(['?', '!', '.']) {
                        t.push('.');
                    }
                    t.push_str("\n\n");
                };
                if let Some(l) = order_line {
                    end(&mut text);
                    text.push_str(&l);
                }
                end(&mut text);
                text.push_str(topic.detail.choose(self.rng).unwrap());
                let subject = if repeat {
                    format!("URGENT: {}", topic.subject)
                } else {
                    topic.subject.to_string()
                };
                let id = match thread {
                    Some((id, _)) if !repeat => *id,
                    _ => {
                        self.threads += 1;
                        *thread = Some((self.threads, subject.clone()));
                        self.threads
                    }
                };
                let from = self.sender_address();
                let signature = self.signature();
                let subject = thread.as_ref().map(|(_, s)| s.clone()).unwrap_or(subject);
                self.push(
                    t,
                    channel,
                    Direction::Inbound,
                    Body::Email {
                        thread: id,
                        subject,
                        text,
                        signature,
                        kind: MailKind::Customer,
                        address: from,
                    },
                    orders,
                    0,
                );
                t
            }
            _ => t,
        }
    }

    /// An inbound call; returns whether an agent spoke with the customer.
    fn call_in(&mut self, t: i64, p_answer: f64) -> bool {
        let number = self.caller_number();
        let answered = self.rng.random_bool(p_answer);
        let outcome = if answered {
            CallOutcome::Answered
        } else {
            match self.rng.random_range(0..10) {
                0 => CallOutcome::Busy,
                1..4 => CallOutcome::Voicemail,
                _ => CallOutcome::Missed,
            }
        };
        let agent = agent_for(Channel::Call, self.rng);
        let body = Body::Call {
            outcome,
            talk_s: if answered { self.rng.random_range(40..900) } else { 0 },
            ring_s: self.rng.random_range(3..40),
            // The sales line (Twilio) has no voicemail box.
            twilio: outcome != CallOutcome::Voicemail && self.rng.random_bool(0.3),
            number,
            queue_legs: if self.rng.random_bool(0.25) {
                self.rng.random_range(2..4)
            } else {
                1
            },
        };
        self.push(t, Channel::Call, Direction::Inbound, body, vec![], agent);
        answered
    }

    fn call_out(&mut self, t: i64) {
        let answered = self.rng.random_bool(0.7);
        let agent = agent_for(Channel::Call, self.rng);
        let body = Body::Call {
            outcome: if answered {
                CallOutcome::Answered
            } else {
                CallOutcome::Missed
            },
            talk_s: if answered { self.rng.random_range(30..600) } else { 0 },
            ring_s: self.rng.random_range(5..30),
            twilio: self.rng.random_bool(0.3),
            number: self.c.mobile.clone(),
            queue_legs: 1,
        };
        self.push(t, Channel::Call, Direction::Outbound, body, vec![], agent);
    }

    /// The business answers on `channel` after a delay; a short exchange may follow.
    fn respond(&mut self, channel: Channel, t: i64, thread: &Option<(u32, String)>, late: bool) -> i64 {
        let delay = if late {
            self.rng.random_range(26 * HOUR..60 * HOUR)
        } else {
            match channel {
                Channel::Whatsapp => self.rng.random_range(2 * MIN..4 * HOUR),
                Channel::Email => self.rng.random_range(HOUR..20 * HOUR),
                _ => self.rng.random_range(HOUR..20 * HOUR),
            }
        };
        let mut t = t + delay;
        let agent = agent_for(channel, self.rng);
        match channel {
            Channel::Whatsapp => {
                let exchanges = self.rng.random_range(1..4);
                for i in 0..exchanges {
                    let reply = REPLIES.choose(self.rng).unwrap().to_string();
                    self.push(t, channel, Direction::Outbound, Body::Wa { text: reply }, vec![], agent);
                    if i + 1 < exchanges || self.rng.random_bool(0.5) {
                        t += self.rng.random_range(MIN..2 * HOUR);
                        let text = CUSTOMER_FOLLOWUPS.choose(self.rng).unwrap().to_string();
                        self.push(t, channel, Direction::Inbound, Body::Wa { text }, vec![], 0);
                        t += self.rng.random_range(MIN..HOUR);
                    }
                }
            }
            Channel::Email => {
                let (id, subject) = thread.clone().unwrap_or((0, String::new()));
                let text = REPLIES.choose(self.rng).unwrap().to_string();
                // Replies go to the address the customer wrote from in this thread.
                let to = self
                    .events
                    .iter()
                    .rev()
                    .find_map(|e| match &e.body {
                        Body::Email {
                            thread,
                            kind: MailKind::Customer,
                            address,
                            ..
                        } if *thread == id => Some(address.clone()),
                        _ => None,
                    })
                    .or_else(|| self.c.email.clone())
                    .unwrap_or_default();
                // An outdated address occasionally bounces.
                let bounced = self.rng.random_bool(0.02);
                let body = Body::Email {
                    thread: id,
                    subject: format!("Re: {subject}"),
                    text,
                    signature: None,
                    kind: MailKind::Agent,
                    address: to,
                };
                self.push(t, channel, Direction::Outbound, body, vec![], agent);
                if bounced {
                    let body = Body::Email {
                        thread: id,
                        subject: "Undelivered Mail Returned to Sender".into(),
                        text: String::new(),
                        signature: None,
                        kind: MailKind::Bounce,
                        address: String::new(),
                    };
                    self.push(t + 40_000, channel, Direction::System, body, vec![], agent);
                } else if self.rng.random_bool(0.4) {
                    t += self.rng.random_range(HOUR..10 * HOUR);
                    let text = CUSTOMER_FOLLOWUPS.choose(self.rng).unwrap().to_string();
                    let from = self.sender_address();
                    let body = Body::Email {
                        thread: id,
                        subject: format!("Re: {subject}"),
                        text,
                        signature: None,
                        kind: MailKind::Customer,
                        address: from,
                    };
                    self.push(t, channel, Direction::Inbound, body, vec![], 0);
                }
            }
            _ => self.call_out(t),
        }
        t
    }

    /// One episode: first contact, (no) answer, switches, a possible late follow-up.
    fn episode(&mut self, start: i64, order: Option<String>) {
        let topic = if order.is_some() {
            TOPICS.iter().filter(|t| t.needs_order).collect::<Vec<_>>()
        } else {
            TOPICS.iter().filter(|t| !t.needs_order).collect::<Vec<_>>()
        };
        let topic = *topic.choose(self.rng).unwrap();
        let mut channel = if self.rng.random_bool(0.75) {
            self.c.channels[0]
        } else {
            *self.c.channels.choose(self.rng).unwrap()
        };
        let mut t = start;
        let mut thread = None;
        for attempt in 0..3 {
            let repeat = attempt > 0;
            let answered = match channel {
                Channel::Call => {
                    let answered = self.call_in(t, 0.6);
                    if !answered && self.rng.random_bool(0.4) {
                        // A callback (answered or not) is a response.
                        let later = t + self.rng.random_range(HOUR..30 * HOUR);
                        self.call_out(later);
                        break;
                    }
                    answered
                }
                Channel::Whatsapp => {
                    t = self.contact(channel, t, topic, order.as_deref(), repeat, &mut thread);
                    self.rng.random_bool(0.75)
                }
                _ => {
                    t = self.contact(channel, t, topic, order.as_deref(), repeat, &mut thread);
                    if self.rng.random_bool(0.35) {
                        let id = thread.as_ref().map(|(i, _)| *i).unwrap_or(0);
                        let body = Body::Email {
                            thread: id,
                            subject: "Auto: we have received your message".into(),
                            text: "Thanks for contacting Bloom & Stem. We aim to reply within one working day.".into(),
                            signature: None,
                            kind: MailKind::AutoReply,
                            address: String::new(),
                        };
                        self.push(t + 30_000, channel, Direction::System, body, vec![], 0);
                    }
                    self.rng.random_bool(0.7)
                }
            };
            if answered {
                if channel != Channel::Call {
                    t = self.respond(channel, t, &thread, false);
                }
                break;
            }
            if channel != Channel::Call && self.rng.random_bool(0.25) {
                // Answered, but only after the service level has passed.
                self.respond(channel, t, &thread, true);
            }
            match self.other_channel(channel) {
                Some(next) if self.rng.random_bool(0.75) => {
                    channel = next;
                    t += self.rng.random_range(HOUR..8 * HOUR);
                    if channel == Channel::Email {
                        thread = None;
                    }
                }
                _ if self.rng.random_bool(0.4) => t += self.rng.random_range(DAY..3 * DAY),
                _ => break,
            }
        }
        // A follow-up days later about the same order (joined to the episode by its number).
        if order.is_some() && self.rng.random_bool(0.15) {
            let later = t + self.rng.random_range(4 * DAY..10 * DAY);
            let ch = *self.c.channels.choose(self.rng).unwrap();
            match ch {
                Channel::Call => {
                    self.call_in(later, 0.6);
                }
                _ => {
                    let mut th = None;
                    let end = self.contact(ch, later, topic, order.as_deref(), true, &mut th);
                    if self.rng.random_bool(0.7) {
                        self.respond(ch, end, &th, false);
                    }
                }
            }
        }
    }
}

/// All events of one customer, sorted by time. `wa_day_first_or_month_first` asks that the
/// WhatsApp chat contain a day of month above 12, so that its date order is decidable.
pub fn events(c: &Customer, rng: &mut impl Rng, needs_big_day: bool) -> Vec<Event> {
    let n_episodes = match rng.random_range(0..100) {
        0..50 => 1,
        50..80 => 2,
        80..95 => 3,
        _ => 4,
    };
    let mut days: Vec<i64> = (0..n_episodes).map(|_| rng.random_range(0..PERIOD_DAYS)).collect();
    days.sort_unstable();
    let mut b = Builder {
        c,
        rng,
        events: Vec::new(),
        threads: 0,
    };
    for (e, day) in days.into_iter().enumerate() {
        let start = day_instant(day, b.rng);
        let order = b
            .rng
            .random_bool(0.7)
            .then(|| format!("BS-{}", 100_000 + c.index * 8 + e as u64));
        b.episode(start, order);
    }
    let mut events = b.events;
    events.sort_by_key(|e| e.ts);
    if needs_big_day {
        let wa: Vec<&Event> = events.iter().filter(|e| e.channel == Channel::Whatsapp).collect();
        let big = |e: &&Event| {
            TZ.timestamp_millis_opt(e.ts)
                .unwrap()
                .format("%d")
                .to_string()
                .parse::<u32>()
                .unwrap()
                > 12
        };
        if let Some(first) = wa.first() {
            if !wa.iter().any(big) {
                // First contact on WhatsApp: a hello on the 20th of the previous month.
                let local = TZ.timestamp_millis_opt(first.ts).unwrap().date_naive();
                let prev = local - chrono::Duration::days(local.format("%d").to_string().parse::<i64>().unwrap());
                let date = prev.with_day0(19).unwrap_or(prev);
                let t0 = TZ
                    .from_local_datetime(
                        &date
                            .and_hms_opt(
                                rng.random_range(9..19),
                                rng.random_range(0..60),
                                rng.random_range(0..60),
                            )
                            .unwrap(),
                    )
                    .earliest()
                    .unwrap()
                    .timestamp_millis();
                let agent = agent_for(Channel::Whatsapp, rng);
                let hello = Event::wa(
                    t0,
                    Direction::Inbound,
                    "Hi, is this Bloom & Stem? Saving your number",
                    0,
                );
                let reply = Event::wa(
                    t0 + rng.random_range(2 * MIN..40 * MIN),
                    Direction::Outbound,
                    "Yes it is! How can we help?",
                    agent,
                );
                events.push(hello);
                events.push(reply);
                events.sort_by_key(|e| e.ts);
            }
        }
    }
    events
}

use chrono::Datelike;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gen::population::{customer, Registry};
    use crate::gen::rng_for;

    #[test]
    fn nights_are_moved_to_the_morning_and_days_kept() {
        let noon = TZ.with_ymd_and_hms(2024, 3, 5, 12, 0, 0).unwrap().timestamp_millis();
        assert_eq!(daytime(noon), noon);
        let night = TZ
            .with_ymd_and_hms(2024, 10, 27, 1, 30, 0)
            .earliest()
            .unwrap()
            .timestamp_millis();
        assert_eq!(TZ.timestamp_millis_opt(daytime(night)).unwrap().hour(), 7);
        let early = TZ.with_ymd_and_hms(2024, 3, 5, 6, 59, 0).unwrap().timestamp_millis();
        assert_eq!(TZ.timestamp_millis_opt(daytime(early)).unwrap().hour(), 8);
    }

    #[test]
    fn events_are_sorted_and_whatsapp_chats_have_a_big_day() {
        let mut reg = Registry::default();
        for k in 0..300 {
            let c = customer(1, k, &mut reg);
            let ev = events(&c, &mut rng_for(1, k * 2 + 1), true);
            assert!(!ev.is_empty());
            assert!(ev.windows(2).all(|w| w[0].ts <= w[1].ts));
            let wa: Vec<&Event> = ev.iter().filter(|e| e.channel == Channel::Whatsapp).collect();
            if !wa.is_empty() {
                assert!(wa.iter().any(|e| TZ.timestamp_millis_opt(e.ts).unwrap().day() > 12));
            }
            for e in &ev {
                assert!(
                    c.channels.contains(&e.channel),
                    "{:?} not in {:?}",
                    e.channel,
                    c.channels
                );
            }
        }
    }
}
