//! A node doing several things at once: one import at a time, exports in the same millisecond.

use emqx_archive::{Edition, Limits};
use emqx_backup_tests::{fixture_archives, plugins};
use emqx_sim_store::{DataError, ExportOptions, Node, NodeInfo, Role};
use std::collections::BTreeSet;
use std::path::Path;
use std::sync::{mpsc, Arc, Barrier};

const ARCHIVE: &str = "emqx-export-upload-ce.tar.gz";

fn core(dir: &Path) -> Node {
    let info = NodeInfo {
        name: "emqx@127.0.0.1".into(),
        role: Role::Core,
        edition: Edition::Ce,
        version: "5.8.6".into(),
        data_dir: dir.join("data"),
    };
    Node::open(info, Some(&plugins::build())).expect("node opens")
}

fn staged(node: &Node, name: &str, as_name: &str) -> std::path::PathBuf {
    let from = fixture_archives()
        .into_iter()
        .find(|p| p.file_name().unwrap().to_str().unwrap() == name)
        .unwrap_or_else(|| panic!("no fixture {name}"));
    let to = node.backup_dir().join(as_name);
    std::fs::copy(from, &to).unwrap();
    to
}

#[test]
fn a_second_import_is_refused_while_one_runs() {
    let dir = tempfile::tempdir().unwrap();
    let node = Arc::new(core(dir.path()));
    let first = staged(&node, ARCHIVE, ARCHIVE);
    // Refused before it is read, so the copy need not be importable.
    let second = staged(&node, ARCHIVE, "emqx-export-second.tar.gz");
    let (started_tx, started_rx) = mpsc::channel::<()>();
    let (tried_tx, tried_rx) = mpsc::channel::<()>();
    let n = node.clone();
    // The first import holds still at its first line until the second one has been tried.
    let running = std::thread::spawn(move || {
        let mut waited = false;
        n.import(&first, &mut |_| {
            if !waited {
                waited = true;
                started_tx.send(()).unwrap();
                tried_rx.recv().unwrap();
            }
        })
    });
    started_rx.recv().unwrap();
    assert_eq!(node.import_in_progress().as_deref(), Some(ARCHIVE));
    let refused = node.import(&second, &mut |_| {}).unwrap_err();
    assert!(
        matches!(&refused, DataError::ImportInProgress(name) if name == ARCHIVE),
        "{refused:?}"
    );
    assert_eq!(
        refused.to_string(),
        format!(
            "backup data import is already in progress: \"{ARCHIVE}\"; only one import runs \
             at a time, try again when it has finished"
        )
    );
    assert_eq!(refused.code(), "BAD_REQUEST");
    tried_tx.send(()).unwrap();
    running.join().unwrap().expect("the first import completes");
    assert_eq!(node.import_in_progress(), None);
    node.import(&node.backup_dir().join(ARCHIVE), &mut |_| {})
        .expect("the next import runs once the first is done");
}

#[test]
fn exports_at_once_get_distinct_whole_files() {
    let dir = tempfile::tempdir().unwrap();
    let node = Arc::new(core(dir.path()));
    node.import(&staged(&node, ARCHIVE, ARCHIVE), &mut |_| {})
        .unwrap();
    let threads = 8;
    let barrier = Arc::new(Barrier::new(threads));
    let handles: Vec<_> = (0..threads)
        .map(|_| {
            let (node, barrier) = (node.clone(), barrier.clone());
            std::thread::spawn(move || {
                barrier.wait();
                node.export(&ExportOptions::default(), &mut |_| {})
            })
        })
        .collect();
    let paths: BTreeSet<_> = handles
        .into_iter()
        .map(|h| h.join().unwrap().expect("every export succeeds"))
        .collect();
    assert_eq!(paths.len(), threads);
    let listed: BTreeSet<_> = node
        .list_files()
        .unwrap()
        .into_iter()
        .map(|f| node.backup_dir().join(f.filename))
        .filter(|p| !p.ends_with(ARCHIVE))
        .collect();
    assert_eq!(listed, paths);
    for path in &paths {
        emqx_archive::inspect(path, &Limits::default())
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    }
}
