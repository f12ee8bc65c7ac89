"""Talking to the lab's websockets in tests: through the real ASGI application (origin
check, session auth, routing), as a given user."""

from asgiref.sync import async_to_sync
from channels.testing import WebsocketCommunicator

from microlab_site.asgi import application


def socket_for(client, user, path):
    """A socket factory for `user` (None: anonymous); log in here, outside the loop."""
    headers = [(b"origin", b"http://127.0.0.1")]
    if user is not None:
        client.force_login(user)
        headers.append((b"cookie", f"sessionid={client.cookies['sessionid'].value}".encode()))
    return lambda: WebsocketCommunicator(application, path, headers=headers)


def first_message(client, user, path):
    """Connect as `user` and return the first thing the server sends (a close or a push)."""
    open_socket = socket_for(client, user, path)

    async def scenario():
        socket = open_socket()
        connected, _ = await socket.connect()
        assert connected
        first = await socket.receive_output(timeout=5)
        await socket.disconnect()
        return first

    return async_to_sync(scenario)()
