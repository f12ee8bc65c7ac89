"""Just enough chess to check that a short opening is legal: pieces, moves, checks and
standard algebraic notation (SAN). No castling, en passant or promotion: none of them can
happen in the first three moves of the curated openings, and a move using them is refused."""

FILES = "abcdefgh"
KNIGHT_STEPS = [(1, 2), (2, 1), (2, -1), (1, -2), (-1, -2), (-2, -1), (-2, 1), (-1, 2)]
KING_STEPS = [(1, 0), (1, 1), (0, 1), (-1, 1), (-1, 0), (-1, -1), (0, -1), (1, -1)]
RAYS = {
    "B": [(1, 1), (1, -1), (-1, 1), (-1, -1)],
    "R": [(1, 0), (-1, 0), (0, 1), (0, -1)],
}
RAYS["Q"] = RAYS["B"] + RAYS["R"]


def square_name(square):
    file, rank = square
    return f"{FILES[file]}{rank + 1}"


def start_position():
    """{(file, rank): "wP"}; ranks and files count from 0."""
    board = {}
    for file, piece in enumerate("RNBQKBNR"):
        board[(file, 0)] = "w" + piece
        board[(file, 7)] = "b" + piece
        board[(file, 1)] = "wP"
        board[(file, 6)] = "bP"
    return board


def on_board(file, rank):
    return 0 <= file < 8 and 0 <= rank < 8


def targets(board, square):
    """Squares the piece on `square` could move to, ignoring checks on its own king."""
    color, kind = board[square]
    file, rank = square
    found = []
    if kind == "P":
        forward = 1 if color == "w" else -1
        home = 1 if color == "w" else 6
        one = (file, rank + forward)
        if on_board(*one) and one not in board:
            found.append(one)
            two = (file, rank + 2 * forward)
            if rank == home and two not in board:
                found.append(two)
        for side in (-1, 1):
            diagonal = (file + side, rank + forward)
            if diagonal in board and board[diagonal][0] != color:
                found.append(diagonal)
        return found
    if kind in ("N", "K"):
        for dx, dy in KNIGHT_STEPS if kind == "N" else KING_STEPS:
            to = (file + dx, rank + dy)
            if on_board(*to) and board.get(to, "  ")[0] != color:
                found.append(to)
        return found
    for dx, dy in RAYS[kind]:
        to = (file + dx, rank + dy)
        while on_board(*to):
            if to in board:
                if board[to][0] != color:
                    found.append(to)
                break
            found.append(to)
            to = (to[0] + dx, to[1] + dy)
    return found


def in_check(board, color):
    king = next(square for square, piece in board.items() if piece == color + "K")
    return any(
        king in targets(board, square) for square, piece in board.items() if piece[0] != color
    )


def moved(board, start, end):
    after = dict(board)
    after[end] = after.pop(start)
    return after


def legal_moves(board, color):
    """{san: board after the move} for every legal move of `color`."""
    other = "b" if color == "w" else "w"
    plain = []  # (piece kind, start, end, capture, board after)
    for square, piece in board.items():
        if piece[0] != color:
            continue
        for to in targets(board, square):
            after = moved(board, square, to)
            if not in_check(after, color):
                plain.append((piece[1], square, to, to in board, after))
    moves = {}
    for kind, start, end, capture, after in plain:
        if kind == "P":
            san = (FILES[start[0]] + "x" if capture else "") + square_name(end)
        else:
            rivals = [s for k, s, e, _, _ in plain if k == kind and e == end and s != start]
            hint = ""
            if rivals:
                if all(s[0] != start[0] for s in rivals):
                    hint = FILES[start[0]]
                elif all(s[1] != start[1] for s in rivals):
                    hint = str(start[1] + 1)
                else:
                    hint = square_name(start)
            san = kind + hint + ("x" if capture else "") + square_name(end)
        if in_check(after, other):
            san += "#" if not legal_moves_exist(after, other) else "+"
        moves[san] = after
    return moves


def legal_moves_exist(board, color):
    for square, piece in board.items():
        if piece[0] == color:
            for to in targets(board, square):
                if not in_check(moved(board, square, to), color):
                    return True
    return False


def illegal_move(moves):
    """Play SAN moves from the start; return the first illegal one (None if all are legal)."""
    board, color = start_position(), "w"
    for san in moves:
        options = legal_moves(board, color)
        if san not in options:
            return san
        board, color = options[san], ("b" if color == "w" else "w")
    return None
