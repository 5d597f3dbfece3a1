#!/usr/bin/env bash
# Run the demo on the embedded default store (no server needed); arguments go to `coordination demo`.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

bash ops/bootstrap.sh
exec "$root/.venv/bin/coordination" demo "$@"
