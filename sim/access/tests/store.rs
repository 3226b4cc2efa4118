//! Access decisions over a real store: the chain order, listener chains, bans before
//! authentication, sources in order, superusers, `no_match`.

use emqx_sim_access::{admit, authorize, Action, Admission, ClientInfo, Permission, Refusal};
use emqx_sim_store::{Store, StoreError, Tx};
use erlang_term::Term;
use serde_json::{json, Value};

const NOW: i64 = 1_800_000_000;
const SALT: &str = "0123456789abcdef0123456789abcdef";
/// sha256 of SALT ‖ "p@ss" (spec §4.1).
const PREFIX_HASH: &str = "621c8f1d08e7fb91005f04a96652adf6e254298ac96cc93f8086f3ae8fd5fe5c";

fn store() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    (dir, store)
}

fn user(group: &str, id: &str, su: bool) -> Term {
    Term::Tuple(vec![
        Term::atom("emqx_authn_mnesia"),
        Term::Tuple(vec![Term::atom(group), Term::binary(id)]),
        Term::binary(PREFIX_HASH),
        Term::binary(SALT),
        Term::atom(if su { "true" } else { "false" }),
    ])
}

fn ban(kind: &str, value: &str, until: i64) -> Term {
    Term::Tuple(vec![
        Term::atom("emqx_banned"),
        Term::Tuple(vec![Term::atom(kind), Term::binary(value)]),
        Term::binary("mgmt_api"),
        Term::binary(""),
        Term::Int(NOW - 10),
        Term::Int(until),
    ])
}

fn seed(store: &Store, f: impl FnOnce(&mut Tx<'_>) -> Result<(), StoreError>) {
    store.write(f).unwrap();
}

fn client(id: &str, user: Option<&str>, password: Option<&str>) -> ClientInfo {
    let mut c = ClientInfo::new(id, "127.0.0.1".parse().unwrap(), "tcp:default");
    c.username = user.map(str::to_owned);
    c.password = password.map(|p| p.as_bytes().to_vec());
    c
}

fn admitted(store: &Store, c: &ClientInfo) -> Admission {
    store.read(|tx| Ok(admit(tx, c, NOW))).unwrap().unwrap()
}

fn password_db() -> Value {
    json!({"mechanism": "password_based", "backend": "built_in_database",
           "password_hash_algorithm": {"name": "sha256", "salt_position": "prefix"}})
}

#[test]
fn no_authenticator_lets_everyone_in() {
    let (_d, s) = store();
    assert_eq!(
        admitted(&s, &client("c", None, None)),
        Admission::Accepted {
            is_superuser: false
        }
    );
    seed(&s, |tx| {
        let disabled = json!([{"mechanism": "password_based", "backend": "built_in_database",
                               "enable": false}]);
        tx.set_config("authentication", &disabled)
    });
    assert!(matches!(
        admitted(&s, &client("c", Some("nobody"), Some("x"))),
        Admission::Accepted { .. }
    ));
}

#[test]
fn chain_order_and_refusals() {
    let (_d, s) = store();
    seed(&s, |tx| {
        tx.set_config(
            "authentication",
            &json!([{"mechanism": "password_based", "backend": "http"}, password_db()]),
        )?;
        tx.put("emqx_authn_mnesia", &user("mqtt:global", "alice", false))?;
        tx.put("emqx_authn_mnesia", &user("mqtt:global", "root", true))
    });
    // The unreachable HTTP authenticator ignores; the built-in database answers.
    assert_eq!(
        admitted(&s, &client("c", Some("alice"), Some("p@ss"))),
        Admission::Accepted {
            is_superuser: false
        }
    );
    assert_eq!(
        admitted(&s, &client("c", Some("root"), Some("p@ss"))),
        Admission::Accepted { is_superuser: true }
    );
    assert_eq!(
        admitted(&s, &client("c", Some("alice"), Some("wrong"))),
        Admission::Refused(Refusal::BadUsernameOrPassword, None)
    );
    // Unknown user: every authenticator ignores, the chain refuses.
    assert_eq!(
        admitted(&s, &client("c", Some("bob"), Some("p@ss"))),
        Admission::Refused(Refusal::NotAuthorized, None)
    );
    assert_eq!(
        admitted(&s, &client("c", None, Some("p@ss"))),
        Admission::Refused(Refusal::NotAuthorized, None)
    );
    // EMQX 5.x: no password at all is a bad password for the built-in database.
    assert_eq!(
        admitted(&s, &client("c", Some("alice"), None)),
        Admission::Refused(Refusal::BadUsernameOrPassword, None)
    );
}

#[test]
fn clientid_user_ids_and_listener_chains() {
    let (_d, s) = store();
    let mut by_clientid = password_db();
    by_clientid["user_id_type"] = json!("clientid");
    seed(&s, |tx| {
        tx.set_config("authentication", &json!([by_clientid]))?;
        tx.put("emqx_authn_mnesia", &user("mqtt:global", "dev-1", false))?;
        tx.put("emqx_authn_mnesia", &user("ssl:default", "tls-user", false))?;
        tx.set_config(
            "listeners",
            &json!({"ssl": {"default": {"authentication": [password_db()]}},
                    "ws": {"default": {"enable_authn": false}}}),
        )
    });
    assert!(matches!(
        admitted(&s, &client("dev-1", Some("anything"), Some("p@ss"))),
        Admission::Accepted { .. }
    ));
    let mut tls = client("x", Some("tls-user"), Some("p@ss"));
    tls.listener = "ssl:default".into();
    assert!(matches!(admitted(&s, &tls), Admission::Accepted { .. }));
    tls.username = Some("dev-1".into());
    assert_eq!(
        admitted(&s, &tls),
        Admission::Refused(Refusal::NotAuthorized, None),
        "the listener's chain has its own user group"
    );
    let mut ws = client("anyone", None, None);
    ws.listener = "ws:default".into();
    assert!(matches!(admitted(&s, &ws), Admission::Accepted { .. }));
}

#[test]
fn bans_come_before_authentication() {
    let (_d, s) = store();
    seed(&s, |tx| {
        tx.set_config("authentication", &json!([password_db()]))?;
        tx.put("emqx_authn_mnesia", &user("mqtt:global", "alice", true))?;
        tx.put("emqx_banned", &ban("clientid", "old", NOW - 1))?;
        tx.put("emqx_banned", &ban("clientid", "bad", NOW + 60))?;
        tx.put("emqx_banned", &ban("username", "mallory", NOW + 60))
    });
    assert!(matches!(
        admitted(&s, &client("old", Some("alice"), Some("p@ss"))),
        Admission::Accepted { .. }
    ));
    match admitted(&s, &client("bad", Some("alice"), Some("p@ss"))) {
        Admission::Refused(Refusal::Banned, Some(b)) => assert_eq!(b.who, "clientid:bad"),
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        admitted(&s, &client("c", Some("mallory"), Some("x"))),
        Admission::Refused(Refusal::Banned, _)
    ));
}

