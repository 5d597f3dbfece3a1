"""Who may report which fact about a household another organisation owns: decided by the reporter's relation
to the household in its network, not by its role.

The same rule answers at the reporter's HTTP edge (from its copy of the network) and at the owner, which
checks every report again before applying it (a message that bypassed the edge is refused there).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from uuid import UUID

from coordination.domain.errors import NotPermitted
from coordination.domain.follow_up import FactKind
from coordination.domain.network import ItemKind, NetworkPicture, Relation
from coordination.domain.values import ReferralKind


class NotEntitled(NotPermitted):
    """The reporter's relation to the household does not entitle it to report this fact."""


# Facts about holding the household after the move: its holder's work, or the work it handed on.
HOLDING_FACTS = frozenset(
    {
        FactKind.FOLLOW_UP_VISIT_DONE,
        FactKind.CONTACT_PERSON_LINKED,
        FactKind.CONTACT_PERSON_UNLINKED,
        FactKind.PRACTICAL_MATTERS_IN_ORDER,
        FactKind.NO_LONGER_ASKS_FOR_HELP,
        FactKind.SETTLED,
    }
)
# The referrals whose receiver learns of a child's enrolment: a place in daycare or a new school.
ENROLMENT_REFERRALS = frozenset({ReferralKind.DAYCARE_FAST_TRACK.value, ReferralKind.SCHOOL_CHANGE.value})

_WHO_HOLDS = (
    "the household's holder, the receiver of its handoff or the receiver of an open bridge-building referral"
)
_WHO_ENROLS = "the household's holder or the receiver of a daycare or school referral naming that child"
_DESCRIBED = {
    Relation.OWNER: "its owner",
    Relation.HOLDER: "its holder",
    Relation.HANDOFF_RECEIVER: "the receiver of its handoff",
    Relation.REFERRAL_RECEIVER: "the receiver of a referral about it",
    Relation.REFERRER: "a referrer of it",
    Relation.SUPPORT_PROVIDER: "a support provider to it",
}


def fact_refusal(
    kind: FactKind,
    reporter: str,
    picture: NetworkPicture | None,
    *,
    child: str | None = None,
    named_children: Mapping[UUID, Collection[str]] | None = None,
) -> str | None:
    """None when `reporter` may report a fact of `kind` about the household `picture` shows; otherwise why
    not, in a sentence naming the relation it lacks (and the relations it has).

    `child` is the member code an enrolment names; `named_children` the member codes each referral about
    the household names (by referral id), as the one asking knows them (the picture carries no codes).
    """
    what = FactKind(kind).value.replace("_", " ")
    if picture is None or not picture.is_member(reporter):
        return f"{reporter} is not in this household's network: only its members may report {what}"
    if FactKind(kind) is FactKind.CHILD_ENROLLED:
        if _holds(reporter, picture) or _enrolment_receiver(reporter, picture, child, named_children or {}):
            return None
        return (
            f"{reporter} may not report the enrolment of a child its referrals do not name: only "
            f"{_WHO_ENROLS} may ({reporter} is {_relations(reporter, picture)})"
        )
    if _holds(reporter, picture) or _receives_holding(reporter, picture):
        return None
    return f"{reporter} may not report {what}: only {_WHO_HOLDS} may ({reporter} is {_relations(reporter, picture)})"


def _holds(reporter: str, picture: NetworkPicture) -> bool:
    household = picture.household
    return household is not None and household.holder.organisation == reporter


def _receives_holding(reporter: str, picture: NetworkPicture) -> bool:
    """The receiver of the household's handoff (while it is one), or of an open bridge-building referral."""
    if Relation.HANDOFF_RECEIVER in picture.relations_of(reporter):
        return True
    return any(
        item.kind == ItemKind.REFERRAL
        and item.subtype == ReferralKind.BRIDGE_BUILDING.value
        and item.to_org == reporter
        and item.open
        for item in picture.items
    )


def _enrolment_receiver(
    reporter: str, picture: NetworkPicture, child: str | None, named_children: Mapping[UUID, Collection[str]]
) -> bool:
    """Whether `reporter` receives, or received, a daycare or school referral naming `child`."""
    if child is None:
        return False
    referrals = {
        item.item_id
        for item in picture.items
        if item.kind == ItemKind.REFERRAL and item.subtype in ENROLMENT_REFERRALS
    }
    return any(
        membership.organisation == reporter
        and membership.relation == Relation.REFERRAL_RECEIVER
        and membership.item_id in referrals
        and child in named_children.get(membership.item_id, ())
        for membership in picture.members
    )


def _relations(reporter: str, picture: NetworkPicture) -> str:
    current = picture.relations_of(reporter)
    if not current:
        return "a past member only"
    return " and ".join(sorted(_DESCRIBED[relation] for relation in current))
