"""The API reference (``make docs``) builds from the docstrings, offline, with warnings as errors."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "docs"))
from api_modules import MODULES  # noqa: E402 - the list make docs builds


def test_the_api_reference_builds_without_a_warning(tmp_path):
    done = subprocess.run([sys.executable, "-W", "error", "-m", "pdoc", *MODULES, "-o", str(tmp_path)],
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0 and done.stderr == "", done.stderr
    actions = (tmp_path / "evclient" / "actions.html").read_text()
    assert "ClimateStart" in actions and "Heat or cool the cabin" in actions  # from the docstrings
    assert (tmp_path / "evclient" / "brand.html").exists() and (tmp_path / "index.html").exists()
    # Every public module of the list has its page: none left out by a typo in the list.
    for module in MODULES[1:]:
        assert (tmp_path / (module.replace(".", "/") + ".html")).exists(), module
