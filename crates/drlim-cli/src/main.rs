//! `drlim`: learn a low-dimensional, invariant mapping from neighbour relations (DrLIM,
//! Hadsell, Chopra & LeCun 2006) and apply it to new data. Thin: parse, call the engine, report.

mod cli;
mod commands;
mod interrupt;
mod progress;
mod timings;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    // A closed stdout (`drlim bench | head`) ends the process quietly, as it ends other Unix
    // tools, instead of a panic in println!. Rust ignores SIGPIPE by default; restore it.
    #[cfg(unix)]
    // SAFETY: called first, before any thread exists; SIG_DFL is a valid disposition.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    let cli = cli::Cli::parse();
    if let Some(threads) = cli.threads {
        if let Err(e) = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build_global()
        {
            eprintln!("error: --threads {threads}: {e}");
            return ExitCode::FAILURE;
        }
    }
    match commands::run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {}", cli::in_cli_terms(&e));
            ExitCode::FAILURE
        }
    }
}
