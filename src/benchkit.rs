//! What the benchmark binaries (`src/bin/bench-*.rs`, `omnitrail-bench`) share: a
//! deterministic generator of synthetic data, timing a child process with its peak memory
//! and CPU time, the `wc -l` floor, and this process's own peak memory and CPU time. Not
//! used by the tool itself.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Prints `usage` and exits when the command line asks for help (`-h`, `--help`): the benches
/// read their arguments by position, so the flag would otherwise start a full-size run.
pub fn exit_on_help(usage: &str) {
    if std::env::args().skip(1).any(|a| a == "-h" || a == "--help") {
        // A closed pipe (`--help | head -1`) is not an error worth a panic.
        let _ = writeln!(std::io::stdout(), "{usage}");
        std::process::exit(0);
    }
}

/// SplitMix64: deterministic, fast, and good enough to vary synthetic data.
pub struct SplitMix64(pub u64);

impl SplitMix64 {
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (`n` > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }

    /// True with probability `p`.
    pub fn chance(&mut self, p: f64) -> bool {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64 <= p
    }

    /// One item of a non-empty slice.
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
}

/// What running a child process cost.
#[derive(Debug, Clone, Copy)]
pub struct Measured {
    pub elapsed: Duration,
    /// Peak resident memory (VmHWM), in bytes, sampled from /proc while it ran.
    pub peak_rss: u64,
    /// User + system CPU seconds (`user_s + system_s`).
    pub cpu_s: f64,
    /// User CPU seconds: what the kernel accounted to the child (and the children it waited
    /// for) when it was reaped, or the last sample of /proc/PID/stat if that cannot be read.
    /// Another child this process reaps meanwhile (from another thread) would be counted too.
    pub user_s: f64,
    /// System CPU seconds, likewise.
    pub system_s: f64,
    pub success: bool,
}

