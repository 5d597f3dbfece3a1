"""The dashboards' words in the reader's language: the pages' text and their scripts' `t("...")` strings
are msgids like any other; the node serves each script with the translations it uses prepended (I18N),
in the language the browser asks for, and the script translates the page in place."""

from __future__ import annotations

import html
import json
import re
from functools import lru_cache
from pathlib import Path

from adapters.http.i18n import CATALOGUES, ENGLISH

STATIC = Path(__file__).resolve().parents[1] / "static"
PAGES = {"dashboard.js": "dashboard.html", "municipal.js": "municipal.html"}
_CALL = re.compile(r'\bt\("((?:[^"\\]|\\.)*)"')
_TEXT = re.compile(r">([^<>]+)<")
_CODE = re.compile(r"<(script|style)\b.*?</\1>", re.S)


@lru_cache(maxsize=8)
def page_strings(script: str) -> tuple[str, ...]:
    """The msgids of a dashboard: its script's t("...") strings and its page's text (not its styles)."""
    found = [json.loads(f'"{text}"') for text in _CALL.findall((STATIC / script).read_text())]
    page = _CODE.sub("", (STATIC / PAGES[script]).read_text())
    for text in _TEXT.findall(page):
        words = html.unescape(text).strip()
        if re.search(r"[A-Za-z]{2}", words) and not re.fullmatch(r"p\d\d", words):  # p50 reads as p50
            found.append(words)
    return tuple(dict.fromkeys(found))


def script_in(script: str, language: str) -> str:
    """The script with the translations of its page's words into `language` prepended."""
    catalogue = CATALOGUES[language]
    messages = (
        {} if language == ENGLISH else {m: catalogue[m] for m in page_strings(script) if m in catalogue}
    )
    prefix = f"self.I18N = {json.dumps({'lang': language, 'messages': messages}, ensure_ascii=False)};\n"
    return prefix + (STATIC / script).read_text()
