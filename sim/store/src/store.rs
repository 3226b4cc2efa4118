//! The node's database: mnesia-like tables of Erlang records keyed by their first field, and
//! the cluster config as one JSON value per root, in one SQLite file
//! (`<data_dir>/emqx-sim.sqlite3`). Every change runs in one transaction.
//!
//! Beside the tables and the config the database holds the files EMQX keeps under its data dir
//! that cannot be derived from the config (TLS material under `certs/`). After every commit
//! that touched the config or those files, and at every open, the derived files are rendered
//! from the database, each atomically (temporary file, fsync, rename): `configs/cluster.hocon`,
//! `authz/acl.conf` (from a `file` authorization source carrying `rules`) and `certs/...`.

use crate::error::StoreError;
use emqx_backup_plugin_sdk::table::canonical_bytes;
use erlang_term::{AtomEncoding, Term};
use rusqlite::{params, Connection, OptionalExtension};
use serde_json::{Map, Value};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

/// The database file's name in the data dir.
pub const DB_FILE: &str = "emqx-sim.sqlite3";

const SCHEMA: &str = "
PRAGMA synchronous = FULL;
CREATE TABLE IF NOT EXISTS records (
    tbl TEXT NOT NULL,
    key BLOB NOT NULL,
    record BLOB NOT NULL,
    PRIMARY KEY (tbl, key)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS config (root TEXT PRIMARY KEY, json TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS files (path TEXT PRIMARY KEY, bytes BLOB NOT NULL);
";

/// The database of one node. Cheap to share behind an `Arc`; calls serialise on one
/// connection.
pub struct Store {
    db: PathBuf,
    data_dir: PathBuf,
    conn: Mutex<Connection>,
}

/// One transaction. Reads see the transaction's own writes.
pub struct Tx<'a> {
    conn: &'a Connection,
    db: &'a Path,
    data_dir: &'a Path,
    /// The config or the files changed: the derived files need rendering after commit.
    derived_changed: bool,
    /// Files removed in this transaction, deleted from the data dir after commit.
    removed_files: Vec<String>,
}

/// Ends an open SQLite transaction with a rollback unless it was finished (a panic in a
/// caller's closure must not leave the connection inside a transaction).
struct Open<'c> {
    conn: &'c Connection,
    done: bool,
}

impl Drop for Open<'_> {
    fn drop(&mut self) {
        if !self.done {
            let _ = self.conn.execute_batch("ROLLBACK");
        }
    }
}

