"""Webhook signatures match the Standard Webhooks convention's published vector; retries back off, bounded."""

from __future__ import annotations

from datetime import timedelta

from adapters.webhooks.events import EVENT_TYPES, subscribed
from adapters.webhooks.signing import headers, new_secret, signature
from adapters.webhooks.worker import Backoff

# The example the Standard Webhooks specification and Svix's libraries test against: computed elsewhere.
SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
MESSAGE_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
TIMESTAMP = 1614265330
BODY = b'{"test": 2432232314}'


def test_the_signature_is_the_conventions_own_example() -> None:
    assert signature(SECRET, MESSAGE_ID, TIMESTAMP, BODY) == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
    sent = headers(SECRET, MESSAGE_ID, TIMESTAMP, BODY)
    assert (sent["webhook-id"], sent["webhook-timestamp"]) == (MESSAGE_ID, "1614265330")
    assert sent["content-type"].startswith("application/cloudevents+json")


def test_each_secret_is_new_and_in_the_conventions_form() -> None:
    first, second = new_secret(), new_secret()
    assert first != second and first.startswith("whsec_") and len(first) == len("whsec_") + 32


def test_retries_double_up_to_the_longest_wait_and_stop_after_the_attempts() -> None:
    backoff = Backoff(first_s=5, longest_s=60, attempts=6)
    waits = [backoff.after(attempt) for attempt in range(1, 7)]
    assert waits[:5] == [timedelta(seconds=s) for s in (5, 10, 20, 40, 60)]
    assert waits[5] is None


def test_a_subscription_takes_exact_types_or_a_prefix() -> None:
    assert subscribed(["dk.rehousing.referral.*"], "dk.rehousing.referral.sent")
    assert not subscribed(["dk.rehousing.referral.*"], "dk.rehousing.notification.raised")
    assert subscribed(["dk.rehousing.notification.raised"], "dk.rehousing.notification.raised")
    assert "dk.rehousing.referral.acknowledged" in EVENT_TYPES
