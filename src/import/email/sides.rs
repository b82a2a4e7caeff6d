//! Which side of a message is the business: configured domains/addresses, or inferred from
//! the address that receives most of the mailbox; and the direction that follows.

use super::message::{Addr, ParsedMessage};
use crate::model::Direction;
use std::collections::HashMap;

/// The business's own mail: whole domains and single addresses (lower-cased).
#[derive(Debug, Clone, Default)]
pub struct BusinessSide {
    pub domains: Vec<String>,
    pub addresses: Vec<String>,
    /// How it was decided (`--business-domain`, inferred from …).
    pub how: String,
}

impl BusinessSide {
    pub fn is_empty(&self) -> bool {
        self.domains.is_empty() && self.addresses.is_empty()
    }

    pub fn owns(&self, a: &Addr) -> bool {
        self.addresses.contains(&a.addr)
            || a.domain()
                .is_some_and(|d| self.domains.iter().any(|b| is_same_or_subdomain(d, b)))
    }
}

/// `domain` is `base` or one of its sub-domains (`eu.shop.example` of `shop.example`).
fn is_same_or_subdomain(domain: &str, base: &str) -> bool {
    domain
        .strip_suffix(base)
        .is_some_and(|head| head.is_empty() || head.ends_with('.'))
}

/// Free mail providers: their domain is never a business domain, only one address on it.
fn is_public_domain(domain: &str) -> bool {
    const PUBLIC: &[&str] = &[
        "gmail.com",
        "googlemail.com",
        "yahoo.com",
        "yahoo.co.uk",
        "hotmail.com",
        "hotmail.co.uk",
        "outlook.com",
        "live.com",
        "msn.com",
        "icloud.com",
        "me.com",
        "mac.com",
        "aol.com",
        "gmx.de",
        "gmx.net",
        "gmx.com",
        "web.de",
        "mail.ru",
        "yandex.ru",
        "protonmail.com",
        "proton.me",
        "qq.com",
        "163.com",
        "126.com",
        "free.fr",
        "orange.fr",
        "btinternet.com",
        "libero.it",
        "t-online.de",
    ];
    PUBLIC.contains(&domain)
}

/// Counts, over a sample of messages, how many messages each address takes part in;
/// receiving headers (`Delivered-To`) count double because they name the mailbox owner.
#[derive(Debug, Default)]
pub struct SideSample {
    counts: HashMap<String, u64>,
    messages: u64,
}

impl SideSample {
    pub fn add(&mut self, m: &ParsedMessage) {
        let mut seen: Vec<&str> = Vec::new();
        let weighted = m
            .delivered_to
            .iter()
            .map(|a| (a, 2))
            .chain(m.from.iter().chain(&m.to).chain(&m.cc).map(|a| (a, 1)));
        for (a, weight) in weighted {
            if a.is_valid() && !seen.contains(&a.addr.as_str()) {
                *self.counts.entry(a.addr.clone()).or_default() += weight;
                seen.push(&a.addr);
            }
        }
        self.messages += 1;
    }

    /// The business side: the address in most messages (at least two, and at least half of
    /// them), widened to its domain unless that is a free-mail provider.
    pub fn infer(&self) -> Option<BusinessSide> {
        let (addr, n) = self
            .counts
            .iter()
            .max_by(|a, b| a.1.cmp(b.1).then_with(|| b.0.cmp(a.0)))?;
        if *n < 2 || *n * 2 < self.messages {
            return None;
        }
        let domain = addr.rsplit_once('@').map(|(_, d)| d.to_string())?;
        let share = (*n).min(self.messages) * 100 / self.messages.max(1);
        Some(if is_public_domain(&domain) {
            BusinessSide {
                domains: Vec::new(),
                addresses: vec![addr.clone()],
                how: format!(
                    "inferred: {addr} takes part in {share}% of {} sampled messages; pass --business-address/--business-domain to change",
                    self.messages
                ),
            }
        } else {
            BusinessSide {
                domains: vec![domain.clone()],
                addresses: Vec::new(),
                how: format!(
                    "inferred: domain {domain} ({addr} takes part in {share}% of {} sampled messages); pass --business-domain/--business-address to change",
                    self.messages
                ),
            }
        })
    }
}

/// Who the message is about: its direction, the customer address and the business agent.
#[derive(Debug, PartialEq)]
pub struct Sides {
    pub direction: Direction,
    pub customer: Option<Addr>,
    pub agent: Option<String>,
}

