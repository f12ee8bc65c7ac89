"""Chess openings in PGN move text: `1. W B 2. W B 3. W B`, every move legal."""

from packs_app.builtin.chess import illegal_move

SLUG = "chess_pgn"
TITLE = "Chess openings"
TEACHES = "Chess openings in PGN: numbered moves, piece letters, squares, captures and checks."
MOVE = r"(?:[KQRBN][a-h]?[1-8]?x?[a-h][1-8]|[a-h](?:x[a-h])?[1-8])[+#]?"
PATTERN = rf"1\. {MOVE} {MOVE} 2\. {MOVE} {MOVE} 3\. {MOVE} {MOVE}"
TEMPLATE = "1. move move 2. move move 3. move move: three numbered pairs of moves"
CORRECT_MEANS = (
    "each move is legal from the position the moves before it reached, written as standard "
    "notation writes it (a + when it gives check)"
)

# The run page's probe line: a game not in the pack. After a pair of moves the model learns that
# the next move number (`2`) comes.
# PROBE_FOCUS: the character whose prediction the page opens on.
PROBE_LINE = "1. e4 e5 2. Nf3 Nc6 3. Bc4 d6"
PROBE_FOCUS = len("1. e4 e5 ")

OPENINGS = {
    "e4 e5": [
        "Nf3 Nc6 Bb5 a6",
        "Nf3 Nc6 Bc4 Bc5",
        "Nf3 Nc6 Bc4 Nf6",
        "Nf3 Nc6 d4 exd4",
        "Nf3 Nc6 Nc3 Nf6",
        "Nf3 Nc6 Bb5 Nf6",
        "Nf3 Nc6 c3 Nf6",
        "Nf3 Nf6 Nxe5 d6",
        "Nf3 d6 d4 exd4",
        "Nf3 d6 Bc4 Be7",
        "f4 exf4 Nf3 g5",
        "f4 exf4 Bc4 Qh4+",
        "Nc3 Nf6 f4 d5",
        "Nc3 Nc6 Bc4 Bc5",
        "Bc4 Nf6 d3 c6",
        "d4 exd4 Qxd4 Nc6",
        "d4 exd4 c3 dxc3",
        "Nf3 Nc6 Bb5 d6",
        "Nf3 Nc6 Bc4 Be7",
        "Nf3 f5 Nxe5 Qf6",
    ],
    "d4 d5": [
        "c4 e6 Nc3 Nf6",
        "c4 dxc4 Nf3 Nf6",
        "c4 c6 Nf3 Nf6",
        "c4 c6 Nc3 e6",
        "c4 Nc6 Nf3 Bg4",
        "c4 e5 dxe5 d4",
        "Nf3 Nf6 e3 e6",
        "Nf3 Nf6 Bf4 c5",
        "Bf4 Nf6 e3 e6",
        "Bf4 c5 e3 Nc6",
        "Bg5 h6 Bh4 c6",
        "e3 Nf6 Bd3 c5",
        "Nc3 Nf6 Bg5 Bf5",
        "e4 dxe4 Nc3 Nf6",
        "c4 e6 Nf3 c5",
        "c4 dxc4 e4 e5",
        "c4 c6 cxd5 cxd5",
        "Nf3 c6 c4 Bf5",
        "c4 e6 Nc3 Be7",
        "Nf3 e6 g3 Nf6",
    ],
    "e4 c5": [
        "Nf3 d6 d4 cxd4",
        "Nf3 Nc6 d4 cxd4",
        "Nf3 e6 d4 cxd4",
        "Nc3 Nc6 g3 g6",
        "c3 Nf6 e5 Nd5",
        "c3 d5 exd5 Qxd5",
        "d4 cxd4 c3 dxc3",
        "Nf3 d6 Bb5+ Bd7",
        "Nf3 Nc6 Bb5 g6",
        "f4 d5 exd5 Nf6",
    ],
    "e4 c6": [
        "d4 d5 e5 Bf5",
        "d4 d5 Nc3 dxe4",
        "d4 d5 Nd2 dxe4",
        "d4 d5 exd5 cxd5",
        "Nc3 d5 Nf3 Bg4",
        "d4 d5 f3 e6",
        "c4 d5 exd5 cxd5",
        "d3 d5 Nd2 e5",
        "Nf3 d5 Nc3 Bg4",
        "d4 d5 e5 c5",
    ],
}


def generate():
    lines = []
    for first, continuations in OPENINGS.items():
        for continuation in continuations:
            w1, b1 = first.split()
            w2, b2, w3, b3 = continuation.split()
            lines.append(f"1. {w1} {b1} 2. {w2} {b2} 3. {w3} {b3}")
    return lines


def check_meaning(line):
    moves = [token for token in line.split() if not token.endswith(".")]
    illegal = illegal_move(moves)
    if illegal:
        raise ValueError(f"illegal move {illegal}")
