import re
import shutil
from collections import Counter

import pytest
from django.core.management import CommandError, call_command

from packs_app import builtin
from packs_app.builtin import BUILTIN_PACKS, LINES_PER_PACK, chess_pgn
from packs_app.models import Pack

SLUGS = ["regex", "abc_music", "chess_pgn", "sql_snippets", "arithmetic", "json"]
# Approximate sizes from the issue: within 15%.
EXPECTED_CHARS = {
    "regex": 1400,
    "abc_music": 1900,
    "chess_pgn": 1800,
    "sql_snippets": 2500,
    "arithmetic": 400,
    "json": 1600,
}


def test_the_six_packs_in_order():
    assert list(BUILTIN_PACKS) == SLUGS


@pytest.mark.parametrize("slug", SLUGS)
def test_generator_is_deterministic_with_60_distinct_lines(slug):
    spec = BUILTIN_PACKS[slug]
    lines = spec.lines()
    assert lines == spec.lines()
    assert len(lines) == LINES_PER_PACK == len(set(lines))
    assert all(line and line == line.strip() and "\n" not in line for line in lines)
    assert spec.problems(spec.text()) == []
    assert abs(len(spec.text()) - EXPECTED_CHARS[slug]) <= 0.15 * EXPECTED_CHARS[slug]


@pytest.mark.parametrize("slug", SLUGS)
def test_stored_file_matches_generator(slug):
    spec = BUILTIN_PACKS[slug]
    assert spec.path.read_text(encoding="utf-8") == spec.text()


@pytest.mark.parametrize("slug", SLUGS)
def test_pack_metadata(slug):
    spec = BUILTIN_PACKS[slug]
    assert spec.title and spec.teaches.endswith(".") and spec.teaches.count(". ") == 0
    re.compile(spec.adherence_pattern)
    config = spec.recommended_config
    assert set(config) == {
        "n_embd",
        "n_head",
        "n_layer",
        "block_size",
        "num_steps",
        "learning_rate",
        "temperature",
        "seed",
        "sample_count",
        "sample_interval",
        "top_k",
    }
    # every document fits in a block with its BOS
    assert max(len(line) for line in spec.lines()) + 1 <= config["block_size"]


@pytest.mark.parametrize("slug", SLUGS)
def test_each_pack_names_a_probe_line_it_never_trains_on(slug):
    spec = BUILTIN_PACKS[slug]
    line, focus = spec.probe_line, spec.probe_focus
    assert re.fullmatch(spec.adherence_pattern, line)  # it looks like the pack's lines
    assert line not in spec.lines()  # but is not one of them
    assert set(line) <= set(spec.text())
    assert len(line) <= spec.recommended_config["block_size"]
    assert 1 <= focus <= len(line)  # never the first character, read after BOS alone


def test_chess_sections():
    openings = Counter(" ".join(line.split()[1:3]) for line in BUILTIN_PACKS["chess_pgn"].lines())
    assert openings == {"e4 e5": 20, "d4 d5": 20, "e4 c5": 10, "e4 c6": 10}


def test_chess_legality_checker_knows_the_rules():
    assert chess_pgn.illegal_move(["e4", "e5", "Nf3", "Nc6", "Bb5", "a6"]) is None
    assert chess_pgn.illegal_move(["e4", "e5", "Ke3"]) == "Ke3"  # king cannot jump
    assert chess_pgn.illegal_move(["e4", "e5", "Bb5", "d6"]) == "d6"  # opens e8 to the bishop
    assert chess_pgn.illegal_move(["e4", "e5", "Bb5", "c6"]) is None
    assert chess_pgn.illegal_move(["e4", "d6", "Bb5", "Nc6"]) == "Bb5"  # it is check: Bb5+
    assert chess_pgn.illegal_move(["e4", "d6", "Bb5+", "Nf6"]) == "Nf6"  # must answer the check
    assert chess_pgn.illegal_move(["e4", "e5", "Nf3", "Nc6", "d4", "exd4"]) is None
    assert chess_pgn.illegal_move(["e4", "e5", "Nf3", "Nc6", "d4", "dxe4"]) == "dxe4"
    assert chess_pgn.illegal_move(["f3", "e5", "g4", "Qh4#"]) is None  # fool's mate


