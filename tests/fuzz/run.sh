#!/bin/sh
# tests/fuzz/run.sh -- runs the fuzz targets built in build-fuzz/: fuzzing for a while, or replaying the corpora.
# Usage: tests/fuzz/run.sh fuzz SECONDS TARGET...    each target for SECONDS with its committed inputs;
#                                                    new inputs go to build-fuzz/corpus/TARGET/
#        tests/fuzz/run.sh replay TARGET...          every committed input of each target run once
#        tests/fuzz/run.sh merge TARGET...           keeps in tests/fuzz/found/TARGET/ the inputs of
#                                                    build-fuzz/corpus/TARGET/ that reach code (edges)
#                                                    the committed ones do not: the smallest such set
# Committed inputs: the seeds (tests/fuzz/corpus/TARGET/, written by make_corpus.py, crash-* regressions
# among them) and what fuzzing found (tests/fuzz/found/TARGET/, written by merge).
# Crashes, hangs and leaks are written to build-fuzz/artifacts/TARGET/ (never into the source tree).
set -eu
out=build-fuzz
mode=${1:-}
[ -n "$mode" ] && shift
case "$mode" in
  fuzz) seconds=$1; shift ;;
  replay|merge) ;;
  *) echo "usage: $0 fuzz SECONDS TARGET... | replay TARGET... | merge TARGET..." >&2; exit 2 ;;
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
  found=tests/fuzz/found/$t
  mkdir -p "$out/artifacts/$t"
  found_dir=""   # found/ when there is one (given unquoted: nothing when empty)
  [ -d "$found" ] && found_dir=$found
  common="-artifact_prefix=$out/artifacts/$t/ -timeout=10 -rss_limit_mb=2048 $(extra "$t")"
  if [ "$mode" = fuzz ]; then
    mkdir -p "$out/corpus/$t"
    echo "fuzz: $t for $seconds s (new inputs in $out/corpus/$t)"
    # shellcheck disable=SC2086
    "$bin" $common -max_total_time="$seconds" -print_final_stats=1 "$out/corpus/$t" "$corpus" $found_dir ||
      { echo "fuzz: $t found a problem: see $out/artifacts/$t/" >&2; status=1; }
  elif [ "$mode" = merge ]; then
    # Into a scratch copy of the committed inputs, so that the seeds count as reached and stay where
    # they are; what the merge adds there goes to found/. Edges only (-use_counters=0): an input that
    # merely runs a loop more often is not kept.
    work=$out/merge-$t
    rm -rf "$work" && mkdir -p "$work" "$out/corpus/$t" "$found"
    cp "$corpus"/* "$work"/ && { [ -z "$(ls "$found")" ] || cp "$found"/* "$work"/; }
    before=$(ls "$work" | wc -l)
    # shellcheck disable=SC2086
    if "$bin" $common -merge=1 -use_counters=0 "$work" "$out/corpus/$t" >"$out/merge-$t.log" 2>&1; then
      for f in "$work"/*; do
        [ -e "$corpus/${f##*/}" ] || [ -e "$found/${f##*/}" ] || cp "$f" "$found"/
      done
      printf 'fuzz-merge: %-8s %4d inputs added to %s\n' "$t" $(( $(ls "$work" | wc -l) - before )) "$found"
    else
      cat "$out/merge-$t.log" >&2
      echo "fuzz-merge: $t FAILED (log above)" >&2
      status=1
    fi
    rm -rf "$work"
  else
    log=$out/replay-$t.log
    start=$(date +%s%N)
    # shellcheck disable=SC2086
    if "$bin" $common -runs=0 "$corpus" $found_dir >"$log" 2>&1; then
      n=$(find "$corpus" $found_dir -type f | wc -l)
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
