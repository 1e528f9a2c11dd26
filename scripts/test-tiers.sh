#!/usr/bin/env bash
# `make test`: every test tier in turn, each timed; a summary of the times at the end.
#
#   unit        ruff + pytest on the embedded engine (DynamoDB Local), browser tests included
#   localstack  the DynamoDB integration tests again, against LocalStack 4.14.0 (scripts/localstack.sh)
#   compose     the real docker-compose.yml on a private Docker engine (scripts/test-compose.sh)
#
# IRIS_TEST_TIERS picks tiers; a tier left out is reported as OFF in the summary, never as
# passed. The first failing tier fails the run. Default: all three, in this order: localstack
# (no Docker, a few minutes) before compose, so an AWS-side failure shows before the slowest tier.
# Both pick free loopback ports (no clash with a `make run` on 4566).
set -uo pipefail
cd "$(dirname "$0")/.."
TIERS=${IRIS_TEST_TIERS:-unit localstack compose}
UV=$(command -v uv || echo "$HOME/.local/bin/uv")
summary=()
status=0

tier_unit() {
  "$UV" run --frozen ruff check . && "$UV" run --frozen pytest ${PYTEST_ARGS:-}
}
tier_localstack() { bash scripts/test-localstack.sh; }
tier_compose() { bash scripts/test-compose.sh; }

for tier in unit localstack compose; do
  if [[ " $TIERS " != *" $tier "* ]]; then
    summary+=("$(printf '%-11s OFF (not in IRIS_TEST_TIERS)' "$tier")"); continue
  fi
  if [ $status -ne 0 ]; then
    summary+=("$(printf '%-11s not run (an earlier tier failed)' "$tier")"); continue
  fi
  echo "=== tier $tier ==="
  start=$SECONDS
  "tier_$tier"; rc=$?
  took=$((SECONDS - start))
  result=$([ $rc -eq 0 ] && echo passed || echo "FAILED (exit $rc)")
  summary+=("$(printf '%-11s %-18s %3dm%02ds' "$tier" "$result" $((took / 60)) $((took % 60)))")
  echo "=== tier $tier: $result in ${took}s ==="
  [ $rc -eq 0 ] || status=$rc
done
echo "=== test tiers ==="
printf '  %s\n' "${summary[@]}"
exit $status
