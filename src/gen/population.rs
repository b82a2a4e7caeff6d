//! Who is in the dataset: customers (names, numbers, addresses, channel habits) and agents.
//!
//! Every customer is a pure function of `(seed, index)` except for the uniqueness of
//! email addresses and WhatsApp contact names, which a [`Registry`] enforces as customers
//! are generated in order (two customers never share an address or a saved chat name).

use super::rng_for;
use crate::model::Channel;
use rand::seq::IndexedRandom;
use rand::Rng;
use std::collections::HashSet;

/// A given name with the variants people really use for it (nicknames, transliterations).
#[derive(Debug)]
pub struct Given {
    pub name: &'static str,
    pub variants: &'static [&'static str],
}

const GIVEN: &[Given] = &[
    Given {
        name: "Robert",
        variants: &["Bob", "Rob", "Bobby"],
    },
    Given {
        name: "William",
        variants: &["Bill", "Will", "Billy"],
    },
    Given {
        name: "Elizabeth",
        variants: &["Liz", "Beth", "Lizzie"],
    },
    Given {
        name: "Margaret",
        variants: &["Maggie", "Peggy", "Meg"],
    },
    Given {
        name: "Katherine",
        variants: &["Kate", "Katie", "Kathy"],
    },
    Given {
        name: "James",
        variants: &["Jim", "Jamie"],
    },
    Given {
        name: "Michael",
        variants: &["Mike", "Mick"],
    },
    Given {
        name: "Alexander",
        variants: &["Alex", "Aleksandr", "Sasha"],
    },
    Given {
        name: "Mohammed",
        variants: &["Muhammad", "Mohamed", "Mo"],
    },
    Given {
        name: "Yevgeny",
        variants: &["Evgeny", "Evgeni", "Zhenya"],
    },
    Given {
        name: "Sarah",
        variants: &["Sara"],
    },
    Given {
        name: "Jennifer",
        variants: &["Jen", "Jenny"],
    },
    Given {
        name: "Thomas",
        variants: &["Tom", "Tommy"],
    },
    Given {
        name: "Christopher",
        variants: &["Chris", "Kit"],
    },
    Given {
        name: "Rebecca",
        variants: &["Becky", "Becca"],
    },
    Given {
        name: "Daniel",
        variants: &["Dan", "Danny"],
    },
    Given {
        name: "Olga",
        variants: &["Olya"],
    },
    Given {
        name: "Zoë",
        variants: &["Zoe"],
    },
    Given {
        name: "José",
        variants: &["Jose", "Pepe"],
    },
    Given {
        name: "Łukasz",
        variants: &["Lukasz", "Luke"],
    },
    Given {
        name: "Siân",
        variants: &["Sian"],
    },
    Given {
        name: "Chloé",
        variants: &["Chloe"],
    },
    Given {
        name: "Priyanka",
        variants: &["Priya"],
    },
    Given {
        name: "Oluwaseun",
        variants: &["Seun"],
    },
    Given {
        name: "Nguyen",
        variants: &["Win"],
    },
    Given {
        name: "Hannah",
        variants: &["Hanna"],
    },
    Given {
        name: "Edward",
        variants: &["Ed", "Ted", "Eddie"],
    },
    Given {
        name: "Victoria",
        variants: &["Vicky", "Tori"],
    },
    Given {
        name: "Patrick",
        variants: &["Pat", "Paddy"],
    },
    Given {
        name: "Amelia",
        variants: &["Millie", "Amy"],
    },
    Given {
        name: "Susan",
        variants: &["Sue", "Suzie"],
    },
    Given {
        name: "Anthony",
        variants: &["Tony", "Ant"],
    },
    Given {
        name: "Grace",
        variants: &[],
    },
    Given {
        name: "Aisha",
        variants: &["Ayesha"],
    },
    Given {
        name: "Fatima",
        variants: &["Fatimah"],
    },
    Given {
        name: "Wei",
        variants: &[],
    },
    Given {
        name: "Ines",
        variants: &["Inês"],
    },
    Given {
        name: "Niamh",
        variants: &["Neve"],
    },
    Given {
        name: "Joseph",
        variants: &["Joe", "Joey"],
    },
    Given {
        name: "Dmitri",
        variants: &["Dmitry", "Dima"],
    },
];

