"""The area indicators file: CSV and JSON load into a lookup without case; bad input names line and field."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

from adapters.area_indicators import (
    COLUMNS,
    AreaIndicatorsFileError,
    load_area_indicators,
    parse_csv,
    parse_json,
)
from coordination.domain.values import Place
from coordination.domain.waterbed import DEFAULT_WATERBED_POLICY, monitoring_status

EXAMPLE = Path(__file__).parents[2] / "ops" / "areas" / "odense.csv"
HEADER = ",".join(COLUMNS)
BOLBRO = "Odense,Bolbro,3900,37.1,1.6,44.0,58.9,24.3,false,false,2025,example"
TARUP = "Odense,Tarup,5200,9.5,0.5,11.0,108.0,6.1,no,no,2025,example"


def entry(**changes: object) -> dict[str, object]:
    values = dict(zip(COLUMNS, BOLBRO.split(","), strict=True))
    return {
        **values,
        "residents": 3900,
        "is_transformation_area": False,
        "is_prevention_area": False,
        "list_year": 2025,
        **changes,
    }


def refused(text: str, parse: object = parse_csv) -> str:
    with pytest.raises(AreaIndicatorsFileError) as error:
        parse(text, name="areas.csv")  # type: ignore[operator]
    return str(error.value)


def test_the_shipped_odense_example_loads_with_one_area_of_each_status() -> None:
    table = load_area_indicators(EXAMPLE)

    def status(area: str) -> str:
        indicators = table.indicators(Place(municipality="Odense", area=area))
        return monitoring_status(indicators, DEFAULT_WATERBED_POLICY)

    assert len(table) >= 8
    assert status("Vollsmose") == "transformation area"
    assert status("Odense C") == "ok"
    assert [status(a) for a in ("Bolbro", "Korsløkken", "Højstrup")] == ["near threshold"] * 3
    assert status("Rising") == "listed"
    assert "NOT OFFICIAL" in EXAMPLE.read_text(encoding="utf-8")


def test_a_csv_file_is_looked_up_by_municipality_and_area_without_case() -> None:
    table = parse_csv(f"# illustrative\n{HEADER}\n{BOLBRO}\n\n{TARUP}\n")

    found = table.indicators(Place(municipality=" odense", area="BOLBRO "))

    assert found is not None
    assert (found.area, found.residents) == ("Bolbro", 3900)
    assert found.share_outside_work_or_education == Decimal("37.1")
    assert table.indicators(Place(municipality="Odense", area="Tarup")) is not None
    assert table.indicators(Place(municipality="Aarhus", area="Bolbro")) is None


def test_a_quoted_danish_decimal_comma_is_read_as_a_decimal() -> None:
    table = parse_csv(f'{HEADER}\nOdense,Bolbro,3900,"37,1",1.6,44.0,58.9,24.3,false,false,2025,example\n')

    (bolbro,) = table

    assert bolbro.share_outside_work_or_education == Decimal("37.1")


def test_a_json_file_is_a_list_or_an_object_with_areas_and_keeps_decimals_exact(tmp_path: Path) -> None:
    listed = tmp_path / "areas.json"
    listed.write_text(json.dumps([entry(share_non_western=24.3)]), encoding="utf-8")
    wrapped = tmp_path / "wrapped.JSON"
    wrapped.write_text(json.dumps({"comment": "illustrative", "areas": [entry()]}), encoding="utf-8")

    (from_list,) = load_area_indicators(listed)
    (from_object,) = load_area_indicators(wrapped)

    assert from_list.share_non_western == Decimal("24.3")
    assert from_list == from_object


def test_a_value_that_is_not_a_number_names_the_line_and_the_field() -> None:
    bad = "Odense,Bolbro,3900,37.1,high,44.0,58.9,24.3,false,false,2025,example"

    message = refused(f"# comment\n{HEADER}\n{TARUP}\n{bad}\n")

    assert message.startswith("areas.csv: line 4: field 'convictions_ratio'")
    assert "'high'" in message


def test_a_share_over_100_percent_names_the_line_and_the_field() -> None:
    message = refused(f"{HEADER}\n{BOLBRO.replace('37.1', '137.1')}\n")

    assert "line 2: field 'share_outside_work_or_education'" in message
    assert "less than or equal to 100" in message


def test_a_flag_that_is_not_yes_or_no_names_the_field() -> None:
    maybe = BOLBRO.replace("false,false", "maybe,false")

    assert "field 'is_transformation_area'" in refused(f"{HEADER}\n{maybe}\n")


def test_a_header_missing_or_misnaming_a_column_is_refused_naming_it() -> None:
    header = HEADER.replace("income_ratio", "income")

    message = refused(f"{header}\n{BOLBRO}\n")

    assert message == "areas.csv: line 1: header has missing income_ratio; unknown income"


def test_a_line_with_too_few_values_is_refused_naming_the_line() -> None:
    assert refused(f"{HEADER}\n{BOLBRO}\nOdense,Tarup,5200\n") == (
        "areas.csv: line 3: 3 values, but the header names 12 columns"
    )


def test_an_area_listed_twice_names_both_lines() -> None:
    message = refused(f"{HEADER}\n{BOLBRO}\n{TARUP}\n{BOLBRO.replace('Bolbro', 'bolbro')}\n")

    assert message == "areas.csv: line 4: bolbro (Odense) is listed twice (first at areas.csv: line 2)"


def test_an_empty_file_asks_for_the_header() -> None:
    assert "no header line" in refused("# only a comment\n")


def test_a_json_entry_missing_a_field_names_the_entry_and_the_field() -> None:
    incomplete = entry(area="Vollsmose")
    del incomplete["income_ratio"]

    message = refused(json.dumps([entry(), incomplete]), parse_json)

    assert message == "areas.csv: area 2 (Vollsmose): missing field income_ratio"


def test_a_json_entry_with_an_unknown_field_or_bad_syntax_is_refused() -> None:
    assert "unknown field crime" in refused(json.dumps([entry(crime=3)]), parse_json)
    assert refused('[{"area": }]', parse_json).startswith("areas.csv: not valid JSON at line 1")
    assert "expected a list of areas" in refused('{"rows": []}', parse_json)


def test_a_file_of_another_kind_is_refused(tmp_path: Path) -> None:
    other = tmp_path / "areas.xlsx"
    other.write_text("x", encoding="utf-8")

    with pytest.raises(AreaIndicatorsFileError, match=r"ends in \.csv or \.json"):
        load_area_indicators(other)
