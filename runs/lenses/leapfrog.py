"""Leapfrog letters: a corpus built so that a previous-token head must emerge.

Each line interleaves two walks through the alphabet: every letter is one or two places
after the letter two before it ("qnrosptq…": q→r→s→t and n→o→p→q), wrapping from z to a. The
best guess for the next letter depends on the letter just before the current one, and on
nothing the current letter or its content can find, so the model learns to look one step
back: the head roles timeline shows its heads becoming previous-token heads within a few
hundred steps, whatever the seed (`manage.py lens_emergence` trains it over several).
"""

import re
import string

import numpy as np

SLUG = "leapfrog"
TITLE = "Leapfrog letters"
TEACHES = (
    "Two alphabet walks woven together: each letter is one or two places after the letter "
    "two before it. Predicting it needs a look at the previous character."
)
PATTERN = r"[a-z]{10,30}"
LINES = 200
RECOMMENDED_CONFIG = {
    "n_embd": 32,
    "n_head": 4,
    "n_layer": 1,
    "block_size": 32,
    "num_steps": 500,
    "learning_rate": 0.01,
    "temperature": 0.5,
    "seed": 42,
    "sample_count": 5,
    "sample_interval": 100,
    "top_k": 5,
}


def generate(lines=LINES, seed=0):
    """`lines` lines of 10 to 30 letters, the same for the same seed."""
    rng = np.random.default_rng(seed)
    letters = string.ascii_lowercase
    out = []
    for _ in range(lines):
        walk = list(rng.integers(26, size=2))
        for _ in range(int(rng.integers(10, 31)) - 2):
            walk.append((walk[-2] + int(rng.integers(1, 3))) % 26)
        out.append("".join(letters[i] for i in walk))
    return out


def follows(line):
    """Does `line` leapfrog: 10 to 30 letters, each 1 or 2 after the one two before?"""
    if not re.fullmatch(PATTERN, line):
        return False
    codes = [ord(ch) - ord("a") for ch in line]
    return all((codes[i] - codes[i - 2]) % 26 in (1, 2) for i in range(2, len(codes)))
