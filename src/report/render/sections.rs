//! Reports as titled tables, shared by the table, Markdown and HTML renderers.

use crate::report::response::DelayStats;
use crate::report::rows::Rows;
use crate::report::settings::format_secs;
use crate::report::summary::Summary;

/// A titled table with notes under it.
#[derive(Debug, Clone, Default)]
pub struct Section {
    pub title: String,
    pub headers: Vec<String>,
    pub rows: Vec<Vec<String>>,
    pub notes: Vec<String>,
}

fn pct(x: Option<f64>) -> String {
    x.map(|v| format!("{:.1} %", v * 100.0)).unwrap_or_else(|| "n/a".into())
}

fn delay(d: &DelayStats) -> String {
    match (d.median_s, d.p90_s) {
        (Some(m), Some(p)) => format!("{} / {}", format_secs(m), format_secs(p)),
        _ => "—".into(),
    }
}

fn kv(rows: &mut Vec<Vec<String>>, k: &str, v: String) {
    rows.push(vec![k.to_string(), v]);
}

/// The summary as sections: headline figures, channels, response, recommendation, coverage.
pub fn summary_sections(s: &Summary) -> Vec<Section> {
    let mut head = Vec::new();
    kv(
        &mut head,
        "period",
        format!(
            "{} – {}",
            s.first_ts.as_deref().unwrap_or("—"),
            s.last_ts.as_deref().unwrap_or("—")
        ),
    );
    kv(&mut head, "interactions", s.interactions.to_string());
    kv(&mut head, "customers (unified)", s.customers.to_string());
    kv(&mut head, "identities (handles)", s.identities.to_string());
    kv(
        &mut head,
        "customer overcount ratio",
        s.customer_overcount_ratio
            .map(|r| format!("{r:.2}×"))
            .unwrap_or_else(|| "n/a".into()),
    );
    kv(
        &mut head,
        "multichannel customers",
        format!("{} ({})", s.multichannel_customers, pct(s.multichannel_share)),
    );
    kv(&mut head, "episodes", s.episodes.to_string());
    kv(
        &mut head,
        "episodes with a channel switch",
        format!(
            "{} ({})",
            s.episodes_with_switch,
            pct(s.recommendation.switch_episode_share)
        ),
    );
    kv(&mut head, "channel switches", s.channel_switches.to_string());
    kv(
        &mut head,
        "switches with repeated details",
        s.switches_with_repeated_details.to_string(),
    );
    kv(&mut head, "contacts needing a response", s.needing_response.to_string());
    kv(
        &mut head,
        "unanswered, per channel",
        s.unanswered_per_channel.to_string(),
    );
    kv(&mut head, "unanswered, unified", s.unanswered_unified.to_string());
    kv(
        &mut head,
        "repeat contacts (same / cross channel)",
        format!(
            "{} ({} / {})",
            s.repeat_contacts, s.repeat_contacts_same_channel, s.repeat_contacts_cross_channel
        ),
    );
    kv(&mut head, "agents (handles)", s.agents.to_string());
    kv(
        &mut head,
        "agent handoffs (across channels)",
        format!(
            "{} ({})",
            s.agent_fragmentation.handoffs, s.agent_fragmentation.cross_channel_handoffs
        ),
    );
    let settings = &s.settings;
    let summary = Section {
        title: "Summary".into(),
        headers: vec!["figure".into(), "value".into()],
        rows: head,
        notes: vec![format!(
            "window {}, SLA {}, repeat window {}, contact gap {}; times in {}",
            format_secs(settings.window_s as f64),
            format_secs(settings.sla_s as f64),
            format_secs(settings.repeat_window_s as f64),
            format_secs(settings.contact_gap_s as f64),
            settings.tz
        )],
    };
    let mut channels = Section {
        title: "Channels".into(),
        headers: [
            "channel",
            "interactions",
            "customers",
            "handles",
            "inbound",
            "outbound",
            "need response",
            "unanswered per channel",
            "unanswered unified",
            "first response median / p90 (per channel)",
            "(unified)",
        ]
        .map(String::from)
        .to_vec(),
        ..Default::default()
    };
    for (name, c) in &s.channels {
        let u = s.unanswered.get(name).cloned().unwrap_or_default();
        let fr = s.first_response.get(name).cloned().unwrap_or_default();
        channels.rows.push(vec![
            name.to_string(),
            c.interactions.to_string(),
            c.customers.to_string(),
            c.identities.to_string(),
            c.inbound.to_string(),
            c.outbound.to_string(),
            u.needing_response.to_string(),
            u.per_channel.to_string(),
            u.unified.to_string(),
            delay(&fr.per_channel),
            delay(&fr.unified),
        ]);
    }
    if let Some(all) = s.first_response.get("all") {
        channels.notes.push(format!(
            "first response, all channels: median / p90 {} per channel, {} unified",
            delay(&all.per_channel),
            delay(&all.unified)
        ));
    }
    let rec = Section {
        title: format!("Recommendation: {}", s.recommendation.verdict),
        headers: vec!["reason".into()],
        rows: s.recommendation.reasons.iter().map(|r| vec![r.clone()]).collect(),
        notes: Vec::new(),
    };
    let mut out = vec![summary, channels, rec];
    out.push(coverage_section(&s.coverage));
    out
}

fn coverage_section(notes: &[crate::report::coverage::Note]) -> Section {
    Section {
        title: "What the sources cannot show".into(),
        headers: vec!["note".into()],
        rows: if notes.is_empty() {
            vec![vec!["no blind spot detected".into()]]
        } else {
            notes.iter().map(|n| vec![n.message.clone()]).collect()
        },
        notes: Vec::new(),
    }
}

impl Section {
    /// Whether the section gets its own heading in a document titled `doc_title`: not the
    /// first one when it only repeats the title (a detail report's single table).
    pub fn has_heading(&self, doc_title: &str, index: usize) -> bool {
        index > 0 || self.title != doc_title
    }
}

/// A detail report as sections: its table, then coverage.
pub fn rows_sections(r: &Rows) -> Vec<Section> {
    vec![
        Section {
            title: r.title.clone(),
            headers: r.columns.iter().map(|c| c.to_string()).collect(),
            rows: r.rows.clone(),
            notes: r.notes.clone(),
        },
        coverage_section(&r.coverage),
    ]
}
