#!/bin/sh
# tests/fuzz/run.sh -- runs the fuzz targets built in build-fuzz/: fuzzing for a while, or replaying the corpora.
# Usage: tests/fuzz/run.sh fuzz SECONDS TARGET...    each target for SECONDS with its committed corpus;
#                                                    new inputs go to build-fuzz/corpus/TARGET/
#        tests/fuzz/run.sh replay TARGET...          every committed input of each target run once
# Crashes, hangs and leaks are written to build-fuzz/artifacts/TARGET/ (never into the source tree).
set -eu
out=build-fuzz
mode=${1:-}
[ -n "$mode" ] && shift
case "$mode" in
  fuzz) seconds=$1; shift ;;
  replay) ;;
  *) echo "usage: $0 fuzz SECONDS TARGET... | replay TARGET..." >&2; exit 2 ;;
esac

# What each target needs besides the defaults: its dictionary (tests/fuzz/dict/, written by
# make_corpus.py) when it has one; the configuration loader logs every problem it finds.
extra() {
  [ -f "tests/fuzz/dict/$1.dict" ] && printf -- '-dict=tests/fuzz/dict/%s.dict ' "$1"
  case "$1" in
    conf) echo "-close_fd_mask=2" ;;
  esac
}

status=0
for t in "$@"; do
  bin=$out/fuzz_$t
  corpus=tests/fuzz/corpus/$t
  mkdir -p "$out/artifacts/$t"
  common="-artifact_prefix=$out/artifacts/$t/ -timeout=10 -rss_limit_mb=2048 $(extra "$t")"
  if [ "$mode" = fuzz ]; then
    mkdir -p "$out/corpus/$t"
    echo "fuzz: $t for $seconds s (new inputs in $out/corpus/$t)"
    # shellcheck disable=SC2086
    "$bin" $common -max_total_time="$seconds" -print_final_stats=1 "$out/corpus/$t" "$corpus" ||
      { echo "fuzz: $t found a problem: see $out/artifacts/$t/" >&2; status=1; }
  else
    log=$out/replay-$t.log
    start=$(date +%s%N)
    # shellcheck disable=SC2086
    if "$bin" $common -runs=0 "$corpus" >"$log" 2>&1; then
      n=$(find "$corpus" -type f | wc -l)
      ms=$(( ($(date +%s%N) - start) / 1000000 ))
      printf 'fuzz-replay: %-8s %4d inputs ok (%d ms)\n' "$t" "$n" "$ms"
    else
      cat "$log" >&2
      echo "fuzz-replay: $t FAILED (log above, $log)" >&2
      status=1
    fi
  fi
done
exit $status
