#!/bin/sh
# Runs one libFuzzer target for a fixed time: run_fuzzer.sh FUZZER SCRATCH SECONDS SEED_DIR...
# SCRATCH receives the inputs libFuzzer finds (and crash files); the seed
# folders are only read. Exits non-zero when libFuzzer finds a crash, a leak,
# a timeout or an out-of-memory input.
set -eu
fuzzer=$1 scratch=$2 seconds=$3
shift 3
mkdir -p "$scratch"
exec "$fuzzer" -max_total_time="$seconds" -timeout=20 -rss_limit_mb=2048 -max_len=65536 \
  -artifact_prefix="$scratch/" -print_final_stats=1 "$scratch" "$@"
