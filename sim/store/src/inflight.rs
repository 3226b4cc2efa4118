//! What a node is doing right now: the one import it runs at a time, and the names of the
//! exports still being written (so that two exports in the same millisecond get two names).

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

/// The node's running import and the export files being written.
#[derive(Default)]
pub(crate) struct InFlight {
    import: Mutex<Option<String>>,
    exports: Mutex<HashSet<PathBuf>>,
}

/// The import slot, held until dropped.
pub(crate) struct ImportSlot<'a> {
    flight: &'a InFlight,
}

/// An export name taken in a folder, held until dropped.
pub(crate) struct ExportName<'a> {
    flight: &'a InFlight,
    /// The archive's file name.
    pub name: String,
    path: PathBuf,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl InFlight {
    /// Takes the import slot for the archive `name`; `Err` names the import that holds it.
    pub fn start_import(&self, name: &str) -> Result<ImportSlot<'_>, String> {
        let mut running = lock(&self.import);
        if let Some(other) = running.as_ref() {
            return Err(other.clone());
        }
        *running = Some(name.to_owned());
        Ok(ImportSlot { flight: self })
    }

    /// The archive being imported, if any.
    pub fn import_running(&self) -> Option<String> {
        lock(&self.import).clone()
    }

    /// A fresh export name in `dir` (EMQX's timestamp): neither a file there nor taken by an
    /// export in flight; waits a millisecond on a clash.
    pub fn take_export_name(&self, dir: &Path) -> ExportName<'_> {
        loop {
            let name = emqx_archive::export_file_name(chrono::Local::now());
            let path = dir.join(&name);
            {
                let mut taken = lock(&self.exports);
                if !path.exists() && taken.insert(path.clone()) {
                    return ExportName {
                        flight: self,
                        name,
                        path,
                    };
                }
            }
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
    }
}

impl Drop for ImportSlot<'_> {
    fn drop(&mut self) {
        *lock(&self.flight.import) = None;
    }
}

impl Drop for ExportName<'_> {
    fn drop(&mut self) {
        lock(&self.flight.exports).remove(&self.path);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_import_at_a_time() {
        let flight = InFlight::default();
        let slot = flight.start_import("a.tar.gz").unwrap();
        assert_eq!(flight.import_running().as_deref(), Some("a.tar.gz"));
        assert_eq!(
            flight.start_import("b.tar.gz").err().as_deref(),
            Some("a.tar.gz")
        );
        drop(slot);
        assert_eq!(flight.import_running(), None);
        assert!(flight.start_import("b.tar.gz").is_ok());
    }

    #[test]
    fn export_names_in_flight_are_not_reused() {
        let dir = tempfile::tempdir().unwrap();
        let flight = InFlight::default();
        let names: Vec<_> = (0..20)
            .map(|_| flight.take_export_name(dir.path()))
            .collect();
        let distinct: HashSet<&str> = names.iter().map(|n| n.name.as_str()).collect();
        assert_eq!(distinct.len(), names.len());
        drop(names);
        assert!(lock(&flight.exports).is_empty());
    }
}
