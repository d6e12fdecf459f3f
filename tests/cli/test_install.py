"""The installed distribution is one namespace: `pip install .` adds only `shelfcheck` to
site-packages, and `python -m shelfcheck` works from a folder whose own `catalog.py`,
`scheduler.py` and `reports/` would shadow a flat install."""

from __future__ import annotations

import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import pytest

from shelfcheck import __version__
from tests.conftest import ROOT


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
         "--wheel-dir", str(out), str(ROOT)],
        check=True, capture_output=True, text=True, timeout=300)
    (found,) = out.glob("shelfcheck-*.whl")
    return found


def test_fresh_install_is_one_namespace(wheel: Path, tmp_path: Path) -> None:
    target = tmp_path / "venv"
    venv.create(target, with_pip=False)
    python = target / "bin" / "python"
    subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet",
         "--no-deps", "--no-index", str(wheel)],
        check=True, capture_output=True, text=True, timeout=300)
    site = Path(subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True, capture_output=True, text=True).stdout.strip())
    added = sorted(p.name for p in site.iterdir() if p.name != "__pycache__")
    assert added == ["shelfcheck", f"shelfcheck-{__version__}.dist-info"], added

    # A folder with the names a flat install would have collided with.
    work = tmp_path / "work"
    (work / "reports").mkdir(parents=True)
    (work / "reports" / "__init__.py").write_text("raise SystemExit('shadowed reports')\n")
    (work / "catalog.py").write_text("raise SystemExit('shadowed catalog')\n")
    (work / "scheduler.py").write_text("raise SystemExit('shadowed scheduler')\n")
    # The dependencies come from the test environment; shelfcheck itself only from the new venv.
    deps = sysconfig.get_paths()["purelib"]
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": deps, "HOME": str(tmp_path)}
    done = subprocess.run([str(python), "-m", "shelfcheck", "--version"], cwd=work, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert __version__ in done.stdout
    where = subprocess.run(
        [str(python), "-c", "import shelfcheck.catalog.models as m, shelfcheck.scheduler as s; "
         "print(m.__file__); print(s.__file__)"],
        cwd=work, env=env, capture_output=True, text=True, timeout=120)
    assert where.returncode == 0, where.stderr
    assert all(line.startswith(str(site)) for line in where.stdout.split()), where.stdout
