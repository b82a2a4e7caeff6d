//! Benchmarks built on `omnitrail gen` (docs/benchmarks.md).
//!
//! ```text
//! bench-gen gen CUSTOMERS [DIR]            generation throughput (customers/s, MB/s, peak RSS)
//! bench-gen import MIN_MB OMNITRAIL [DIR]  generate ≥ MIN_MB per channel, then import each
//!                                          channel with the omnitrail binary: MB/s, records/s,
//!                                          peak RSS of the child, ratio to `wc -l`
//! ```
//! DIR defaults to a temporary folder under /tmp, removed at the end.

use omnitrail::benchkit::own_peak_rss;
use omnitrail::gen::{generate, GenOptions};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Customers in the sizing run (bytes per customer per channel are stable well below this).
const CALIBRATION: u64 = 500;

fn files_under(path: &Path) -> Vec<PathBuf> {
    if path.is_file() {
        return vec![path.to_path_buf()];
    }
    let mut out = Vec::new();
    if let Ok(rd) = std::fs::read_dir(path) {
        for e in rd.flatten() {
            out.extend(files_under(&e.path()));
        }
    }
    out.sort();
    out
}

fn bytes_of(path: &Path) -> u64 {
    files_under(path)
        .iter()
        .map(|p| p.metadata().map(|m| m.len()).unwrap_or(0))
        .sum()
}

/// Runs a command; returns wall time, the child's peak RSS in bytes (from `/usr/bin/time -v`,
/// i.e. wait4 rusage) and its exit code.
fn measure(program: &str, args: &[String]) -> std::io::Result<(Duration, u64, i32)> {
    let timed = Path::new("/usr/bin/time").exists();
    let mut cmd = if timed {
        let mut c = Command::new("/usr/bin/time");
        c.arg("-v").arg(program);
        c
    } else {
        Command::new(program)
    };
    let started = Instant::now();
    let out = cmd.args(args).stdout(Stdio::null()).stderr(Stdio::piped()).output()?;
    let took = started.elapsed();
    let err = String::from_utf8_lossy(&out.stderr);
    let kb: u64 = err
        .lines()
        .find_map(|l| l.trim().strip_prefix("Maximum resident set size (kbytes): "))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0);
    // `time -v` reports "Exit status: 0" for a child killed by a signal: check for that first.
    let killed = err
        .lines()
        .any(|l| l.trim().starts_with("Command terminated by signal"));
    let code = err
        .lines()
        .find_map(|l| l.trim().strip_prefix("Exit status: "))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(out.status.code().unwrap_or(-1));
    let code = if killed { -1 } else { code };
    Ok((took, kb * 1024, code))
}

fn import_args(ws: &Path, kind: &str, path: &Path, business: &Path) -> Vec<String> {
    vec![
        "--workspace".into(),
        ws.display().to_string(),
        "--quiet".into(),
        "import".into(),
        kind.into(),
        path.display().to_string(),
        "--business-file".into(),
        business.display().to_string(),
    ]
}

fn run_gen(customers: u64, leads: u64, dir: &Path) -> anyhow::Result<(omnitrail::gen::GenSummary, Duration)> {
    let started = Instant::now();
    let s = generate(
        &GenOptions {
            customers,
            seed: 1,
            out: dir.to_path_buf(),
            crm_leads: leads,
        },
        |_| {},
    )?;
    Ok((s, started.elapsed()))
}

fn usage() -> ! {
    eprintln!("usage: bench-gen gen CUSTOMERS [DIR] | bench-gen import MIN_MB OMNITRAIL [DIR]");
    std::process::exit(2)
}

const USAGE: &str =
    "usage: bench-gen gen CUSTOMERS [DIR]            generation throughput (customers/s, MB/s, peak RSS)
       bench-gen import MIN_MB OMNITRAIL [DIR]  generate >= MIN_MB per channel, then import each channel";

