"""The package as a user installs it: the wheel built from this checkout, installed (not
editable) in a fresh venv of the oldest and of the newest Python we support where this machine
has them (else this one), then the demo recorded and listed with the installed ``sessionlens``.

Skipped when pip cannot reach the package registry (the wheel's dependencies come from there),
like the Kedro tests; CI has the registry, so it runs there.
"""

from __future__ import annotations

import glob
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
NETWORK_ERRORS = (
    "Temporary failure in name resolution",
    "Network is unreachable",
    "Connection refused",
    "Read timed out",
    "Max retries exceeded",
    "No matching distribution found for hatchling",
)


def _pythons() -> list[str]:
    """pyenv's oldest and newest supported Pythons where this machine has them (3.10, 3.13),
    this interpreter in place of either one it lacks: the versions between add little to
    this smoke test of the built wheel, and each fresh venv costs about 20 s."""
    found = []
    root = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"
    for minor in ("3.10", "3.13"):
        candidates = sorted(glob.glob(str(root / f"{minor}.*" / "bin" / "python3")))
        if minor == f"{sys.version_info[0]}.{sys.version_info[1]}" or not candidates:
            found.append(sys.executable)
        else:
            found.append(candidates[-1])
    return list(dict.fromkeys(found))


def _env() -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("PYTHON", "VIRTUAL_ENV", "SESSIONLENS_"))
    }
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    return env


def _run(argv: list[str], cwd: Path, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(
        argv, cwd=cwd, capture_output=True, text=True, timeout=timeout, env=_env(), check=False
    )
    if proc.returncode != 0:
        output = proc.stdout + proc.stderr
        if any(marker in output for marker in NETWORK_ERRORS):
            pytest.skip("pip cannot reach the package registry")
        pytest.fail(f"{' '.join(argv)} failed ({proc.returncode}):\n{output[-4000:]}")
    return proc


@pytest.fixture(scope="session")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(out), str(REPO)], out)
    (built,) = out.glob("sessionlens-*.whl")
    return built


@pytest.mark.parametrize("python", _pythons(), ids=lambda p: Path(p).parents[1].name)
def test_the_wheel_installs_and_runs_the_demo(wheel: Path, python: str, tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    _run([python, "-m", "venv", str(venv)], tmp_path)
    bin_dir = venv / "bin"
    _run([str(bin_dir / "python"), "-m", "pip", "install", "-q", str(wheel)], tmp_path)
    installed = _run([str(bin_dir / "sessionlens"), "-V"], tmp_path).stdout
    assert installed.startswith("sessionlens ")
    demo = tmp_path / "demo"
    sessionlens = str(bin_dir / "sessionlens")
    _run([sessionlens, "demo", "--dir", str(demo), "--no-open"], tmp_path)
    out = _run([sessionlens, "--store", str(demo), "list", "--json"], tmp_path).stdout
    listed = json.loads(out)
    assert len(listed) >= 10
    assert {"success", "failed"} <= {s["status"] for s in listed}
    assert any(s.get("metrics") for s in listed)  # the demo's runs log metrics
    api = (
        "import sys; from sessionlens import Session, open_store, log_metrics; "
        "print('textual' in sys.modules)"
    )
    assert _run([str(bin_dir / "python"), "-c", api], tmp_path).stdout.strip() == "False"
    # installed, not editable: the code comes from the venv
    where = _run(
        [str(bin_dir / "python"), "-c", "import sessionlens; print(sessionlens.__file__)"], tmp_path
    ).stdout
    assert str(venv) in where
