"""What a node receives from another, whatever carried it: the decoded event, and the answer to a repeat.

The ports between the transport (adapters/exchange: decoding, the consumer) and the inbound handler here:
the consumer hands each decoded message to `Inbound` as a `ReceivedEvent`, and `Inbound` raises
`AlreadyApplied` for a message whose id it applied before, which the consumer counts as a duplicate.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from coordination.integration.events import IntegrationEvent


@dataclass(frozen=True)
class ReceivedEvent:
    """A decoded message: the integration event with its CloudEvents attributes and trace context."""

    id: str
    source: str
    type: str
    subject: str
    time: datetime
    traceparent: str | None
    event: IntegrationEvent = field(repr=False)

    @property
    def trace_id(self) -> str | None:
        """The W3C trace id from the publisher's header: its logs and ours name the same trace."""
        return self.traceparent.split("-")[1] if self.traceparent else None


class AlreadyApplied(Exception):
    """Raised by an `apply` function for a message whose CloudEvents id it has already applied."""
