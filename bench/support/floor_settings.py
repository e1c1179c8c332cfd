"""bench/http.py's gunicorn settings: the product's, plus one no-op DRF view (the floor)."""

from practice.settings import *  # noqa: F403

ROOT_URLCONF = "bench.support.floor_urls"
