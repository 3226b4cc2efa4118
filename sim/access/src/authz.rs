//! Authorization, as `emqx_authz:authorize/5` decides a publish or subscribe: superusers are
//! allowed; otherwise the enabled sources of the `authorization` root are asked in order and
//! the first rule that matches decides; when none matches, `no_match` does (default `allow`).
//! `deny_action` (default `ignore`) tells the listener what to do with a denial.
//!
//! * `built_in_database`: the rows of `emqx_acl` for `{2, ClientId}`, then `{1, Username}`, then
//!   `0` (all), each rule `{Permission, Action, Topic}` (≤ 5.8) or `{Permission, Who, Action,
//!   Topic}` (≥ 5.9), compiled as `emqx_authz_rule:compile(Permission, Who, Action, [Topic])`.
//! * `file`: the rules of `acl.conf` (`{Permission, Who, Action, Topics}` or `{Permission,
//!   all}`), from the source's inline `rules`, else the file at `path`; a path the sim cannot
//!   read (EMQX's default `${EMQX_ETC_DIR}/acl.conf`) gives no rules.
//! * Any other source (HTTP, databases) cannot be reached from the sim and matches nothing.
//!
//! A rule matches when its action, its who condition and one of its topics match
//! (`emqx_authz_rule:match/4`): topics as word lists (`emqx_topic:match/2`), `{eq, T}` exactly,
//! `${username}` and `${clientid}` rendered from the client (a source whose placeholder cannot
//! be rendered, as for a client without a username, is skipped, as EMQX skips a source that
//! fails). Regexes are PCRE in EMQX and Rust's `regex` syntax here.

use crate::net::Cidr;
use crate::topic::{matches_words, words, Word};
use crate::{AccessError, ClientInfo};
use emqx_sim_store::Tx;
use erlang_term::Term;
use serde_json::Value;

/// The built-in database's rule table.
pub const ACL_TABLE: &str = "emqx_acl";

/// What a rule or `no_match` grants.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Permission {
    /// `allow`.
    Allow,
    /// `deny`.
    Deny,
}

/// What EMQX does with a denied publish or subscribe (`authorization.deny_action`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DenyAction {
    /// Drop it and answer with a reason code (EMQX's default).
    Ignore,
    /// Disconnect the client.
    Disconnect,
}

/// What a client asks to do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    /// Publish with this QoS and retain flag.
    Publish {
        /// 0, 1 or 2.
        qos: u8,
        /// The retain flag.
        retain: bool,
    },
    /// Subscribe with this QoS.
    Subscribe {
        /// 0, 1 or 2.
        qos: u8,
    },
}

/// An authorization decision.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verdict {
    /// Allowed or denied.
    pub permission: Permission,
    /// Who decided: `superuser`, a source type (`built_in_database`, `file`) or `no_match`.
    pub from: String,
    /// What to do when denied.
    pub deny_action: DenyAction,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Publish,
    Subscribe,
    All,
}

#[derive(Clone, Debug)]
enum ActionCond {
    Simple(Kind),
    Rich {
        kind: Kind,
        qos: Vec<u8>,
        /// `None` for subscribe rules; `None` inside means `all`.
        retain: Option<Option<bool>>,
    },
}

#[derive(Clone, Debug)]
enum TextCond {
    Eq(String),
    Re(regex::Regex),
}

impl TextCond {
    fn matches(&self, s: Option<&str>) -> bool {
        match (self, s) {
            (_, None) => false,
            (TextCond::Eq(e), Some(s)) => e == s,
            (TextCond::Re(re), Some(s)) => re.is_match(s),
        }
    }
}

#[derive(Clone, Debug)]
enum Who {
    All,
    Username(TextCond),
    Clientid(TextCond),
    Zone(TextCond),
    Listener(TextCond),
    Ipaddrs(Vec<Cidr>),
    And(Vec<Who>),
    Or(Vec<Who>),
    /// A condition on client attributes, which the sim's clients do not have.
    Never,
}

#[derive(Clone, Debug)]
enum TopicCond {
    Eq(Vec<Word>),
    Filter(Vec<Word>),
    Pattern(String),
}

/// A compiled rule.
#[derive(Clone, Debug)]
pub struct Rule {
    /// What the rule grants when it matches.
    pub permission: Permission,
    who: Who,
    action: ActionCond,
    topics: Vec<TopicCond>,
}

