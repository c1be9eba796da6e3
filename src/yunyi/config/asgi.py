"""ASGI entry: HTTP through Django, WebSocket through Channels (routes added by the rtc app)."""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "yunyi.config.settings")

from channels.routing import ProtocolTypeRouter, URLRouter
from django.core.asgi import get_asgi_application

django_asgi = get_asgi_application()

from yunyi.config.boot import refuse_unsafe_boot  # noqa: E402
from yunyi.config.websocket import websocket_routes  # noqa: E402

refuse_unsafe_boot()

application = ProtocolTypeRouter({"http": django_asgi, "websocket": URLRouter(websocket_routes())})
