//! Markdown: a heading per section and pipe tables.

use super::Section;

fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

/// Sections as a Markdown document.
pub fn sections(title: &str, sections: &[Section]) -> String {
    let mut out = format!("# {}\n\n", cell(title));
    for s in sections {
        out.push_str(&format!("## {}\n\n", cell(&s.title)));
        out.push_str(&format!(
            "| {} |\n",
            s.headers.iter().map(|h| cell(h)).collect::<Vec<_>>().join(" | ")
        ));
        out.push_str(&format!("|{}\n", "---|".repeat(s.headers.len())));
        for r in &s.rows {
            out.push_str(&format!(
                "| {} |\n",
                r.iter().map(|c| cell(c)).collect::<Vec<_>>().join(" | ")
            ));
        }
        out.push('\n');
        for n in &s.notes {
            out.push_str(&format!("{}\n\n", cell(n)));
        }
    }
    out.trim_end().to_string()
}