/// A placeholder that cannot be rendered for a client (`${username}` without a username).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RenderError(pub String);

/// Text of a binary or an Erlang string (`bin/1` of `emqx_authz_rule`).
fn bin(t: &Term) -> Option<String> {
    match t {
        Term::Binary(b) => std::str::from_utf8(b).ok().map(str::to_owned),
        Term::List(_) => t.as_charlist(),
        _ => None,
    }
}

fn permission(t: &Term) -> Result<Permission, String> {
    match t.as_atom() {
        Some("allow") => Ok(Permission::Allow),
        Some("deny") => Ok(Permission::Deny),
        _ => Err(format!("permission {t} is not allow or deny")),
    }
}

fn compile_text(v: &Term, what: &str) -> Result<TextCond, String> {
    match v.as_tuple() {
        Some([re, p]) if re.as_atom() == Some("re") => {
            let p = bin(p).ok_or_else(|| format!("{what} pattern {p} is not text"))?;
            regex::Regex::new(&p)
                .map(TextCond::Re)
                .map_err(|e| format!("{what} pattern {p:?} does not compile: {e}"))
        }
        _ => bin(v)
            .map(TextCond::Eq)
            .ok_or_else(|| format!("{what} {v} is not text")),
    }
}

fn compile_who(t: &Term) -> Result<Who, String> {
    if t.as_atom() == Some("all") {
        return Ok(Who::All);
    }
    let bad = || format!("{t} is not a client match condition");
    match t.as_tuple().ok_or_else(bad)? {
        [kind, v] => Ok(match kind.as_atom().ok_or_else(bad)? {
            "user" | "username" => Who::Username(compile_text(v, "username")?),
            "client" | "clientid" => Who::Clientid(compile_text(v, "clientid")?),
            "zone" => Who::Zone(compile_text(v, "zone")?),
            "listener" => Who::Listener(compile_text(v, "listener")?),
            "ipaddr" => Who::Ipaddrs(vec![Cidr::parse(&bin(v).ok_or_else(bad)?)?]),
            "ipaddrs" => Who::Ipaddrs(
                v.as_list()
                    .ok_or_else(bad)?
                    .iter()
                    .map(|c| Cidr::parse(&bin(c).ok_or_else(bad)?))
                    .collect::<Result<_, _>>()?,
            ),
            "and" => Who::And(
                v.as_list()
                    .ok_or_else(bad)?
                    .iter()
                    .map(compile_who)
                    .collect::<Result<_, _>>()?,
            ),
            "or" => Who::Or(
                v.as_list()
                    .ok_or_else(bad)?
                    .iter()
                    .map(compile_who)
                    .collect::<Result<_, _>>()?,
            ),
            _ => return Err(bad()),
        }),
        [kind, _, _] if kind.as_atom() == Some("client_attr") => Ok(Who::Never),
        _ => Err(bad()),
    }
}

fn kind_of(t: &Term) -> Option<Kind> {
    match t.as_atom()? {
        "publish" => Some(Kind::Publish),
        "subscribe" => Some(Kind::Subscribe),
        "all" => Some(Kind::All),
        _ => None,
    }
}

/// `proplists:get_all_values(qos, Opts)`, flattened, default `[0,1,2]`.
fn qos_of(opts: &[Term]) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    let mut any = false;
    for o in opts {
        let Some([k, v]) = o.as_tuple() else { continue };
        if k.as_atom() != Some("qos") {
            continue;
        }
        any = true;
        let values: Vec<&Term> = match v {
            Term::List(items) => items.iter().collect(),
            one => vec![one],
        };
        for q in values {
            match q.as_i64() {
                Some(q @ 0..=2) => out.push(q as u8),
                _ => return Err(format!("qos {q} is not 0, 1 or 2")),
            }
        }
    }
    Ok(if any { out } else { vec![0, 1, 2] })
}

/// `proplists:get_value(retain, Opts, all)`: `None` for `all`.
fn retain_of(opts: &[Term]) -> Result<Option<bool>, String> {
    for o in opts {
        if o.as_atom() == Some("retain") {
            return Ok(Some(true));
        }
        let Some([k, v]) = o.as_tuple() else { continue };
        if k.as_atom() != Some("retain") {
            continue;
        }
        return match v.as_atom() {
            Some("all") => Ok(None),
            Some("true") => Ok(Some(true)),
            Some("false") => Ok(Some(false)),
            _ => Err(format!("retain {v} is not true, false or all")),
        };
    }
    Ok(None)
}

