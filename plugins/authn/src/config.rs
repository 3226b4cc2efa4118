//! Authenticator configs: their ids, where a chain's config lives, the hash algorithm each
//! uses, and the checks EMQX's schema makes of the `authentication` root.

#![warn(missing_docs)]

use emqx_backup_plugin_sdk::roots::{merged_value, RootMerge};
use emqx_backup_plugin_sdk::Problem;
use serde_json::{Map, Value};

/// The root this domain owns.
pub const ROOT: &str = "authentication";

/// The global MQTT chain, whose config is the `authentication` root.
pub const GLOBAL_CHAIN: &str = "mqtt:global";

/// The id of the password_based built-in database authenticator.
pub const PASSWORD_DB: &str = "password_based:built_in_database";

/// The id of the SCRAM built-in database authenticator, also its users' user group.
pub const SCRAM_DB: &str = "scram:built_in_database";

/// EMQX's merge rule for the `authentication` root.
pub const RULE: RootMerge = RootMerge::ListBy(authenticator_id);

/// Mechanisms and the backends EMQX registers a provider for (an empty list: no backend).
const PROVIDERS: &[(&str, &[&str])] = &[
    (
        "password_based",
        &[
            "built_in_database",
            "mysql",
            "postgresql",
            "mongodb",
            "redis",
            "http",
            "ldap",
        ],
    ),
    ("scram", &["built_in_database", "http"]),
    ("gssapi", &["kerberos"]),
    ("jwt", &[]),
    ("cinfo", &[]),
    ("gcp_device", &[]),
];

/// Backends EMQX 5.2/5.3 Enterprise had and later versions merged into `ldap`.
const RETIRED_BACKENDS: &[(&str, &str)] = &[(
    "ldap_bind",
    "EMQX 5.4 and later have no ldap_bind backend (it became `ldap` with `method {type = bind}`) and refuse this authenticator",
)];

const HASH_NAMES: &[&str] = &[
    "plain", "md5", "sha", "sha256", "sha512", "pbkdf2", "bcrypt",
];
const SALT_POSITIONS: &[&str] = &["prefix", "suffix", "disable"];
const MAC_FUNS: &[&str] = &[
    "md4",
    "md5",
    "ripemd160",
    "sha",
    "sha224",
    "sha256",
    "sha384",
    "sha512",
];
const SCRAM_ALGORITHMS: &[&str] = &["sha256", "sha512"];
const USER_ID_TYPES: &[&str] = &["clientid", "username"];

/// Gateway protocols with a global chain `<protocol>:global`, and their `gateway` key.
const GATEWAYS: &[(&str, &str)] = &[
    ("mqtt-sn", "mqttsn"),
    ("coap", "coap"),
    ("lwm2m", "lwm2m"),
    ("stomp", "stomp"),
    ("exproto", "exproto"),
    ("ocpp", "ocpp"),
    ("gbt32960", "gbt32960"),
    ("jt808", "jt808"),
    ("nats", "nats"),
];

/// A config scalar as text (EMQX turns atoms, binaries and numbers alike into text).
fn text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn integer(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// The authenticator id as EMQX builds it: `mechanism:backend`, or `mechanism` alone.
pub fn authenticator_id(v: &Value) -> Option<String> {
    let o = v.as_object()?;
    let mechanism = text(o.get("mechanism")?)?;
    match o.get("backend") {
        Some(backend) => Some(format!("{mechanism}:{}", text(backend)?)),
        None => Some(mechanism),
    }
}

/// The authenticators of a chain's config value: a list, or one authenticator alone.
pub fn authenticators(v: Option<&Value>) -> Vec<&Value> {
    match v {
        Some(Value::Array(items)) => items.iter().collect(),
        Some(o @ Value::Object(_)) => vec![o],
        _ => Vec::new(),
    }
}

/// The `authentication` root as EMQX's importer reads it: a lone object becomes a list.
pub fn as_list(v: &Value) -> Value {
    match v {
        Value::Object(_) => Value::Array(vec![v.clone()]),
        other => other.clone(),
    }
}

/// Where a chain's authenticators are configured.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Chain {
    /// `mqtt:global`: the `authentication` root.
    Global,
    /// `<protocol>:global`: `gateway.<gw>.authentication`.
    Gateway(String),
    /// `<gw>:<type>:<name>`: `gateway.<gw>.listeners.<type>.<name>.authentication`.
    GatewayListener(String, String, String),
    /// `<type>:<name>`: `listeners.<type>.<name>.authentication`.
    Listener(String, String),
}

