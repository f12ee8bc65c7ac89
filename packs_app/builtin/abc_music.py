"""Tunes in ABC notation: `X:N K:KEY |B1|B2|B3|B4|`, four bars of four notes."""

import re

SLUG = "abc_music"
TITLE = "ABC music"
TEACHES = "Tunes in ABC notation: a header, a key and four bars of four notes each."
PATTERN = r"X:[1-9]\d* K:[A-G]m? \|(?:[A-Ga-g]{4}\|){4}"
TEMPLATE = "X:number K:key |four notes|four notes|four notes|four notes|"
CORRECT_MEANS = (
    "a numbered tune in one of the pack's five keys (C, G, D, F, Am), with four bars of "
    "exactly four notes from the pack's two octaves (C to b)"
)

# The run page's probe line: a tune not in the pack. After four notes the model learns that a bar
# line comes.
# PROBE_FOCUS: the character whose prediction the page opens on.
PROBE_LINE = "X:61 K:G |GABc|dcBA|GABc|dBGB|"
PROBE_FOCUS = len("X:61 K:G |GABc")

NOTES = "CDEFGABcdefgab"  # two octaves, no accidentals: the key signature carries them
KEYS = [("C", "C"), ("G", "G"), ("D", "D"), ("F", "F"), ("Am", "A")]  # (key, tonic)
# Each motif is four bars of scale degrees counted from the tonic.
SCALAR = [
    [(0, 1, 2, 3), (4, 5, 6, 7), (7, 6, 5, 4), (3, 2, 1, 0)],
    [(7, 6, 5, 4), (3, 2, 1, 0), (0, 1, 2, 3), (4, 5, 6, 7)],
    [(0, 1, 2, 3), (1, 2, 3, 4), (2, 3, 4, 5), (3, 4, 5, 6)],
    [(6, 5, 4, 3), (5, 4, 3, 2), (4, 3, 2, 1), (3, 2, 1, 0)],
]
ARPEGGIO = [
    [(0, 2, 4, 7), (7, 4, 2, 0), (3, 5, 7, 5), (4, 2, 0, 2)],
    [(0, 2, 4, 2), (3, 5, 7, 5), (4, 6, 8, 6), (0, 2, 4, 7)],
    [(0, 2, 4, 2), (4, 6, 8, 6), (3, 5, 7, 5), (0, 4, 2, 0)],
    [(7, 4, 2, 0), (5, 3, 1, 3), (4, 2, 0, 2), (0, 2, 4, 7)],
]
ALTERNATING = [
    [(0, 4, 0, 4), (0, 3, 0, 3), (0, 2, 0, 2), (0, 1, 0, 1)],
    [(0, 2, 0, 2), (1, 3, 1, 3), (2, 4, 2, 4), (3, 5, 3, 5)],
    [(0, 7, 0, 7), (2, 7, 2, 7), (4, 7, 4, 7), (0, 4, 0, 4)],
    [(4, 0, 4, 0), (3, 0, 3, 0), (2, 0, 2, 0), (1, 0, 1, 0)],
]
SECTIONS = [SCALAR, ARPEGGIO, ALTERNATING]


def generate():
    lines = []
    for motifs in SECTIONS:
        for motif in motifs:
            for key, tonic in KEYS:
                root = NOTES.index(tonic)
                bars = ["".join(NOTES[root + degree] for degree in bar) for bar in motif]
                lines.append(f"X:{len(lines) + 1} K:{key} |{'|'.join(bars)}|")
    return lines


def check_meaning(line):
    key = re.search(r"K:(\S+)", line).group(1)
    if key not in dict(KEYS):
        raise ValueError(f"unknown key {key}")
