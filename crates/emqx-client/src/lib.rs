//! A small blocking client of EMQX 5.x's REST API (`/api/v5`): authentication (API key and
//! secret as HTTP Basic, or a dashboard user's bearer token from `POST /login`), `/nodes`,
//! `/status` and the data backup endpoints `/data/export`, `/data/import`, `/data/files`.

mod error;

pub use error::ClientError;

use reqwest::blocking::{multipart, Client as Http, RequestBuilder, Response};
use reqwest::Method;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// EMQX's dashboard listener on the local machine.
pub const DEFAULT_NODE: &str = "http://127.0.0.1:18083";
/// The largest page `GET /data/files` serves.
const PAGE_LIMIT: u64 = 10_000;

/// How the client proves who it is.
#[derive(Clone, Debug, Default)]
pub enum Credentials {
    /// No credentials (every call but `/status` answers 401).
    #[default]
    None,
    /// An API key and secret (HTTP Basic).
    ApiKey {
        /// The key.
        key: String,
        /// The secret.
        secret: String,
    },
    /// A dashboard user, logged in through `POST /login`.
    User {
        /// The user name.
        username: String,
        /// The password.
        password: String,
    },
}

/// Where and how to connect.
#[derive(Clone, Debug)]
pub struct Settings {
    /// Base URL of the node's dashboard listener (`http://127.0.0.1:18083`).
    pub base_url: String,
    /// Credentials.
    pub credentials: Credentials,
    /// A PEM file of CA certificates to trust besides the system's.
    pub ca_file: Option<PathBuf>,
    /// Time allowed to connect.
    pub connect_timeout: Duration,
    /// Time allowed for a whole request (uploads and downloads included).
    pub timeout: Duration,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            base_url: DEFAULT_NODE.to_owned(),
            credentials: Credentials::None,
            ca_file: None,
            connect_timeout: Duration::from_secs(10),
            timeout: Duration::from_secs(300),
        }
    }
}

/// One node as `GET /nodes` lists it.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct NodeInfo {
    /// Erlang node name (`emqx@127.0.0.1`).
    pub node: String,
    /// `running` or `stopped`.
    #[serde(default)]
    pub node_status: String,
    /// `core` or `replicant`.
    #[serde(default)]
    pub role: String,
    /// `Opensource` or `Enterprise`.
    #[serde(default)]
    pub edition: String,
    /// Release (`5.8.6`).
    #[serde(default)]
    pub version: String,
}

impl NodeInfo {
    /// `ce` or `ee` (EMQX's META.hocon names), when the edition is known.
    pub fn edition_code(&self) -> Option<&'static str> {
        match self.edition.to_ascii_lowercase().as_str() {
            "opensource" | "ce" => Some("ce"),
            "enterprise" | "ee" => Some("ee"),
            _ => None,
        }
    }

    /// Whether the node is a core node (replicants cannot import).
    pub fn is_core(&self) -> bool {
        self.role.is_empty() || self.role == "core"
    }
}

/// A backup file as `/data/export` and `/data/files` describe it (spec §6.1).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BackupFile {
    /// File name (`emqx-export-....tar.gz`).
    pub filename: String,
    /// Size in bytes.
    #[serde(default)]
    pub size: u64,
    /// Creation time, RFC 3339.
    #[serde(default)]
    pub created_at: String,
    /// Creation time, epoch seconds.
    #[serde(default)]
    pub created_at_sec: i64,
    /// The node holding the file.
    #[serde(default)]
    pub node: String,
}

/// A connected client.
#[derive(Debug)]
pub struct Client {
    http: Http,
    base: String,
    auth: Auth,
}

#[derive(Debug)]
enum Auth {
    None,
    Basic(String, String),
    Bearer(String),
}

/// Progress of a transfer: bytes so far and the total when known.
pub type Progress<'a> = &'a mut dyn FnMut(u64, Option<u64>);