const FAMILY: &[&str] = &[
    "Smith",
    "Jones",
    "Taylor",
    "Brown",
    "Williams",
    "Wilson",
    "Johnson",
    "Davies",
    "Patel",
    "Robinson",
    "Wright",
    "Thompson",
    "Evans",
    "Walker",
    "White",
    "Roberts",
    "Green",
    "Hall",
    "Wood",
    "Jackson",
    "Clarke",
    "Khan",
    "Hughes",
    "Edwards",
    "Lewis",
    "Harris",
    "Martin",
    "Cooper",
    "King",
    "Lee",
    "Baker",
    "Turner",
    "Hill",
    "Morris",
    "Ward",
    "O'Brien",
    "Müller",
    "García",
    "Nowak",
    "Kowalski",
    "Nguyen",
    "Chen",
    "Wang",
    "Ivanov",
    "Ivanova",
    "Okafor",
    "Adeyemi",
    "Murphy",
    "Kelly",
    "Campbell",
    "Fernández",
    "Rossi",
    "Dubois",
    "Schmidt",
    "Hansen",
    "Novák",
    "Singh",
    "Ahmed",
    "Ali",
    "Begum",
    "Fitzgerald",
    "MacDonald",
    "Ó Súilleabháin",
    "Żuk",
    "Jørgensen",
    "Petrov",
    "Sokolov",
    "Yilmaz",
    "Costa",
    "Silva",
];

const MAIL_DOMAINS: &[&str] = &[
    "example.com",
    "example.net",
    "example.org",
    "mail.example",
    "inbox.example",
];
const WORK_DOMAINS: &[&str] = &[
    "acme.example",
    "northwind.example",
    "contoso.example",
    "initech.example",
];
const COMPANIES: &[&str] = &[
    "Acme Events",
    "Northwind Catering",
    "Contoso Weddings",
    "Initech Ltd",
    "",
];

/// Ofcom's numbers reserved for drama (never assigned to anyone): 1000 mobiles and 1000 per
/// geographic range. Beyond them the generator uses the UK `04` range, which the UK numbering
/// plan has never allocated (no subscriber can hold such a number); see docs/gen.md.
const GEO_DRAMA: &[&str] = &[
    "0113496", "0114496", "0115496", "0116496", "0117496", "0118496", "0121496", "0131496", "0141496", "0151496",
    "0161496", "0191498", "0292018",
];

/// A phone number: its national digits (`07700900123`) and E.164 (`+447700900123`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Phone {
    pub national: String,
}

impl Phone {
    pub fn e164(&self) -> String {
        format!("+44{}", &self.national[1..])
    }

    /// Written the way a person would: one of several national/international spellings.
    pub fn written(&self, style: u8) -> String {
        let n = &self.national;
        let rest = &n[1..];
        let (a, b) = if n.starts_with("07") || n.starts_with("04") {
            (&n[..5], &n[5..])
        } else if n.starts_with("02") {
            (&n[..3], &n[3..])
        } else {
            (&n[..4], &n[4..])
        };
        let (ia, ib) = (&a[1..], b);
        match style % 6 {
            0 => format!("{a} {b}"),
            1 => format!("+44 {ia} {ib}"),
            2 => format!("0044 {ia} {ib}"),
            3 => n.clone(),
            4 => format!("+44{rest}"),
            _ => format!("({a}) {b}"),
        }
    }
}

/// Personal mobile number `k`: Ofcom drama mobiles first, then the unallocated `04700` range.
pub fn mobile(k: u64) -> Phone {
    if k < 1000 {
        Phone {
            national: format!("07700900{k:03}"),
        }
    } else {
        Phone {
            national: format!("04{:09}", 700_000_000 + (k - 1000)),
        }
    }
}

/// Landline number `j`: Ofcom geographic drama ranges, then the unallocated `04800` range.
pub fn landline(j: u64) -> Phone {
    let per = 1000;
    let ranges = GEO_DRAMA.len() as u64;
    if j < per * ranges {
        let prefix = GEO_DRAMA[(j / per) as usize];
        Phone {
            national: format!("{prefix}{:04}", j % per),
        }
    } else {
        Phone {
            national: format!("04{:09}", 800_000_000 + (j - per * ranges)),
        }
    }
}

/// How a customer's WhatsApp chat shows them.
#[derive(Debug, Clone)]
pub enum WaContact {
    /// The business saved them under this name (unique across the dataset).
    Saved(String),
    /// Not saved: the chat shows their number `+44 7700 900123`.
    Number(String),
}

