"""What else forgets an erased household at a node: the read models' personal columns, parked messages.

Both are hooks the composition root attaches to the application (`erasure_hooks`); the household's key is
already deleted when they run, so whatever a projection decrypts from here on is the erased stand-ins. A
batch it read before may still write what it decrypted: the read models purge again once their projections
have passed it (ops/node/read_models.py).
"""

from __future__ import annotations

from collections.abc import Callable
from uuid import UUID

import structlog

from adapters.exchange.tables import ParkedMessages
from coordination.domain.personal_fields import ERASED
from coordination.projections.caseload import CaseloadProjection
from coordination.projections.daycare_queue import DaycareQueueProjection
from coordination.projections.receiving_areas import ReceivingAreasProjection
from coordination.projections.view_store import PARKED_TABLE, ViewStore

log = structlog.get_logger()

Subjects = Callable[[UUID], list[UUID]]


def views_purger(views: ViewStore, suffix: str, subjects: Subjects) -> Callable[[UUID], None]:
    """Sets what the views hold from the household's personal data to what a rebuild now derives from its
    erased events (a birth month "[erased]", not vulnerable), and drops projections' parked events of it,
    whose error messages may quote it."""
    daycare = DaycareQueueProjection(suffix).table_names["daycare_children"]
    areas = ReceivingAreasProjection(suffix).table_names["ra_households"]
    caseload = CaseloadProjection(suffix).table_names

    def purge(household_id: UUID) -> None:
        ids = [str(household_id), *(str(s) for s in subjects(household_id))]
        statements = [
            (f"UPDATE {daycare} SET birth_month = ? WHERE household_id = ?", (ERASED, str(household_id))),
            (f"UPDATE {areas} SET vulnerable = 0 WHERE household_id = ?", (str(household_id),)),
            # The caseload shows no erased household (its Household.Erased deletes the same rows).
            (
                f"DELETE FROM {caseload['cl_members']} WHERE network_id IN "
                f"(SELECT network_id FROM {caseload['cl_networks']} WHERE household_id = ?)",
                (str(household_id),),
            ),
            *(
                (f"DELETE FROM {caseload[table]} WHERE household_id = ?", (str(household_id),))
                for table in ("cl_households", "cl_offers", "cl_handoffs", "cl_networks")
            ),
            *((f"DELETE FROM {PARKED_TABLE} WHERE originator_id = ?", (i,)) for i in ids),
        ]
        for sql, params in statements:
            try:
                with views.transaction() as tx:
                    tx.execute(sql, params)
            except Exception as error:  # a table a projection has not made yet holds nothing to purge
                log.warning(
                    "erasure.view_not_purged",
                    table=sql.split()[2],
                    error=type(error).__name__,
                    exc_info=error,
                )
        log.info("erasure.views_purged", household_id=str(household_id))

    return purge


def parked_purger(parked: ParkedMessages, subjects: Subjects) -> Callable[[UUID], None]:
    """Deletes parked messages about the household: by CloudEvents subject (its id, its referrals', links'
    and offers' ids), or naming its id anywhere in their bytes (a message too broken to read a subject)."""

    def purge(household_id: UUID) -> None:
        related = {str(household_id), *(str(s) for s in subjects(household_id))}
        removed = 0
        for message in parked.list():
            headers = dict(message.message.headers)
            subject = headers.get("ce_subject", b"").decode("utf-8", errors="replace")
            raw = message.message.value + b"".join(headers.values())
            if subject in related or any(i.encode() in raw for i in related):
                parked.remove(message.id)
                removed += 1
        log.info("erasure.parked_purged", household_id=str(household_id), removed=removed)

    return purge
