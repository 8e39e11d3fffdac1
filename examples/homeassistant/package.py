"""Lays the integration out as HACS expects a repository: ``custom_components/evclient/``, ``hacs.json`` and
``README.md`` at the root. ``make ha-package`` calls it; usage: ``python package.py OUT``."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def package(out: Path) -> Path:
    """Write the layout to ``out`` (emptied first) and return it."""
    if out.exists():
        shutil.rmtree(out)
    target = out / "custom_components" / "evclient"
    shutil.copytree(HERE / "custom_components" / "evclient", target,
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    shutil.copy2(HERE / "hacs.json", out / "hacs.json")
    shutil.copy2(HERE / "README.md", out / "README.md")
    return out


if __name__ == "__main__":
    print(package(Path(sys.argv[1]) if len(sys.argv) > 1 else HERE.parents[1] / "dist" / "hacs"))