impl Client {
    /// Builds the HTTP client and, for a dashboard user, logs in.
    pub fn connect(settings: &Settings) -> Result<Client, ClientError> {
        let base = settings.base_url.trim_end_matches('/').to_owned();
        if !(base.starts_with("http://") || base.starts_with("https://")) {
            return Err(ClientError::Config(format!(
                "node URL {base:?} must start with http:// or https://"
            )));
        }
        let mut builder = Http::builder()
            .connect_timeout(settings.connect_timeout)
            .timeout(settings.timeout)
            .user_agent(concat!("emqx-backup/", env!("CARGO_PKG_VERSION")));
        if let Some(ca) = &settings.ca_file {
            let pem = std::fs::read(ca).map_err(|e| ClientError::Io {
                path: ca.clone(),
                message: e.to_string(),
            })?;
            let certs = reqwest::Certificate::from_pem_bundle(&pem).map_err(|e| {
                ClientError::Config(format!("{}: not a PEM CA file: {e}", ca.display()))
            })?;
            if certs.is_empty() {
                return Err(ClientError::Config(format!(
                    "{}: no certificate in the CA file",
                    ca.display()
                )));
            }
            for c in certs {
                builder = builder.add_root_certificate(c);
            }
        }
        let http = builder
            .build()
            .map_err(|e| ClientError::Config(format!("cannot build the HTTP client: {e}")))?;
        let mut client = Client {
            http,
            base,
            auth: Auth::None,
        };
        client.auth = match &settings.credentials {
            Credentials::None => Auth::None,
            Credentials::ApiKey { key, secret } => Auth::Basic(key.clone(), secret.clone()),
            Credentials::User { username, password } => {
                Auth::Bearer(client.login(username, password)?)
            }
        };
        Ok(client)
    }

    /// The base URL (no trailing slash).
    pub fn base_url(&self) -> &str {
        &self.base
    }

    /// Whether the client authenticates with an API key (EMQX restricts those from the
    /// sensitive table sets).
    pub fn uses_api_key(&self) -> bool {
        matches!(self.auth, Auth::Basic(..))
    }

    fn url(&self, path: &str) -> String {
        format!("{}/api/v5{path}", self.base)
    }

    fn request(&self, method: Method, path: &str) -> RequestBuilder {
        let r = self.http.request(method, self.url(path));
        match &self.auth {
            Auth::None => r,
            Auth::Basic(k, s) => r.basic_auth(k, Some(s)),
            Auth::Bearer(t) => r.bearer_auth(t),
        }
    }

    /// Sends a request; any status but 2xx becomes an error naming the URL.
    fn send(&self, req: RequestBuilder, url: &str) -> Result<Response, ClientError> {
        let resp = req.send().map_err(|e| ClientError::from_reqwest(url, e))?;
        if resp.status().is_success() {
            Ok(resp)
        } else {
            Err(ClientError::from_response(url, resp))
        }
    }

    fn json<T: serde::de::DeserializeOwned>(url: &str, resp: Response) -> Result<T, ClientError> {
        let text = resp.text().map_err(|e| ClientError::from_reqwest(url, e))?;
        serde_json::from_str(&text).map_err(|e| ClientError::Protocol {
            url: url.to_owned(),
            message: format!("unexpected answer ({e}): {}", clip(&text)),
        })
    }

    /// `POST /login` → the bearer token.
    fn login(&self, username: &str, password: &str) -> Result<String, ClientError> {
        let url = self.url("/login");
        let req = self
            .http
            .post(&url)
            .json(&json!({"username": username, "password": password}));
        let resp = self.send(req, &url)?;
        let body: Value = Self::json(&url, resp)?;
        body.get("token")
            .and_then(Value::as_str)
            .map(str::to_owned)
            .ok_or_else(|| ClientError::Protocol {
                url,
                message: "no token in the login answer".into(),
            })
    }

    /// `GET /nodes`: every node of the cluster.
    pub fn nodes(&self) -> Result<Vec<NodeInfo>, ClientError> {
        let url = self.url("/nodes");
        let resp = self.send(self.request(Method::GET, "/nodes"), &url)?;
        Self::json(&url, resp)
    }

