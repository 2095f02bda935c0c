"""How judging plugs into contest: the app factory registers judging's hooks, importing a judging
module registers nothing, every judging domain module imports on its own (no import circle), and
contest's domain never imports judging."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]
DOMAIN_MODULES = sorted(p.stem for p in (ROOT / "judging" / "domain").glob("*.py") if p.stem != "__init__")


def _python(code: str) -> str:
    """Run ``code`` in a fresh interpreter (nothing imported yet) and return what it printed."""
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


@pytest.mark.parametrize("module", DOMAIN_MODULES)
def test_each_judging_domain_module_imports_on_its_own(module: str) -> None:
    assert _python(f"import judging.domain.{module}; print('ok')") == "ok"


def test_importing_judging_registers_nothing_and_register_is_idempotent() -> None:
    out = _python(
        "from contest.domain import entries\n"
        "from judging.domain import assignments, final, rounds, scoring, shortlist\n"
        "print(len(entries.EXTRA_VIEWERS), len(entries.LINK_PROVIDERS))\n"
        "from judging import hooks\n"
        "hooks.register(); hooks.register()\n"
        "print(entries.EXTRA_VIEWERS == [assignments.is_assigned_reviewer],"
        " entries.LINK_PROVIDERS == [final.presentation_links])\n")
    assert out.splitlines() == ["0 0", "True True"]


def test_the_app_factory_registers_judging_once() -> None:
    out = _python(
        "from contest.app import create_app\n"
        "from contest.domain import entries\n"
        "create_app(); create_app()\n"
        "print([f.__module__ + '.' + f.__name__ for f in entries.EXTRA_VIEWERS + entries.LINK_PROVIDERS])\n")
    assert out == ("['judging.domain.assignments.is_assigned_reviewer', "
                   "'judging.domain.final.presentation_links']")


def test_no_judging_domain_module_imports_another_inside_a_function() -> None:
    inner = []
    for module in DOMAIN_MODULES:
        tree = ast.parse((ROOT / "judging" / "domain" / f"{module}.py").read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                inner += [f"{module}: {sub.module}" for sub in ast.walk(node)
                          if isinstance(sub, ast.ImportFrom) and (sub.module or "").startswith("judging")]
    assert inner == []


def test_contest_domain_never_imports_judging() -> None:
    found = []
    for path in sorted((ROOT / "contest" / "domain").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [node.module or ""] if isinstance(node, ast.ImportFrom) else (
                [a.name for a in node.names] if isinstance(node, ast.Import) else [])
            found += [f"{path.name}: {n}" for n in names if n == "judging" or n.startswith("judging.")]
    assert found == []