fn compile_action(t: &Term) -> Result<ActionCond, String> {
    if let Some(kind) = kind_of(t) {
        return Ok(ActionCond::Simple(kind));
    }
    let bad = || format!("action {t} is not publish, subscribe or all (with options)");
    let Some([kind, opts]) = t.as_tuple() else {
        return Err(bad());
    };
    let kind = kind_of(kind).ok_or_else(bad)?;
    let opts = opts.as_list().ok_or_else(bad)?;
    Ok(ActionCond::Rich {
        kind,
        qos: qos_of(opts)?,
        retain: if kind == Kind::Subscribe {
            None
        } else {
            Some(retain_of(opts)?)
        },
    })
}

/// The placeholders a topic holds; an error for any but `${username}` and `${clientid}`.
fn placeholders(topic: &str) -> Result<bool, String> {
    let mut rest = topic;
    let mut any = false;
    while let Some(start) = rest.find("${") {
        let after = &rest[start + 2..];
        let Some(end) = after.find('}') else { break };
        let var = after[..end].trim();
        if var != "username" && var != "clientid" {
            return Err(format!(
                "placeholder ${{{var}}} in topic {topic:?} is not allowed (only ${{username}} and ${{clientid}})"
            ));
        }
        any = true;
        rest = &after[end + 1..];
    }
    Ok(any)
}

fn compile_topic(t: &Term) -> Result<TopicCond, String> {
    if let Some([eq, topic]) = t.as_tuple() {
        if eq.as_atom() == Some("eq") {
            let topic = bin(topic).ok_or_else(|| format!("topic {t} is not text"))?;
            return Ok(TopicCond::Eq(words(&topic)));
        }
    }
    let topic = bin(t).ok_or_else(|| format!("topic {t} is not text"))?;
    if let Some(exact) = topic.strip_prefix("eq ") {
        return Ok(TopicCond::Eq(words(exact)));
    }
    Ok(if placeholders(&topic)? {
        TopicCond::Pattern(topic)
    } else {
        TopicCond::Filter(words(&topic))
    })
}

