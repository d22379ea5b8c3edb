"""What a server process imports before it can answer: on a busy machine every second of import is
a second longer before a worker answers its supervisor."""

from __future__ import annotations

import subprocess
import sys


def test_the_app_does_not_import_what_only_jobs_need() -> None:
    # jsonschema builds its format checkers' grammars at import (seconds of CPU); only the code
    # scanning job validates against the SARIF schema.
    probe = "import sys, waybill.app; print(sorted(m for m in ('jsonschema',) if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
