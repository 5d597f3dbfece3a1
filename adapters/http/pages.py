"""Cursor pagination: a page of items and the cursor of the next one (the last item's key)."""

from collections.abc import Callable, Sequence
from typing import Annotated, Generic, TypeVar

from fastapi import Query
from pydantic import BaseModel

from adapters.http.problems import ApiProblem

T = TypeVar("T")
Limit = Annotated[int, Query(ge=1, le=200, description="Items per page")]
Cursor = Annotated[str | None, Query(max_length=200, description="next_cursor of the previous page")]


class Page(BaseModel, Generic[T]):
    """One page; pass `next_cursor` as `cursor` for the next (null on the last page)."""

    items: list[T]
    next_cursor: str | None


def page_after(items: Sequence[T], key: Callable[[T], str], cursor: str | None, limit: int) -> Page[T]:
    """The page after the item whose key is `cursor`, from items already in their stable order."""
    start = 0
    if cursor is not None:
        keys = [key(item) for item in items]
        if cursor not in keys:
            raise ApiProblem(
                400, "invalid-request", "query.cursor: {cursor!r} is not a cursor of this list", cursor=cursor
            )
        start = keys.index(cursor) + 1
    chosen = list(items[start : start + limit])
    more = start + limit < len(items)
    return Page[T](items=chosen, next_cursor=key(chosen[-1]) if chosen and more else None)