impl Chain {
    /// The chain a user group (a chain name) names.
    pub fn of_group(group: &str) -> Option<Chain> {
        if group == GLOBAL_CHAIN {
            return Some(Chain::Global);
        }
        let parts: Vec<&str> = group.split(':').collect();
        match parts.as_slice() {
            [proto, "global"] if GATEWAYS.iter().any(|(p, _)| p == proto) => GATEWAYS
                .iter()
                .find(|(p, _)| p == proto)
                .map(|(_, gw)| Chain::Gateway((*gw).to_owned())),
            [gw, ty, name] => Some(Chain::GatewayListener(
                (*gw).into(),
                (*ty).into(),
                (*name).into(),
            )),
            [ty, name] => Some(Chain::Listener((*ty).into(), (*name).into())),
            _ => None,
        }
    }

    /// The path of the chain's `authentication` value.
    pub fn path(&self) -> Vec<&str> {
        match self {
            Chain::Global => vec![ROOT],
            Chain::Gateway(gw) => vec!["gateway", gw, ROOT],
            Chain::GatewayListener(gw, ty, name) => {
                vec!["gateway", gw, "listeners", ty, name, ROOT]
            }
            Chain::Listener(ty, name) => vec!["listeners", ty, name, ROOT],
        }
    }

    /// The config path as text (`gateway.stomp.authentication`).
    pub fn path_text(&self) -> String {
        self.path().join(".")
    }

    /// The root the chain lives in.
    fn root(&self) -> &'static str {
        match self {
            Chain::Global => ROOT,
            Chain::Gateway(_) | Chain::GatewayListener(..) => "gateway",
            Chain::Listener(..) => "listeners",
        }
    }

    /// The unit an import replaces as a whole: the gateway, or the listener.
    fn unit(&self) -> Vec<&str> {
        match self {
            Chain::Global => vec![ROOT],
            Chain::Gateway(gw) | Chain::GatewayListener(gw, ..) => vec!["gateway", gw],
            Chain::Listener(ty, name) => vec!["listeners", ty, name],
        }
    }

    /// Whether a config tells anything of this chain (its root is present).
    pub fn known_in(&self, config: &Map<String, Value>) -> bool {
        config.contains_key(self.root())
    }

    /// The chain's authentication value in a config.
    pub fn value<'a>(&self, config: &'a Map<String, Value>) -> Option<&'a Value> {
        at(config, &self.path())
    }

    /// The chain's authentication value after importing `incoming` over `current`: the
    /// `authentication` list merged by id; a gateway or listener replaced whole when the
    /// backup has it (EMQX's gateway and listener importers).
    pub fn merged(
        &self,
        current: &Map<String, Value>,
        incoming: &Map<String, Value>,
    ) -> Option<Value> {
        let cur = self.value(current);
        match self {
            Chain::Global => match incoming.get(ROOT) {
                Some(inc) => Some(merged_value(
                    &RULE,
                    cur.map(as_list).as_ref(),
                    &as_list(inc),
                )),
                None => cur.cloned(),
            },
            _ if at(incoming, &self.unit()).is_some() => self.value(incoming).cloned(),
            _ => cur.cloned(),
        }
    }
}

