"""The op view for a position of the student's own text (from the playground).

The op view (runs/opview/) traces a stored step's training line; given an OwnText it
traces [BOS] + the student's text instead, with the parameters stored for that step. The
text travels in the address, base64url-encoded (`/runs/<id>/steps/<step>/text/<text>/
tokens/<pos>/ops/`), so the op view's own links (Step, a node, a weight, the chain rule,
the update) keep working. The text was never trained on: "the whole step" and its update
stay those of the step's training line, applied to the student's text.
"""

import base64
import binascii
from dataclasses import dataclass
from urllib.parse import urlencode

from django.http import Http404
from django.urls import reverse

from runs.playground_forms import unknown_chars_error


class OwnTextConverter:
    """A path segment holding any text as unpadded base64url of its UTF-8."""

    regex = "[A-Za-z0-9_-]+"

    def to_python(self, value):
        try:
            return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)).decode()
        except (binascii.Error, UnicodeDecodeError, ValueError) as err:
            raise ValueError("not a text") from err

    def to_url(self, value):
        return base64.urlsafe_b64encode(value.encode()).decode().rstrip("=")


@dataclass
class OwnText:
    run: object
    step: int
    text: str

    @property
    def tokens(self):
        """[BOS] + the text, as token ids."""
        index = {ch: i for i, ch in enumerate(self.run.vocab)}
        return [len(self.run.vocab), *(index[ch] for ch in self.text)]

    def url(self, pos):
        return reverse("runs:playground_ops", args=[self.run.pk, self.step, self.text, pos])

    @property
    def back_url(self):
        query = urlencode({"step": self.step, "text": self.text})
        return f"{reverse('runs:playground', args=[self.run.pk])}?{query}"


def own_text_at(run, step, text):
    """The OwnText for the op view's `text` (None: the step's own line). A text the model
    cannot read (unknown characters, longer than its block) is not a page: 404."""
    if text is None:
        return None
    if not text or unknown_chars_error(text, run.vocab):
        raise Http404("That text has characters this model does not know.")
    if len(text) >= int(run.config.get("block_size", 1)):
        raise Http404("That text is longer than this model reads.")
    return OwnText(run, step, text)


def tokens_url(run, step, text):
    """The op view's address for `text` up to the position: add "<pos>/ops/"."""
    return reverse("runs:playground_ops", args=[run.pk, step, text, 0]).removesuffix("0/ops/")
