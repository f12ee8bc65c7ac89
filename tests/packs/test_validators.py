import pytest

from packs_app.builtin import BUILTIN_PACKS
from packs_app.sources import follows_template

BROKEN_LINES = {
    "regex": [
        "^[a-z]+@mail.com$",  # unescaped dot
        "[a-z]+@mail\\.com$",  # no ^
        "^[a-z]@mail\\.com$",  # no +
        "^[z-a]+@mail\\.com$",  # backwards range
        "^[a-z]+mail\\.com$",  # no @
        "^[a-z]+@mail\\.com",  # no $
        "^[a-y]+@mail\\.com$",  # a character class the pack never uses
        "^[a-z]+@gmail\\.com$",  # a domain word the pack never uses
        "^[a-z]+@mail\\.comm$",  # a near-miss of a domain word
    ],
    "abc_music": [
        "X:1 K:C |CDEF|GABc|cBAG|FED|",  # a three-note bar
        "X:1 K:C |CDEF|GABc|cBAG|",  # three bars
        "X:1 |CDEF|GABc|cBAG|FEDC|",  # no key
        "X:1 K:H |CDEF|GABc|cBAG|FEDC|",  # no such key
        "X:1 K:Bm |CDEF|GABc|cBAG|FEDC|",  # a key outside the pack
        "X:1 K:C CDEF|GABc|cBAG|FEDC|",  # missing bar line
        "X:1 K:Em |EFGA|Bcde|edcB|AGFE|",  # a minor key the pack does not use
        "X:0 K:C |CDEF|GABc|cBAG|FEDC|",  # tunes are numbered from 1
        "X:1 K:C |CDEF|GABc|cBAH|FEDC|",  # H is not a note
    ],
    "chess_pgn": [
        "1. e4 e5 2. Nf3 Nc6 3. Bb5 a5a",  # not a move
        "1. e4 e5 2. Nf3 Nc6 3. Bb6 a6",  # bishop cannot reach b6
        "1. e4 e5 2. Nf3 Nf6 3. Nxe4 d6",  # no piece to capture on e4
        "1. e4 e5 2. Ke3 Nc6 3. Bb5 a6",  # king jumps two squares
        "1. e4 e5 2. Nf3 d6 3. Bb5 Bd7",  # Bb5 gives check: must be written Bb5+
        "1. e4 e5 2. Nf3 Nc6 3. Bb5",  # a move missing
        "1. e4 e5 2. Nf3 Nc6 3. Bb5 Ke7 4. d4 d6",  # four moves
        "1. e4 e5 2. Nf3 Nc6 3. Bb5 Nc6",  # the knight already stands on c6
        "1. e4 e5 2. e5 Nc6 3. Bb5 a6",  # e5 is taken by black's pawn
        "1. e4 e5 2. Nf3 Nc6 3. Nf3 a6",  # the knight is already on f3
        "1. e4 e5 2. Bc4 Nc6 3. Qf7 a6",  # the queen cannot reach f7
        "1. e4 e5 2. Bc4 Nc6 3. Qh5 Nf6 4. Qxf7",  # a fourth move
        "1. f3 e5 2. g4 Qh4# 3. a3 a6",  # a move after checkmate
    ],
    "sql_snippets": [
        "SELECT name FROM students WHERE age>12",  # no semicolon
        "SELECT name FROM students WHERE age > 12;",  # spaces around the operator
        "SELECT name FROM students WHERE age<>12;",  # operator outside the template
        "SELECT pages FROM students WHERE age>12;",  # students have no pages
        "SELECT name FROM students WHERE name>12;",  # not a numeric field
        "SELECT name FROM teachers WHERE age>12;",  # unknown table
        "select name from students where age>12;",  # keywords in lower case
        "SELECT name FROM students WHERE age>012;",  # a leading zero
        "SELECT pages FROM books WHERE title>12;",  # title is not a number
    ],
    "arithmetic": [
        "5-3=02",  # right, but written with a leading zero
        "5+3=08",  # the same for a sum
        "3+4=8",  # wrong
        "9-3=5",  # wrong
        "12+3=15",  # not a single digit
        "3*4=12",  # no multiplication
        "3+4=",  # no result
        "3-5=-2",  # negative
    ],
    "json": [
        '{"name":"arar","age":8695}',  # a name the pack does not know, an impossible age
        '{"name":"ada","age":8695}',  # a known name, an impossible age
        '{"name":"ada","age":7}',  # too young for the family's range
        '{"animal":"horse","legs":2}',  # a horse has four legs
        '{"planet":"mars","moons":3}',  # Mars has two moons
        '{"lang":"python","year":1995}',  # Python is from 1991
        '{"item":"kiwi","qty":0}',  # a quantity starts at 1
        '{"animal":"unicorn","legs":4}',  # not an animal of the pack
        '{"name":"ada","age":036}',  # a leading zero is not JSON
        '{"name":"ada","age":"36"}',  # number as string
        '{"name":"ada","moons":36}',  # keys from two families
        '{"name":"ada", "age":36}',  # a space
        "{'name':'ada','age':36}",  # single quotes
        '{"name":"ada","age":36',  # unclosed
        '{"age":36,"name":"ada"}',  # keys swapped
    ],
}


