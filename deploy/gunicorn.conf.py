"""Gunicorn: Yunyi's HTTP (WSGI) workers behind nginx. WebSocket goes to uvicorn (ASGI).

Used by deploy/systemd/yunyi-http.service:
    gunicorn -c /opt/yunyi/deploy/gunicorn.conf.py yunyi.config.wsgi:application

Sync workers: every view is synchronous Django, and nginx buffers slow clients, so a worker is
never held by a slow network. Measured on a 2-core machine (`make bench`), gunicorn's sync
workers serve these views several times faster than the same views under ASGI.
"""

import multiprocessing
import os

# nginx proxies to this socket; nothing else can reach it.
bind = os.environ.get("GUNICORN_BIND", "unix:/run/yunyi/http.sock")
workers = int(os.environ.get("GUNICORN_WORKERS", multiprocessing.cpu_count() * 2 + 1))
worker_class = "sync"
# A request longer than this is killed; the token endpoint and API answer in milliseconds.
timeout = 30
graceful_timeout = 30
# Recycle workers now and then, so a slow leak cannot grow without bound.
max_requests = 5000
max_requests_jitter = 500
# Load the application once in the master: a misconfigured production (yunyi.E00x) stops here,
# before any worker starts, and workers share the imported code.
preload_app = True
# nginx sets X-Forwarded-For/-Proto; trust them only from the local proxy.
forwarded_allow_ips = "127.0.0.1,::1"
# Request lines and headers are bounded (nginx bounds them first).
limit_request_line = 8190
limit_request_fields = 100
# Access logs come from nginx; gunicorn logs errors only (no personal data in URLs is logged twice).
accesslog = None
errorlog = "-"
loglevel = "warning"
proc_name = "yunyi-http"
