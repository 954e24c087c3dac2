"""`dlom migrate`: a graph copied between the embedded store, Neo4j and Fuseki comes out the same."""
from __future__ import annotations

import pytest
import typer
from pyoxigraph import BlankNode, Literal, NamedNode, Quad
from typer.testing import CliRunner

from benchmarks.generate_graph import generate_graph
from conftest_backends import fresh_store
from dlom.migrate_command import migrate as migrate_command
from kg.errors import DlomError
from kg.migrate import canonical_line, digest, migrate
from kg.ontology import ontology_quads
from kg.store import open_store
from recording_progress import RecordingProgress

G = NamedNode("http://example.org/g")


def test_digest_ignores_blank_node_labels_only() -> None:
    a = [Quad(BlankNode("x1"), NamedNode("http://example.org/p"), Literal("v"), G)]
    b = [Quad(BlankNode("other"), NamedNode("http://example.org/p"), Literal("v"), G)]
    c = [Quad(BlankNode("x1"), NamedNode("http://example.org/p"), Literal("w"), G)]
    assert digest(a) == digest(b)
    assert digest(a) != digest(c)
    assert canonical_line(a[0]) == '_:b <http://example.org/p> "v" <http://example.org/g> .'


def test_progress_hears_the_total_then_every_batch() -> None:
    source, target = open_store("oxigraph://"), open_store("oxigraph://")
    source.add(generate_graph(250))
    progress = RecordingProgress()
    report = migrate(source, target, batch_size=100, progress=progress)
    assert progress.total == progress.advanced == report.source.quads == source.count()


def test_round_trip_through_every_backend(neo4j_url: str, fuseki_url: str) -> None:
    original = open_store("oxigraph://")
    original.add(ontology_quads())
    original.add(generate_graph(3_000))
    expected = digest(original.quads())
    neo4j = fresh_store("neo4j", with_ontology=False)
    fuseki = fresh_store("sparql", with_ontology=False)
    back = open_store("oxigraph://")
    for source, target in [(original, neo4j), (neo4j, fuseki), (fuseki, back)]:
        report = migrate(source, target, batch_size=1_000)
        assert report.source == report.target == expected
        assert report.batches == -(-expected.quads // 1_000)
    # No blank nodes here, so the round trip is exact line for line.
    assert sorted(f"{q}" for q in back.quads()) == sorted(f"{q}" for q in original.quads())


def test_refuses_non_empty_target_unless_replace(neo4j_url: str) -> None:
    source = open_store("oxigraph://")
    source.add([Quad(NamedNode("http://example.org/a"), NamedNode("http://example.org/p"), Literal("1"), G)])
    target = fresh_store("neo4j", with_ontology=True)
    with pytest.raises(DlomError, match="already holds"):
        migrate(source, target)
    report = migrate(source, target, replace=True)
    assert report.target.quads == 1 == target.count()


def test_cli_migrate_reports_verification(neo4j_url: str) -> None:
    app = typer.Typer()
    app.command()(migrate_command)
    app.command("noop")(lambda: None)  # two commands, so `migrate` is a sub-command as in dlom/cli.py
    fresh_store("neo4j", with_ontology=False).close()
    runner = CliRunner()
    result = runner.invoke(app, ["migrate", "--from", "oxigraph://", "--to", neo4j_url])  # empty source
    assert result.exit_code == 0, result.output
    assert "copied 0 quads" in result.output
    bad = runner.invoke(app, ["migrate", "--from", "nosuch://x", "--to", neo4j_url])
    assert bad.exit_code == 1
    assert "unknown store URL scheme" in bad.output


def test_cli_migrate_copies_a_disk_store(tmp_path, neo4j_url: str) -> None:
    disk = open_store(f"oxigraph://{tmp_path / 'store'}")
    disk.add(ontology_quads())
    expected = digest(disk.quads())
    disk.close()
    fresh_store("neo4j", with_ontology=False).close()
    app = typer.Typer()
    app.command()(migrate_command)
    app.command("noop")(lambda: None)
    result = CliRunner().invoke(app, ["migrate", "--from", f"oxigraph://{tmp_path / 'store'}", "--to", neo4j_url])
    assert result.exit_code == 0, result.output
    assert expected.sha256 in result.output.replace("\n", "")  # rich may wrap the long line
    assert open_store(neo4j_url).count() == expected.quads
