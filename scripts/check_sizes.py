"""The size limits the architecture keeps (ARCHITECTURE.md): no Python module over 400 lines, no Python function
over 60, no Solidity contract, base or library over 500 (interfaces, the documented spec, are not counted).
The module and function limits hold for product and devkit code (src/); tests and scripts are read but not held
to them. Prints one line per offence and exits 1."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MAX_MODULE, MAX_FUNCTION, MAX_CONTRACT = 400, 60, 500
PYTHON = ("src", "tests", "scripts")
# generated ABIs; alembic revisions (frozen history: a migration is never edited once released)
EXEMPT = ("src/wellhead/chain/artifacts", "src/wellhead/gateway/db/migrations/versions")
CONTRACTS = ("contracts/*.sol", "contracts/*/*.sol")  # interfaces are the spec: NatSpec, not logic


def python_files() -> list[Path]:
    files = [p for d in PYTHON for p in sorted((ROOT / d).rglob("*.py"))]
    return [p for p in files if not any(str(p.relative_to(ROOT)).startswith(e) for e in EXEMPT)]


def offences() -> list[str]:
    out: list[str] = []
    for path in python_files():
        rel = path.relative_to(ROOT)
        text = path.read_text()
        lines = text.count("\n")
        if str(rel).startswith("src/") and lines > MAX_MODULE:
            out.append(f"{rel}: {lines} lines (module limit {MAX_MODULE})")
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and str(rel).startswith("src/"):
                length = (node.end_lineno or node.lineno) - node.lineno + 1
                if length > MAX_FUNCTION:
                    out.append(f"{rel}:{node.lineno}: {node.name} is {length} lines (function limit {MAX_FUNCTION})")
    solidity = (p for pattern in CONTRACTS for p in ROOT.glob(pattern) if p.parent.name not in ("interfaces", "test"))
    for path in sorted(solidity):
        lines = path.read_text().count("\n")
        if lines > MAX_CONTRACT:
            out.append(f"{path.relative_to(ROOT)}: {lines} lines (contract limit {MAX_CONTRACT})")
    return out


def main() -> int:
    found = offences()
    for line in found:
        print(line)
    if found:
        return 1
    print(f"sizes: {len(python_files())} Python files within {MAX_MODULE} lines a module, {MAX_FUNCTION} a function")
    return 0


if __name__ == "__main__":
    sys.exit(main())
