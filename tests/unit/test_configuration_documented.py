"""docs/configuration.md names every setting a node reads, and no setting it does not read."""

from __future__ import annotations

import re
from pathlib import Path

from adapters.settings import NodeSettings

DOCUMENT = Path(__file__).resolve().parents[2] / "docs" / "configuration.md"


def test_the_configuration_document_names_every_setting_and_only_those() -> None:
    named = set(re.findall(r"COORDINATION_[A-Z0-9_]*[A-Z0-9]", DOCUMENT.read_text()))
    read = {f"COORDINATION_{name.upper()}" for name in NodeSettings.model_fields}
    assert read - named == set(), "settings the document does not name"
    assert named - read == set(), "variables the document names that no node reads"
