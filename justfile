# Everyday recipes: each is a thin call of cargo or cargo xtask.

default:
    @just --list

# Build everything.
build:
    cargo build --workspace

# Run the whole test suite (the OTP oracle tests skip loudly without escript; REQUIRE_OTP=1 makes them mandatory).
test:
    cargo test --workspace

# Format and lint as CI does.
lint:
    cargo fmt --all -- --check
    cargo clippy --workspace --all-targets -- -D warnings

# The demo: back up a simulated EMQX node and restore it into another.
demo:
    cargo xtask demo

# Benchmarks: verify of a 7 x 1,000,000-record archive, then criterion.
bench:
    cargo xtask bench

# Benchmark: the plan of merging two archives of 1,000,000 authn users each.
bench-merge:
    cargo xtask bench-merge

# List the domain plugins the debug build finds.
plugins:
    cargo build --workspace
    cargo run -q -p emqx-backup -- plugins

# A simulated EMQX node in ./data on 127.0.0.1:18083 (admin/public).
sim:
    cargo run -p emqx-sim -- start

# What CI runs.
ci:
    bash .ci/run

# Build the local Docker image emqx-sim:dev (emqx-sim and the plugins; nothing is pulled).
image:
    cargo xtask image

# The conformance suite against emqx-sim (process, cluster in containers) and real EMQX
# (EMQX_IMAGE=emqx/emqx:5.8.6): a table of cases by broker.
compat:
    cargo xtask compat

# The release tarball dist/emqx-backup-<version>-<target>.tar.gz: binaries, plugins, README,
# LICENSE, man pages, shell completions and SHA256SUMS.
dist:
    cargo xtask dist

# Fuzz the parsers (term decoder, disk_log, HOCON, archive reader), e.g. `just fuzz --seconds 300`.
fuzz *args:
    cargo xtask fuzz {{args}}
