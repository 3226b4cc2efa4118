//! The one list of every route a node serves and what it takes to call it. The router is
//! checked against it (a test compares it with the paths the router holds), and the access
//! tests call every route in it without credentials.

use axum::http::Method;

/// What a caller needs to be answered by a route.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    /// Nothing: `POST /api/v5/login`, and EMQX's health check `GET /status`.
    Open,
    /// A bearer token from `/login` or an API key (HTTP Basic `api_key:api_secret`).
    Credentials,
    /// The cluster cookie (`X-Emqx-Sim-Cookie`): node-to-node endpoints.
    ClusterCookie,
    /// The ctl token of `<data_dir>/.ctl-token` (`X-Emqx-Sim-Ctl`): `emqx-sim ctl`.
    CtlToken,
}

/// One method on one path (axum's template syntax, `{param}`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Route {
    /// The HTTP method.
    pub method: Method,
    /// The full path template, `/api/v5/data/files/{filename}`.
    pub path: String,
    /// What a caller needs.
    pub access: Access,
}

/// `(path below /api/v5, methods)` of EMQX's API, every one behind credentials but `/login`.
const API: &[(&str, &[&str])] = &[
    ("/login", &["POST"]),
    ("/logout", &["POST"]),
    ("/nodes", &["GET"]),
    ("/nodes/{node}", &["GET"]),
    ("/status", &["GET"]),
    ("/data/export", &["POST"]),
    ("/data/import", &["POST"]),
    ("/data/files", &["GET", "POST"]),
    ("/data/files/{filename}", &["GET", "DELETE"]),
    ("/authentication", &["GET", "POST"]),
    ("/authentication/{id}", &["GET", "PUT", "DELETE"]),
    ("/authentication/{id}/users", &["GET", "POST"]),
    (
        "/authentication/{id}/users/{user_id}",
        &["GET", "PUT", "DELETE"],
    ),
    ("/authentication/{id}/import_users", &["POST"]),
    ("/authorization/sources", &["GET", "POST"]),
    ("/authorization/sources/{type}", &["GET", "PUT", "DELETE"]),
    (
        "/authorization/sources/built_in_database/rules",
        &["DELETE"],
    ),
    (
        "/authorization/sources/built_in_database/rules/users",
        &["GET", "POST"],
    ),
    (
        "/authorization/sources/built_in_database/rules/users/{name}",
        &["GET", "PUT", "DELETE"],
    ),
    (
        "/authorization/sources/built_in_database/rules/clients",
        &["GET", "POST"],
    ),
    (
        "/authorization/sources/built_in_database/rules/clients/{name}",
        &["GET", "PUT", "DELETE"],
    ),
    (
        "/authorization/sources/built_in_database/rules/all",
        &["GET", "POST", "DELETE"],
    ),
    ("/banned", &["GET", "POST", "DELETE"]),
    ("/banned/{as}/{who}", &["DELETE"]),
    ("/rules", &["GET", "POST"]),
    ("/rules/{id}", &["GET", "PUT", "DELETE"]),
    ("/connectors", &["GET", "POST"]),
    ("/connectors/{id}", &["GET", "PUT", "DELETE"]),
    ("/connectors/{id}/enable/{enable}", &["PUT"]),
    ("/actions", &["GET", "POST"]),
    ("/actions/{id}", &["GET", "PUT", "DELETE"]),
    ("/actions/{id}/enable/{enable}", &["PUT"]),
    ("/sources", &["GET", "POST"]),
    ("/sources/{id}", &["GET", "PUT", "DELETE"]),
    ("/sources/{id}/enable/{enable}", &["PUT"]),
    ("/users", &["GET", "POST"]),
    ("/users/{username}", &["PUT", "DELETE"]),
    ("/users/{username}/change_pwd", &["POST"]),
    ("/api_key", &["GET", "POST"]),
    ("/api_key/{name}", &["GET", "PUT", "DELETE"]),
    ("/configs", &["GET"]),
    ("/configs/{root}", &["GET", "PUT"]),
    ("/listeners/{id}", &["GET", "PUT"]),
];

