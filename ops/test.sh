#!/usr/bin/env bash
# Run the whole test suite (arguments go to pytest) on a fresh or prepared machine.
# Installs what is missing (.venv, Debian's postgresql); the pytest session starts and stops PostgreSQL.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

bash ops/bootstrap.sh

cluster_online() {
    pg_lsclusters -h 2>/dev/null | awk '$1 == "15" && $2 == "main" && $4 ~ /^online/ { found = 1 } END { exit !found }'
}

if [[ ! -x /usr/lib/postgresql/15/bin/postgres ]] || ! command -v pg_ctlcluster >/dev/null; then
    if [[ "$(id -u)" != 0 ]]; then
        echo "test.sh: PostgreSQL 15 is not installed and installing it needs root" >&2
        exit 1
    fi
    echo "test.sh: installing Debian's postgresql (apt-get)" >&2
    export DEBIAN_FRONTEND=noninteractive
    timeout 600 apt-get update -q >/dev/null
    timeout 1200 apt-get install -y -q postgresql </dev/null >/dev/null
    # The package starts its new cluster; stop it so that the pytest session owns starting and stopping.
    if cluster_online; then
        timeout 120 pg_ctlcluster 15 main stop
    fi
fi

# The dashboard's browser test drives Debian's chromium (never a downloaded browser).
if [[ ! -x /usr/bin/chromium ]]; then
    if [[ "$(id -u)" == 0 ]]; then
        echo "test.sh: installing Debian's chromium (apt-get)" >&2
        export DEBIAN_FRONTEND=noninteractive
        timeout 600 apt-get update -q >/dev/null
        timeout 1200 apt-get install -y -q chromium </dev/null >/dev/null
    else
        echo "test.sh: chromium is not installed and installing it needs root; the browser test is skipped" >&2
    fi
fi

was_online=no
if cluster_online; then was_online=yes; fi
# The pytest session stops a cluster it started; the check after pytest is the safety net for when
# pytest is killed before its teardown runs.

status=0
# Three workers keep two cores busy: most tests wait on processes, brokers and timers (docs/operations.md).
# The suite takes about 11 minutes on a quiet 2-core machine (README); 40 leaves room for a busy one.
timeout --kill-after=30 2400 "$root/.venv/bin/python" -m pytest -n 3 --dist loadfile "$@" </dev/null || status=$?

if [[ "$was_online" == no ]] && cluster_online; then
    echo "test.sh: PostgreSQL 15/main was left running by the tests; stopping it" >&2
    timeout 120 pg_ctlcluster 15 main stop || true
fi

case "$status" in
    0) ;;
    5) echo "test.sh: FAILED: pytest collected no tests (exit code 5); a test run that tests nothing is a failure" >&2
       exit 1 ;;
    124|137) echo "test.sh: FAILED: the test suite did not finish within 40 minutes" >&2 ;;
    *) echo "test.sh: FAILED: pytest exited with code $status" >&2 ;;
esac
exit "$status"
