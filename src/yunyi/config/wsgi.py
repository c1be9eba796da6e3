"""WSGI entry for uWSGI (`deploy/uwsgi.ini`; HTTP only, WebSocket goes to the ASGI workers)."""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "yunyi.config.settings")

from django.core.wsgi import get_wsgi_application

application = get_wsgi_application()

from yunyi.config.boot import refuse_unsafe_boot  # noqa: E402

refuse_unsafe_boot()

# uWSGI's master loads this module once and forks the workers from it (`deploy/uwsgi.ini`).
from yunyi.config.prefork import prepare_workers  # noqa: E402

prepare_workers()