/// Runs `cmd` (stdout discarded), sampling its VmHWM and CPU time every few milliseconds.
/// Elapsed time is as fine as the sampling (5 ms); [`warm_and_time_wc_l`] times short commands.
pub fn measure(cmd: &mut Command) -> std::io::Result<Measured> {
    let reaped_before = own_stat_ticks(CHILDREN_TICKS);
    let started = Instant::now();
    let mut child = cmd.stdout(Stdio::null()).spawn()?;
    let status_path = format!("/proc/{}/status", child.id());
    let stat_path = format!("/proc/{}/stat", child.id());
    let mut peak = 0u64;
    let (mut user, mut system) = (0u64, 0u64);
    loop {
        if let Ok(s) = std::fs::read_to_string(&status_path) {
            peak = peak.max(vm_hwm(&s).unwrap_or(0));
        }
        if let Some((u, s)) = std::fs::read_to_string(&stat_path)
            .ok()
            .and_then(|s| stat_ticks(&s, OWN_TICKS))
        {
            (user, system) = (user.max(u), system.max(s));
        }
        if let Some(status) = child.try_wait()? {
            let elapsed = started.elapsed();
            // Reaping added the child's whole CPU time to this process's cutime and cstime.
            if let (Some(before), Some(after)) = (reaped_before, own_stat_ticks(CHILDREN_TICKS)) {
                user = user.max(after.0.saturating_sub(before.0));
                system = system.max(after.1.saturating_sub(before.1));
            }
            let (user_s, system_s) = (user as f64 / 100.0, system as f64 / 100.0);
            return Ok(Measured {
                elapsed,
                peak_rss: peak,
                cpu_s: user_s + system_s,
                user_s,
                system_s,
                success: status.success(),
            });
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Imports timed by the benches: each runs this many times into a fresh workspace and the
/// run with the median wall time is reported (this machine's speed drifts by ±10 % from one
/// minute to the next, and a single run said more about the minute than about the code).
pub const RUNS: usize = 3;

/// [`RUNS`] runs of one import and what they cost.
pub struct Repeated {
    /// The run with the median wall time.
    pub median: Measured,
    /// Every run's wall time, in the order they ran.
    pub times: Vec<Duration>,
    /// The highest peak memory of any run, in bytes.
    pub peak_rss: u64,
    /// Every run succeeded.
    pub success: bool,
}

impl Repeated {
    /// `3.61 3.45 3.43 s`: every run's wall time.
    pub fn times_text(&self) -> String {
        times_text(&self.times)
    }
}

/// `3.61 3.45 3.43 s`: wall times as the benches print them.
pub fn times_text(times: &[Duration]) -> String {
    let times: Vec<String> = times.iter().map(|t| format!("{:.2}", t.as_secs_f64())).collect();
    format!("{} s", times.join(" "))
}

/// [`RUNS`] runs of an import made in this process, removing `workspace` before each:
/// every run's wall time in order, and the run with the median wall time with what `run`
/// returned for it.
pub fn repeat_in_process<T, E>(
    workspace: &Path,
    mut run: impl FnMut() -> Result<T, E>,
) -> Result<(Vec<Duration>, (Duration, T)), E> {
    let mut runs = Vec::with_capacity(RUNS);
    for _ in 0..RUNS {
        let _ = std::fs::remove_dir_all(workspace);
        let started = Instant::now();
        let out = run()?;
        runs.push((started.elapsed(), out));
    }
    let times = runs.iter().map(|r| r.0).collect();
    runs.sort_by_key(|r| r.0);
    let median = runs.swap_remove(runs.len() / 2);
    Ok((times, median))
}

/// Runs the command `make` builds [`RUNS`] times, removing `workspace` before each run.
pub fn measure_repeated(workspace: &Path, mut make: impl FnMut() -> Command) -> std::io::Result<Repeated> {
    let mut runs = Vec::with_capacity(RUNS);
    for _ in 0..RUNS {
        let _ = std::fs::remove_dir_all(workspace);
        runs.push(measure(&mut make())?);
    }
    let times = runs.iter().map(|r| r.elapsed).collect();
    let peak_rss = runs.iter().map(|r| r.peak_rss).max().unwrap_or(0);
    let success = runs.iter().all(|r| r.success);
    runs.sort_by_key(|r| r.elapsed);
    Ok(Repeated {
        median: runs[runs.len() / 2],
        times,
        peak_rss,
        success,
    })
}

/// Flushes `path` to disk, reads it once (streamed, not held in memory) so that the timed commands after it read
/// from the page cache, then times `wc -l` on it: the floor every import is compared with.
pub fn warm_and_time_wc_l(path: &Path) -> std::io::Result<Duration> {
    // The generator's writes go to disk first: the kernel flushing them during the run
    // would be charged to the importer.
    std::fs::File::open(path)?.sync_all()?;
    std::io::copy(&mut std::fs::File::open(path)?, &mut std::io::sink())?;
    let started = Instant::now();
    let status = Command::new("wc").arg("-l").arg(path).stdout(Stdio::null()).status()?;
    let elapsed = started.elapsed();
    if !status.success() {
        return Err(std::io::Error::other(format!("wc -l {} failed", path.display())));
    }
    Ok(elapsed)
}

/// Reports on stderr the input a bench has just written, `generated PATH (X MB, WHAT) in T`
/// (`started`: when the writing began), and returns its size in bytes.
pub fn report_generated(path: &Path, what: &str, started: Instant) -> std::io::Result<u64> {
    let size = std::fs::metadata(path)?.len();
    eprintln!(
        "generated {} ({:.1} MB, {what}) in {:.1?}",
        path.display(),
        size as f64 / 1e6,
        started.elapsed()
    );
    Ok(size)
}

/// This process's peak resident memory (VmHWM), in bytes.
pub fn own_peak_rss() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| vm_hwm(&s))
        .unwrap_or(0)
}

/// Resets this process's peak-memory mark, so that [`own_peak_rss`] measures what follows.
pub fn reset_own_peak_rss() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

/// The 1, 5 and 15 minute load averages, as /proc/loadavg writes them (figures depend on it).
pub fn load_average() -> String {
    let text = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    text.split_whitespace().take(3).collect::<Vec<_>>().join(" ")
}

/// User and system CPU seconds this process has used so far (for benches that run the work
/// in-process).
pub fn own_cpu_s() -> f64 {
    own_stat_ticks(OWN_TICKS).map_or(0.0, |(u, s)| (u + s) as f64 / 100.0)
}

/// Where utime and stime (this process) and cutime and cstime (its reaped children) stand
/// among the fields after the command name of a /proc/PID/stat line.
const OWN_TICKS: usize = 11;
const CHILDREN_TICKS: usize = 13;

fn own_stat_ticks(first: usize) -> Option<(u64, u64)> {
    stat_ticks(&std::fs::read_to_string("/proc/self/stat").ok()?, first)
}

/// A pair of CPU times, in clock ticks (100 a second), from a /proc/PID/stat line: the
/// `first` and next fields after the command name.
fn stat_ticks(stat: &str, first: usize) -> Option<(u64, u64)> {
    // The command name may hold spaces: fields are counted after its closing parenthesis.
    let (_, rest) = stat.rsplit_once(')')?;
    let mut fields = rest.split_whitespace().skip(first);
    let user: u64 = fields.next()?.parse().ok()?;
    let system: u64 = fields.next()?.parse().ok()?;
    Some((user, system))
}

fn vm_hwm(status: &str) -> Option<u64> {
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_generator_is_deterministic_and_in_range() {
        let (mut a, mut b) = (SplitMix64(7), SplitMix64(7));
        for _ in 0..100 {
            let x = a.below(10);
            assert_eq!(x, b.below(10));
            assert!(x < 10);
        }
    }

    #[test]
    fn peak_memory_is_read_from_proc() {
        assert_eq!(vm_hwm("Name:\tx\nVmHWM:\t  2048 kB\n"), Some(2 * 1024 * 1024));
        assert!(own_peak_rss() > 0);
    }

    #[test]
    fn cpu_time_is_read_after_the_command_name() {
        let stat = "42 (a b) S 1 2 3 4 5 6 7 8 9 10 250 50 7 3 20 0";
        assert_eq!(stat_ticks(stat, OWN_TICKS), Some((250, 50)));
        assert_eq!(stat_ticks(stat, CHILDREN_TICKS), Some((7, 3)));
    }

    #[test]
    fn a_childs_cpu_time_is_counted_once_it_is_reaped() {
        let busy = "i=0; while [ $i -lt 200000 ]; do i=$((i+1)); done";
        let run = measure(Command::new("sh").args(["-c", busy])).unwrap();
        assert!(run.success);
        assert!(run.cpu_s > 0.0, "{run:?}");
        assert!((run.cpu_s - run.user_s - run.system_s).abs() < 1e-9);
    }
}
