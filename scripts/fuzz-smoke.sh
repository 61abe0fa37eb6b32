#!/usr/bin/env bash
# Short run of every fuzz target: a smoke test that the targets build and that the kept
# regression inputs, the samples and a few seeds do not crash. It is not a search for new
# bugs; docs/fuzzing.md describes the long runs.
#
# Installs cargo-fuzz when it is missing. Needs ../shared beside the project for seeds.
#
# Environment:
#   SECONDS_PER_TARGET  libFuzzer time per target (default: 20)
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_PER_TARGET=${SECONDS_PER_TARGET:-20}
SHARED=../shared

if ! cargo fuzz --version >/dev/null 2>&1; then
    cargo install cargo-fuzz --locked
fi
# cargo-fuzz passes nightly-only compiler flags; the stable toolchain accepts them with this.
export RUSTC_BOOTSTRAP=1
# -O builds with debug assertions off, as release builds are (mail-parser 0.11 has a
# debug_assert! that fires on malformed multipart messages).
cargo fuzz build -O --fuzz-dir fuzz

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
python3 fuzz/seed-corpus.py "$SHARED/acceptance" "$WORK/seeds"

# Seeds per target: the field seeds from the acceptance cases, and for the whole-input
# targets the samples, the regression inputs and small folders of the shared corpus.
seeds_for() {
    case $1 in
        received|authres|taglist|exchange) echo "$WORK/seeds/$1" ;;
        message) echo "samples tests/regressions $SHARED/acceptance" ;;
        mbox) echo "$SHARED/corpus/mbox tests/regressions" ;;
        msg) echo "$SHARED/corpus/msg/hiraoka_msgreader" ;;
    esac
}

for target in received authres taglist exchange mbox msg message; do
    corpus="$WORK/corpus-$target"
    mkdir -p "$corpus" "$WORK/seeds/$target"
    max_len=65536
    if [[ $target == msg ]]; then
        max_len=524288
    fi
    echo "== fuzz $target for ${SECONDS_PER_TARGET}s"
    # shellcheck disable=SC2046 # the seed folders are separate arguments
    cargo fuzz run -O --fuzz-dir fuzz "$target" "$corpus" $(seeds_for "$target") -- \
        -max_total_time="$SECONDS_PER_TARGET" -max_len="$max_len" -timeout=10 \
        -rss_limit_mb=2048 -artifact_prefix="$WORK/"
done
echo "== fuzz smoke run passed"
