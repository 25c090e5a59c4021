"""Runs a Python snippet as if only some of wellhead's extras were installed: a meta-path finder refuses the
top-level modules of every other extra's distributions (as a fresh `pip install 'wellhead[<extra>]'` would lack
them). Usage: python only_extra.py <blocked,modules> <import,these> [wellhead CLI args...]."""

from __future__ import annotations

import importlib
import importlib.abc
import sys
from importlib.machinery import ModuleSpec
from types import ModuleType


class Refuse(importlib.abc.MetaPathFinder):
    def __init__(self, blocked: set[str]) -> None:
        self.blocked = blocked

    def find_spec(self, fullname: str, path: object = None, target: ModuleType | None = None) -> ModuleSpec | None:
        if fullname.split(".")[0] in self.blocked:
            raise ModuleNotFoundError(f"No module named {fullname!r} (not in this extra)", name=fullname)
        return None


def main() -> int:
    blocked, imports, *argv = sys.argv[1:]
    sys.meta_path.insert(0, Refuse(set(filter(None, blocked.split(",")))))
    for module in filter(None, imports.split(",")):
        importlib.import_module(module)
    if not argv:
        return 0
    from wellhead.cli import main as cli

    try:
        return cli(argv)
    except SystemExit as exc:  # argparse's --help
        return int(exc.code or 0)


if __name__ == "__main__":
    sys.exit(main())