fn acl_row(who: Term, rules: Vec<Term>) -> Term {
    Term::Tuple(vec![Term::atom("emqx_acl"), who, Term::List(rules)])
}

fn rule(p: &str, action: &str, topic: &str) -> Term {
    Term::Tuple(vec![Term::atom(p), Term::atom(action), Term::binary(topic)])
}

fn decide(s: &Store, c: &ClientInfo, a: Action, topic: &str) -> (Permission, String) {
    let v = s
        .read(|tx| Ok(authorize(tx, c, a, topic)))
        .unwrap()
        .unwrap();
    (v.permission, v.from)
}

#[test]
fn sources_in_order_superusers_and_no_match() {
    let (_d, s) = store();
    seed(&s, |tx| {
        tx.set_config(
            "authorization",
            &json!({"no_match": "deny", "sources": [
                {"type": "built_in_database", "enable": true},
                {"type": "file", "enable": true,
                 "rules": "{allow, {username, \"alice\"}, publish, [\"f/#\"]}.\n{deny, all, all, [\"c/#\"]}.\n"},
            ]}),
        )?;
        let client_row = Term::Tuple(vec![Term::Int(2), Term::binary("c1")]);
        tx.put(
            "emqx_acl",
            &acl_row(client_row, vec![rule("deny", "publish", "c/1")]),
        )?;
        let user_row = Term::Tuple(vec![Term::Int(1), Term::binary("alice")]);
        tx.put(
            "emqx_acl",
            &acl_row(
                user_row,
                vec![
                    rule("allow", "all", "c/#"),
                    rule("allow", "all", "u/${username}"),
                ],
            ),
        )?;
        tx.put(
            "emqx_acl",
            &acl_row(Term::Int(0), vec![rule("allow", "subscribe", "pub/#")]),
        )
    });
    let pub0 = Action::Publish {
        qos: 0,
        retain: false,
    };
    let sub0 = Action::Subscribe { qos: 0 };
    let alice = client("c1", Some("alice"), None);
    use Permission::*;
    // The client id's row comes before the username's.
    assert_eq!(
        decide(&s, &alice, pub0, "c/1"),
        (Deny, "built_in_database".into())
    );
    assert_eq!(
        decide(&s, &alice, pub0, "c/2"),
        (Allow, "built_in_database".into())
    );
    assert_eq!(
        decide(&s, &alice, pub0, "u/alice"),
        (Allow, "built_in_database".into())
    );
    assert_eq!(decide(&s, &alice, pub0, "u/bob").0, Deny);
    assert_eq!(
        decide(&s, &alice, sub0, "pub/x"),
        (Allow, "built_in_database".into())
    );
    // Nothing in the database: the file source decides, then no_match.
    assert_eq!(decide(&s, &alice, pub0, "f/x"), (Allow, "file".into()));
    let bob = client("c2", Some("bob"), None);
    assert_eq!(decide(&s, &bob, pub0, "c/9"), (Deny, "file".into()));
    assert_eq!(decide(&s, &bob, pub0, "f/x"), (Deny, "no_match".into()));
    // Superusers skip every source.
    let mut root = bob.clone();
    root.is_superuser = true;
    assert_eq!(decide(&s, &root, pub0, "c/9"), (Allow, "superuser".into()));
}
