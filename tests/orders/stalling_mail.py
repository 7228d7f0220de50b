"""
An e-mail backend for tests/orders/test_worker_crash.py, loaded by the worker it
starts (`EMAIL_BACKEND=tests.orders.stalling_mail.StallingFileBackend`): Django's
file backend, except that a message to the address written in
`$MAIL_STALL_DIR/stall` first drops a `stalled` marker there and then hangs while
that file exists, so the test can kill the worker in the middle of a send.
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from pathlib import Path

from django.core.mail import EmailMessage
from django.core.mail.backends.filebased import EmailBackend

STALL_AT_MOST_SECONDS = 60


class StallingFileBackend(EmailBackend):
    def send_messages(self, email_messages: Sequence[EmailMessage]) -> int:
        control = Path(os.environ["MAIL_STALL_DIR"])
        stall = control / "stall"
        for message in email_messages:
            if stall.exists() and stall.read_text().strip() in message.to:
                (control / "stalled").write_text(f"{os.getpid()} {message.to[0]}")
                give_up = time.monotonic() + STALL_AT_MOST_SECONDS
                while stall.exists() and time.monotonic() < give_up:
                    time.sleep(0.05)
        return super().send_messages(email_messages)
