"""axe-core (from npm, node_modules/) run inside a real page: the one accessibility check every browser test uses."""

from __future__ import annotations

import pytest

from kompas_helpers.paths import PROJECT_DIR

AXE_JS = PROJECT_DIR / "node_modules" / "axe-core" / "axe.min.js"
# The impacts that fail a page; minor and moderate findings are reported by axe but not enforced.
FAILING_IMPACTS = ("serious", "critical")

RUN_AXE = """async () => {
  const result = await axe.run(document, {resultTypes: ["violations"]});
  return result.violations.map(v => ({
    id: v.id, impact: v.impact, help: v.help,
    targets: v.nodes.map(n => n.target.join(" ")),
  }));
}"""


def violations(page) -> list[dict]:
    """Every axe violation on the page as it is now: rule id, impact, help and the target selectors of its nodes."""
    if not AXE_JS.is_file():
        pytest.fail(f"axe-core mangler ({AXE_JS.relative_to(PROJECT_DIR)}): kør `make setup` (npm ci).")
    page.add_script_tag(path=str(AXE_JS))
    return page.evaluate(RUN_AXE)


def describe(found: list[dict]) -> str:
    """One readable block per violation: rule, impact, help and up to ten target selectors."""
    lines = []
    for v in found:
        lines.append(f"{v['id']} ({v['impact']}, {len(v['targets'])} elementer): {v['help']}")
        lines.extend(f"    {target}" for target in v["targets"][:10])
        if len(v["targets"]) > 10:
            lines.append(f"    … og {len(v['targets']) - 10} flere")
    return "\n".join(lines)


def assert_accessible(page, where: str) -> None:
    """Fail with the list of serious and critical axe violations on the page (`where` names it in the message)."""
    failing = [v for v in violations(page) if v["impact"] in FAILING_IMPACTS]
    if failing:
        pytest.fail(f"axe-core finds serious or critical violations on {where}:\n{describe(failing)}", pytrace=False)
