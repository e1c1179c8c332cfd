"""Settings for the test suite: production settings on PostgreSQL, with test-only secrets.

`make test` runs the suite a second time with a DATABASE_URL of SQLite (`make run`'s database).

Each variable may still be overridden from the environment. On PostgreSQL each run's test
database has a name of its own, so two suites can share one server side by side.
"""

import os
import uuid
from pathlib import Path

os.environ.setdefault("SECRET_KEY", "tests-only-not-a-secret")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/practice")
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/15")
os.environ.setdefault("SMS_BACKEND", "locmem")
os.environ.setdefault("ALLOWED_HOSTS", "testserver,127.0.0.1,localhost")

from practice.settings import *  # noqa: F403
from practice.settings import DATABASES

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # fast, tests only

# The test client and live server speak plain http, with no TLS proxy in front: production's
# redirect to https would answer every request with a 301. (Secure cookies stay on, as deployed.)
SECURE_SSL_REDIRECT = False

# Tests render pages without running collectstatic first.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# Serve static files from the apps' folders, as in development; there is no collected folder.
WHITENOISE_AUTOREFRESH = True
WHITENOISE_USE_FINDERS = True

_database = DATABASES["default"]
if _database["ENGINE"] == "django.db.backends.sqlite3" and _database["NAME"] != ":memory:":
    # A test database file beside DATABASE_URL's, not pytest-django's in-memory default: the race
    # tests' threads and the integration tests' workers open connections of their own, and WAL,
    # the busy timeout and IMMEDIATE transactions behave as under `make run` only on a file.
    _name = Path(_database["NAME"])
    _database["TEST"] = {"NAME": str(_name.with_name(f"test_{_name.name}"))}
elif _database["ENGINE"] != "django.db.backends.sqlite3":
    # A name of this run's own, so two suites on one PostgreSQL server (two worktrees, two CI jobs)
    # never create, use or drop each other's database. The process id says whose it is; the random
    # part keeps apart processes of two containers that share a process id. pytest-django drops it
    # at the end of the run (and pytest-xdist adds a worker suffix of its own).
    _database["TEST"] = {"NAME": f"test_{_database['NAME']}_{os.getpid()}_{uuid.uuid4().hex[:6]}"}
