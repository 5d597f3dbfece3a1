"""Command methods written as their decision: `@command` runs the body once per command id, and derives
the receipt's fingerprint from the call itself instead of a list of the arguments restated beside it."""

from __future__ import annotations

import functools
import inspect
import random
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Concatenate, ParamSpec, TypeAlias, TypeVar, cast
from uuid import UUID

from eventsourcing.domain import Aggregate

from coordination.applications.base import NodeApplication
from coordination.domain.errors import ConcurrencyConflict, VersionMismatch

T = TypeVar("T")
App = TypeVar("App", bound=NodeApplication)
P = ParamSpec("P")
R = TypeVar("R", bound=UUID | None)

# What a command's body returns: the command's result, and the aggregates it changed (saved by `@command`,
# with the receipt, in one transaction; the body must not save).
Decision: TypeAlias = tuple[R, Sequence[Aggregate]]
# Values the fingerprint covers that the call does not name as such (a timer's actor, a digest of a
# personal value): fixed, or worked out from the application and the call's arguments.
Also: TypeAlias = Mapping[str, Any] | Callable[[Any, Mapping[str, Any]], Mapping[str, Any]]


def command(
    name: str | None = None,
    *,
    aggregate_id: str | None = None,
    also: Also | None = None,
    added: tuple[str, ...] = (),
) -> Callable[[Callable[Concatenate[App, P], Decision[R]]], Callable[Concatenate[App, P], R]]:
    """Make a method that decides (loads, calls the domain, returns its result and what it changed) a
    command that does so once per `command_id`, through `NodeApplication._once`.

    The fingerprint covers every argument of the call but `command_id`, with its defaults filled in, as
    the commands' own lists did (`at` is left out by `_once`'s fingerprint itself). Stored receipts hold
    those fingerprints, so they must not change for the same call (tests/application/
    test_command_fingerprints.py pins them):
    * `name` is the command's stored name when it is not the method's;
    * `aggregate_id` names the argument that the commands which changed one aggregate fingerprinted
      as `aggregate_id`;
    * `also` adds (or replaces) what the fingerprint covered besides the arguments;
    * `added` names arguments added to the command after receipts were stored: left out of the fingerprint
      while they have their default, so a call without them fingerprints as it did before.
    """

    def decorate(decide: Callable[Concatenate[App, P], Decision[R]]) -> Callable[Concatenate[App, P], R]:
        signature = inspect.signature(decide)
        application = next(iter(signature.parameters))
        command_name = name or decide.__name__

        @functools.wraps(decide)
        def run(app: App, /, *args: P.args, **kwargs: P.kwargs) -> R:
            call = signature.bind(app, *args, **kwargs)
            call.apply_defaults()
            arguments = dict(call.arguments)
            del arguments[application]
            command_id = arguments.pop("command_id")
            if aggregate_id is not None:
                arguments["aggregate_id"] = arguments.pop(aggregate_id)
            for late in added:
                if arguments[late] == signature.parameters[late].default:
                    del arguments[late]
            if also is not None:
                arguments.update(also(app, arguments) if callable(also) else also)
            result = app._once(command_name, command_id, arguments, lambda: decide(app, *args, **kwargs))
            return cast(R, result)

        return run

    return decorate


# Its own generator: a pause drawn from the shared one would move a seeded sequence (a demo's generated
# history, a property test's examples) whenever a collision happened to occur.
_JITTER = random.Random()


def decided_again_on_conflict(decide: Callable[[], T], *, attempts: int, noted: Callable[[int], None]) -> T:
    """`decide` (a command, or the handling of a message), decided again on what is stored when its save
    collided with another change that landed while it decided (a colleague's command, a message the
    exchange applied): it asked for the change on the state as it is, so the collision is not its caller's
    to resend. One decided on a version the caller read (If-Match) is refused instead once that version has
    moved on (VersionMismatch, never decided again). At most `attempts` times: each collision means a
    rival's change was saved. `noted(attempt)` is told of each collision decided again."""
    for attempt in range(1, attempts + 1):
        try:
            return decide()
        except VersionMismatch:
            raise
        except ConcurrencyConflict:
            if attempt == attempts:
                raise
            noted(attempt)
            # Rivals that collided do not collide again at once.
            time.sleep(_JITTER.uniform(0, 0.01 * attempt))
    raise AssertionError("unreachable: the last attempt returns or raises")
