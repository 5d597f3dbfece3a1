"""Every error as RFC 9457 problem+json, and the one table from error classes to HTTP statuses."""

from __future__ import annotations

import re
import sqlite3
import traceback
from typing import Any
from uuid import uuid4

import psycopg
import structlog
from eventsourcing.persistence import InterfaceError as StoreInterfaceError
from eventsourcing.persistence import OperationalError as StoreOperationalError
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from adapters.http.i18n import ContentLanguage, language_of, translate, translate_text, validation_message
from coordination.domain.errors import (
    ConcurrencyConflict,
    DomainError,
    InvalidInput,
    NotFound,
    NotPermitted,
    RuleViolated,
    VersionMismatch,
)

PROBLEM_JSON = "application/problem+json"
TYPE_BASE = "urn:rehousing-coordination:problem:"

# Most specific first is not needed: the status of an error is that of the nearest class in its MRO.
STATUS_OF: dict[type[Exception], int] = {
    InvalidInput: 422,
    NotFound: 404,
    NotPermitted: 403,
    RuleViolated: 409,
    ConcurrencyConflict: 409,
    VersionMismatch: 412,
}

OVERRIDE_HINT = " (override rule '{rule}' with a reason to proceed)"

# English msgids: each language's catalogue (adapters/http/i18n) has their translations.
TITLES = {
    400: "Bad request",
    401: "Not authenticated",
    403: "Not permitted",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict with the current state",
    410: "Gone",
    412: "Precondition failed",
    413: "Content too large",
    422: "Invalid input",
    428: "Precondition required",
    500: "Internal server error",
    503: "Store unavailable",
}


class FieldProblem(BaseModel):
    field: str
    message: str


class Problem(BaseModel):
    """RFC 9457 problem details; `errors` names each invalid field."""

    type: str = Field(description="A URI naming the kind of problem")
    title: str
    status: int
    detail: str
    instance: str | None = None
    errors: list[FieldProblem] | None = None
    rule: str | None = Field(default=None, description="The rule an override with a reason may overrule")
    error_id: str | None = Field(
        default=None, description="A 500's id, also in the server's log with the exception: quote it"
    )


class ApiProblem(Exception):
    """A problem raised at the edge itself (authentication, preconditions, idempotency, purpose)."""

    def __init__(
        self,
        status: int,
        slug: str,
        template: str,
        /,
        *,
        headers: dict[str, str] | None = None,
        **params: object,
    ) -> None:
        """`template`: an English sentence with named placeholders, filled from `params` (as a DomainError)."""
        detail = template.format(**params) if params else template
        super().__init__(detail)
        self.status, self.slug, self.detail, self.headers = status, slug, detail, headers or {}
        self.template, self.params = template, params


def _slug(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "-", name).lower()


def status_of(error: DomainError) -> int:
    for cls in type(error).__mro__:
        if cls in STATUS_OF:
            return STATUS_OF[cls]
    return 422