impl std::fmt::Display for Chain {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Chain::Global => f.write_str(GLOBAL_CHAIN),
            Chain::Gateway(gw) => {
                let proto = GATEWAYS
                    .iter()
                    .find(|(_, g)| g == gw)
                    .map_or(gw.as_str(), |(p, _)| p);
                write!(f, "{proto}:global")
            }
            Chain::GatewayListener(gw, ty, name) => write!(f, "{gw}:{ty}:{name}"),
            Chain::Listener(ty, name) => write!(f, "{ty}:{name}"),
        }
    }
}

/// Every chain a config configures authenticators for.
pub fn chains(config: &Map<String, Value>) -> Vec<Chain> {
    let mut out = Vec::new();
    if config.contains_key(ROOT) {
        out.push(Chain::Global);
    }
    if let Some(Value::Object(gws)) = config.get("gateway") {
        for (gw, conf) in gws {
            if conf.get(ROOT).is_some() {
                out.push(Chain::Gateway(gw.clone()));
            }
            if let Some(Value::Object(types)) = conf.get("listeners") {
                for (ty, names) in types {
                    for (name, l) in names.as_object().into_iter().flatten() {
                        if l.get(ROOT).is_some() {
                            out.push(Chain::GatewayListener(gw.clone(), ty.clone(), name.clone()));
                        }
                    }
                }
            }
        }
    }
    if let Some(Value::Object(types)) = config.get("listeners") {
        for (ty, names) in types {
            for (name, l) in names.as_object().into_iter().flatten() {
                if l.get(ROOT).is_some() {
                    out.push(Chain::Listener(ty.clone(), name.clone()));
                }
            }
        }
    }
    out
}

fn at<'a>(config: &'a Map<String, Value>, path: &[&str]) -> Option<&'a Value> {
    let (first, rest) = path.split_first()?;
    let mut v = config.get(*first)?;
    for p in rest {
        v = v.as_object()?.get(*p)?;
    }
    Some(v)
}

/// The authenticator with an id in a chain's value.
pub fn find<'a>(chain_value: Option<&'a Value>, id: &str) -> Option<&'a Value> {
    authenticators(chain_value)
        .into_iter()
        .find(|a| authenticator_id(a).as_deref() == Some(id))
}

/// Whether an authenticator is enabled (`enable` defaults to true).
pub fn enabled(authenticator: &Value) -> bool {
    authenticator.get("enable").and_then(Value::as_bool) != Some(false)
}

fn field_text(o: &Value, k: &str) -> Option<String> {
    o.get(k).and_then(text)
}

/// The digest size PBKDF2 takes as `dk_length` when none is set (sha family only).
fn default_dk_length(mac_fun: &str) -> Option<i64> {
    Some(match mac_fun {
        "sha" => 20,
        "sha224" => 28,
        "sha256" => 32,
        "sha384" => 48,
        "sha512" => 64,
        _ => return None,
    })
}

/// What a stored password hash verifies against, with EMQX's defaults filled in:
/// `sha256/suffix`, `pbkdf2/sha256/i=1000/dk=32`, `bcrypt`. bcrypt's `salt_rounds` is left
/// out: each stored hash carries its own cost, so changing it breaks no login.
pub fn password_algorithm(authenticator: &Value) -> String {
    let Some(algo) = authenticator.get("password_hash_algorithm") else {
        return "sha256/prefix".into();
    };
    let name = field_text(algo, "name").unwrap_or_else(|| "?".into());
    match name.as_str() {
        "bcrypt" => name,
        "pbkdf2" => {
            let mac = field_text(algo, "mac_fun").unwrap_or_else(|| "?".into());
            let iterations = algo
                .get("iterations")
                .and_then(integer)
                .map_or_else(|| "?".into(), |i| i.to_string());
            let dk = algo
                .get("dk_length")
                .and_then(integer)
                .or_else(|| default_dk_length(&mac))
                .map_or_else(|| "default".into(), |d| d.to_string());
            format!("pbkdf2/{mac}/i={iterations}/dk={dk}")
        }
        _ => {
            let position = field_text(algo, "salt_position").unwrap_or_else(|| "prefix".into());
            format!("{name}/{position}")
        }
    }
}

