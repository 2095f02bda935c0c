"""axe-core in a Playwright page: the vendored release (tests/e2e/vendor/axe-core, never a CDN)
is evaluated in the page, every rule axe runs by default is checked (best practices such as
``landmark-unique`` and ``region`` included), and any violation of any impact fails.

The script is evaluated through the browser's debugging protocol, so the page's Content
Security Policy (``script-src 'self'``) stays as visitors get it."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

AXE = Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js"


@cache
def axe_source() -> str:
    return AXE.read_text("utf-8")


def violations(page: Any) -> list[dict[str, Any]]:
    """What axe finds wrong with the page as it now stands: each violation with its rule, impact,
    help text and the elements (their CSS selectors and the reason for each)."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(axe_source())
    return page.evaluate("""async () => {
        const result = await window.axe.run(document, {resultTypes: ["violations"]});
        return result.violations.map(v => ({
            id: v.id, impact: v.impact, help: v.help,
            nodes: v.nodes.map(n => ({target: n.target.join(" "), summary: n.failureSummary}))}));
    }""")


def describe(found: list[dict[str, Any]]) -> str:
    lines = []
    for v in found:
        lines.append(f"  [{v['impact']}] {v['id']}: {v['help']}")
        for node in v["nodes"][:5]:
            summary = " ".join((node["summary"] or "").split())
            lines.append(f"      {node['target']} — {summary[:300]}")
        if len(v["nodes"]) > 5:
            lines.append(f"      … and {len(v['nodes']) - 5} more")
    return "\n".join(lines)


def assert_accessible(page: Any, label: str = "") -> None:
    """Fail, naming every rule and element, when axe finds any violation on the page."""
    found = violations(page)
    assert not found, f"axe found {len(found)} violations on {label or page.url}:\n{describe(found)}"
