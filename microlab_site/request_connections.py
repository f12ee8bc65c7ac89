"""Database connections of the ASGI server's page requests.

Django runs each request's sync view in a thread of its own (asgiref's
ThreadSensitiveContext), so a request's persistent connection (LAB_CONN_MAX_AGE) can never
be used again, yet stays open until the dead thread is collected: a burst of a class's
new-run requests then held ~70 of the shared PostgreSQL's 100 connections, and other
requests failed with "too many clients". A request's connections are closed when it ends;
the sockets' own threads (common.sockets.SOCKET_THREADS) keep theirs.
"""

from django.core.handlers.asgi import ASGIHandler
from django.core.signals import request_finished
from django.db import connections


def close_request_connections(**kwargs):
    """Receiver of request_finished from the ASGI handler (sent in the request's thread)."""
    for connection in connections.all(initialized_only=True):
        connection.close()


def install():
    request_finished.connect(
        close_request_connections, sender=ASGIHandler, dispatch_uid="close_request_connections"
    )
