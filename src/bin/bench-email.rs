//! Email import benchmark: generates a synthetic support mbox (multipart/alternative,
//! quoted-printable, quoted replies, signatures, attachments), then times `wc -l` and
//! `omnitrail import email` on the same file in the same run (the median of three imports).
//!
//! `bench-email [--size-mb N] [--keep] [DIR]` (default 500 MB under ./bench-data; `--keep`
//! leaves the mbox and workspace for profiling); the `omnitrail` binary must sit next to this one.
//! `bench-email --phases MBOX` times the per-message steps one by one on one thread.

use omnitrail::benchkit::{load_average, measure_repeated, report_generated, warm_and_time_wc_l};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// Small deterministic generator (xorshift), so every run writes the same file.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

const WORDS: &[&str] = &[
    "bouquet", "delivery", "tomorrow", "roses", "peonies", "order", "please", "could", "address", "card", "message",
    "thanks", "friday", "morning", "price", "wreath", "lilies", "invoice", "change", "florist", "colour", "white",
];

fn sentence(rng: &mut Rng, words: u64) -> String {
    let mut s = String::new();
    for i in 0..words {
        if i > 0 {
            s.push(' ');
        }
        s.push_str(WORDS[rng.below(WORDS.len() as u64) as usize]);
    }
    s
}

fn generate(path: &Path, bytes: u64) -> std::io::Result<u64> {
    let mut out = BufWriter::with_capacity(1 << 20, std::fs::File::create(path)?);
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut written = 0u64;
    let mut n = 0u64;
    let start = 1_767_225_600i64; // 2026-01-01
    while written < bytes {
        n += 1;
        let customer = rng.below(20_000);
        let ts = start + (n as i64) * 37;
        let date = chrono::DateTime::from_timestamp(ts, 0).expect("valid time");
        let reply = n.is_multiple_of(3);
        let (from, to) = if reply {
            (
                "Priya <priya@bloomandstem.example>".to_string(),
                format!("Customer {customer} <customer{customer}@mail.example>"),
            )
        } else {
            (
                format!("Customer {customer} <customer{customer}@mail.example>"),
                "support@bloomandstem.example".to_string(),
            )
        };
        let words = 30 + rng.below(60);
        let body = format!(
            "Hello,\n\n{}.\nMy order is BS-{:05}, call me on 07700 9{:05}.\n\n-- \nCustomer {customer}\n",
            sentence(&mut rng, words),
            rng.below(100_000),
            customer % 100_000
        );
        let mut msg = String::with_capacity(4096);
        msg.push_str(&format!(
            "From customer{customer}@mail.example {}\n",
            date.format("%a %b %e %H:%M:%S %Y")
        ));
        msg.push_str(&format!(
            "From: {from}\nTo: {to}\nSubject: {}Order question {customer}\nDate: {}\nMessage-ID: <m{n}@bench.example>\n",
            if reply { "Re: " } else { "" },
            date.to_rfc2822()
        ));
        if reply {
            msg.push_str(&format!(
                "In-Reply-To: <m{}@bench.example>\nReferences: <m{}@bench.example>\n",
                n - 1,
                n - 1
            ));
        }
        msg.push_str("MIME-Version: 1.0\nContent-Type: multipart/alternative; boundary=\"b1\"\n\n--b1\n");
        msg.push_str("Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: quoted-printable\n\n");
        let mut plain = body.clone();
        if reply {
            plain.push_str("\nOn Mon, 1 Jan 2026 at 10:00, Customer wrote:\n");
            for l in sentence(&mut rng, 40).split(' ').collect::<Vec<_>>().chunks(8) {
                plain.push_str(&format!("> {}\n", l.join(" ")));
            }
        }
        // Quoted-printable with a soft break and an encoded character.
        msg.push_str(&plain.replace("Hello,", "H=C3=A9llo,").replace(". My", ".=\nMy"));
        msg.push_str("\n--b1\nContent-Type: text/html; charset=utf-8\n\n<html><body><p>");
        msg.push_str(&body.replace('\n', "<br>"));
        msg.push_str("</p></body></html>\n--b1--\n\n");
        if n.is_multiple_of(10) {
            // A from-line in the body, escaped as an mboxrd writer would.
            msg.insert_str(msg.len() - 1, ">From the shop floor\n\n");
        }
        out.write_all(msg.as_bytes())?;
        written += msg.len() as u64;
    }
    out.flush()?;
    Ok(n)
}