fn main() -> anyhow::Result<()> {
    omnitrail::benchkit::exit_on_help(USAGE);
    let args: Vec<String> = std::env::args().skip(1).collect();
    let tmp = || std::env::temp_dir().join(format!("gen-bench-{}", std::process::id()));
    match args.first().map(String::as_str) {
        Some("gen") => {
            let customers: u64 = args.get(1).and_then(|n| n.parse().ok()).unwrap_or_else(|| usage());
            let dir = args.get(2).map(PathBuf::from).unwrap_or_else(tmp);
            let (s, took) = run_gen(customers, 0, &dir)?;
            let secs = took.as_secs_f64();
            println!(
                "gen {customers} customers: {:.1} s, {:.0} customers/s, {:.1} MB written ({:.1} MB/s), {} interactions ({:.0}/s), peak RSS {:.0} MB",
                secs,
                customers as f64 / secs,
                s.bytes as f64 / 1e6,
                s.bytes as f64 / 1e6 / secs,
                s.interactions,
                s.interactions as f64 / secs,
                own_peak_rss() as f64 / 1e6
            );
            if args.get(2).is_none() {
                std::fs::remove_dir_all(&dir)?;
            }
        }
        Some("import") => {
            let min_mb: f64 = args.get(1).and_then(|n| n.parse().ok()).unwrap_or_else(|| usage());
            let bin = args.get(2).cloned().unwrap_or_else(|| usage());
            let dir = args.get(3).map(PathBuf::from).unwrap_or_else(tmp);
            // Calibrate bytes per customer per channel on a small run, and find out which
            // importers this omnitrail has (stubs exit 2); size the real run for those.
            let cal = dir.join("calibration");
            let cal_summary = run_gen(CALIBRATION, 0, &cal)?.0;
            let all = [
                ("whatsapp", "whatsapp"),
                ("email", "email"),
                ("calls", "calls"),
                ("contacts", "contacts"),
            ];
            let mut channels = Vec::new();
            let mut worst = f64::INFINITY;
            let mut leads = 0;
            for (kind, sub) in all {
                let ws = cal.join(format!("ws-{kind}"));
                let args = import_args(&ws, kind, &cal.join(sub), &cal.join("business.toml"));
                let (_, _, code) = measure(&bin, &args)?;
                if code == 0 && kind == "contacts" {
                    // The CRM grows with leads, not customers.
                    channels.push((kind, sub));
                    let per_row = bytes_of(&cal.join(sub)) as f64 / cal_summary.contacts.max(1) as f64;
                    leads = (min_mb * 1e6 / per_row * 1.02).ceil() as u64;
                } else if code == 0 {
                    channels.push((kind, sub));
                    worst = worst.min(bytes_of(&cal.join(sub)) as f64 / CALIBRATION as f64);
                } else {
                    println!("{kind}: importer not available in {bin} (exit {code}); skipped");
                }
            }
            std::fs::remove_dir_all(&cal)?;
            if channels.is_empty() {
                anyhow::bail!("no importer of {bin} accepted the generated files");
            }
            let mut customers = if worst.is_finite() {
                ((min_mb * 1e6 / worst) * 1.02).ceil() as u64
            } else {
                1000
            };
            // The calibration extrapolates from a small run: a channel that still comes out
            // short is scaled up and the data generated again (at most twice more).
            let data = dir.join("data");
            let mut attempt = 0;
            let (s, took) = loop {
                attempt += 1;
                let (s, took) = run_gen(customers, leads, &data)?;
                let short: Vec<(&str, f64)> = channels
                    .iter()
                    .map(|(kind, sub)| (*kind, bytes_of(&data.join(sub)) as f64 / (min_mb * 1e6)))
                    .filter(|(_, share)| *share < 1.0)
                    .collect();
                if short.is_empty() || attempt == 3 {
                    break (s, took);
                }
                for (kind, share) in short {
                    if kind == "contacts" {
                        leads = (leads as f64 * 1.05 / share).ceil() as u64;
                    } else {
                        customers = customers.max((customers as f64 * 1.05 / share).ceil() as u64);
                    }
                }
                println!(
                    "a channel came out under {min_mb} MB: generating {customers} customers and {leads} CRM leads"
                );
                std::fs::remove_dir_all(&data)?;
            };
            println!(
                "generated {customers} customers and {leads} CRM leads ({:.0} MB) in {:.1} s ({:.1} MB/s)",
                s.bytes as f64 / 1e6,
                took.as_secs_f64(),
                s.bytes as f64 / 1e6 / took.as_secs_f64()
            );
            // Records per channel, counted from the truth without holding it in memory.
            let mut per_channel: std::collections::HashMap<String, f64> = std::collections::HashMap::new();
            for line in std::io::BufRead::lines(std::io::BufReader::new(std::fs::File::open(
                data.join("truth/interactions.csv"),
            )?)) {
                let line = line?;
                let channel = line.split(',').next().unwrap_or("").to_string();
                *per_channel.entry(channel).or_default() += 1.0;
            }
            println!(
                "| channel | input | records | wc -l | omnitrail import | records/s | peak RSS | ratio to wc -l |"
            );
            println!("|---|---|---|---|---|---|---|---|");
            for (kind, sub) in channels {
                let path = data.join(sub);
                let files = files_under(&path);
                let bytes = bytes_of(&path);
                let channel = if kind == "calls" {
                    "call"
                } else if kind == "contacts" {
                    "contact"
                } else {
                    kind
                };
                let records = per_channel.get(channel).copied().unwrap_or(0.0);
                let mut wc_args: Vec<String> = vec!["-l".into()];
                wc_args.extend(files.iter().map(|f| f.display().to_string()));
                // wc on many chat files would exceed the argument limit: use the folder's files in chunks.
                let wc_started = Instant::now();
                for chunk in wc_args[1..].chunks(2000) {
                    Command::new("wc")
                        .arg("-l")
                        .args(chunk)
                        .stdout(Stdio::null())
                        .status()?;
                }
                let wc = wc_started.elapsed().as_secs_f64();
                let ws = dir.join(format!("ws-{kind}"));
                let args = import_args(&ws, kind, &path, &data.join("business.toml"));
                let (took, rss, code) = measure(&bin, &args)?;
                let secs = took.as_secs_f64();
                let mb = bytes as f64 / 1e6;
                if code != 0 {
                    println!("| {kind} | {mb:.0} MB, {} files | {records} | {wc:.2} s | exit {code} (failed or killed) | | | |", files.len());
                } else {
                    println!(
                        "| {kind} | {mb:.0} MB, {} files | {records} | {wc:.2} s ({:.0} MB/s) | {secs:.1} s ({:.1} MB/s) | {:.0} | {:.0} MB | {:.0}× |",
                        files.len(),
                        mb / wc,
                        mb / secs,
                        records / secs,
                        rss as f64 / 1e6,
                        secs / wc
                    );
                }
                let _ = std::fs::remove_dir_all(&ws);
            }
            if args.get(3).is_none() {
                std::fs::remove_dir_all(&dir)?;
            }
        }
        _ => usage(),
    }
    Ok(())
}
