#!/bin/sh
# Registers the namespace the worker uses and the search attributes every run carries (the worker
# refuses to start without them), then waits until the frontend lists them all.
# Runs as the one-shot `temporal-namespace` service of docker-compose.yml; safe to run again.
# The temporal CLI reads TEMPORAL_ADDRESS from the environment.
set -eu

NAMESPACE=${TEMPORAL_NAMESPACE:-default}
RETENTION=${TEMPORAL_RETENTION:-7d}
# name:type, as src/temporal/search-attributes.ts defines them.
ATTRIBUTES="TrustpilotActivationId:Keyword TrustpilotDestinationId:Keyword TrustpilotRunOutcome:Keyword TrustpilotRejectedRows:Int TrustpilotRunResult:Text"

retry() {
  attempt=1
  until "$@"; do
    if [ "$attempt" -ge 30 ]; then
      echo "gave up after $attempt attempts: $*" >&2
      return 1
    fi
    attempt=$((attempt + 1))
    sleep 2
  done
}

retry temporal operator cluster health

if temporal operator namespace describe --namespace "$NAMESPACE" >/dev/null 2>&1; then
  echo "namespace $NAMESPACE exists"
else
  temporal operator namespace create --namespace "$NAMESPACE" --retention "$RETENTION"
fi

# One attribute per call: the CLI takes one --type per call. Creating an attribute that exists
# with the same type succeeds; with another type it fails, and so does this script.
for pair in $ATTRIBUTES; do
  retry temporal operator search-attribute create --namespace "$NAMESPACE" --name "${pair%%:*}" --type "${pair#*:}"
done

all_listed() {
  listed=$(temporal operator search-attribute list --namespace "$NAMESPACE" --output json) || return 1
  for pair in $ATTRIBUTES; do
    printf '%s\n' "$listed" | grep -q "\"${pair%%:*}\"" || return 1
  done
}
retry all_listed
echo "namespace $NAMESPACE and its search attributes are ready"
