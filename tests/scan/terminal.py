"""Run `leftovers` under a pseudo-terminal of a given width, as a person at a terminal does."""

from __future__ import annotations

import errno
import fcntl
import os
import struct
import subprocess
import sys
import termios
from collections.abc import Mapping, Sequence


def run_in_terminal(
    argv: Sequence[str], columns: int = 80, env: Mapping[str, str] | None = None
) -> tuple[int, str]:
    """Run `python -m scanner ARGV` with stdin, stdout and stderr on a pty; (status, output)."""
    leader, follower = os.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 50, columns, 0, 0))
    environment = dict(os.environ if env is None else env)
    environment.update({"TERM": "xterm-256color", "COLUMNS": str(columns), "LINES": "50"})
    environment.pop("NO_COLOR", None)
    with subprocess.Popen(
        [sys.executable, "-m", "scanner", *argv],
        stdin=follower,
        stdout=follower,
        stderr=follower,
        env=environment,
        close_fds=True,
    ) as process:
        os.close(follower)
        chunks: list[bytes] = []
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError as error:  # EIO: every holder of the follower side has closed it
                if error.errno != errno.EIO:
                    raise
                break
            if not chunk:
                break
            chunks.append(chunk)
        os.close(leader)
        status = process.wait(timeout=60)
    return status, b"".join(chunks).decode("utf-8", "replace").replace("\r\n", "\n")
