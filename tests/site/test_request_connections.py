"""microlab_site/request_connections.py: a page request served by the ASGI server closes its
database connection when it ends (its thread is its own: no later request could use it)."""

from django.core.handlers.asgi import ASGIHandler
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished

import microlab_site.asgi  # noqa: F401 (the server's entry point installs the receiver)
from microlab_site import request_connections


class Connection:
    def __init__(self):
        self.closed = False

    def close(self):
        self.closed = True

    def close_if_unusable_or_obsolete(self):  # what Django's own receivers ask
        pass


def test_an_asgi_request_closes_its_connections_and_only_that(monkeypatch):
    opened = [Connection(), Connection()]
    monkeypatch.setattr(request_connections.connections, "all", lambda **kwargs: opened)
    request_finished.send(sender=WSGIHandler)
    assert not any(c.closed for c in opened)  # a test client's or WSGI request: kept
    request_finished.send(sender=ASGIHandler)  # microlab_site.asgi installed the receiver
    assert all(c.closed for c in opened)
