"""What gunicorn serves from a checkout: ``gunicorn -c gunicorn.conf.py wsgi:app``."""

from distretto.wsgi import app

__all__ = ["app"]
