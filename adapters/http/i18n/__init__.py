"""What a caseworker reads, in their language: Danish by default, English on `Accept-Language: en`.

Messages are written in code as whole English sentences with named placeholders (the msgid, e.g. "Offer
{offer_id} has expired"); each language other than English has one catalogue module beside this one
(`da.py`: `MESSAGES = {msgid: translation}`). Values are formatted as the reader writes them: dates as
"7. december 2026", times in Europe/Copenhagen. JSON date fields stay ISO 8601; only human text changes.

`python -m adapters.http.i18n.missing` lists the msgids without a Danish translation, ready to paste.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, datetime
from enum import Enum
from functools import lru_cache
from typing import Any

from adapters.http.i18n import da
from coordination.domain.calendar import COPENHAGEN

DANISH, ENGLISH = "da", "en"
DEFAULT = DANISH
CATALOGUES: dict[str, Mapping[str, str]] = {DANISH: da.MESSAGES, ENGLISH: {}}
LANGUAGES = tuple(CATALOGUES)

_MONTHS = {
    DANISH: (
        [
            "januar",
            "februar",
            "marts",
            "april",
            "maj",
            "juni",
            "juli",
            "august",
            "september",
            "oktober",
            "november",
            "december",
        ]
    ),
    ENGLISH: (
        [
            "January",
            "February",
            "March",
            "April",
            "May",
            "June",
            "July",
            "August",
            "September",
            "October",
            "November",
            "December",
        ]
    ),
}
_FIELD = re.compile(r"\{(\w+)(![rsa])?(:[^{}]*)?\}")


def negotiate(accept_language: str | None) -> str:
    """The language to answer in (RFC 9110 §12.5.4): the supported language the caller prefers most, by
    q-value; Danish when the header is absent, names none we speak, or prefers "*"."""
    if not accept_language:
        return DEFAULT
    ranked: list[tuple[float, int, str]] = []
    for position, item in enumerate(accept_language.split(",")):
        tag, _, parameters = item.strip().partition(";")
        quality = 1.0
        for parameter in parameters.split(";"):
            name, _, value = parameter.strip().partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        primary = tag.strip().lower().split("-")[0]
        if primary == "*":
            primary = DEFAULT
        if primary in CATALOGUES and quality > 0:
            ranked.append((-quality, position, primary))
    return min(ranked)[2] if ranked else DEFAULT


def format_date(day: date, language: str) -> str:
    """7. december 2026 (Danish), 7 December 2026 (English)."""
    month = _MONTHS[language][day.month - 1]
    return f"{day.day}. {month} {day.year}" if language == DANISH else f"{day.day} {month} {day.year}"


def format_datetime(moment: datetime, language: str) -> str:
    """7. december 2026 kl. 14.30 (Danish), 7 December 2026 at 14:30 (English): Copenhagen time."""
    local = moment.astimezone(COPENHAGEN) if moment.tzinfo is not None else moment
    day = format_date(local.date(), language)
    if language == DANISH:
        return f"{day} kl. {local:%H.%M}"
    return f"{day} at {local:%H:%M} (Copenhagen time)"


def _value(value: object, language: str) -> object:
    if isinstance(value, list | tuple):  # sentences, each its own msgid (a household's settlement gaps)
        return "; ".join(translate_text(str(_value(item, language)), language) for item in value)
    if isinstance(value, datetime):
        return format_datetime(value, language)
    if isinstance(value, date):
        return format_date(value, language)
    if isinstance(value, Enum) and isinstance(value.value, str):
        value = value.value
    if isinstance(value, str):
        # A word the sentence names (a role, a kind of aggregate, "vacancies") is translated as well.
        return CATALOGUES[language].get(value, value)
    return value


def translate(template: str, language: str, params: Mapping[str, object] | None = None) -> str:
    """`template` in `language`, its placeholders filled from `params` as that language writes them. An
    unknown template stays as it is (English): the catalogue test lists such strings."""
    text = CATALOGUES[language].get(template, template)
    if not params:
        return text
    values = {name: _value(value, language) for name, value in params.items()}
    # A translation that does not fit its values (a wrong placeholder) must not turn a problem into a 500:
    # the English sentence then, and the catalogue test names the translation.
    for candidate in (text, template):
        try:
            return candidate.format(**values)
        except (KeyError, IndexError, ValueError, TypeError, AttributeError):
            continue
    return template


@lru_cache(maxsize=1)
def _patterns() -> tuple[tuple[re.Pattern[str], str], ...]:
    """Each msgid with placeholders as a pattern that matches its English text (longest first)."""
    found = []
    for template in sorted(da.MESSAGES, key=len, reverse=True):
        if not _FIELD.search(template) or not _FIELD.sub("", template).strip():
            continue  # no placeholder, or nothing but placeholders (it would match any text)
        pattern, last, seen = "", 0, set()
        for match in _FIELD.finditer(template.replace("{{", "\0").replace("}}", "\1")):
            name = match.group(1)
            # A value named twice is the same text twice.
            group = f"(?P={name})" if name in seen else f"(?P<{name}>.+?)"
            pattern += re.escape(template[last : match.start()]) + group
            last = match.end()
            seen.add(name)
        pattern += re.escape(template[last:])
        try:
            found.append((re.compile(pattern.replace("\0", "{").replace("\1", "}") + r"\Z", re.S), template))
        except re.error:  # not a pattern (cannot happen for a well-formed template): matched only with params
            continue
    return tuple(found)


_DECIMAL = re.compile(r"\d+\.\d+")


def _matched(value: str, language: str, depth: int) -> str:
    """A value matched in a finished sentence, in `language`: itself a sentence the catalogue knows (a part
    of a stored warning), sentences joined by semicolons, or a decimal number (45,2 in Danish)."""
    if language == DANISH and _DECIMAL.fullmatch(value):
        return value.replace(".", ",")
    whole = _translated(value, language, depth + 1)
    if whole != value:
        return whole
    if "; " in value:
        return "; ".join(_translated(part, language, depth + 1) for part in value.split("; "))
    items = value.split(", ")
    if all(_ITEM.fullmatch(item) for item in items):  # a settlement gap's open items
        return ", ".join(_item(item, language, depth) for item in items)
    # Parts joined by "and" (a reporter's relations): joined in `language` when each part is translated.
    parts = value.split(" and ")
    translated = [_translated(part, language, depth + 1) for part in parts]
    if len(parts) > 1 and all(new != old for new, old in zip(translated, parts, strict=True)):
        return CATALOGUES[language].get(" and ", " and ").join(translated)
    return value


# An open item as a settlement gap names it: "bridge building civica → odense-brobygning (in progress)".
_ITEM = re.compile(r"(?P<subtype>.+) (?P<sender>\S+) → (?P<to>\S+) \((?P<state>[^()]+)\)")


def _item(item: str, language: str, depth: int) -> str:
    found = _ITEM.fullmatch(item)
    assert found is not None
    subtype = _translated(found["subtype"], language, depth + 1)
    state = _translated(found["state"], language, depth + 1)
    return f"{subtype} {found['sender']} → {found['to']} ({state})"


def _fill(translation: str, found: Mapping[str, str], language: str, depth: int = 0) -> str:
    """`translation` with each placeholder replaced by the text matched for it, itself translated."""
    values = {name: _matched(value, language, depth) for name, value in found.items()}
    return _FIELD.sub(lambda field: values.get(field.group(1), field.group(0)), translation)


def translate_text(text: str, language: str) -> str:
    """A finished English sentence (no params kept: a library's message, a stored warning) in `language`,
    when the catalogue knows its template (the values it matched translated the same way: a stored warning
    is sentences within a sentence); otherwise as it is."""
    return _translated(text, language, 0)


def _translated(text: str, language: str, depth: int) -> str:
    catalogue = CATALOGUES[language]
    if language == ENGLISH or text in catalogue or depth > 4:
        return catalogue.get(text, text)
    for pattern, template in _patterns():
        match = pattern.match(text)
        if match is not None:
            return _fill(catalogue[template], match.groupdict(), language, depth)
    return text


def validation_message(error: Mapping[str, object], language: str) -> str:
    """One of pydantic's validation errors (`type`, `msg`, `ctx`) in `language`: English is pydantic's own
    message; another language's catalogue words it by error type from the context."""
    message = str(error.get("msg", ""))
    if language == ENGLISH:
        return message
    kind = str(error.get("type", ""))
    raw_context = error.get("ctx")
    context: dict[str, object] = dict(raw_context) if isinstance(raw_context, Mapping) else {}
    if "error" in context:
        context["error"] = translate_text(str(context["error"]), language)
    template = VALIDATION[language].get(kind)
    if template is None:
        return (
            translate_text(message, language)
            if message in CATALOGUES[language]
            else f"{_INVALID[language]} ({kind})"
        )
    try:
        return template.format(**context)
    except (KeyError, IndexError, ValueError, TypeError, AttributeError):
        return f"{_INVALID[language]} ({kind})"


_INVALID = {DANISH: "Ugyldig værdi", ENGLISH: "Invalid value"}
VALIDATION: dict[str, Mapping[str, str]] = {DANISH: da.VALIDATION, ENGLISH: {}}


class ContentLanguage:
    """ASGI middleware: every HTTP response says the language it speaks (`Content-Language`, negotiated
    from `Accept-Language`) and that it varies with that header, unless the handler said so itself."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        accept = next((v for k, v in scope.get("headers", ()) if k == b"accept-language"), b"")
        language = negotiate(accept.decode("latin-1")).encode()

        async def speaking(message: Any) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", ()))
                names = {name.lower() for name, _ in headers}
                if b"content-language" not in names:
                    headers.append((b"content-language", language))
                if b"vary" not in names:
                    headers.append((b"vary", b"Accept-Language"))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, speaking)


def language_of(headers: Mapping[str, str]) -> str:
    """The language a request asks for (its Accept-Language header)."""
    return negotiate(headers.get("accept-language"))
