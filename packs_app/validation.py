"""The rules every text a student trains on must pass: uploads and custom packs alike.

`check_upload(name, raw)` checks a file, `check_text(text)` checks text (the part shared
with the custom-pack admin form). Both return the preprocessed text or raise
UploadRejected with a message for the page and the HTTP status to answer with.
"""

import unicodedata

from django.conf import settings

MAX_UNIQUE_CHARS = 256
ALLOWED_EXTENSION = ".txt"


class UploadRejected(ValueError):
    def __init__(self, message, status=400):
        super().__init__(message)
        self.message = message
        self.status = status


def max_upload_bytes():
    return settings.LAB_UPLOAD_MAX_BYTES


def size_limit_text():
    """The one size rule, as every message and page states it: "200 KB (204,800 bytes)"."""
    return f"{max_upload_bytes() // 1024} KB ({max_upload_bytes():,} bytes)"


def too_large_message():
    return f"The file is larger than {size_limit_text()}; upload a smaller .txt file."


def clean_file_name(name):
    """A file name safe to show: control and format characters removed, among them the
    bidirectional overrides that make "invoice\u202efdp.txt" display as "invoicetxt.pdf",
    zero-width characters and NUL."""
    kept = "".join(c for c in name if unicodedata.category(c) not in ("Cc", "Cf", "Cs"))
    return kept.strip()[:200]


def raw_lines(text):
    return text.replace("\r\n", "\n").replace("\r", "\n").split("\n")


def preprocess(text):
    """Newlines normalised, trailing spaces stripped, empty lines dropped."""
    return "\n".join(line.rstrip() for line in raw_lines(text) if line.strip())


def kept_line_numbers(text):
    """The line number in `text` of each line that preprocess(text) keeps."""
    return [number for number, line in enumerate(raw_lines(text), start=1) if line.strip()]


def blocked_message(entry, line_number):
    """Where the blocked content is and, for the fixed categories, what kind it is; never
    the content itself (it may be a secret)."""
    if entry.category == entry.Category.OTHER:
        what = "a blocked term"
    else:
        what = f"blocked content ({entry.get_category_display()})"
    return f"Line {line_number:,} contains {what}. Remove it and try again."


def check_text(text):
    """Preprocess `text` and apply the content rules; returns the preprocessed text."""
    from packs_app.models import BlocklistEntry

    original, text = text, preprocess(text)
    if "\x00" in text:
        line = text.count("\n", 0, text.index("\x00"))
        raise UploadRejected(
            f"Line {kept_line_numbers(original)[line]:,} contains a NUL character (a zero "
            "byte), which text cannot hold: the file is probably not plain text. Save it as "
            "plain UTF-8 text and upload again."
        )
    if not text:
        raise UploadRejected("The text has no documents: every line is empty.")
    size = len(text.encode("utf-8"))
    if size > max_upload_bytes():  # the upload's own rule (a file never grows in preprocessing)
        raise UploadRejected(
            f"The text is {size:,} bytes in UTF-8 after preprocessing: larger than "
            f"{size_limit_text()}.",
            status=413,
        )
    unique = len(set(text))
    if unique > MAX_UNIQUE_CHARS:
        raise UploadRejected(
            f"The text uses {unique} different characters; the limit is {MAX_UNIQUE_CHARS}."
        )
    found = BlocklistEntry.objects.site_wide().first_match(text)  # instructors' own: on sharing
    if found:
        entry, kept_line = found
        raise UploadRejected(blocked_message(entry, kept_line_numbers(original)[kept_line]))
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
