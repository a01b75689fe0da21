"""`linkcrawler export` and `intersect` on hand-made link tables: CSV a spreadsheet reads safely, bad input,
and memory that does not grow with the export (the synthetic-web checks are in test_export_intersect_e2e)."""

from __future__ import annotations

import csv
import gc
import io
import tracemalloc

import pytest
from pymongo.errors import AutoReconnect
from typer.testing import CliRunner

from linkcrawler.cli.main import app
from linkcrawler.export import formats, kinds
from linkcrawler.store.migrate import upgrade
from tests.profile_data import T1, T2, link, load, page

HOSTILE = ["a, b", 'say "hi"', "line one\nline two", "=HYPERLINK(\"http://evil\")", "+1+1", "-2", "@SUM(A1)",
           "\ttab", "plain", "crème brûlée ✓"]  # fmt: skip
INERT = {"=", "+", "-", "@", "\t"}


def run(*args: str):
    return CliRunner().invoke(app, list(args))


def test_csv_quotes_anchors_with_commas_quotes_newlines_and_makes_formulas_inert(cli_db, tmp_path):
    db, options = cli_db
    db.links.insert_many([link(f"http://s{i}.com/p", "http://t.com/", anchor) for i, anchor in enumerate(HOSTILE)])
    upgrade(db)
    out = tmp_path / "anchors.csv"
    for kind in ("backlinks", "anchors"):
        result = run("export", kind, "t.com", "--output", str(out), *options)
        assert result.exit_code == 0, result.output
        raw = out.read_bytes()
        assert raw.startswith(b"\xef\xbb\xbf"), "a UTF-8 BOM, so spreadsheets read UTF-8"
        rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"), newline="")))
        expected = sorted(f"'{a}" if a[0] in INERT else a for a in HOSTILE)
        assert sorted(row["anchor"] for row in rows) == expected, kind
    assert b'"a, b"' in raw and b'"say ""hi"""' in raw and b'"line one\nline two"' in raw


def test_cells_are_iso_dates_flags_and_empty_for_none():
    assert formats.cell(T1) == "2024-05-01T00:00:00+00:00"
    assert formats.cell(T1.replace(tzinfo=None)) == "2024-05-01T00:00:00+00:00"
    assert (formats.cell(True), formats.cell(None), formats.cell(-3), formats.cell(2.5)) == ("true", "", "-3", "2.5")
    assert formats.cell("-3") == "'-3" and formats.cell("http://x.com/=") == "http://x.com/="


def test_stdout_csv_has_a_header_and_no_bom_and_jsonl_has_one_object_per_row(cli_db):
    db, options = cli_db
    load(db)
    result = run("export", "backlinks", "B.com", *options)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == ",".join(kinds.LINK_COLUMNS) and len(lines) == 1 + 4, "live backlinks: the lost one is not"
    result = run("export", "lost", "b.com", "--since", "2024-05-01", "--format", "jsonl", *options)
    assert result.exit_code == 0, result.output
    assert '"reason": "link_removed"' in result.stdout and len(result.stdout.splitlines()) == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["export", "links", "b.com"], "unknown export kind 'links'"),
        (["export", "backlinks", "b.com", "--since", "May 1"], "--since 'May 1' is not a date"),
        (["export", "backlinks", "b.com", "--type", "txt"], "unknown link type 'txt'"),
        (["export", "backlinks", "b.com", "--position", "body"], "unknown position 'body'"),
        (["export", "backlinks", "b.com", "--format", "xlsx"], "unknown format 'xlsx'"),
        (["export", "outlinks", "a.com", "--source-domain", "c.com"], "--source-domain does not apply to outlinks"),
        (["intersect", "b.com", "a.com", "--min", "3"], "--min must be between 1 and the number of competitors (2)"),
        (["intersect", "b.com", "--not", "WWW.B.com"], "b.com is both a competitor and excluded"),
        (["intersect", "b.com", "--json", "--csv"], "give --json or --csv, not both"),
        (["intersect", "not a domain"], "'not a domain' is not a domain or URL"),
    ],
)
def test_bad_input_is_one_error_line(cli_db, args, message, capsys, monkeypatch):
    from linkcrawler.cli.main import main

    _, options = cli_db
    monkeypatch.setattr("sys.argv", ["linkcrawler", *args, *options])
    with pytest.raises(SystemExit) as exit_info:
        main()
    err = capsys.readouterr().err
    assert exit_info.value.code == 2 and err.startswith("linkcrawler: error: ") and message in err
    assert err.count("\n") == 1


