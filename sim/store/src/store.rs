//! The node's database: mnesia-like tables of Erlang records keyed by their first field, and
//! the cluster config as one JSON value per root, in one SQLite file
//! (`<data_dir>/emqx-sim.sqlite3`). Every change runs in one transaction.

use crate::error::StoreError;
use erlang_term::Term;
use serde_json::{Map, Value};
use std::path::Path;

/// The database of one node. Cheap to share behind an `Arc`; calls serialise on one
/// connection.
pub struct Store {
    _private: (),
}

/// One transaction. Reads see the transaction's own writes.
pub struct Tx<'a> {
    _private: std::marker::PhantomData<&'a ()>,
}

impl Store {
    /// Opens (creating when missing) the database in `data_dir`.
    pub fn open(_data_dir: &Path) -> Result<Store, StoreError> {
        todo!("store: open")
    }

    /// Runs `f` in a read transaction.
    pub fn read<T>(&self, _f: impl FnOnce(&Tx<'_>) -> Result<T, StoreError>) -> Result<T, StoreError> {
        todo!("store: read")
    }

    /// Runs `f` in a write transaction: committed when `f` returns `Ok`, rolled back
    /// otherwise. The files rendered from the store are refreshed after a commit.
    pub fn write<T, E: From<StoreError>>(
        &self,
        _f: impl FnOnce(&mut Tx<'_>) -> Result<T, E>,
    ) -> Result<T, E> {
        todo!("store: write")
    }
}

impl Tx<'_> {
    /// The record of `table` whose key (first field after the tag) is `key`.
    pub fn get(&self, _table: &str, _key: &Term) -> Result<Option<Term>, StoreError> {
        todo!()
    }

    /// Every record of `table`, in key order (Erlang term order).
    pub fn scan(&self, _table: &str) -> Result<Vec<Term>, StoreError> {
        todo!()
    }

    /// How many records `table` holds.
    pub fn count(&self, _table: &str) -> Result<u64, StoreError> {
        todo!()
    }

    /// Writes a record (a tuple tagged with the table name, as backup files hold them),
    /// replacing the one with the same key.
    pub fn put(&mut self, _table: &str, _record: &Term) -> Result<(), StoreError> {
        todo!()
    }

    /// Deletes the record with `key`; whether there was one.
    pub fn delete(&mut self, _table: &str, _key: &Term) -> Result<bool, StoreError> {
        todo!()
    }

    /// Deletes every record of `table`; how many there were.
    pub fn clear(&mut self, _table: &str) -> Result<u64, StoreError> {
        todo!()
    }

    /// A config root (`authentication`, `listeners`, ...).
    pub fn config(&self, _root: &str) -> Result<Option<Value>, StoreError> {
        todo!()
    }

    /// Every config root.
    pub fn config_all(&self) -> Result<Map<String, Value>, StoreError> {
        todo!()
    }

    /// Sets a config root.
    pub fn set_config(&mut self, _root: &str, _value: &Value) -> Result<(), StoreError> {
        todo!()
    }

    /// Removes a config root; whether it was there.
    pub fn remove_config(&mut self, _root: &str) -> Result<bool, StoreError> {
        todo!()
    }
}
