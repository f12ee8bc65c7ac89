"""The test run's settings: the site's own, with DEBUG on for the settings import (as
`make run`), which also reaches the servers and workers the tests start. pytest-django
still runs each test with DEBUG off, as production does."""

import os

os.environ.setdefault("DEBUG", "1")

from microlab_site.settings import *  # noqa: E402, F403
