//! Which CSV column holds what: detected from common header names in several languages
//! (CRM exports, Google Contacts, Outlook, HubSpot, Salesforce), or given with
//! `--contacts-map name=Full Name,email=E-mail,phone=Mobile,company=Org,id=CRM ID`.

use std::fmt;

/// What a contacts column holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Role {
    /// Full display name.
    Name,
    First,
    Middle,
    Last,
    Email,
    Phone,
    Company,
    /// The record's id in the CRM or address book.
    Id,
}

impl Role {
    fn key(self) -> &'static str {
        match self {
            Role::Name => "name",
            Role::First => "first",
            Role::Middle => "middle",
            Role::Last => "last",
            Role::Email => "email",
            Role::Phone => "phone",
            Role::Company => "company",
            Role::Id => "id",
        }
    }

    fn parse_key(key: &str) -> Option<Role> {
        Some(
            match key.trim().to_ascii_lowercase().replace(['-', ' '], "_").as_str() {
                "name" | "full_name" => Role::Name,
                "first" | "first_name" | "given" => Role::First,
                "middle" | "middle_name" => Role::Middle,
                "last" | "last_name" | "family" | "surname" => Role::Last,
                "email" | "e_mail" | "mail" => Role::Email,
                "phone" | "tel" | "mobile" => Role::Phone,
                "company" | "org" | "organization" => Role::Company,
                "id" | "extid" | "external_id" => Role::Id,
                _ => return None,
            },
        )
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.key())
    }
}

/// The user's `--contacts-map`: roles for named columns (keys may repeat).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ColumnMap(pub Vec<(Role, String)>);

impl ColumnMap {
    /// Parses `name=Full Name,email=E-mail,email=Work Email,phone=Mobile,company=Org,id=CRM ID`.
    pub fn parse(spec: &str) -> Result<ColumnMap, String> {
        let mut out = Vec::new();
        for part in spec.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let Some((key, column)) = part.split_once('=') else {
                return Err(format!(
                    "--contacts-map: expected KEY=COLUMN, found {part:?} (keys: name, first, middle, last, email, phone, company, id)"
                ));
            };
            let role = Role::parse_key(key).ok_or_else(|| {
                format!(
                    "--contacts-map: unknown key {key:?} (keys: name, first, middle, last, email, phone, company, id)"
                )
            })?;
            let column = column.trim();
            if column.is_empty() {
                return Err(format!("--contacts-map: no column name after {key}="));
            }
            out.push((role, column.to_string()));
        }
        if !out
            .iter()
            .any(|(r, _)| matches!(r, Role::Name | Role::First | Role::Last | Role::Email | Role::Phone))
        {
            return Err("--contacts-map: map at least one of name, first, last, email or phone".into());
        }
        Ok(ColumnMap(out))
    }
}

/// Column roles of one file: `(column index, role)`, in column order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Columns {
    pub roles: Vec<(usize, Role)>,
}

impl Columns {
    pub fn has(&self, role: Role) -> bool {
        self.roles.iter().any(|(_, r)| *r == role)
    }

    /// True when the columns can identify someone: a name, an email or a phone.
    pub fn identifies(&self) -> bool {
        self.roles
            .iter()
            .any(|(_, r)| matches!(r, Role::Name | Role::First | Role::Last | Role::Email | Role::Phone))
    }

