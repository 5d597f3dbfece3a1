"""docs/configuration.md names every setting a node reads, and no setting it does not read."""

from __future__ import annotations

import re
from pathlib import Path

from pydantic import BaseModel

from adapters.settings import NodeSettings
from coordination.domain.policy import RehousingPolicy
from coordination.domain.waterbed import WaterbedPolicy

# Settings read field by field (COORDINATION_POLICY__OFFERS_FOR_PERMANENT): each field is documented.
NESTED: dict[str, type[BaseModel]] = {"policy": RehousingPolicy, "waterbed": WaterbedPolicy}
DOCUMENT = Path(__file__).resolve().parents[2] / "docs" / "configuration.md"


def test_the_configuration_document_names_every_setting_and_only_those() -> None:
    named = set(re.findall(r"COORDINATION_[A-Z0-9_]*[A-Z0-9]", DOCUMENT.read_text()))
    read = {f"COORDINATION_{name.upper()}" for name in NodeSettings.model_fields if name not in NESTED}
    read |= {
        f"COORDINATION_{name.upper()}__{setting.upper()}"
        for name, model in NESTED.items()
        for setting in model.model_fields
    }
    read |= {f"COORDINATION_{name.upper()}" for name in NESTED}  # the whole policy as JSON
    assert read - named == set(), "settings the document does not name"
    assert named - read == set(), "variables the document names that no node reads"
