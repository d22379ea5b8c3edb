"""Running the small Node scripts of ``tests/clients/js`` (their packages installed by ``npm ci``)."""

from __future__ import annotations

import json
import shutil
import subprocess
from typing import Any

from tests.contract.description import JS_DIR


def run_script(script: str, payload: dict[str, Any], *, env: dict[str, str] | None = None) -> Any:
    node = shutil.which("node")
    assert node is not None, "Node.js is needed for the JavaScript clients"
    completed = subprocess.run(
        [node, str(JS_DIR / script)],
        input=json.dumps(payload),
        capture_output=True,
        text=True,
        cwd=JS_DIR,
        env=env,
        timeout=120,
        check=False,
    )
    assert completed.returncode == 0, f"{script} failed:\n{completed.stderr}\n{completed.stdout}"
    return json.loads(completed.stdout)
