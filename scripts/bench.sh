#!/usr/bin/env bash
# Benchmark `mailtrace scan` against the I/O floor (`cat`) and SpamScope's mail-parser.
#
# One run builds the release binary and mbox files of 1/16, 1/4 and 1 GiB from the
# phishing corpus. On those files it then times `mailtrace scan --format jsonl`, `cat`,
# and SpamScope's mail-parser parsing the messages and reading their Received hops (the
# corpus folder, and a sample of members of the smallest mbox).
# Every input is read once before timing, so all runs read from the page cache.
#
# Prints a Markdown table (also written to $BENCH_DIR/results.md). Not part of
# `cargo test` or CI: it needs about 2 GiB in $BENCH_DIR and a few minutes.
#
# Environment:
#   CORPUS     folder of .eml files (default: ../shared/corpus/phish-outlook)
#   BENCH_DIR  scratch folder for the mbox files and results (default: /tmp/mailtrace-bench)
#   VENV       Python venv with `mail-parser` installed (default: /tmp/mp-venv); create it
#              with `python3 -m venv /tmp/mp-venv && /tmp/mp-venv/bin/pip install mail-parser`
#   RUNS       timed runs per case, the median is reported (default: 3)
#   MBOX_SAMPLE  mbox members parsed by mail-parser (default: 2000)
#   BUILD      set to 0 to use the release binary already built (default: 1)
set -euo pipefail

cd "$(dirname "$0")/.."
SCRIPTS=$PWD/scripts
CORPUS=${CORPUS:-$PWD/../shared/corpus/phish-outlook}
BENCH_DIR=${BENCH_DIR:-/tmp/mailtrace-bench}
VENV=${VENV:-/tmp/mp-venv}
RUNS=${RUNS:-3}
MBOX_SAMPLE=${MBOX_SAMPLE:-2000}
GIB=$((1024 * 1024 * 1024))

mkdir -p "$BENCH_DIR"
TIME_FILE=$BENCH_DIR/time.txt
RESULTS=$BENCH_DIR/results.md

if [[ ${BUILD:-1} != 0 ]]; then
    cargo build --release --quiet
fi
BIN=$PWD/target/release/mailtrace

# Machine.
echo "machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(free -g | awk '/^Mem:/ {print $2}') GiB RAM"
echo "mailtrace: $(git rev-parse --short HEAD 2>/dev/null || echo unknown) plus working tree; $(rustc --version)"
echo "mail-parser (SpamScope): $("$VENV/bin/pip" show mail-parser 2>/dev/null | awk '/^Version:/ {print $2}'), $("$VENV/bin/python" --version)"

# Inputs: the corpus folder and three mbox sizes built from it.
declare -A MBOX_MESSAGES
for part in 16 4 1; do
    file=$BENCH_DIR/mbox-1of$part.mbox
    size=$((GIB / part))
    if [[ ! -f $file || $(stat -c %s "$file") -lt $size ]]; then
        python3 "$SCRIPTS/bench_mbox.py" "$CORPUS" "$file" "$size" > "$file.count"
    fi
    MBOX_MESSAGES[$part]=$(cat "$file.count")
