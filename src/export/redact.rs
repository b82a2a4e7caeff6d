//! `--redact`: pseudonyms from a keyed hash (BLAKE3 keyed mode), so the same phone, email,
//! name or text becomes the same pseudonym in every file of an export — joins still work —
//! while nobody without the key can recompute the mapping from a guessed value.

use super::input::Customer;
use crate::model::Interaction;
use anyhow::{Context, Result};
use std::path::Path;

/// File in the workspace holding the generated key (64 hex digits), created once, mode 0600.
pub const KEY_FILE: &str = "redact.key";

/// Context string for deriving a key from a `--redact-key` passphrase.
const PASSPHRASE_CONTEXT: &str = "omnitrail 2026-11 export redaction key v1";

/// Turns personal values into stable pseudonyms.
#[derive(Clone)]
pub struct Redactor {
    key: [u8; 32],
}

impl std::fmt::Debug for Redactor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print the key.
        f.write_str("Redactor(..)")
    }
}

impl Redactor {
    /// A redactor keyed by a user-supplied passphrase (`--redact-key`).
    pub fn from_passphrase(passphrase: &str) -> Redactor {
        Redactor {
            key: blake3::derive_key(PASSPHRASE_CONTEXT, passphrase.as_bytes()),
        }
    }

    /// The workspace's own key: read from `redact.key`, or generated and stored there on first use.
    pub fn workspace_key(root: &Path) -> Result<Redactor> {
        let path = root.join(KEY_FILE);
        if path.exists() {
            let text = std::fs::read_to_string(&path).with_context(|| format!("cannot read {}", path.display()))?;
            let mut key = [0u8; 32];
            let hex = text.trim();
            if hex.len() != 64 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
                anyhow::bail!(
                    "{} is not a redaction key (expected 64 hex digits); remove it to generate a new one",
                    path.display()
                );
            }
            for (i, byte) in key.iter_mut().enumerate() {
                *byte = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16)?;
            }
            return Ok(Redactor { key });
        }
        let key = fresh_key().context("cannot read random bytes for a redaction key; pass --redact-key")?;
        let hex: String = key.iter().map(|b| format!("{b:02x}")).collect();
        write_private(&path, format!("{hex}\n").as_bytes())?;
        Ok(Redactor { key })
    }

    fn digest(&self, domain: &str, value: &str) -> blake3::Hash {
        let mut h = blake3::Hasher::new_keyed(&self.key);
        h.update(domain.as_bytes());
        h.update(&[0]);
        h.update(value.as_bytes());
        h.finalize()
    }

    fn hex(&self, domain: &str, value: &str, chars: usize) -> String {
        self.digest(domain, value).to_hex()[..chars].to_string()
    }

    /// `+999` and 11 digits: E.164-shaped (so phone fields still validate as text) but in a
    /// country code ITU has never assigned, so it can never dial a real person.
    pub fn phone(&self, e164: &str) -> String {
        let bytes = self.digest("phone", e164);
        let n = u64::from_le_bytes(bytes.as_bytes()[..8].try_into().expect("8 bytes")) % 100_000_000_000;
        format!("+999{n:011}")
    }

    /// An address under the reserved `.invalid` top-level domain (RFC 2606): never deliverable.
    pub fn email(&self, address: &str) -> String {
        format!("u{}@redacted.invalid", self.hex("email", &address.to_lowercase(), 16))
    }

    /// `Person` and 10 hex digits, so CRMs that need a first and a last name get both.
    pub fn name(&self, name: &str) -> String {
        format!("Person {}", self.hex("name", name, 10))
    }

    /// Free text (messages, subjects, bodies, evidence): replaced whole, since names and
    /// addresses inside prose cannot all be found; equal texts stay equal.
    pub fn text(&self, text: &str) -> String {
        format!("[redacted text {}]", self.hex("text", text, 16))
    }

    /// A short opaque token for other identifying values (file names, order numbers, ids).
    pub fn token(&self, domain: &str, value: &str) -> String {
        format!("{domain}-{}", self.hex(domain, value, 12))
    }

    /// A customer handle of a known kind (`phone`, `email`, `name`).
    pub fn handle(&self, kind: &str, value: &str) -> String {
        match kind {
            "phone" => self.phone(value),
            "email" => self.email(value),
            _ => self.name(value),
        }
    }

    /// A value whose kind is not recorded (agent, author): an address, a number or a name.
    pub fn person(&self, value: &str) -> String {
        if value.contains('@') {
            self.email(value)
        } else if value.starts_with('+') && value[1..].bytes().all(|b| b.is_ascii_digit()) {
            self.phone(value)
        } else {
            self.name(value)
        }
    }

    /// A `kind:value` mention: phones and emails map exactly as identities do, so a mention
    /// still joins to the identity it names; every other kind becomes a token.
    pub fn mention(&self, mention: &str) -> String {
        match mention.split_once(':') {
            Some(("phone", v)) => format!("phone:{}", self.phone(v)),
            Some(("email", v)) => format!("email:{}", self.email(v)),
            Some((kind, v)) => format!("{kind}:{}", self.token(kind, v)),
            None => self.token("mention", mention),
        }
    }

    /// An identity id as [`crate::identity::identity_id`] would build it from the redacted handle.
    pub fn identity_id(&self, id: &str) -> String {
        match id.split_once(':') {
            Some(("phone", v)) => format!("phone:{}", self.phone(v)),
            Some(("email", v)) => format!("email:{}", self.email(v)),
            Some(("name", rest)) => match rest.split_once(':') {
                Some((channel, name)) => format!("name:{channel}:{}", self.name(name)),
                None => format!("name:{}", self.name(rest)),
            },
            _ => self.token("identity", id),
        }
    }

    /// Where in a file: positions (`line:12`) carry nothing personal; Message-IDs and call
    /// ids may (addresses, numbers), so they become tokens.
    pub fn source_ref(&self, source_ref: &str) -> String {
        let positional = source_ref.split_once(':').is_some_and(|(k, n)| {
            matches!(k, "line" | "card" | "call" | "offset") && n.bytes().all(|b| b.is_ascii_digit())
        });
        if positional {
            source_ref.to_string()
        } else {
            self.token("ref", source_ref)
        }
    }

    /// `channel:rest` keys keep their channel prefix.
    pub fn thread_key(&self, key: &str) -> String {
        match key.split_once(':') {
            Some((prefix, rest)) => format!("{prefix}:{}", self.token("thread", rest)),
            None => self.token("thread", key),
        }
    }

    /// Redacts every personal field of an interaction in place; ids, times and kinds stay.
    pub fn interaction(&self, r: &mut Interaction) {
        r.source_file = self.token("file", &r.source_file);
        r.source_ref = self.source_ref(&r.source_ref);
        r.thread_key = self.thread_key(&r.thread_key);
        if let (Some(h), Some(k)) = (&r.customer_handle, r.customer_handle_kind) {
            r.customer_handle = Some(self.handle(k.as_str(), h));
        }
        map_opt(&mut r.customer_name, |v| self.name(v));
        map_opt(&mut r.agent, |v| self.person(v));
        map_opt(&mut r.text, |v| self.text(v));
        map_opt(&mut r.body_full, |v| self.text(v));
        map_opt(&mut r.subject, |v| self.text(v));
        map_opt(&mut r.author_raw, |v| self.person(v));
        map_opt(&mut r.thread_title, |v| self.person(v));
        for a in &mut r.attachments {
            *a = self.token("attachment", a);
        }
        for m in &mut r.mentions {
            *m = self.mention(m);
        }
    }

    /// Redacts a customer's names, numbers and addresses in place.
    pub fn customer(&self, c: &mut Customer) {
        map_opt(&mut c.display_name, |v| self.name(v));
        map_opt(&mut c.primary_phone, |v| self.phone(v));
        map_opt(&mut c.primary_email, |v| self.email(v));
        for p in &mut c.phones {
            *p = self.phone(p);
        }
        for e in &mut c.emails {
            *e = self.email(e);
        }
    }
}

