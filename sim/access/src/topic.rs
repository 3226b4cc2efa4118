//! Topics and filters as `emqx_topic` sees them: split into words on `/`, `+` and `#` as
//! wildcards, and the two ways EMQX matches them.
//!
//! * [`matches_words`] is `emqx_topic:match/2` on word lists, which authorization uses: a
//!   topic (or, for a subscription, a filter) against a rule's filter, wildcards on the left
//!   matching only the same wildcard on the right, and no special case for `$` topics.
//! * [`route_matches`] is the same on binaries, which routing uses: a topic whose first level
//!   starts with `$` matches no filter starting with a wildcard.

/// One level of a topic or filter.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Word {
    /// An empty level (`a//b`).
    Empty,
    /// `+`.
    Plus,
    /// `#`.
    Hash,
    /// Any other text.
    Text(String),
}

/// `emqx_topic:words/1`.
pub fn words(topic: &str) -> Vec<Word> {
    topic
        .split('/')
        .map(|w| match w {
            "" => Word::Empty,
            "+" => Word::Plus,
            "#" => Word::Hash,
            t => Word::Text(t.to_owned()),
        })
        .collect()
}

/// `emqx_topic:match/2` on words: `name` against `filter`.
pub fn matches_words(name: &[Word], filter: &[Word]) -> bool {
    match (name, filter) {
        ([], []) => true,
        ([h1, t1 @ ..], [h2, t2 @ ..]) if h1 == h2 => matches_words(t1, t2),
        ([_, t1 @ ..], [Word::Plus, t2 @ ..]) => matches_words(t1, t2),
        (_, [Word::Hash]) => true,
        _ => false,
    }
}

/// `emqx_topic:match/2` on binaries, as routing uses it.
pub fn route_matches(topic: &str, filter: &str) -> bool {
    if topic.starts_with('$') && (filter.starts_with('+') || filter.starts_with('#')) {
        return false;
    }
    matches_words(&words(topic), &words(filter))
}

/// Whether `topic` is a valid topic name to publish to (`emqx_topic:validate(name, _)`).
pub fn valid_name(topic: &str) -> bool {
    !topic.is_empty() && topic.len() <= 65535 && !topic.contains(['+', '#', '\0'])
}

/// Whether `filter` is a valid topic filter (`emqx_topic:validate(filter, _)`): `#` only
/// last, wildcards only as whole levels.
pub fn valid_filter(filter: &str) -> bool {
    if filter.is_empty() || filter.len() > 65535 || filter.contains('\0') {
        return false;
    }
    let levels: Vec<&str> = filter.split('/').collect();
    levels.iter().enumerate().all(|(i, l)| match *l {
        "#" => i == levels.len() - 1,
        "+" => true,
        l => !l.contains(['+', '#']),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(name: &str, filter: &str) -> bool {
        matches_words(&words(name), &words(filter))
    }

    #[test]
    fn emqx_match() {
        assert!(m("a/b/c", "a/+/c"));
        assert!(m("a/b/c", "a/#"));
        assert!(m("a", "a/#"), "# also matches the parent level");
        assert!(m("a//c", "a//c"));
        assert!(m("a//c", "a/+/c"));
        assert!(!m("a/b", "a/b/c"));
        assert!(!m("a/b/c", "a/b"));
        assert!(!m("a/+", "a/b"), "a wildcard is not matched by text");
        assert!(m("a/+", "a/+"));
        assert!(m("#", "#"));
        assert!(
            m("#", "+"),
            "EMQX: a one-level wildcard rule covers a lone #"
        );
        assert!(m("$SYS/x", "#"), "authorization has no $ rule");
    }

    #[test]
    fn routing_dollar_rule() {
        assert!(!route_matches("$SYS/x", "#"));
        assert!(!route_matches("$SYS/x", "+/x"));
        assert!(route_matches("$SYS/x", "$SYS/#"));
        assert!(route_matches("t/1", "#"));
    }

    #[test]
    fn validity() {
        assert!(valid_name("a/b") && !valid_name("a/+") && !valid_name(""));
        assert!(valid_filter("a/+/#") && valid_filter("#") && valid_filter("+"));
        assert!(!valid_filter("a/#/b") && !valid_filter("a+") && !valid_filter(""));
    }
}
