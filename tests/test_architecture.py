"""The shape of the code base: no import cycles among the use cases, imports running one way between the layers."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SERVICES = sorted(p for p in (ROOT / "bot" / "services").glob("*.py") if p.name != "__init__.py")


def module_name(path: Path) -> str:
    return ".".join(path.relative_to(ROOT).with_suffix("").parts)


def imported(path: Path) -> set[str]:
    """Every module ``path`` imports, at the top or hidden inside a function."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


@pytest.mark.parametrize("path", SERVICES, ids=module_name)
def test_each_use_case_module_imports_on_its_own(path: Path):
    """In a fresh interpreter, as the first thing imported: a cycle would show as a partly initialised module."""
    result = subprocess.run([sys.executable, "-c", f"import {module_name(path)}"], cwd=ROOT, capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 0, result.stderr


def test_the_use_cases_import_one_another_without_a_cycle():
    """Also the imports hidden inside functions, which would only break a cycle at import time, not remove it."""
    modules = {module_name(p): p for p in SERVICES}
    graph = {name: {m for m in imported(path) if m in modules and m != name} for name, path in modules.items()}
    cycles = []

    def visit(name: str, trail: list[str]) -> None:
        for nxt in sorted(graph[name]):
            if nxt in trail:
                cycles.append(" → ".join([*trail[trail.index(nxt):], nxt]))
            elif len(trail) < len(graph):
                visit(nxt, [*trail, nxt])

    for start in sorted(graph):
        visit(start, [start])
    assert cycles == []


def test_imports_run_one_way_between_the_layers():
    """The domain knows no Slack, SQL or use case; storage knows the domain's value types only; the Slack room knows
    no use case; no lower layer imports the handlers."""
    rules = {
        "bot/domain": ("bot.", "storage", "handlers", "slack_sdk", "slack_bolt", "sqlalchemy"),
        "storage": ("bot.services", "bot.slack", "handlers", "slack_sdk", "slack_bolt"),
        "bot/slack": ("bot.services", "storage", "handlers"),
        "bot/services": ("handlers",),
    }
    allowed_in_domain = ("bot.domain",)
    broken = []
    for folder, forbidden in rules.items():
        for path in sorted((ROOT / folder).rglob("*.py")):
            for name in imported(path):
                if folder == "bot/domain" and name.startswith(allowed_in_domain):
                    continue
                if name.startswith(forbidden):
                    broken.append(f"{path.relative_to(ROOT)} imports {name}")
    assert broken == []