/// What stored SCRAM keys verify against: `algorithm/iteration_count` (defaults sha256/4096).
pub fn scram_algorithm(authenticator: &Value) -> String {
    let algorithm = field_text(authenticator, "algorithm").unwrap_or_else(|| "sha256".into());
    let iterations = authenticator
        .get("iteration_count")
        .and_then(integer)
        .unwrap_or(4096);
    format!("{algorithm}/{iterations}")
}

/// Problems EMQX's schema check would find in the `authentication` root.
pub fn check_root(value: &Value) -> Vec<Problem> {
    let mut problems = Vec::new();
    let items: Vec<(String, &Value)> = match value {
        Value::Array(items) => items
            .iter()
            .enumerate()
            .map(|(i, v)| (format!("{ROOT}[{i}]"), v))
            .collect(),
        Value::Object(_) => vec![(ROOT.to_owned(), value)],
        other => {
            problems.push(Problem::error(
                ROOT,
                format!("must be a list of authenticators, not {other}"),
            ));
            return problems;
        }
    };
    let mut seen: Vec<(String, String)> = Vec::new();
    for (place, item) in &items {
        check_authenticator(place, item, &mut problems);
        if let Some(id) = authenticator_id(item) {
            match seen.iter().find(|(i, _)| *i == id) {
                Some((_, first)) => problems.push(Problem::error(
                    place.clone(),
                    format!("authenticator {id} is already at {first}; EMQX refuses duplicated authenticator ids"),
                )),
                None => seen.push((id, place.clone())),
            }
        }
    }
    problems
}

fn one_of(
    place: &str,
    what: &str,
    value: Option<&Value>,
    allowed: &[&str],
    problems: &mut Vec<Problem>,
) -> Option<String> {
    let v = value?;
    match text(v) {
        Some(s) if allowed.contains(&s.as_str()) => Some(s),
        _ => {
            problems.push(Problem::error(
                place,
                format!("unknown {what} {v}; EMQX accepts {}", allowed.join(", ")),
            ));
            None
        }
    }
}

