"""Bearer tokens: Ed25519-signed JWTs per organisation, verified against each organisation's public key."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from adapters.http.problems import ApiProblem
from coordination.domain.values import Actor, Role

ALGORITHM = "EdDSA"
# The longest a token may live (exp - iat, and exp - now). A token stands for a person's working day (the
# demo issues 8 hours) and a node keeps no revocation list, so a leaked or forgotten token must die on
# its own within a day; a token claiming to live for years (exp = 10^20) is refused rather than trusted.
MAX_LIFETIME = timedelta(hours=24)
# Roles a person may act in through the API; SYSTEM is the node's own timers and never a caller.
PERSON_ROLES = tuple(role for role in Role if role is not Role.SYSTEM)


@dataclass(frozen=True)
class AuthConfig:
    """What a node trusts: its audience (tokens must name it) and the public key of each organisation."""

    audience: str
    public_keys: Mapping[str, Ed25519PublicKey] = field(default_factory=dict)
    leeway: timedelta = timedelta(seconds=30)


@dataclass(frozen=True)
class Principal:
    """The caller, as its organisation vouched for it: a person in a role at that organisation."""

    organisation: str
    person: str
    role: Role

    def actor(self) -> Actor:
        return Actor(organisation=self.organisation, person=self.person, role=self.role)


def _unauthenticated(template: str, /, **params: object) -> ApiProblem:
    return ApiProblem(
        401,
        "not-authenticated",
        template,
        headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
        **params,
    )


def verify(token: str, config: AuthConfig) -> Principal:
    """The principal of a valid token; 401 for a malformed, expired, wrongly signed or misaddressed one."""
    try:
        unverified = jwt.decode(token, options={"verify_signature": False})
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError as error:
        raise _unauthenticated("The bearer token is malformed: {error}", error=error) from None
    if header.get("alg") != ALGORITHM:
        raise _unauthenticated(
            "The bearer token must be signed with {algorithm}, not {alg!r}",
            algorithm=ALGORITHM,
            alg=header.get("alg"),
        )
    issuer = unverified.get("iss")
    key = config.public_keys.get(issuer) if isinstance(issuer, str) else None
    if key is None:
        raise _unauthenticated(
            "The token's issuer {issuer!r} is not an organisation this node trusts", issuer=issuer
        )
    try:
        claims = jwt.decode(
            token,
            key,
            algorithms=[ALGORITHM],
            audience=config.audience,
            issuer=issuer,
            leeway=config.leeway,
            options={"require": ["iss", "aud", "sub", "exp", "iat"]},
        )
    except jwt.ExpiredSignatureError:
        raise _unauthenticated("The bearer token has expired") from None
    except jwt.InvalidAudienceError:
        raise _unauthenticated(
            "The bearer token is not addressed to this node ({audience})", audience=config.audience
        ) from None
    except jwt.InvalidSignatureError:
        raise _unauthenticated("The bearer token's signature is not {issuer}'s", issuer=issuer) from None
    except jwt.PyJWTError as error:
        raise _unauthenticated("The bearer token is invalid: {error}", error=error) from None
    lifetime, remaining = claims["exp"] - claims["iat"], claims["exp"] - datetime.now(UTC).timestamp()
    if max(lifetime, remaining - config.leeway.total_seconds()) > MAX_LIFETIME.total_seconds():
        raise _unauthenticated(
            "The bearer token lives longer than {hours:.0f} hours (exp - iat); ask your organisation for a "
            "shorter-lived one",
            hours=MAX_LIFETIME.total_seconds() / 3600,
        )
    # An organisation vouches only for its own people.
    if claims.get("org") != issuer:
        raise _unauthenticated(
            "The token's org claim {org!r} is not its issuer {issuer!r}", org=claims.get("org"), issuer=issuer
        )
    try:
        role = Role(claims.get("role"))
    except ValueError:
        raise _unauthenticated("The token's role {role!r} is not a role", role=claims.get("role")) from None
    if role not in PERSON_ROLES or not isinstance(claims["sub"], str) or not claims["sub"].strip():
        raise _unauthenticated("The token must name a person (sub) acting in a person's role")
    return Principal(organisation=issuer, person=claims["sub"], role=role)


def issue_token(
    private_key: Ed25519PrivateKey,
    *,
    organisation: str,
    person: str,
    role: Role | str,
    audience: str,
    now: datetime | None = None,
    ttl: timedelta = timedelta(hours=8),
) -> str:
    """A token for `person` in `role` at `organisation`, addressed to the node of `audience`; a node refuses
    one whose `ttl` exceeds MAX_LIFETIME."""
    issued = now or datetime.now(UTC)
    claims = {
        "iss": organisation,
        "org": organisation,
        "sub": person,
        "role": str(Role(role)),
        "aud": audience,
        "iat": int(issued.timestamp()),
        "exp": int((issued + ttl).timestamp()),
    }
    return jwt.encode(claims, private_key, algorithm=ALGORITHM)


# Keys: PEM files, one pair per organisation (the demo generates them under its data dir).


def private_key_path(keys_dir: Path, organisation: str) -> Path:
    return keys_dir / f"{organisation}.ed25519.pem"


def public_key_path(keys_dir: Path, organisation: str) -> Path:
    return keys_dir / f"{organisation}.ed25519.pub.pem"


def ensure_key_pair(keys_dir: Path, organisation: str) -> Ed25519PrivateKey:
    """The organisation's development key pair under `keys_dir`, made on first use (private key 0600)."""
    path = private_key_path(keys_dir, organisation)
    if not path.exists():
        keys_dir.mkdir(parents=True, exist_ok=True)
        key = Ed25519PrivateKey.generate()
        path.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        )
        path.chmod(0o600)
        public_key_path(keys_dir, organisation).write_bytes(public_pem(key.public_key()))
    return load_private_key(path)


def load_private_key(path: Path) -> Ed25519PrivateKey:
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError(f"{path} does not hold an Ed25519 private key")
    return key


def load_public_key(pem: str | bytes) -> Ed25519PublicKey:
    key = serialization.load_pem_public_key(pem.encode() if isinstance(pem, str) else pem)
    if not isinstance(key, Ed25519PublicKey):
        raise ValueError("not an Ed25519 public key")
    return key


def public_pem(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


def public_keys_in(keys_dir: Path) -> dict[str, Ed25519PublicKey]:
    """Every organisation's public key found in `keys_dir` (`<organisation>.ed25519.pub.pem`)."""
    suffix = ".ed25519.pub.pem"
    return {
        p.name.removesuffix(suffix): load_public_key(p.read_bytes())
        for p in sorted(keys_dir.glob(f"*{suffix}"))
    }


_bearer = HTTPBearer(auto_error=False, description="An Ed25519 JWT issued by the caller's organisation")


def authenticated(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> Principal:
    """FastAPI dependency: the caller, from the Authorization header (401 without a valid token)."""
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise _unauthenticated("An Authorization: Bearer token is required")
    config: AuthConfig = request.app.state.auth
    return verify(credentials.credentials, config)