    /// The name of the node the client talks to (from `GET /status`), when it tells.
    pub fn api_node(&self) -> Result<Option<String>, ClientError> {
        let url = self.url("/status");
        let resp = self.send(self.request(Method::GET, "/status"), &url)?;
        let text = resp
            .text()
            .map_err(|e| ClientError::from_reqwest(&url, e))?;
        // "Node emqx@127.0.0.1 is started\nemqx is running"
        Ok(text
            .lines()
            .next()
            .and_then(|l| l.strip_prefix("Node "))
            .and_then(|l| l.split_whitespace().next())
            .map(str::to_owned))
    }

    /// `POST /data/export`: the node writes an archive of these table sets and roots (all
    /// when empty) and describes it.
    pub fn export(
        &self,
        table_sets: &[String],
        root_keys: &[String],
    ) -> Result<BackupFile, ClientError> {
        let url = self.url("/data/export");
        let mut body = serde_json::Map::new();
        if !table_sets.is_empty() {
            body.insert("table_sets".into(), json!(table_sets));
        }
        if !root_keys.is_empty() {
            body.insert("root_keys".into(), json!(root_keys));
        }
        let req = self.request(Method::POST, "/data/export").json(&body);
        let resp = self.send(req, &url).map_err(ClientError::data_api)?;
        Self::json(&url, resp)
    }

    /// `GET /data/files`, every page: the backup files of every running node.
    pub fn list_files(&self) -> Result<Vec<BackupFile>, ClientError> {
        let mut out = Vec::new();
        for page in 1.. {
            let path = format!("/data/files?page={page}&limit={PAGE_LIMIT}");
            let url = self.url(&path);
            let resp = self
                .send(self.request(Method::GET, &path), &url)
                .map_err(ClientError::data_api)?;
            let body: Value = Self::json(&url, resp)?;
            let data: Vec<BackupFile> = serde_json::from_value(
                body.get("data").cloned().unwrap_or(Value::Null),
            )
            .map_err(|e| ClientError::Protocol {
                url: url.clone(),
                message: format!("unexpected file list: {e}"),
            })?;
            let more = body
                .pointer("/meta/hasnext")
                .and_then(Value::as_bool)
                .unwrap_or(false);
            let empty = data.is_empty();
            out.extend(data);
            if !more || empty {
                break;
            }
        }
        Ok(out)
    }

    fn file_path(name: &str, node: Option<&str>) -> String {
        let mut path = format!("/data/files/{}", encode(name));
        if let Some(n) = node {
            path.push_str(&format!("?node={}", encode(n)));
        }
        path
    }

    /// `GET /data/files/NAME[?node=N]`, streamed into `out`; the number of bytes written.
    pub fn download(
        &self,
        name: &str,
        node: Option<&str>,
        out: &mut dyn Write,
        progress: Progress<'_>,
    ) -> Result<u64, ClientError> {
        let path = Self::file_path(name, node);
        let url = self.url(&path);
        let mut resp = self.send(self.request(Method::GET, &path), &url)?;
        let total = resp.content_length();
        let mut buf = vec![0u8; 64 * 1024];
        let mut done = 0u64;
        progress(0, total);
        loop {
            let n = resp.read(&mut buf).map_err(|e| ClientError::Unreachable {
                url: url.clone(),
                message: format!("download broke off after {done} bytes: {e}"),
            })?;
            if n == 0 {
                break;
            }
            out.write_all(&buf[..n]).map_err(|e| ClientError::Io {
                path: PathBuf::from(name),
                message: e.to_string(),
            })?;
            done += n as u64;
            progress(done, total);
        }
        Ok(done)
    }

