//! Gating, honestly: the container tests need a Docker engine and the image `emqx-sim:dev`
//! (`cargo xtask image`); the real-EMQX cases need `EMQX_IMAGE`. Without them the cases are
//! reported as skipped with a loud banner, unless `REQUIRE_DOCKER=1` makes a missing engine or
//! image a failure.

use std::io::Write;
use std::process::Command;

/// The local image of `emqx-sim` built by `cargo xtask image`.
pub const SIM_IMAGE: (&str, &str) = ("emqx-sim", "dev");

/// True when `REQUIRE_DOCKER=1`.
pub fn docker_required() -> bool {
    std::env::var("REQUIRE_DOCKER").is_ok_and(|v| v == "1")
}

/// Why Docker cannot be used, or None when the engine answers and `emqx-sim:dev` exists.
pub fn docker_problem(need_sim_image: bool) -> Option<String> {
    let out = match Command::new("docker")
        .args(["version", "--format", "{{.Server.Version}}"])
        .output()
    {
        Ok(o) => o,
        Err(e) => return Some(format!("the docker CLI cannot run ({e})")),
    };
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        return Some(format!(
            "no Docker engine answers ({})",
            err.lines().next().unwrap_or("").trim()
        ));
    }
    if need_sim_image {
        let image = format!("{}:{}", SIM_IMAGE.0, SIM_IMAGE.1);
        let ok = Command::new("docker")
            .args(["image", "inspect", &image])
            .output()
            .is_ok_and(|o| o.status.success());
        if !ok {
            return Some(format!(
                "the image {image} is absent (build it with `cargo xtask image`)"
            ));
        }
    }
    None
}

/// None when the container tests can run; else the reason they are skipped, after a banner.
/// Panics when `REQUIRE_DOCKER=1` and they cannot run.
pub fn require_docker(need_sim_image: bool) -> Option<String> {
    let problem = docker_problem(need_sim_image)?;
    if docker_required() {
        panic!("REQUIRE_DOCKER=1 but the container tests cannot run: {problem}");
    }
    banner(
        &format!("SKIPPED container tests: {problem}"),
        "Docker",
        "REQUIRE_DOCKER=1",
    );
    Some(problem)
}

/// The real EMQX image to test (`EMQX_IMAGE`, e.g. `emqx/emqx:5.8.6`), or the skip reason.
pub fn emqx_image() -> Result<String, String> {
    match std::env::var("EMQX_IMAGE") {
        Ok(v) if !v.trim().is_empty() => Ok(v.trim().to_owned()),
        _ => {
            let reason = "EMQX_IMAGE is not set (e.g. EMQX_IMAGE=emqx/emqx:5.8.6)".to_owned();
            banner(
                &format!("SKIPPED real-EMQX cases: {reason}"),
                "a real EMQX",
                "EMQX_IMAGE",
            );
            Err(reason)
        }
    }
}

fn banner(line: &str, what: &str, knob: &str) {
    let stars = "*".repeat(76);
    let _ = writeln!(
        std::io::stderr(),
        "\n{stars}\n* {line}\n* These cases checked NOTHING against {what}. Set {knob} to run them.\n{stars}"
    );
}
