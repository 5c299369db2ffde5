"""gunicorn settings used by ``distretto serve``; ``DISTRETTO_*`` variables adjust them.

The app writes its own access line per request (with request id and firm, see
``distretto.platform.logging``), so gunicorn's access log is off unless
``DISTRETTO_GUNICORN_ACCESS_LOG`` names a file (or ``-`` for stderr).

gunicorn >= 25 opens a control socket at one fixed path per user, which two
installations (or a blue/green pair) on one host would fight over; it is off
unless ``DISTRETTO_GUNICORN_CONTROL_SOCKET`` names a path for this one.
"""

import multiprocessing
import os

bind = os.environ.get("DISTRETTO_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("DISTRETTO_WORKERS", str(min(4, multiprocessing.cpu_count() * 2))))
threads = int(os.environ.get("DISTRETTO_THREADS", "2"))
worker_class = "gthread"
timeout = 60
graceful_timeout = 30
keepalive = 5
max_requests = 2000
max_requests_jitter = 200
accesslog = os.environ.get("DISTRETTO_GUNICORN_ACCESS_LOG") or None
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(M)sms req=%({x-request-id}o)s'
errorlog = "-"
forwarded_allow_ips = os.environ.get("DISTRETTO_FORWARDED_ALLOW_IPS", "127.0.0.1")

_control_socket = os.environ.get("DISTRETTO_GUNICORN_CONTROL_SOCKET")
if _control_socket:
    control_socket = _control_socket
else:
    control_socket_disable = True