impl WaContact {
    pub fn shown(&self) -> &str {
        match self {
            WaContact::Saved(s) | WaContact::Number(s) => s,
        }
    }
}

/// One customer of the business.
#[derive(Debug, Clone)]
pub struct Customer {
    pub index: u64,
    pub id: String,
    pub given: &'static Given,
    pub family: String,
    pub mobile: Phone,
    pub work_phone: Option<Phone>,
    /// A family landline shared with the other member of the household.
    pub family_phone: Option<Phone>,
    /// Main address as the customer types it (case kept); the identity is its lower case.
    pub email: Option<String>,
    /// A plus-addressed variant used sometimes (a separate identity after import).
    pub email_plus: Option<String>,
    pub work_email: Option<String>,
    pub company: &'static str,
    /// Channels used, most preferred first.
    pub channels: Vec<Channel>,
    pub whatsapp: Option<WaContact>,
    /// Index into [`super::whatsapp::LAYOUTS`].
    pub wa_layout: usize,
    pub in_crm: bool,
    /// 0–5: how they write their own number (see [`Phone::written`]).
    pub phone_style: u8,
}

impl Customer {
    pub fn full_name(&self) -> String {
        format!("{} {}", self.given.name, self.family)
    }

    /// Every phone the customer uses, E.164.
    pub fn phones(&self) -> Vec<String> {
        let mut v = vec![self.mobile.e164()];
        v.extend(self.work_phone.iter().map(Phone::e164));
        v.extend(self.family_phone.iter().map(Phone::e164));
        v
    }

    /// Every address the customer uses, as the importer keys it (lower case, plus part kept).
    pub fn emails(&self) -> Vec<String> {
        [&self.email, &self.email_plus, &self.work_email]
            .into_iter()
            .flatten()
            .map(|e| e.to_lowercase())
            .collect()
    }

    /// A display name as some system or person wrote it: nickname, initial, typo, swapped order…
    pub fn name_variant(&self, rng: &mut impl Rng) -> String {
        let given = if !self.given.variants.is_empty() && rng.random_bool(0.3) {
            *self.given.variants.choose(rng).unwrap()
        } else {
            self.given.name
        };
        match rng.random_range(0..10) {
            0 => format!("{} {}", self.family, given),
            1 => format!("{}, {}", self.family.to_uppercase(), given),
            2 => format!("{}. {}", given.chars().next().unwrap(), self.family),
            3 => typo(&format!("{given} {}", self.family), rng),
            4 => format!("{given} {}", self.family).to_lowercase(),
            _ => format!("{given} {}", self.family),
        }
    }
}

/// One plausible typing slip: two neighbouring letters swapped or one dropped.
pub fn typo(s: &str, rng: &mut impl Rng) -> String {
    let chars: Vec<char> = s.chars().collect();
    let letters: Vec<usize> = (1..chars.len().saturating_sub(1))
        .filter(|&i| chars[i].is_alphabetic() && chars[i + 1].is_alphabetic())
        .collect();
    let Some(&i) = letters.choose(rng) else {
        return s.to_string();
    };
    let mut out = chars.clone();
    if rng.random_bool(0.5) {
        out.swap(i, i + 1);
    } else {
        out.remove(i);
    }
    out.into_iter().collect()
}

/// Strips accents and other non-ASCII letters for email local parts.
fn ascii_fold(s: &str) -> String {
    use unicode_normalization::UnicodeNormalization;
    s.nfd()
        .filter_map(|c| match c {
            'Ł' => Some('L'),
            'ł' => Some('l'),
            'ø' => Some('o'),
            'Ø' => Some('O'),
            c if c.is_ascii_alphanumeric() => Some(c),
            _ => None,
        })
        .collect()
}

/// Keeps addresses and saved WhatsApp names unique across the dataset. Stores 8-byte
/// hashes of the lower-cased strings, not the strings: memory stays small at millions.
#[derive(Default)]
pub struct Registry {
    emails: HashSet<u64>,
    wa_names: HashSet<u64>,
}

fn key(s: &str) -> u64 {
    let h = blake3::hash(s.to_lowercase().as_bytes());
    u64::from_le_bytes(h.as_bytes()[..8].try_into().unwrap())
}

impl Registry {
    fn unique_email(&mut self, local: &str, domain: &str, k: u64) -> String {
        let mut candidate = format!("{local}@{domain}");
        let mut n = 0;
        while self.emails.contains(&key(&candidate)) {
            n += 1;
            candidate = if n == 1 {
                format!("{local}{}@{domain}", k % 100)
            } else {
                format!("{local}{k}{n}@{domain}")
            };
        }
        self.emails.insert(key(&candidate));
        candidate
    }

