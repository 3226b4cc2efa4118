//! `emqx-backup`: inspect, verify and rewrite EMQX 5.x export archives.

mod cli;
mod commands;
mod exit;
mod size;

use clap::Parser;

/// Decoding allocates many small, short-lived terms; mimalloc serves them faster than the system allocator.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    let cli = cli::Cli::parse();
    let code = match commands::run(&cli) {
        Ok(()) => exit::OK,
        Err(e) => {
            let code = exit::code_for(&e);
            if cli.json() {
                let doc =
                    serde_json::json!({"ok": false, "exit_code": code, "error": format!("{e:#}")});
                println!("{doc}");
            } else {
                eprintln!("error: {e:#}");
            }
            code
        }
    };
    std::process::exit(code);
}
