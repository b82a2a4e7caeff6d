//! Call-log import benchmark: generates a synthetic Asterisk `Master.csv` (ring groups,
//! queues, outbound and internal calls, 18 columns, about 270 bytes a row), then in the
//! same run measures `wc -l` on it and the whole import (parse, phones, leg grouping,
//! direction, Parquet workspace) with throughput and peak memory. See docs/benchmarks.md.
//!
//! Usage: bench-calls [--rows N] [--dir DIR] [--keep]   (defaults: 1 000 000 rows, /tmp/bench-calls)
//! `--keep` keeps the generated file (and reuses it on the next run with the same row count).

use omnitrail::benchkit::{
    exit_on_help, load_average, own_cpu_s, own_peak_rss, repeat_in_process, report_generated, times_text,
    warm_and_time_wc_l, SplitMix64, RUNS,
};
use omnitrail::import::calls::{import_calls, CallOptions};
use omnitrail::import::pipeline::NoProgress;
use omnitrail::import::CommonOptions;
use omnitrail::normalize::phone::Region;
use omnitrail::workspace::Workspace;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

const USAGE: &str = "usage: bench-calls [--rows N] [--dir DIR] [--keep]   (defaults: 1 000 000 rows, /tmp/bench-calls)
The import runs three times, each into a fresh workspace; the median run is reported.
--keep keeps the generated file (and reuses it on the next run with the same row count).";

// Same allocator as the omnitrail binary, so the figures are the CLI's.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[allow(clippy::too_many_arguments)]
fn row(
    out: &mut impl Write,
    src: &str,
    dst: &str,
    context: &str,
    channel: &str,
    dstchannel: &str,
    app: &str,
    data: &str,
    start: &str,
    answer: &str,
    end: &str,
    duration: u64,
    billsec: u64,
    disposition: &str,
    uniqueid: &str,
) -> std::io::Result<usize> {
    let answer = if answer.is_empty() {
        String::new()
    } else {
        format!("\"{answer}\"")
    };
    let line = format!(
        "\"\",\"{src}\",\"{dst}\",\"{context}\",\"\"\"{src}\"\" <{src}>\",\"{channel}\",\"{dstchannel}\",\"{app}\",\"{data}\",\"{start}\",{answer},\"{end}\",{duration},{billsec},\"{disposition}\",\"DOCUMENTATION\",\"{uniqueid}\",\"\"\n"
    );
    out.write_all(line.as_bytes())?;
    Ok(line.len())
}

