//! The names of cluster.hocon's top-level roots in EMQX 5.x and 6.x schemas, for checking
//! `root_keys` as EMQX does (`Invalid root keys: ...`) and the table set names for
//! `table_sets` (`Invalid table sets: ...`).

use crate::tables::EMQX_TABLES;

/// Top-level config roots EMQX's schemas define (5.1 to 6.x, community and enterprise).
pub const EMQX_ROOTS: &[&str] = &[
    "actions",
    "ai",
    "alarm",
    "api_key",
    "authentication",
    "authorization",
    "auto_subscribe",
    "banned",
    "bridges",
    "broker",
    "cluster",
    "conn_congestion",
    "connectors",
    "crl_cache",
    "dashboard",
    "delayed",
    "durable_queues",
    "durable_sessions",
    "durable_storage",
    "exhook",
    "file_transfer",
    "flapping_detect",
    "force_gc",
    "force_shutdown",
    "gateway",
    "license",
    "limiter",
    "listeners",
    "log",
    "message_transformation",
    "mqtt",
    "multi_tenancy",
    "node",
    "opentelemetry",
    "overload_protection",
    "persistent_session_store",
    "plugins",
    "prometheus",
    "psk_authentication",
    "retainer",
    "rewrite",
    "rpc",
    "rule_engine",
    "schema_registry",
    "schema_validation",
    "slow_subs",
    "sources",
    "statsd",
    "sys_topics",
    "sysmon",
    "telemetry",
    "topic_metrics",
    "tracing",
    "zones",
];

/// Table set names (`table_sets`), sorted as EMQX's `all_table_set_names()` returns them.
pub fn table_set_names() -> Vec<&'static str> {
    let mut names: Vec<&str> = EMQX_TABLES.iter().map(|t| t.table_set).collect();
    names.sort_unstable();
    names.dedup();
    names
}

/// EMQX's refusal of unknown `root_keys`, or `None` when all are known.
pub fn check_root_keys(keys: &[String]) -> Option<String> {
    let mut bad: Vec<&str> = keys
        .iter()
        .map(String::as_str)
        .filter(|k| !EMQX_ROOTS.contains(k))
        .collect();
    bad.sort_unstable();
    bad.dedup();
    (!bad.is_empty()).then(|| format!("Invalid root keys: {}", bad.join(", ")))
}

/// EMQX's refusal of unknown `table_sets`, or `None` when all are known.
pub fn check_table_sets(sets: &[String]) -> Option<String> {
    let known = table_set_names();
    let mut bad: Vec<&str> = sets
        .iter()
        .map(String::as_str)
        .filter(|k| !known.contains(k))
        .collect();
    bad.sort_unstable();
    bad.dedup();
    (!bad.is_empty()).then(|| format!("Invalid table sets: {}", bad.join(", ")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emqx_messages() {
        assert_eq!(
            table_set_names(),
            [
                "api_keys",
                "banned",
                "builtin_authn",
                "builtin_authz",
                "builtin_retainer",
                "dashboard_users",
                "mt",
                "psk"
            ]
        );
        assert_eq!(
            check_table_sets(&["y".into(), "banned".into(), "x".into()]).unwrap(),
            "Invalid table sets: x, y"
        );
        assert_eq!(
            check_root_keys(&["b".into(), "a".into()]).unwrap(),
            "Invalid root keys: a, b"
        );
        assert!(check_root_keys(&["mqtt".into()]).is_none());
    }
}
