"""Personal identifiers: validated on the way in, kept only as keyed digests, never in clear."""

from __future__ import annotations

import hashlib
import hmac

from stdnum.dk import cpr
from stdnum.exceptions import ValidationError

from coordination.domain.errors import InvalidInput


def cpr_digest(number: str, secret: bytes) -> str:
    """A keyed digest of a valid CPR number, for finding a household again without storing the number.

    A plain hash would be reversible by trying all ~3.6 million birth dates x serials; the node's
    secret key makes that impossible without the key. The error never repeats the number.
    """
    try:
        compact = cpr.validate(number)
    except ValidationError:
        raise InvalidInput(
            "The CPR number is not valid (expected DDMMYY-SSSS with a real birth date)"
        ) from None
    return hmac.new(secret, compact.encode(), hashlib.sha256).hexdigest()


def checked_cpr(number: str) -> str:
    """A valid CPR number as DDMMYYSSSS, for sending under consent (a daycare referral); the error never
    repeats the number."""
    try:
        return str(cpr.validate(number))
    except ValidationError:
        raise InvalidInput(
            "The CPR number is not valid (expected DDMMYY-SSSS with a real birth date)"
        ) from None
