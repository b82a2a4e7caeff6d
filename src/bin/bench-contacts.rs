//! Contacts import benchmark: generates a large HubSpot-style contacts CSV, then measures
//! `wc -l` and the contacts import (library call, three times, each into a fresh workspace;
//! the median is reported) on the same file in the same run: MB/s, rows/s, peak resident
//! memory and the ratio to `wc -l`.
//! See docs/benchmarks.md.
//!
//! Usage: `cargo run --release --bin bench-contacts -- [SIZE_MB] [DIR]`

use omnitrail::benchkit::{
    exit_on_help, load_average, own_cpu_s, own_peak_rss, repeat_in_process, report_generated, reset_own_peak_rss,
    times_text, warm_and_time_wc_l, SplitMix64, RUNS,
};
use omnitrail::import::contacts::{import_contacts, ContactOptions};
use omnitrail::import::pipeline::NoProgress;
use omnitrail::import::CommonOptions;
use omnitrail::normalize::phone::Region;
use omnitrail::workspace::Workspace;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

const USAGE: &str = "usage: bench-contacts [SIZE_MB] [DIR]   (defaults: 110, bench-data)
The import runs three times, each into a fresh workspace; the median run is reported.";

// Same allocator as the omnitrail binary, so the figures are the CLI's.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const FIRST: &[&str] = &[
    "Sarah", "Mark", "Émilie", "Olu", "Kate", "Helen", "Ravi", "Ling", "Amir", "Jörg", "Zoé", "Lucía", "João",
    "Giulia", "Jan", "Priya", "Tom", "Ana", "Mehmet", "Yuki",
];
const LAST: &[&str] = &[
    "Jones",
    "Chen",
    "Dubois",
    "Adeyemi",
    "Price",
    "Shah",
    "Wu",
    "Haddad",
    "Müller",
    "Lefèvre",
    "García",
    "Silva",
    "Rossi",
    "van der Berg",
    "Smith",
    "Nowak",
    "Kowalski",
    "O'Brien",
    "Tanaka",
    "Okafor",
];

/// Writes a contacts CSV of at least `bytes` bytes; returns the data rows written.
/// 1 % exact duplicates, 0.5 % rows without identity, 0.2 % Excel-mangled mobiles;
/// office numbers come from a pool of 5 000 switchboards, mobiles are nearly all distinct.
fn generate(path: &Path, bytes: u64) -> std::io::Result<u64> {
    let mut out = BufWriter::with_capacity(1 << 20, File::create(path)?);
    let header = "Record ID,First Name,Last Name,Email,Phone Number,Mobile Phone Number,Company Name,Contact owner,Lead Status,Create Date\n";
    out.write_all(header.as_bytes())?;
    let mut written = header.len() as u64;
    let mut rng = SplitMix64(7);
    let mut rows = 0u64;
    let mut last = String::new();
    let mut row = String::with_capacity(256);
    while written < bytes {
        rows += 1;
        row.clear();
        if rows > 1 && rng.below(100) == 0 {
            row.push_str(&last);
        } else if rng.below(200) == 0 {
            row.push_str(&format!(
                "{rows},,,,,,Unknown Ltd,owner@bloomandstem.example,New,2026-01-01 09:00\n"
            ));
        } else {
            let (f, l) = (*rng.pick(FIRST), *rng.pick(LAST));
            let office = rng.below(5000);
            let mobile = if rng.below(500) == 0 {
                format!("{}E+11", 4.477 + rng.below(1000) as f64 / 1e6)
            } else {
                format!("07{:03} {:06}", 400 + rng.below(600), rng.below(1_000_000))
            };
            let email = format!(
                "{}.{}{}@mail{}.example",
                f.to_lowercase(),
                l.to_lowercase().replace(' ', ""),
                rows,
                rng.below(50)
            );
            row.push_str(&format!(
                "{rows},{f},\"{l}\",{email},+44 20 7946 {office:04},{mobile},Company {},owner{}@bloomandstem.example,Open,2026-0{}-1{} 10:00\n",
                office / 3,
                rng.below(5),
                1 + rng.below(9),
                rng.below(10)
            ));
        }
        out.write_all(row.as_bytes())?;
        written += row.len() as u64;
        last.clone_from(&row);
    }
    out.flush()?;
    Ok(rows)
}

fn main() -> anyhow::Result<()> {
    exit_on_help(USAGE);
    let args: Vec<String> = std::env::args().collect();
    let mb: u64 = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(110);
    let dir = PathBuf::from(args.get(2).cloned().unwrap_or_else(|| "bench-data".into()));
    std::fs::create_dir_all(&dir)?;
    let csv = dir.join(format!("contacts-{mb}MB.csv"));
    let started = Instant::now();
    let rows = generate(&csv, mb << 20)?;
    let size = report_generated(&csv, &format!("{rows} rows"), started)?;
    let wc_time = warm_and_time_wc_l(&csv)?;

    let ws_dir = dir.join("bench-workspace");
    // Reset the peak-RSS mark so VmHWM measures the imports alone.
    reset_own_peak_rss();
    let rss_before = own_peak_rss();
    let common = CommonOptions {
        tz: chrono_tz::UTC,
        tz_origin: "bench".into(),
        region: Region::parse("GB").map_err(anyhow::Error::msg)?,
        region_code: Some("GB".into()),
    };
    // The machine's speed drifts between runs: the median of RUNS is reported.
    let (times, (time, (cpu, report))) = repeat_in_process(&ws_dir, || -> anyhow::Result<_> {
        let mut ws = Workspace::open(&ws_dir)?;
        let cpu_before = own_cpu_s();
        let report = import_contacts(
            &mut ws,
            std::slice::from_ref(&csv),
            &ContactOptions::default(),
            &common,
            &NoProgress,
        )?;
        Ok((own_cpu_s() - cpu_before, report))
    })?;
    let peak = own_peak_rss();
    let c = report.sources.first().unwrap().counts;
    anyhow::ensure!(
        report.sources.failed() == 0,
        "import failed: {:?}",
        report.sources.first().unwrap().error
    );
    let secs = time.as_secs_f64();
    let mbs = size as f64 / 1e6 / secs;
    let wc_mbs = size as f64 / 1e6 / wc_time.as_secs_f64();
    println!("file            {:.1} MB, {} rows", size as f64 / 1e6, c.read);
    println!("wc -l           {:.3} s ({wc_mbs:.0} MB/s)", wc_time.as_secs_f64());
    println!(
        "import contacts {secs:.2} s ({mbs:.1} MB/s, {:.0} rows/s)",
        c.read as f64 / secs
    );
    println!("runs            median of {RUNS} ({})", times_text(&times));
    println!(
        "cpu             {cpu:.2} s user+system ({:.1} MB per CPU second, {:.2} cores busy)",
        size as f64 / 1e6 / cpu.max(0.01),
        cpu / secs
    );
    println!(
        "accounting      read {} = imported {} + rejected {} + duplicates {}",
        c.read, c.imported, c.rejected, c.duplicates
    );
    println!(
        "peak RSS        {:.0} MB (VmHWM; {:.0} MB before the import)",
        peak as f64 / 1e6,
        rss_before as f64 / 1e6
    );
    println!("ratio to wc -l  {:.0}x", secs / wc_time.as_secs_f64());
    println!("load average    {}", load_average());
    for n in report.sources.first().unwrap().notes.iter() {
        println!("note            {n}");
    }
    Ok(())
}
