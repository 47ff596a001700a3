"""The house's order: no circle of imports between imprint's modules, and the folders import
only the stages below them (the order in README.md, "How the code is laid out").

Every module under imprint/ is read with `ast`, every import counted, those inside
functions too: an import that runs late is still a dependency."""

from __future__ import annotations

import ast
from pathlib import Path

from conftest import ROOT

PACKAGE = ROOT / "imprint"

# The stages, lowest first. A module may import its own stage and the stages below it.
STAGES = [
    ("base", ["imprint", "imprint.errors", "imprint.house", "imprint.codes"]),
    ("values", ["imprint.specs", "imprint.cache", "imprint.processes"]),
    ("manuscript", ["imprint.manuscript"]),
    ("checks", ["imprint.checks"]),              # the manuscript's checks (N1xx, S1xx, R00x)
    ("html", ["imprint.html"]),
    ("typeset", ["imprint.typeset"]),
    ("page checks", ["imprint.checks.pages",     # the layout's checks (L2xx), on typeset pages,
                     "imprint.checks.note_outputs"]),   # and the notes in the editions (N2xx)
    ("jobs", ["imprint.jobs"]),
    ("editions", ["imprint.editions"]),
    ("pipeline", ["imprint.pipeline"]),
    ("front", ["imprint.__main__", "imprint.cli", "imprint.watch", "imprint.proof"]),
]
ALLOWED_BACK_UP = 3


def module_name(path: Path, root: Path = PACKAGE) -> str:
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules(root: Path = PACKAGE) -> dict[str, Path]:
    return {module_name(p, root): p for p in sorted(root.rglob("*.py"))}


def imports(name: str, path: Path, known: set[str]) -> list[tuple[str, int]]:
    """The imprint modules `name` imports, with the line of each import."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                origin = ".".join(base + ([node.module] if node.module else []))
            else:
                origin = node.module or ""
            # `from imprint.x import y`: y is a module of its own, or a name in imprint.x.
            targets = [f"{origin}.{a.name}" if f"{origin}.{a.name}" in known else origin for a in node.names]
        else:
            continue
        for target in targets:
            while target and target not in known and "." in target:
                target = target.rpartition(".")[0]    # `import imprint.x.y as z` names a module
            if target in known and target != name:
                found.append((target, node.lineno))
    return found


def graph(root: Path = PACKAGE) -> dict[str, dict[str, int]]:
    mods = modules(root)
    return {name: dict(imports(name, path, set(mods))) for name, path in mods.items()}


def find_circle(edges: dict[str, dict[str, int]]) -> list[str] | None:
    """One circle of imports as [a, b, ..., a], or None (depth-first search, colours)."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(edges.get(node, ())):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state and (circle := visit(nxt)):
                return circle
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(edges):
        if node not in state and (circle := visit(node)):
            return circle
    return None


def stage(name: str) -> int:
    """The stage of a module: the longest prefix named in STAGES decides."""
    best, rank = -1, None
    for i, (_, prefixes) in enumerate(STAGES):
        for prefix in prefixes:
            if (name == prefix or name.startswith(prefix + ".")) and len(prefix) > best:
                best, rank = len(prefix), i
    assert rank is not None, f"{name} belongs to no stage: add it to STAGES in tests/test_house.py"
    return rank


def back_up(edges: dict[str, dict[str, int]], root: Path = PACKAGE) -> list[str]:
    """Every import of a module from a higher stage, as 'file:line: a (stage) imports b (stage)'."""
    mods = modules(root)
    out = []
    for name, targets in sorted(edges.items()):
        for target, line in sorted(targets.items()):
            if stage(target) > stage(name):
                out.append(f"{mods[name].relative_to(root.parent)}:{line}: {name} ({STAGES[stage(name)][0]}) "
                           f"imports {target} ({STAGES[stage(target)][0]})")
    return out


def test_the_graph_sees_imports_inside_functions():
    edges = graph()
    assert "imprint.editions.validate" in edges["imprint.pipeline"]      # imported inside a function
    assert "imprint.specs.editions" in edges["imprint.editions.preflight"]


def test_no_circle_of_imports():
    circle = find_circle(graph())
    assert circle is None, "circle of imports: " + " -> ".join(circle)


def test_folders_import_only_the_stages_below_them():
    wrong = back_up(graph())
    print("\n".join(wrong) or "no import runs back up the stages")
    assert len(wrong) <= ALLOWED_BACK_UP, "imports back up the stages:\n" + "\n".join(wrong)


def test_every_module_has_a_stage():
    for name in modules():
        stage(name)


def test_a_planted_circle_is_found(tmp_path):
    pkg = tmp_path / "imprint"
    (pkg / "jobs").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "errors.py").write_text("def f():\n    from imprint.jobs import job\n")
    (pkg / "jobs" / "__init__.py").write_text("")
    (pkg / "jobs" / "job.py").write_text("from imprint.errors import f\n")
    edges = graph(pkg)
    assert find_circle(edges) == ["imprint.errors", "imprint.jobs.job", "imprint.errors"]
    assert back_up(edges, pkg) == ["imprint/errors.py:2: imprint.errors (base) imports imprint.jobs.job (jobs)"]
