"""Request bodies refused before they are read, with one limit per kind of URL.

Three kinds of URL: the upload page and the admin (where a custom pack's text is posted,
urlencoded) take up to LAB_UPLOAD_BODY_MAX_BYTES (a file a little over the 200 KB rule still
reaches the upload page, which says so next to the file field); every other form and htmx
post up to LAB_FORM_MAX_BYTES. A body over its limit gets a 413 page and is never read into
memory:

- `BodyLimitMiddleware` (ASGI, around the whole site): a declared Content-Length over the
  limit is answered at once, without calling receive; a body streamed without one is counted
  as it arrives and cut off at the limit.
- `GuardedWebRequest` (daphne): daphne receives a whole body (into a temporary file) and
  then queues all of it for the application at once, so a 200 MB body would be in memory
  before any ASGI code could look at it. This request class answers in daphne itself, as
  soon as the headers (or the first chunks over the limit) arrive, and closes the
  connection. `install_daphne_guard()` puts it in place (microlab_site/asgi.py).
"""

from django.conf import settings
from django.template.loader import render_to_string

from packs_app.validation import size_limit_text

UPLOAD_PATHS = ("/packs/upload/",)
ADMIN_PREFIX = "/admin/"


def body_limit(path):
    """The most bytes a request body to `path` may have."""
    if path in UPLOAD_PATHS or path.startswith(ADMIN_PREFIX):
        return settings.LAB_UPLOAD_BODY_MAX_BYTES
    return settings.LAB_FORM_MAX_BYTES


def declared_length(headers):
    """The Content-Length header of ASGI `headers` as an int; None when absent or unreadable."""
    for name, value in headers:
        if name.lower() == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


def refusal_page(path):
    """The 413 page: an upload is told the file limit (the one size rule), a form the
    body limit."""
    if path in UPLOAD_PATHS:
        context = {"limit": size_limit_text(), "what": "an uploaded file", "upload": True}
    else:
        context = {"limit": f"{body_limit(path) // 1024:,} KB", "what": "a form"}
    return render_to_string("413.html", context).encode("utf-8")


async def send_refusal(send, path):
    body = refusal_page(path)
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"text/html; charset=utf-8"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class BodyLimitMiddleware:
    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        path, limit = scope["path"], body_limit(scope["path"])
        declared = declared_length(scope.get("headers", []))
        if declared is not None and declared > limit:
            return await send_refusal(send, path)
        received, over = 0, False

        async def capped_receive():
            nonlocal received, over
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    # the application sees a client gone (Django stops reading, answers
                    # nothing); the 413 below is the answer
                    over = True
                    return {"type": "http.disconnect"}
            return message

        async def guarded_send(message):
            if not over:
                await send(message)

        await self.app(scope, capped_receive, guarded_send)
        if over:
            await send_refusal(send, path)


def install_daphne_guard():
    """Make daphne build its requests from GuardedWebRequest (daphne looks the class up by
    name each time it builds a connection's protocol)."""
    from daphne import http_protocol
    from twisted.web import http

    if getattr(http_protocol.WebRequest, "is_guarded", False):
        return

    class GuardedWebRequest(http_protocol.WebRequest):
        is_guarded = True
        refused = False
        received = 0

        def path_and_limit(self):
            raw = getattr(self.channel, "_path", b"/") or b"/"
            path = raw.split(b"?", 1)[0].decode("ascii", "replace")
            return path, body_limit(path)

        def gotLength(self, length):
            super().gotLength(length)
            path, limit = self.path_and_limit()
            if length is not None and length > limit:
                self.refuse(path)

        def handleContentChunk(self, data):
            if self.refused:
                return
            self.received += len(data)
            path, limit = self.path_and_limit()
            if self.received > limit:
                self.refuse(path)
                return
            super().handleContentChunk(data)

        def refuse(self, path):
            """Answer 413 now, in daphne, and close: the rest of the body is never read."""
            self.refused = True
            body = refusal_page(path)
            head = (
                b"HTTP/1.1 413 Content Too Large\r\n"
                b"Content-Type: text/html; charset=utf-8\r\n"
                b"Content-Length: " + str(len(body)).encode() + b"\r\n"
                b"Connection: close\r\n\r\n"
            )
            transport = self.channel.transport
            transport.write(head + body)
            transport.loseConnection()

        def process(self):
            if self.refused:  # the whole body may arrive before the connection closes
                return None
            return super().process()

    assert issubclass(GuardedWebRequest, http.Request)
    http_protocol.WebRequest = GuardedWebRequest
