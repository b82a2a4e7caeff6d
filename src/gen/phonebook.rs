//! The business phone's address book, `contacts/phone-book.vcf` (vCard 3.0, as Android's
//! "Export contacts" writes it): one card per customer the phone saved. WhatsApp shows a
//! saved contact under the card's name, so every saved chat name has a card whose `FN` is
//! exactly that name and whose first `TEL` is the customer's mobile; some callers were saved
//! too. Unsaved chats (shown as `+44 …`) have no card.
//!
//! Drawn from its own random stream per customer ([`rng`]), so adding the file leaves every
//! other export and truth figure as it was. This module also decides the
//! **link share** (docs/gen.md): most customers who use email and another channel leave
//! something that ties their address to their number.

use super::contacts::ContactRow;
use super::population::{Customer, Phone, WaContact};
use super::{Body, Event, MailKind, Out, CONTACTS_MTIME_MS};
use crate::model::{Channel, Direction};
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use std::path::{Path, PathBuf};

pub const PHONE_BOOK: &str = "contacts/phone-book.vcf";

/// Share of customers who call but never use WhatsApp that the business phone saved.
pub const SAVED_CALLERS: f64 = 0.35;
/// Share of cards that also hold the customer's email address.
pub const CARD_EMAIL: f64 = 0.25;
/// Share of customers using email and phone/WhatsApp who leave at least one link between
/// their address and their number (a signature number, a CRM row or card holding both…).
/// Those the other draws left without one get their address on their card, or, with no
/// card, their number in an email signature. The rest stay unlinkable by design.
pub const LINKED_MULTICHANNEL: f64 = 0.92;

/// The random stream of customer `k`'s address-book card: a key of its own (not a stream of
/// the main key), so the customers' other draws are unchanged.
pub fn rng(seed: u64, k: u64) -> ChaCha8Rng {
    super::rng_for(seed ^ 0x7068_6f6e_6562_6f6f, k) // "phoneboo"
}

