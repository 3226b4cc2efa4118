//! The conformance suite against every broker: an `emqx-sim` process, an `emqx-sim` cluster in
//! containers, and a real EMQX container (`EMQX_IMAGE`). Archives move with the `emqx-backup`
//! binary; the sim process also runs the suite once through the bare REST API, as the
//! Dashboard does. Each case is reported as passed, failed or skipped with its reason (see
//! `cargo xtask compat`).

use emqx_backup_conformance::cases::{self, CLUSTER, CROSS, GENERIC};
use emqx_backup_conformance::containers::{RealEmqxKind, SimClusterKind};
use emqx_backup_conformance::gate;
use emqx_backup_conformance::report::Cases;
use emqx_backup_conformance::sim::SimProcessKind;
use emqx_backup_conformance::transfer::{BackupTransfer, RestTransfer};

#[test]
fn sim_process() {
    let mut c = Cases::new("sim-process");
    cases::suite(&SimProcessKind, &BackupTransfer::built(), &mut c);
    c.finish();
}

#[test]
fn sim_process_through_the_rest_api() {
    let mut c = Cases::new("sim-process (REST)");
    cases::suite(&SimProcessKind, &RestTransfer, &mut c);
    c.finish();
}

#[test]
fn sim_cluster_in_containers() {
    let mut c = Cases::new("sim-cluster");
    if let Some(reason) = gate::require_docker(true) {
        c.skip_all(GENERIC, &reason);
        c.skip_all(CLUSTER, &reason);
        return;
    }
    cases::suite(&SimClusterKind, &BackupTransfer::built(), &mut c);
    c.finish();
}

#[test]
fn real_emqx_in_a_container() {
    let image = match gate::emqx_image() {
        Ok(i) => i,
        Err(reason) => {
            let mut c = Cases::new("emqx");
            c.skip_all(GENERIC, &reason);
            c.skip_all(CROSS, &reason);
            return;
        }
    };
    let kind = RealEmqxKind { image };
    let mut c = Cases::new(&emqx_backup_conformance::BrokerKind::label(&kind));
    if let Some(reason) = gate::require_docker(false) {
        c.skip_all(GENERIC, &reason);
        c.skip_all(CROSS, &reason);
        return;
    }
    let transfer = BackupTransfer::built();
    cases::suite(&kind, &transfer, &mut c);
    c.run("cross_sim_to_emqx", || {
        cases::cross(&SimProcessKind, &kind, &transfer)
    });
    c.run("cross_emqx_to_sim", || {
        cases::cross(&kind, &SimProcessKind, &transfer)
    });
    c.finish();
}
