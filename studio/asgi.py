"""ASGI entry point (daphne): Django on the server threads for HTTP, Channels for websockets."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "studio.settings")

# Django must be set up before anything imports models (the routing below does).
django_application = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from studio.runs.backends.hosted import mark_server_process  # noqa: E402
from studio.runs.consumers import ScriptAwareOriginValidator, SessionUnlessBearer  # noqa: E402
from studio.runs.host import freeze_start_up_objects  # noqa: E402
from studio.runs.routing import websocket_urlpatterns  # noqa: E402
from studio.server_threads import ServerThreadsMiddleware  # noqa: E402

# This process serves: its embedded runs execute in a run host process of their own.
mark_server_process()

# Django, the SDKs and the routing are loaded: keep the collector off them.
freeze_start_up_objects()

application = ProtocolTypeRouter(
    {
        "http": ServerThreadsMiddleware(django_application),
        "websocket": ScriptAwareOriginValidator(
            SessionUnlessBearer(URLRouter(websocket_urlpatterns))
        ),
    }
)
