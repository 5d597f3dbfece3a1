"""Every sentence a caller can read has a Danish translation that keeps its placeholders; languages are
negotiated from Accept-Language; dates and times are written as Danish readers write them."""

from __future__ import annotations

import re
import string
from datetime import UTC, date, datetime
from decimal import Decimal
from uuid import uuid4

from adapters.http.i18n import (
    DANISH,
    ENGLISH,
    da,
    format_date,
    format_datetime,
    negotiate,
    translate,
    translate_text,
)
from adapters.http.i18n.missing import messages, untranslated
from adapters.http.problems import OVERRIDE_HINT, TITLES
from coordination.domain.network import Item, ItemKind, open_items_gap
from coordination.domain.waterbed import LISTED_AREA, NEAR_THRESHOLD, AreaIndicators, WaterbedPolicy, assess


def _fields(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def test_every_error_message_in_the_sources_has_a_danish_translation() -> None:
    missing = untranslated(da.MESSAGES)
    assert missing == {}, "run `python -m adapters.http.i18n.missing` and translate these in da.py"


def test_no_error_message_is_built_as_an_f_string() -> None:
    built = [message.where for message in messages() if message.msgid is None]
    assert built == [], "pass a template with named placeholders and the values as keyword arguments"


def test_the_walk_finds_the_messages_of_the_domain_and_the_edge() -> None:
    found = {message.msgid for message in messages()}
    assert "Offer {offer_id} is live; answer it before recording the move" in found  # a domain error
    assert "query.from: a period is at most ten years" in found  # an ApiProblem
    assert "The bearer token has expired" in found  # a helper building one


def test_every_problem_title_and_edge_sentence_has_a_danish_translation() -> None:
    assert set(TITLES.values()) - set(da.MESSAGES) == set()
    assert OVERRIDE_HINT in da.MESSAGES


def test_each_translation_keeps_the_placeholders_of_its_english_sentence() -> None:
    changed = {
        msgid: text
        for msgid, text in da.MESSAGES.items()
        if _fields(msgid) != _fields(text) or not text.strip()
    }
    assert changed == {}


def test_danish_is_the_default_and_english_is_given_on_request() -> None:
    assert negotiate(None) == DANISH
    assert negotiate("") == DANISH
    assert negotiate("da") == DANISH
    assert negotiate("en") == ENGLISH
    assert negotiate("en-GB,en;q=0.9") == ENGLISH
    assert negotiate("fr-FR") == DANISH  # a language not spoken here
    assert negotiate("da;q=0.2, en;q=0.8") == ENGLISH
    assert negotiate("en;q=0, da") == DANISH
    assert negotiate("*") == DANISH


def test_dates_and_times_read_as_danish_readers_write_them_in_copenhagen_time() -> None:
    assert format_date(date(2026, 12, 7), DANISH) == "7. december 2026"
    assert format_date(date(2026, 12, 7), ENGLISH) == "7 December 2026"
    winter = datetime(2026, 12, 7, 13, 30, tzinfo=UTC)  # 14:30 in Copenhagen (CET)
    summer = datetime(2026, 6, 1, 7, 5, tzinfo=UTC)  # 09:05 in Copenhagen (CEST)
    assert format_datetime(winter, DANISH) == "7. december 2026 kl. 14.30"
    assert format_datetime(summer, DANISH) == "1. juni 2026 kl. 09.05"
    assert format_datetime(winter, ENGLISH) == "7 December 2026 at 14:30 (Copenhagen time)"


def test_a_sentence_is_translated_with_its_values_formatted_for_the_reader() -> None:
    expired = "Offer {offer_id} expired at {expires_at}; it cannot be accepted"
    values = {"offer_id": "O-1", "expires_at": datetime(2026, 12, 7, 13, 30, tzinfo=UTC)}
    assert (
        translate(expired, DANISH, values)
        == "Tilbud O-1 udløb 7. december 2026 kl. 14.30; det kan ikke accepteres"
    )
    assert translate(expired, ENGLISH, values) == (
        "Offer O-1 expired at 7 December 2026 at 14:30 (Copenhagen time); it cannot be accepted"
    )
    # A word given as a value (a role, a status) is translated too.
    assert translate("A {role} may not do this", DANISH, {"role": "bridge_builder"}) == (
        "En brobygger må ikke gøre dette"
    )


def test_a_finished_english_sentence_is_matched_to_its_template_and_translated() -> None:
    text = "Household CIV-7 has already moved permanently"
    assert translate_text(text, DANISH) == "Husstand CIV-7 er allerede flyttet permanent"
    assert translate_text(text, ENGLISH) == text
    assert re.fullmatch("Something nobody wrote", translate_text("Something nobody wrote", DANISH))


def test_a_stored_inflow_warning_reads_in_danish_though_only_its_finished_english_was_kept() -> None:
    stored = (
        "Odense C received 12 rehoused households in the last 12 months; this offer would make 13, "
        "above the limit of 10"
    )
    assert translate_text(stored, DANISH) == (
        "Odense C har modtaget 12 genhusede husstande de seneste 12 måneder; dette tilbud ville give 13, "
        "over grænsen på 10"
    )


def test_a_fact_refused_at_another_node_reads_in_danish_naming_the_same_organisation_twice() -> None:
    refusal = (
        "fab may not report practical matters in order: only the household's holder, the receiver of its "
        "handoff or the receiver of an open bridge-building referral may (fab is a referrer of it)"
    )
    assert translate_text(refusal, DANISH) == (
        "fab må ikke indberette praktiske forhold i orden: kun den, der har husstanden, modtageren af dens "
        "overdragelse eller modtageren af en åben brobygningshenvisning må (fab er en henviser af den)"
    )


def _area(**indicators: object) -> AreaIndicators:
    values: dict[str, object] = {
        "municipality": "Odense",
        "area": "Vollsmose",
        "residents": 8000,
        "share_outside_work_or_education": Decimal("20"),
        "convictions_ratio": Decimal("1.0"),
        "share_basic_education_only": Decimal("30"),
        "income_ratio": Decimal("80"),
        "share_non_western": Decimal("10"),
        "is_transformation_area": False,
        "is_prevention_area": False,
        "list_year": 2025,
        "source": "Social- og Boligministeriet",
    }
    return AreaIndicators(**{**values, **indicators})


ENGLISH_WORDS = {"the", "is", "of", "and", "criteria", "met", "near", "residents", "list", "area", "above"}


def _english(text: str) -> set[str]:
    return {word.lower() for word in re.findall(r"[^\W\d_]+", text)} & ENGLISH_WORDS


def test_the_waterbed_guards_stored_warnings_read_in_danish_sentence_within_sentence() -> None:
    policy = WaterbedPolicy()
    listed = _area(share_outside_work_or_education=Decimal("45.2"), convictions_ratio=Decimal("3.4"))
    near = _area(share_outside_work_or_education=Decimal("38"), convictions_ratio=Decimal("2.9"))
    both = _area(
        share_outside_work_or_education=Decimal("38"),
        convictions_ratio=Decimal("2.9"),
        share_non_western=Decimal("29"),
    )
    prevention = _area(is_prevention_area=True)
    transformation = _area(is_transformation_area=True)
    warnings = [
        w for area in (listed, near, both, prevention, transformation) for w in assess(area, 0, policy)
    ]
    assert {w.rule for w in warnings} == {LISTED_AREA, NEAR_THRESHOLD, "waterbed_transformation_area"}
    assert any(" And of a " in w.message for w in warnings)  # two lists near at once
    for warning in warnings:
        danish = translate_text(warning.message, DANISH)
        assert _english(danish) == set(), (warning.message, danish)
        assert translate_text(warning.message, ENGLISH) == warning.message
    [on_the_list] = assess(listed, 0, policy)
    assert translate_text(on_the_list.message, DANISH) == (
        "Vollsmose (Odense), 8000 beboere (listeår 2025, Social- og Boligministeriet) opfylder listekriterierne"
        " for et udsat boligområde (§ 61 a stk. 1). Opfyldte kriterier: andel af 18-64-årige uden for arbejde"
        " eller uddannelse 45,2 % (over 40 %); domfældelser i forhold til landsgennemsnittet 3,4 x (mindst 3 x)"
    )


def test_a_fact_refusal_naming_several_relations_joins_them_in_danish() -> None:
    refusal = (
        "civica may not report child enrolled: only the household's holder or the receiver of a daycare or school"
        " referral naming that child may (civica is its owner and the receiver of its handoff)"
    )
    danish = translate_text(refusal, DANISH)
    assert danish.endswith("(civica er dens ejer og modtageren af dens overdragelse)"), danish
    assert "and" not in danish.split()


def test_the_open_items_settlement_gap_names_each_item_in_danish() -> None:
    now = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
    items = [
        Item(
            item_id=uuid4(),
            kind=kind,
            subtype=subtype,
            from_org="civica",
            to_org=to,
            state=state,
            open=True,
            opened_at=now,
            last_step_at=now,
        )
        for kind, subtype, to, state in (
            (ItemKind.REFERRAL, "bridge_building", "odense-brobygning", "in_progress"),
            (ItemKind.SUPPORT_LINK, "homework_cafe", "kvinfo", "active"),
        )
    ]
    [gap] = open_items_gap(items)
    assert translate(
        "Household {case_reference} is not settled: {gaps}",
        DANISH,
        {"case_reference": "CIV-1", "gaps": [gap]},
    ) == (
        "Husstand CIV-1 er ikke faldet til: åbne punkter: brobygning civica → odense-brobygning (i gang),"
        " lektiecafé civica → kvinfo (aktiv)"
    )
