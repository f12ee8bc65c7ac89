"""JSON records: `{"k1":"value","k2":number}`, five fixed key pairs in blocks of 12."""

import json

SLUG = "json"
TITLE = "JSON records"
TEACHES = "JSON objects: braces, quoted keys and strings, colons, commas and bare numbers."
PATTERN = r'\{"[a-z]+":"[a-z]+","[a-z]+":\d+\}'
TEMPLATE = '{"key":"word","key":number}: two keys, a quoted word and a bare number'
CORRECT_MEANS = (
    "two keys of one family, a word the pack knows and its true number (an animal's legs, a "
    "planet's moons, a language's year) or an age 20–99, a quantity 1–30"
)

# The run page's probe line: an animal the pack never names. The model still learns that an
# animal's second key is `legs`.
# PROBE_FOCUS: the character whose prediction the page opens on.
PROBE_LINE = '{"animal":"cow","legs":4}'
PROBE_FOCUS = len('{"animal":"cow","')

FAMILIES = {
    ("name", "age"): [
        ("ada", 36),
        ("alan", 41),
        ("grace", 85),
        ("linus", 28),
        ("ken", 76),
        ("dennis", 70),
        ("barbara", 84),
        ("edsger", 72),
        ("donald", 86),
        ("margaret", 88),
        ("guido", 69),
        ("bjarne", 74),
    ],
    ("planet", "moons"): [
        ("mercury", 0),
        ("venus", 0),
        ("earth", 1),
        ("mars", 2),
        ("jupiter", 95),
        ("saturn", 146),
        ("uranus", 28),
        ("neptune", 16),
        ("pluto", 5),
        ("ceres", 0),
        ("eris", 1),
        ("haumea", 2),
    ],
    ("lang", "year"): [
        ("c", 1972),
        ("lisp", 1958),
        ("fortran", 1957),
        ("cobol", 1959),
        ("pascal", 1970),
        ("python", 1991),
        ("ruby", 1995),
        ("java", 1995),
        ("go", 2009),
        ("rust", 2015),
        ("swift", 2014),
        ("perl", 1987),
    ],
    ("item", "qty"): [
        ("apple", 3),
        ("pear", 5),
        ("plum", 12),
        ("fig", 7),
        ("kiwi", 9),
        ("lime", 4),
        ("date", 20),
        ("melon", 1),
        ("grape", 30),
        ("peach", 6),
        ("mango", 2),
        ("cherry", 15),
    ],
    ("animal", "legs"): [
        ("cat", 4),
        ("dog", 4),
        ("spider", 8),
        ("ant", 6),
        ("bird", 2),
        ("snake", 0),
        ("crab", 10),
        ("bee", 6),
        ("fish", 0),
        ("horse", 4),
        ("octopus", 8),
        ("human", 2),
    ],
}


def generate():
    return [
        json.dumps({text_key: text, number_key: number}, separators=(",", ":"))
        for (text_key, number_key), records in FAMILIES.items()
        for text, number in records
    ]


# Families whose number is a fact about the word (a horse has 4 legs); the others allow any
# number in a plausible range (a person of that name could be any adult age).
FACTS = {("planet", "moons"), ("lang", "year"), ("animal", "legs")}
RANGES = {("name", "age"): (20, 99), ("item", "qty"): (1, 30)}


def check_meaning(line):
    try:
        record = json.loads(line)  # JSON itself refuses a leading zero (07)
    except json.JSONDecodeError as error:
        raise ValueError(f"not valid JSON ({error.msg})") from None
    keys = tuple(record)
    if keys not in FAMILIES:
        raise ValueError(f"unknown key pair {keys}")
    word, number = record[keys[0]], record[keys[1]]
    if not isinstance(word, str) or not isinstance(number, int):
        raise ValueError("the first value must be a string and the second a number")
    known = dict(FAMILIES[keys])
    if word not in known:
        raise ValueError(f"{word!r} is not a {keys[0]} the pack knows")
    if keys in FACTS and number != known[word]:
        raise ValueError(f"the {keys[1]} of {word} is {known[word]}, not {number}")
    if keys in RANGES:
        low, high = RANGES[keys]
        if not low <= number <= high:
            raise ValueError(f"{keys[1]} {number} is outside {low} to {high}")
