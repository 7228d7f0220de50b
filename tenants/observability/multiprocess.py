"""
Prometheus' multiprocess mode under gunicorn and Celery's prefork pool.

Each process writes its samples to memory-mapped files in PROMETHEUS_MULTIPROC_DIR
(named `<type>_<pid>.db`); a scrape adds up every file. Workers recycled by
`max_requests` would leave a file each behind (a few a minute at full load), and
every scrape would read them all, so when a process exits its counters and
histograms are added into one archive file per type and its own files removed.
Only the master (gunicorn's `child_exit` hook, one process) archives, so archive
writes never race. No Django import here: gunicorn's config imports this module.
"""

from __future__ import annotations

import glob
import os
from pathlib import Path

from prometheus_client.mmap_dict import MmapedDict

# Types whose samples add up across processes (our metrics use no gauges in files).
_SUMMED_TYPES = ("counter", "histogram", "summary")


def multiprocess_dir() -> Path | None:
    """Return PROMETHEUS_MULTIPROC_DIR when multiprocess mode is on."""
    value = os.environ.get("PROMETHEUS_MULTIPROC_DIR", "").strip()
    return Path(value) if value else None


def multiprocess_dir_reset(path: Path) -> None:
    """Create the directory and drop files of earlier runs (call before any worker starts)."""
    path.mkdir(parents=True, exist_ok=True)
    for stale in path.glob("*.db"):
        stale.unlink(missing_ok=True)


def process_files_archive(pid: int, path: Path | None = None) -> int:
    """Add a dead process's counters and histograms into the archive files; return files merged."""
    path = path or multiprocess_dir()
    if path is None:
        return 0
    merged = 0
    for kind in _SUMMED_TYPES:
        for filename in glob.glob(str(path / f"{kind}_{pid}.db")):
            archive = MmapedDict(str(path / f"{kind}_archive.db"))
            try:
                for key, value, _timestamp, _pos in MmapedDict.read_all_values_from_file(filename):
                    if value:
                        archive.write_value(key, archive.read_value(key)[0] + value, 0.0)
            finally:
                archive.close()
            os.unlink(filename)
            merged += 1
    # Live gauges (none of ours, but libraries may add some) go with their process.
    for filename in glob.glob(str(path / f"gauge_live*_{pid}.db")):
        os.unlink(filename)
    return merged
