"""Refusing an oversized upload without reading it all: a Content-Length check before the
body is parsed, and an upload handler that stops a file as soon as it passes the limit."""

from django.core.files.uploadhandler import FileUploadHandler, StopUpload

from packs_app.validation import max_upload_bytes

# Room for the multipart framing and the CSRF field around a file at the limit.
MULTIPART_SLACK = 16 * 1024


def declared_too_large(request):
    """The client says the body is bigger than any acceptable upload could make it."""
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return False
    return length > max_upload_bytes() + MULTIPART_SLACK


class SizeLimitUploadHandler(FileUploadHandler):
    """First in the chain: passes chunks on until a file passes the limit, then stops the
    upload (the rest is discarded, never stored) and marks the request."""

    def __init__(self, request=None):
        super().__init__(request)
        self.limit = max_upload_bytes()
        self.received = 0
        request.upload_too_large = False

    def new_file(self, *args, **kwargs):
        super().new_file(*args, **kwargs)
        self.received = 0

    def receive_data_chunk(self, raw_data, start):
        self.received += len(raw_data)
        if self.received > self.limit:
            self.request.upload_too_large = True
            raise StopUpload(connection_reset=False)
        return raw_data

    def file_complete(self, file_size):
        return None


def limit_upload_size(request):
    request.upload_handlers.insert(0, SizeLimitUploadHandler(request))