    fn unique_wa(&mut self, name: String, k: u64) -> String {
        const TAGS: &[&str] = &["Leeds", "work", "wedding", "florist", "neighbour", "gym", "school"];
        let mut candidate = name.clone();
        let mut n = 0;
        while self.wa_names.contains(&key(&candidate)) {
            candidate = if n < TAGS.len() {
                format!("{name} {}", TAGS[(k as usize + n) % TAGS.len()])
            } else {
                format!("{name} {}", n + 1)
            };
            n += 1;
        }
        self.wa_names.insert(key(&candidate));
        candidate
    }
}

/// The household a customer belongs to: pairs `(2j, 2j+1)` share a family landline and
/// surname in about 6 % of households. Decided from the pair's own random stream so that
/// both members agree without seeing each other.
fn household(seed: u64, k: u64) -> Option<(Phone, &'static str)> {
    let pair = k / 2;
    let mut rng = rng_for(seed, u64::MAX - pair);
    if rng.random_bool(0.06) {
        let family = *FAMILY.choose(&mut rng).unwrap();
        Some((landline(pair * 2 + 1), family))
    } else {
        None
    }
}

/// Builds customer `k`. The registry makes emails and WhatsApp names unique.
pub fn customer(seed: u64, k: u64, reg: &mut Registry) -> Customer {
    let mut rng = rng_for(seed, k * 2);
    let given = GIVEN.choose(&mut rng).unwrap();
    let mut family = FAMILY.choose(&mut rng).unwrap().to_string();
    let mut family_phone = None;
    if let Some((phone, fam)) = household(seed, k) {
        family = fam.to_string();
        family_phone = Some(phone);
    }
    let n_channels = match rng.random_range(0..100) {
        0..55 => 1,
        55..85 => 2,
        _ => 3,
    };
    let mut all = [Channel::Whatsapp, Channel::Email, Channel::Call];
    // Preference: WhatsApp 45 %, email 30 %, phone 25 %.
    let first = match rng.random_range(0..100) {
        0..45 => 0,
        45..75 => 1,
        _ => 2,
    };
    all.swap(0, first);
    if rng.random_bool(0.5) {
        all.swap(1, 2);
    }
    let channels: Vec<Channel> = all[..n_channels].to_vec();
    let uses = |c: Channel| all[..n_channels].contains(&c);

    let folded_given = ascii_fold(given.name).to_lowercase();
    let folded_family = ascii_fold(&family).to_lowercase();
    let local = match rng.random_range(0..5) {
        0 => format!("{folded_given}.{folded_family}"),
        1 => format!("{}{folded_family}", &folded_given[..1]),
        2 => format!("{folded_given}_{folded_family}{}", rng.random_range(70..99)),
        3 => format!("{folded_family}.{folded_given}"),
        _ => format!("{folded_given}{}", rng.random_range(1..999)),
    };
    let domain = *MAIL_DOMAINS.choose(&mut rng).unwrap();
    let has_email = uses(Channel::Email) || rng.random_bool(0.6);
    let email = has_email.then(|| {
        let e = reg.unique_email(&local, domain, k);
        // Some type their address with capitals: the same identity after lower-casing.
        if rng.random_bool(0.15) {
            let (l, d) = e.split_once('@').unwrap();
            let cap: String = l
                .split('.')
                .map(|p| {
                    let mut c = p.chars();
                    c.next()
                        .map(|f| f.to_uppercase().chain(c).collect::<String>())
                        .unwrap_or_default()
                })
                .collect::<Vec<_>>()
                .join(".");
            format!("{cap}@{d}")
        } else {
            e
        }
    });
    let email_plus = email
        .as_ref()
        .filter(|_| uses(Channel::Email) && rng.random_bool(0.08))
        .map(|e| {
            let (l, d) = e.split_once('@').unwrap();
            let plus = format!("{}+flowers@{d}", l.to_lowercase());
            reg.emails.insert(key(&plus));
            plus
        });
    let company = if rng.random_bool(0.15) {
        *COMPANIES.choose(&mut rng).unwrap()
    } else {
        ""
    };
    let work_email = (!company.is_empty() && uses(Channel::Email) && rng.random_bool(0.5)).then(|| {
        let d = *WORK_DOMAINS.choose(&mut rng).unwrap();
        reg.unique_email(&format!("{}.{folded_family}", &folded_given[..1]), d, k)
    });
    let work_phone = (!company.is_empty() && rng.random_bool(0.5)).then(|| landline(k * 2));
    let mut c = Customer {
        index: k,
        id: format!("cust-{:07}", k + 1),
        given,
        family,
        mobile: mobile(k),
        work_phone,
        family_phone,
        email,
        email_plus,
        work_email,
        company,
        channels,
        whatsapp: None,
        wa_layout: rng.random_range(0..super::whatsapp::LAYOUTS.len()),
        in_crm: rng.random_bool(0.5),
        phone_style: rng.random_range(0..6),
    };
    if uses(Channel::Whatsapp) {
        c.whatsapp = Some(if rng.random_bool(0.15) {
            WaContact::Number(c.mobile.written(1))
        } else {
            let name = c.name_variant(&mut rng);
            WaContact::Saved(reg.unique_wa(name, k))
        });
    }
    c
}

