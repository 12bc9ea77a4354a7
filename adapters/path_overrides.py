"""Operator overrides of vendor paths: ``vendors.<name>.paths.<operation>: "/api/…"``.

The vendor documents print few request paths, so some rows of an adapter's endpoint table
rest on public scripts or inference (each row says which). When a tenant's API answers on
another path, an operator corrects it in the YAML instead of waiting for a release. An
override keeps its operation's method and retry rule and must use exactly the placeholders of
the path it replaces, so a typo fails at startup, not on the first call.
"""

from __future__ import annotations

import re
import string
from collections.abc import Mapping
from dataclasses import replace

from adapters.http import Endpoint

#: What an override may look like: an absolute path, no scheme, host, query or fragment.
_PATH = re.compile(r"/[A-Za-z0-9._~%!$&'()*+,;=:@/{}-]*")


class PathOverrideError(ValueError):
    """An override names no operation of the adapter, or doesn't fit the operation it replaces."""


def placeholders(path: str) -> frozenset[str]:
    """The ``{name}`` placeholders of a path template."""
    return frozenset(field for _, field, _, _ in string.Formatter().parse(path) if field)


def check_overrides(endpoints: Mapping[str, Endpoint], overrides: Mapping[str, str]) -> None:
    """Raise :class:`PathOverrideError` for the first override that can't be used, saying why."""
    for operation, path in overrides.items():
        endpoint = endpoints.get(operation)
        if endpoint is None:
            known = ", ".join(sorted(endpoints))
            raise PathOverrideError(f"paths.{operation}: no such operation; the operations are: {known}")
        if not _PATH.fullmatch(path) or "//" in path or "/../" in f"{path}/":
            raise PathOverrideError(
                f"paths.{operation}: {path!r} must be an absolute path such as {endpoint.path!r}"
                " (no scheme, host, query, '//' or '..')"
            )
        try:
            given = placeholders(path)
        except ValueError as exc:
            raise PathOverrideError(f"paths.{operation}: {path!r} has a broken placeholder ({exc})") from None
        wanted = placeholders(endpoint.path)
        if given != wanted:
            raise PathOverrideError(
                f"paths.{operation}: {path!r} must use exactly the placeholders of {endpoint.path!r}: "
                + (", ".join(f"{{{name}}}" for name in sorted(wanted)) or "none")
            )


def with_overrides(endpoints: Mapping[str, Endpoint], overrides: Mapping[str, str]) -> dict[str, Endpoint]:
    """The endpoint table with each overridden operation's path replaced (tagged ``config``)."""
    check_overrides(endpoints, overrides)
    table = dict(endpoints)
    for operation, path in overrides.items():
        original = endpoints[operation]
        table[operation] = replace(original, path=path, source="config", note=f"overrides {original.path}")
    return table
