//! Man pages and shell completions of `emqx-backup` and `emqx-sim`, generated from their clap
//! definitions (the `cli` modules of their library targets).

use anyhow::ensure;
use clap::CommandFactory;
use clap_complete::Shell;

/// The shells completions are written for.
const SHELLS: [Shell; 3] = [Shell::Bash, Shell::Zsh, Shell::Fish];

/// The command trees of the shipped binaries, built (global args propagated, help added).
pub fn commands() -> Vec<clap::Command> {
    [
        emqx_backup::cli::Cli::command(),
        emqx_sim::cli::Cli::command(),
    ]
    .into_iter()
    .map(|cmd| {
        let mut cmd = cmd.disable_help_subcommand(true);
        cmd.build();
        cmd
    })
    .collect()
}

/// The args and subcommands of `cmd` and everything below it that have no help text, named
/// by their command path (`emqx-backup files list --json`).
pub fn missing_help(cmd: &clap::Command) -> Vec<String> {
    let mut out = Vec::new();
    walk_missing(cmd, cmd.get_name(), &mut out);
    out
}

fn walk_missing(cmd: &clap::Command, path: &str, out: &mut Vec<String>) {
    for arg in cmd.get_arguments() {
        if arg.get_help().is_none() && arg.get_long_help().is_none() {
            out.push(format!("{path} {}", arg.get_id()));
        }
    }
    for sub in cmd.get_subcommands() {
        let sub_path = format!("{path} {}", sub.get_name());
        if sub.get_about().is_none() && sub.get_long_about().is_none() {
            out.push(sub_path.clone());
        }
        walk_missing(sub, &sub_path, out);
    }
}

/// One man page (section 1) per command and subcommand, as `(file name, roff)`:
/// `emqx-backup.1`, `emqx-backup-files-list.1`, ...
pub fn man_pages(cmd: &clap::Command) -> anyhow::Result<Vec<(String, Vec<u8>)>> {
    let missing = missing_help(cmd);
    ensure!(
        missing.is_empty(),
        "these have no help text, so their man pages would be empty: {}",
        missing.join(", ")
    );
    let source = format!(
        "{} {}",
        cmd.get_name(),
        cmd.get_version().unwrap_or_default()
    );
    let mut pages = Vec::new();
    let mut todo = vec![cmd.clone()];
    while let Some(cmd) = todo.pop() {
        todo.extend(cmd.get_subcommands().filter(|s| !s.is_hide_set()).cloned());
        let man = clap_mangen::Man::new(cmd).source(&source);
        let mut roff = Vec::new();
        man.render(&mut roff)?;
        pages.push((man.get_filename(), roff));
    }
    pages.sort();
    Ok(pages)
}

/// The completion scripts of `cmd` for bash, zsh and fish, as `(file name, script)`:
/// `emqx-backup.bash`, `_emqx-backup`, `emqx-backup.fish`.
pub fn completions(cmd: &clap::Command) -> Vec<(String, Vec<u8>)> {
    let name = cmd.get_name().to_owned();
    SHELLS
        .iter()
        .map(|shell| {
            let mut script = Vec::new();
            clap_complete::generate(*shell, &mut cmd.clone(), &name, &mut script);
            (clap_complete::Generator::file_name(shell, &name), script)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_argument_and_subcommand_of_both_binaries_has_help() {
        let cmds = commands();
        assert_eq!(cmds.len(), 2);
        for cmd in &cmds {
            assert!(cmd.get_arguments().count() > 1, "{}", cmd.get_name());
            assert_eq!(missing_help(cmd), Vec::<String>::new());
        }
    }

    #[test]
    fn missing_help_names_the_argument_and_the_subcommand() {
        let cmd = clap::Command::new("x")
            .arg(clap::Arg::new("bare").long("bare"))
            .subcommand(clap::Command::new("quiet"));
        assert_eq!(missing_help(&cmd), ["x bare", "x quiet"]);
    }

    #[test]
    fn a_page_per_subcommand() {
        let cmds = commands();
        let pages: Vec<String> = man_pages(&cmds[0])
            .unwrap()
            .into_iter()
            .map(|(name, roff)| {
                assert!(roff.starts_with(b".ie \\n(.g .ds Aq"), "{name} is roff");
                name
            })
            .collect();
        for page in [
            "emqx-backup.1",
            "emqx-backup-inspect.1",
            "emqx-backup-import.1",
            "emqx-backup-files.1",
            "emqx-backup-files-list.1",
        ] {
            assert!(pages.iter().any(|p| p == page), "{page} in {pages:?}");
        }
        assert!(!pages.iter().any(|p| p.contains("help")), "{pages:?}");
        let sim: Vec<String> = man_pages(&cmds[1])
            .unwrap()
            .into_iter()
            .map(|p| p.0)
            .collect();
        assert!(
            sim.contains(&"emqx-sim-ctl-data-export.1".to_owned()),
            "{sim:?}"
        );
    }

    #[test]
    fn completions_for_three_shells() {
        let files = completions(&commands()[0]);
        let names: Vec<&str> = files.iter().map(|f| f.0.as_str()).collect();
        assert_eq!(
            names,
            ["emqx-backup.bash", "_emqx-backup", "emqx-backup.fish"]
        );
        for (name, script) in &files {
            let text = String::from_utf8_lossy(script);
            assert!(text.contains("inspect"), "{name} completes subcommands");
        }
    }
}
