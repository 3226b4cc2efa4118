//! Built-in database authentication: the users of password_based and SCRAM authenticators
//! (`emqx_authn_mnesia`, `emqx_authn_scram_mnesia` and their 6.x `_ns` tables, table set
//! `builtin_authn`) and the `authentication` root, merged by authenticator id.
//!
//! A stored user carries no algorithm: it verifies only under the hash algorithm its chain's
//! authenticator is configured with (spec §4.3). The merge warns when the import changes that
//! algorithm under users the node keeps, and when it brings users no authenticator reads.

pub mod config;
pub mod users;

use config::{Chain, PASSWORD_DB, ROOT, SCRAM_DB};
use emqx_backup_plugin_sdk::domain::{counted, merge_observed, Domain, MergeResult, SectionView};
use emqx_backup_plugin_sdk::table::{Fate, TableFormat};
use emqx_backup_plugin_sdk::{export_domain, Manifest, Options, PluginError, Problem, RootMerge};
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use users::{Kind, UserInfo, TABLES};

/// The authn domain.
#[derive(Default)]
pub struct Authn;

/// User counts per `(kind, user group)`.
type Counts = BTreeMap<(KindKey, String), u64>;

/// [`Kind`] as an ordered map key.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum KindKey {
    Password,
    Scram,
}

impl From<Kind> for KindKey {
    fn from(k: Kind) -> Self {
        match k {
            Kind::Password => KindKey::Password,
            Kind::Scram => KindKey::Scram,
        }
    }
}

/// The section with a lone `authentication` object turned into a list, as EMQX's importer
/// reads it.
fn normalised<'a>(section: &SectionView<'a>) -> SectionView<'a> {
    let mut out = section.clone();
    if let Some(v @ Value::Object(_)) = out.config.get(ROOT) {
        let list = config::as_list(v);
        out.config.insert(ROOT.to_owned(), list);
    }
    out
}

/// Counts one incoming user by group, and namespaced superusers.
fn count_user(
    table: &users::UserTable,
    record: &emqx_backup_plugin_sdk::Term,
    counts: &mut Counts,
    ns_superusers: &mut u64,
) {
    if let Some(UserInfo {
        group,
        namespace,
        is_superuser,
    }) = table.info(record)
    {
        *counts.entry((table.kind.into(), group)).or_default() += 1;
        if namespace.is_some() && is_superuser == Some(true) {
            *ns_superusers += 1;
        }
    }
}

/// Every chain either side configures, current ones first.
fn all_chains(current: &Map<String, Value>, incoming: &Map<String, Value>) -> Vec<Chain> {
    let mut all = config::chains(current);
    for c in config::chains(incoming) {
        if !all.contains(&c) {
            all.push(c);
        }
    }
    all
}

/// `1 user`, `2 existing users`.
fn users(n: u64, adjective: &str) -> String {
    let plural = if n == 1 { "" } else { "s" };
    format!("{n} {adjective}user{plural}")
}

/// Warnings on hash algorithms the import changes under users the node keeps.
fn algorithm_warnings(
    kept: &Counts,
    current: &Map<String, Value>,
    incoming: &Map<String, Value>,
    warnings: &mut Vec<emqx_backup_plugin_sdk::Warning>,
) {
    for ((kind, group), &count) in kept {
        if count == 0 {
            continue;
        }
        match kind {
            KindKey::Password => {
                let Some(chain) = Chain::of_group(group) else {
                    continue;
                };
                let merged = chain.merged(current, incoming);
                let (Some(before), Some(after)) = (
                    config::find(chain.value(current), PASSWORD_DB),
                    config::find(merged.as_ref(), PASSWORD_DB),
                ) else {
                    continue;
                };
                let (before, after) = (
                    config::password_algorithm(before),
                    config::password_algorithm(after),
                );
                if before != after {
                    warnings.push(counted(
                        "authn.hash_algorithm_changed",
                        count,
                        format!(
                            "{} of chain {group} would no longer log in: password_hash_algorithm {before} -> {after}",
                            users(count, "existing ")
                        ),
                    ));
                }
            }
            KindKey::Scram => {
                if group != SCRAM_DB {
                    continue;
                }
                for chain in all_chains(current, incoming) {
                    let merged = chain.merged(current, incoming);
                    let (Some(before), Some(after)) = (
                        config::find(chain.value(current), SCRAM_DB),
                        config::find(merged.as_ref(), SCRAM_DB),
                    ) else {
                        continue;
                    };
                    let (before, after) = (
                        config::scram_algorithm(before),
                        config::scram_algorithm(after),
                    );
                    if before != after {
                        warnings.push(counted(
                            "authn.scram_algorithm_changed",
                            count,
                            format!(
                                "{} of {SCRAM_DB} would no longer log in through chain {chain}: algorithm/iteration_count {before} -> {after}",
                                users(count, "existing ")
                            ),
                        ));
                    }
                }
            }
        }
    }
}

