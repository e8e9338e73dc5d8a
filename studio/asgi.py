"""ASGI entry point (daphne): Django on the server threads for HTTP, Channels for websockets."""

import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "studio.settings")

# Django must be set up before anything imports models (the routing below does).
django.setup(set_prefix=False)

from studio.middleware import SynchronousHandler  # noqa: E402

django_application = SynchronousHandler()

import autobahn.util as autobahn_util  # noqa: E402
import autobahn.websocket.protocol as autobahn_protocol  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from studio.runs.backends.hosted import mark_server_process  # noqa: E402
from studio.runs.consumers import ScriptAwareOriginValidator, SessionUnlessBearer  # noqa: E402
from studio.runs.host import freeze_start_up_objects  # noqa: E402
from studio.runs.routing import websocket_urlpatterns  # noqa: E402
from studio.server_threads import ServerThreadsMiddleware  # noqa: E402


def plain_name(function: object) -> str:
    """A function's name as autobahn's debug lines show it, without looking it up."""
    return f"<{getattr(function, '__qualname__', '?')}>"


def plain_value(value: object, color: str = "", bold: bool = False) -> object:
    """A value as autobahn's debug lines show it: the value itself, formatted (if ever)
    by the line."""
    return value


# autobahn builds the arguments of its debug lines whether or not they are logged: on
# every frame it sends it looks up the sending method's module and qualified name
# (``hltype``, a fifth of relaying a frame) and colours them with click (about 4% of the
# server's CPU when it relays runs), formats two values as text (``hlval``, another 6%
# of relaying a frame), and on every connection it pretty-prints its whole
# configuration. Plain values and a plain repr cost next to nothing, and those lines
# are off.
autobahn_util._HAS_CLICK = False
autobahn_protocol.hltype = plain_name  # type: ignore[attr-defined]
autobahn_protocol.hlval = plain_value  # type: ignore[attr-defined]
autobahn_protocol.pformat = repr  # type: ignore[attr-defined,assignment]

# This process serves: its embedded runs execute in run host processes of their own.
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
