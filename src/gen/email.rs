//! The support mailbox, `email/support.mbox` (formats.md §2): plain and multipart/alternative
//! messages, quoted-printable bodies, RFC 2047 display names, threaded replies that quote
//! with "On … wrote:", signatures with phone numbers, an autoresponder and bounces.

use super::population::{Customer, AGENTS};
use super::{Body, Event, MailKind, Out, BUSINESS_ADDRESS, BUSINESS_DOMAIN, TZ};
use crate::model::Channel;
use chrono::{TimeZone, Utc};
use rand::Rng;
use std::collections::HashMap;
use std::path::Path;

pub const MBOX: &str = "email/support.mbox";

/// Encodes a display name as an RFC 2047 Q encoded word when it is not plain ASCII.
pub fn encode_word(s: &str) -> String {
    if s.is_ascii() {
        return if s.contains(',') || s.contains('&') || s.contains('\'') {
            format!("{s:?}")
        } else {
            s.to_string()
        };
    }
    let mut out = String::from("=?UTF-8?Q?");
    for b in s.bytes() {
        match b {
            b' ' => out.push('_'),
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'.' | b'-' => out.push(b as char),
            _ => out.push_str(&format!("={b:02X}")),
        }
    }
    out.push_str("?=");
    out
}

/// Quoted-printable body (RFC 2045): `=XX` escapes, soft breaks keep lines under 76.
pub fn quoted_printable(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 16);
    for line in text.split('\n') {
        let mut len = 0;
        let bytes = line.as_bytes();
        for (i, &b) in bytes.iter().enumerate() {
            let last = i + 1 == bytes.len();
            let piece = match b {
                b'=' => "=3D".to_string(),
                b' ' | b'\t' if last => format!("={b:02X}"),
                33..=126 | b' ' | b'\t' => (b as char).to_string(),
                _ => format!("={b:02X}"),
            };
            if len + piece.len() > 75 {
                out.push_str("=\n");
                len = 0;
            }
            len += piece.len();
            out.push_str(&piece);
        }
        out.push('\n');
    }
    out.pop();
    out
}

fn rfc2822(ts: i64) -> String {
    TZ.timestamp_millis_opt(ts)
        .unwrap()
        .format("%a, %d %b %Y %H:%M:%S %z")
        .to_string()
}

fn asctime(ts: i64) -> String {
    Utc.timestamp_millis_opt(ts)
        .unwrap()
        .format("%a %b %e %H:%M:%S %Y")
        .to_string()
}

