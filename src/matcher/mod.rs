//! The matcher: links identities into customers from weighted evidence.
//!
//! [`identities`] reads what the workspace holds, [`guards`] marks identities that must not
//! glue people together, [`blocking`] and [`evidence`] find and score candidate pairs
//! (names in [`names`]), [`cluster`] joins them (union-find with guards, weak-bridge split,
//! [`overrides`]), [`output`] writes the three files and [`explain`] reads them back.
//! docs/matcher.md documents every rule, weight and guard.

pub mod blocking;
pub mod cluster;
pub mod evidence;
pub mod explain;
pub mod guards;
pub mod identities;
pub mod names;
pub mod output;
pub mod overrides;

use crate::normalize::phone::Region;
use crate::workspace::Workspace;
use anyhow::Result;
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::PathBuf;

/// Default `--threshold`.
pub const DEFAULT_THRESHOLD: f64 = 0.8;

/// Settings of one `omnitrail match` run.
#[derive(Debug, Clone)]
pub struct MatchOptions {
    /// Minimum link score that joins two identities.
    pub threshold: f64,
    /// Region for the business numbers recorded in national form.
    pub region: Region,
    pub overrides: Option<PathBuf>,
}

impl Default for MatchOptions {
    fn default() -> Self {
        MatchOptions {
            threshold: DEFAULT_THRESHOLD,
            region: Region::none(),
            overrides: None,
        }
    }
}

/// Per-rule counts of links considered and accepted.
#[derive(Debug, Default, Clone, Serialize)]
pub struct RuleCount {
    pub links: u64,
    pub accepted: u64,
}

/// What a match run found (printed by `omnitrail match`, `--json` as is).
#[derive(Debug, Clone, Serialize)]
pub struct MatchSummary {
    pub interactions: u64,
    pub identities: u64,
    pub customers: u64,
    /// Customers made of two or more identities.
    pub linked_customers: u64,
    pub links: u64,
    pub links_accepted: u64,
    pub threshold: f64,
    pub overrides: u64,
    pub guards: BTreeMap<String, u64>,
    pub rules: BTreeMap<String, RuleCount>,
    pub files: Vec<String>,
}

/// Phase times and resident memory on stderr when `OMNITRAIL_TRACE` is set (benchmarks;
/// counts only, nothing personal).
pub(crate) struct Trace {
    started: std::time::Instant,
    on: bool,
}

impl Trace {
    pub(crate) fn new() -> Trace {
        Trace {
            started: std::time::Instant::now(),
            on: std::env::var_os("OMNITRAIL_TRACE").is_some(),
        }
    }

    /// One line: seconds since the start, what was done, VmRSS.
    pub(crate) fn phase(&self, what: impl std::fmt::Display) {
        if self.on {
            let rss = std::fs::read_to_string("/proc/self/status")
                .ok()
                .and_then(|s| s.lines().find(|l| l.starts_with("VmRSS:")).map(str::to_string))
                .unwrap_or_default();
            eprintln!("TRACE {:>8.2}s {what} {rss}", self.started.elapsed().as_secs_f64());
        }
    }
}

/// Runs the matcher on the workspace and writes its three files. `None` when the workspace
/// holds no interactions.
pub fn run(ws: &Workspace, opts: &MatchOptions) -> Result<Option<MatchSummary>> {
    let tracer = Trace::new();
    let trace = |what: &str| tracer.phase(what);
    let Some(mut collected) = identities::collect(ws)? else {
        return Ok(None);
    };
    trace("collected");
    guards::detect(&mut collected, ws, opts.region)?;
    trace("guards");
    let overrides = match &opts.overrides {
        Some(path) => overrides::load(path, &collected.index)?,
        None => Vec::new(),
    };
    let mut links = evidence::find_links(&collected, opts.threshold);
    trace("links");
    let roots = cluster::cluster(&collected.identities, &mut links, opts.threshold, &overrides)?;
    trace("clustered");
    let customers = output::customers(&collected, &roots);
    let (mut cdf, mut idf, mut ldf) = output::frames(&collected, &customers, &links)?;
    trace("frames");
    output::write_all(
        ws.root(),
        [
            (output::CUSTOMERS_FILE, &mut cdf),
            (output::IDENTITIES_FILE, &mut idf),
            (output::LINKS_FILE, &mut ldf),
        ],
    )?;
    let mut guards: BTreeMap<String, u64> = BTreeMap::new();
    for i in &collected.identities {
        if let Some(g) = i.guard {
            *guards.entry(g.as_str().to_string()).or_default() += 1;
        }
    }
    let mut rules: BTreeMap<String, RuleCount> = BTreeMap::new();
    for l in &links {
        let r = rules.entry(l.rule.clone()).or_default();
        r.links += 1;
        r.accepted += u64::from(l.accepted);
    }
    Ok(Some(MatchSummary {
        interactions: collected.interactions,
        identities: collected.identities.len() as u64,
        customers: customers.len() as u64,
        linked_customers: customers.iter().filter(|c| c.members.len() > 1).count() as u64,
        links: links.len() as u64,
        links_accepted: links.iter().filter(|l| l.accepted).count() as u64,
        threshold: opts.threshold,
        overrides: overrides.len() as u64,
        guards,
        rules,
        files: [output::CUSTOMERS_FILE, output::IDENTITIES_FILE, output::LINKS_FILE]
            .iter()
            .map(|f| ws.root().join(f).display().to_string())
            .collect(),
    }))
}

/// True when `omnitrail match` has written its files in this workspace.
pub fn has_run(ws: &Workspace) -> bool {
    [output::CUSTOMERS_FILE, output::IDENTITIES_FILE, output::LINKS_FILE]
        .iter()
        .all(|f| ws.root().join(f).exists())
}
