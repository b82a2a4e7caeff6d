//! Import benchmark: generates a large synthetic WhatsApp export, then measures
//! `wc -l` and `omnitrail import whatsapp` on the same file in the same run
//! (throughput, records/s, peak memory; the median of three runs). See docs/benchmarks.md.
//!
//! Usage: `cargo run --release --bin omnitrail-bench -- [SIZE_MB] [DIR] [OMNITRAIL_BINARY]`
//! (the binary defaults to `omnitrail` next to this one).

use omnitrail::benchkit::{
    exit_on_help, load_average, measure_repeated, report_generated, warm_and_time_wc_l, SplitMix64,
};
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

const USAGE: &str = "usage: omnitrail-bench [SIZE_MB] [DIR] [OMNITRAIL_BINARY]   (defaults: 200, bench-data,
the omnitrail binary next to this one). Times `wc -l` and three imports of the generated chat,
each into a fresh workspace, and reports the median import with every run's time.";

const WORDS: &[&str] = &[
    "hello", "order", "delivery", "flowers", "tomorrow", "please", "thanks", "when", "can", "you", "the", "bouquet",
    "arrived", "late", "address", "change", "roses", "tulips", "refund", "invoice", "call", "me", "back", "today",
    "is", "it", "possible", "to", "pick", "up", "at", "shop", "price", "sorry", "great", "perfect", "😊", "🌹", "ok",
    "yes", "no", "Friday",
];

/// Writes an Android-layout export of at least `bytes` bytes; returns the message count.
fn generate(path: &Path, bytes: u64) -> std::io::Result<u64> {
    let mut out = BufWriter::with_capacity(1 << 20, File::create(path)?);
    let mut rng = SplitMix64(42);
    let mut written = 0u64;
    let mut messages = 0u64;
    let mut minute: i64 = 0;
    let start = chrono::NaiveDate::from_ymd_opt(2019, 1, 1)
        .unwrap()
        .and_hms_opt(8, 0, 0)
        .unwrap();
    let line = "01/01/2019, 08:00 - Bloom & Stem: Messages and calls are end-to-end encrypted. No one outside of this chat, not even WhatsApp, can read or listen to them.\n";
    out.write_all(line.as_bytes())?;
    written += line.len() as u64;
    let mut buf = String::with_capacity(512);
    // Half a minute per message on average, closer together when that would run past 2025:
    // an export cannot hold dates after the day it is read (about 87 bytes per message).
    let span_minutes = 6 * 365 * 24 * 60;
    let one_in = (bytes / 87 / span_minutes).max(2);
    while written < bytes {
        minute += i64::from(rng.below(one_in) == 1);
        let ts = start + chrono::Duration::minutes(minute);
        buf.clear();
        let author = if rng.below(2) == 0 {
            "Bloom & Stem".to_string()
        } else {
            format!("+44 7700 900{:03}", rng.below(1000))
        };
        buf.push_str(&ts.format("%d/%m/%Y, %H:%M").to_string());
        buf.push_str(" - ");
        buf.push_str(&author);
        buf.push_str(": ");
        match rng.below(20) {
            0 => buf.push_str("<Media omitted>"),
            1 => buf.push_str(&format!("My order is BS-{} can you check?", 10000 + rng.below(90000))),
            _ => {
                let n = 3 + rng.below(14);
                for i in 0..n {
                    if i > 0 {
                        buf.push(if rng.below(25) == 0 { '\n' } else { ' ' });
                    }
                    let &word = rng.pick(WORDS);
                    buf.push_str(word);
                }
            }
        }
        buf.push('\n');
        out.write_all(buf.as_bytes())?;
        written += buf.len() as u64;
        messages += 1;
    }
    out.flush()?;
    Ok(messages + 1)
}

fn main() -> std::io::Result<()> {
    exit_on_help(USAGE);
    let args: Vec<String> = std::env::args().collect();
    let mb: u64 = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(200);
    let dir = PathBuf::from(args.get(2).cloned().unwrap_or_else(|| "bench-data".into()));
    std::fs::create_dir_all(&dir)?;
    let chat = dir.join(format!("WhatsApp Chat with Bench {mb}MB.txt"));
    let gen_started = Instant::now();
    let messages = generate(&chat, mb << 20)?;
    let size = report_generated(&chat, &format!("{messages} messages"), gen_started)?;
    let exe = match args.get(3) {
        Some(p) => PathBuf::from(p),
        None => std::env::current_exe()?.with_file_name("omnitrail"),
    };
    if !exe.exists() {
        eprintln!("build the omnitrail binary first: cargo build --release");
        std::process::exit(2);
    }
    let wc_time = warm_and_time_wc_l(&chat)?;
    let ws = dir.join("bench-workspace");
    let load_before = load_average();
    let runs = measure_repeated(&ws, || {
        let mut cmd = Command::new(&exe);
        cmd.args(["--quiet", "--workspace"])
            .arg(&ws)
            .args([
                "import",
                "whatsapp",
                "--tz",
                "UTC",
                "--region",
                "GB",
                "--business-name",
                "Bloom & Stem",
            ])
            .arg(&chat);
        cmd
    })?;
    let run = runs.median;
    let (time, peak, user, system) = (run.elapsed, runs.peak_rss, run.user_s, run.system_s);
    if !runs.success {
        eprintln!("import failed");
        std::process::exit(1);
    }
    let mbs = |d: Duration| size as f64 / 1e6 / d.as_secs_f64();
    println!("file            {:.1} MB, {messages} messages", size as f64 / 1e6);
    println!(
        "wc -l           {:.3} s  {:.0} MB/s",
        wc_time.as_secs_f64(),
        mbs(wc_time)
    );
    println!(
        "omnitrail       {:.3} s  {:.0} MB/s  {:.0} messages/s  peak RSS {:.0} MB",
        time.as_secs_f64(),
        mbs(time),
        messages as f64 / time.as_secs_f64(),
        peak as f64 / 1e6
    );
    println!("runs            median of {} ({})", runs.times.len(), runs.times_text());
    println!(
        "cpu             {user:.2} s user + {system:.2} s system ({:.0} MB per CPU second)",
        size as f64 / 1e6 / (user + system).max(0.01)
    );
    println!(
        "ratio           omnitrail takes {:.1}x the time of wc -l",
        time.as_secs_f64() / wc_time.as_secs_f64()
    );
    println!("load average    {load_before} before, {} after", load_average());
    let _ = std::fs::remove_dir_all(&ws);
    Ok(())
}
