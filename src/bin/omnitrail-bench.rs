//! Import benchmark: generates a large synthetic WhatsApp export, then measures
//! `wc -l` and `omnitrail import whatsapp` on the same file in the same run
//! (throughput, records/s, peak memory). See docs/benchmarks.md.
//!
//! Usage: cargo run --release --bin omnitrail-bench -- [SIZE_MB] [DIR] [OMNITRAIL_BINARY]
//! (the binary defaults to `omnitrail` next to this one).

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// SplitMix64: deterministic and good enough to vary synthetic text.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

const WORDS: &[&str] = &[
    "hello", "order", "delivery", "flowers", "tomorrow", "please", "thanks", "when", "can", "you", "the", "bouquet",
    "arrived", "late", "address", "change", "roses", "tulips", "refund", "invoice", "call", "me", "back", "today",
    "is", "it", "possible", "to", "pick", "up", "at", "shop", "price", "sorry", "great", "perfect", "😊", "🌹", "ok",
    "yes", "no", "Friday",
];

/// Writes an Android-layout export of at least `bytes` bytes; returns the message count.
fn generate(path: &Path, bytes: u64) -> std::io::Result<u64> {
    let mut out = BufWriter::with_capacity(1 << 20, File::create(path)?);
    let mut rng = Rng(42);
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
    while written < bytes {
        minute += rng.below(2) as i64;
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
                    buf.push_str(WORDS[rng.below(WORDS.len() as u64) as usize]);
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

/// Runs a command, returning wall time and peak resident memory (polled from /proc).
fn measure(cmd: &mut Command) -> std::io::Result<(Duration, u64, bool)> {
    let started = Instant::now();
    let mut child = cmd.stdout(Stdio::null()).spawn()?;
    let status_path = format!("/proc/{}/status", child.id());
    let mut peak_kb = 0u64;
    loop {
        if let Ok(s) = std::fs::read_to_string(&status_path) {
            if let Some(v) = s.lines().find(|l| l.starts_with("VmHWM:")) {
                let kb: u64 = v.split_whitespace().nth(1).and_then(|n| n.parse().ok()).unwrap_or(0);
                peak_kb = peak_kb.max(kb);
            }
        }
        if let Some(status) = child.try_wait()? {
            return Ok((started.elapsed(), peak_kb * 1024, status.success()));
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// CPU seconds (user, system) used so far by this process's waited-for children
/// (`cutime`, `cstime` in /proc/self/stat), to tell CPU cost from waiting on a busy machine.
fn children_cpu() -> (f64, f64) {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the parenthesised command name; cutime and cstime are fields 16 and 17.
    let rest = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| fields.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0) / 100.0;
    (ticks(13), ticks(14))
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

fn main() -> std::io::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let mb: u64 = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(200);
    let dir = PathBuf::from(args.get(2).cloned().unwrap_or_else(|| "bench-data".into()));
    std::fs::create_dir_all(&dir)?;
    let chat = dir.join(format!("WhatsApp Chat with Bench {mb}MB.txt"));
    let gen_started = Instant::now();
    let messages = generate(&chat, mb << 20)?;
    let size = std::fs::metadata(&chat)?.len();
    eprintln!(
        "generated {} ({:.1} MB, {messages} messages) in {:.1?}",
        chat.display(),
        size as f64 / 1e6,
        gen_started.elapsed()
    );
    let exe = match args.get(3) {
        Some(p) => PathBuf::from(p),
        None => std::env::current_exe()?.with_file_name("omnitrail"),
    };
    if !exe.exists() {
        eprintln!("build the omnitrail binary first: cargo build --release");
        std::process::exit(2);
    }
    // Warm the page cache so both commands read from memory.
    let _ = std::fs::read(&chat)?;
    let (wc_time, _, _) = measure(Command::new("wc").arg("-l").arg(&chat))?;
    let ws = dir.join("bench-workspace");
    let _ = std::fs::remove_dir_all(&ws);
    let load_before = load_average();
    let cpu_before = children_cpu();
    let (time, peak, ok) = measure(
        Command::new(&exe)
            .args(["--quiet", "--workspace"])
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
            .arg(&chat),
    )?;
    let cpu_after = children_cpu();
    let (user, system) = (cpu_after.0 - cpu_before.0, cpu_after.1 - cpu_before.1);
    if !ok {
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
