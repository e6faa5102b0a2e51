"""Browser benchmarks: timed in Chromium against a server started as the README does.

They are not part of the test suite (their numbers depend on what else the machine runs); run them with
``python -m pytest bench/browser -s`` and read the printed figures (docs/benchmarks.md quotes them).
They reuse the browser tests' fixtures: the server, Chromium and the page.
"""

from tests.browser.conftest import browser, lab_url, lab_workspace, page  # noqa: F401  (pytest fixtures)
from tests.conftest import _app_runs_through_entrypoint, _fresh_workspace, _isolated_workspace  # noqa: F401