/// One address-book card.
#[derive(Debug, Clone, PartialEq)]
pub struct Card {
    /// The display name (`FN`): what WhatsApp shows for a saved chat.
    pub name: String,
    /// `N` components (family, given); empty family when the whole name was typed as given.
    pub family: String,
    pub given: String,
    /// (TYPE, number as typed); the mobile first (the importer keys the card on it).
    pub tels: Vec<(&'static str, String)>,
    pub emails: Vec<String>,
    /// The card's identity after import: the mobile, `phone:+44…`.
    pub identity: String,
}

/// Decides the customer's card (if the phone saved them) and, when their email and their
/// number would otherwise be unlinked and the draw says they leave a link, adds one: their
/// address on the card, or with no card a signature with their number on their first mail.
pub fn plan(c: &Customer, events: &mut [Event], rng: &mut impl Rng) -> Option<Card> {
    let mut card = match &c.whatsapp {
        Some(WaContact::Saved(name)) => Some(card_for(c, name.clone(), rng)),
        _ => None,
    };
    let mut call_numbers: Vec<&Phone> = Vec::new();
    for e in events.iter().filter(|e| e.customer) {
        if let Body::Call { number, .. } = &e.body {
            if !call_numbers.contains(&number) {
                call_numbers.push(number);
            }
        }
    }
    let wa_used = events.iter().any(|e| e.customer && e.channel == Channel::Whatsapp);
    if card.is_none() && !wa_used && !call_numbers.is_empty() && rng.random_bool(SAVED_CALLERS) {
        let name = c.name_variant(rng);
        card = Some(card_for(c, name, rng));
    }
    let mut addresses: Vec<String> = Vec::new();
    for e in events.iter().filter(|e| e.customer) {
        if let Body::Email {
            kind: MailKind::Customer | MailKind::Agent,
            address,
            ..
        } = &e.body
        {
            if !addresses.iter().any(|a| a.eq_ignore_ascii_case(address)) {
                addresses.push(address.clone());
            }
        }
    }
    if let (Some(card), Some(email)) = (card.as_mut(), c.email.as_ref()) {
        if rng.random_bool(CARD_EMAIL) {
            card.emails.push(email.clone());
        }
    }
    // Numbers the customer called from belong on their card (the phone saved the caller).
    if let Some(card) = card.as_mut() {
        add_call_numbers(card, c, &call_numbers);
    }
    // The link share: this draw is made for every customer, linked or not, to keep the
    // stream's later draws independent of the other exports.
    let leaves_link = rng.random_bool(LINKED_MULTICHANNEL);
    let multichannel = !addresses.is_empty() && (wa_used || !call_numbers.is_empty());
    let signed = events.iter().any(|e| {
        matches!(
            &e.body,
            Body::Email {
                kind: MailKind::Customer,
                signature: Some(_),
                ..
            }
        )
    });
    let on_card = card.as_ref().is_some_and(|k| !k.emails.is_empty());
    if multichannel && leaves_link && !signed && !on_card {
        if card.is_none() && !call_numbers.is_empty() {
            let name = c.name_variant(rng);
            let mut k = card_for(c, name, rng);
            add_call_numbers(&mut k, c, &call_numbers);
            card = Some(k);
        }
        match card.as_mut() {
            Some(k) => k.emails.extend(addresses.iter().take(2).cloned()),
            None => {
                // An unsaved WhatsApp contact: the number is in their mail signature instead.
                let phone = c.mobile.written(c.phone_style);
                let first = events.iter_mut().find(|e| {
                    e.customer
                        && e.dir == Direction::Inbound
                        && matches!(
                            e.body,
                            Body::Email {
                                kind: MailKind::Customer,
                                ..
                            }
                        )
                });
                if let Some(Event {
                    body: Body::Email { signature, .. },
                    ..
                }) = first
                {
                    *signature = Some(format!("{}\n{phone}", c.full_name()));
                }
            }
        }
    }
    card
}

/// The numbers other than the mobile that the customer called from, on their card.
fn add_call_numbers(card: &mut Card, c: &Customer, call_numbers: &[&Phone]) {
    for n in call_numbers {
        if **n != c.mobile {
            let kind = if Some(*n) == c.work_phone.as_ref() {
                "WORK"
            } else {
                "HOME"
            };
            card.tels.push((kind, n.written(c.phone_style)));
        }
    }
}

fn card_for(c: &Customer, name: String, rng: &mut impl Rng) -> Card {
    // Most people type given and family name into their fields; some type the whole name as
    // the first name (then `N` is `;whole name;;;`).
    let plain = format!("{} {}", c.given.name, c.family);
    let (family, given) = if rng.random_bool(0.7) && name == plain {
        (c.family.clone(), c.given.name.to_string())
    } else {
        (String::new(), name.clone())
    };
    Card {
        name,
        family,
        given,
        tels: vec![("CELL", c.mobile.written(rng.random_range(0..6)))],
        emails: Vec::new(),
        identity: format!("phone:{}", c.mobile.e164()),
    }
}

/// vCard 3.0 text escaping (RFC 2426 §5).
fn escape(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace(',', "\\,")
        .replace(';', "\\;")
        .replace('\n', "\\n")
}

/// Writes the cards one after another, as they are decided.
pub struct PhoneBookWriter {
    out: Out,
    path: PathBuf,
    pub cards: u64,
}

impl PhoneBookWriter {
    pub fn create(root: &Path) -> anyhow::Result<PhoneBookWriter> {
        Ok(PhoneBookWriter {
            out: Out::create(root, PHONE_BOOK)?,
            path: root.join(PHONE_BOOK),
            cards: 0,
        })
    }

    /// Writes `card`; returns where it is and the identity it carries after import.
    pub fn write(&mut self, card: &Card) -> anyhow::Result<ContactRow> {
        let mut v = String::with_capacity(200);
        v.push_str("BEGIN:VCARD\r\nVERSION:3.0\r\n");
        v.push_str(&format!("N:{};{};;;\r\n", escape(&card.family), escape(&card.given)));
        v.push_str(&format!("FN:{}\r\n", escape(&card.name)));
        for (kind, number) in &card.tels {
            v.push_str(&format!("TEL;TYPE={kind}:{number}\r\n"));
        }
        for e in &card.emails {
            v.push_str(&format!("EMAIL;TYPE=INTERNET:{e}\r\n"));
        }
        v.push_str("END:VCARD\r\n");
        self.out.write_str(&v)?;
        self.cards += 1;
        Ok(ContactRow {
            file: PHONE_BOOK,
            source_ref: format!("card:{}", self.cards),
            identity: card.identity.clone(),
        })
    }

    /// Flushes and stamps the file with the export time (the records' `ts`).
    pub fn finish(self) -> anyhow::Result<u64> {
        let bytes = self.out.finish()?;
        let f = std::fs::OpenOptions::new().write(true).open(&self.path)?;
        f.set_modified(std::time::UNIX_EPOCH + std::time::Duration::from_millis(CONTACTS_MTIME_MS as u64))?;
        Ok(bytes)
    }
}