def test_arithmetic_sections():
    lines = BUILTIN_PACKS["arithmetic"].lines()
    no_carry, carry, subtraction = lines[:20], lines[20:40], lines[40:]
    assert all("+" in line and int(line.split("=")[1]) <= 9 for line in no_carry)
    assert all("+" in line and int(line.split("=")[1]) >= 10 for line in carry)
    assert all("-" in line and eval(line.split("=")[0]) >= 0 for line in subtraction)
    assert all(eval(line.split("=")[0]) == int(line.split("=")[1]) for line in lines)


def test_sql_blocks_of_15_by_table():
    tables = [line.split(" FROM ")[1].split()[0] for line in BUILTIN_PACKS["sql_snippets"].lines()]
    blocks = [tables[i : i + 15] for i in range(0, 60, 15)]
    assert all(len(set(block)) == 1 for block in blocks)
    assert len({block[0] for block in blocks}) == 4


def test_json_five_families_in_blocks():
    lines = BUILTIN_PACKS["json"].lines()
    families = [re.findall(r'"([a-z]+)":', line) for line in lines]
    blocks = [families[i : i + 12] for i in range(0, 60, 12)]
    assert all(block.count(block[0]) == 12 for block in blocks)
    assert len({tuple(block[0]) for block in blocks}) == 5


def test_regex_domains_with_and_without_dot():
    lines = BUILTIN_PACKS["regex"].lines()
    assert any("\\." in line for line in lines) and any("\\." not in line for line in lines)


def test_abc_four_bars_of_four_notes():
    for line in BUILTIN_PACKS["abc_music"].lines():
        bars = line.split("|")[1:-1]
        assert len(bars) == 4 and all(len(bar) == 4 for bar in bars)


def test_generate_packs_check_passes(capsys):
    call_command("generate_packs", "--check")
    assert "match" in capsys.readouterr().out


def test_generate_packs_check_fails_on_a_changed_file(tmp_path, monkeypatch):
    shutil.copytree(builtin.DATA_DIR, tmp_path, dirs_exist_ok=True)
    monkeypatch.setattr(builtin, "DATA_DIR", tmp_path)
    (tmp_path / "arithmetic.txt").write_text("1+1=3\n")
    with pytest.raises(CommandError, match="arithmetic"):
        call_command("generate_packs", "--check")
    call_command("generate_packs")  # rewrites it
    call_command("generate_packs", "--check")
    assert (tmp_path / "arithmetic.txt").read_text() == BUILTIN_PACKS["arithmetic"].text()


def test_generate_packs_writes_missing_files(tmp_path, monkeypatch):
    monkeypatch.setattr(builtin, "DATA_DIR", tmp_path / "data")
    with pytest.raises(CommandError):
        call_command("generate_packs", "--check")
    call_command("generate_packs")
    assert sorted(p.stem for p in (tmp_path / "data").glob("*.txt")) == sorted(SLUGS)


@pytest.mark.django_db
def test_load_packs_is_idempotent_and_keeps_disabled_choice():
    call_command("load_packs")
    assert Pack.objects.filter(builtin=True).count() == 6
    Pack.objects.filter(slug="json").update(enabled=False, text="stale")
    call_command("load_packs")
    assert Pack.objects.filter(builtin=True).count() == 6
    pack = Pack.objects.get(slug="json")
    assert not pack.enabled and pack.text == BUILTIN_PACKS["json"].text()
    assert pack.documents == BUILTIN_PACKS["json"].lines()
    assert pack.recommended_config == BUILTIN_PACKS["json"].recommended_config
    assert (pack.probe_line, pack.probe_focus) == ('{"animal":"cow","legs":4}', 17)


@pytest.mark.django_db
def test_home_shows_the_six_packs_as_cards(client):
    call_command("load_packs")
    html = client.get("/").content.decode()
    for spec in BUILTIN_PACKS.values():
        assert spec.title in html
