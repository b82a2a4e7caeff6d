//! Benchmark of the summary report: synthesises N interactions (default 10M) straight into a
//! workspace (Parquet batches through the workspace's BatchWriter, plus identities.parquet),
//! then times `report::summary` and prints rows/s and peak RSS (VmHWM).
//!
//! `bench-report [ROWS] [DIR]` — DIR defaults to /tmp/report-bench (kept for re-runs).

use omnitrail::benchkit::own_peak_rss;
use omnitrail::identity::identity_id;
use omnitrail::model::{CallStatus, Channel, Direction, HandleKind, Interaction, Kind};
use omnitrail::report::scenario::{commit_source, write_identities};
use omnitrail::report::{self, ReportSettings};
use omnitrail::workspace::Workspace;
use rand::{Rng, SeedableRng};
use std::path::PathBuf;
use std::time::Instant;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const PER_CUSTOMER: usize = 20;
const BATCH_ROWS: usize = 1_000_000;

fn synthesise(dir: &std::path::Path, rows: usize) -> anyhow::Result<()> {
    let _ = std::fs::remove_dir_all(dir);
    let mut ws = Workspace::open(dir)?;
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
    let customers = rows.div_ceil(PER_CUSTOMER);
    let mut batch = Vec::with_capacity(BATCH_ROWS);
    let mut written = 0usize;
    let mut identities = Vec::with_capacity(customers * 2);
    let agents = [
        "Priya",
        "Tom",
        "SIP/201",
        "SIP/202",
        "priya@shop.example",
        "tom@shop.example",
    ];
    for c in 0..customers {
        let phone = format!("+4477009{:05}", c % 100_000) + &format!("{:02}", c / 100_000);
        let email = format!("customer{c}@mail.example");
        identities.push((
            identity_id(HandleKind::Phone, &phone, Channel::Call),
            format!("C-{c:010x}"),
        ));
        identities.push((
            identity_id(HandleKind::Email, &email, Channel::Email),
            format!("C-{c:010x}"),
        ));
        let mut ts = 1_767_225_600_000i64 + rng.random_range(0..30 * 86_400_000i64);
        for k in 0..PER_CUSTOMER.min(rows - written) {
            ts += rng.random_range(60_000..5 * 86_400_000i64);
            let channel = [Channel::Whatsapp, Channel::Email, Channel::Call][rng.random_range(0..3)];
            let direction = if rng.random_bool(0.55) {
                Direction::Inbound
            } else {
                Direction::Outbound
            };
            let kind = if channel == Channel::Call {
                Kind::Call
            } else {
                Kind::Message
            };
            let mut i = Interaction::new("bench", channel, direction, kind, ts);
            i.interaction_id = format!("{:032x}", written as u128 * 2_654_435_761);
            i.seq = written as u64;
            i.source_ref = format!("line:{}", k + 1);
            if channel == Channel::Email {
                i.customer_handle = Some(email.clone());
                i.customer_handle_kind = Some(HandleKind::Email);
            } else {
                i.customer_handle = Some(phone.clone());
                i.customer_handle_kind = Some(HandleKind::Phone);
            }
            if channel == Channel::Call {
                i.status = Some(if rng.random_bool(0.7) {
                    CallStatus::Answered
                } else {
                    CallStatus::Missed
                });
            }
            if direction == Direction::Outbound || i.status == Some(CallStatus::Answered) {
                i.agent = Some(agents[rng.random_range(0..agents.len())].to_string());
            }
            if rng.random_bool(0.2) {
                i.mentions = vec![format!("order:BS-{}", c * 3 + rng.random_range(0..3))];
            }
            batch.push(i);
            written += 1;
            if batch.len() == BATCH_ROWS {
                commit_source(
                    &mut ws,
                    &format!("bench-{}", written / BATCH_ROWS),
                    std::mem::take(&mut batch),
                )?;
            }
        }
    }
    if !batch.is_empty() {
        commit_source(&mut ws, "bench-last", batch)?;
    }
    write_identities(dir, &identities)?;
    Ok(())
}

const USAGE: &str = "usage: bench-report [ROWS] [DIR]   (defaults: 10 000 000 rows, /tmp/report-bench)";

fn main() -> anyhow::Result<()> {
    omnitrail::benchkit::exit_on_help(USAGE);
    let args: Vec<String> = std::env::args().collect();
    let rows: usize = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(10_000_000);
    let dir = PathBuf::from(args.get(2).cloned().unwrap_or_else(|| "/tmp/report-bench".into()));
    if !dir.join("identities.parquet").exists() || std::env::var_os("BENCH_REGEN").is_some() {
        let t = Instant::now();
        synthesise(&dir, rows)?;
        eprintln!("synthesised {rows} interactions in {:.1} s", t.elapsed().as_secs_f64());
    }
    let ws = Workspace::open_existing(&dir)?;
    let t = Instant::now();
    let s = report::summary(&ws, &ReportSettings::default())?;
    let secs = t.elapsed().as_secs_f64();
    println!(
        "summary report: {} interactions, {} customers, {} episodes in {secs:.2} s ({:.0} rows/s), peak RSS {:.0} MB",
        s.interactions,
        s.customers,
        s.episodes,
        s.interactions as f64 / secs,
        (own_peak_rss() as f64 / 1048576.0)
    );
    Ok(())
}
