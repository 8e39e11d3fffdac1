"""A brand copied as one folder (see the library's tests/test_brand_folder.py) is offered by the config flow with
the fields it declares, without an edit to the integration."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

EXAMPLE = Path(__file__).resolve().parent.parent
ROOT = EXAMPLE.parent.parent

SCRIPT = """
import json
from custom_components.evclient.brands import brand_names, brand_spec
spec = brand_spec("acme-ze")
schema = spec.credentials_schema({})
print(json.dumps({"brands": brand_names(), "label": spec.label, "fields": [str(k) for k in schema.schema],
                  "asked": [str(k) for k in spec.asked_schema().schema]}))
"""


def test_a_copied_brand_is_offered_with_its_declared_fields(tmp_path) -> None:
    loader = importlib.util.spec_from_file_location("library_brand_folder", ROOT / "tests" / "test_brand_folder.py")
    assert loader is not None and loader.loader is not None
    module = importlib.util.module_from_spec(loader)
    loader.loader.exec_module(module)
    copy = module.copy_brand(tmp_path)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(copy), str(EXAMPLE)])}
    done = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True,  # noqa: S603
                          timeout=120, env=env, cwd=tmp_path, check=False)
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout.strip().splitlines()[-1])
    assert "acme-ze" in found["brands"]
    assert found["label"] == "Acme ZE (legacy)"  # its own title, marked legacy as its declaration says
    assert found["fields"] == ["username", "password"]
    assert found["asked"] == ["password"]  # asked again at re-authentication, never stored