fn check_authenticator(place: &str, item: &Value, problems: &mut Vec<Problem>) {
    let Some(o) = item.as_object() else {
        problems.push(Problem::error(
            place,
            format!("an authenticator must be an object, not {item}"),
        ));
        return;
    };
    let mechanisms: Vec<&str> = PROVIDERS.iter().map(|(m, _)| *m).collect();
    let mechanism = match o.get("mechanism") {
        None => {
            problems.push(Problem::error(
                place,
                "the authenticator has no mechanism (EMQX: missing_mechanism_field)",
            ));
            None
        }
        Some(m) => one_of(
            &format!("{place}.mechanism"),
            "mechanism",
            Some(m),
            &mechanisms,
            problems,
        ),
    };
    let backends = PROVIDERS
        .iter()
        .find(|(m, _)| Some(*m) == mechanism.as_deref())
        .map(|(_, b)| *b);
    let backend_place = format!("{place}.backend");
    match (o.get("backend"), backends) {
        (None, Some(b)) if !b.is_empty() => problems.push(Problem::error(
            backend_place,
            format!(
                "mechanism {} needs a backend ({})",
                mechanism.as_deref().unwrap_or_default(),
                b.join(", ")
            ),
        )),
        (Some(v), _) => {
            let name = text(v);
            let retired = RETIRED_BACKENDS
                .iter()
                .find(|(b, _)| Some(*b) == name.as_deref());
            let all: Vec<&str> = {
                let mut all: Vec<&str> = PROVIDERS
                    .iter()
                    .flat_map(|(_, b)| b.iter().copied())
                    .collect();
                all.sort_unstable();
                all.dedup();
                all
            };
            if let Some((_, why)) = retired {
                problems.push(Problem::warning(backend_place, *why));
            } else if !name.as_deref().is_some_and(|n| all.contains(&n)) {
                problems.push(Problem::error(
                    backend_place,
                    format!("unknown backend {v}; EMQX accepts {}", all.join(", ")),
                ));
            } else if let (Some(b), Some(m), Some(n)) = (backends, &mechanism, &name) {
                if !b.contains(&n.as_str()) {
                    let message = if b.is_empty() {
                        format!("mechanism {m} takes no backend")
                    } else {
                        format!(
                            "mechanism {m} has no backend {n}; EMQX accepts {}",
                            b.join(", ")
                        )
                    };
                    problems.push(Problem::error(backend_place, message));
                }
            }
        }
        _ => {}
    }
    if let Some(algo) = o.get("password_hash_algorithm") {
        check_hash_algorithm(&format!("{place}.password_hash_algorithm"), algo, problems);
    }
    if mechanism.as_deref() == Some("scram") {
        one_of(
            &format!("{place}.algorithm"),
            "SCRAM algorithm",
            o.get("algorithm"),
            SCRAM_ALGORITHMS,
            problems,
        );
        if let Some(v) = o.get("iteration_count") {
            if integer(v).is_none_or(|i| i < 0) {
                problems.push(Problem::error(
                    format!("{place}.iteration_count"),
                    format!("iteration_count must be a non-negative integer, not {v}"),
                ));
            }
        }
    }
    if authenticator_id(item).as_deref() == Some(PASSWORD_DB) {
        one_of(
            &format!("{place}.user_id_type"),
            "user_id_type",
            o.get("user_id_type"),
            USER_ID_TYPES,
            problems,
        );
    }
}

fn check_hash_algorithm(place: &str, algo: &Value, problems: &mut Vec<Problem>) {
    let Some(o) = algo.as_object() else {
        problems.push(Problem::error(
            place,
            format!("must be an object with a name, not {algo}"),
        ));
        return;
    };
    let Some(name_value) = o.get("name") else {
        problems.push(Problem::error(
            format!("{place}.name"),
            "the hash algorithm has no name",
        ));
        return;
    };
    let Some(name) = one_of(
        &format!("{place}.name"),
        "password_hash_algorithm",
        Some(name_value),
        HASH_NAMES,
        problems,
    ) else {
        return;
    };
    let positive = |k: &str, required: bool, problems: &mut Vec<Problem>| match o.get(k) {
        None if required => problems.push(Problem::error(
            format!("{place}.{k}"),
            format!("{name} needs {k}"),
        )),
        Some(v) if integer(v).is_none_or(|i| i <= 0) => problems.push(Problem::error(
            format!("{place}.{k}"),
            format!("{k} must be a positive integer, not {v}"),
        )),
        _ => {}
    };
    match name.as_str() {
        "pbkdf2" => {
            if o.get("mac_fun").is_none() {
                problems.push(Problem::error(
                    format!("{place}.mac_fun"),
                    "pbkdf2 needs mac_fun",
                ));
            }
            one_of(
                &format!("{place}.mac_fun"),
                "mac_fun",
                o.get("mac_fun"),
                MAC_FUNS,
                problems,
            );
            positive("iterations", true, problems);
            positive("dk_length", false, problems);
        }
        "bcrypt" => {
            if let Some(v) = o.get("salt_rounds") {
                if integer(v).is_none() {
                    problems.push(Problem::error(
                        format!("{place}.salt_rounds"),
                        format!("salt_rounds must be an integer, not {v}"),
                    ));
                }
            }
        }
        _ => {
            one_of(
                &format!("{place}.salt_position"),
                "salt_position",
                o.get("salt_position"),
                SALT_POSITIONS,
                problems,
            );
        }
    }
}
