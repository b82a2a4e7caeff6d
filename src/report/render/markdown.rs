//! Markdown: a heading per section and pipe tables.

use super::Section;

fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

/// Sections as a Markdown document.
pub fn sections(title: &str, sections: &[Section]) -> String {
    let mut out = format!("# {}\n\n", cell(title));
    for (i, s) in sections.iter().enumerate() {
        if s.has_heading(title, i) {
            out.push_str(&format!("## {}\n\n", cell(&s.title)));
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn section(title: &str) -> Section {
        Section {
            title: title.into(),
            headers: vec!["a|b".into()],
            rows: vec![vec!["x\ny".into()]],
            notes: vec![],
        }
    }

    #[test]
    fn one_heading_per_title_and_cells_escaped() {
        let md = sections(
            "Channel switches: 4",
            &[section("Channel switches: 4"), section("Coverage")],
        );
        assert_eq!(md.matches("Channel switches: 4").count(), 1, "{md}");
        assert!(md.contains("## Coverage"));
        assert!(md.contains("| a\\|b |") && md.contains("| x y |"), "{md}");
    }
}
