//! `outpost`: the engineer app's core from a terminal, for headless use,
//! scripts and tests. Every command works on one device's store
//! (`--data-dir`); `--json` prints machine-readable output, errors included.
//!
//! Exit codes: 0 done; 2 invalid input; 3 not found; 4 refused by the
//! workflow or permissions; 5 not paired (or already paired); 6 desk
//! unreachable; 7 desk refused; 8 device wiped; 9 unsynced changes; 10 disk
//! full (nothing lost; free space and run it again); 11 the data is locked
//! (the store's key is missing or the key store does not answer); 1 other.

mod commands;
mod output;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use outpost_core::{CoreError, ErrorKind};

#[derive(Parser)]
#[command(name = "outpost", version, about = "Outpost field app: tickets, work, and sync from a terminal")]
struct Cli {
    /// The device's data directory (default: $OUTPOST_DATA_DIR, else ~/.local/share/outpost).
    #[arg(long, global = true, env = "OUTPOST_DATA_DIR")]
    data_dir: Option<PathBuf>,
    /// Print JSON instead of text.
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: commands::Command,
}

fn default_data_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("XDG_DATA_HOME").filter(|d| !d.is_empty()) {
        return PathBuf::from(dir).join("outpost");
    }
    let home = std::env::var_os("HOME").map_or_else(|| PathBuf::from("."), PathBuf::from);
    home.join(".local/share/outpost")
}

fn exit_code(kind: ErrorKind) -> u8 {
    match kind {
        ErrorKind::Invalid => 2,
        ErrorKind::NotFound => 3,
        ErrorKind::Refused => 4,
        ErrorKind::NotPaired | ErrorKind::AlreadyPaired => 5,
        ErrorKind::Offline => 6,
        ErrorKind::Desk => 7,
        ErrorKind::Wiped => 8,
        ErrorKind::Unsynced => 9,
        ErrorKind::DiskFull => 10,
        ErrorKind::Locked => 11,
        ErrorKind::Internal => 1,
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_env("OUTPOST_LOG"))
        .with_writer(std::io::stderr)
        .init();
    let runtime = match tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build() {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("error: cannot start: {err}");
            return ExitCode::FAILURE;
        }
    };
    let data_dir = cli.data_dir.unwrap_or_else(default_data_dir);
    let out = output::Output { json: cli.json };
    match runtime.block_on(commands::run(cli.command, &data_dir, &out)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            out.error(&err);
            ExitCode::from(exit_code(err.kind()))
        }
    }
}

/// Reads a file the user named; failing to is their input's fault.
fn read_file(path: &std::path::Path) -> Result<Vec<u8>, CoreError> {
    std::fs::read(path).map_err(|e| CoreError::Invalid(format!("cannot read {}: {e}", path.display())))
}
