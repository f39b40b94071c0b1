"""A sweep's output folder: one Parquet file and one JSON manifest per run.

Layout of the folder::

    sweep.json            the sweep (base scenario, points, seeds), versions, git commit
    runs/ID.parquet       the timeseries of run ID
    runs/ID.json          its manifest: scenario, seed, rows, SHA-256 of the
                          Parquet file, versions, git commit; or its error
    table.parquet         every successful run in sweep order (when the sweep ends)
    summary.json          counts, failures and wall time (when the sweep ends)

Every file is written to a temporary name and renamed into place, so a file
under its final name is complete. A run counts as complete only when its
manifest records ``ok`` and the Parquet file has the recorded SHA-256 and row
count. Anything else is computed again on ``--resume``.
"""

import hashlib
import json
import logging
import os
import platform
import shutil
import sys
from importlib import metadata
from pathlib import Path

from experiments.output import provenance

__all__ = ["RunStore", "environment", "load_table"]

logger = logging.getLogger(__name__)

SWEEP_FILE = "sweep.json"
TABLE_FILE = "table.parquet"
SUMMARY_FILE = "summary.json"
RUNS_FOLDER = "runs"
VERSIONED_PACKAGES = ("llm-ad-market", "mesa", "numpy", "scipy", "pandas", "networkx", "pyarrow", "dask", "distributed")


def environment():
    """Return the versions of Python and the packages a run depends on, and the git commit."""
    versions = {"python": platform.python_version()}
    for package in VERSIONED_PACKAGES:
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = None
    return {"package_versions": versions, "git_commit": provenance()["git_commit"]}


