//! Export benchmark: builds a large synthetic workspace (interactions over WhatsApp, email
//! and calls, plus the matcher's three files), then times `omnitrail export` per format in
//! separate processes: rows/s, MB/s written, and peak RSS (VmHWM polled from /proc). As a
//! floor it times `cat` of the workspace's interaction files in the same run.
//! See docs/benchmarks.md.
//!
//! Usage: `bench-export [ROWS] [DIR] [FORMATS]`
//!   e.g. bench-export 10000000 /tmp/export-bench parquet,csv,jsonl,hubspot,zendesk

use omnitrail::benchkit::{measure, SplitMix64};
use omnitrail::identity::identity_id;
use omnitrail::model::{CallStatus, Channel, Direction, HandleKind, Interaction, Kind};
use omnitrail::workspace::{Counts, SourceEntry, Workspace};
use polars::prelude::*;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const WORDS: &[&str] = &[
    "hello", "order", "delivery", "flowers", "tomorrow", "please", "thanks", "when", "can", "you", "the", "bouquet",
    "arrived", "late", "address", "change", "roses", "tulips", "refund", "invoice", "call", "me", "back", "today",
];

const T0: i64 = 1_704_067_200_000; // 2024-01-01

fn phone(c: u64) -> String {
    format!("+4477009{c:05}")
}

fn email(c: u64) -> String {
    format!("customer{c}@mail.example")
}

fn customer_id(c: u64) -> String {
    format!("C-{c:010x}")
}

/// Writes `rows` interactions in three sources (one per channel); returns the customer count.
fn build_workspace(root: &Path, rows: u64) -> anyhow::Result<u64> {
    let customers = (rows / 20).clamp(1, 99_999);
    let mut ws = Workspace::open(root)?;
    let mut txn = ws.begin();
    let mut rng = SplitMix64(7);
    for (ci, (channel, source)) in [
        (Channel::Whatsapp, "wa-bench"),
        (Channel::Email, "em-bench"),
        (Channel::Call, "call-bench"),
    ]
    .into_iter()
    .enumerate()
    {
        let n = rows / 3 + u64::from((ci as u64) < rows % 3);
        let (mut w, rel) = txn.batch_writer(source)?;
        for i in 0..n {
            let c = rng.below(customers);
            let inbound = rng.below(2) == 0;
            let kind = if channel == Channel::Call {
                Kind::Call
            } else {
                Kind::Message
            };
            let dir = if inbound {
                Direction::Inbound
            } else {
                Direction::Outbound
            };
            let mut r = Interaction::new(source, channel, dir, kind, T0 + (i as i64) * 20_000);
            r.interaction_id = format!("{source}-{i:012}");
            r.seq = i + 1;
            r.source_file = format!("{source}.txt");
            r.source_ref = format!("line:{}", i + 1);
            r.dedup_key = format!("{:032x}", rng.next_u64());
            r.thread_key = format!("{}:{}", channel.as_str(), c);
            let (kind, handle) = if channel == Channel::Email {
                (HandleKind::Email, email(c))
            } else {
                (HandleKind::Phone, phone(c))
            };
            r.customer_handle = Some(handle);
            r.customer_handle_kind = Some(kind);
            r.customer_name = Some(format!("Customer {c}"));
            r.agent = Some(if channel == Channel::Call {
                "201".into()
            } else {
                "Bloom & Stem".into()
            });
            if channel == Channel::Call {
                r.status = Some(if rng.below(3) == 0 {
                    CallStatus::Missed
                } else {
                    CallStatus::Answered
                });
                r.duration_s = Some(rng.below(600) as i64);
            } else {
                let words = 4 + rng.below(20);
                let mut text = String::new();
                for k in 0..words {
                    if k > 0 {
                        text.push(' ');
                    }
                    text.push_str(WORDS[rng.below(WORDS.len() as u64) as usize]);
                }
                if rng.below(10) == 0 {
                    let order = format!("BS-{}", 10_000 + rng.below(90_000));
                    text.push_str(&format!(" {order}"));
                    r.mentions.push(format!("order:{order}"));
                }
                if channel == Channel::Email {
                    r.subject = Some(format!("Order {c}"));
                }
                r.text = Some(text);
            }
            w.push(r)?;
        }
        w.finish()?;
        txn.add_source(SourceEntry {
            source_id: source.into(),
            path: format!("{source}.txt"),
            size: 0,
            content_hash: source.into(),
            format: channel.as_str().into(),
            channel: channel.as_str().into(),
            options: serde_json::value::RawValue::NULL.to_owned(),
            counts: Counts {
                read: n,
                imported: n,
                ..Counts::default()
            },
            first_ts: None,
            last_ts: None,
            imported_at: "2026-11-23T00:00:00Z".into(),
            batch: Some(rel),
            rejects: None,
            notes: Default::default(),
        })?;
    }
    txn.commit()?;
    write_matcher_files(root, customers)?;
    Ok(customers)
}

