"""A save whose answer is lost: PostgreSQL committed it, the connection broke before the node heard so.

The recorder tries a failed call again, as the library does, and the second try meets the rows of the
first. That is not a conflict: the node reads them back, finds its own events, and the save succeeds with
their notification ids, stored once. Rows of another save at those versions stay a conflict.

The lost answer is real: a TCP proxy between the node and PostgreSQL that, once armed, forwards the call to
the server and drops the server's whole answer (up to its ReadyForQuery, so the commit is done), then
closes the connection.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Iterator
from uuid import uuid4

import pytest
from eventsourcing.persistence import IntegrityError, StoredEvent

from adapters.eventstore.pg_events import NodeEventsRecorder
from adapters.eventstore.storage import ShreddingStorage
from coordination.applications.housing import HousingOrganisationApp
from ops.devservices.pgcluster import PostgresServer
from tests.conftest import _fresh_schema, postgres_env

pytestmark = pytest.mark.postgres

READY_FOR_QUERY = b"Z\x00\x00\x00\x05I"  # the server's last message of an answer, idle again


class AnswerLosingProxy:
    """Forwards 127.0.0.1:port to PostgreSQL; `arm(marker)` makes it lose the answer to the next request
    whose bytes contain `marker` and close that connection."""

    def __init__(self, target_port: int) -> None:
        self._target = target_port
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._marker: bytes | None = None
        self.lost = 0
        self._lock = threading.Lock()
        self._sockets: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def arm(self, marker: bytes) -> None:
        self._marker = marker

    def close(self) -> None:
        self._listener.close()
        for sock in self._sockets:
            with contextlib.suppress(OSError):
                sock.close()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            server = socket.create_connection(("127.0.0.1", self._target), timeout=10)
            server.settimeout(None)
            self._sockets += [client, server]
            cut = threading.Event()
            threading.Thread(target=self._requests, args=(client, server, cut), daemon=True).start()
            threading.Thread(target=self._answers, args=(server, client, cut), daemon=True).start()

    def _requests(self, client: socket.socket, server: socket.socket, cut: threading.Event) -> None:
        with contextlib.suppress(OSError):
            while data := client.recv(65536):
                with self._lock:
                    if self._marker is not None and self._marker in data:
                        self._marker = None
                        cut.set()
                server.sendall(data)

    def _answers(self, server: socket.socket, client: socket.socket, cut: threading.Event) -> None:
        with contextlib.suppress(OSError):
            while data := server.recv(65536):
                if not cut.is_set():
                    client.sendall(data)
                elif data.endswith(READY_FOR_QUERY):  # done and committed: the node hears nothing of it
                    self.lost += 1
                    for sock in (client, server):  # shut down: wakes the other direction's recv too
                        sock.shutdown(socket.SHUT_RDWR)
                        sock.close()
                    return


@pytest.fixture
def proxy(postgres_server: PostgresServer) -> Iterator[AnswerLosingProxy]:
    found = AnswerLosingProxy(postgres_server.port)
    yield found
    found.close()


@pytest.fixture
def recorder(postgres_server: PostgresServer, proxy: AnswerLosingProxy) -> Iterator[NodeEventsRecorder]:
    with _fresh_schema(postgres_server) as schema:
        env = {**postgres_env(postgres_server, schema), "POSTGRES_PORT": str(proxy.port)}
        app = HousingOrganisationApp(
            storage=ShreddingStorage(), organisation="civica", env=env, cpr_secret=b"k" * 32
        )
        try:
            assert isinstance(app.recorder, NodeEventsRecorder)
            yield app.recorder
        finally:
            app.close()


def _stored(recorder: NodeEventsRecorder) -> list[tuple[str, int, bytes]]:
    return [
        (str(n.originator_id), n.originator_version, n.state)
        for n in recorder.select_notifications(start=1, limit=100)
    ]


def test_a_save_committed_before_its_answer_was_lost_succeeds_once(
    recorder: NodeEventsRecorder, proxy: AnswerLosingProxy
) -> None:
    aggregate, marker = uuid4(), uuid4().bytes
    events = [StoredEvent(aggregate, v, "test.Topic", marker + b"%d" % v) for v in (1, 2, 3)]
    proxy.arm(marker)  # the request carrying the states: the call's execution (not its preparation)

    ids = recorder.insert_events(events)

    assert proxy.lost == 1  # the answer was lost: the first try failed, the second met its own rows
    assert _stored(recorder) == [(str(aggregate), v, marker + b"%d" % v) for v in (1, 2, 3)]
    assert ids == [n.id for n in recorder.select_notifications(start=1, limit=100)]


def test_other_rows_at_those_versions_are_still_a_conflict(recorder: NodeEventsRecorder) -> None:
    aggregate = uuid4()
    recorder.insert_events([StoredEvent(aggregate, 1, "test.Topic", b"theirs")])
    mine = [StoredEvent(aggregate, 1, "test.Topic", b"mine")]

    assert recorder.already_inserted(mine) is None
    with pytest.raises(IntegrityError):
        recorder.insert_events(mine)
    assert _stored(recorder) == [(str(aggregate), 1, b"theirs")]


def test_a_save_of_which_only_some_rows_are_stored_is_not_taken_for_done(
    recorder: NodeEventsRecorder,
) -> None:
    aggregate = uuid4()
    recorder.insert_events([StoredEvent(aggregate, 1, "test.Topic", b"one")])
    both = [StoredEvent(aggregate, v, "test.Topic", b"one" if v == 1 else b"two") for v in (1, 2)]

    assert recorder.already_inserted(both) is None
    assert recorder.already_inserted(both[:1]) == [
        n.id for n in recorder.select_notifications(start=1, limit=1)
    ]
