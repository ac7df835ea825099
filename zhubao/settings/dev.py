"""Local development: the embedded default (SQLite, filesystem broker) unless the
environment names PostgreSQL and Redis."""

from .base import *  # noqa: F403

DEBUG = env_bool("DEBUG", True)  # noqa: F405