fn write_matcher_files(root: &Path, customers: u64) -> anyhow::Result<()> {
    let list = |name: &str, n: usize, values: &[&str]| {
        let mut b = ListStringChunkedBuilder::new(name.into(), n, n * values.len());
        for _ in 0..n {
            b.append_values_iter(values.iter().copied());
        }
        b.finish().into_column()
    };
    let n = customers as usize;
    let mut ids = Vec::with_capacity(2 * n);
    let mut kinds = Vec::with_capacity(2 * n);
    let mut values = Vec::with_capacity(2 * n);
    let mut owners = Vec::with_capacity(2 * n);
    for c in 0..customers {
        ids.push(identity_id(HandleKind::Phone, &phone(c), Channel::Call));
        kinds.push("phone");
        values.push(phone(c));
        owners.push(customer_id(c));
        ids.push(identity_id(HandleKind::Email, &email(c), Channel::Email));
        kinds.push("email");
        values.push(email(c));
        owners.push(customer_id(c));
    }
    let m = ids.len();
    let mut identities = DataFrame::new(
        m,
        vec![
            Column::new("identity_id".into(), &ids),
            Column::new("kind".into(), &kinds),
            Column::new("value".into(), &values),
            list("channels", m, &["whatsapp", "call"]),
            Column::new("display_name".into(), vec![Some("Customer"); m]),
            Column::new("interactions".into(), vec![20u64; m]),
            Column::new("guard".into(), vec![None::<&str>; m]),
            Column::new("customer_id".into(), &owners),
        ],
    )?;
    ParquetWriter::new(std::fs::File::create(root.join("identities.parquet"))?).finish(&mut identities)?;
    let cids: Vec<String> = (0..customers).map(customer_id).collect();
    let ts = Int64Chunked::from_vec("first_ts".into(), vec![T0; n])
        .into_datetime(TimeUnit::Milliseconds, Some(TimeZone::UTC))
        .into_column();
    let ts2 = ts.clone().with_name("last_ts".into());
    let mut customers_df = DataFrame::new(
        n,
        vec![
            Column::new("customer_id".into(), &cids),
            Column::new(
                "display_name".into(),
                (0..customers).map(|c| format!("Customer {c}")).collect::<Vec<_>>(),
            ),
            Column::new("primary_phone".into(), (0..customers).map(phone).collect::<Vec<_>>()),
            Column::new("primary_email".into(), (0..customers).map(email).collect::<Vec<_>>()),
            Column::new("identities".into(), vec![2u32; n]),
            Column::new("interactions".into(), vec![20u64; n]),
            list("channels", n, &["call", "email", "whatsapp"]),
            ts,
            ts2,
        ],
    )?;
    ParquetWriter::new(std::fs::File::create(root.join("customers.parquet"))?).finish(&mut customers_df)?;
    let a: Vec<String> = (0..customers)
        .map(|c| identity_id(HandleKind::Phone, &phone(c), Channel::Call))
        .collect();
    let b: Vec<String> = (0..customers)
        .map(|c| identity_id(HandleKind::Email, &email(c), Channel::Email))
        .collect();
    let mut links = DataFrame::new(
        n,
        vec![
            Column::new("identity_a".into(), &a),
            Column::new("identity_b".into(), &b),
            Column::new("rule".into(), vec!["mention"; n]),
            Column::new("score".into(), vec![0.9f64; n]),
            Column::new("evidence".into(), vec!["phone written in an email"; n]),
            Column::new("accepted".into(), vec![true; n]),
        ],
    )?;
    ParquetWriter::new(std::fs::File::create(root.join("links.parquet"))?).finish(&mut links)?;
    Ok(())
}