def problem_response(
    request: Request,
    status: int,
    slug: str,
    detail: str,
    *,
    errors: list[FieldProblem] | None = None,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    """The problem in the caller's language: `detail` already in it, the title translated here."""
    language = language_of(request.headers)
    problem = Problem(
        type=f"{TYPE_BASE}{slug}",
        title=translate(TITLES.get(status, "Error"), language),
        status=status,
        detail=detail,
        instance=request.url.path,
        errors=errors,
        **extra,
    )
    return JSONResponse(
        problem.model_dump(mode="json", exclude_none=True),
        status_code=status,
        media_type=PROBLEM_JSON,
        headers={**(headers or {}), "Content-Language": language},
    )


def _field(location: tuple[Any, ...]) -> str:
    return ".".join(str(part) for part in location)


def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
    language = language_of(request.headers)
    errors = [
        FieldProblem(field=_field(e["loc"]), message=validation_message(e, language)) for e in exc.errors()
    ]
    # A malformed request line or header is a bad request; a well-formed body with bad content is 422.
    in_body = all(e["loc"] and e["loc"][0] == "body" for e in exc.errors())
    malformed_json = any(e.get("type") == "json_invalid" for e in exc.errors())
    status = 422 if in_body and not malformed_json else 400
    detail = "; ".join(f"{p.field}: {p.message}" for p in errors)
    return problem_response(request, status, "invalid-request", detail, errors=errors)


def _sentence(template: str, language: str, params: dict[str, object]) -> str:
    """A template with its values in `language`; a sentence finished elsewhere (a stored warning, another
    node's refusal) is matched against the catalogue's templates instead."""
    return translate(template, language, params) if params else translate_text(template, language)


def _domain(request: Request, exc: DomainError) -> JSONResponse:
    language = language_of(request.headers)
    detail = _sentence(exc.template, language, exc.params)
    rule = getattr(exc, "rule", None)
    if rule is not None:
        detail += translate(OVERRIDE_HINT, language, {"rule": rule})
    field = getattr(exc, "field", None)  # an ImplausibleValue names the input it refuses
    errors = [FieldProblem(field=field, message=detail)] if field else None
    return problem_response(
        request,
        status_of(exc),
        _slug(type(exc).__name__),
        detail,
        errors=errors,
        rule=getattr(exc, "rule", None),
    )


def _api(request: Request, exc: ApiProblem) -> JSONResponse:
    detail = _sentence(exc.template, language_of(request.headers), exc.params)
    return problem_response(request, exc.status, exc.slug, detail, headers=exc.headers)


def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
    detail = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
    return problem_response(
        request,
        exc.status_code,
        _slug(TITLES.get(exc.status_code, "error").title().replace(" ", "")),
        translate_text(detail, language_of(request.headers)),
        headers=getattr(exc, "headers", None),
    )


def _unavailable(request: Request, exc: Exception) -> JSONResponse:
    # The cause stays in the server's log; the client learns only that it may retry.
    return problem_response(
        request,
        503,
        "store-unavailable",
        translate("The node's store is unavailable; try again shortly", language_of(request.headers)),
        headers={"Retry-After": "5"},
    )


UNAVAILABLE: tuple[type[Exception], ...] = (
    StoreOperationalError,
    StoreInterfaceError,
    psycopg.OperationalError,
    psycopg.InterfaceError,
    sqlite3.OperationalError,
    TimeoutError,
)


class UnexpectedErrors:
    """ASGI middleware: an exception no handler knows answers 500 problem+json with an error id, and the
    exception is logged with that id (no stack trace in the body).

    Starlette's own last resort (ServerErrorMiddleware) answers and then re-raises, and uvicorn closes the
    keep-alive connection on an exception; here the exception ends with the response, so the connection
    lives on. It sits inside ServerErrorMiddleware, which still sees an exception raised after the response
    started (nothing can be answered then)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def watched(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, watched)
        except Exception as error:
            if started:
                raise
            error_id = str(uuid4())
            # The path's ids are uuids (no personal data); the query string and body are not logged. The
            # traceback goes as text: a renderer's own (rich, with locals) would print the request's values.
            structlog.get_logger().error(
                "http.unexpected_error",
                error_id=error_id,
                method=scope.get("method"),
                path=scope.get("path"),
                error=type(error).__name__,
                exception="".join(traceback.format_exception(error)),
            )
            request = Request(scope)
            response = problem_response(
                request,
                500,
                "internal-error",
                translate(
                    "The node failed to answer this request; quote error id {error_id} to its operator",
                    language_of(request.headers),
                    {"error_id": error_id},
                ),
                error_id=error_id,
            )
            await response(scope, receive, send)


def install(app: FastAPI) -> None:
    """Every error the API can meet answers as problem+json."""
    app.add_middleware(UnexpectedErrors)
    app.add_middleware(ContentLanguage)  # outermost of the two: a 500 says its language too
    app.add_exception_handler(RequestValidationError, _validation)  # type: ignore[arg-type]
    app.add_exception_handler(DomainError, _domain)  # type: ignore[arg-type]
    app.add_exception_handler(ApiProblem, _api)  # type: ignore[arg-type]
    app.add_exception_handler(StarletteHTTPException, _http)  # type: ignore[arg-type]
    for error in UNAVAILABLE:
        app.add_exception_handler(error, _unavailable)


def responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The problem responses an operation documents in OpenAPI."""
    schema = {"$ref": "#/components/schemas/Problem"}
    return {
        status: {"description": TITLES[status], "content": {PROBLEM_JSON: {"schema": schema}}}
        for status in statuses
    }


def problem_schemas() -> dict[str, Any]:
    """Problem and its parts as OpenAPI components (referred to by `responses`)."""
    schema = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
    parts = schema.pop("$defs", {})
    return {"Problem": schema, **parts}
