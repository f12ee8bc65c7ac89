import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "microlab_site.settings")
django_asgi_app = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402

from microlab_site import request_connections  # noqa: E402
from microlab_site.body_limits import BodyLimitMiddleware, install_daphne_guard  # noqa: E402
from microlab_site.routing import websocket_urlpatterns  # noqa: E402
from runs.workers import start_embedded_workers  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": BodyLimitMiddleware(django_asgi_app),
        "websocket": AllowedHostsOriginValidator(
            AuthMiddlewareStack(URLRouter(websocket_urlpatterns))
        ),
    }
)

# daphne reads a whole body before calling the application: refuse oversized ones in it too
install_daphne_guard()

# each page request's thread is its own: close its database connection when it ends
request_connections.install()

# Embedded mode: this server process also trains (a no-op in celery mode).
start_embedded_workers()
