"""docs/from-the-document.md works: every Python block runs on its own, as a reader would
paste it, every shell block runs in bash from the repository's root (60 s load tests cut
to 1 s), and every YAML block is an SLO file equal to the lab's own slo.yaml."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from lab.harness.slo import load_slo, parse_slo
from lab.patterns.document_names import CLASSES, GUIDE
from tests.conftest import skip_unless_required
from tests.integration.service_helpers import service_process

REPOSITORY = Path(__file__).resolve().parents[2]
BLOCK = re.compile(r"^```(\w*)\n(.*?)^```$", re.MULTILINE | re.DOTALL)


def _blocks(language: str | None = None) -> list[tuple[int, str, str]]:
    """(line, language, source) of every fenced block of the guide."""
    text = (REPOSITORY / GUIDE).read_text(encoding="utf-8")
    found = [(text.count("\n", 0, m.start()) + 1, m.group(1), m.group(2))
             for m in BLOCK.finditer(text)]  # fmt: skip
    return [block for block in found if language is None or block[1] == language]


def _id(block: tuple[int, str, str]) -> str:
    return f"line {block[0]}"


def _run(command: list[str], env: dict[str, str] | None = None) -> str:
    done = subprocess.run(command, cwd=REPOSITORY, capture_output=True, text=True,
                          timeout=300, env=env)  # fmt: skip
    assert done.returncode == 0, f"{done.stdout}\n{done.stderr}"
    return done.stdout


def test_every_block_is_python_shell_or_yaml() -> None:
    languages = {language for _, language, _ in _blocks()}
    assert languages == {"python", "bash", "yaml"}


def test_every_section_a_document_name_points_to_exists() -> None:
    text = (REPOSITORY / GUIDE).read_text(encoding="utf-8")
    anchors = {re.sub(r"[^a-z0-9 -]", "", h.lower()).replace(" ", "-")
               for h in re.findall(r"^#+ (.+)$", text, re.MULTILINE)}  # fmt: skip
    assert {section for _, section in CLASSES.values()} | {"database-pool"} <= anchors


@pytest.fixture(scope="module")
def reader_env(all_up: None) -> Iterator[dict[str, str]]:
    """A reader's shell: the venv's commands on PATH, and `lab serve` running."""
    path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"
    with service_process() as url:
        yield {**os.environ, "LAB_SERVE_URL": url, "PATH": path}


@pytest.mark.parametrize("block", _blocks("python"), ids=_id)
def test_python_block_runs(block: tuple[int, str, str], reader_env: dict[str, str]) -> None:
    _run([sys.executable, "-c", block[2]], reader_env)


@pytest.mark.parametrize("block", _blocks("bash"), ids=_id)
def test_shell_block_runs(block: tuple[int, str, str], reader_env: dict[str, str]) -> None:
    source = block[2].replace("--duration 60s", "--duration 1s")
    _run(["bash", "-euo", "pipefail", "-c", source], reader_env)


def test_the_documents_slo_targets_are_the_labs() -> None:
    (block,) = _blocks("yaml")
    lab_targets = load_slo(REPOSITORY / "slo.yaml")
    assert parse_slo(block[2], "the guide") == lab_targets
    assert load_slo(REPOSITORY / "docs" / "document-slo.yaml") == lab_targets


def test_the_document_name_rules_pass_promtool() -> None:
    promtool = shutil.which("promtool")
    if promtool is None:
        skip_unless_required("promtool is not installed (Debian's prometheus package; "
                             "`make tools` installs it)")  # fmt: skip
        return
    rules = REPOSITORY / "docs" / "prometheus"
    assert "SUCCESS" in _run([promtool, "check", "rules", str(rules / "document-names.rules.yml")])
    assert "SUCCESS" in _run([promtool, "test", "rules", str(rules / "document-names.test.yml")])
