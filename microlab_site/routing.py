"""Every websocket route, gathered from the apps that own them."""

from classrooms.routing import websocket_urlpatterns as classroom_sockets
from lessons.routing import websocket_urlpatterns as lesson_sockets
from runs.routing import websocket_urlpatterns as run_sockets

websocket_urlpatterns = [*run_sockets, *classroom_sockets, *lesson_sockets]
