"""Text the database cannot store is refused at the door with a 400 and a message.

PostgreSQL text cannot hold a NUL character (U+0000), and no UTF-8 column can hold a lone
surrogate; either one in a path, a query value or a form value would otherwise reach a
query and end as a server error. The upload page's body is left to the upload's own
checks, which read it through a size limit (packs_app/views.py).
"""

from django.shortcuts import render

from microlab_site.body_limits import UPLOAD_PATHS


def unstorable(text):
    """The first character of `text` the database cannot store, or None."""
    for char in text:
        if char == "\x00" or "\ud800" <= char <= "\udfff":
            return char
    return None


def describe(char):
    if char == "\x00":
        return "a NUL character (a zero byte, often written %00 or \\0)"
    return f"an unpaired surrogate (U+{ord(char):04X})"


def query_texts(where, query):
    """[(where, text)] for every key and value of a QueryDict."""
    return [(where, text) for key, values in query.lists() for text in (key, *values)]


def first_unstorable(request):
    """(where, char) for the first unstorable character in the request, or None."""
    places = [("the address", request.path), *query_texts("the address", request.GET)]
    if request.method == "POST" and request.path not in UPLOAD_PATHS:
        places += query_texts("the form", request.POST)
    for where, text in places:
        char = unstorable(text)
        if char is not None:
            return where, char
    return None


class RefuseUnstorableInput:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        found = first_unstorable(request)
        if found is None:
            return self.get_response(request)
        where, char = found
        message = f"{where.capitalize()} contains {describe(char)}, which cannot be stored."
        return render(request, "400.html", {"message": message}, status=400)
