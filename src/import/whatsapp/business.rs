//! Which side of the chats is the business: `--business-name`, the author in every chat
//! of a multi-chat import, or the other party of a titled 1:1 chat.

use super::{ChatScan, WhatsAppOptions};
use crate::normalize::{phone, text};
use std::collections::HashSet;
use std::rc::Rc;

/// The business side of a set of chats, and how it was decided.
#[derive(Debug, Clone)]
pub struct BusinessSide {
    pub names: HashSet<String>,
    pub how: String,
}

/// What deciding the business side needs to know of the chats of an import, gathered one
/// chat at a time: the authors who write in every chat so far.
#[derive(Debug, Default)]
pub struct AuthorCensus {
    chats_with_authors: usize,
    common: Option<HashSet<String>>,
}

impl AuthorCensus {
    pub fn add(&mut self, scan: &ChatScan) {
        if scan.authors.is_empty() {
            return;
        }
        self.chats_with_authors += 1;
        match &mut self.common {
            None => self.common = Some(scan.authors.keys().cloned().collect()),
            Some(common) => common.retain(|a| scan.authors.contains_key(a)),
        }
    }
}

/// Who the business is in the chats of one import (see [`decide_business`]), and how many
/// chats got which side, for the import's notes.
#[derive(Debug, Default)]
pub struct BusinessSides {
    /// The side decided for the whole run (given names, or the author in every chat), and
    /// whether it also goes to chats without authors.
    shared: Option<(Rc<BusinessSide>, bool)>,
    /// Whether a chat without a shared side is given the other party of its titled 1:1 chat,
    /// worked out chat by chat: a folder of 100 000 chats would otherwise keep one side each.
    per_chat: bool,
    /// For the notes: whether the shared side went to any chat; how many chats got their
    /// own side and the first three ways; how many chats with authors got none, and the
    /// first three of them.
    shared_given: bool,
    one_by_one: usize,
    first_ones: Vec<String>,
    unknown: usize,
    first_unknown: Vec<String>,
}

impl BusinessSides {
    /// The side of `scan`, one of the run's chats, each taken once.
    pub fn take(&mut self, scan: &ChatScan) -> Option<Rc<BusinessSide>> {
        if let Some((side, to_all)) = &self.shared {
            if *to_all || !scan.authors.is_empty() {
                self.shared_given = true;
                return Some(Rc::clone(side));
            }
        }
        let side = if self.per_chat { other_party(scan) } else { None };
        match &side {
            Some(side) => {
                self.one_by_one += 1;
                if self.first_ones.len() < 3 {
                    self.first_ones.push(side.how.clone());
                }
            }
            // A chat without authors has no messages a side would direct.
            None if !scan.authors.is_empty() => {
                self.unknown += 1;
                if self.first_unknown.len() < 3 {
                    self.first_unknown.push(scan.input.display());
                }
            }
            None => {}
        }
        side.map(Rc::new)
    }

    /// How the sides of the chats taken were decided (each shared way once; the chats read
    /// one by one as one note when there are more than three), and which chats have none.
    pub fn notes(&self) -> Vec<String> {
        let mut hows = Vec::new();
        if let Some((side, _)) = self.shared.as_ref().filter(|_| self.shared_given) {
            hows.push(side.how.clone());
        }
        if self.one_by_one > 3 {
            hows.push(format!(
                "inferred for {} chats, each on its own: the other party of a 1:1 chat titled after the customer (each chat's notes name it)",
                self.one_by_one
            ));
        } else {
            hows.extend(self.first_ones.iter().cloned());
        }
        let mut notes: Vec<String> = hows.into_iter().map(|how| format!("business side {how}")).collect();
        if self.unknown > 0 {
            let more = match self.unknown - self.first_unknown.len() {
                0 => String::new(),
                n => format!(", and {n} more"),
            };
            notes.push(format!(
                "business side unknown for {} chat(s) ({}{more}): their messages have direction `unknown`; pass --business-name NAME",
                self.unknown,
                self.first_unknown.join(", ")
            ));
        }
        notes
    }
}

/// Decides who the business is: `--business-name`, else the author present in every chat
/// of a multi-chat import, else the author who is not the chat's title in a 1:1 chat.
pub fn decide_business(census: AuthorCensus, opts: &WhatsAppOptions) -> BusinessSides {
    if !opts.business_names.is_empty() {
        let side = BusinessSide {
            names: opts.business_names.iter().map(|n| text::clean_name(n)).collect(),
            how: "given by --business-name".into(),
        };
        return BusinessSides {
            shared: Some((Rc::new(side), true)),
            ..Default::default()
        };
    }
    let common = census.common.unwrap_or_default();
    if census.chats_with_authors >= 2 && !common.is_empty() {
        let mut list: Vec<&String> = common.iter().collect();
        list.sort();
        let how = format!(
            "inferred: {} writes in every one of the {} chats",
            list.iter().map(|s| format!("{s:?}")).collect::<Vec<_>>().join(", "),
            census.chats_with_authors
        );
        let side = BusinessSide { names: common, how };
        return BusinessSides {
            shared: Some((Rc::new(side), false)),
            ..Default::default()
        };
    }
    BusinessSides {
        per_chat: true,
        ..Default::default()
    }
}

