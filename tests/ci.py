"""Whether the suite runs under CI, where a missing tool is a failure, not a skip.

Why: a test that skips for a missing browser or Compose passes a regression
silently; on a developer's machine a skip that says what to install is kinder,
but CI (`CI` set to anything but "" / "0" / "false", as `.ci/run` and the usual
CI services set it) must install what the tests need or fail.
"""

from __future__ import annotations

import os

IN_CI = os.environ.get("CI", "").strip().lower() not in ("", "0", "false")
