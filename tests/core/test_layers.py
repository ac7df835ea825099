"""The apps' layers hold (pyproject.toml [tool.importlinter]): core imports no app, grid does
not import liaison, issues or the demo seeder, and each app only imports the layers below it.
A broken contract fails `make test` and CI here, with import-linter's report of the chain."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def lint_imports(*arguments: str) -> subprocess.CompletedProcess:
    command = [str(Path(sys.executable).with_name("lint-imports")), "--no-cache", *arguments]
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300)


def test_every_import_contract_is_kept():
    result = lint_imports()
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_the_contracts_name_core_and_grid():
    # The two rules of issue 5 are contracts of their own, so neither can be dropped silently.
    report = lint_imports().stdout
    assert "core imports no app" in report
    assert "grid imports neither liaison" in report
