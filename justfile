# allot developer recipes. CI (.ci/run) calls these same recipes.
set shell := ["bash", "-euo", "pipefail", "-c"]

# List the recipes.
default:
    @just --list

# Run allot with the demo council on the embedded PostgreSQL.
demo:
    cargo run --release -- demo

# Serve allot (embedded PostgreSQL unless DATABASE_URL is set).
serve:
    cargo run --release -- serve

# Formatting and lints, as CI runs them.
lint:
    cargo fmt --all -- --check
    cargo clippy --all-targets -- -D warnings

# The whole test suite (real PostgreSQL started by the harness, real Chromium for browser tests).
test:
    cargo test

# Only the browser tests.
e2e:
    cargo test --test it browser::

# `payments_http` (rule-checked payments over HTTP), `card_authorizations` (signed card authorisation
# requests over HTTP) and `payment_run` run on a cluster of their own with
# production durability (fsync, synchronous_commit, full_page_writes on), `ledger` on the test harness's
# cluster (durability off); `payments_http`, `card_authorizations` and `ledger` run pgbench TPC-B on their cluster as the
# baseline. BENCH_SECS sets the length of a case.
# Benchmarks in release mode (prints figures; asserts nothing).
bench:
    #!/usr/bin/env bash
    set -euo pipefail
    shopt -s nullglob
    benches=(benches/*.rs)
    if [ ${#benches[@]} -eq 0 ]; then echo "no benchmarks yet"; exit 0; fi
    for b in "${benches[@]}"; do cargo bench --bench "$(basename "$b" .rs)"; done

# Property tests with many more cases than the default run: the rules' properties and the ledger
# against its model. Fails if a filter matches no test.
fuzz:
    #!/usr/bin/env bash
    set -euo pipefail
    run() { out=$("$@" 2>&1) || { echo "$out"; exit 1; }; echo "$out" | grep -E "^test result"; echo "$out" | grep -qE "running [1-9][0-9]* tests?" || { echo "no test matched: $*"; exit 1; }; }
    PROPTEST_CASES=2000 run cargo test --release --lib rules::tests::props
    PROPTEST_CASES=200 run cargo test --release --test it ledger_model::

# Lints and tests: what CI runs.
ci: lint test
