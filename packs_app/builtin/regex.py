"""Email-style regular expressions: `^{charclass}+@{domain}$`."""

import re

SLUG = "regex"
TITLE = "Regex"
TEACHES = "Regular expressions for email-like addresses: anchors, a character class and a domain."
PATTERN = r"\^\[[A-Za-z0-9._-]+\]\+@[a-z]+(?:\\\.[a-z]+)?\$"
TEMPLATE = "^[characters]+@domain$: anchors, a character class, one or more, an @ and a domain"
CORRECT_MEANS = (
    "a regular expression that compiles, with one of the pack's six character classes and a "
    "domain made of the pack's domain words, its dot escaped"
)

# The run page's probe line: a pattern not in the pack. After the character class and `+` the
# model learns that `@` comes.
# PROBE_FOCUS: the character whose prediction the page opens on.
PROBE_LINE = r"^[a-z]+@school\.org$"
PROBE_FOCUS = len("^[a-z]+")

CHAR_CLASSES = ["[a-z]", "[a-z0-9]", "[A-Za-z]", "[a-z_]", "[a-z0-9.]", "[0-9]"]
DOMAINS = [
    r"mail\.com",
    "localhost",
    r"example\.org",
    "intranet",
    r"school\.edu",
    "classroom",
    r"webmail\.net",
    "mailserver",
    r"post\.office",
    "postbox",
]


def generate():
    return [f"^{char_class}+@{domain}$" for domain in DOMAINS for char_class in CHAR_CLASSES]


DOMAIN_WORDS = {word for domain in DOMAINS for word in domain.split("\\.")}


def check_meaning(line):
    try:
        compiled = re.compile(line)
    except re.error as error:
        raise ValueError(f"not a valid regular expression ({error})") from None
    char_class = line[1 : line.index("]") + 1]
    if char_class not in CHAR_CLASSES:
        raise ValueError(f"the character class {char_class} is not one of the pack's")
    written = line[line.index("@") + 1 : -1]
    for word in written.split("\\."):
        if word not in DOMAIN_WORDS:
            raise ValueError(f"the domain word {word!r} is not one of the pack's")
    domain = written.replace("\\.", ".")
    example = ("a" if "a-z" in char_class else char_class[1]) + "@" + domain
    if not compiled.fullmatch(example):
        raise ValueError("does not match an address like " + example)
    if "." in domain and compiled.fullmatch(example.replace(".", "!")):
        raise ValueError("the domain's dot is not escaped")
