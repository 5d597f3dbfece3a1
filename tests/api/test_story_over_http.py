"""Every command and query of the API through HTTP, on SQLite and PostgreSQL: the reference story first."""

from __future__ import annotations

from tests.api.conftest import Organisations
from tests.api.story import play_over_http


def test_the_reference_story_plays_through_the_organisations_apis(organisations: Organisations) -> None:
    ids = play_over_http(organisations)
    assert ids.household and ids.handoff
