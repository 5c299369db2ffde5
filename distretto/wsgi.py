"""The WSGI application, for gunicorn: ``distretto.wsgi:app``."""

from distretto.platform.app import create_app

app = create_app()
