"""Prints the largest modules (lines) and functions (lines) of the package: the layout rule is
modules <= ~400 lines and functions <= ~80 lines.

    python scripts/code_size.py [--top N]
"""

from __future__ import annotations

import argparse
import ast
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--top", type=int, default=5)
    args = parser.parse_args()
    root = Path(__file__).resolve().parent.parent / "tsforecast"
    modules, functions = [], []
    for path in sorted(root.rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        name = str(path.relative_to(root.parent))
        modules.append((len(text.splitlines()), name))
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                length = (node.end_lineno or node.lineno) - node.lineno + 1
                functions.append((length, f"{name}:{node.lineno} {node.name}"))
    print("largest modules (lines):")
    for n, where in sorted(modules, reverse=True)[: args.top]:
        print(f"  {n:5d}  {where}")
    print("largest functions (lines):")
    for n, where in sorted(functions, reverse=True)[: args.top]:
        print(f"  {n:5d}  {where}")


if __name__ == "__main__":
    main()