/// The business of a titled chat with exactly two authors: the one who is not the title.
fn other_party(scan: &ChatScan) -> Option<BusinessSide> {
    let title = scan.title.as_ref()?;
    if scan.authors.len() != 2 {
        return None;
    }
    let title_key = handle_key(title);
    let others: Vec<&String> = scan.authors.keys().filter(|a| handle_key(a) != title_key).collect();
    let [other] = others.as_slice() else { return None };
    Some(BusinessSide {
        names: HashSet::from([(*other).clone()]),
        how: format!("inferred: {other:?} is the other party of the chat titled {title:?}"),
    })
}

fn handle_key(name: &str) -> String {
    if phone::looks_like_phone(name) {
        name.chars().filter(|c| c.is_ascii_digit()).collect()
    } else {
        text::clean_name(name).to_lowercase()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::import::whatsapp::scan::tests::scans_of;

    /// The sides `decide_business` gives `scans`, by their names, and the notes.
    fn sides(scans: &[ChatScan], opts: &WhatsAppOptions) -> (Vec<Option<Vec<String>>>, Vec<String>) {
        let mut census = AuthorCensus::default();
        scans.iter().for_each(|s| census.add(s));
        let mut business = decide_business(census, opts);
        let sides = scans
            .iter()
            .map(|s| {
                business.take(s).map(|b| {
                    let mut names: Vec<String> = b.names.iter().cloned().collect();
                    names.sort();
                    names
                })
            })
            .collect();
        (sides, business.notes())
    }

    #[test]
    fn the_business_side_is_decided_from_every_chat_of_the_import() {
        let dir = tempfile::tempdir().unwrap();
        let scans = scans_of(
            dir.path(),
            &[
                ("WhatsApp Chat with Ana.txt", "13/02/2024, 10:00 - Ana: Hi, is order 1234 ready?\n13/02/2024, 10:01 - Shop: Yes, it ships today.\n"),
                ("WhatsApp Chat with Ben.txt", "13/02/2024, 11:00 - Ben: Hi, is order 1234 ready?\n13/02/2024, 11:01 - Shop: Yes, it ships today.\n"),
                ("WhatsApp Chat with Cy.txt", "13/02/2024, 12:00 - Cy: Hi, is order 1234 ready?\n13/02/2024, 12:01 - Dee: Yes, it ships today.\n"),
                ("WhatsApp Chat with Nobody.txt", "13/02/2024, 12:00 - Messages are end-to-end encrypted.\n"),
            ],
        );
        assert!(scans[3].authors.is_empty());
        // Nobody writes in every chat: each titled 1:1 chat gives its other party.
        let (got, notes) = sides(&scans, &WhatsAppOptions::default());
        let one = |n: &str| Some(vec![n.to_string()]);
        assert_eq!(got, [one("Shop"), one("Shop"), one("Dee"), None]);
        assert_eq!(notes.len(), 3, "{notes:?}");
        assert!(notes[0].starts_with("business side inferred: \"Shop\" is the other party"));
        // "Shop" in the first two chats only: the author in every chat of those two.
        let (got, notes) = sides(&scans[..2], &WhatsAppOptions::default());
        assert_eq!(got, [one("Shop"), one("Shop")]);
        assert_eq!(
            notes,
            ["business side inferred: \"Shop\" writes in every one of the 2 chats"]
        );
        // Given names go to every chat, authors or not.
        let given = WhatsAppOptions {
            business_names: vec!["Dee".into()],
            ..Default::default()
        };
        let (got, notes) = sides(&scans, &given);
        assert_eq!(got, vec![one("Dee"); 4]);
        assert_eq!(notes, ["business side given by --business-name"]);
        // A chat with authors but no title that names one of two: no side, and said.
        let untitled = scans_of(
            dir.path(),
            &[(
                "notes.txt",
                "13/02/2024, 10:00 - Ana: Hi, is order 1234 ready?\n13/02/2024, 10:01 - Bo: Yes, it ships today.\n",
            )],
        );
        let (got, notes) = sides(&untitled, &WhatsAppOptions::default());
        assert_eq!(got, [None]);
        assert!(
            notes[0].starts_with("business side unknown for 1 chat(s) ("),
            "{notes:?}"
        );
    }
}