    /// `POST /data/files` (multipart field `filename`): uploads a file under its own name.
    pub fn upload(&self, file: &Path, progress: Progress<'_>) -> Result<(), ClientError> {
        let io = |e: std::io::Error| ClientError::Io {
            path: file.to_owned(),
            message: e.to_string(),
        };
        let name = file
            .file_name()
            .and_then(|n| n.to_str())
            .ok_or_else(|| ClientError::Config(format!("{}: no file name", file.display())))?
            .to_owned();
        let f = std::fs::File::open(file).map_err(io)?;
        let len = f.metadata().map_err(io)?.len();
        // The reader runs on this thread while the request is sent; the progress callback is
        // not Send, so the reader only counts and the count is reported after each chunk.
        let counter = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
        let reader = Counting {
            inner: f,
            count: counter.clone(),
        };
        let part = multipart::Part::reader_with_length(reader, len)
            .file_name(name)
            .mime_str("application/gzip")
            .map_err(|e| ClientError::Config(e.to_string()))?;
        let form = multipart::Form::new().part("filename", part);
        let url = self.url("/data/files");
        progress(0, Some(len));
        let req = self.request(Method::POST, "/data/files").multipart(form);
        let result = self.send(req, &url).map_err(ClientError::data_api);
        progress(
            counter.load(std::sync::atomic::Ordering::Relaxed),
            Some(len),
        );
        result.map(|_| ())
    }

    /// `DELETE /data/files/NAME[?node=N]`.
    pub fn delete(&self, name: &str, node: Option<&str>) -> Result<(), ClientError> {
        let path = Self::file_path(name, node);
        let url = self.url(&path);
        self.send(self.request(Method::DELETE, &path), &url)?;
        Ok(())
    }

    /// `POST /data/import {filename, node?}`: imports a file the node (or `node`) holds.
    pub fn import(&self, filename: &str, node: Option<&str>) -> Result<(), ClientError> {
        let url = self.url("/data/import");
        let mut body = json!({"filename": filename});
        if let Some(n) = node {
            body["node"] = json!(n);
        }
        let req = self.request(Method::POST, "/data/import").json(&body);
        self.send(req, &url).map_err(ClientError::data_api)?;
        Ok(())
    }
}

/// Counts the bytes read through it.
struct Counting<R> {
    inner: R,
    count: std::sync::Arc<std::sync::atomic::AtomicU64>,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count
            .fetch_add(n as u64, std::sync::atomic::Ordering::Relaxed);
        Ok(n)
    }
}

/// Percent-encodes a path segment or query value.
fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The first 300 characters of a body, for messages.
fn clip(s: &str) -> String {
    let mut c: String = s.chars().take(300).collect();
    if c.len() < s.len() {
        c.push('…');
    }
    c
}

/// Whether a status is a 404 (for callers that treat missing files specially).
pub fn is_not_found(e: &ClientError) -> bool {
    matches!(e, ClientError::NotFound { .. })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_names() {
        assert_eq!(encode("emqx-export-1.tar.gz"), "emqx-export-1.tar.gz");
        assert_eq!(encode("emqx@127.0.0.1"), "emqx%40127.0.0.1");
        assert_eq!(encode("a b/c"), "a%20b%2Fc");
    }

    #[test]
    fn editions() {
        let n = |e: &str| NodeInfo {
            node: "n".into(),
            node_status: String::new(),
            role: "core".into(),
            edition: e.into(),
            version: "5.8.6".into(),
        };
        assert_eq!(n("Opensource").edition_code(), Some("ce"));
        assert_eq!(n("Enterprise").edition_code(), Some("ee"));
        assert_eq!(n("?").edition_code(), None);
    }

    #[test]
    fn refused_connection_names_the_url() {
        // Port 9 (discard) on localhost is closed on test machines.
        let settings = Settings {
            base_url: "http://127.0.0.1:9".into(),
            connect_timeout: Duration::from_secs(2),
            ..Settings::default()
        };
        let c = Client::connect(&settings).unwrap();
        let e = c.nodes().unwrap_err();
        assert!(matches!(e, ClientError::Unreachable { .. }), "{e:?}");
        assert!(
            e.to_string().contains("http://127.0.0.1:9/api/v5/nodes"),
            "{e}"
        );
    }
}
