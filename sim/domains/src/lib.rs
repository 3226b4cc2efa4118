//! `emqx-sim`'s per-domain REST endpoints (spec §7): what tests and demos use to seed a
//! simulated node and to read its data back, with the paths, bodies, record shapes, status
//! codes and messages of EMQX 5.8 (and the version-dependent shapes of 5.9+ where the node's
//! version asks for them).
//!
//! [`router`] is mounted by `emqx-sim-api` under `/api/v5`, behind its authentication, which
//! puts the [`emqx_sim_store::Caller`] into the request extensions; writes by callers that may
//! only read are refused with 403 `FORBIDDEN`. Handlers run the store on the blocking pool.
//!
//! | module | endpoints | tables / roots |
//! |---|---|---|
//! | [`authn`] | `/authentication[/:id[/users[/:user_id]]]`, `…/import_users` | `emqx_authn_mnesia`, `emqx_authn_scram_mnesia`, `authentication` |
//! | [`authz`] | `/authorization/sources[/:type]`, `…/built_in_database/rules/{users,clients,all}` | `emqx_acl`, `authorization` |
//! | [`banned`] | `/banned`, `/banned/:as/:who` | `emqx_banned`, `emqx_banned_rules` |
//! | [`rules`] | `/rules`, `/connectors`, `/actions`, `/sources` | `rule_engine`, `connectors`, `actions`, `sources` |
//! | [`dashboard`] | `/users`, `/users/:username/change_pwd`, `/api_key` | `emqx_admin`, `emqx_app` |
//! | [`configs`] | `/configs[/:root]`, `/listeners/:id` (and PSK init files) | any root, `emqx_psk` |

#![warn(missing_docs)]

pub mod authn;
pub mod authz;
pub mod banned;
pub mod common;
pub mod configs;
pub mod dashboard;
mod passwd;
pub mod rules;

use axum::Router;
use emqx_sim_store::Node;
use std::sync::Arc;

/// Every domain endpoint, with paths relative to `/api/v5`.
pub fn router() -> Router<Arc<Node>> {
    Router::new()
        .merge(authn::routes())
        .merge(authz::routes())
        .merge(banned::routes())
        .merge(rules::routes())
        .merge(dashboard::routes())
        .merge(configs::routes())
}
