import json

import click
import pytest
from click.testing import CliRunner

from haris.errors import HarisError
from haris.match.cli import bank, hash_cmd

PDQ_A = "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22"


@click.group()
@click.option("--db", "db_url")
@click.pass_context
def root(ctx, db_url):
    """Stands in for the main `haris` group, which mounts these commands the same way."""
    ctx.ensure_object(dict)
    ctx.obj["db_url"] = db_url


root.add_command(bank)
root.add_command(hash_cmd, "hash")


@pytest.fixture
def run(sqlite_url):
    runner = CliRunner()

    def invoke(*args, ok=True):
        result = runner.invoke(root, ["--db", sqlite_url, *args], catch_exceptions=True)
        if ok and result.exit_code != 0:
            raise AssertionError(f"exit {result.exit_code}: {result.output} {result.exception!r}")
        return result
    return invoke


def test_bank_lifecycle(run, image_file, tmp_path):
    out = json.loads(run("bank", "create", "clips", "--type", "pdq", "--category", "terrorism", "--json").output)
    assert out["name"] == "clips" and out["enabled"] is True
    img = image_file(12)
    out = json.loads(run("bank", "add", "clips", str(img), PDQ_A, "--label", "seed", "--json").output)
    assert (out["added"], out["duplicates"]) == (2, 0)
    [row] = json.loads(run("bank", "list", "--json").output)
    assert (row["name"], row["entries"], row["signal_type"]) == ("clips", 2, "pdq")
    shown = json.loads(run("bank", "show", "clips", "--json").output)
    assert {e["label"] for e in shown["entries_shown"]} == {"seed"}
    assert json.loads(run("bank", "disable", "clips", "--json").output)["enabled"] is False
    assert json.loads(run("bank", "enable", "clips", "--json").output)["enabled"] is True

    matched = json.loads(run("bank", "match", str(image_file(12, "jpeg50")), "--cache-dir",
                             str(tmp_path / "c"), "--json").output)
    assert matched[0]["signals"][0]["labels"] == ["bank:clips"]

    export = tmp_path / "clips.csv"
    run("bank", "export", "clips", str(export))
    assert export.read_text().startswith("signal_type,signal_str,collab,category,tags")
    run("bank", "create", "copy", "-t", "pdq", "-c", "terrorism")
    out = json.loads(run("bank", "import", "copy", str(export), "--json").output)
    assert (out["format"], out["added"]) == ("tx-csv", 2)

    out = json.loads(run("bank", "delete", "clips", "--yes", "--json").output)
    assert out["deleted_entries"] == 2
    assert "copy" in run("bank", "list").output


def test_import_with_bad_lines_exits_3_unless_skip_bad(run, tmp_path):
    run("bank", "create", "clips", "--type", "pdq", "--category", "terrorism")
    f = tmp_path / "list.txt"
    f.write_text(f"{PDQ_A}\nbad line\n")
    result = run("bank", "import", "clips", str(f), ok=False)
    assert isinstance(result.exception, HarisError) and result.exception.exit_code == 3
    assert "line 2" in str(result.exception)
    out = json.loads(run("bank", "import", "clips", str(f), "--skip-bad", "--json").output)
    assert out["added"] == 1 and out["bad"][0]["number"] == 2


def test_unknown_bank_is_a_usage_error(run):
    result = run("bank", "show", "nope", ok=False)
    assert isinstance(result.exception, HarisError) and result.exception.exit_code == 2


def test_hash_command(run, image_file, tmp_path):
    empty = tmp_path / "empty.png"
    empty.write_bytes(b"")
    result = run("hash", str(image_file(3)), str(empty), "--json", ok=False)
    assert result.exit_code == 3
    rows = json.loads(result.output)
    assert len(rows[0]["pdq"]) == 64 and rows[0]["pdq_quality"] == 100
    assert "empty file" in rows[1]["error"]
    text = run("hash", str(image_file(3))).output
    assert "pdq" in text and "quality 100" in text


def test_text_and_url_match_from_the_command_line(run, tmp_path):
    run("bank", "create", "posts", "-t", "text", "-c", "terrorism")
    run("bank", "add", "posts", "Synthetic example statement: join the example channel for daily releases")
    run("bank", "create", "sellers", "-t", "url", "-c", "trafficking")
    run("bank", "add", "sellers", "t.me/example_seller")
    out = json.loads(run("bank", "match", "--text", "SYNTHETIC example statement: join the example channel for "
                         "daily releases 🔥", "--url", "https://telegram.me/example_seller", "--cache-dir",
                         str(tmp_path / "c"), "--json").output)
    assert [r["signals"][0]["policy"] for r in out] == ["terrorism", "trafficking"]