/// `--phases FILE`: the per-message steps of the import timed one by one on one thread
/// (no workspace), to see where the time goes.
fn phases(path: &Path) -> std::io::Result<()> {
    use omnitrail::import::email::{body, mbox::MboxReader, message};
    use omnitrail::normalize::phone::Region;
    let region = Region::parse("GB").expect("GB is a region");
    let size = std::fs::metadata(path)?.len() as f64 / 1e6;
    let mut reader = MboxReader::new(std::fs::File::open(path)?, true);
    let mut t = [Duration::ZERO; 5];
    let mut n = 0u64;
    let total = Instant::now();
    loop {
        let s = Instant::now();
        let Some(raw) = reader.next_message()? else { break };
        t[0] += s.elapsed();
        n += 1;
        let s = Instant::now();
        let Ok(m) = message::parse(&raw.bytes) else { continue };
        t[1] += s.elapsed();
        let s = Instant::now();
        let split = body::split_reply(&m.body);
        t[2] += s.elapsed();
        let s = Instant::now();
        let found = omnitrail::import::email::message_mentions(&split.new_text, &split.signature, region);
        t[3] += s.elapsed();
        let s = Instant::now();
        let key = omnitrail::import::email::message_key(&m, m.date_ms.unwrap_or(0));
        t[4] += s.elapsed();
        std::hint::black_box((found, key));
    }
    let all = total.elapsed().as_secs_f64();
    println!("{n} messages, {size:.1} MB, {all:.2} s on one thread");
    for (name, d) in [
        "split mbox",
        "parse (mailparse + fields)",
        "reply/signature split",
        "mentions",
        "dedup key",
    ]
    .iter()
    .zip(t)
    {
        let s = d.as_secs_f64();
        println!("{name:28} {s:7.2} s  {:5.1}%  {:7.0} MB/s", 100.0 * s / all, size / s);
    }
    Ok(())
}

const USAGE: &str = "usage: bench-email [--size-mb N] [--keep] [DIR]   (default 500 MB under ./bench-data)
       bench-email --phases MBOX   times the per-message steps one by one on one thread
The import runs three times, each into a fresh workspace; the median run is reported.
--keep leaves the mbox and workspace for profiling; the omnitrail binary must sit next to this one.";

fn main() -> std::io::Result<()> {
    omnitrail::benchkit::exit_on_help(USAGE);
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut mb = 500u64;
    let mut dir = PathBuf::from("bench-data");
    let mut keep = false;
    let mut i = 0;
    while i < args.len() {
        if args[i] == "--phases" {
            return phases(Path::new(args.get(i + 1).map_or("", String::as_str)));
        } else if args[i] == "--keep" {
            keep = true;
            i += 1;
        } else if args[i] == "--size-mb" {
            mb = args.get(i + 1).and_then(|s| s.parse().ok()).unwrap_or(mb);
            i += 2;
        } else if args[i].starts_with('-') {
            eprintln!("unknown option {}\n{USAGE}", args[i]);
            std::process::exit(2);
        } else {
            dir = PathBuf::from(&args[i]);
            i += 1;
        }
    }
    std::fs::create_dir_all(&dir)?;
    let mbox = dir.join(format!("bench-{mb}MB.mbox"));
    let gen_started = Instant::now();
    let messages = generate(&mbox, mb << 20)?;
    let size = report_generated(&mbox, &format!("{messages} messages"), gen_started)?;
    let exe = std::env::current_exe()?.with_file_name("omnitrail");
    if !exe.exists() {
        eprintln!("build the omnitrail binary first (it must sit next to bench-email)");
        std::process::exit(2);
    }
    let wc = warm_and_time_wc_l(&mbox)?;
    let ws = dir.join("bench-workspace");
    let runs = measure_repeated(&ws, || {
        let mut cmd = Command::new(&exe);
        cmd.args(["--quiet", "--workspace"])
            .arg(&ws)
            .args([
                "import",
                "email",
                "--tz",
                "UTC",
                "--region",
                "GB",
                "--business-domain",
                "bloomandstem.example",
            ])
            .arg(&mbox);
        cmd
    })?;
    if !runs.success {
        eprintln!("import failed");
        std::process::exit(1);
    }
    let run = runs.median;
    let mbs = |d: f64| size as f64 / 1e6 / d;
    println!("file            {:.1} MB, {messages} messages", size as f64 / 1e6);
    println!(
        "wc -l           {:.3} s  {:.0} MB/s",
        wc.as_secs_f64(),
        mbs(wc.as_secs_f64())
    );
    let time = run.elapsed.as_secs_f64();
    println!(
        "omnitrail       {time:.3} s  {:.0} MB/s  {:.0} messages/s  peak RSS {:.0} MB",
        mbs(time),
        messages as f64 / time,
        runs.peak_rss as f64 / 1e6
    );
    println!("runs            median of {} ({})", runs.times.len(), runs.times_text());
    println!(
        "omnitrail CPU   {:.1} s user+system ({:.0} MB per CPU second, {:.2} cores busy)",
        run.cpu_s,
        mbs(run.cpu_s),
        run.cpu_s / time
    );
    println!(
        "ratio           omnitrail takes {:.1}x the time of wc -l",
        time / wc.as_secs_f64()
    );
    println!("load average    {}", load_average());
    if !keep {
        let _ = std::fs::remove_dir_all(&ws);
        let _ = std::fs::remove_file(&mbox);
    }
    Ok(())
}
