"""SQL queries: `SELECT col FROM table WHERE field{op}int;`, in blocks of 15 per table."""

import re

SLUG = "sql_snippets"
TITLE = "SQL snippets"
TEACHES = "SQL SELECT queries: keywords in order, a table's own columns and a comparison."
PATTERN = r"SELECT [a-z_]+ FROM [a-z_]+ WHERE [a-z_]+(?:=|<|>|<=|>=)\d+;"
TEMPLATE = "SELECT column FROM table WHERE field, a comparison and a number, then ;"
CORRECT_MEANS = (
    "one of the pack's four tables, a column that table has, a filter on one of its numeric "
    "fields, and a whole number without a leading zero"
)

# The run page's probe line: a query not in the pack. After the table the model learns that
# `WHERE` comes next.
# PROBE_FOCUS: the character whose prediction the page opens on.
PROBE_LINE = "SELECT name FROM students WHERE age>30;"
PROBE_FOCUS = len("SELECT name FROM students ")

OPS = ["=", "<", ">", "<=", ">="]
# table: (columns to select, numeric fields to filter on)
TABLES = {
    "students": (["name", "email", "grade", "city", "age"], ["age", "grade", "id"]),
    "books": (["title", "author", "year", "price", "pages"], ["year", "pages", "price"]),
    "orders": (["total", "status", "item", "qty", "customer"], ["qty", "total", "id"]),
    "cities": (["name", "country", "mayor", "area", "population"], ["population", "area", "id"]),
}


def generate():
    lines = []
    for table_number, (table, (columns, fields)) in enumerate(TABLES.items()):
        for i in range(15):
            column = columns[i // 3]
            op = OPS[(i + table_number) % 5]
            field = fields[i % 3]
            number = (i * 7 + table_number * 11) % 90 + 1
            lines.append(f"SELECT {column} FROM {table} WHERE {field}{op}{number};")
    return lines


def check_meaning(line):
    column, table, field, number = re.match(
        r"SELECT (\S+) FROM (\S+) WHERE ([a-z_]+)\W+(\d+);", line
    ).groups()
    if table not in TABLES:
        raise ValueError(f"unknown table {table}")
    columns, fields = TABLES[table]
    if column not in columns + fields:
        raise ValueError(f"{table} has no column {column}")
    if field not in fields:
        raise ValueError(f"{table} has no numeric field {field}")
    if number != str(int(number)):
        raise ValueError(f"the number {number} has a leading zero")
