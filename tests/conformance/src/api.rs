//! A blocking client of EMQX's REST API (`/api/v5`), logged in with a bearer token or an API key.

use anyhow::{ensure, Context};
use reqwest::blocking::{multipart, Client};
use reqwest::Method;
use serde_json::{json, Value};
use std::time::Duration;

/// How requests authenticate.
#[derive(Clone, Debug)]
enum Auth {
    Bearer(String),
    Basic(String, String),
}

/// A REST client of one node.
#[derive(Clone, Debug)]
pub struct Api {
    base: String,
    auth: Auth,
    client: Client,
}

/// A status code and body text.
#[derive(Debug)]
pub struct Reply {
    /// The HTTP status code.
    pub status: u16,
    /// The body as text.
    pub text: String,
}

impl Reply {
    /// True for 2xx.
    pub fn ok(&self) -> bool {
        (200..300).contains(&self.status)
    }
}

fn client() -> Client {
    Client::builder()
        .timeout(Duration::from_secs(60))
        .build()
        .expect("HTTP client")
}

impl Api {
    /// Logs in on the node at `url` (`http://host:port`), waiting up to 60 s for it to answer.
    pub fn login(url: &str, user: &str, pass: &str) -> anyhow::Result<Api> {
        let base = format!("{}/api/v5", url.trim_end_matches('/'));
        let client = client();
        let token = crate::retry(60, || {
            let r = client
                .post(format!("{base}/login"))
                .json(&json!({"username": user, "password": pass}))
                .send()?;
            let status = r.status();
            let text = r.text()?;
            ensure!(status.is_success(), "login: {status}: {text}");
            let v: Value = serde_json::from_str(&text)?;
            Ok(v["token"].as_str().unwrap_or_default().to_owned())
        })?;
        Ok(Api {
            base,
            auth: Auth::Bearer(token),
            client,
        })
    }

    /// A client of the node at `url` authenticating with an API key and secret.
    pub fn with_api_key(url: &str, key: &str, secret: &str) -> Api {
        Api {
            base: format!("{}/api/v5", url.trim_end_matches('/')),
            auth: Auth::Basic(key.into(), secret.into()),
            client: client(),
        }
    }

    fn builder(&self, method: Method, path: &str) -> reqwest::blocking::RequestBuilder {
        let req = self.client.request(method, format!("{}{path}", self.base));
        match &self.auth {
            Auth::Bearer(t) => req.bearer_auth(t),
            Auth::Basic(k, s) => req.basic_auth(k, Some(s)),
        }
    }

    /// Any request; the reply whatever its status.
    pub fn request(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> anyhow::Result<Reply> {
        let mut req = self.builder(method.clone(), path);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().with_context(|| format!("{method} {path}"))?;
        Ok(Reply {
            status: resp.status().as_u16(),
            text: resp.text()?,
        })
    }

    fn checked(&self, method: Method, path: &str, body: Option<Value>) -> anyhow::Result<Value> {
        let r = self.request(method.clone(), path, body)?;
        ensure!(r.ok(), "{method} {path}: {}: {}", r.status, r.text);
        Ok(if r.text.trim().is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&r.text).with_context(|| format!("{method} {path}: bad JSON"))?
        })
    }

    /// GET, failing unless 2xx.
    pub fn get(&self, path: &str) -> anyhow::Result<Value> {
        self.checked(Method::GET, path, None)
    }

    /// POST a JSON body, failing unless 2xx.
    pub fn post(&self, path: &str, body: Value) -> anyhow::Result<Value> {
        self.checked(Method::POST, path, Some(body))
    }

    /// `POST /data/export` (all sets and roots): the file's listing entry (`filename`, `node`).
    pub fn export(&self) -> anyhow::Result<Value> {
        self.post("/data/export", json!({}))
    }

    /// `GET /data/files/{name}?node=..`: the archive's bytes.
    pub fn download(&self, name: &str, node: Option<&str>) -> anyhow::Result<Vec<u8>> {
        let mut req = self.builder(Method::GET, &format!("/data/files/{name}"));
        if let Some(n) = node {
            req = req.query(&[("node", n)]);
        }
        let resp = req.send()?;
        let status = resp.status();
        ensure!(
            status.is_success(),
            "download {name}: {status}: {}",
            resp.text().unwrap_or_default()
        );
        Ok(resp.bytes()?.to_vec())
    }

    /// `POST /data/files` (multipart field `filename`): the reply whatever its status.
    pub fn upload(&self, name: &str, bytes: Vec<u8>) -> anyhow::Result<Reply> {
        let part = multipart::Part::bytes(bytes)
            .file_name(name.to_owned())
            .mime_str("application/octet-stream")?;
        let form = multipart::Form::new().part("filename", part);
        let resp = self
            .builder(Method::POST, "/data/files")
            .multipart(form)
            .send()?;
        Ok(Reply {
            status: resp.status().as_u16(),
            text: resp.text()?,
        })
    }

    /// `POST /data/import {filename, node?}`: the reply whatever its status.
    pub fn import(&self, name: &str, node: Option<&str>) -> anyhow::Result<Reply> {
        let mut body = json!({"filename": name});
        if let Some(n) = node {
            body["node"] = json!(n);
        }
        self.request(Method::POST, "/data/import", Some(body))
    }

    /// `GET /data/files` (first 1000): every backup file of the cluster.
    pub fn files(&self) -> anyhow::Result<Vec<Value>> {
        let v = self.get("/data/files?limit=1000")?;
        Ok(crate::seed::items(&v))
    }
}
