"""What a run trains on: a pack (by slug) or an upload (`upload:<id>`), resolved for a user.

source = resolve_source("arithmetic", request.user)   # or "upload:3f9c..."
source.documents, source.recommended_config, source.adherence_pattern, source.probe_line
follows_template(source.adherence_pattern, sample)
"""

import re
from dataclasses import dataclass, field
from functools import lru_cache

from packs_app.models import Pack, Upload

UPLOAD_PREFIX = "upload:"

# Used for uploads and for custom packs that leave their config empty.
DEFAULT_CONFIG = {
    "n_embd": 32,
    "n_head": 4,
    "n_layer": 1,
    "block_size": 32,
    "num_steps": 500,
    "learning_rate": 0.01,
    "temperature": 0.5,
    "seed": 42,
    "sample_count": 10,
    "sample_interval": 100,
    "top_k": 5,
}
MAX_BLOCK_SIZE = 64


class SourceError(ValueError):
    """The ref is unknown, disabled or not visible to the user; the message says which."""


@dataclass(frozen=True)
class Source:
    ref: str
    title: str
    documents: list = field(repr=False)
    adherence_pattern: str
    recommended_config: dict
    pack: Pack | None = None
    upload: Upload | None = None
    probe_line: str = ""  # the line the run page follows when the student types none
    probe_focus: int | None = None  # its character the page opens on

    @classmethod
    def for_pack(cls, pack):
        return cls(
            ref=pack.slug,
            title=pack.title,
            documents=pack.documents,
            adherence_pattern=pack.adherence_pattern,
            recommended_config={**DEFAULT_CONFIG, **pack.recommended_config},
            pack=pack,
            probe_line=pack.probe_line,
            probe_focus=pack.probe_focus,
        )

    @classmethod
    def for_upload(cls, upload):
        documents = upload.documents
        return cls(
            ref=upload.ref,
            title=upload.title,
            documents=documents,
            adherence_pattern="",
            recommended_config={**DEFAULT_CONFIG, "block_size": fitting_block_size(documents)},
            upload=upload,
        )


def fitting_block_size(documents):
    """The smallest power-of-two-ish block that holds a whole document (BOS included)."""
    longest = max((len(doc) for doc in documents), default=0) + 1
    for size in (16, 24, 32, 48, MAX_BLOCK_SIZE):
        if longest <= size:
            return size
    return MAX_BLOCK_SIZE


def resolve_source(ref, user, *, include_disabled=False):
    """The pack or upload named by `ref`, if `user` may train on it; else SourceError."""
    ref = (ref or "").strip()
    if not ref:
        raise SourceError("Choose a pack or one of your uploads.")
    if ref.startswith(UPLOAD_PREFIX):
        upload_id = ref[len(UPLOAD_PREFIX) :]
        upload = Upload.objects.visible_to(user).filter(id=upload_id).first()
        if upload is None:
            raise SourceError(f"No upload {ref} that you can use: it is not yours or not shared.")
        if upload.refusal():
            raise SourceError(f"{upload.title} cannot be trained on: {upload.refusal()}")
        return Source.for_upload(upload)
    pack = Pack.objects.filter(slug=ref).first()
    if pack is None:
        raise SourceError(f"There is no pack “{ref}”.")
    if not pack.enabled and not include_disabled:
        raise SourceError(f"The pack “{pack.title}” is disabled.")
    return Source.for_pack(pack)


@lru_cache(maxsize=64)
def compiled_pattern(pattern):
    return re.compile(pattern)


def follows_template(pattern, sample):
    """Does `sample` match the adherence pattern as a whole? False if there is no pattern."""
    if not pattern:
        return False
    try:
        return compiled_pattern(pattern).fullmatch(sample) is not None
    except re.error:
        return False


def adherence(pattern, samples):
    """How many of `samples` follow the template: (k, n)."""
    return sum(follows_template(pattern, sample) for sample in samples), len(samples)