impl Store {
    /// Opens (creating when missing) the database in `data_dir`.
    pub fn open(data_dir: &Path) -> Result<Store, StoreError> {
        std::fs::create_dir_all(data_dir).map_err(io_err(data_dir))?;
        let db = data_dir.join(DB_FILE);
        let sql = |source| StoreError::Sqlite {
            path: db.clone(),
            source,
        };
        let conn = Connection::open(&db).map_err(sql)?;
        conn.busy_timeout(Duration::from_secs(30)).map_err(sql)?;
        let mode: String = conn
            .query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))
            .map_err(sql)?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(sql(rusqlite::Error::InvalidParameterName(format!(
                "journal_mode is {mode}, WAL was asked for"
            ))));
        }
        conn.execute_batch(SCHEMA).map_err(sql)?;
        let store = Store {
            db,
            data_dir: data_dir.to_owned(),
            conn: Mutex::new(conn),
        };
        {
            let conn = store.lock();
            store.render(&conn, &[])?;
        }
        Ok(store)
    }

    /// The data dir the store lives in.
    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    fn lock(&self) -> MutexGuard<'_, Connection> {
        // A panic in a caller's closure poisons the lock; the transaction was rolled back by
        // `Open`, so the connection is sound.
        self.conn.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn sql(&self, source: rusqlite::Error) -> StoreError {
        StoreError::Sqlite {
            path: self.db.clone(),
            source,
        }
    }

    fn tx<'a>(&'a self, conn: &'a Connection) -> Tx<'a> {
        Tx {
            conn,
            db: &self.db,
            data_dir: &self.data_dir,
            derived_changed: false,
            removed_files: Vec::new(),
        }
    }

    /// Runs `f` in a read transaction.
    pub fn read<T>(
        &self,
        f: impl FnOnce(&Tx<'_>) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let conn = self.lock();
        conn.execute_batch("BEGIN DEFERRED")
            .map_err(|e| self.sql(e))?;
        let mut open = Open {
            conn: &conn,
            done: false,
        };
        let result = f(&self.tx(&conn));
        open.done = true;
        let end = conn.execute_batch(if result.is_ok() { "COMMIT" } else { "ROLLBACK" });
        let value = result?;
        end.map_err(|e| self.sql(e))?;
        Ok(value)
    }

    /// Runs `f` in a write transaction: committed when `f` returns `Ok`, rolled back
    /// otherwise. The files rendered from the store are refreshed after a commit.
    ///
    /// A failure to render them after the commit is returned as an error although the commit
    /// stands; the files follow the database again at the next write or open.
    pub fn write<T, E: From<StoreError>>(
        &self,
        f: impl FnOnce(&mut Tx<'_>) -> Result<T, E>,
    ) -> Result<T, E> {
        let conn = self.lock();
        conn.execute_batch("BEGIN IMMEDIATE")
            .map_err(|e| E::from(self.sql(e)))?;
        let mut open = Open {
            conn: &conn,
            done: false,
        };
        let mut tx = self.tx(&conn);
        let result = f(&mut tx);
        let (changed, removed) = (tx.derived_changed, std::mem::take(&mut tx.removed_files));
        drop(tx);
        match result {
            Ok(value) => {
                if let Err(e) = conn.execute_batch("COMMIT") {
                    // `open` rolls back.
                    return Err(E::from(self.sql(e)));
                }
                open.done = true;
                if changed {
                    self.render(&conn, &removed).map_err(E::from)?;
                }
                Ok(value)
            }
            Err(e) => {
                open.done = true;
                let _ = conn.execute_batch("ROLLBACK");
                Err(e)
            }
        }
    }

    /// Writes the derived files from the committed state.
    fn render(&self, conn: &Connection, removed: &[String]) -> Result<(), StoreError> {
        let config = load_config(conn).map_err(|e| self.sql(e))?;
        let hocon = match emqx_hocon::from_json(&Value::Object(config.clone())) {
            emqx_hocon::Value::Object(o) => emqx_hocon::to_string(&o),
            _ => String::new(),
        };
        write_if_changed(
            &self.data_dir.join("configs").join("cluster.hocon"),
            hocon.as_bytes(),
        )?;
        if let Some(rules) = acl_rules(&config) {
            write_if_changed(
                &self.data_dir.join("authz").join("acl.conf"),
                rules.as_bytes(),
            )?;
        }
        let files: Vec<(String, Vec<u8>)> = {
            let mut stmt = conn
                .prepare("SELECT path, bytes FROM files ORDER BY path")
                .map_err(|e| self.sql(e))?;
            let rows = stmt
                .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
                .map_err(|e| self.sql(e))?;
            rows.collect::<Result<_, _>>().map_err(|e| self.sql(e))?
        };
        for (rel, bytes) in &files {
            if check_file_path(rel).is_ok() {
                write_if_changed(&self.data_dir.join(rel), bytes)?;
            }
        }
        for rel in removed {
            if check_file_path(rel).is_ok() && !files.iter().any(|(p, _)| p == rel) {
                let path = self.data_dir.join(rel);
                match std::fs::remove_file(&path) {
                    Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                        return Err(StoreError::Io { path, source: e })
                    }
                    _ => {}
                }
            }
        }
        Ok(())
    }
}

/// The rules text of the first `file` authorization source that carries them.
pub(crate) fn acl_rules(config: &Map<String, Value>) -> Option<&str> {
    config
        .get("authorization")?
        .get("sources")?
        .as_array()?
        .iter()
        .find(|s| s.get("type").and_then(Value::as_str) == Some("file"))?
        .get("rules")?
        .as_str()
}

