"""The household's record and the family's contact over HTTP: the owner reads and amends the record; a
referral's receiver reads the contact shared with it, and no other party reading the same referral does."""

from __future__ import annotations

from coordination.domain.values import Role
from tests.api.conftest import FAB, Organisations
from tests.api.story import BRIDGE_BUILDER, CIVICA, CONTACT, PHONE, family, people, step


def test_the_owner_reads_the_record_amends_it_and_a_stranger_may_not(
    memory_organisations: Organisations,
) -> None:
    orgs = memory_organisations
    consultant = people(orgs).consultant
    household, etag = step(consultant, "/households", family(), status=201)
    path = f"/households/{household}"

    _, etag = step(consultant, f"{path}/needs", {"needs": ["daycare", "interpreter"]}, etag=etag)
    _, etag = step(consultant, f"{path}/contact-details", CONTACT, etag=etag)
    record = consultant.ok(consultant.get(path))
    assert [m["member_id"] for m in record["members"]] == [m["member_id"] for m in family()["members"]]
    assert record["needs"] == ["daycare", "interpreter"]
    assert record["contact"]["phone"] == PHONE and record["contact"]["children_with_cpr"] == []
    assert record["termination_date"] == family()["termination_date"]
    assert record["right_to_permanent_since"] is None and record["permanent_offer_owed"] is False

    stranger = orgs.api(CIVICA, FAB, role=Role.REHOUSING_CONSULTANT)
    refused = stranger.post(f"{path}/needs", {"needs": []}, if_match=etag)
    assert refused.status_code in (403, 404), refused.text
    assert stranger.get(path).status_code in (403, 404)


def test_the_receiver_reads_the_familys_contact_and_the_referrer_reading_at_the_receivers_node_does_not(
    memory_organisations: Organisations,
) -> None:
    orgs = memory_organisations
    p = people(orgs)
    household, etag = step(p.consultant, "/households", family(), status=201)
    _, etag = step(p.consultant, f"/households/{household}/contact-details", CONTACT, etag=etag)
    consent = {"recipient": BRIDGE_BUILDER, "purpose": "contact_details", "given_on": "2026-06-02"}
    _, etag = step(p.consultant, f"/households/{household}/consents", consent, etag=etag)
    referral, _ = step(
        p.consultant,
        f"/households/{household}/referrals",
        {"receiver": BRIDGE_BUILDER, "kind": "bridge_building"},
        status=201,
    )
    orgs.settle()

    at_the_receiver = p.bridge_builder.ok(p.bridge_builder.get(f"/referrals/{referral}"))
    assert at_the_receiver["contact"]["adult_phone"] == PHONE
    referrer_there = orgs.api(BRIDGE_BUILDER, CIVICA, role=Role.REHOUSING_CONSULTANT)
    assert referrer_there.ok(referrer_there.get(f"/referrals/{referral}"))["contact"] is None
    # At its own node the referrer reads what it shared.
    assert p.consultant.ok(p.consultant.get(f"/referrals/{referral}"))["contact"]["adult_phone"] == PHONE
