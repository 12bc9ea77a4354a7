"""Dependency hygiene: advisory floors in ``pyproject.toml``, and ``constraints.txt`` pinning every install.

The floors are the versions that fixed a published advisory phonebot is exposed to (an HTTP server
parser, a client that decompresses bodies, the build backend). A floor lowered by accident, a
constraint outside pyproject's bounds, or a build that stops using the constraints fails here.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

REPO = Path(__file__).resolve().parents[2]
PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text())

#: package -> (the first fixed version, the advisory it answers)
ADVISORY_FLOORS = {
    "aiohttp": ("3.14.1", "CVE-2026-54278"),
    "starlette": ("0.49.1", "CVE-2025-62727"),
    "h11": ("0.16.0", "CVE-2025-43859"),
    "setuptools": ("78.1.1", "CVE-2025-47273"),
    "cryptography": ("44.0.1", "CVE-2024-12797"),
}


def _requirements() -> dict[str, Requirement]:
    raw = [*PYPROJECT["project"]["dependencies"], *PYPROJECT["build-system"]["requires"]]
    for extra in PYPROJECT["project"]["optional-dependencies"].values():
        raw.extend(extra)
    parsed = (Requirement(line) for line in raw)
    return {canonicalize_name(req.name): req for req in parsed}


def _pins() -> dict[str, Version]:
    pins: dict[str, Version] = {}
    for line in (REPO / "constraints.txt").read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        name, _, version = line.partition("==")
        assert version, f"constraints.txt: {line!r} is not an exact pin"
        pins[canonicalize_name(name)] = Version(version)
    return pins


@pytest.mark.parametrize("package", sorted(ADVISORY_FLOORS))
def test_lower_bounds_exclude_versions_with_known_advisories(package: str) -> None:
    fixed, advisory = ADVISORY_FLOORS[package]
    requirement = _requirements()[package]
    last_vulnerable = Version(fixed).release
    below = ".".join(map(str, (*last_vulnerable[:-1], last_vulnerable[-1] - 1))) if last_vulnerable[-1] else None
    assert requirement.specifier.contains(fixed), f"{package} {fixed} must be allowed"
    if below is not None:
        assert not requirement.specifier.contains(below), f"{package} {below} has {advisory}: raise the bound"
    pinned = _pins().get(canonicalize_name(package))
    if pinned is not None:
        assert pinned >= Version(fixed), f"constraints.txt pins {package} {pinned}, below the fix for {advisory}"


def test_every_direct_dependency_is_pinned_inside_its_bounds() -> None:
    pins = _pins()
    for name, requirement in _requirements().items():
        if name in {"setuptools", "wheel"}:
            continue  # build backend: pip's build isolation installs it, not the constraints
        assert name in pins, f"constraints.txt does not pin {name}"
        assert requirement.specifier.contains(pins[name], prereleases=True), (
            f"constraints.txt pins {name}=={pins[name]}, outside pyproject's {requirement.specifier}"
        )


def test_ci_and_the_docker_image_install_with_the_constraints() -> None:
    ci = (REPO / ".ci" / "run").read_text()
    assert re.search(r"pip install .*-c constraints\.txt .*-e '\.\[dev\]'", ci)
    dockerfile = (REPO / "Dockerfile").read_text()
    assert re.search(r"pip wheel --constraint constraints\.txt", dockerfile)
    assert "constraints.txt" not in (REPO / ".dockerignore").read_text()
