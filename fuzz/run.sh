#!/usr/bin/env bash
# A short, bounded fuzzing run of every target: `fuzz/run.sh [SECONDS]`
# (default 30 s each). Needs a nightly toolchain and cargo-fuzz (installed
# from crates.io if missing). Without nightly, it runs the same harness on
# the stable toolchain instead (proptest, `cargo test --test harness`).
# Not part of CI: a fuzzing run has no fixed length worth waiting for.
set -euo pipefail
cd "$(dirname "$0")"
seconds="${1:-30}"
if ! rustup run nightly rustc --version >/dev/null 2>&1; then
  echo "no nightly toolchain: running the harness on stable instead" >&2
  exec cargo test -p scrape-server --test harness
fi
if ! cargo +nightly fuzz --version >/dev/null 2>&1; then
  cargo +nightly install cargo-fuzz --locked
fi
for target in parse_page decode_start_task decode_list_requests; do
  echo "== $target (${seconds}s)"
  # A copy of the seeds: libFuzzer adds what it finds to its corpus directory.
  work="target/corpus/$target"
  mkdir -p "$work"
  cp -n corpus/"$target"/* "$work"/ 2>/dev/null || true
  cargo +nightly fuzz run "$target" "$work" -- -max_total_time="$seconds" -max_len=65536
done