fn load_config(conn: &Connection) -> Result<Map<String, Value>, rusqlite::Error> {
    let mut stmt = conn.prepare_cached("SELECT root, json FROM config ORDER BY root")?;
    let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?;
    let mut out = Map::new();
    for row in rows {
        let (root, json) = row?;
        let value = serde_json::from_str(&json).map_err(|e| {
            rusqlite::Error::FromSqlConversionFailure(1, rusqlite::types::Type::Text, Box::new(e))
        })?;
        out.insert(root, value);
    }
    Ok(out)
}

fn io_err(path: &Path) -> impl Fn(std::io::Error) -> StoreError + '_ {
    move |source| StoreError::Io {
        path: path.to_owned(),
        source,
    }
}

/// Writes `bytes` to `path` unless it already holds them: a temporary file in the same
/// folder, synced, renamed over the old one, then the folder synced.
pub(crate) fn write_if_changed(path: &Path, bytes: &[u8]) -> Result<(), StoreError> {
    if std::fs::read(path).is_ok_and(|old| old == bytes) {
        return Ok(());
    }
    write_atomic(path, bytes)
}

/// Writes `bytes` to `path` atomically (temporary file, fsync, rename, folder fsync).
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), StoreError> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(io_err(dir))?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut tmp = tempfile::Builder::new()
        .prefix(&format!(".{name}."))
        .suffix(".tmp")
        .tempfile_in(dir)
        .map_err(io_err(dir))?;
    tmp.write_all(bytes).map_err(io_err(path))?;
    tmp.as_file().sync_all().map_err(io_err(path))?;
    tmp.persist(path).map_err(|e| StoreError::Io {
        path: path.to_owned(),
        source: e.error,
    })?;
    sync_dir(dir);
    Ok(())
}

/// Makes a rename in `dir` durable where the platform allows.
pub(crate) fn sync_dir(dir: &Path) {
    let _ = std::fs::File::open(dir).and_then(|d| d.sync_all());
}

/// A stored file's path must be a plain relative path under `certs/`.
fn check_file_path(rel: &str) -> Result<(), String> {
    let ok = rel.starts_with("certs/")
        && !rel.contains(['\\', '\0'])
        && rel
            .split('/')
            .all(|s| !s.is_empty() && s != "." && s != "..");
    if ok {
        Ok(())
    } else {
        Err(format!(
            "{rel:?}: a stored file must be a relative path under certs/ without '.' or '..'"
        ))
    }
}

