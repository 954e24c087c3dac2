"""``dlom recommend`` (dlom/recommend_command.py): requirements from a YAML/JSON file or flags, a rich
table with scores and explanations, or --format json."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
from decision_graph import ModelSpec, write_models
from typer.testing import CliRunner

from dlom.recommend_command import parse_comparison, recommend
from kg.ontology import ontology_quads
from kg.store import open_store

app = typer.Typer()
app.command("recommend")(recommend)
app.command("noop")(lambda: None)  # a second command keeps 'recommend' a sub-command, as in dlom.cli
runner = CliRunner()


@pytest.fixture
def store_url(tmp_path: Path) -> str:
    url = f"oxigraph://{tmp_path / 'store'}"
    s = open_store(url)
    s.add(ontology_quads())
    write_models(s, [
        ModelSpec("Derm-ResNet", area="Medical", cost=12315, devices=10, accuracy=0.94, latency_ms=123),
        ModelSpec("Derm-Mobile", area="Medical", cost=9000, devices=10, accuracy=0.91, latency_ms=40),
        ModelSpec("Derm-Edge", area="Medical", cost=13000, devices=10, accuracy=0.92, latency_ms=200),
        ModelSpec("Factory", area="Industrial", cost=3000, devices=10, accuracy=0.99, latency_ms=5),
    ])
    s.close()
    return url


def test_yaml_file_and_json_output(store_url: str, tmp_path: Path) -> None:
    req = tmp_path / "req.yaml"
    req.write_text("""
project:
  business_focus: Medical
  total_budget_usd: 14000
  number_of_devices: 10
preferences:
  comparisons:
    - {more: performance, less: cost, level: stronger}
    - {more: security, less: latency, level: weak}
    - {more: cost, less: reliability, level: equal}
    - {more: cost, less: latency, level: weak}
    - {more: security, less: complexity, level: weak}
    - {more: performance, less: complexity, level: stronger}
""")
    result = runner.invoke(app, ["recommend", "-r", str(req), "--format", "json", "--store", store_url])
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    assert body["candidates_considered"] == 3
    assert [r["rank"] for r in body["recommendations"]] == [1, 2, 3]
    # flags override the file: a latency cap leaves only Derm-ResNet and Derm-Mobile
    result = runner.invoke(app, ["recommend", "-r", str(req), "--max-latency-ms", "150", "--format", "json",
                                 "--store", store_url])
    assert {r["label"] for r in json.loads(result.stdout)["recommendations"]} == {"Derm-ResNet", "Derm-Mobile"}


def test_flags_and_table(store_url: str) -> None:
    result = runner.invoke(app, ["recommend", "--business-focus", "medical", "--budget", "14000", "--devices", "10",
                                 "-c", "performance>cost:stronger", "-c", "latency<security:weak",
                                 "-c", "cost=reliability", "-c", "security>complexity:weak", "-c", "cost>latency:weak",
                                 "--store", store_url], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "3 model(s) match" in out and "Derm-Mobile" in out and "contributions:" in out
    assert "project.total_budget_usd" in out and "margin" in out and "evidence:" in out


def test_errors_name_the_field_or_file(store_url: str, tmp_path: Path) -> None:
    result = runner.invoke(app, ["recommend", "--min-accuracy", "3", "--store", store_url])
    assert result.exit_code == 2 and "performance.min_accuracy: must be in [0, 1]" in result.output
    bad = tmp_path / "bad.json"
    bad.write_text('{"project": {\n "business_focus": }')
    result = runner.invoke(app, ["recommend", "-r", str(bad), "--store", store_url])
    assert result.exit_code == 2 and "bad.json:2" in result.output
    result = runner.invoke(app, ["recommend", "--business-focus", "Space", "--store", store_url])
    assert result.exit_code == 3 and "prediction model is not available yet" in result.output
    result = runner.invoke(app, ["recommend", "-c", "performance>cost", "--store", store_url])
    assert result.exit_code == 2


def test_comparison_syntax() -> None:
    assert parse_comparison("latency<security:weak") == {"more": "security", "less": "latency", "level": "weak"}
    assert parse_comparison("cost = reliability") == {"more": "cost", "less": "reliability", "level": "equal"}
    with pytest.raises(typer.BadParameter):
        parse_comparison("cost>>latency")
