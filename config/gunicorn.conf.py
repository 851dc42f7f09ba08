"""gunicorn settings for Fenxiao (``gunicorn config.wsgi -c config/gunicorn.conf.py``).

Tuned for small machines where the web processes share the cores with PostgreSQL, Redis and the
Celery worker (bench/through_http.py measures them; bench/README.md has the figures). Every value
can be overridden from the environment (``WEB_CONCURRENCY``, ``GUNICORN_THREADS``…) or the command
line.
"""

import multiprocessing
import os

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
# Django is CPU-bound between its database round trips: one process per core, plus one so a core
# is never idle while a process waits for PostgreSQL.
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() + 1))
# Threads let a process keep HTTP connections alive and overlap one request's database wait with
# another's Python; more than a few only queue on the GIL.
worker_class = os.environ.get("GUNICORN_WORKER_CLASS", "gthread")
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
keepalive = int(os.environ.get("GUNICORN_KEEPALIVE", "5"))
# Recycle processes now and then (a slow leak never grows without bound); jitter keeps them from
# restarting together.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "20000"))
max_requests_jitter = int(os.environ.get("GUNICORN_MAX_REQUESTS_JITTER", "2000"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = 20
# Load the application once in the master: workers fork with Django already imported.
preload_app = True
accesslog = os.environ.get("GUNICORN_ACCESS_LOG") or None
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "warning")