fn dir_bytes(dir: &Path) -> u64 {
    std::fs::read_dir(dir)
        .map(|rd| {
            rd.flatten()
                .map(|e| {
                    let p = e.path();
                    if p.is_dir() {
                        dir_bytes(&p)
                    } else {
                        e.metadata().map(|m| m.len()).unwrap_or(0)
                    }
                })
                .sum()
        })
        .unwrap_or(0)
}

const USAGE: &str =
    "usage: bench-export [ROWS] [DIR] [FORMATS]   (defaults: 2 000 000 rows, /tmp/export-bench, every format)
e.g. bench-export 10000000 /tmp/export-bench parquet,csv,jsonl,hubspot,zendesk";

fn main() -> anyhow::Result<()> {
    omnitrail::benchkit::exit_on_help(USAGE);
    let args: Vec<String> = std::env::args().collect();
    let rows: u64 = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(2_000_000);
    let dir = PathBuf::from(args.get(2).cloned().unwrap_or_else(|| "/tmp/export-bench".into()));
    let formats: Vec<String> = args
        .get(3)
        .cloned()
        .unwrap_or_else(|| "parquet,csv,jsonl,hubspot,zendesk".into())
        .split(',')
        .map(str::to_string)
        .collect();
    let exe = std::env::current_exe()?.with_file_name("omnitrail");
    let exe = if exe.exists() {
        exe
    } else {
        PathBuf::from(std::env::var("OMNITRAIL_BIN").unwrap_or_else(|_| "omnitrail".into()))
    };
    std::fs::create_dir_all(&dir)?;
    let ws = dir.join("workspace");
    let _ = std::fs::remove_dir_all(&ws);
    let started = Instant::now();
    let customers = build_workspace(&ws, rows)?;
    let input_bytes = dir_bytes(&ws.join("interactions"));
    eprintln!(
        "built a workspace of {rows} interactions, {customers} customers ({:.1} MB of Parquet) in {:.1?}",
        input_bytes as f64 / 1e6,
        started.elapsed()
    );
    let mut cat = Command::new("sh");
    cat.arg("-c")
        .arg(format!("cat {}/interactions/*.parquet > /dev/null", ws.display()));
    let _ = measure(&mut cat)?; // warm the page cache
    let cat_time = measure(&mut cat)?.elapsed;
    println!(
        "workspace       {rows} interactions, {:.1} MB of Parquet",
        input_bytes as f64 / 1e6
    );
    println!("cat (floor)     {:.3} s", cat_time.as_secs_f64());
    for format in formats {
        let (format, redact) = match format.strip_suffix("+redact") {
            Some(f) => (f.to_string(), true),
            None => (format.clone(), false),
        };
        let out = dir.join(format!("out-{format}"));
        let mut cmd = Command::new(&exe);
        cmd.args(["--quiet", "--workspace"])
            .arg(&ws)
            .args(["export", "--format", &format, "--out"])
            .arg(&out);
        if redact {
            cmd.args(["--redact", "--redact-key", "bench"]);
        }
        let run = measure(&mut cmd)?;
        let (time, peak) = (run.elapsed, run.peak_rss);
        if !run.success {
            eprintln!("export --format {format} failed");
            std::process::exit(1);
        }
        let written = dir_bytes(&out);
        println!(
            "{:<15} {:.2} s  {:.0} rows/s  {:.1} MB written ({:.1} MB/s)  peak RSS {:.0} MB  {:.0}x cat",
            format!("{format}{}", if redact { "+redact" } else { "" }),
            time.as_secs_f64(),
            rows as f64 / time.as_secs_f64(),
            written as f64 / 1e6,
            written as f64 / 1e6 / time.as_secs_f64(),
            peak as f64 / 1e6,
            time.as_secs_f64() / cat_time.as_secs_f64()
        );
        let _ = std::fs::remove_dir_all(&out);
    }
    if std::env::var_os("BENCH_KEEP").is_none() {
        let _ = std::fs::remove_dir_all(&ws);
    }
    Ok(())
}