@pytest.mark.faults
def test_an_export_cut_short_leaves_the_older_file_and_no_part_file(cli_db, tmp_path, capsys, monkeypatch):
    from linkcrawler.cli.main import main

    db, options = cli_db
    load(db)
    out = tmp_path / "kept.csv"
    out.write_text("older export\n")

    rows = kinds.rows

    def two_rows_then_the_server_goes(db, stages):
        yield from list(rows(db, stages))[:2]
        raise AutoReconnect("connection closed")

    monkeypatch.setattr(kinds, "rows", two_rows_then_the_server_goes)
    monkeypatch.setattr("sys.argv", ["linkcrawler", "export", "backlinks", "b.com", "-o", str(out), *options])
    with pytest.raises(SystemExit) as exit_info:
        main()
    assert exit_info.value.code == 2
    assert (
        capsys.readouterr().err == f"linkcrawler: error: the export stopped: connection closed; {out} was not written\n"
    )
    assert out.read_text() == "older export\n" and [p.name for p in tmp_path.iterdir()] == ["kept.csv"]


def test_intersect_csv_has_a_column_per_competitor(cli_db):
    db, options = cli_db
    db.links.insert_many([link("http://x.com/1", "http://a.com/"), link("http://x.com/2", "http://b.com/"),
                          link("http://y.com/", "http://a.com/", "=cmd")])  # fmt: skip
    upgrade(db)
    result = run("intersect", "a.com", "b.com", "--min", "1", "--csv", *options)
    assert result.exit_code == 0, result.output
    assert list(csv.reader(io.StringIO(result.stdout))) == [
        ["domain", "competitors", "authority", "links", "a.com", "b.com"],
        ["x.com", "2", "0.0", "2", "http://x.com/1", "http://x.com/2"],
        ["y.com", "1", "0.0", "1", "http://y.com/", ""],
    ]


def _fill(db, count: int) -> None:
    db.links.delete_many({})
    db.links.insert_many(
        [link(f"http://s{i % 97}.com/p{i}", f"http://t.com/{i % 13}", f"anchor {i}", first=T1, last=T1, live=True)
         for i in range(count)]
    )  # fmt: skip


def _peak_while_writing(db, stages, writer, path) -> int:
    """Peak bytes allocated while `writer` drains an export cursor into `path`, above what was allocated before.

    The cursor is opened first: a server holds the result and sends it in
    batches, mongomock builds it whole when the aggregation is sent, so what
    is measured is what the export itself holds while it writes.
    """
    cursor = kinds.rows(db, stages)
    with path.open("w", encoding="utf-8", newline="") as out:
        gc.collect()
        tracemalloc.start()
        try:
            assert writer(cursor, kinds.LINK_COLUMNS, out) > 0
            return tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()


@pytest.mark.parametrize("writer", [formats.write_csv, formats.write_jsonl])
def test_an_export_holds_no_more_rows_in_memory_as_the_collection_grows(mongo_db, tmp_path, writer):
    """Both sizes span several of the cursor's batches, so on a server each holds one batch at a time.

    An export that kept its rows would hold at least a pointer (8 bytes) per
    row more for the larger collection even on mongomock, where the rows
    exist already; the allowance is half of that, well above the allocator's
    noise (under 10 kB from run to run).
    """
    mongo_db.pages.insert_many([page(f"http://s{i}.com/p", fetched_at=T2) for i in range(5)])
    small, large = 2 * kinds.BATCH_SIZE, 8 * kinds.BATCH_SIZE
    peaks = {}
    for count in (small, large):
        _fill(mongo_db, count)
        out = tmp_path / f"out-{count}"
        peaks[count] = _peak_while_writing(mongo_db, kinds.pipeline(mongo_db, "backlinks", "t.com"), writer, out)
        assert len(out.read_text(encoding="utf-8").splitlines()) == count + (writer is formats.write_csv)
    assert peaks[large] - peaks[small] < (large - small) * 4, peaks
