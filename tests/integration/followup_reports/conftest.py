"""The browser test here uses the real server and Chromium of the end-to-end suite."""

from tests.e2e.conftest import browser, live_server  # noqa: F401
