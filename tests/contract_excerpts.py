"""Vendor-document excerpts kept as test fixtures, and their check against the shared documents.

Contract tests quote the vendor's own words, so they hold the adapter and the simulator to the
document and not to each other. The quotes live in fixture files under ``tests/fixtures/<vendor>/``
so the tests run on a clean clone; each file is a run of excerpts, a header line and then exactly
the quoted lines of the document::

    ## <name> | <document file> | <first>-<last> | <what it is>

``<document file>`` is a seed (``000_1e86c17c83c34bee.txt``, kept in ``shared/seeds/``) or adapter
notes (``relatel.md``, in ``shared/vendors/``). When ``shared/`` is beside the checkout (or beside
the directory holding a worktree), :func:`misquotes` says which excerpts are no longer, line for
line, what their document says, so a misquote fails instead of silently becoming the contract.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

REPO = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Excerpt:
    """Lines ``first``..``last`` (1-based, inclusive) of ``source``, quoted verbatim under our ``name``."""

    name: str
    source: str
    first: int
    last: int
    title: str
    lines: tuple[str, ...]

    @property
    def text(self) -> str:
        """The quoted lines joined by newlines."""
        return "\n".join(self.lines)

    def covers(self, line: int) -> bool:
        """Whether the document's line ``line`` is quoted here."""
        return self.first <= line <= self.last

    def line(self, number: int) -> str:
        """The document's line ``number``, as quoted."""
        assert self.covers(number), f"{self.name} quotes {self.first}-{self.last}, not {number}"
        return self.lines[number - self.first]

    def numbered(self) -> Iterable[tuple[int, str]]:
        """``(document line number, text)`` for every quoted line."""
        return zip(range(self.first, self.last + 1), self.lines, strict=True)


E = TypeVar("E", bound=Excerpt)


def load_excerpts(path: Path, kind: type[E]) -> dict[str, E]:
    """Every excerpt of the fixture file ``path`` by name, as ``kind`` (:class:`Excerpt` or a subclass).

    A header's line range says how many lines follow it, so a quoted line may itself start with
    ``## `` (a Markdown heading of the notes).

    Raises:
        AssertionError: the file is not a run of headers each followed by its lines, or a name is
            used twice.
    """
    found: dict[str, E] = {}
    lines = path.read_text(encoding="utf-8").splitlines()
    at = 0
    while at < len(lines):
        header = lines[at]
        assert header.startswith("## "), f"{path.name}:{at + 1} is not an excerpt header: {header!r}"
        name, source, span, title = (part.strip() for part in header[3:].split("|", 3))
        first, last = (int(n) for n in span.split("-"))
        quoted = tuple(lines[at + 1 : at + 2 + last - first])
        assert len(quoted) == last - first + 1, f"{path.name}: {name} ends before line {last}"
        assert name not in found, f"{path.name}: {name} is quoted twice"
        found[name] = kind(name, source, first, last, title, quoted)
        at += 1 + len(quoted)
    return found


def shared_document(name: str, start: Path = REPO) -> Path | None:
    """``shared/seeds/<name>`` (``shared/vendors/<name>`` for ``.md`` notes) beside the checkout, if present."""
    folder = "vendors" if name.endswith(".md") else "seeds"
    for base in (start, *start.parents):
        candidate = base / "shared" / folder / name
        if candidate.is_file():
            return candidate
    return None


def misquotes(excerpts: Iterable[Excerpt], *, sha256: Mapping[str, str] | None = None) -> list[str] | None:
    """Every excerpt that differs from its document, and every document whose hash is not ``sha256``'s.

    Returns ``None`` when some document is not beside the checkout (nothing to compare with), else
    one message per problem (empty when every quote is exact).
    """
    problems: list[str] = []
    documents: dict[str, list[str]] = {}
    for excerpt in excerpts:
        if excerpt.source not in documents:
            path = shared_document(excerpt.source)
            if path is None:
                return None
            if sha256 is not None and excerpt.source in sha256:
                digest = hashlib.sha256(path.read_bytes()).hexdigest()
                if digest != sha256[excerpt.source]:
                    problems.append(f"{excerpt.source} is not the document the excerpts were taken from")
            documents[excerpt.source] = path.read_text(encoding="utf-8").splitlines()
        actual = tuple(documents[excerpt.source][excerpt.first - 1 : excerpt.last])
        if actual != excerpt.lines:
            problems.append(f"{excerpt.name} is not {excerpt.source} {excerpt.first}-{excerpt.last}")
    return problems
