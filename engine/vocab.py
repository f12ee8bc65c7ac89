"""Character vocabulary: the sorted unique characters of the corpus, then BOS as the last id."""

import numpy as np

BOS_TEXT = "␂"  # how BOS is shown


class Vocab:
    def __init__(self, chars):
        self.chars = "".join(chars)
        self.index = {ch: i for i, ch in enumerate(self.chars)}
        if len(self.index) != len(self.chars):
            raise ValueError("vocabulary characters must be unique")
        self.bos = len(self.chars)
        self.size = len(self.chars) + 1

    @classmethod
    def from_docs(cls, docs):
        return cls(sorted(set("".join(docs))))

    def encode(self, doc, block_size=None):
        """[BOS] + characters + [BOS], cut to block_size + 1 tokens."""
        try:
            ids = [self.bos, *(self.index[ch] for ch in doc), self.bos]
        except KeyError as err:
            raise ValueError(f"character {err.args[0]!r} is not in the vocabulary") from None
        return np.array(ids if block_size is None else ids[: block_size + 1], np.intp)

    def decode(self, ids):
        """Text of the ids, BOS left out."""
        return "".join(self.chars[i] for i in ids if i != self.bos)

    def token_text(self, i):
        return BOS_TEXT if i == self.bos else self.chars[i]
