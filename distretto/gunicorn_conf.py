"""gunicorn settings used by ``distretto serve``; ``DISTRETTO_*`` variables adjust them."""

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
accesslog = "-"
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(M)sms req=%({x-request-id}o)s'
forwarded_allow_ips = os.environ.get("DISTRETTO_FORWARDED_ALLOW_IPS", "127.0.0.1")