/// Escapes body lines that would read as an mbox separator (mboxrd).
fn escape_from(body: &str) -> String {
    body.split('\n')
        .map(|l| {
            let t = l.trim_start_matches('>');
            if t.starts_with("From ") {
                format!(">{l}")
            } else {
                l.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

struct Thread {
    root: String,
    refs: Vec<String>,
    last_text: String,
    last_from: String,
    last_ts: i64,
}

/// Appends messages to the mailbox.
pub struct MboxWriter {
    out: Out,
    seed: u64,
    counter: u64,
    pub messages: u64,
}

impl MboxWriter {
    pub fn create(root: &Path, seed: u64) -> anyhow::Result<MboxWriter> {
        Ok(MboxWriter {
            out: Out::create(root, MBOX)?,
            seed,
            counter: 0,
            messages: 0,
        })
    }

    fn message_id(&mut self, domain: &str) -> String {
        self.counter += 1;
        let mut h = blake3::Hasher::new();
        h.update(&self.seed.to_le_bytes());
        h.update(&self.counter.to_le_bytes());
        format!("{}.{}@{domain}", &h.finalize().to_hex()[..20], self.counter)
    }

    #[allow(clippy::too_many_arguments)]
    fn write(
        &mut self,
        envelope: &str,
        headers: &[(String, String)],
        text: &str,
        html: bool,
        extra_tail: &str,
    ) -> anyhow::Result<()> {
        let mut m = String::with_capacity(1024);
        m.push_str(envelope);
        m.push('\n');
        for (k, v) in headers {
            m.push_str(k);
            m.push_str(": ");
            m.push_str(v);
            m.push('\n');
        }
        m.push_str("MIME-Version: 1.0\n");
        if html {
            let boundary = format!("=_alt_{}", self.counter);
            let html_body: String = text
                .split('\n')
                .map(|l| {
                    if l.is_empty() {
                        "<br>".to_string()
                    } else {
                        format!(
                            "<p>{}</p>",
                            l.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
                        )
                    }
                })
                .collect::<Vec<_>>()
                .join("\n");
            m.push_str(&format!(
                "Content-Type: multipart/alternative; boundary=\"{boundary}\"\n\n"
            ));
            m.push_str("This is a multi-part message in MIME format.\n\n");
            m.push_str(&format!("--{boundary}\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: quoted-printable\n\n"));
            m.push_str(&quoted_printable(text));
            m.push_str(&format!("\n--{boundary}\nContent-Type: text/html; charset=utf-8\nContent-Transfer-Encoding: quoted-printable\n\n"));
            m.push_str(&quoted_printable(&format!("<html><body>\n{html_body}\n</body></html>")));
            m.push_str(&format!("\n--{boundary}--\n"));
        } else if text.is_ascii() {
            m.push_str("Content-Type: text/plain; charset=us-ascii\nContent-Transfer-Encoding: 7bit\n\n");
            m.push_str(&escape_from(text));
            m.push('\n');
        } else {
            m.push_str("Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: quoted-printable\n\n");
            m.push_str(&quoted_printable(text));
            m.push('\n');
        }
        m.push_str(extra_tail);
        m.push('\n');
        self.out.write_str(&m)?;
        self.messages += 1;
        Ok(())
    }

    /// Writes the customer's emails (in time order), filling `file`/`source_ref`.
    pub fn write_customer(&mut self, c: &Customer, events: &mut [Event], rng: &mut impl Rng) -> anyhow::Result<()> {
        let mut threads: HashMap<u32, Thread> = HashMap::new();
        let cust_domain = c
            .email
            .as_deref()
            .and_then(|e| e.split_once('@'))
            .map(|(_, d)| d.to_string())
            .unwrap_or_else(|| "mail.example".into());
        for e in events.iter_mut().filter(|e| e.channel == Channel::Email) {
            let Body::Email {
                thread,
                subject,
                text,
                signature,
                kind,
                address,
            } = &e.body
            else {
                continue;
            };
            let date = rfc2822(e.ts);
            let agent = &AGENTS[e.agent];
            let shown = if rng.random_bool(0.2) {
                c.name_variant(rng)
            } else {
                c.full_name()
            };
            let (id, from, to, envelope, html) = match kind {
                MailKind::Customer => (
                    self.message_id(&cust_domain),
                    format!("{} <{address}>", encode_word(&shown)),
                    format!("\"Bloom & Stem\" <{BUSINESS_ADDRESS}>"),
                    format!("From {} {}", address.to_lowercase(), asctime(e.ts)),
                    rng.random_bool(0.3),
                ),
                MailKind::Agent => (
                    self.message_id(BUSINESS_DOMAIN),
                    format!("\"{} (Bloom & Stem)\" <{}>", agent.name, agent.email),
                    format!("{} <{address}>", encode_word(&c.full_name())),
                    format!("From {} {}", agent.email, asctime(e.ts)),
                    rng.random_bool(0.6),
                ),
                MailKind::AutoReply => (
                    self.message_id(BUSINESS_DOMAIN),
                    format!("\"Bloom & Stem\" <{BUSINESS_ADDRESS}>"),
                    c.email.clone().unwrap_or_default(),
                    format!("From {BUSINESS_ADDRESS} {}", asctime(e.ts)),
                    false,
                ),
                MailKind::Bounce | MailKind::Internal => (
                    self.message_id(&format!("mail.{BUSINESS_DOMAIN}")),
                    format!("Mail Delivery System <MAILER-DAEMON@mail.{BUSINESS_DOMAIN}>"),
                    agent.email.to_string(),
                    format!("From MAILER-DAEMON {}", asctime(e.ts)),
                    false,
                ),
            };
            let mut headers: Vec<(String, String)> = Vec::new();
            if *kind == MailKind::Bounce {
                headers.push(("Return-Path".into(), "<>".into()));
            }
            headers.push(("From".into(), from.clone()));
            headers.push(("To".into(), to));
            headers.push((
                "Subject".into(),
                if subject.is_ascii() {
                    subject.clone()
                } else {
                    encode_word(subject)
                },
            ));
            headers.push(("Date".into(), date.clone()));
            headers.push(("Message-ID".into(), format!("<{id}>")));
            let th = threads.get(thread);
            if let Some(t) = th.filter(|_| *kind != MailKind::Bounce) {
                headers.push(("In-Reply-To".into(), format!("<{}>", t.refs.last().unwrap())));
                headers.push((
                    "References".into(),
                    t.refs.iter().map(|r| format!("<{r}>")).collect::<Vec<_>>().join("\n "),
                ));
            }
            let mut body = text.clone();
            let mut tail = String::new();
            match kind {
                MailKind::AutoReply => {
                    headers.push(("Auto-Submitted".into(), "auto-replied".into()));
                    headers.push(("X-Autoreply".into(), "yes".into()));
                }
                MailKind::Bounce => {
                    headers.push(("Auto-Submitted".into(), "auto-replied".into()));
                    let original = th.map(|t| t.refs.last().unwrap().clone()).unwrap_or_default();
                    let b = format!("=_report_{}", self.counter);
                    headers.push((
                        "Content-Type".into(),
                        format!("multipart/report; report-type=delivery-status; boundary=\"{b}\""),
                    ));
                    let body = format!(
                        "--{b}\nContent-Type: text/plain; charset=us-ascii\n\nThis is the mail system at host mail.{BUSINESS_DOMAIN}.\n\nI'm sorry to have to inform you that your message could not\nbe delivered to one or more recipients.\n\n<{0}>: host mx.{1} said: 550 5.1.1 User unknown\n\n--{b}\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; mail.{BUSINESS_DOMAIN}\n\nFinal-Recipient: rfc822; {0}\nAction: failed\nStatus: 5.1.1\n\n--{b}\nContent-Type: text/rfc822-headers\n\nMessage-ID: <{original}>\nTo: {0}\n\n--{b}--\n",
                        c.email.clone().unwrap_or_default(),
                        cust_domain
                    );
                    let mut m = format!("{envelope}\n");
                    for (k, v) in &headers {
                        m.push_str(&format!("{k}: {v}\n"));
                    }
                    m.push_str("MIME-Version: 1.0\n\n");
                    m.push_str(&body);
                    m.push('\n');
                    self.out.write_str(&m)?;
                    self.messages += 1;
                    e.file = MBOX.into();
                    e.source_ref = id;
                    continue;
                }
                _ => {
                    if let Some(sig) = signature {
                        body.push_str("\n\n-- \n");
                        body.push_str(sig);
                    } else if *kind == MailKind::Agent {
                        body.push_str(&format!(
                            "\n\n-- \n{}\nBloom & Stem florists\n020 7946 0000",
                            agent.name
                        ));
                    }
                    if let Some(t) = th {
                        let when = TZ
                            .timestamp_millis_opt(t.last_ts)
                            .unwrap()
                            .format("%a, %-d %b %Y at %H:%M");
                        tail.clear();
                        body.push_str(&format!("\n\nOn {when}, {} wrote:\n", t.last_from));
                        for l in t.last_text.split('\n') {
                            body.push_str(&format!("> {l}\n"));
                        }
                        body.pop();
                    }
                }
            }
            self.write(&envelope, &headers, &body, html, &tail)?;
            if *thread != 0 && *kind != MailKind::AutoReply {
                let t = threads.entry(*thread).or_insert_with(|| Thread {
                    root: id.clone(),
                    refs: vec![],
                    last_text: String::new(),
                    last_from: String::new(),
                    last_ts: 0,
                });
                let _ = &t.root;
                t.refs.push(id.clone());
                t.last_text = text.clone();
                t.last_from = match kind {
                    MailKind::Customer => format!("{shown} <{address}>"),
                    _ => format!("{} <{}>", agent.name, agent.email),
                };
                t.last_ts = e.ts;
            }
            e.file = MBOX.into();
            e.source_ref = id;
        }
        Ok(())
    }

    /// Staff-to-staff mail: no customer.
    pub fn write_internal(&mut self, events: &mut [Event]) -> anyhow::Result<()> {
        for e in events.iter_mut().filter(|e| e.channel == Channel::Email) {
            let Body::Email {
                subject, text, address, ..
            } = &e.body
            else {
                continue;
            };
            let agent = &AGENTS[e.agent];
            let id = self.message_id(BUSINESS_DOMAIN);
            let headers = vec![
                ("From".to_string(), format!("{} <{}>", agent.name, agent.email)),
                ("To".to_string(), address.clone()),
                ("Subject".to_string(), subject.clone()),
                ("Date".to_string(), rfc2822(e.ts)),
                ("Message-ID".to_string(), format!("<{id}>")),
            ];
            let envelope = format!("From {} {}", agent.email, asctime(e.ts));
            self.write(&envelope, &headers, &format!("{text}\n\n{}", agent.name), false, "")?;
            e.file = MBOX.into();
            e.source_ref = id;
        }
        Ok(())
    }

    pub fn finish(self) -> anyhow::Result<u64> {
        self.out.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_bodies_round_trip_through_mailparse() {
        let name = "Zoë Müller";
        let hdr = format!("From: {} <zoe@example.net>\n\n", encode_word(name));
        let parsed = mailparse::parse_mail(hdr.as_bytes()).unwrap();
        let from = mailparse::addrparse_header(parsed.headers.first().unwrap()).unwrap();
        assert_eq!(from.extract_single_info().unwrap().display_name.as_deref(), Some(name));
        let text = "Café = 100% ok\nLine two with a very long tail that goes on and on and on and on beyond seventy-six characters";
        let msg = format!(
            "Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: quoted-printable\n\n{}",
            quoted_printable(text)
        );
        let body = mailparse::parse_mail(msg.as_bytes()).unwrap().get_body().unwrap();
        assert_eq!(body.replace("\r\n", "\n"), text);
        assert!(quoted_printable(text).lines().all(|l| l.len() <= 76));
    }
}
