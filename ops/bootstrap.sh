#!/usr/bin/env bash
# Make .venv exist with this project and its test dependencies installed; a no-op when already done.
# Called (not sourced) by ops/run.sh and ops/test.sh: `bash ops/bootstrap.sh`.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="$root/.venv"
# Reinstall whenever pyproject.toml is newer than the last successful install.
stamp="$venv/.bootstrap-stamp"

if [[ ! -x "$venv/bin/python" ]]; then
    echo "bootstrap: creating $venv" >&2
    timeout 300 python3 -m venv "$venv"
fi

if [[ -f "$stamp" && "$stamp" -nt "$root/pyproject.toml" ]]; then
    exit 0
fi

echo "bootstrap: installing the project and its test dependencies into .venv (quiet)" >&2
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
# pip's own --timeout bounds each socket read; the outer timeout bounds the whole install.
if ! timeout 1800 "$venv/bin/python" -m pip install --disable-pip-version-check --no-input \
        --timeout 60 --retries 3 --quiet -e "$root[test]" >"$log" 2>&1; then
    cat "$log" >&2
    echo "bootstrap: FAILED to install the project into $venv (pip output above)" >&2
    exit 1
fi
touch "$stamp"
