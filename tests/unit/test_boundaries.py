"""Services meet only on the bus and in the `shared/` contracts: no service imports another (the
gateway included), `shared/` imports no service, and nobody's SQL names another service's schema.

The check reads every module's syntax tree: imports at any depth (inside functions too) count.
`services/cli.py` and `services/__main__.py` are the system's composition root (`louzu up`,
`louzu demo`): they start every service and are the one place allowed to know them all."""
from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SERVICES = ("registry", "lockdown", "delivery", "roster", "gateway")
COMPOSITION_ROOT = {"services/cli.py", "services/__main__.py"}
SCHEMA = re.compile(r"\bproj_(registry|lockdown|delivery|roster|gateway)\b")

# Known crossings that are being removed; the list may only shrink (a new crossing fails the test,
# and so does an entry that no longer crosses, so the list stays true).
KNOWN: set[tuple[str, str]] = set()


def owner(path: Path) -> str | None:
    parts = path.relative_to(ROOT).parts
    if parts[0] == "shared":
        return "shared"
    if parts[0] == "services" and len(parts) > 2 and parts[1] in SERVICES:
        return parts[1]
    return None


def imported_modules(tree: ast.AST) -> set[str]:
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def crossings() -> set[tuple[str, str]]:
    """(module path, what it reaches) for every import of another service and every SQL string
    that names another service's schema."""
    out = set()
    for path in sorted([*ROOT.glob("services/**/*.py"), *ROOT.glob("shared/**/*.py")]):
        rel = str(path.relative_to(ROOT))
        me = owner(path)
        if me is None or rel in COMPOSITION_ROOT:
            continue
        tree = ast.parse(path.read_text(), rel)
        for module in imported_modules(tree):
            parts = module.split(".")
            if parts[0] == "services" and len(parts) > 1 and parts[1] in SERVICES and parts[1] != me:
                out.add((rel, f"services.{parts[1]}"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                for schema in SCHEMA.findall(node.value):
                    if schema != me:
                        out.add((rel, f"proj_{schema}"))
    return out


def test_no_service_imports_another_or_reads_its_tables():
    found = crossings()
    new = sorted(found - KNOWN)
    assert not new, "services must meet only on the bus and in shared/ contracts:\n" + "\n".join(
        f"  {path} reaches {what}" for path, what in new)


def test_the_list_of_known_crossings_holds_only_crossings_that_still_exist():
    gone = sorted(KNOWN - crossings())
    assert not gone, "remove these from KNOWN in tests/unit/test_boundaries.py:\n" + "\n".join(
        f"  {path} → {what}" for path, what in gone)


def test_the_check_sees_an_import_hidden_in_a_function(tmp_path):
    tree = ast.parse("def f():\n    from services.roster.projections import queries\n")
    assert "services.roster.projections" in imported_modules(tree)