done
FOLDER_FILES=("$CORPUS"/*.eml)
FOLDER_BYTES=$(cat "${FOLDER_FILES[@]}" | wc -c)
cat "$BENCH_DIR"/*.mbox > /dev/null

# Runs a command RUNS times under /usr/bin/time. Sets WALL (median seconds), CPU (user
# plus system seconds) and RSS (peak resident set, KiB) of the median run. The command's
# stdout goes to $BENCH_DIR/last.out.
measure() {
    local runs=() line
    for _ in $(seq "$RUNS"); do
        /usr/bin/time -f "%e %U %S %M" -o "$TIME_FILE" "$@" > "$BENCH_DIR/last.out" 2> "$BENCH_DIR/last.err"
        runs+=("$(cat "$TIME_FILE")")
    done
    line=$(printf '%s\n' "${runs[@]}" | sort -n | sed -n "$(((RUNS + 1) / 2))p")
    read -r WALL user system RSS <<< "$line"
    CPU=$(python3 -c "print(f'{$user + $system:.2f}')")
}

rate() { python3 -c "print(f'{$1 / max($2, 0.001):,.0f}')"; }
mib() { python3 -c "print(f'{$1 / 1048576:,.0f}')"; }

# Returns the `messages` count of the summary record in $BENCH_DIR/last.out.
scanned() { tail -n 1 "$BENCH_DIR/last.out" | python3 -c 'import json,sys; print(json.load(sys.stdin)["messages"])'; }

{
    echo "| input | size (MiB) | tool | messages | wall (s) | CPU (s) | messages/s | peak RSS (MiB) |"
    echo "| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: |"

    # The corpus folder.
    name="phish-outlook folder (${#FOLDER_FILES[@]} files)"
    measure "$BIN" scan --format jsonl --progress never "$CORPUS"
    count=$(scanned)
    echo "| $name | $(mib "$FOLDER_BYTES") | mailtrace scan | $count | $WALL | $CPU | $(rate "$count" "$WALL") | $(mib $((RSS * 1024))) |"
    measure "$BIN" scan --format jsonl --progress never --threads 1 "$CORPUS"
    echo "| $name | $(mib "$FOLDER_BYTES") | mailtrace scan --threads 1 | $count | $WALL | $CPU | $(rate "$count" "$WALL") | $(mib $((RSS * 1024))) |"
    measure cat "${FOLDER_FILES[@]}"
    echo "| $name | $(mib "$FOLDER_BYTES") | cat | ${#FOLDER_FILES[@]} | $WALL | $CPU | $(rate "${#FOLDER_FILES[@]}" "$WALL") | $(mib $((RSS * 1024))) |"
    measure "$VENV/bin/python" "$SCRIPTS/bench_mailparser.py" "$CORPUS"
    read -r parsed hops parse_seconds < "$BENCH_DIR/last.out"
    echo "| $name | $(mib "$FOLDER_BYTES") | SpamScope mail-parser, parse + Received ($hops hops); parse time only: $parse_seconds s | $parsed | $WALL | $CPU | $(rate "$parsed" "$parse_seconds") | $(mib $((RSS * 1024))) |"

    # The mbox files, smallest first.
    for part in 16 4 1; do
        file=$BENCH_DIR/mbox-1of$part.mbox
        bytes=$(stat -c %s "$file")
        name="mbox, 1/$part GiB"
        measure "$BIN" scan --format jsonl --progress never "$file"
        count=$(scanned)
        if [[ $count != "${MBOX_MESSAGES[$part]}" ]]; then
            echo "mailtrace read $count messages from $file, but $SCRIPTS/bench_mbox.py wrote ${MBOX_MESSAGES[$part]}" >&2
            exit 1
        fi
        echo "| $name | $(mib "$bytes") | mailtrace scan | $count | $WALL | $CPU | $(rate "$count" "$WALL") | $(mib $((RSS * 1024))) |"
        measure cat "$file"
        echo "| $name | $(mib "$bytes") | cat | $count | $WALL | $CPU | $(rate "$count" "$WALL") | $(mib $((RSS * 1024))) |"
    done

    # SpamScope on the first MBOX_SAMPLE members of the smallest mbox.
    measure "$VENV/bin/python" "$SCRIPTS/bench_mailparser.py" "$BENCH_DIR/mbox-1of16.mbox" "$MBOX_SAMPLE"
    read -r parsed hops parse_seconds < "$BENCH_DIR/last.out"
    echo "| first $parsed members of the 1/16 GiB mbox | - | SpamScope mail-parser, parse + Received ($hops hops); parse time only: $parse_seconds s; wall includes reading and splitting the whole mbox | $parsed | $WALL | $CPU | $(rate "$parsed" "$parse_seconds") | $(mib $((RSS * 1024))) |"
} | tee "$RESULTS"