/// Writes `rows` CDR rows; returns (rows, calls).
fn generate(path: &Path, rows: u64) -> std::io::Result<(u64, u64)> {
    let mut out = BufWriter::with_capacity(1 << 20, File::create(path)?);
    let mut rng = SplitMix64(7);
    let base = chrono::NaiveDate::from_ymd_opt(2025, 1, 6)
        .unwrap()
        .and_hms_opt(8, 0, 0)
        .unwrap();
    let (mut written, mut calls, mut t, mut chan) = (0u64, 0u64, 0i64, 0u64);
    let fmt = |s: i64| {
        (base + chrono::Duration::seconds(s))
            .format("%Y-%m-%d %H:%M:%S")
            .to_string()
    };
    while written < rows {
        t += 1 + rng.below(40) as i64;
        calls += 1;
        let customer = format!("07{:03}900{:03}", 400 + rng.below(100), rng.below(500));
        let uid = format!("{}.{}", 1_736_150_400 + t, chan);
        let start = fmt(t);
        let talk = 20 + rng.below(400);
        let ring = 3 + rng.below(20);
        let c = chan;
        let ext = |n: u64| format!("SIP/{}-{:08x}", 201 + n, c + n + 1);
        let trunk = format!("SIP/uk-trunk-{c:08x}");
        chan += 4;
        match rng.below(20) {
            // ring group: two legs, one answered (12 in 20)
            0..=11 => {
                let who = rng.below(2);
                let answered_at = fmt(t + ring as i64);
                let end = fmt(t + ring as i64 + talk as i64);
                for leg in 0..2 {
                    let (disp, ans, bill, e) = if leg == who {
                        ("ANSWERED", answered_at.as_str(), talk, end.as_str())
                    } else {
                        ("NO ANSWER", start.as_str(), ring, answered_at.as_str())
                    };
                    row(
                        &mut out,
                        &customer,
                        "02079460100",
                        "from-pstn",
                        &trunk,
                        &ext(leg),
                        "Dial",
                        "SIP/201&SIP/202,25,t",
                        &start,
                        ans,
                        e,
                        ring + bill,
                        bill,
                        disp,
                        &uid,
                    )?;
                    written += 1;
                }
            }
            // queue abandoned: answered by the PBX, no agent (3 in 20)
            12..=14 => {
                row(
                    &mut out,
                    &customer,
                    "700",
                    "ext-queues",
                    &trunk,
                    "",
                    "Queue",
                    "orders,t,,,45",
                    &start,
                    &start,
                    &fmt(t + ring as i64),
                    ring,
                    ring,
                    "ANSWERED",
                    &uid,
                )?;
                written += 1;
            }
            // outbound call-back (3 in 20)
            15..=17 => {
                let answered = rng.below(3) > 0;
                let (disp, ans, bill) = if answered {
                    ("ANSWERED", fmt(t + ring as i64), talk)
                } else {
                    ("NO ANSWER", String::new(), 0)
                };
                row(
                    &mut out,
                    "201",
                    &customer,
                    "from-internal",
                    &ext(0),
                    &trunk,
                    "Dial",
                    "SIP/uk-trunk/customer,60",
                    &start,
                    &ans,
                    &fmt(t + (ring + bill) as i64),
                    ring + bill,
                    bill,
                    disp,
                    &uid,
                )?;
                written += 1;
            }
            // internal (2 in 20)
            _ => {
                row(
                    &mut out,
                    "201",
                    "202",
                    "from-internal",
                    &ext(0),
                    &ext(1),
                    "Dial",
                    "SIP/202,20,t",
                    &start,
                    &fmt(t + 2),
                    &fmt(t + 2 + talk as i64),
                    talk + 2,
                    talk,
                    "ANSWERED",
                    &uid,
                )?;
                written += 1;
            }
        }
    }
    out.flush()?;
    Ok((written, calls))
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    exit_on_help(USAGE);
    let args: Vec<String> = std::env::args().collect();
    let arg = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    let rows: u64 = arg("--rows").and_then(|s| s.parse().ok()).unwrap_or(1_000_000);
    let dir = PathBuf::from(arg("--dir").unwrap_or_else(|| "/tmp/bench-calls".into()));
    std::fs::create_dir_all(&dir)?;
    let keep = args.iter().any(|a| a == "--keep");
    // One folder per row count: `--keep` must never pair a count with another size's file.
    let data = dir.join(rows.to_string());
    std::fs::create_dir_all(&data)?;
    let cdr = data.join("Master.csv");
    let counts_file = data.join("Master.csv.counts");
    let started = Instant::now();
    let reused = keep
        .then(|| std::fs::read_to_string(&counts_file).ok())
        .flatten()
        .and_then(|s| {
            s.split_once(' ')
                .and_then(|(w, c)| Some((w.parse().ok()?, c.trim().parse().ok()?)))
        });
    let (written, calls) = match reused {
        Some(counts) if cdr.exists() => counts,
        _ => {
            let counts = generate(&cdr, rows)?;
            std::fs::write(&counts_file, format!("{} {}", counts.0, counts.1))?;
            counts
        }
    };
    let size = report_generated(&cdr, &format!("{written} rows, {calls} calls"), started)?;
    let wc = warm_and_time_wc_l(&cdr)?;
    let ws_dir = dir.join("workspace");
    let common = CommonOptions {
        tz: chrono_tz::Europe::London,
        tz_origin: "bench".into(),
        region: Region::parse("GB")?,
        region_code: Some("GB".into()),
    };
    let opts = CallOptions {
        business_numbers: vec!["+44 20 7946 0100".into()],
        ..Default::default()
    };
    let rss_before = own_peak_rss();
    // The machine's speed drifts between runs: the median of RUNS is reported.
    let (times, (took, (cpu, c))) = repeat_in_process(&ws_dir, || -> Result<_, Box<dyn std::error::Error>> {
        let mut ws = Workspace::open(&ws_dir)?;
        let cpu_before = own_cpu_s();
        let report = import_calls(&mut ws, std::slice::from_ref(&cdr), &opts, &common, &NoProgress)?;
        Ok((own_cpu_s() - cpu_before, report.sources.first().unwrap().counts))
    })?;
    let mbs = |d: Duration| size as f64 / 1e6 / d.as_secs_f64();
    println!("file       {:.1} MB, {written} rows, {calls} calls", size as f64 / 1e6);
    println!("wc -l      {:.3} s  {:.0} MB/s", wc.as_secs_f64(), mbs(wc));
    println!(
        "import     {:.3} s  {:.0} MB/s  {:.0} rows/s  {:.0} calls/s  peak RSS {:.0} MB (before import {:.0} MB)",
        took.as_secs_f64(),
        mbs(took),
        written as f64 / took.as_secs_f64(),
        c.imported as f64 / took.as_secs_f64(),
        own_peak_rss() as f64 / 1e6,
        rss_before as f64 / 1e6
    );
    println!("runs       median of {RUNS} ({})", times_text(&times));
    println!(
        "cpu        {cpu:.2} s user+system ({:.0}% of one core over the wall time; load average {})",
        100.0 * cpu / took.as_secs_f64(),
        load_average()
    );
    println!(
        "counts     read {} imported {} rejected {} duplicates {}",
        c.read, c.imported, c.rejected, c.duplicates
    );
    println!(
        "ratio      the import takes {:.1}x the time of wc -l",
        took.as_secs_f64() / wc.as_secs_f64()
    );
    if c.imported != calls {
        eprintln!("expected {calls} calls, imported {}", c.imported);
        std::process::exit(1);
    }
    if keep {
        let _ = std::fs::remove_dir_all(&ws_dir);
    } else {
        let _ = std::fs::remove_dir_all(&dir);
    }
    Ok(())
}
