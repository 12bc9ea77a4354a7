"""The store contract shared by the Redis and the embedded implementation."""

from __future__ import annotations

from abc import ABC, abstractmethod


class Store(ABC):
    """Small async key-value store with expiry, atomic set-if-absent and counters.

    Keys are plain strings; callers namespace them (``dedupe:...``, ``presence:...``).
    Values are strings (callers serialise JSON themselves).
    """

    #: False for the embedded store: state is lost on restart.
    durable: bool
    #: Human-readable description for logs and ``phonebot check`` (never includes passwords).
    description: str

    @abstractmethod
    async def get(self, key: str) -> str | None:
        """The value at ``key``, or ``None``."""

    @abstractmethod
    async def set(self, key: str, value: str, *, ttl: float | None = None) -> None:
        """Store ``value`` at ``key``, expiring after ``ttl`` seconds if given."""

    @abstractmethod
    async def set_if_absent(self, key: str, value: str, *, ttl: float | None = None) -> bool:
        """Atomically store ``value`` only if ``key`` is absent; True when stored."""

    @abstractmethod
    async def take(self, key: str) -> str | None:
        """Atomically read and remove ``key`` (at most one caller ever gets its value)."""

    @abstractmethod
    async def delete(self, *keys: str) -> int:
        """Remove keys; returns how many existed."""

    @abstractmethod
    async def delete_prefix(self, prefix: str) -> int:
        """Remove every key starting with ``prefix`` (a full scan: for rare events such as an uninstall)."""

    @abstractmethod
    async def keys_with_prefix(self, prefix: str, *, limit: int = 1000) -> list[str]:
        """Up to ``limit`` keys starting with ``prefix``, in no order (a full scan: keep it rare or cached)."""

    @abstractmethod
    async def incr(self, key: str, *, amount: int = 1, ttl: float | None = None) -> int:
        """Atomically add ``amount``; sets ``ttl`` when the key is created."""

    @abstractmethod
    async def ttl(self, key: str) -> float | None:
        """Seconds until ``key`` expires; ``None`` when absent or without expiry."""

    @abstractmethod
    async def ping(self) -> bool:
        """True when the store answers."""

    @abstractmethod
    async def close(self) -> None:
        """Release connections."""
