//! The connected clients and their subscriptions, and routing a publish to every matching
//! subscription. Sessions live as long as their connection; a new connection with a client id
//! in use takes it over and the old one is closed.

use bytes::Bytes;
use emqx_sim_access::topic::route_matches;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use tokio::sync::mpsc::UnboundedSender;

/// What a connection task is told by the broker.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Deliver {
    /// A message for one of its subscriptions, at the QoS granted.
    Publish {
        /// Topic name.
        topic: String,
        /// Payload.
        payload: Bytes,
        /// min(publish QoS, subscription QoS).
        qos: u8,
    },
    /// Another connection took the client id.
    TakenOver,
}

struct Session {
    conn: u64,
    tx: UnboundedSender<Deliver>,
    /// Filter → granted QoS.
    subs: HashMap<String, u8>,
}

/// Every connected client by client id.
#[derive(Default)]
pub struct Registry {
    sessions: Mutex<HashMap<String, Session>>,
    next_conn: AtomicU64,
}

/// The filter a subscription matches topics with: a shared subscription's
/// (`$share/<group>/<filter>`) real filter.
pub fn real_filter(filter: &str) -> &str {
    filter
        .strip_prefix("$share/")
        .and_then(|rest| rest.split_once('/'))
        .map_or(filter, |(_, f)| f)
}

impl Registry {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Session>> {
        self.sessions.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Registers a connection for `clientid`, telling the previous one it was taken over;
    /// returns the connection's number.
    pub fn register(&self, clientid: &str, tx: UnboundedSender<Deliver>) -> u64 {
        let conn = self.next_conn.fetch_add(1, Ordering::Relaxed) + 1;
        let old = self.lock().insert(
            clientid.to_owned(),
            Session {
                conn,
                tx,
                subs: HashMap::new(),
            },
        );
        if let Some(old) = old {
            let _ = old.tx.send(Deliver::TakenOver);
        }
        conn
    }

    /// Removes the session of connection `conn` (not a newer one with the same client id).
    pub fn unregister(&self, clientid: &str, conn: u64) {
        let mut sessions = self.lock();
        if sessions.get(clientid).is_some_and(|s| s.conn == conn) {
            sessions.remove(clientid);
        }
    }

    /// Adds or replaces a subscription.
    pub fn subscribe(&self, clientid: &str, conn: u64, filter: &str, qos: u8) {
        if let Some(s) = self.lock().get_mut(clientid).filter(|s| s.conn == conn) {
            s.subs.insert(filter.to_owned(), qos);
        }
    }

    /// Removes a subscription.
    pub fn unsubscribe(&self, clientid: &str, conn: u64, filter: &str) {
        if let Some(s) = self.lock().get_mut(clientid).filter(|s| s.conn == conn) {
            s.subs.remove(filter);
        }
    }

    /// Sends a message to every client with a matching subscription (once per client, at the
    /// highest QoS its matching subscriptions grant); how many got it.
    pub fn route(&self, topic: &str, payload: &Bytes, qos: u8) -> usize {
        let sessions = self.lock();
        let mut delivered = 0;
        for s in sessions.values() {
            let granted = s
                .subs
                .iter()
                .filter(|(f, _)| route_matches(topic, real_filter(f)))
                .map(|(_, q)| *q)
                .max();
            if let Some(g) = granted {
                let sent = s.tx.send(Deliver::Publish {
                    topic: topic.to_owned(),
                    payload: payload.clone(),
                    qos: qos.min(g),
                });
                delivered += usize::from(sent.is_ok());
            }
        }
        delivered
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::sync::mpsc::unbounded_channel;

    #[test]
    fn routing_and_takeover() {
        let r = Registry::default();
        let (tx1, mut rx1) = unbounded_channel();
        let (tx2, mut rx2) = unbounded_channel();
        let c1 = r.register("a", tx1);
        let c2 = r.register("b", tx2);
        r.subscribe("a", c1, "t/+", 1);
        r.subscribe("a", c1, "t/#", 0);
        r.subscribe("b", c2, "$share/g/t/x", 2);
        r.subscribe("b", c2, "t/+", 2);
        let payload = Bytes::from_static(b"hi");
        assert_eq!(r.route("t/x", &payload, 2), 2);
        let want = |qos| Deliver::Publish {
            topic: "t/x".into(),
            payload: payload.clone(),
            qos,
        };
        assert_eq!(rx1.try_recv().unwrap(), want(1), "the highest granted QoS");
        assert_eq!(rx2.try_recv().unwrap(), want(2));
        assert!(
            rx1.try_recv().is_err() && rx2.try_recv().is_err(),
            "once per client"
        );
        assert_eq!(r.route("$SYS/x", &payload, 0), 0);
        let (tx3, _rx3) = unbounded_channel();
        let c3 = r.register("a", tx3);
        assert_eq!(rx1.try_recv().unwrap(), Deliver::TakenOver);
        r.unregister("a", c1);
        r.subscribe("a", c3, "u", 0);
        assert_eq!(r.route("u", &payload, 0), 1, "the newer session stays");
        r.unsubscribe("a", c3, "u");
        assert_eq!(r.route("u", &payload, 0), 0);
    }
}