/// A member of staff: their name, mailbox and desk extension. Some answer on several channels.
pub struct Agent {
    pub name: &'static str,
    pub email: &'static str,
    pub ext: &'static str,
    pub twilio_client: &'static str,
    /// Channels they work on.
    pub channels: &'static [Channel],
}

pub const AGENTS: &[Agent] = &[
    Agent {
        name: "Priya Shah",
        email: "priya@bloomandstem.example",
        ext: "201",
        twilio_client: "client:priya",
        channels: &[Channel::Email, Channel::Call],
    },
    Agent {
        name: "Tom Fletcher",
        email: "tom@bloomandstem.example",
        ext: "202",
        twilio_client: "client:tom",
        channels: &[Channel::Call],
    },
    Agent {
        name: "Grace Okoro",
        email: "grace@bloomandstem.example",
        ext: "203",
        twilio_client: "client:grace",
        channels: &[Channel::Email, Channel::Whatsapp, Channel::Call],
    },
    Agent {
        name: "Lena Vogel",
        email: "lena@bloomandstem.example",
        ext: "204",
        twilio_client: "client:lena",
        channels: &[Channel::Email],
    },
    Agent {
        name: "Sam Reid",
        email: "sam@bloomandstem.example",
        ext: "205",
        twilio_client: "client:sam",
        channels: &[Channel::Whatsapp, Channel::Call],
    },
];

/// An agent who works on `channel`, chosen at random.
pub fn agent_for(channel: Channel, rng: &mut impl Rng) -> usize {
    let candidates: Vec<usize> = (0..AGENTS.len())
        .filter(|&i| AGENTS[i].channels.contains(&channel))
        .collect();
    *candidates.choose(rng).unwrap()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::normalize::phone::{to_e164, Region};

    #[test]
    fn every_written_form_normalises_to_the_same_number() {
        let gb = Region::parse("GB").unwrap();
        for p in [mobile(5), mobile(123_456), landline(3), landline(20_000)] {
            for style in 0..6 {
                assert_eq!(
                    to_e164(&p.written(style), gb),
                    Some(p.e164()),
                    "{:?} {}",
                    p,
                    p.written(style)
                );
            }
        }
        assert_eq!(mobile(123).e164(), "+447700900123");
        assert_eq!(landline(1001).national, "01144960001");
    }

    #[test]
    fn addresses_and_saved_names_are_unique() {
        let mut reg = Registry::default();
        let mut emails = HashSet::new();
        let mut names = HashSet::new();
        for k in 0..3000 {
            let c = customer(9, k, &mut reg);
            for e in c.emails() {
                assert!(emails.insert(e.clone()), "{e} twice");
            }
            if let Some(WaContact::Saved(n)) = &c.whatsapp {
                assert!(names.insert(n.to_lowercase()), "{n} twice");
            }
        }
    }

    #[test]
    fn households_share_a_landline_and_surname() {
        let mut reg = Registry::default();
        let people: Vec<Customer> = (0..400).map(|k| customer(3, k, &mut reg)).collect();
        let shared: Vec<&Customer> = people.iter().filter(|c| c.family_phone.is_some()).collect();
        assert!(!shared.is_empty());
        for c in shared {
            let other = &people[(c.index ^ 1) as usize];
            assert_eq!(other.family_phone, c.family_phone);
            assert_eq!(other.family, c.family);
        }
    }
}
