"""gunicorn settings: ``gunicorn -c gunicorn.conf.py wsgi:app`` (the same as ``distretto serve``)."""

from distretto.gunicorn_conf import *  # noqa: F403
