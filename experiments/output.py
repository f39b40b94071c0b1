"""Shared handling of an experiment's output folder and files."""

import json
import math
import subprocess
from pathlib import Path

import market

__all__ = ["OutputError", "prepare_output", "provenance", "write_json"]


class OutputError(RuntimeError):
    """The output folder cannot be used as asked."""


def prepare_output(path, expected_files, overwrite):
    """Create the output folder; refuse to replace earlier results unless ``overwrite`` is set.

    Parameters
    ----------
    path : str or Path
    expected_files : iterable of str
        Names of the files the experiment writes.
    overwrite : bool
        Allow replacing those files if they exist.
    """
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise OutputError(f"output path {path} exists and is not a folder; choose another --out")
    existing = [name for name in expected_files if (path / name).exists()]
    if existing and not overwrite:
        raise OutputError(
            f"{path} already contains results ({', '.join(existing)}); pass --overwrite to replace them "
            "or choose another folder with --out"
        )
    path.mkdir(parents=True, exist_ok=True)
    return path


def provenance():
    """Return the package version and, when run from a git checkout, the commit."""
    info = {"package_version": market.__version__}
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=Path(__file__).resolve().parent,
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout.strip()
        info["git_commit"] = commit
    except (OSError, subprocess.SubprocessError):
        info["git_commit"] = None
    return info


def write_json(path, data):
    """Write ``data`` as indented JSON, with NaN and infinity written as null."""
    Path(path).write_text(json.dumps(_finite(data), indent=2) + "\n", encoding="utf-8")


def _finite(value):
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(item) for item in value]
    return value
