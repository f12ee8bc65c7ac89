"""The rules every text a student trains on must pass: uploads and custom packs alike.

`check_upload(name, raw)` checks a file, `check_text(text)` checks text (the part shared
with the custom-pack admin form). Both return the preprocessed text or raise
UploadRejected with a message for the page and the HTTP status to answer with.
"""

from django.conf import settings

MAX_UNIQUE_CHARS = 256
MAX_CHARS = 200_000
ALLOWED_EXTENSION = ".txt"


class UploadRejected(ValueError):
    def __init__(self, message, status=400):
        super().__init__(message)
        self.message = message
        self.status = status


def max_upload_bytes():
    return settings.LAB_UPLOAD_MAX_BYTES


def too_large_message():
    return f"The file is larger than {max_upload_bytes() // 1024} KB; upload a smaller .txt file."


def preprocess(text):
    """Newlines normalised, trailing spaces stripped, empty lines dropped."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return "\n".join(line.rstrip() for line in text.split("\n") if line.strip())


def check_text(text):
    """Preprocess `text` and apply the content rules; returns the preprocessed text."""
    from packs_app.models import BlocklistEntry

    text = preprocess(text)
    if not text:
        raise UploadRejected("The text has no documents: every line is empty.")
    if len(text) > MAX_CHARS:
        raise UploadRejected(
            f"The text has {len(text):,} characters after preprocessing; the limit is "
            f"{MAX_CHARS:,}."
        )
    unique = len(set(text))
    if unique > MAX_UNIQUE_CHARS:
        raise UploadRejected(
            f"The text uses {unique} different characters; the limit is {MAX_UNIQUE_CHARS}."
        )
    entry = BlocklistEntry.objects.first_match(text)
    if entry:
        raise UploadRejected(
            f"The text contains blocked content ({entry.get_category_display()}). "
            "Remove it and try again."
        )
    return text


def check_upload(name, raw):
    """Check an uploaded file (its name and bytes); returns the preprocessed text."""
    if not name.lower().endswith(ALLOWED_EXTENSION):
        raise UploadRejected("Only .txt files can be uploaded.")
    if len(raw) > max_upload_bytes():
        raise UploadRejected(too_large_message(), status=413)
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise UploadRejected(
            f"The file is not UTF-8 text (byte {error.start + 1} cannot be read). Save it as "
            "UTF-8 and upload again."
        ) from None
    return check_text(text)
