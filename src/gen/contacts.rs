//! The CRM's contacts export, `contacts/crm-contacts.csv` (HubSpot-style column names):
//! about half the customers, with the name, phone and address spellings a CRM accumulates.

use super::population::Customer;
use super::{Out, CONTACTS_MTIME_MS};
use rand::Rng;
use std::path::{Path, PathBuf};

pub const CONTACTS: &str = "contacts/crm-contacts.csv";
const HEADER: &[&str] = &[
    "Record ID",
    "First Name",
    "Last Name",
    "Email",
    "Phone Number",
    "Mobile Phone Number",
    "Company Name",
];

/// What the contact record will be keyed on after import, and where it is.
pub struct ContactRow {
    /// The contacts file, relative to the output folder.
    pub file: &'static str,
    pub source_ref: String,
    /// `phone:+44…` or `email:…`: the record's identity.
    pub identity: String,
}

pub struct ContactsWriter {
    w: csv::Writer<Out>,
    path: PathBuf,
    line: u64,
    pub rows: u64,
}

impl ContactsWriter {
    pub fn create(root: &Path) -> anyhow::Result<ContactsWriter> {
        let mut w = csv::Writer::from_writer(Out::create(root, CONTACTS)?);
        w.write_record(HEADER)?;
        Ok(ContactsWriter {
            w,
            path: root.join(CONTACTS),
            line: 1,
            rows: 0,
        })
    }

    /// Writes the customer's CRM row if they are in the CRM.
    pub fn write_customer(&mut self, c: &Customer, rng: &mut impl Rng) -> anyhow::Result<Option<ContactRow>> {
        if !c.in_crm {
            return Ok(None);
        }
        let (mut first, mut last) = (c.given.name.to_string(), c.family.clone());
        if !c.given.variants.is_empty() && rng.random_bool(0.2) {
            first = c.given.variants[rng.random_range(0..c.given.variants.len())].to_string();
        }
        if rng.random_bool(0.05) {
            std::mem::swap(&mut first, &mut last);
        }
        if rng.random_bool(0.05) {
            last = super::population::typo(&last, rng);
        }
        let email = c.email.clone().filter(|_| rng.random_bool(0.85)).unwrap_or_default();
        let landline = c
            .family_phone
            .as_ref()
            .or(c.work_phone.as_ref())
            .filter(|_| rng.random_bool(0.6));
        let phone = landline.map(|p| p.written(rng.random_range(0..6))).unwrap_or_default();
        let mobile = if (email.is_empty() && phone.is_empty()) || rng.random_bool(0.75) {
            c.mobile.written(rng.random_range(0..6))
        } else {
            String::new()
        };
        // The importer keys a contact on its first valid phone, else its email.
        let identity = if let Some(p) = landline.filter(|_| !phone.is_empty()) {
            format!("phone:{}", p.e164())
        } else if !mobile.is_empty() {
            format!("phone:{}", c.mobile.e164())
        } else {
            format!("email:{}", email.to_lowercase())
        };
        let id = (200_000 + c.index).to_string();
        self.w
            .write_record([id.as_str(), &first, &last, &email, &phone, &mobile, c.company])?;
        self.line += 1;
        self.rows += 1;
        Ok(Some(ContactRow {
            file: CONTACTS,
            source_ref: format!("line:{}", self.line),
            identity,
        }))
    }

    /// Flushes and stamps the file with the export time (the records' `ts`).
    pub fn finish(self) -> anyhow::Result<u64> {
        let out = self.w.into_inner().map_err(|e| anyhow::anyhow!("{}", e.error()))?;
        let bytes = out.finish()?;
        let f = std::fs::OpenOptions::new().write(true).open(&self.path)?;
        f.set_modified(std::time::UNIX_EPOCH + std::time::Duration::from_millis(CONTACTS_MTIME_MS as u64))?;
        Ok(bytes)
    }
}