    /// `name ← "Full Name", email ← "E-mail 1 - Value"`, for the import notes.
    pub fn describe(&self, header: &[String]) -> String {
        self.roles
            .iter()
            .map(|(i, r)| format!("{r} ← {:?}", header.get(*i).map(String::as_str).unwrap_or("")))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// Roles from the user's map; names a missing column.
    pub fn from_map(map: &ColumnMap, header: &[String]) -> Result<Columns, String> {
        let mut roles = Vec::new();
        for (role, wanted) in &map.0 {
            let found = header
                .iter()
                .position(|h| h.trim() == wanted)
                .or_else(|| header.iter().position(|h| h.trim().eq_ignore_ascii_case(wanted)));
            match found {
                Some(i) => roles.push((i, *role)),
                None => {
                    return Err(format!(
                    "column {wanted:?} named in --contacts-map ({role}={wanted}) is not in the header (columns: {})",
                    header.iter().map(|h| format!("{h:?}")).collect::<Vec<_>>().join(", ")
                ))
                }
            }
        }
        roles.sort();
        Ok(Columns { roles })
    }

    /// Roles detected from header names.
    pub fn detect(header: &[String]) -> Columns {
        let guesses: Vec<Option<Guess>> = header.iter().map(|h| guess(&normalise(h))).collect();
        let has = |g: Guess| guesses.contains(&Some(g));
        let has_first = has(Guess::Is(Role::First)) || has(Guess::FirstOrFull);
        let mut roles = Vec::new();
        for (i, g) in guesses.iter().enumerate() {
            let role = match g {
                None => continue,
                Some(Guess::Is(r)) => *r,
                // "Nome"/"Nombre" is the first name when a surname column exists, else the full name.
                Some(Guess::FirstOrFull) if has(Guess::Is(Role::Last)) || has(Guess::LastOrFull) => Role::First,
                Some(Guess::FirstOrFull) => Role::Name,
                // "Nom"/"Name" is the surname next to "Prénom"/"Vorname" without a surname column.
                Some(Guess::LastOrFull) if has_first && !has(Guess::Is(Role::Last)) => Role::Last,
                Some(Guess::LastOrFull) => Role::Name,
            };
            // One column per single-valued role; emails and phones may be many.
            let single = !matches!(role, Role::Email | Role::Phone);
            if single && roles.iter().any(|(_, r)| *r == role) {
                continue;
            }
            roles.push((i, role));
        }
        Columns { roles }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Guess {
    Is(Role),
    FirstOrFull,
    LastOrFull,
}

/// Lower case, accents removed, hyphens dropped (`E-Mail-Adresse` → `emailadresse`), other
/// punctuation as spaces, spaces collapsed.
pub fn normalise(header: &str) -> String {
    use unicode_normalization::char::is_combining_mark;
    use unicode_normalization::UnicodeNormalization;
    let mut out = String::with_capacity(header.len());
    let mut space = true;
    let mut after_lower = false;
    for c in header.trim().trim_start_matches('\u{FEFF}').nfd() {
        if is_combining_mark(c) || c == '-' || crate::normalize::text::is_invisible(c) {
            continue;
        }
        if c.is_alphanumeric() {
            // camelCase API names (Salesforce `MobilePhone`, `HasOptedOutOfEmail`) become words.
            if after_lower && c.is_uppercase() {
                out.push(' ');
            }
            after_lower = c.is_lowercase();
            out.extend(c.to_lowercase());
            space = false;
        } else {
            after_lower = false;
            if !space {
                out.push(' ');
                space = true;
            }
        }
    }
    out.truncate(out.trim_end().len());
    out
}

/// Words that make a column something else even when it also says "email", "phone" or "name"
/// (HubSpot's "Contact owner", Google's "E-mail 1 - Label", Outlook's "Business Fax",
/// Salesforce's "Email Opt Out", "Company Domain Name", "Organization Title", …).
const NOT_CONTACT_DATA: &[&str] = &[
    "owner",
    "opt",
    "optout",
    "opted",
    "unsubscribed",
    "unsubscribe",
    "bounce",
    "bounced",
    "domain",
    "label",
    "type",
    "fax",
    "telefax",
    "pager",
    "date",
    "created",
    "modified",
    "updated",
    "status",
    "lifecycle",
    "score",
    "website",
    "url",
    "marketing",
    "consent",
    "subscription",
    "verified",
    "valid",
    "title",
    "department",
    "abteilung",
    "position",
    "job",
    "role",
    "prefix",
    "suffix",
    "phonetic",
    "yomi",
    "nickname",
    "salutation",
    "anrede",
    "count",
    "notes",
    "note",
    "source",
    "campaign",
    "lead",
    "deal",
    "ticket",
    "parent",
    "associated",
    "country",
    "code",
    "ext",
    "extension",
    "language",
    "timezone",
    "format",
    "assistant",
    "manager",
    "spouse",
    "referred",
    "partner",
    "user",
    "username",
    "login",
    "password",
    "template",
];

const FULL_NAMES: &[&str] = &[
    "full name",
    "fullname",
    "display name",
    "displayname",
    "contact name",
    "contact",
    "contact full name",
    "customer name",
    "client name",
    "kundenname",
    "anzeigename",
    "vollstandiger name",
    "nom complet",
    "nom et prenom",
    "nom prenom",
    "nombre completo",
    "nombre y apellidos",
    "nome completo",
    "nome e cognome",
    "volledige naam",
    "naam",
    "weergavenaam",
    "person",
    "full",
];
const FIRST_NAMES: &[&str] = &[
    "first name",
    "firstname",
    "first",
    "given name",
    "givenname",
    "given",
    "forename",
    "vorname",
    "prenom",
    "primer nombre",
    "nombre de pila",
    "primeiro nome",
    "voornaam",
    "fname",
];
const MIDDLE_NAMES: &[&str] = &[
    "middle name",
    "middlename",
    "middle",
    "additional name",
    "zweiter vorname",
    "deuxieme prenom",
    "segundo nombre",
    "nome do meio",
    "secondo nome",
    "tussenvoegsel",
];
const LAST_NAMES: &[&str] = &[
    "last name",
    "lastname",
    "last",
    "surname",
    "family name",
    "familyname",
    "nachname",
    "familienname",
    "nom de famille",
    "apellido",
    "apellidos",
    "sobrenome",
    "apelido",
    "cognome",
    "achternaam",
    "lname",
];
const FIRST_OR_FULL: &[&str] = &["nome", "nombre", "nom d usage"];
const LAST_OR_FULL: &[&str] = &["name", "nom"];
const COMPANIES: &[&str] = &[
    "company",
    "company name",
    "organization",
    "organisation",
    "organization name",
    "organisation name",
    "organization 1 name",
    "org",
    "account name",
    "account",
    "firma",
    "firmenname",
    "unternehmen",
    "societe",
    "entreprise",
    "empresa",
    "compania",
    "nombre de la empresa",
    "azienda",
    "societa",
    "bedrijf",
    "bedrijfsnaam",
    "organizacion",
    "organizacao",
    "ditta",
];
const IDS: &[&str] = &[
    "id",
    "record id",
    "contact id",
    "crm id",
    "external id",
    "externalid",
    "customer id",
    "client id",
    "uid",
    "customer number",
    "client number",
    "customer no",
    "kundennummer",
    "kunden id",
    "kundennr",
    "numero client",
    "numero de client",
    "identifiant",
    "id client",
    "numero de cliente",
    "id cliente",
    "codigo cliente",
    "codice cliente",
    "klantnummer",
    "klant id",
    "contact record id",
    "person id",
    "guid",
    "vcard uid",
];

fn guess(h: &str) -> Option<Guess> {
    if h.is_empty() {
        return None;
    }
    let words: Vec<&str> = h.split(' ').collect();
    if words.iter().any(|w| NOT_CONTACT_DATA.contains(w)) {
        return None;
    }
    let is_email = h.contains("email")
        || h.contains("courriel")
        || h.contains("correo")
        || h.contains("posta elettronica")
        || h.contains("messagerie")
        || words.contains(&"mail");
    if is_email {
        return Some(Guess::Is(Role::Email));
    }
    let is_phone = h.contains("phone")
        || words.iter().any(|w| {
            w.starts_with("telef")
                || w.starts_with("teleph")
                || w.starts_with("telf")
                || *w == "tel"
                || w.starts_with("mobil")
                || w.starts_with("cell")
                || w.starts_with("celu")
                || *w == "movil"
                || *w == "portable"
                || *w == "handy"
                || *w == "gsm"
                || *w == "whatsapp"
                || *w == "rufnummer"
                || *w == "telefoonnummer"
                || *w == "mobiel"
        });
    if is_phone {
        return Some(Guess::Is(Role::Phone));
    }
    let in_list = |list: &[&str]| list.contains(&h);
    if in_list(COMPANIES) {
        return Some(Guess::Is(Role::Company));
    }
    if in_list(IDS) {
        return Some(Guess::Is(Role::Id));
    }
    if in_list(FULL_NAMES) {
        return Some(Guess::Is(Role::Name));
    }
    if in_list(FIRST_NAMES) {
        return Some(Guess::Is(Role::First));
    }
    if in_list(MIDDLE_NAMES) {
        return Some(Guess::Is(Role::Middle));
    }
    if in_list(LAST_NAMES) {
        return Some(Guess::Is(Role::Last));
    }
    if in_list(FIRST_OR_FULL) {
        return Some(Guess::FirstOrFull);
    }
    if in_list(LAST_OR_FULL) {
        return Some(Guess::LastOrFull);
    }
    None
}

/// Header words of call logs (CDRs, Twilio, phone call histories): a CSV with any of these
/// is a call log even when it has a phone or name column.
const CALL_LOG_WORDS: &[&str] = &[
    "duration",
    "billsec",
    "disposition",
    "uniqueid",
    "linkedid",
    "dstchannel",
    "lastapp",
    "lastdata",
    "callsid",
    "sid",
    "dauer",
    "gesprachsdauer",
    "duree",
    "duracion",
    "duracao",
    "durata",
    "duur",
    "seconds",
    "secs",
    "answered",
    "answer",
    "caller",
    "callee",
    "dialed",
    "dialled",
    "direction",
    "ringtime",
    "talktime",
    "calldate",
];

/// True when a header row belongs to a call log rather than a contacts export.
pub fn is_call_log_header(header: &[String]) -> bool {
    header.iter().any(|h| {
        let n = normalise(h);
        n.split(' ')
            .any(|w| CALL_LOG_WORDS.contains(&w) || w.starts_with("call") || w.starts_with("anruf"))
            || n == "start"
            || n == "end"
            || n.starts_with("start time")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn detect(header: &[&str]) -> Vec<(String, Role)> {
        let header: Vec<String> = header.iter().map(|s| s.to_string()).collect();
        Columns::detect(&header)
            .roles
            .into_iter()
            .map(|(i, r)| (header[i].clone(), r))
            .collect()
    }

    fn roles(header: &[&str]) -> Vec<Role> {
        detect(header).into_iter().map(|(_, r)| r).collect()
    }

    #[test]
    fn english_crm_exports() {
        // HubSpot
        assert_eq!(
            detect(&[
                "Record ID",
                "First Name",
                "Last Name",
                "Email",
                "Phone Number",
                "Mobile Phone Number",
                "Company Name",
                "Contact owner",
                "Lead Status",
                "Create Date",
                "Email Domain",
            ]),
            vec![
                ("Record ID".into(), Role::Id),
                ("First Name".into(), Role::First),
                ("Last Name".into(), Role::Last),
                ("Email".into(), Role::Email),
                ("Phone Number".into(), Role::Phone),
                ("Mobile Phone Number".into(), Role::Phone),
                ("Company Name".into(), Role::Company),
            ]
        );
        // Salesforce
        assert_eq!(
            roles(&[
                "Contact ID",
                "Account ID",
                "Salutation",
                "First Name",
                "Last Name",
                "Title",
                "Account Name",
                "Phone",
                "Mobile",
                "Fax",
                "Email",
                "Email Opt Out"
            ]),
            vec![
                Role::Id,
                Role::First,
                Role::Last,
                Role::Company,
                Role::Phone,
                Role::Phone,
                Role::Email
            ]
        );
        // Google Contacts (current layout)
        assert_eq!(
            roles(&[
                "First Name",
                "Middle Name",
                "Last Name",
                "Phonetic First Name",
                "Nickname",
                "Organization Name",
                "Organization Title",
                "E-mail 1 - Label",
                "E-mail 1 - Value",
                "Phone 1 - Label",
                "Phone 1 - Value",
                "Phone 2 - Label",
                "Phone 2 - Value",
            ]),
            vec![
                Role::First,
                Role::Middle,
                Role::Last,
                Role::Company,
                Role::Email,
                Role::Phone,
                Role::Phone
            ]
        );
        // Google Contacts (older layout): Name beside Given/Family Name is the full name.
        assert_eq!(
            roles(&[
                "Name",
                "Given Name",
                "Additional Name",
                "Family Name",
                "E-mail 1 - Type",
                "E-mail 1 - Value",
                "Phone 1 - Type",
                "Phone 1 - Value",
                "Organization 1 - Name"
            ]),
            vec![
                Role::Name,
                Role::First,
                Role::Middle,
                Role::Last,
                Role::Email,
                Role::Phone,
                Role::Company
            ]
        );
        // Outlook
        assert_eq!(
            roles(&[
                "First Name",
                "Middle Name",
                "Last Name",
                "Company",
                "E-mail Address",
                "E-mail 2 Address",
                "Business Phone",
                "Home Phone",
                "Mobile Phone",
                "Business Fax",
                "Pager"
            ]),
            vec![
                Role::First,
                Role::Middle,
                Role::Last,
                Role::Company,
                Role::Email,
                Role::Email,
                Role::Phone,
                Role::Phone,
                Role::Phone
            ]
        );
    }

    #[test]
    fn other_languages() {
        // German Outlook
        assert_eq!(
            roles(&[
                "Vorname",
                "Nachname",
                "Firma",
                "E-Mail-Adresse",
                "E-Mail 2: Adresse",
                "Telefon geschäftlich",
                "Mobiltelefon",
                "Fax geschäftlich"
            ]),
            vec![
                Role::First,
                Role::Last,
                Role::Company,
                Role::Email,
                Role::Email,
                Role::Phone,
                Role::Phone
            ]
        );
        // German form: Vorname + Name (the surname)
        assert_eq!(
            roles(&["Vorname", "Name", "Handy"]),
            vec![Role::First, Role::Last, Role::Phone]
        );
        // French: Prénom + Nom; a lone Nom is the full name
        assert_eq!(
            roles(&[
                "Prénom",
                "Nom",
                "Adresse de messagerie",
                "Téléphone",
                "Tél. mobile",
                "Société"
            ]),
            vec![
                Role::First,
                Role::Last,
                Role::Email,
                Role::Phone,
                Role::Phone,
                Role::Company
            ]
        );
        assert_eq!(
            roles(&["Nom", "Courriel", "Portable"]),
            vec![Role::Name, Role::Email, Role::Phone]
        );
        // Spanish
        assert_eq!(
            roles(&[
                "Nombre",
                "Apellidos",
                "Dirección de correo electrónico",
                "Teléfono móvil",
                "Compañía"
            ]),
            vec![Role::First, Role::Last, Role::Email, Role::Phone, Role::Company]
        );
        assert_eq!(
            roles(&["Nombre", "Correo", "Teléfono"]),
            vec![Role::Name, Role::Email, Role::Phone]
        );
        // Portuguese: Nome alone is the full name; with Sobrenome it is the first name
        assert_eq!(
            roles(&["Nome", "E-mail", "Celular", "Empresa"]),
            vec![Role::Name, Role::Email, Role::Phone, Role::Company]
        );
        assert_eq!(
            roles(&["Nome", "Sobrenome", "Telefone"]),
            vec![Role::First, Role::Last, Role::Phone]
        );
        // Italian
        assert_eq!(
            roles(&["Nome", "Cognome", "Indirizzo posta elettronica", "Cellulare", "Società"]),
            vec![Role::First, Role::Last, Role::Email, Role::Phone, Role::Company]
        );
        // Dutch
        assert_eq!(
            roles(&[
                "Voornaam",
                "Tussenvoegsel",
                "Achternaam",
                "E-mailadres",
                "Mobiel",
                "Telefoon op werk",
                "Bedrijf"
            ]),
            vec![
                Role::First,
                Role::Middle,
                Role::Last,
                Role::Email,
                Role::Phone,
                Role::Phone,
                Role::Company
            ]
        );
        assert_eq!(roles(&["Naam", "Telefoonnummer"]), vec![Role::Name, Role::Phone]);
    }

    #[test]
    fn call_logs_are_not_contacts() {
        let h = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert!(is_call_log_header(&h(&["Date", "Name", "Phone Number", "Duration"])));
        assert!(is_call_log_header(&h(&["Call Sid", "From", "To", "Status"])));
        assert!(is_call_log_header(&h(&[
            "calldate",
            "clid",
            "src",
            "dst",
            "billsec",
            "disposition"
        ])));
        assert!(is_call_log_header(&h(&[
            "Start",
            "Caller",
            "Callee",
            "Seconds",
            "Result",
            "Extension"
        ])));
        assert!(!is_call_log_header(&h(&[
            "First Name",
            "Last Name",
            "Email",
            "Phone",
            "Lead Status"
        ])));
    }

    #[test]
    fn the_user_map_wins_and_names_missing_columns() {
        let map =
            ColumnMap::parse("name=Full Name, email=Work, email=Home,phone=Mobile,company=Org,id=CRM ID").unwrap();
        assert_eq!(map.0.len(), 6);
        let header: Vec<String> = ["CRM ID", "Full Name", "Work", "Home", "Mobile", "Org"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let cols = Columns::from_map(&map, &header).unwrap();
        assert_eq!(
            cols.roles,
            vec![
                (0, Role::Id),
                (1, Role::Name),
                (2, Role::Email),
                (3, Role::Email),
                (4, Role::Phone),
                (5, Role::Company)
            ]
        );
        let err = Columns::from_map(&ColumnMap::parse("phone=Cell").unwrap(), &header).unwrap_err();
        assert!(err.contains("\"Cell\"") && err.contains("\"Mobile\""), "{err}");
        assert!(ColumnMap::parse("colour=Red").is_err());
        assert!(ColumnMap::parse("company=Org").is_err());
        assert!(ColumnMap::parse("name").is_err());
    }
}