fn render(pattern: &str, client: &ClientInfo) -> Result<String, RenderError> {
    let mut out = String::new();
    let mut rest = pattern;
    while let Some(start) = rest.find("${") {
        let after = &rest[start + 2..];
        let Some(end) = after.find('}') else { break };
        out.push_str(&rest[..start]);
        let value = match after[..end].trim() {
            "username" => client.username.as_deref(),
            _ => Some(client.clientid.as_str()),
        };
        out.push_str(
            value.ok_or_else(|| RenderError(format!("{pattern:?}: the client has no username")))?,
        );
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

impl Rule {
    /// `emqx_authz_rule:compile/1` of an `acl.conf` rule: `{Permission, all}` or
    /// `{Permission, Who, Action, Topics}`.
    pub fn compile(t: &Term) -> Result<Rule, String> {
        match t.as_tuple() {
            Some([p, all]) if all.as_atom() == Some("all") => Ok(Rule {
                permission: permission(p)?,
                who: Who::All,
                action: ActionCond::Simple(Kind::All),
                topics: vec![TopicCond::Filter(vec![Word::Hash])],
            }),
            Some([p, who, action, Term::List(topics)]) => Ok(Rule {
                permission: permission(p)?,
                who: compile_who(who)?,
                action: compile_action(action)?,
                topics: topics.iter().map(compile_topic).collect::<Result<_, _>>()?,
            }),
            _ => Err(format!(
                "{t} is not {{Permission, all}} or {{Permission, Who, Action, Topics}}"
            )),
        }
    }

    /// A rule of an `emqx_acl` row: `{Permission, Action, Topic}` or `{Permission, Who, Action,
    /// Topic}`.
    pub fn compile_stored(t: &Term) -> Result<Rule, String> {
        let (p, who, action, topic) = match t.as_tuple() {
            Some([p, a, topic]) => (p, Who::All, a, topic),
            Some([p, w, a, topic]) => (p, compile_who(w)?, a, topic),
            _ => {
                return Err(format!(
                    "{t} is not {{Permission, Action, Topic}} or {{Permission, Who, Action, Topic}}"
                ))
            }
        };
        Ok(Rule {
            permission: permission(p)?,
            who,
            action: compile_action(action)?,
            topics: vec![compile_topic(topic)?],
        })
    }

    /// `emqx_authz_rule:match/4`: the rule's permission when it matches.
    pub fn check(
        &self,
        client: &ClientInfo,
        action: Action,
        topic: &str,
    ) -> Result<Option<Permission>, RenderError> {
        if !action_matches(action, &self.action) || !who_matches(client, &self.who) {
            return Ok(None);
        }
        let name = words(topic);
        for t in &self.topics {
            let hit = match t {
                TopicCond::Eq(w) => name == *w,
                TopicCond::Filter(f) => matches_words(&name, f),
                TopicCond::Pattern(p) => matches_words(&name, &words(&render(p, client)?)),
            };
            if hit {
                return Ok(Some(self.permission));
            }
        }
        Ok(None)
    }
}

fn action_matches(action: Action, cond: &ActionCond) -> bool {
    match (action, cond) {
        (Action::Publish { .. }, ActionCond::Simple(k)) => *k != Kind::Subscribe,
        (Action::Subscribe { .. }, ActionCond::Simple(k)) => *k != Kind::Publish,
        (
            Action::Publish { qos, retain },
            ActionCond::Rich {
                kind,
                qos: qs,
                retain: rc,
            },
        ) => {
            *kind != Kind::Subscribe
                && qs.contains(&qos)
                && match rc {
                    Some(Some(r)) => *r == retain,
                    _ => true,
                }
        }
        (Action::Subscribe { qos }, ActionCond::Rich { kind, qos: qs, .. }) => {
            *kind != Kind::Publish && qs.contains(&qos)
        }
    }
}

fn who_matches(c: &ClientInfo, who: &Who) -> bool {
    match who {
        Who::All => true,
        Who::Username(t) => t.matches(c.username.as_deref()),
        Who::Clientid(t) => t.matches(Some(&c.clientid)),
        Who::Zone(t) => t.matches(Some(&c.zone)),
        Who::Listener(t) => t.matches(Some(&c.listener)),
        Who::Ipaddrs(nets) => nets.iter().any(|n| n.contains(c.peerhost)),
        Who::And(all) => all.iter().all(|w| who_matches(c, w)),
        Who::Or(any) => any.iter().any(|w| who_matches(c, w)),
        Who::Never => false,
    }
}

/// The first rule of `rules` that matches.
pub fn first_match(
    rules: &[Rule],
    client: &ClientInfo,
    action: Action,
    topic: &str,
) -> Result<Option<Permission>, RenderError> {
    for r in rules {
        if let Some(p) = r.check(client, action, topic)? {
            return Ok(Some(p));
        }
    }
    Ok(None)
}

/// Compiles the rules of an `acl.conf` text; `origin` names it in errors.
pub fn compile_acl_conf(origin: &str, text: &str) -> Result<Vec<Rule>, AccessError> {
    let terms = emqx_acl_conf::parse(text).map_err(|e| AccessError::AclFile {
        file: origin.to_owned(),
        line: e.line,
        message: e.message,
    })?;
    terms
        .iter()
        .map(|t| {
            Rule::compile(&t.term).map_err(|message| AccessError::AclFile {
                file: origin.to_owned(),
                line: t.line,
                message,
            })
        })
        .collect()
}

/// An enabled source of the `authorization` root.
#[derive(Clone, Debug)]
pub enum Source {
    /// `built_in_database`: the rules of `emqx_acl`.
    BuiltIn,
    /// `file`: compiled `acl.conf` rules.
    File(Vec<Rule>),
    /// Any other type, which matches nothing here.
    Other(String),
}

/// The `authorization` root as the listener needs it.
#[derive(Clone, Debug)]
pub struct Settings {
    /// What no match grants.
    pub no_match: Permission,
    /// What to do with a denial.
    pub deny_action: DenyAction,
    /// The enabled sources, in order.
    pub sources: Vec<Source>,
}

fn text_field(v: &Value, k: &str) -> Option<String> {
    match v.get(k)? {
        Value::String(s) => Some(s.clone()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// Reads the `authorization` root (EMQX's defaults when absent: `no_match = allow`,
/// `deny_action = ignore`, no sources).
pub fn settings_of(root: Option<&Value>) -> Result<Settings, AccessError> {
    let bad = |key: &str, message: String| AccessError::Config {
        key: format!("authorization.{key}"),
        message,
    };
    let root = root.cloned().unwrap_or(Value::Null);
    let no_match = match text_field(&root, "no_match").as_deref() {
        None | Some("allow") => Permission::Allow,
        Some("deny") => Permission::Deny,
        Some(o) => return Err(bad("no_match", format!("{o:?} is not allow or deny"))),
    };
    let deny_action = match text_field(&root, "deny_action").as_deref() {
        None | Some("ignore") => DenyAction::Ignore,
        Some("disconnect") => DenyAction::Disconnect,
        Some(o) => {
            return Err(bad(
                "deny_action",
                format!("{o:?} is not ignore or disconnect"),
            ))
        }
    };
    let mut sources = Vec::new();
    let list = root.get("sources").and_then(Value::as_array);
    for (i, s) in list.into_iter().flatten().enumerate() {
        if !crate::authn::enabled(s) {
            continue;
        }
        let ty = text_field(s, "type").unwrap_or_default();
        sources.push(match ty.as_str() {
            "built_in_database" => Source::BuiltIn,
            "file" => {
                let key = format!("authorization.sources[{i}]");
                let text = match (text_field(s, "rules"), text_field(s, "path")) {
                    (Some(rules), _) => Some((format!("{key}.rules"), rules)),
                    (None, Some(path)) if !path.contains("${") => {
                        std::fs::read_to_string(&path).ok().map(|text| (path, text))
                    }
                    _ => None,
                };
                match text {
                    Some((origin, text)) => Source::File(compile_acl_conf(&origin, &text)?),
                    None => Source::File(Vec::new()),
                }
            }
            _ => Source::Other(ty),
        });
    }
    Ok(Settings {
        no_match,
        deny_action,
        sources,
    })
}

/// The `authorization` root of the store.
pub fn settings(tx: &Tx<'_>) -> Result<Settings, AccessError> {
    settings_of(tx.config("authorization")?.as_ref())
}

/// The rules of the built-in database that apply to `client`, in EMQX's order: its client
/// id's row, its username's row, the row for all.
pub fn builtin_rules(tx: &Tx<'_>, client: &ClientInfo) -> Result<Vec<Rule>, AccessError> {
    let mut keys = vec![Term::Tuple(vec![
        Term::Int(2),
        Term::binary(&client.clientid),
    ])];
    if let Some(u) = &client.username {
        keys.push(Term::Tuple(vec![Term::Int(1), Term::binary(u)]));
    }
    keys.push(Term::Int(0));
    let mut out = Vec::new();
    for key in keys {
        let Some(record) = tx.get(ACL_TABLE, &key)? else {
            continue;
        };
        let bad = |message: String| AccessError::Record {
            table: ACL_TABLE.into(),
            record: key.to_string(),
            message,
        };
        let rules = match record.as_tuple() {
            Some([_, _, Term::List(rules)]) => rules,
            _ => return Err(bad(format!("{record} is not {{emqx_acl, Who, Rules}}"))),
        };
        for r in rules {
            out.push(Rule::compile_stored(r).map_err(bad)?);
        }
    }
    Ok(out)
}

/// Decides `action` on `topic` for `client` (see the module doc).
pub fn authorize(
    tx: &Tx<'_>,
    client: &ClientInfo,
    action: Action,
    topic: &str,
) -> Result<Verdict, AccessError> {
    let settings = settings(tx)?;
    let verdict = |permission, from: &str| Verdict {
        permission,
        from: from.to_owned(),
        deny_action: settings.deny_action,
    };
    if client.is_superuser {
        return Ok(verdict(Permission::Allow, "superuser"));
    }
    for source in &settings.sources {
        let (found, from) = match source {
            Source::BuiltIn => (
                first_match(&builtin_rules(tx, client)?, client, action, topic),
                "built_in_database",
            ),
            Source::File(rules) => (first_match(rules, client, action, topic), "file"),
            Source::Other(_) => continue,
        };
        if let Ok(Some(p)) = found {
            return Ok(verdict(p, from));
        }
    }
    Ok(verdict(settings.no_match, "no_match"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn client(id: &str, user: Option<&str>, ip: &str) -> ClientInfo {
        let mut c = ClientInfo::new(id, ip.parse().unwrap(), "tcp:default");
        c.username = user.map(str::to_owned);
        c
    }

    const PUB0: Action = Action::Publish {
        qos: 0,
        retain: false,
    };
    const SUB0: Action = Action::Subscribe { qos: 0 };

    /// The file rules of the real archives (EMQX's default acl.conf).
    const DEFAULT_ACL: &str = r##"
{allow, {username, {re, "^dashboard$"}}, subscribe, ["$SYS/#"]}.
{allow, {ipaddr, "127.0.0.1"}, all, ["$SYS/#", "#"]}.
{deny, all, subscribe, ["$SYS/#", {eq, "#"}]}.
{allow, all}.
"##;

    fn decide(rules: &[Rule], c: &ClientInfo, a: Action, t: &str) -> Option<Permission> {
        first_match(rules, c, a, t).unwrap()
    }

    #[test]
    fn default_acl_conf() {
        let rules = compile_acl_conf("acl.conf", DEFAULT_ACL).unwrap();
        let local = client("c", None, "127.0.0.1");
        let remote = client("c", None, "10.0.0.1");
        let dash = client("c", Some("dashboard"), "10.0.0.1");
        use Permission::*;
        assert_eq!(decide(&rules, &local, SUB0, "$SYS/#"), Some(Allow));
        assert_eq!(decide(&rules, &remote, SUB0, "$SYS/brokers"), Some(Deny));
        assert_eq!(decide(&rules, &dash, SUB0, "$SYS/brokers"), Some(Allow));
        assert_eq!(decide(&rules, &remote, SUB0, "#"), Some(Deny), "{{eq, #}}");
        assert_eq!(decide(&rules, &remote, SUB0, "a/#"), Some(Allow));
        assert_eq!(decide(&rules, &remote, PUB0, "$SYS/x"), Some(Allow));
        assert_eq!(decide(&rules, &local, SUB0, "#"), Some(Allow));
    }

    fn stored(t: &str) -> Rule {
        let term = emqx_acl_conf::parse(&format!("{t}."))
            .unwrap()
            .remove(0)
            .term;
        let term = binaries(term);
        Rule::compile_stored(&term).unwrap()
    }

    /// Stored rules hold binaries where acl.conf holds strings.
    fn binaries(t: Term) -> Term {
        if let Some(s) = t
            .as_charlist()
            .filter(|s| !s.is_empty() && !s.chars().any(char::is_control))
        {
            return Term::binary(s);
        }
        match t {
            Term::List(items) => Term::List(items.into_iter().map(binaries).collect()),
            Term::Tuple(items) => Term::Tuple(items.into_iter().map(binaries).collect()),
            other => other,
        }
    }

    #[test]
    fn stored_rules_fixture_form() {
        let allow =
            stored(r#"{allow, {all, [{qos, [0,1,2]}, {retain, all}]}, "authn-user-1-allowed"}"#);
        let deny =
            stored(r#"{deny, {all, [{qos, [0,1,2]}, {retain, all}]}, "authn-user-1-denied"}"#);
        let rules = [allow, deny];
        let c = client("c", Some("authn-user-1"), "10.0.0.1");
        let pub1 = Action::Publish {
            qos: 1,
            retain: false,
        };
        assert_eq!(
            decide(&rules, &c, pub1, "authn-user-1-allowed"),
            Some(Permission::Allow)
        );
        assert_eq!(
            decide(&rules, &c, pub1, "authn-user-1-denied"),
            Some(Permission::Deny)
        );
        assert_eq!(
            decide(&rules, &c, SUB0, "authn-user-1-denied"),
            Some(Permission::Deny)
        );
        assert_eq!(decide(&rules, &c, SUB0, "other"), None);
        assert_eq!(
            decide(&rules, &c, SUB0, "#"),
            None,
            "a filter is not matched by text"
        );
    }

    #[test]
    fn qos_retain_and_who_conditions() {
        let r = stored(r##"{deny, {publish, [{qos, 1}, {retain, true}]}, "t/#"}"##);
        let c = client("c", None, "10.0.0.1");
        let pubq = |qos, retain| Action::Publish { qos, retain };
        assert_eq!(
            r.check(&c, pubq(1, true), "t/x").unwrap(),
            Some(Permission::Deny)
        );
        assert_eq!(r.check(&c, pubq(0, true), "t/x").unwrap(), None);
        assert_eq!(r.check(&c, pubq(1, false), "t/x").unwrap(), None);
        assert_eq!(
            r.check(&c, Action::Subscribe { qos: 1 }, "t/x").unwrap(),
            None
        );
        let sub = stored(r#"{allow, {subscribe, [{qos, [0]}]}, "s"}"#);
        assert_eq!(sub.check(&c, SUB0, "s").unwrap(), Some(Permission::Allow));
        assert_eq!(
            sub.check(&c, Action::Subscribe { qos: 2 }, "s").unwrap(),
            None
        );
        assert_eq!(sub.check(&c, PUB0, "s").unwrap(), None);
        let who = stored(
            r#"{allow, {'and', [{clientid, {re, "^dev"}}, {ipaddr, "10.0.0.0/8"}]}, publish, "w"}"#,
        );
        assert_eq!(
            who.check(&client("dev1", None, "10.1.1.1"), PUB0, "w")
                .unwrap(),
            Some(Permission::Allow)
        );
        assert_eq!(
            who.check(&client("dev1", None, "11.1.1.1"), PUB0, "w")
                .unwrap(),
            None
        );
        assert_eq!(
            who.check(&client("xdev", None, "10.1.1.1"), PUB0, "w")
                .unwrap(),
            None
        );
    }

    #[test]
    fn eq_and_placeholders() {
        let eq = stored(r##"{allow, all, {eq, "t/#"}}"##);
        let c = client("c1", Some("u1"), "10.0.0.1");
        assert_eq!(eq.check(&c, SUB0, "t/#").unwrap(), Some(Permission::Allow));
        assert_eq!(eq.check(&c, SUB0, "t/a").unwrap(), None);
        let eq_text = stored(r#"{allow, all, "eq t/+"}"#);
        assert_eq!(
            eq_text.check(&c, SUB0, "t/+").unwrap(),
            Some(Permission::Allow)
        );
        assert_eq!(eq_text.check(&c, PUB0, "t/a").unwrap(), None);
        let p = stored(r##"{allow, all, "u/${username}/c/${clientid}/#"}"##);
        assert_eq!(
            p.check(&c, PUB0, "u/u1/c/c1/x").unwrap(),
            Some(Permission::Allow)
        );
        assert_eq!(p.check(&c, PUB0, "u/u2/c/c1/x").unwrap(), None);
        assert!(p
            .check(&client("c1", None, "10.0.0.1"), PUB0, "u/x/c/c1")
            .is_err());
        let bad = binaries(
            emqx_acl_conf::parse(r#"{allow, all, "t/${peerhost}"}."#)
                .unwrap()
                .remove(0)
                .term,
        );
        assert!(Rule::compile_stored(&bad)
            .unwrap_err()
            .contains("not allowed"));
    }

    #[test]
    fn bad_rules_name_their_line() {
        let e = compile_acl_conf("acl.conf", "{allow, all}.\n{maybe, all}.\n").unwrap_err();
        assert_eq!(
            e.to_string(),
            "acl.conf: line 2: permission 'maybe' is not allow or deny"
        );
        let e = compile_acl_conf("acl.conf", "{allow, {nick, \"x\"}, all, [\"t\"]}.").unwrap_err();
        assert!(e.to_string().contains("line 1"), "{e}");
        assert!(compile_acl_conf("x", "{allow, all").is_err());
    }

    #[test]
    fn settings_defaults_and_sources() {
        let s = settings_of(None).unwrap();
        assert_eq!(
            (s.no_match, s.deny_action),
            (Permission::Allow, DenyAction::Ignore)
        );
        assert!(s.sources.is_empty());
        let root = json!({
            "no_match": "deny", "deny_action": "disconnect",
            "sources": [
                {"type": "http", "enable": true},
                {"type": "built_in_database", "enable": false},
                {"type": "file", "enable": true, "rules": "{allow, all}."},
                {"type": "file", "path": "${EMQX_ETC_DIR}/acl.conf"},
            ]
        });
        let s = settings_of(Some(&root)).unwrap();
        assert_eq!(
            (s.no_match, s.deny_action),
            (Permission::Deny, DenyAction::Disconnect)
        );
        assert_eq!(s.sources.len(), 3);
        assert!(matches!(&s.sources[1], Source::File(r) if r.len() == 1));
        assert!(matches!(&s.sources[2], Source::File(r) if r.is_empty()));
        let e = settings_of(Some(&json!({"deny_action": "kick"}))).unwrap_err();
        assert!(
            e.to_string()
                .starts_with("config authorization.deny_action"),
            "{e}"
        );
    }
}