/// Warnings on imported users whose chain has no (enabled) built-in database authenticator
/// after the import.
fn unused_warnings(
    incoming_counts: &Counts,
    current: &Map<String, Value>,
    incoming: &Map<String, Value>,
    warnings: &mut Vec<emqx_backup_plugin_sdk::Warning>,
) {
    for ((kind, group), &count) in incoming_counts {
        let found: Vec<(String, bool)> = match kind {
            KindKey::Password => {
                let Some(chain) = Chain::of_group(group) else {
                    continue;
                };
                if chain != Chain::Global && !chain.known_in(current) && !chain.known_in(incoming) {
                    // The host passed no config for the chain's root: nothing to tell.
                    continue;
                }
                let merged = chain.merged(current, incoming);
                config::find(merged.as_ref(), PASSWORD_DB)
                    .map(|a| (chain.to_string(), config::enabled(a)))
                    .into_iter()
                    .collect()
            }
            KindKey::Scram => all_chains(current, incoming)
                .iter()
                .filter_map(|chain| {
                    let merged = chain.merged(current, incoming);
                    config::find(merged.as_ref(), group)
                        .map(|a| (chain.to_string(), config::enabled(a)))
                })
                .collect(),
        };
        let (what, id, missing) = match kind {
            KindKey::Password => (
                format!("chain {group}"),
                PASSWORD_DB,
                format!(
                    "{} has no {PASSWORD_DB} authenticator",
                    Chain::of_group(group).map_or_else(String::new, |c| c.path_text())
                ),
            ),
            KindKey::Scram => (
                format!("user group {group}"),
                group.as_str(),
                format!("no chain has a {group} authenticator"),
            ),
        };
        if found.is_empty() {
            warnings.push(counted(
                "authn.users_unused",
                count,
                format!(
                    "{} of {what} would be imported but never used: after the import, {missing}",
                    users(count, "")
                ),
            ));
        } else if found.iter().all(|(_, enabled)| !enabled) {
            let chains: Vec<&str> = found.iter().map(|(c, _)| c.as_str()).collect();
            warnings.push(counted(
                "authn.authenticator_disabled",
                count,
                format!(
                    "{} of {what} would be imported, but the {id} authenticator of chain {} is disabled (enable = false)",
                    users(count, ""),
                    chains.join(", ")
                ),
            ));
        }
    }
}

impl Domain for Authn {
    fn manifest(&self) -> Manifest {
        Manifest {
            name: "authn".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            description: "built-in database users of password_based and SCRAM authenticators, and the authenticators".into(),
            table_sets: vec!["builtin_authn".into()],
            tables: TABLES.iter().map(|t| t.table.to_owned()).collect(),
            roots: vec![ROOT.into()],
            reads_roots: vec!["gateway".into(), "listeners".into()],
            emqx_versions: "5.1 - 5.10, 6.0 - 6.1".into(),
        }
    }

    fn tables(&self) -> Vec<Box<dyn TableFormat>> {
        TABLES
            .iter()
            .map(|t| Box::new(*t) as Box<dyn TableFormat>)
            .collect()
    }

    fn roots(&self) -> Vec<(&'static str, RootMerge)> {
        vec![(ROOT, config::RULE)]
    }

    fn merge(
        &self,
        current: &SectionView,
        incoming: &SectionView,
        options: &Options,
    ) -> Result<MergeResult, PluginError> {
        let (current, incoming) = (normalised(current), normalised(incoming));
        let mut kept = Counts::new();
        let (mut incoming_counts, mut ns_superusers) = (Counts::new(), 0u64);
        let mut result = merge_observed(
            self,
            &current,
            &incoming,
            options,
            &mut |table, record, fate| {
                if fate != Fate::Kept {
                    return;
                }
                if let Some(t) = users::user_table(table) {
                    if let Some(info) = t.info(record) {
                        *kept.entry((t.kind.into(), info.group)).or_default() += 1;
                    }
                }
            },
            &mut |table, record| {
                if let Some(t) = users::user_table(table) {
                    count_user(&t, record, &mut incoming_counts, &mut ns_superusers);
                }
            },
        )?;
        // Tables the plugin owns only appear in the merge when the archive has them; the
        // counts above cover exactly those.
        let warnings = &mut result.plan.warnings;
        algorithm_warnings(&kept, &current.config, &incoming.config, warnings);
        unused_warnings(
            &incoming_counts,
            &current.config,
            &incoming.config,
            warnings,
        );
        if ns_superusers > 0 {
            warnings.push(counted(
                "authn.namespaced_superuser",
                ns_superusers,
                format!("{ns_superusers} namespaced users in the archive are superusers: EMQX never creates such users (its user import refuses them), but a restore writes them as they are"),
            ));
        }
        Ok(result)
    }

    fn check_config(&self, config: &Map<String, Value>) -> Vec<Problem> {
        config.get(ROOT).map(config::check_root).unwrap_or_default()
    }
}

export_domain!(Authn);
