"""Authentication: only a valid token of a trusted organisation, addressed to this node, gets in."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from adapters.http.auth import issue_token
from ops.cli.main import main
from ops.demo.reference_scenario import CIVICA
from tests.api.conftest import FAB, Organisations


def _status(orgs: Organisations, token: str | None, header: str | None = None) -> tuple[int, dict[str, str]]:
    headers = {"Authorization": header if header is not None else f"Bearer {token}", "Accept-Language": "en"}
    response = orgs.clients[CIVICA].get("/vacancy-pool", params={"municipality": "Odense"}, headers=headers)
    if response.status_code == 401:
        assert response.headers["content-type"] == "application/problem+json"
        assert response.headers["www-authenticate"].startswith("Bearer")
    return response.status_code, response.json()


def test_a_valid_token_of_the_nodes_own_organisation_is_accepted(memory_organisations: Organisations) -> None:
    token = memory_organisations.token(CIVICA, "gk-07", "rehousing_consultant")
    assert _status(memory_organisations, token)[0] == 200


@pytest.mark.parametrize(
    ("case", "expected_words"),
    [
        ("expired", "expired"),
        ("wrongly signed", "signature"),
        ("wrong audience", "not addressed to this node"),
        ("malformed", "malformed"),
        ("unknown issuer", "not an organisation this node trusts"),
        ("org is not the issuer", "org claim"),
        ("system role", "person"),
        ("not a role", "not a role"),
        ("HS256", "EdDSA"),
        ("no exp", "exp"),
        ("exp = 10^20", "lives longer than 24 hours"),
        ("a 25-hour lifetime", "lives longer than 24 hours"),
        ("iat and exp years ahead", "iat"),
    ],
)
def test_a_bad_token_is_rejected_with_401_naming_the_problem(
    memory_organisations: Organisations, case: str, expected_words: str
) -> None:
    keys = memory_organisations.keys
    now = datetime.now(UTC)
    claims = {
        "iss": CIVICA,
        "org": CIVICA,
        "sub": "gk-07",
        "role": "rehousing_consultant",
        "aud": CIVICA,
        "iat": int(now.timestamp()),
        "exp": int((now + timedelta(hours=1)).timestamp()),
    }
    key = keys[CIVICA]
    if case == "expired":
        token = issue_token(
            key,
            organisation=CIVICA,
            person="gk-07",
            role="rehousing_consultant",
            audience=CIVICA,
            now=now - timedelta(hours=3),
            ttl=timedelta(hours=1),
        )
    elif case == "wrongly signed":
        token = jwt.encode(claims, Ed25519PrivateKey.generate(), algorithm="EdDSA")
    elif case == "wrong audience":
        token = jwt.encode({**claims, "aud": FAB}, key, algorithm="EdDSA")
    elif case == "malformed":
        token = "not.a.jwt"
    elif case == "unknown issuer":
        token = jwt.encode({**claims, "iss": "someone", "org": "someone"}, key, algorithm="EdDSA")
    elif case == "org is not the issuer":
        token = jwt.encode({**claims, "iss": FAB, "org": CIVICA}, keys[FAB], algorithm="EdDSA")
    elif case == "system role":
        token = jwt.encode({**claims, "role": "system"}, key, algorithm="EdDSA")
    elif case == "not a role":
        token = jwt.encode({**claims, "role": "mayor"}, key, algorithm="EdDSA")
    elif case == "exp = 10^20":
        token = jwt.encode({**claims, "exp": 10**20}, key, algorithm="EdDSA")
    elif case == "a 25-hour lifetime":
        token = issue_token(
            key,
            organisation=CIVICA,
            person="gk-07",
            role="rehousing_consultant",
            audience=CIVICA,
            ttl=timedelta(hours=25),
        )
    elif case == "iat and exp years ahead":
        years = int((now + timedelta(days=3 * 365)).timestamp())
        token = jwt.encode({**claims, "iat": years - 3600, "exp": years}, key, algorithm="EdDSA")
    elif case == "HS256":
        token = jwt.encode(claims, "a-shared-secret-that-is-long-enough-for-hs256", algorithm="HS256")
    else:
        token = jwt.encode({k: v for k, v in claims.items() if k != "exp"}, key, algorithm="EdDSA")
    status, problem = _status(memory_organisations, token)
    assert status == 401
    assert expected_words in problem["detail"]


@pytest.mark.parametrize("header", ["", "Basic dXNlcjpwYXNz", "Bearer", "Bearer "])
def test_a_missing_or_non_bearer_authorization_is_rejected(
    memory_organisations: Organisations, header: str
) -> None:
    assert _status(memory_organisations, None, header)[0] == 401


def test_the_cli_issues_a_token_the_node_accepts(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from adapters.http.auth import AuthConfig, ensure_key_pair, public_keys_in, verify

    ensure_key_pair(tmp_path / "keys", CIVICA)
    assert (
        main(
            [
                "token",
                "issue",
                "--org",
                CIVICA,
                "--person",
                "civica-gk-07",
                "--role",
                "rehousing_consultant",
                "--data-dir",
                str(tmp_path),
            ]
        )
        == 0
    )
    token = capsys.readouterr().out.strip()
    principal = verify(token, AuthConfig(audience=CIVICA, public_keys=public_keys_in(tmp_path / "keys")))
    assert (principal.organisation, principal.person, str(principal.role)) == (
        CIVICA,
        "civica-gk-07",
        "rehousing_consultant",
    )
    assert (
        main(
            [
                "token",
                "issue",
                "--org",
                FAB,
                "--person",
                "x",
                "--role",
                "auditor",
                "--data-dir",
                str(tmp_path),
            ]
        )
        == 1
    )


@pytest.mark.parametrize("minutes", ["0", "1441", "99999999", "eight hours"])
def test_the_cli_issues_no_token_a_node_would_refuse_for_its_lifetime(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], minutes: str
) -> None:
    from adapters.http.auth import ensure_key_pair

    ensure_key_pair(tmp_path / "keys", CIVICA)
    arguments = ["token", "issue", "--org", CIVICA, "--person", "civica-gk-07", "--role", "auditor"]
    with pytest.raises(SystemExit) as refused:
        main([*arguments, "--data-dir", str(tmp_path), "--minutes", minutes])
    assert refused.value.code == 2
    assert "minutes" in capsys.readouterr().err
