"""The example third-party module (examples/conto-lavoro) installs with pip and passes its tests."""

from __future__ import annotations

from pathlib import Path

from tests.test_scaffold import install_and_run_tests, passed_count

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "conto-lavoro"


def test_conto_lavoro_installs_through_its_entry_point_and_passes_its_tests(tmp_path):
    run = install_and_run_tests(EXAMPLE, tmp_path, "example")

    assert run.returncode == 0, f"conto lavoro's tests failed:\n{run.stdout}\n{run.stderr}"
    assert passed_count(run) >= 45, run.stdout
    assert " failed" not in run.stdout
    entry_points = next((tmp_path / "site").glob("*.dist-info/entry_points.txt")).read_text()
    assert "conto_lavoro = distretto_conto_lavoro:module" in entry_points
