"""Single-digit sums: `A{op}B=C`. 20 additions without carry, 20 with, 20 subtractions."""

import re

SLUG = "arithmetic"
TITLE = "Arithmetic"
TEACHES = "Single-digit addition and subtraction, written as A+B=C and A-B=C."
PATTERN = r"\d[+-]\d=\d{1,2}"
TEMPLATE = "A+B=C or A-B=C: two single digits, a sign, an equals sign and a result"
CORRECT_MEANS = "the result is the true sum or difference, written without a leading zero"

# The run page's probe line: a sum not in the pack. After `=` the model soon expects a carry (`1`),
# long before it could know the last digit.
# PROBE_FOCUS: the character whose prediction the page opens on.
PROBE_LINE = "8+6=14"
PROBE_FOCUS = len("8+6=")


def spread(pairs, count=20):
    """`count` pairs picked evenly from a sorted list: deterministic, no randomness."""
    return [pairs[i * len(pairs) // count] for i in range(count)]


def generate():
    digits = range(1, 10)
    no_carry = [(a, b) for a in digits for b in digits if a + b <= 9]
    carry = [(a, b) for a in digits for b in digits if a + b >= 10]
    subtraction = [(a, b) for a in digits for b in range(0, 10) if a >= b]
    return (
        [f"{a}+{b}={a + b}" for a, b in spread(no_carry)]
        + [f"{a}+{b}={a + b}" for a, b in spread(carry)]
        + [f"{a}-{b}={a - b}" for a, b in spread(subtraction)]
    )


def check_meaning(line):
    a, op, b, c = re.fullmatch(r"(\d)([+-])(\d)=(\d+)", line).groups()
    expected = int(a) + int(b) if op == "+" else int(a) - int(b)
    if int(c) != expected:
        raise ValueError(f"{a}{op}{b} is {expected}, not {c}")
    if c != str(expected):
        raise ValueError(f"{a}{op}{b} is written {expected}, not {c} (no leading zero)")
