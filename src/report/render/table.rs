//! Tables for people (comfy-table).

use super::Section;
use comfy_table::{presets::UTF8_FULL_CONDENSED, ContentArrangement, Table};

/// Sections as titled terminal tables.
pub fn sections(sections: &[Section]) -> String {
    let mut out = String::new();
    for s in sections {
        out.push_str(&s.title);
        out.push('\n');
        let mut t = Table::new();
        t.load_preset(UTF8_FULL_CONDENSED);
        t.set_content_arrangement(ContentArrangement::Dynamic);
        t.set_header(&s.headers);
        for r in &s.rows {
            t.add_row(r);
        }
        out.push_str(&t.to_string());
        out.push('\n');
        for n in &s.notes {
            out.push_str(n);
            out.push('\n');
        }
        out.push('\n');
    }
    out.trim_end().to_string()
}