/// The node-to-node endpoints.
const CLUSTER: &[(&str, &[&str])] = &[
    ("/internal/cluster/join", &["POST"]),
    ("/internal/cluster/leave", &["POST"]),
    ("/internal/cluster/info", &["GET"]),
    ("/internal/cluster/authenticate", &["POST"]),
    ("/internal/cluster/export", &["POST"]),
    ("/internal/cluster/files", &["GET"]),
    ("/internal/cluster/files/{name}", &["GET", "DELETE"]),
    ("/internal/cluster/files/{name}/sensitive", &["GET"]),
];

/// The endpoints of `emqx-sim ctl`.
const CTL: &[(&str, &[&str])] = &[
    ("/internal/ctl/data/export", &["POST"]),
    ("/internal/ctl/data/import", &["POST"]),
];

/// Every route of a core node (a replicant serves a part of them and proxies the rest of
/// `/api/v5` to its core), in a fixed order.
pub fn routes() -> Vec<Route> {
    let mut out = Vec::new();
    let mut add = |prefix: &str, table: &[(&str, &[&str])], access: fn(&str) -> Access| {
        for (path, methods) in table {
            for m in *methods {
                out.push(Route {
                    method: Method::from_bytes(m.as_bytes()).unwrap_or(Method::GET),
                    path: format!("{prefix}{path}"),
                    access: access(path),
                });
            }
        }
    };
    add("/api/v5", API, |path| {
        if path == "/login" {
            Access::Open
        } else {
            Access::Credentials
        }
    });
    add("", &[("/status", &["GET"])], |_| Access::Open);
    add("", CLUSTER, |_| Access::ClusterCookie);
    add("", CTL, |_| Access::CtlToken);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::AppState;
    use crate::ServeConfig;
    use emqx_sim_store::{Node, NodeInfo, Role};
    use std::collections::BTreeSet;
    use std::sync::Arc;

    /// The path templates a router holds, read from its `Debug` output (axum has no other
    /// way to list them): the paths of its `path_router`, not of its `fallback_router`, and
    /// none of axum's own catch-all paths.
    fn router_paths(router: &axum::Router) -> BTreeSet<String> {
        let text = format!("{router:?}");
        let start = text
            .find("path_router")
            .expect("axum's Router Debug names path_router");
        let end = text[start..]
            .find("fallback_router")
            .map_or(text.len(), |i| start + i);
        let mut out = BTreeSet::new();
        for quoted in text[start..end].split('"').skip(1).step_by(2) {
            if quoted.starts_with('/') && !quoted.contains("__private__axum") {
                out.insert(quoted.to_owned());
            }
        }
        out
    }

    fn state(role: Role, dir: &std::path::Path) -> Arc<AppState> {
        let info = NodeInfo {
            name: "emqx@127.0.0.1".into(),
            role,
            edition: emqx_archive::Edition::Ce,
            version: "5.8.6".into(),
            data_dir: dir.join("data"),
        };
        let node = Node::open(info, Some(&dir.join("no-plugins"))).unwrap();
        let mut config = ServeConfig::new("http://127.0.0.1:1");
        if role == Role::Replicant {
            config.cluster.core_url = Some("http://127.0.0.1:2".into());
        }
        Arc::new(AppState::new(Arc::new(node), &config, "t".into()))
    }

    #[test]
    fn the_list_is_the_router() {
        let dir = tempfile::tempdir().unwrap();
        let listed: BTreeSet<String> = routes().into_iter().map(|r| r.path).collect();
        let core = router_paths(&crate::router(state(Role::Core, dir.path())));
        assert!(
            core.contains("/api/v5/data/files/{filename}"),
            "no paths read from the router's Debug output: {core:?}"
        );
        assert_eq!(
            core, listed,
            "the router and routes::routes() differ: add the route to the list"
        );
        let dir = tempfile::tempdir().unwrap();
        let replicant = router_paths(&crate::router(state(Role::Replicant, dir.path())));
        assert!(
            replicant.is_subset(&listed),
            "the replicant serves paths not in the list: {:?}",
            replicant.difference(&listed).collect::<Vec<_>>()
        );
    }

    #[test]
    fn login_and_health_check_are_the_only_open_routes() {
        let open: Vec<(Method, String)> = routes()
            .into_iter()
            .filter(|r| r.access == Access::Open)
            .map(|r| (r.method, r.path))
            .collect();
        assert_eq!(
            open,
            [
                (Method::POST, "/api/v5/login".to_owned()),
                (Method::GET, "/status".to_owned())
            ]
        );
    }
}