fn map_opt(field: &mut Option<String>, f: impl Fn(&str) -> String) {
    if let Some(v) = field.as_deref() {
        *field = Some(f(v));
    }
}

/// 32 random bytes from the operating system.
fn fresh_key() -> std::io::Result<[u8; 32]> {
    use std::io::Read;
    let mut key = [0u8; 32];
    std::fs::File::open("/dev/urandom")?.read_exact(&mut key)?;
    Ok(key)
}

/// Creates a file only its owner can read (the key must not leak to other local users).
fn write_private(path: &Path, bytes: &[u8]) -> Result<()> {
    use std::io::Write;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts
        .open(path)
        .with_context(|| format!("cannot create {}", path.display()))?;
    f.write_all(bytes)?;
    f.sync_all()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::identity::identity_id;
    use crate::model::{Channel, HandleKind};

    #[test]
    fn the_same_value_gets_the_same_pseudonym_and_another_key_another_one() {
        let a = Redactor::from_passphrase("k1");
        let b = Redactor::from_passphrase("k2");
        assert_eq!(a.phone("+447700900123"), a.phone("+447700900123"));
        assert_ne!(a.phone("+447700900123"), a.phone("+447700900124"));
        assert_ne!(a.phone("+447700900123"), b.phone("+447700900123"));
        assert!(a.phone("+447700900123").starts_with("+999"));
        assert_eq!(a.phone("+447700900123").len(), 15);
        assert!(a.email("Ann@Example.com").ends_with("@redacted.invalid"));
        assert_eq!(a.email("Ann@Example.com"), a.email("ann@example.com"));
    }

    #[test]
    fn redacted_identity_ids_are_the_ids_of_the_redacted_handles() {
        let r = Redactor::from_passphrase("k");
        let id = identity_id(HandleKind::Name, "Sarah Jones", Channel::Whatsapp);
        assert_eq!(
            r.identity_id(&id),
            identity_id(HandleKind::Name, &r.name("Sarah Jones"), Channel::Whatsapp)
        );
        let id = identity_id(HandleKind::Phone, "+447700900123", Channel::Call);
        assert_eq!(r.identity_id(&id), format!("phone:{}", r.phone("+447700900123")));
        assert_eq!(r.mention("phone:+447700900123"), r.identity_id(&id));
    }

    #[test]
    fn positions_stay_and_message_ids_do_not() {
        let r = Redactor::from_passphrase("k");
        assert_eq!(r.source_ref("line:12"), "line:12");
        assert!(!r.source_ref("abc@mail.example").contains("mail.example"));
        assert!(r.thread_key("whatsapp:Sarah Jones").starts_with("whatsapp:thread-"));
    }

    #[test]
    fn the_workspace_key_is_created_once_and_reused() {
        let dir = tempfile::tempdir().unwrap();
        let a = Redactor::workspace_key(dir.path()).unwrap();
        let b = Redactor::workspace_key(dir.path()).unwrap();
        assert_eq!(a.name("Ann"), b.name("Ann"));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join(KEY_FILE))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o077, 0);
        }
        assert_eq!(format!("{a:?}"), "Redactor(..)");
    }
}