/// Decides the sides of one message. `sent_hint`: a Sent folder or Gmail `Sent` label.
pub fn decide(m: &ParsedMessage, business: Option<&BusinessSide>, sent_hint: bool) -> Sides {
    let recipients = || m.to.iter().chain(&m.cc).chain(&m.bcc).filter(|a| a.is_valid());
    let Some(business) = business.filter(|b| !b.is_empty()) else {
        return Sides {
            direction: if m.automated.is_some() {
                Direction::System
            } else {
                Direction::Unknown
            },
            customer: None,
            agent: None,
        };
    };
    let from_business = m.from.as_ref().is_some_and(|f| business.owns(f)) || (sent_hint && m.from.is_none());
    if m.automated.is_some() {
        return Sides {
            direction: Direction::System,
            customer: None,
            agent: m.from.as_ref().filter(|f| business.owns(f)).map(|f| f.addr.clone()),
        };
    }
    if from_business {
        let customer = recipients().find(|a| !business.owns(a)).cloned();
        let agent = m.from.as_ref().map(|f| f.addr.clone());
        return match customer {
            Some(c) => Sides {
                direction: Direction::Outbound,
                customer: Some(c),
                agent,
            },
            None => Sides {
                direction: Direction::Internal,
                customer: None,
                agent,
            },
        };
    }
    // From someone else: a customer writing in (to a business address, or delivered to the
    // business mailbox through Bcc or a list).
    let customer = m
        .reply_to
        .as_ref()
        .filter(|r| r.is_valid() && !business.owns(r) && is_web_form(m))
        .cloned();
    let customer = customer.or_else(|| m.from.clone().filter(|f| f.is_valid()));
    let agent = recipients()
        .chain(&m.delivered_to)
        .find(|a| business.owns(a))
        .map(|a| a.addr.clone());
    match customer {
        Some(c) => Sides {
            direction: Direction::Inbound,
            customer: Some(c),
            agent,
        },
        None => Sides {
            direction: Direction::Unknown,
            customer: None,
            agent,
        },
    }
}

/// Web forms and ticket systems send from their own address with the customer in Reply-To.
fn is_web_form(m: &ParsedMessage) -> bool {
    m.from.as_ref().is_some_and(|f| {
        let l = f.local();
        l.contains("form") || l.contains("wordpress") || l.contains("webmaster") || l.contains("contact")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(a: &str) -> Addr {
        Addr {
            addr: a.into(),
            name: None,
        }
    }

    fn msg(from: &str, to: &[&str]) -> ParsedMessage {
        ParsedMessage {
            from: Some(addr(from)),
            to: to.iter().map(|a| addr(a)).collect(),
            ..Default::default()
        }
    }

    #[test]
    fn directions_follow_the_business_side() {
        let b = BusinessSide {
            domains: vec!["shop.example".into()],
            addresses: vec![],
            how: String::new(),
        };
        let s = decide(&msg("ann@mail.example", &["support@shop.example"]), Some(&b), false);
        assert_eq!(s.direction, Direction::Inbound);
        assert_eq!(s.customer.unwrap().addr, "ann@mail.example");
        assert_eq!(s.agent.as_deref(), Some("support@shop.example"));
        let s = decide(&msg("tom@shop.example", &["ann@mail.example"]), Some(&b), false);
        assert_eq!(s.direction, Direction::Outbound);
        assert_eq!(s.agent.as_deref(), Some("tom@shop.example"));
        let s = decide(&msg("tom@shop.example", &["priya@shop.example"]), Some(&b), false);
        assert_eq!(s.direction, Direction::Internal);
        assert!(s.customer.is_none());
        let mut auto = msg("noreply@shop.example", &["ann@mail.example"]);
        auto.automated = Some("x");
        let s = decide(&auto, Some(&b), false);
        assert_eq!(s.direction, Direction::System);
        assert!(s.customer.is_none());
    }

    #[test]
    fn inference_picks_the_receiving_address() {
        let mut sample = SideSample::default();
        sample.add(&msg("ann@mail.example", &["support@shop.example"]));
        sample.add(&msg("bob@post.example", &["support@shop.example"]));
        sample.add(&msg("tom@shop.example", &["bob@post.example", "support@shop.example"]));
        let b = sample.infer().unwrap();
        assert_eq!(b.domains, vec!["shop.example".to_string()]);
        let mut sample = SideSample::default();
        sample.add(&msg("ann@mail.example", &["shop@gmail.com"]));
        sample.add(&msg("bob@post.example", &["shop@gmail.com"]));
        assert_eq!(sample.infer().unwrap().addresses, vec!["shop@gmail.com".to_string()]);
    }
}