impl Tx<'_> {
    fn sql(&self, source: rusqlite::Error) -> StoreError {
        StoreError::Sqlite {
            path: self.db.to_owned(),
            source,
        }
    }

    fn key_bytes(table: &str, key: &Term) -> Result<Vec<u8>, StoreError> {
        let mut out = Vec::new();
        canonical_bytes(key, &mut out).map_err(|message| StoreError::BadRecord {
            table: table.to_owned(),
            message: format!("key {key}: {message}"),
        })?;
        Ok(out)
    }

    fn decode(table: &str, bytes: &[u8]) -> Result<Term, StoreError> {
        erlang_term::decode(bytes).map_err(|e| StoreError::Corrupt {
            table: table.to_owned(),
            message: format!("a stored record does not decode: {e}"),
        })
    }

    /// The data dir the store lives in (stored files are relative to it).
    pub fn data_dir(&self) -> &Path {
        self.data_dir
    }

    /// The record of `table` whose key (first field after the tag) is `key`.
    pub fn get(&self, table: &str, key: &Term) -> Result<Option<Term>, StoreError> {
        let key = Self::key_bytes(table, key)?;
        let bytes: Option<Vec<u8>> = self
            .conn
            .prepare_cached("SELECT record FROM records WHERE tbl = ?1 AND key = ?2")
            .and_then(|mut s| s.query_row(params![table, key], |r| r.get(0)).optional())
            .map_err(|e| self.sql(e))?;
        bytes.map(|b| Self::decode(table, &b)).transpose()
    }

    /// Every record of `table`, in key order (Erlang term order).
    pub fn scan(&self, table: &str) -> Result<Vec<Term>, StoreError> {
        let blobs: Vec<Vec<u8>> = {
            let mut stmt = self
                .conn
                .prepare_cached("SELECT record FROM records WHERE tbl = ?1")
                .map_err(|e| self.sql(e))?;
            let rows = stmt
                .query_map([table], |r| r.get(0))
                .map_err(|e| self.sql(e))?;
            rows.collect::<Result<_, _>>().map_err(|e| self.sql(e))?
        };
        let mut records = blobs
            .iter()
            .map(|b| Self::decode(table, b))
            .collect::<Result<Vec<Term>, _>>()?;
        for r in &records {
            if emqx_backup_plugin_sdk::table::record_key(r).is_none() {
                return Err(StoreError::Corrupt {
                    table: table.to_owned(),
                    message: format!("stored record {r} has no key"),
                });
            }
        }
        records.sort_by(|a, b| {
            let key = emqx_backup_plugin_sdk::table::record_key;
            key(a).cmp(&key(b))
        });
        Ok(records)
    }

    /// How many records `table` holds.
    pub fn count(&self, table: &str) -> Result<u64, StoreError> {
        self.conn
            .prepare_cached("SELECT COUNT(*) FROM records WHERE tbl = ?1")
            .and_then(|mut s| s.query_row([table], |r| r.get::<_, i64>(0)))
            .map(|n| n as u64)
            .map_err(|e| self.sql(e))
    }

    /// Writes a record (a tuple tagged with the table name, as backup files hold them),
    /// replacing the one with the same key.
    pub fn put(&mut self, table: &str, record: &Term) -> Result<(), StoreError> {
        let bad = |message: String| StoreError::BadRecord {
            table: table.to_owned(),
            message,
        };
        let def = emqx_archive::table_def(table)
            .ok_or_else(|| bad("not a table EMQX backs up".into()))?;
        let elements = record
            .as_tuple()
            .ok_or_else(|| bad(format!("record {record} is not a tuple")))?;
        if elements.first().and_then(Term::as_atom) != Some(table) {
            return Err(bad(format!(
                "record {record} is not tagged with the table name '{table}'"
            )));
        }
        if elements.len() != def.attributes.len() + 1 {
            return Err(bad(format!(
                "record {record} has {} elements, the table's records have {}",
                elements.len(),
                def.attributes.len() + 1
            )));
        }
        let key = Self::key_bytes(table, &elements[1])?;
        let bytes = erlang_term::encode_to_vec(record, AtomEncoding::Utf8)
            .map_err(|e| bad(format!("record does not encode: {e}")))?;
        self.conn
            .prepare_cached(
                "INSERT INTO records (tbl, key, record) VALUES (?1, ?2, ?3)
                 ON CONFLICT (tbl, key) DO UPDATE SET record = excluded.record",
            )
            .and_then(|mut s| s.execute(params![table, key, bytes]))
            .map_err(|e| self.sql(e))?;
        Ok(())
    }

    /// Deletes the record with `key`; whether there was one.
    pub fn delete(&mut self, table: &str, key: &Term) -> Result<bool, StoreError> {
        let key = Self::key_bytes(table, key)?;
        self.conn
            .prepare_cached("DELETE FROM records WHERE tbl = ?1 AND key = ?2")
            .and_then(|mut s| s.execute(params![table, key]))
            .map(|n| n > 0)
            .map_err(|e| self.sql(e))
    }

    /// Deletes every record of `table`; how many there were.
    pub fn clear(&mut self, table: &str) -> Result<u64, StoreError> {
        self.conn
            .prepare_cached("DELETE FROM records WHERE tbl = ?1")
            .and_then(|mut s| s.execute([table]))
            .map(|n| n as u64)
            .map_err(|e| self.sql(e))
    }

    /// A config root (`authentication`, `listeners`, ...).
    pub fn config(&self, root: &str) -> Result<Option<Value>, StoreError> {
        let json: Option<String> = self
            .conn
            .prepare_cached("SELECT json FROM config WHERE root = ?1")
            .and_then(|mut s| s.query_row([root], |r| r.get(0)).optional())
            .map_err(|e| self.sql(e))?;
        json.map(|j| {
            serde_json::from_str(&j).map_err(|e| StoreError::Corrupt {
                table: "config".into(),
                message: format!("root {root}: {e}"),
            })
        })
        .transpose()
    }

    /// Every config root.
    pub fn config_all(&self) -> Result<Map<String, Value>, StoreError> {
        load_config(self.conn).map_err(|e| self.sql(e))
    }

    /// Sets a config root.
    ///
    /// Inline PEM text in TLS options moves to a file under `certs/` and the value points at
    /// it, as EMQX's config handlers do on every update.
    pub fn set_config(&mut self, root: &str, value: &Value) -> Result<(), StoreError> {
        let mut staged = Map::new();
        staged.insert(root.to_owned(), value.clone());
        crate::certs::write_back(self, &mut staged)?;
        let json = staged.get(root).unwrap_or(value).to_string();
        self.conn
            .prepare_cached(
                "INSERT INTO config (root, json) VALUES (?1, ?2)
                 ON CONFLICT (root) DO UPDATE SET json = excluded.json",
            )
            .and_then(|mut s| s.execute(params![root, json]))
            .map_err(|e| self.sql(e))?;
        self.derived_changed = true;
        Ok(())
    }

    /// Removes a config root; whether it was there.
    pub fn remove_config(&mut self, root: &str) -> Result<bool, StoreError> {
        let n = self
            .conn
            .prepare_cached("DELETE FROM config WHERE root = ?1")
            .and_then(|mut s| s.execute([root]))
            .map_err(|e| self.sql(e))?;
        self.derived_changed |= n > 0;
        Ok(n > 0)
    }

    /// A file the node keeps under its data dir (TLS material), by its path relative to the
    /// data dir (`certs/listeners/ssl/default/cert-0123456789ABCDEF`).
    pub fn file(&self, rel: &str) -> Result<Option<Vec<u8>>, StoreError> {
        self.conn
            .prepare_cached("SELECT bytes FROM files WHERE path = ?1")
            .and_then(|mut s| s.query_row([rel], |r| r.get(0)).optional())
            .map_err(|e| self.sql(e))
    }

    /// Paths of every stored file, sorted.
    pub fn file_paths(&self) -> Result<Vec<String>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT path FROM files ORDER BY path")
            .map_err(|e| self.sql(e))?;
        let rows = stmt.query_map([], |r| r.get(0)).map_err(|e| self.sql(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.sql(e))
    }

    /// Stores a file under `certs/` (a relative path without `.` or `..`); it is written to
    /// the data dir after the commit.
    pub fn put_file(&mut self, rel: &str, bytes: &[u8]) -> Result<(), StoreError> {
        check_file_path(rel).map_err(|message| StoreError::Io {
            path: self.data_dir.join(rel),
            source: std::io::Error::new(std::io::ErrorKind::InvalidInput, message),
        })?;
        self.conn
            .prepare_cached(
                "INSERT INTO files (path, bytes) VALUES (?1, ?2)
                 ON CONFLICT (path) DO UPDATE SET bytes = excluded.bytes",
            )
            .and_then(|mut s| s.execute(params![rel, bytes]))
            .map_err(|e| self.sql(e))?;
        self.derived_changed = true;
        Ok(())
    }

    /// Removes a stored file (and, after the commit, its copy in the data dir); whether it
    /// was there.
    pub fn remove_file(&mut self, rel: &str) -> Result<bool, StoreError> {
        let n = self
            .conn
            .prepare_cached("DELETE FROM files WHERE path = ?1")
            .and_then(|mut s| s.execute([rel]))
            .map_err(|e| self.sql(e))?;
        if n > 0 {
            self.derived_changed = true;
            self.removed_files.push(rel.to_owned());
        }
        Ok(n > 0)
    }

    /// SQLite's `user_version`, which the node uses to know whether it was seeded.
    pub(crate) fn user_version(&self) -> Result<i64, StoreError> {
        self.conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(|e| self.sql(e))
    }

    /// Sets `user_version` (part of the transaction).
    pub(crate) fn set_user_version(&mut self, v: i64) -> Result<(), StoreError> {
        self.conn
            .execute_batch(&format!("PRAGMA user_version = {v}"))
            .map_err(|e| self.sql(e))
    }
}
