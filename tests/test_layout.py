"""The layout is a contract, not a convention: `app.keys` stands alone and the pure domain
modules import only the standard library (and each other). import-linter checks the
contracts in .importlinter; grimp's import graph checks "standard library only"."""
import shutil
import subprocess
import sys
from pathlib import Path

import grimp

ROOT = Path(__file__).resolve().parent.parent
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"
PURE = {"app.keys.format", "app.market.basket", "app.market.geo", "app.market.money",
        "app.market.plan", "app.market.plan_pruning", "app.market.plan_search"}


def lint_imports(cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([str(LINT_IMPORTS), "--no-cache"], cwd=cwd, capture_output=True,
                          text=True, env={"PYTHONPATH": str(cwd), "PATH": "/usr/bin:/bin"})


def test_import_contracts_hold():
    result = lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_the_contract_catches_the_key_layer_importing_the_marketplace(tmp_path):
    """Break the rule on a copy of the tree: the same contract must fail."""
    shutil.copytree(ROOT / "app", tmp_path / "app", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / ".importlinter", tmp_path)
    check = tmp_path / "app" / "keys" / "check.py"
    check.write_text("from app.market.models import Store  # noqa\n" + check.read_text())
    result = lint_imports(tmp_path)
    assert result.returncode == 1, result.stdout
    assert "app.keys.check -> app.market.models" in result.stdout


# Runs in a fresh interpreter on the given tree, so a mutated copy is really what is read.
PURE_CHECK = """
import sys, grimp
PURE = set(sys.argv[1:])
graph = grimp.build_graph("app", include_external_packages=True, cache_dir=None)
for module in sorted(PURE):
    for imported in sorted(graph.find_modules_directly_imported_by(module)):
        if imported not in PURE and imported.split(".")[0] not in sys.stdlib_module_names:
            print(module, "->", imported)
"""


def impure_imports(tree: Path) -> list[str]:
    result = subprocess.run([sys.executable, "-c", PURE_CHECK, *sorted(PURE)], cwd=tree,
                            capture_output=True, text=True, env={"PYTHONPATH": str(tree)},
                            check=True)
    return result.stdout.splitlines()


def test_pure_modules_import_only_the_standard_library_and_each_other():
    assert impure_imports(ROOT) == []


def test_the_pure_check_catches_a_framework_import(tmp_path):
    shutil.copytree(ROOT / "app", tmp_path / "app", ignore=shutil.ignore_patterns("__pycache__"))
    money = tmp_path / "app" / "market" / "money.py"
    money.write_text("import flask  # noqa\n" + money.read_text())
    assert impure_imports(tmp_path) == ["app.market.money -> flask"]
