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
        // Ctrl-C (a wait for the workspace ended, say): exit 130, as an interrupted import.
        Err(e) if omnitrail::import::INTERRUPTED.load(std::sync::atomic::Ordering::Relaxed) => {
            eprintln!("omnitrail: {e:#}");
            ExitCode::from(130)
        }
        Err(e) => {
            eprintln!("omnitrail: error: {e:#}");
            if omnitrail::workspace::disk_full(&e) {
                eprintln!(
                    "omnitrail: the disk is full: free some space and run the command again (an import that fails leaves the workspace as it was)"
                );
            }
            ExitCode::from(1)
        }
    }
}

#[path = "cli/mod.rs"]
mod omnitrail_cli;
