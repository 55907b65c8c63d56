# The everyday commands. `just --list` shows them.

# Replay the recorded incidents on the embedded default (no cluster, no servers).
demo:
    cargo run --quiet -p lastmile -- replay events/examples

# The whole test suite, starting the real servers it needs.
test *ARGS:
    ./scripts/test {{ARGS}}

# Formatting and lints, as CI runs them.
lint:
    cargo fmt --all -- --check
    cargo clippy --workspace --all-targets -- -D warnings

# API docs, warnings as errors (broken intra-doc links, bad code blocks), as CI builds them.
doc:
    RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps

# Benchmarks: pipeline throughput vs raw JetStream, pending analysis, image check, watcher memory.
bench:
    eval "$(./scripts/install-test-deps)" && cargo bench --workspace

# A lean Lambda package for one function: target/lambda/FUNCTION.zip (ship profile; slow).
lambda-package FUNCTION:
    ./infra/lambda/package.sh {{FUNCTION}}

# Regenerate the checked-in JSON Schemas and NATS stream files after changing the event model.
bless:
    LASTMILE_BLESS=1 cargo test -p lastmile-events

# Coverage-guided fuzzing (cargo-fuzz, libFuzzer, nightly) of every parser for SECONDS each.
# Crashes land in fuzz/artifacts/<target>/; each one found becomes a regression test.
fuzz SECONDS="60":
    cargo +nightly install cargo-fuzz --locked --quiet 2>/dev/null || true
    cd fuzz && for t in $(cargo +nightly fuzz list); do \
      cargo +nightly fuzz run "$t" -- -max_total_time={{SECONDS}} -rss_limit_mb=2048 -max_len=65536 || exit 1; \
    done