class RunStore:
    """Reads and writes the files of one sweep's output folder.

    Parameters
    ----------
    root : str or Path
        The output folder.
    """

    def __init__(self, root):
        self.root = Path(root)
        self.runs_folder = self.root / RUNS_FOLDER

    def prepare(self, record, resume, overwrite, error_type):
        """Create the folder, or check that it contains this very sweep when resuming.

        A folder that already contains a sweep is used only with ``resume`` (and
        then only for the same sweep) or ``overwrite`` (which deletes the
        sweep's files first). ``error_type`` is the exception raised otherwise.
        """
        if self.root.exists() and not self.root.is_dir():
            raise error_type(f"output path {self.root} exists and is not a folder; choose another --out")
        stored = self._read_json(self.root / SWEEP_FILE)
        has_files = self.root.is_dir() and any(self.root.iterdir())
        if overwrite:
            self._delete_sweep_files()
        elif resume and has_files:
            if stored is None:
                raise error_type(f"{self.root} has no readable {SWEEP_FILE}, so it cannot be resumed; "
                                 "pass --overwrite to start again or choose another --out")
            if stored.get("sweep") != record:
                raise error_type(f"{self.root} contains a different sweep (other base scenario, points or seeds); "
                                 "resume it with its own sweep file, pass --overwrite, or choose another --out")
        elif has_files:
            raise error_type(f"{self.root} already contains results; pass --resume to finish that sweep, "
                             "--overwrite to replace it, or choose another --out")
        self.runs_folder.mkdir(parents=True, exist_ok=True)
        for stale in (TABLE_FILE, SUMMARY_FILE):
            (self.root / stale).unlink(missing_ok=True)
        self._write_json(self.root / SWEEP_FILE, {"sweep": record, **environment()})

    def completed(self, run):
        """Return (True, "") if ``run``'s files are complete and intact, else (False, the reason)."""
        manifest = self._read_json(self._manifest_path(run))
        if manifest is None:
            return False, "no manifest"
        if manifest.get("status") != "ok":
            return False, f"status {manifest.get('status')!r}"
        table = self._table_path(run)
        if not table.is_file():
            return False, "Parquet file missing"
        if _sha256(table) != manifest.get("sha256"):
            return False, "Parquet file does not match its SHA-256"
        rows = _row_count(table)
        if rows != manifest.get("rows"):
            return False, f"Parquet file has {rows} rows, the manifest records {manifest.get('rows')}"
        return True, ""

    def write_success(self, run, table, seconds, environment_record):
        """Write a run's table and then its manifest, each by an atomic rename."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        path = self._table_path(run)
        partial = path.with_name(path.name + ".partial")
        pq.write_table(pa.Table.from_pandas(table, preserve_index=False), partial)
        os.replace(partial, path)
        manifest = self._manifest(run, "ok", seconds, environment_record)
        manifest.update(file=path.name, rows=len(table), sha256=_sha256(path))
        self._write_json(self._manifest_path(run), manifest)

    def write_failure(self, run, error, traceback_text, seconds, environment_record):
        """Write a failed run's manifest with its error and traceback, and remove any stale table."""
        self._table_path(run).unlink(missing_ok=True)
        manifest = self._manifest(run, "failed", seconds, environment_record)
        manifest.update(error=error, traceback=traceback_text)
        self._write_json(self._manifest_path(run), manifest)

    def failures(self, runs):
        """Return the id and error of every run whose manifest records a failure."""
        failed = []
        for run in runs:
            manifest = self._read_json(self._manifest_path(run))
            if manifest is not None and manifest.get("status") == "failed":
                failed.append({"id": run.run_id, "error": manifest.get("error")})
        return failed

    def write_table(self, runs):
        """Stream every complete run, in sweep order, into ``table.parquet``; return its path or None."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        paths = [self._table_path(run) for run in runs if self.completed(run)[0]]
        target = self.root / TABLE_FILE
        if not paths:
            return None
        # Label columns can hold int in one run and float in another; permissive promotion unifies them.
        schema = pa.unify_schemas([pq.read_schema(path) for path in paths], promote_options="permissive")
        schema = schema.remove_metadata()
        partial = target.with_name(target.name + ".partial")
        with pq.ParquetWriter(partial, schema) as writer:
            for path in paths:
                table = pq.read_table(path).replace_schema_metadata(None)
                writer.write_table(_conform(table, schema))
        os.replace(partial, target)
        return target

    def write_summary(self, summary):
        self._write_json(self.root / SUMMARY_FILE, summary)

    def _manifest(self, run, status, seconds, environment_record):
        return {
            "id": run.run_id,
            "status": status,
            "point": run.point,
            "replicate": run.replicate,
            "seed": run.seed,
            "overrides": run.labels,
            "wall_seconds": seconds,
            "scenario": run.scenario.to_dict(),
            **environment_record,
        }

    def _delete_sweep_files(self):
        if self.runs_folder.is_dir():
            shutil.rmtree(self.runs_folder)
        for name in (SWEEP_FILE, TABLE_FILE, SUMMARY_FILE):
            (self.root / name).unlink(missing_ok=True)

    def _table_path(self, run):
        return self.runs_folder / f"{run.run_id}.parquet"

    def _manifest_path(self, run):
        return self.runs_folder / f"{run.run_id}.json"

    @staticmethod
    def _read_json(path):
        try:
            return json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None

    @staticmethod
    def _write_json(path, data):
        path = Path(path)
        partial = path.with_name(path.name + ".partial")
        partial.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
        os.replace(partial, path)


def load_table(root):
    """Return a finished sweep's table (``table.parquet``) as a pandas DataFrame."""
    import pyarrow.parquet as pq

    path = Path(root) / TABLE_FILE
    if not path.is_file():
        raise FileNotFoundError(f"{path} not found; the sweep in {root} has not finished (run it with --resume)")
    return pq.read_table(path).to_pandas()


def _conform(table, schema):
    """Add the columns ``table`` lacks as nulls and cast it to ``schema``."""
    import pyarrow as pa

    for field in schema:
        if field.name not in table.column_names:
            table = table.append_column(field, pa.nulls(len(table), field.type))
    return table.select(schema.names).cast(schema)


def _sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _row_count(path):
    import pyarrow.parquet as pq

    try:
        return pq.read_metadata(path).num_rows
    except Exception:  # pyarrow raises several types for a damaged file
        logger.debug("cannot read Parquet metadata of %s: %s", path, sys.exc_info()[1])
        return None
