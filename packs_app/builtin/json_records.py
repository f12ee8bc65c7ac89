"""JSON records: `{"k1":"value","k2":number}`, five fixed key pairs in blocks of 12."""

import json

SLUG = "json"
TITLE = "JSON records"
TEACHES = "JSON objects: braces, quoted keys and strings, colons, commas and bare numbers."
PATTERN = r'\{"[a-z]+":"[a-z]+","[a-z]+":\d+\}'

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


def check_meaning(line):
    record = json.loads(line)
    keys = tuple(record)
    if keys not in FAMILIES:
        raise ValueError(f"unknown key pair {keys}")
    if not isinstance(record[keys[0]], str) or not isinstance(record[keys[1]], int):
        raise ValueError("the first value must be a string and the second a number")
