"""
`make run` keeps its workers up: .ci/supervise starts a command again after it
dies, whatever its exit status, and stops it (and itself) on SIGTERM.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

from django.conf import settings

from tests.faults.conftest import wait_for

SUPERVISE = Path(settings.BASE_DIR) / ".ci" / "supervise"


def test_a_dead_worker_is_started_again_and_a_stop_stops_it(tmp_path: Path) -> None:
    starts = tmp_path / "starts"
    # Dies at once the first two times (as a worker killed by the OOM killer would), then stays up.
    command = f'echo $$ >> {starts}; [ "$(wc -l < {starts})" -ge 3 ] && exec sleep 60; exit 9'
    supervisor = subprocess.Popen(
        [str(SUPERVISE), "probe", "sh", "-c", command],
        env={**os.environ, "SUPERVISE_RESTART_DELAY": "0.2"},
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        wait_for(lambda: starts.exists() and len(starts.read_text().split()) >= 3, "three starts", 10)
        time.sleep(0.5)
        assert len(starts.read_text().split()) == 3  # the third stayed up: nothing restarted it
        last = int(starts.read_text().split()[-1])
        os.kill(last, 0)  # alive
        supervisor.send_signal(signal.SIGTERM)
        assert supervisor.wait(10) == 0
        stderr = supervisor.stderr.read().decode() if supervisor.stderr else ""
        assert stderr.count("the probe exited (status 9)") == 2, stderr
        wait_for(lambda: not _alive(last), "the supervised command to be stopped", 5)
    finally:
        if supervisor.poll() is None:
            os.killpg(supervisor.pid, signal.SIGKILL)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie still answers kill(0): look at its state.
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except FileNotFoundError:
        return False
