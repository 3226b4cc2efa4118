//! The bridge, connector, action and source types EMQX 5.1 to 6.1 know, community and
//! enterprise, and the aliases that let a rule name an action by its 5.x bridge type.

/// Every type name EMQX accepts under `bridges`, `connectors`, `actions` or `sources`,
/// generously: 5.x bridge (v1) names, v2 action and connector names, enterprise ones.
pub const KNOWN_TYPES: &[&str] = &[
    "alloydb",
    "aws_timestream",
    "azure_blob_storage",
    "azure_event_grid",
    "azure_event_hub",
    "azure_event_hub_consumer",
    "azure_event_hub_producer",
    "bigquery",
    "bigtable",
    "cassandra",
    "clickhouse",
    "cockroachdb",
    "confluent",
    "confluent_producer",
    "couchbase",
    "datalayers",
    "disk_log",
    "doris",
    "dynamo",
    "elasticsearch",
    "emqx_tables",
    "gcp_pubsub",
    "gcp_pubsub_consumer",
    "gcp_pubsub_producer",
    "greptimedb",
    "greptimedb_grpc_v1",
    "hstreamdb",
    "http",
    "influxdb",
    "influxdb_api_v1",
    "influxdb_api_v2",
    "iotdb",
    "kafka",
    "kafka_consumer",
    "kafka_producer",
    "kinesis",
    "kinesis_producer",
    "matrix",
    "mongodb",
    "mongodb_rs",
    "mongodb_sharded",
    "mongodb_single",
    "mqtt",
    "mysql",
    "opents",
    "oracle",
    "pgsql",
    "pulsar",
    "pulsar_producer",
    "quasardb",
    "rabbitmq",
    "redis",
    "redis_cluster",
    "redis_sentinel",
    "redis_single",
    "redshift",
    "rocketmq",
    "s3",
    "s3tables",
    "snowflake",
    "snowflake_streaming",
    "sqlserver",
    "syskeeper_forwarder",
    "syskeeper_proxy",
    "tablestore",
    "tdengine",
    "timescale",
    "webhook",
];

/// Whether EMQX knows a bridge, connector, action or source type.
pub fn is_known(t: &str) -> bool {
    KNOWN_TYPES.contains(&t)
}

/// The action (or source) type a 5.x bridge type becomes (`emqx_action_info`'s
/// `bridge_v1_type_to_action_type`); other names are their own.
pub fn action_type(t: &str) -> &str {
    match t {
        "webhook" => "http",
        "kafka" => "kafka_producer",
        "gcp_pubsub" => "gcp_pubsub_producer",
        "influxdb_api_v1" | "influxdb_api_v2" => "influxdb",
        "greptimedb_grpc_v1" => "greptimedb",
        "mongodb_rs" | "mongodb_sharded" | "mongodb_single" => "mongodb",
        "redis_single" | "redis_sentinel" | "redis_cluster" => "redis",
        "pulsar_producer" => "pulsar",
        "kinesis_producer" => "kinesis",
        "azure_event_hub" => "azure_event_hub_producer",
        "confluent" => "confluent_producer",
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_is_sorted_and_aliases_are_known() {
        let mut sorted = KNOWN_TYPES.to_vec();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted, KNOWN_TYPES);
        for t in KNOWN_TYPES {
            assert!(is_known(action_type(t)), "{t}");
        }
        assert!(!is_known("unknown"));
    }
}
