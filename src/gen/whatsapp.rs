//! WhatsApp chat exports: one `WhatsApp Chat with NAME.txt` per customer, in the Android or
//! iOS layout of the exporting phone's locale (formats.md §1).

use super::population::Customer;
use super::{Body, Event, Out, BUSINESS_NAME, TZ};
use crate::model::{Channel, Direction};
use chrono::TimeZone;
use std::path::{Path, PathBuf};

/// One export layout: how the header of a line is written.
pub struct Layout {
    pub name: &'static str,
    pub ios: bool,
    /// chrono format of the timestamp inside the header.
    pub stamp: &'static str,
    pub seconds: bool,
    /// dd/mm and mm/dd cannot be told apart without a day above 12.
    pub ambiguous_order: bool,
}

pub const LAYOUTS: &[Layout] = &[
    Layout {
        name: "android-en-gb-24h",
        ios: false,
        stamp: "%d/%m/%Y, %H:%M",
        seconds: false,
        ambiguous_order: true,
    },
    Layout {
        name: "android-en-us-12h",
        ios: false,
        stamp: "%-m/%-d/%y, %-I:%M\u{202F}%p",
        seconds: false,
        ambiguous_order: true,
    },
    Layout {
        name: "android-de-24h",
        ios: false,
        stamp: "%d.%m.%y, %H:%M",
        seconds: false,
        ambiguous_order: true,
    },
    Layout {
        name: "android-iso-24h",
        ios: false,
        stamp: "%Y-%m-%d, %H:%M",
        seconds: false,
        ambiguous_order: true,
    },
    Layout {
        name: "ios-en-gb-24h",
        ios: true,
        stamp: "%d/%m/%Y, %H:%M:%S",
        seconds: true,
        ambiguous_order: true,
    },
    Layout {
        name: "ios-en-gb-12h",
        ios: true,
        stamp: "%d/%m/%Y, %-I:%M:%S\u{202F}%P",
        seconds: true,
        ambiguous_order: true,
    },
    Layout {
        name: "ios-en-us-12h",
        ios: true,
        stamp: "%-m/%-d/%y, %-I:%M:%S\u{202F}%p",
        seconds: true,
        ambiguous_order: true,
    },
    Layout {
        name: "ios-de-24h",
        ios: true,
        stamp: "%d.%m.%y, %H:%M:%S",
        seconds: true,
        ambiguous_order: true,
    },
];

const ENCRYPTION: &str = "Messages and calls are end-to-end encrypted. No one outside of this chat, not even WhatsApp, can read or listen to them. Tap to learn more.";
const IOS_MEDIA: &[&str] = &["image omitted", "video omitted", "audio omitted"];

/// Writes chat files under `whatsapp/NNNN/` (1000 customers per folder).
pub struct ChatWriter {
    root: PathBuf,
    pub chats: u64,
    pub messages: u64,
    pub bytes: u64,
}

impl ChatWriter {
    pub fn new(root: &Path) -> ChatWriter {
        ChatWriter {
            root: root.to_path_buf(),
            chats: 0,
            messages: 0,
            bytes: 0,
        }
    }

    /// Writes the customer's chat (if they used WhatsApp), filling `file`/`source_ref` of its
    /// events. Returns the chat's encryption notice, a system record.
    pub fn write_chat(&mut self, c: &Customer, events: &mut [Event]) -> anyhow::Result<Option<Event>> {
        let Some(contact) = &c.whatsapp else { return Ok(None) };
        let first = match events.iter().find(|e| e.channel == Channel::Whatsapp) {
            Some(e) => e.ts,
            None => return Ok(None),
        };
        let layout = &LAYOUTS[c.wa_layout];
        let shown = contact.shown();
        // iOS always shares a zip with `_chat.txt` inside; some iOS chats here were saved
        // unzipped (as a consultant receives them after someone opened the zip).
        let zipped = layout.ios && c.index % 5 < 3;
        let rel = if zipped {
            format!("whatsapp/{:04}/WhatsApp Chat - {shown}.zip", c.index / 1000)
        } else {
            format!("whatsapp/{:04}/WhatsApp Chat with {shown}.txt", c.index / 1000)
        };
        let mut text = String::with_capacity(4096);
        let mut line = 1u64;
        let stamp = |ts: i64| TZ.timestamp_millis_opt(ts).unwrap().format(layout.stamp).to_string();
        // The encryption notice opens every chat.
        if layout.ios {
            text.push_str(&format!("[{}] {shown}: \u{200E}{ENCRYPTION}\n", stamp(first)));
        } else {
            text.push_str(&format!("{} - {ENCRYPTION}\n", stamp(first)));
        }
        let mut sys = Event::wa(first, Direction::System, ENCRYPTION, 0);
        sys.customer = false;
        sys.file = rel.clone();
        sys.source_ref = "line:1".into();
        line += 1;
        for (i, e) in events
            .iter_mut()
            .enumerate()
            .filter(|(_, e)| e.channel == Channel::Whatsapp)
        {
            let Body::Wa { text: body } = &e.body else { continue };
            let author = if e.dir == Direction::Outbound {
                BUSINESS_NAME
            } else {
                shown
            };
            let media = body == "<Media omitted>";
            let body = if media && layout.ios {
                format!("\u{200E}{}", IOS_MEDIA[i % IOS_MEDIA.len()])
            } else {
                body.clone()
            };
            if layout.ios {
                let mark = if media { "\u{200E}" } else { "" };
                text.push_str(&format!("{mark}[{}] {author}: {body}\n", stamp(e.ts)));
            } else {
                text.push_str(&format!("{} - {author}: {body}\n", stamp(e.ts)));
            }
            e.file = rel.clone();
            e.source_ref = format!("line:{line}");
            line += 1 + body.matches('\n').count() as u64;
            self.messages += 1;
        }
        let mut out = Out::create(&self.root, &rel)?;
        if zipped {
            let exported = TZ.timestamp_millis_opt(events.last().map_or(first, |e| e.ts)).unwrap();
            use chrono::{Datelike, Timelike};
            let when = zip::DateTime::from_date_and_time(
                exported.year() as u16,
                exported.month() as u8,
                exported.day() as u8,
                exported.hour() as u8,
                exported.minute() as u8,
                0,
            )
            .unwrap_or_default();
            let options = zip::write::SimpleFileOptions::default()
                .compression_method(zip::CompressionMethod::Deflated)
                .last_modified_time(when);
            let mut z = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
            z.start_file("_chat.txt", options)?;
            std::io::Write::write_all(&mut z, text.as_bytes())?;
            let bytes = z.finish()?.into_inner();
            std::io::Write::write_all(&mut out, &bytes)?;
        } else {
            out.write_str(&text)?;
        }
        self.bytes += out.finish()?;
        self.chats += 1;
        self.messages += 1;
        Ok(Some(sys))
    }
}
