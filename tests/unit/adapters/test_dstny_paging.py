"""``read_spans``: every call-log item in a range, whatever order a limited answer keeps (no HTTP)."""

from __future__ import annotations

import random

import pytest

from adapters.dstny.paging import Span, item_number, read_spans
from adapters.dstny.wire import CallLogItem


class FakeLog:
    """A group call log honouring since/olderThan/limit as 004 words them, in a chosen order."""

    def __init__(self, ids: list[int], order: str, *, limit: int, seed: int = 7) -> None:
        self.ids = ids
        self.order = order
        self.limit = limit
        self.random = random.Random(seed)
        self.requests: list[Span] = []

    async def fetch(self, span: Span) -> list[CallLogItem]:
        self.requests.append(span)
        inside = [n for n in self.ids if span.holds(n)]
        if self.order == "newest_first":
            inside.sort(reverse=True)
        elif self.order == "oldest_first":
            inside.sort()
        else:  # any subset at all: the documents promise no order
            self.random.shuffle(inside)
        return [CallLogItem(itemId=str(n)) for n in inside[: self.limit]]


ORDERS = ["newest_first", "oldest_first", "shuffled"]


@pytest.mark.parametrize("order", ORDERS)
@pytest.mark.parametrize("seed", [1, 2, 3])
async def test_every_item_of_a_range_is_read_whatever_the_order(order: str, seed: int) -> None:
    ids = sorted(random.Random(seed).sample(range(1, 2000), 230))  # ids with gaps, as other types leave
    log = FakeLog(ids, order, limit=20, seed=seed)

    read = await read_spans(log.fetch, [Span(None, None)], limit=20, max_pages=500)

    assert read.complete
    assert sorted(int(i) for i in read.items) == ids
    assert read.pages == len(log.requests) < 100


@pytest.mark.parametrize("order", ORDERS)
async def test_the_page_budget_leaves_the_rest_for_the_next_round(order: str) -> None:
    ids = list(range(101, 201))
    log = FakeLog(ids, order, limit=10)

    found: set[int] = set()
    spans = [Span(100, None)]
    rounds = 0
    while spans:
        rounds += 1
        read = await read_spans(log.fetch, spans, limit=10, max_pages=3)
        assert read.pages <= 3
        found |= {int(i) for i in read.items}
        spans = read.left
        assert rounds < 100
    assert found == set(ids) and rounds > 3


async def test_a_short_answer_ends_the_range_and_items_outside_it_are_ignored() -> None:
    async def fetch(span: Span) -> list[CallLogItem]:
        return [CallLogItem(itemId="5"), CallLogItem(itemId="50")]  # 50 is outside: a confused server

    read = await read_spans(fetch, [Span(1, 10)], limit=100, max_pages=5)
    assert list(read.items) == ["5"] and read.pages == 1 and read.complete


async def test_upward_only_finds_the_highest_id_and_reads_nothing_below() -> None:
    log = FakeLog(list(range(1, 101)), "oldest_first", limit=10)
    read = await read_spans(log.fetch, [Span(None, None)], limit=10, max_pages=50, upward_only=True)
    assert max(int(i) for i in read.items) == 100
    assert all(span.below is None for span in log.requests)
    assert len(log.requests) == 11  # ten full pages upwards and one empty answer


def test_spans_are_the_documented_parameters() -> None:
    """004 ~585-592: ``since`` = ID greater than; ``olderThan`` = ID smaller than (both exclusive)."""
    assert Span(10, 20).params() == [("since", "10"), ("olderThan", "20")]
    assert Span(None, None).params() == []
    assert Span(10, 20).holds(11) and not Span(10, 20).holds(10) and not Span(10, 20).holds(20)
    assert Span(5, 6).empty and not Span(None, 6).empty
    assert Span.from_json(Span(3, None).to_json()) == Span(3, None)
    assert item_number("15") == 15 and item_number("x15") is None
