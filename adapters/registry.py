"""Which vendors exist and where their adapters live (imported lazily, Libcloud-style)."""

from __future__ import annotations

import importlib
from typing import Any

import httpx

from adapters.base import AdapterConfig, VendorAdapter
from adapters.path_overrides import check_overrides

#: vendor name -> (module, adapter class). Adding a vendor: one line here plus its package.
ADAPTERS: dict[str, tuple[str, str]] = {
    "dstny": ("adapters.dstny.adapter", "DstnyAdapter"),
    "multisender": ("adapters.multisender.adapter", "MultisenderAdapter"),
    "relatel": ("adapters.relatel.adapter", "RelatelAdapter"),
    "tele2": ("adapters.tele2.adapter", "Tele2Adapter"),
}


def adapter_class(vendor: str) -> type[VendorAdapter]:
    """The adapter class for ``vendor``; ``KeyError`` when unknown."""
    module_name, class_name = ADAPTERS[vendor]
    cls: type[VendorAdapter] = getattr(importlib.import_module(module_name), class_name)
    return cls


def parse_adapter_config(vendor: str, raw: dict[str, Any]) -> AdapterConfig:
    """Validate a vendor's config section with that adapter's own model (path overrides included).

    Raises ``pydantic.ValidationError`` or :class:`~adapters.path_overrides.PathOverrideError`.
    """
    cls = adapter_class(vendor)
    config = cls.config_model.model_validate(raw)
    check_overrides(cls.endpoints, config.paths)
    return config


def build_adapter(
    vendor: str, config: AdapterConfig, *, transport: httpx.AsyncBaseTransport | None = None
) -> VendorAdapter:
    """Instantiate the adapter for ``vendor``."""
    return adapter_class(vendor)(config, transport=transport)
