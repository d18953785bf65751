"""The pipeline's modules import each other without cycles (imports inside functions count too)."""
from __future__ import annotations

import ast
from pathlib import Path
from typing import Dict, List, Set

MODEL_DIR = Path(__file__).resolve().parent.parent


def _imports(path: Path) -> Set[str]:
    names: Set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            if node.module == "model":
                names.update(f"model.{a.name}" for a in node.names)
            elif node.module.startswith("model."):
                names.add(node.module)
        elif isinstance(node, ast.Import):
            names.update(a.name for a in node.names if a.name.startswith("model."))
    return names


def test_model_modules_have_no_import_cycle() -> None:
    graph: Dict[str, Set[str]] = {f"model.{p.stem}": _imports(p) for p in MODEL_DIR.glob("*.py") if p.stem != "__init__"}
    assert "model.graph" in graph and "model.lrp" in graph
    cycles: List[List[str]] = []

    def visit(node: str, path: List[str]) -> None:
        if node in path:
            cycles.append(path[path.index(node):] + [node])
            return
        for nxt in sorted(graph.get(node, ())):
            visit(nxt, path + [node])

    for start in sorted(graph):
        visit(start, [])
    assert cycles == []
