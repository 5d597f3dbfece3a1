"""The committed contracts (JSON Schemas, AsyncAPI document) are exactly what the models generate, and valid."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

from ops.contracts import CHANNELS, CONTRACTS, ROOT, asyncapi, contract_events, expected_files

TOOLS = ROOT / "tools" / "asyncapi"


def test_regenerating_the_contracts_gives_exactly_the_committed_files() -> None:
    expected = expected_files()
    stale = [p for p in expected if not p.exists() or p.read_text(encoding="utf-8") != expected[p]]
    assert not stale, (
        f"run `python -m ops.contracts`: out of date {[str(p.relative_to(ROOT)) for p in stale]}"
    )
    extra = set((CONTRACTS / "schemas").glob("*.json")) - set(expected)
    assert not extra, f"schemas without a model: {sorted(p.name for p in extra)}"


def test_every_integration_event_is_a_message_on_the_channel_of_its_topic_family() -> None:
    document = asyncapi()
    for cls in contract_events():
        [channel] = [c for c in document["channels"].values() if c["address"].startswith(cls.topic + ".{")]
        assert cls.__name__ in channel["messages"]
        assert document["components"]["messages"][cls.__name__]["name"] == cls.event_type
    assert all(c["x-publishers"] and c["x-consumers"] for c in document["channels"].values())


def _parser_installed() -> Path:
    """@asyncapi/parser in tools/asyncapi/node_modules, installed from the committed lock file if missing."""
    if not (TOOLS / "node_modules" / "@asyncapi" / "parser").is_dir():
        npm = shutil.which("npm")
        assert npm is not None, "npm is needed to validate the AsyncAPI document (apt-get install npm)"
        done = subprocess.run(
            [npm, "ci", "--prefix", str(TOOLS), "--no-audit", "--no-fund"],
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        assert done.returncode == 0, f"npm ci in tools/asyncapi failed:\n{done.stderr[-2000:]}"
    node = shutil.which("node")
    assert node is not None, "node is needed to validate the AsyncAPI document (apt-get install nodejs)"
    return Path(node)


def test_the_asyncapi_document_is_valid_for_the_asyncapi_parser() -> None:
    node = _parser_installed()
    done = subprocess.run(
        [str(node), str(TOOLS / "validate.mjs"), str(CONTRACTS / "asyncapi.yaml")],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=TOOLS,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    report = json.loads(done.stdout)
    assert (
        report["valid"]
        and report["channels"] == len(CHANNELS)
        and report["messages"] == len(contract_events())
    )
    assert not [d for d in report["diagnostics"] if d["severity"] == 0]
