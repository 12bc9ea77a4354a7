"""Reading every group call-log item in an id range, whatever order Dstny answers in.

The group call log takes ``since`` ("only return items with ID greater than this"), ``olderThan``
("only return group call log items with ID smaller than this") and ``limit`` ("return no more
than this amount"), seed 004 ~585-592 and ~652-659. 004 does not say in which order items come,
nor which ones a limited answer keeps, so nothing here relies on either: a :class:`Span` of ids
is asked for; an answer shorter than ``limit`` holds all of it; a full answer, whose ids run
from ``lo`` to ``hi``, leaves three spans that may still hold unread items: below ``lo``, above
``hi``, and between them when the ids it returned have gaps. Each of those holds fewer items
than the span it came from, so reading ends, and a page budget bounds each round; what is left
is returned for the next round.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field

from adapters.dstny.wire import CallLogItem

log = logging.getLogger(__name__)


def item_number(item_id: str) -> int | None:
    """A call-log item id as the integer ``since``/``olderThan`` compare, or ``None`` if it isn't one."""
    return int(item_id) if item_id.isdigit() else None


@dataclass(frozen=True)
class Span:
    """Item ids strictly above ``above`` and strictly below ``below`` (``None``: no bound)."""

    above: int | None = None
    below: int | None = None

    def params(self) -> list[tuple[str, str]]:
        """The query parameters that ask Dstny for this span."""
        params: list[tuple[str, str]] = []
        if self.above is not None:
            params.append(("since", str(self.above)))
        if self.below is not None:
            params.append(("olderThan", str(self.below)))
        return params

    def holds(self, number: int) -> bool:
        """Whether item id ``number`` lies in this span."""
        return (self.above is None or number > self.above) and (self.below is None or number < self.below)

    @property
    def empty(self) -> bool:
        """No integer id fits (e.g. ``since=5&olderThan=6``)."""
        return self.above is not None and self.below is not None and self.below - self.above <= 1

    def to_json(self) -> list[int | None]:
        return [self.above, self.below]

    @classmethod
    def from_json(cls, value: Sequence[int | None]) -> Span:
        above, below = value
        return cls(above, below)


@dataclass
class SpanRead:
    """What one budgeted read of some spans found, and the spans it did not get to."""

    items: dict[str, CallLogItem] = field(default_factory=dict)
    left: list[Span] = field(default_factory=list)
    pages: int = 0

    @property
    def complete(self) -> bool:
        """Every item of every span asked for was read."""
        return not self.left


Fetch = Callable[[Span], Awaitable[list[CallLogItem]]]


async def read_spans(
    fetch: Fetch, spans: Sequence[Span], *, limit: int, max_pages: int, upward_only: bool = False
) -> SpanRead:
    """Every item in ``spans``, reading at most ``max_pages`` pages of ``limit`` items.

    Spans are read in the order given, and within a span the newest part first, so a budget
    that runs out leaves the oldest parts in :attr:`SpanRead.left`.

    Args:
        fetch: one call-log request for a span (the caller adds ``itemType`` and ``limit``).
        spans: the id ranges to read.
        limit: the ``limit`` each request carries; an answer this long may be partial.
        max_pages: requests this read may make.
        upward_only: only the highest id matters (a first run finding the present): after a
            full page only the span above it is read.
    """
    result = SpanRead()
    todo = [span for span in reversed(spans) if not span.empty]  # a stack: the next span last
    known: set[int] = set()
    while todo and result.pages < max_pages:
        span = todo.pop()
        if _exhausted(span, known):
            continue  # every id it can hold was read already (from other pages)
        page = await fetch(span)
        result.pages += 1
        numbers: list[int] = []
        for item in page:
            number = item_number(item.itemId)
            if number is None or span.holds(number):
                result.items[item.itemId] = item
                if number is not None:
                    numbers.append(number)
                    known.add(number)
        if len(page) < limit:
            continue  # a short answer holds the whole span
        if not numbers:
            log.warning(
                "a full Dstny call-log page had no item ids inside the range asked for; cannot page further",
                extra={"vendor": "dstny", "since": span.above, "olderThan": span.below},
            )
            continue
        low, high = min(numbers), max(numbers)
        parts: list[Span] = []  # pushed oldest first, so the newest part is read next
        if not upward_only:
            parts.append(Span(span.above, low))
            if high - low - 1 > len(set(numbers)) - 2:  # ids the page skipped between its ends
                parts.append(Span(low, high))
        parts.append(Span(high, span.below))
        todo.extend(part for part in parts if not _exhausted(part, known))
    result.left = [span for span in reversed(todo) if not _exhausted(span, known)]
    return result


def _exhausted(span: Span, known: set[int]) -> bool:
    """Whether every id ``span`` can hold is in ``known`` (an empty span is too)."""
    if span.above is None or span.below is None:
        return False
    room = span.below - span.above - 1
    return room <= 0 or (room <= len(known) and all(n in known for n in range(span.above + 1, span.below)))
