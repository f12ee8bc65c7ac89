"""The six built-in packs. Each module holds one pack: its deterministic generator, its
template (the adherence pattern, a full-match regex, and TEMPLATE, the same in words) and a
per-line check of meaning (legal chess, correct sums, ...) that CORRECT_MEANS states in one
sentence. The generated text lives in `data/<slug>.txt`, written by
`manage.py generate_packs` and loaded into the database by `manage.py load_packs`."""

import re
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

from packs_app.builtin import abc_music, arithmetic, chess_pgn, json_records, regex, sql_snippets
from packs_app.builtin.configs import RECOMMENDED_CONFIGS

DATA_DIR = Path(__file__).resolve().parent / "data"
LINES_PER_PACK = 60


@dataclass(frozen=True)
class BuiltinPack:
    module: ModuleType

    @property
    def slug(self):
        return self.module.SLUG

    @property
    def title(self):
        return self.module.TITLE

    @property
    def teaches(self):
        return self.module.TEACHES

    @property
    def adherence_pattern(self):
        return self.module.PATTERN

    @property
    def template(self):
        """The template in words, for a student who does not read regular expressions."""
        return self.module.TEMPLATE

    @property
    def correct_means(self):
        """What the meaning check accepts, in one sentence (shown beside the count)."""
        return self.module.CORRECT_MEANS

    @property
    def probe_line(self):
        """The line the run page follows through training (when the student types none)."""
        return self.module.PROBE_LINE

    @property
    def probe_focus(self):
        """The index in probe_line of the character whose prediction the page opens on."""
        return self.module.PROBE_FOCUS

    @property
    def recommended_config(self):
        return dict(RECOMMENDED_CONFIGS[self.slug])

    @property
    def path(self):
        return DATA_DIR / f"{self.slug}.txt"

    def lines(self):
        return self.module.generate()

    def text(self):
        """The pack file's content, exactly as generated: one document per line."""
        return "".join(line + "\n" for line in self.lines())

    def check_line(self, line):
        """Raise ValueError naming what is wrong with one line of this pack."""
        if not re.fullmatch(self.adherence_pattern, line):
            raise ValueError(f"does not follow the {self.title} template")
        self.module.check_meaning(line)

    def is_valid_line(self, line):
        try:
            self.check_line(line)
        except ValueError:
            return False
        return True

    def problems(self, text):
        """Everything wrong with a whole pack text (empty list: the text is a valid pack)."""
        lines = text.split("\n")
        if lines and lines[-1] == "":
            lines.pop()
        found = []
        if len(lines) != LINES_PER_PACK:
            found.append(f"{len(lines)} lines, expected {LINES_PER_PACK}")
        if len(set(lines)) != len(lines):
            found.append("lines are not distinct")
        for number, line in enumerate(lines, start=1):
            try:
                self.check_line(line)
            except ValueError as error:
                found.append(f"line {number} {line!r}: {error}")
        return found


BUILTIN_PACKS = {
    module.SLUG: BuiltinPack(module)
    for module in (regex, abc_music, chess_pgn, sql_snippets, arithmetic, json_records)
}


def get(slug):
    return BUILTIN_PACKS[slug]
