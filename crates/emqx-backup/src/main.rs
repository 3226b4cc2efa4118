//! `emqx-backup`: back up and restore EMQX 5.x data, and work offline on its export archives.

mod commands;
mod exit;

use clap::Parser;
use emqx_backup::cli;

/// Decoding allocates many small, short-lived terms; mimalloc serves them faster than the system allocator.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Restores the default action of SIGPIPE, which Rust's runtime ignores: output piped into
/// `head` ends the process quietly, as other command-line tools do, instead of a panic in
/// `println!`.
#[cfg(unix)]
fn quiet_on_closed_pipe() {
    // SAFETY: setting a signal's disposition to its default before any thread starts.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

fn main() {
    #[cfg(unix)]
    quiet_on_closed_pipe();
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
