"""The node API's OpenAPI 3.1 document, as committed in docs/api/openapi.json (`python -m ops.openapi`)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from adapters.http.app import create_app
from adapters.http.auth import AuthConfig
from adapters.settings import NodeSettings, Store
from ops.node.bootstrap import NodeParts

DOCUMENT = Path(__file__).resolve().parent.parent / "docs" / "api" / "openapi.json"


def document() -> dict[str, Any]:
    """The document every node serves at /openapi.json (the same routes on every node)."""
    parts = NodeParts(NodeSettings(organisation="civica", store=Store.MEMORY), group_commit=False)
    try:
        return create_app(parts.api_node(), AuthConfig(audience="civica")).openapi()
    finally:
        parts.close()


def text() -> str:
    return json.dumps(document(), indent=2, ensure_ascii=False, sort_keys=True) + "\n"


def main() -> int:
    DOCUMENT.parent.mkdir(parents=True, exist_ok=True)
    DOCUMENT.write_text(text())
    print(f"wrote {DOCUMENT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