@pytest.mark.parametrize("slug", list(BUILTIN_PACKS))
def test_validator_accepts_every_line_of_its_pack(slug):
    spec = BUILTIN_PACKS[slug]
    for line in spec.lines():
        spec.check_line(line)
        assert follows_template(spec.adherence_pattern, line)


@pytest.mark.parametrize(
    ("slug", "line"), [(slug, line) for slug, lines in BROKEN_LINES.items() for line in lines]
)
def test_validator_rejects_a_broken_line(slug, line):
    spec = BUILTIN_PACKS[slug]
    with pytest.raises(ValueError):
        spec.check_line(line)
    assert not spec.is_valid_line(line)


@pytest.mark.parametrize("slug", list(BUILTIN_PACKS))
def test_validators_reject_other_packs_lines(slug):
    spec = BUILTIN_PACKS[slug]
    for other in BUILTIN_PACKS.values():
        if other is not spec:
            assert not any(spec.is_valid_line(line) for line in other.lines())


@pytest.mark.parametrize("slug", list(BUILTIN_PACKS))
def test_every_pack_states_its_template_and_what_correct_means(slug):
    spec = BUILTIN_PACKS[slug]
    for sentence in (spec.template, spec.correct_means):
        assert 20 < len(sentence) < 200 and "\n" not in sentence and not sentence.endswith(".")


def test_what_the_checkers_accept_beyond_the_pack_lines():
    """Correct is not memorised: a new line by the pack's rules counts."""
    accepted = {
        "arithmetic": ["0+0=0", "9-9=0", "9+9=18"],
        "json": ['{"name":"ada","age":99}', '{"item":"kiwi","qty":30}'],
        "sql_snippets": ["SELECT id FROM orders WHERE qty<=300;"],
        "regex": ["^[a-z_]+@example\\.com$", "^[0-9]+@post$"],
        "abc_music": ["X:61 K:Am |ABcd|edcB|ABcd|edcB|"],
        "chess_pgn": ["1. d4 Nf6 2. c4 e6 3. Nc3 Bb4", "1. e4 e5 2. Qh5 Nc6 3. Bc4 Nf6"],
    }
    for slug, lines in accepted.items():
        for line in lines:
            assert BUILTIN_PACKS[slug].is_valid_line(line), (slug, line)


def test_whole_pack_problems_are_named():
    spec = BUILTIN_PACKS["arithmetic"]
    lines = spec.lines()
    assert spec.problems("\n".join(lines[:59]) + "\n") == ["59 lines, expected 60"]
    duplicated = "\n".join([*lines[:59], lines[0]]) + "\n"
    assert "lines are not distinct" in spec.problems(duplicated)
    wrong = "\n".join(["1+1=3", *lines[1:]]) + "\n"
    assert spec.problems(wrong) == ["line 1 '1+1=3': 1+1 is 2, not 3"]


def test_error_messages_say_what_is_wrong():
    with pytest.raises(ValueError, match="illegal move Bb6"):
        BUILTIN_PACKS["chess_pgn"].check_line("1. e4 e5 2. Nf3 Nc6 3. Bb6 a6")
    with pytest.raises(ValueError, match="not a valid regular expression"):
        BUILTIN_PACKS["regex"].check_line("^[z-a]+@mail\\.com$")
    with pytest.raises(ValueError, match="template"):
        BUILTIN_PACKS["regex"].check_line("^[a-z]+@mail.com$")
    with pytest.raises(ValueError, match="template"):
        BUILTIN_PACKS["json"].check_line("{}")


@pytest.mark.parametrize(
    ("pattern", "sample", "expected"),
    [
        (r"\d[+-]\d=\d{1,2}", "3+4=7", True),
        (r"\d[+-]\d=\d{1,2}", "3+4=7 ", False),  # the whole sample must match
        (r"\d[+-]\d=\d{1,2}", "x3+4=7", False),
        (r"\d[+-]\d=\d{1,2}", "", False),
        ("", "anything", False),  # uploads have no template
        ("(", "(", False),  # a broken pattern never raises
    ],
)
def test_follows_template(pattern, sample, expected):
    assert follows_template(pattern, sample) is expected
