//! `emqx-backup files list|download|upload|delete`: the backup files of a live cluster.

use super::live::{self, Ui};
use crate::cli::FilesCommand;
use crate::exit::Usage;
use emqx_client::{BackupFile, Client, ClientError};
use serde_json::json;

/// The node holding `name`: the one given, or the only one listing it.
fn locate(client: &Client, name: &str, from: Option<&str>) -> anyhow::Result<BackupFile> {
    let files: Vec<BackupFile> = client
        .list_files()?
        .into_iter()
        .filter(|f| f.filename == name && from.is_none_or(|n| f.node == n))
        .collect();
    match files.len() {
        1 => Ok(files.into_iter().next().expect("one file")),
        0 => Err(ClientError::NotFound {
            url: format!("{}/api/v5/data/files", client.base_url()),
            code: "NOT_FOUND".into(),
            message: format!(
                "backup file not found: {name}{}",
                from.map(|n| format!(" on {n}")).unwrap_or_default()
            ),
        }
        .into()),
        _ => {
            let nodes: Vec<&str> = files.iter().map(|f| f.node.as_str()).collect();
            Err(Usage(format!(
                "{name} is on several nodes ({}): choose one with --from-node",
                nodes.join(", ")
            ))
            .into())
        }
    }
}

/// Runs a `files` subcommand.
pub fn run(cmd: &FilesCommand, client: &Client, ui: &Ui) -> anyhow::Result<()> {
    match cmd {
        FilesCommand::List { .. } => {
            let files = client.list_files()?;
            if ui.json {
                println!("{}", serde_json::to_string_pretty(&files)?);
            } else if !ui.quiet {
                let w = files
                    .iter()
                    .map(|f| f.filename.len())
                    .max()
                    .unwrap_or(0)
                    .max(8);
                println!(
                    "{:<w$}  {:>10}  {:<25}  NODE",
                    "FILENAME", "SIZE", "CREATED"
                );
                for f in &files {
                    println!(
                        "{:<w$}  {:>10}  {:<25}  {}",
                        f.filename, f.size, f.created_at, f.node
                    );
                }
                if ui.verbose {
                    println!("{} files", files.len());
                }
            }
        }
        FilesCommand::Download {
            name,
            from_node,
            output,
            ..
        } => {
            if emqx_archive::backup_base(name).is_none() {
                return Err(Usage(format!(
                    "{name}: invalid backup name: file name must have .tar.gz extension"
                ))
                .into());
            }
            let file = match from_node {
                Some(n) => BackupFile {
                    filename: name.clone(),
                    size: 0,
                    created_at: String::new(),
                    created_at_sec: 0,
                    node: n.clone(),
                },
                None => locate(client, name, None)?,
            };
            let tmp = live::download_temp(client, &file, output, ui)?;
            let size = std::fs::metadata(&tmp.path).map(|m| m.len()).unwrap_or(0);
            let target = output.join(name);
            tmp.persist(&target)?;
            if ui.json {
                println!(
                    "{}",
                    json!({"ok": true, "file": target, "node": file.node, "size": size})
                );
            } else if !ui.quiet {
                println!(
                    "downloaded {} from {} ({size} bytes)",
                    target.display(),
                    file.node
                );
            }
        }
        FilesCommand::Upload { file, .. } => {
            let name = file
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or_default()
                .to_owned();
            let mut bar = ui.progress(&format!("uploading {name}"));
            client.upload(file, &mut |d, t| bar.update(d, t))?;
            bar.finish();
            if ui.json {
                println!(
                    "{}",
                    json!({"ok": true, "filename": name, "node": client.base_url()})
                );
            } else if !ui.quiet {
                println!("uploaded {name} to {}", client.base_url());
            }
        }
        FilesCommand::Delete {
            name, from_node, ..
        } => {
            let node = match from_node {
                Some(n) => n.clone(),
                None => locate(client, name, None)?.node,
            };
            client.delete(name, Some(&node))?;
            if ui.json {
                println!("{}", json!({"ok": true, "filename": name, "node": node}));
            } else if !ui.quiet {
                println!("deleted {name} on {node}");
            }
        }
    }
    Ok(())
}
