"""`distretto modules new NAME`: the generated package installs with pip and passes its tests."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from distretto.platform.scaffold import kernel_head


def install_and_run_tests(source: Path, work: Path, label: str) -> subprocess.CompletedProcess:
    """pip-install ``source`` into ``work/site`` and run its own tests against that install.

    The package's tests run in a fresh interpreter, from a copy of the source
    tree, with only ``work/site`` added to the path: the module is found
    through its entry point there, as a pip-installed module is in production.
    The database is the current run's kind (SQLite, or PostgreSQL when
    DISTRETTO_TEST_DATABASE_URL is set) under a database name of its own.
    """
    tree = work / "src"
    shutil.copytree(
        source,
        tree,
        ignore=shutil.ignore_patterns(
            "build", "*.egg-info", "__pycache__", ".pytest_cache", ".ruff_cache"
        ),
    )
    site = work / "site"
    install = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "--no-index",
            "--no-deps",
            "--no-build-isolation",
            "--target",
            str(site),
            str(tree),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert install.returncode == 0, f"pip install failed:\n{install.stdout}\n{install.stderr}"
    assert list(site.glob("*.dist-info/entry_points.txt")), "installed without entry points"
    env = {key: value for key, value in os.environ.items() if not key.startswith("PYTEST_")}
    env["PYTHONPATH"] = str(site)
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env["PYTEST_XDIST_WORKER"] = f"{os.environ.get('PYTEST_XDIST_WORKER', 'main')}_{label}"
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tree / "tests")],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )


def passed_count(result: subprocess.CompletedProcess) -> int:
    match = re.search(r"(\d+) passed", result.stdout)
    return int(match.group(1)) if match else 0


def run_new(app, *args: str):
    return app.test_cli_runner().invoke(args=["modules", "new", *args])


def test_generated_module_installs_with_pip_and_passes_its_tests_unchanged(app, tmp_path):
    result = run_new(app, "widgets", "--path", str(tmp_path / "out"))
    assert result.exit_code == 0, result.output
    package = tmp_path / "out" / "distretto-widgets"

    run = install_and_run_tests(package, tmp_path / "work", "scaffold")

    assert run.returncode == 0, f"generated tests failed:\n{run.stdout}\n{run.stderr}"
    assert passed_count(run) >= 5, run.stdout
    assert " failed" not in run.stdout


def test_generated_package_declares_entry_point_branch_and_namespaced_names(app, tmp_path):
    result = run_new(app, "conto_terzi", "--path", str(tmp_path))
    assert result.exit_code == 0, result.output
    root = tmp_path / "distretto-conto-terzi"
    assert str(root) in result.output

    pyproject = (root / "pyproject.toml").read_text()
    assert '[project.entry-points."distretto.modules"]' in pyproject
    assert 'conto_terzi = "distretto_conto_terzi:module"' in pyproject
    migration = (
        root / "distretto_conto_terzi" / "migrations" / "versions" / "conto_terzi_0001_initial.py"
    ).read_text()
    assert 'branch_labels = ("conto_terzi",)' in migration
    assert f'depends_on = "{kernel_head()}"' in migration
    assert 'enable_tenant_rls("conto_terzi_items")' in migration
    init = (root / "distretto_conto_terzi" / "__init__.py").read_text()
    assert '"conto_terzi.view"' in init
    assert '"conto_terzi.edit"' in init
    views = (root / "distretto_conto_terzi" / "views.py").read_text()
    assert 'tenant_blueprint("conto_terzi", __name__, "/conto_terzi"' in views
    assert (root / "tests" / "test_conto_terzi.py").exists()
    assert (root / "distretto_conto_terzi" / "templates" / "conto_terzi" / "index.html").exists()


@pytest.mark.parametrize("name", ["widgets", "conto_terzi"])
def test_generated_code_passes_its_own_lint_and_format_checks(app, tmp_path, name):
    run_new(app, name, "--path", str(tmp_path))
    (root,) = tmp_path.iterdir()
    ruff = Path(sys.executable).with_name("ruff")
    for command in (["check", "--no-cache", "."], ["format", "--check", "--no-cache", "."]):
        result = subprocess.run(
            [str(ruff), *command], cwd=root, capture_output=True, text=True, check=False
        )
        assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("Widgets", "lower-case letters and digits"),
        ("3d_print", "lower-case letters and digits"),
        ("wid-gets", "lower-case letters and digits"),
        ("double__underscore", "lower-case letters and digits"),
        ("trailing_", "lower-case letters and digits"),
        ("x", "2 to 30 characters"),
        ("a" * 31, "2 to 30 characters"),
        ("tenant", "reserved by the platform"),
        ("settings", "reserved by the platform"),
        ("orders_api", "reserved by the platform"),
        ("class", "reserved by the platform"),
        ("sample", "already installed"),
        ("custom_field", "table prefix of 'custom_field_definitions'"),
    ],
)
def test_bad_names_are_refused_with_a_one_line_error(app, tmp_path, name, problem):
    result = run_new(app, name, "--path", str(tmp_path))
    assert result.exit_code != 0
    lines = result.output.strip().splitlines()
    assert len(lines) == 1, result.output
    assert lines[0].startswith("Error: ")
    assert problem in lines[0]
    assert not list(tmp_path.iterdir()), "a refused name must write nothing"


def test_existing_folder_is_never_overwritten(app, tmp_path):
    existing = tmp_path / "distretto-widgets"
    existing.mkdir()
    (existing / "keep.txt").write_text("mine")
    result = run_new(app, "widgets", "--path", str(tmp_path))
    assert result.exit_code != 0
    assert "already exists" in result.output
    assert (existing / "keep.txt").read_text() == "mine"
    assert sorted(p.name for p in existing.iterdir()) == ["keep.txt"]
