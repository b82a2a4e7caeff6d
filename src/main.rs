//! The omnitrail binary: parse arguments, run the command, map errors to exit codes.

use clap::Parser;

// Importers allocate many short strings on one thread and free them on another
// (the Parquet writer); mimalloc handles that pattern far better than glibc malloc.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = match omnitrail_cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    let _ = ctrlc::set_handler(|| {
        omnitrail::import::INTERRUPTED.store(true, std::sync::atomic::Ordering::SeqCst);
    });
    match omnitrail_cli::run(cli) {
        Ok(code) => ExitCode::from(code),
        Err(e) if e.chain().any(|c| c.is::<omnitrail::workspace::lock::WaitInterrupted>()) => {
            eprintln!("omnitrail: {e:#}");
            ExitCode::from(130)
        }
        Err(e) => {
            eprintln!("omnitrail: error: {e:#}");
            if disk_full(&e) {
                eprintln!(
                    "omnitrail: the disk is full: free some space and run the command again (an import that fails leaves the workspace as it was)"
                );
            }
            ExitCode::from(1)
        }
    }
}

/// Whether `e` comes from a full disk. Polars passes the I/O error on as text only.
fn disk_full(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::StorageFull)
            || c.to_string().contains("No space left on device")
    })
}

#[path = "cli/mod.rs"]
mod omnitrail_cli;

#[cfg(test)]
mod tests {
    #[test]
    fn a_full_disk_is_recognised_as_an_error_or_as_polars_text() {
        let io = std::io::Error::new(std::io::ErrorKind::StorageFull, "full");
        assert!(super::disk_full(&anyhow::Error::new(io).context("writing the batch")));
        let polars = anyhow::anyhow!("parquet: underlying IO error: No space left on device (os error 28)");
        assert!(super::disk_full(&polars));
        assert!(!super::disk_full(&anyhow::anyhow!("not a WhatsApp export")));
    }
}
