//! Contacts import benchmark: generates a large HubSpot-style contacts CSV, then measures
//! `wc -l` and the contacts import (library call, fresh workspace) on the same file in the
//! same run: MB/s, rows/s, peak resident memory and the ratio to `wc -l`.
//! See docs/benchmarks.md.
//!
//! Usage: cargo run --release --bin bench-contacts -- [SIZE_MB] [DIR]

use omnitrail::import::contacts::{import_contacts, ContactOptions};
use omnitrail::import::pipeline::NoProgress;
use omnitrail::import::CommonOptions;
use omnitrail::normalize::phone::Region;
use omnitrail::workspace::Workspace;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

/// SplitMix64: deterministic and good enough to vary synthetic rows.
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
    let mut rng = Rng(7);
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
            let (f, l) = (
                FIRST[rng.below(FIRST.len() as u64) as usize],
                LAST[rng.below(LAST.len() as u64) as usize],
            );
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

fn vm_hwm_bytes() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|n| n.parse::<u64>().ok()))
        })
        .unwrap_or(0)
        * 1024
}

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let mb: u64 = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(110);
    let dir = PathBuf::from(args.get(2).cloned().unwrap_or_else(|| "bench-data".into()));
    std::fs::create_dir_all(&dir)?;
    let csv = dir.join(format!("contacts-{mb}MB.csv"));
    let started = Instant::now();
    let rows = generate(&csv, mb << 20)?;
    let size = std::fs::metadata(&csv)?.len();
    eprintln!(
        "generated {} ({:.1} MB, {rows} rows) in {:.1?}",
        csv.display(),
        size as f64 / 1e6,
        started.elapsed()
    );
    // Warm the page cache so both measurements read from memory.
    drop(std::fs::read(&csv)?);
    let wc_started = Instant::now();
    let wc = Command::new("wc").arg("-l").arg(&csv).stdout(Stdio::null()).status()?;
    let wc_time = wc_started.elapsed();
    anyhow::ensure!(wc.success(), "wc -l failed");

    let ws_dir = dir.join("bench-workspace");
    let _ = std::fs::remove_dir_all(&ws_dir);
    // Reset the peak-RSS mark so VmHWM measures the import alone.
    let _ = std::fs::write("/proc/self/clear_refs", "5");
    let rss_before = vm_hwm_bytes();
    let common = CommonOptions {
        tz: chrono_tz::UTC,
        tz_origin: "bench".into(),
        region: Region::parse("GB").map_err(anyhow::Error::msg)?,
        region_code: Some("GB".into()),
    };
    let import_started = Instant::now();
    let mut ws = Workspace::open(&ws_dir)?;
    let report = import_contacts(
        &mut ws,
        std::slice::from_ref(&csv),
        &ContactOptions::default(),
        &common,
        &NoProgress,
    )?;
    let time = import_started.elapsed();
    let peak = vm_hwm_bytes();
    let c = report.sources[0].counts;
    anyhow::ensure!(report.failed() == 0, "import failed: {:?}", report.sources[0].error);
    let secs = time.as_secs_f64();
    let mbs = size as f64 / 1e6 / secs;
    let wc_mbs = size as f64 / 1e6 / wc_time.as_secs_f64();
    println!("file            {:.1} MB, {} rows", size as f64 / 1e6, c.read);
    println!("wc -l           {:.3} s ({wc_mbs:.0} MB/s)", wc_time.as_secs_f64());
    println!(
        "import contacts {secs:.2} s ({mbs:.1} MB/s, {:.0} rows/s)",
        c.read as f64 / secs
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
    for n in &report.sources[0].notes {
        println!("note            {n}");
    }
    Ok(())
}
