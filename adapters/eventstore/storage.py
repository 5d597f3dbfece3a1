"""The store the nodes' applications are built on: the node's events recorder on PostgreSQL, the fast
JSON transcoder, and each household's personal data under its own key (crypto-shredding).

Implements coordination/applications/storage.py's `NodeStorage`; a node's composition passes it to the
application it builds.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from eventsourcing.persistence import JSONTranscoder, Mapper
from eventsourcing.utils import Environment, get_topic

from adapters.eventstore.household_keys import HouseholdKeys
from adapters.eventstore.pg_events import NodeEventsRecorder
from adapters.eventstore.shredding import ShreddingMapper, shredding_mapper
from adapters.eventstore.snapshots import delete_snapshots
from adapters.eventstore.transcoding import FastJSONTranscoder, register_domain_transcodings
from adapters.sql.node_db import SqlDatabase


class ShreddingStorage:
    """A node's store: on PostgreSQL, saves go through NodeEventsRecorder unless the env says otherwise.

    `db` is the node's own database beside the store (ops/node/bootstrap.py opens one per process): the
    household keys and the snapshot deletions use it. Without one, each opens the database the app's env
    names.
    """

    def __init__(self, db: SqlDatabase | None = None) -> None:
        self.db = db

    def environment(self, environment: Environment) -> Environment:
        postgres = environment.get("PERSISTENCE_MODULE") == "eventsourcing.postgres"
        if postgres and not environment.get("APPLICATION_RECORDER_TOPIC"):
            environment["APPLICATION_RECORDER_TOPIC"] = get_topic(NodeEventsRecorder)
        return environment

    def transcoder(self) -> JSONTranscoder:
        return FastJSONTranscoder()

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        register_domain_transcodings(transcoder)

    def mapper(self, application: Any) -> Mapper[UUID]:
        return shredding_mapper(application, self.db)

    def household_keys(self, application: Any) -> HouseholdKeys | None:
        mapper = application.mapper
        if not isinstance(mapper, ShreddingMapper):
            return None
        mapper.recorder = application.recorder
        return mapper.keys

    def delete_snapshots(self, application: Any, originator_ids: list[UUID]) -> None:
        delete_snapshots(application, originator_ids, self.db)
