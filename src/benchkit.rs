//! What the benchmark binaries (`src/bin/bench-*.rs`, `omnitrail-bench`) share: a
//! deterministic generator of synthetic data, timing a child process with its peak memory,
//! and this process's own peak memory. Not used by the tool itself.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

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
    /// User + system CPU seconds (last sample of /proc/PID/stat).
    pub cpu_s: f64,
    pub success: bool,
}

/// Runs `cmd` (stdout discarded), sampling its VmHWM every few milliseconds.
pub fn measure(cmd: &mut Command) -> std::io::Result<Measured> {
    let started = Instant::now();
    let mut child = cmd.stdout(Stdio::null()).spawn()?;
    let status_path = format!("/proc/{}/status", child.id());
    let stat_path = format!("/proc/{}/stat", child.id());
    let mut peak = 0u64;
    let mut ticks = 0u64;
    loop {
        if let Ok(s) = std::fs::read_to_string(&status_path) {
            peak = peak.max(vm_hwm(&s).unwrap_or(0));
        }
        if let Ok(s) = std::fs::read_to_string(&stat_path) {
            ticks = ticks.max(cpu_ticks(&s).unwrap_or(0));
        }
        if let Some(status) = child.try_wait()? {
            return Ok(Measured {
                elapsed: started.elapsed(),
                peak_rss: peak,
                cpu_s: ticks as f64 / 100.0,
                success: status.success(),
            });
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Reads `path` once so that the timed commands after it read from the page cache, then times
/// `wc -l` on it: the floor every import is compared with.
pub fn warm_and_time_wc_l(path: &Path) -> std::io::Result<Duration> {
    let _ = std::fs::read(path)?;
    Ok(measure(Command::new("wc").arg("-l").arg(path))?.elapsed)
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

/// utime + stime, in clock ticks (100 a second), from a /proc/PID/stat line.
fn cpu_ticks(stat: &str) -> Option<u64> {
    // The command name may hold spaces: fields are counted after its closing parenthesis,
    // where utime and stime are the 12th and 13th.
    let (_, rest) = stat.rsplit_once(')')?;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some(utime + stime)
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
        let stat = "42 (a b) S 1 2 3 4 5 6 7 8 9 10 250 50 0 0";
        assert_eq!(cpu_ticks(stat), Some(300));
    }
}
