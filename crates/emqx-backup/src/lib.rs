//! The command-line definitions of `emqx-backup`, for tools that need them without running
//! the binary (man pages, shell completions, the help checks).

pub mod cli;
mod size;
