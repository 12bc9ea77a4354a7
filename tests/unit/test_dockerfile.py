"""Static checks of the ``Dockerfile`` (no Docker engine runs in CI).

A tiny parser: joins ``\\`` continuations, drops comments and parser directives, splits each
instruction into ``(KEYWORD, arguments)`` and groups them by build stage.
"""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
DOCKERFILE = REPO / "Dockerfile"
DOCKERIGNORE = REPO / ".dockerignore"

Instruction = tuple[str, str]


def parse(text: str) -> list[Instruction]:
    """Dockerfile text -> ``[(KEYWORD, arguments), ...]`` in order."""
    instructions: list[Instruction] = []
    pending = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if pending and line.startswith("#"):
            continue  # comment lines inside a continuation are ignored by Docker
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        full = (pending + line).strip()
        pending = ""
        keyword, _, rest = full.partition(" ")
        instructions.append((keyword.upper(), rest.strip()))
    assert not pending, "Dockerfile ends inside a line continuation"
    return instructions


def stages(instructions: list[Instruction]) -> list[list[Instruction]]:
    """Instructions grouped per ``FROM``; each group starts with its ``FROM``."""
    grouped: list[list[Instruction]] = []
    for instruction in instructions:
        if instruction[0] == "FROM":
            grouped.append([])
        assert grouped, f"{instruction[0]} before the first FROM"
        grouped[-1].append(instruction)
    return grouped


@pytest.fixture(scope="module")
def instructions() -> list[Instruction]:
    return parse(DOCKERFILE.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def final_stage(instructions: list[Instruction]) -> list[Instruction]:
    return stages(instructions)[-1]


def args_of(stage: list[Instruction], keyword: str) -> list[str]:
    return [rest for kw, rest in stage if kw == keyword]


def test_parser_handles_continuations_and_comments() -> None:
    parsed = parse("# c\nFROM a AS b\nRUN x \\\n  # inner\n  && y\n")
    assert parsed == [("FROM", "a AS b"), ("RUN", "x  && y")]


def test_multi_stage_build_on_python_311_slim(instructions: list[Instruction]) -> None:
    grouped = stages(instructions)
    assert len(grouped) >= 2, "expected a builder stage and a runtime stage"
    for stage in grouped:
        image = stage[0][1].split()[0]
        assert re.fullmatch(r"python:3\.11(\.\d+)?-slim(-\w+)?", image), image
    assert "wheel" in " ".join(args_of(grouped[0], "RUN")), "the builder stage should build a wheel"


def test_runtime_stage_installs_wheels_not_the_source_tree(final_stage: list[Instruction]) -> None:
    copies = args_of(final_stage, "COPY") + args_of(final_stage, "ADD")
    assert all("--from=" in c for c in copies), f"runtime stage copies from the build context: {copies}"
    installs = [r for r in args_of(final_stage, "RUN") if "pip install" in r]
    assert installs and all("--no-index" in r for r in installs), installs


def test_runs_as_non_root_user_10001(final_stage: list[Instruction]) -> None:
    users = args_of(final_stage, "USER")
    assert users, "no USER in the runtime stage"
    user = users[-1].split(":")[0]
    assert user not in ("root", "0")
    assert user in ("phonebot", "10001"), "expected the phonebot user (uid 10001)"
    created = " ".join(args_of(final_stage, "RUN"))
    assert "useradd" in created and "--uid 10001" in created
    keywords = [kw for kw, _ in final_stage]
    assert keywords.index("USER") > max(i for i, kw in enumerate(keywords) if kw == "RUN"), "RUN after USER"


def test_port_and_healthcheck(final_stage: list[Instruction]) -> None:
    assert "3000" in " ".join(args_of(final_stage, "EXPOSE")).split()
    assert any(re.search(r"\bPORT=3000\b", env) for env in args_of(final_stage, "ENV"))
    (healthcheck,) = args_of(final_stage, "HEALTHCHECK")
    assert " CMD " in f" {healthcheck} "
    assert "http://127.0.0.1:${PORT}/healthz" in healthcheck
    assert "urllib" in healthcheck and "curl" not in healthcheck


def test_cmd_runs_phonebot_serve(final_stage: list[Instruction]) -> None:
    cmds = args_of(final_stage, "CMD")
    assert cmds, "no CMD"
    command = json.loads(cmds[-1])  # exec form, so signals reach phonebot directly
    # No --port: `phonebot serve` reads $PORT, the same variable the HEALTHCHECK probes.
    assert command == ["phonebot", "serve", "--host", "0.0.0.0"]
    assert not args_of(final_stage, "ENTRYPOINT")


def test_dockerignore_keeps_secrets_and_clutter_out() -> None:
    patterns = {
        line.strip()
        for line in DOCKERIGNORE.read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    }
    assert {".git", ".venv", "tests", ".env"} <= patterns
    # what the builder needs must not be ignored
    assert not patterns & {"pyproject.toml", "bot", "handlers", "adapters", "README.md"}


def test_cmd_matches_the_console_script() -> None:
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert "phonebot" in project["scripts"]


def test_dependencies_are_built_before_the_source_is_copied(instructions: list[Instruction]) -> None:
    """A source edit must not rebuild every dependency wheel: pyproject.toml and constraints come first."""
    builder = stages(instructions)[0]
    copies = [(i, rest) for i, (kw, rest) in enumerate(builder) if kw == "COPY"]
    first_index, first = copies[0]
    assert first.split()[:-1] == ["pyproject.toml", "constraints.txt"], first
    source_index = next(i for i, rest in copies if rest.split()[0] == ".")
    between = " ".join(rest for kw, rest in builder[first_index:source_index] if kw == "RUN")
    assert "pip wheel" in between and "--constraint constraints.txt" in between
    after = " ".join(rest for kw, rest in builder[source_index:] if kw == "RUN")
    assert "--no-deps" in after, "the project's own wheel alone, after the source is copied"
