"""What a projection declares: suffixed tables, keys read from its DDL, handlers by event class."""

from __future__ import annotations

import pytest
from eventsourcing.utils import get_topic
from pydantic import ValidationError

from coordination.domain.vacancy import Vacancy
from coordination.domain.values import Place
from coordination.projections.definition import Projection, handles
from coordination.projections.parking import describe
from coordination.projections.transaction import ProjectionTx
from ops.bench.fixtures.projection_toys import OpenVacanciesByArea


class LetVacancies(OpenVacanciesByArea):
    @handles(Vacancy.OfferAccepted)
    def let(self, event: Vacancy.OfferAccepted, tx: ProjectionTx) -> None:
        tx.execute("DELETE FROM {toy_vacancies} WHERE vacancy_id = ?", (str(event.originator_id),))


def test_each_instance_names_its_tables_and_tracking_after_its_suffix() -> None:
    rebuilt = OpenVacanciesByArea("rebuild_7")

    assert rebuilt.instance_name == "open_vacancies_by_area__rebuild_7"
    assert rebuilt.table_names == {
        "toy_vacancies": "toy_vacancies__rebuild_7",
        "toy_open_by_area": "toy_open_by_area__rebuild_7",
    }
    assert rebuilt.resolve("DELETE FROM {toy_vacancies}") == "DELETE FROM toy_vacancies__rebuild_7"
    assert any("toy_vacancies_by_area__rebuild_7" in sql for sql, _ in rebuilt.setup_statements())


def test_a_suffix_that_is_not_a_plain_identifier_is_refused() -> None:
    with pytest.raises(ValueError, match="live; DROP"):
        OpenVacanciesByArea("live; DROP TABLE x")


def test_primary_keys_are_read_from_column_and_table_constraints() -> None:
    projection = OpenVacanciesByArea()

    assert projection.primary_key("toy_vacancies") == ("vacancy_id",)
    assert projection.primary_key("toy_open_by_area") == ("municipality", "area")


def test_a_subclass_handler_replaces_its_base_handler_for_the_same_event() -> None:
    projection = LetVacancies()

    accepted = projection.handler_for(get_topic(Vacancy.OfferAccepted))
    published = projection.handler_for(get_topic(Vacancy.Published))

    assert accepted is not None
    assert accepted.__func__ is LetVacancies.let
    assert published is not None
    assert published.__func__ is OpenVacanciesByArea.published


def test_an_event_class_without_a_handler_is_only_tracked() -> None:
    class OnlyPublished(Projection):
        name = "only_published"
        tables = {"published_ids": "vacancy_id TEXT PRIMARY KEY"}

        @handles(Vacancy.Published)
        def published(self, event: Vacancy.Published, tx: ProjectionTx) -> None:
            tx.execute("INSERT INTO {published_ids} VALUES (?)", (str(event.originator_id),))

    assert OnlyPublished().handler_for(get_topic(Vacancy.Withdrawn)) is None


def test_a_parked_reason_leaves_out_the_values_pydantic_was_given() -> None:
    with pytest.raises(ValidationError) as refused:
        Place.model_validate({"municipality": "Odense", "area": 4242})

    reason = describe(refused.value)

    assert "area" in reason
    assert "4242" not in reason
