"""`woodpecker console` in a pseudo-terminal, as a person at a keyboard drives it.

The child gets a real tty on stdin, stdout and stderr (so it prompts, as it does for a person);
the test reads what it prints and waits for a given text (bounded by a deadline, never by
sleeping), types lines, and presses Ctrl-C by sending SIGINT.
"""

from __future__ import annotations

import os
import pty
import select
import signal
import subprocess
import sys
import termios
import time
from pathlib import Path

ROOT = str(Path(__file__).resolve().parent.parent)


def cli_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """A clean environment for `python -m bot.cli`: no .env, no inherited settings."""
    return {
        "PATH": "/usr/bin:/bin",
        "PYTHONPATH": ROOT,
        "MEDIA_DIR": str(tmp_path / "media"),
        "LOG_LEVEL": "WARNING",
        "HOME": str(tmp_path),
        **extra,
    }


class Console:
    def __init__(self, args: list[str], env: dict[str, str], cwd: Path) -> None:
        master, slave = pty.openpty()
        attrs = termios.tcgetattr(slave)
        attrs[3] &= ~termios.ECHO  # what the test types is not printed back
        termios.tcsetattr(slave, termios.TCSANOW, attrs)
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "bot.cli", *args],
            stdin=slave,
            stdout=slave,
            stderr=slave,
            env=env,
            cwd=cwd,
            start_new_session=True,
        )
        os.close(slave)
        self.master = master
        self.output = ""
        self._seen = 0  # what `expect` has consumed

    def _read(self, until: float) -> bool:
        """Read what is there (waiting until `until` at most); False at end of output."""
        ready, _, _ = select.select([self.master], [], [], max(0.0, until - time.monotonic()))
        if not ready:
            return True
        try:
            chunk = os.read(self.master, 65536)
        except OSError:  # EIO: the child closed the terminal
            return False
        if not chunk:
            return False
        self.output += chunk.decode("utf-8", "replace").replace("\r\n", "\n")
        return True

    def expect(self, text: str, timeout: float = 60) -> str:
        """Wait until `text` is printed after what was already expected; return the stretch."""
        deadline = time.monotonic() + timeout
        while text not in self.output[self._seen :]:
            if time.monotonic() > deadline or not self._read(deadline):
                raise AssertionError(f"never printed {text!r}; the console said:\n{self.output}")
        end = self.output.index(text, self._seen) + len(text)
        stretch, self._seen = self.output[self._seen : end], end
        return stretch

    def type(self, line: str) -> None:
        os.write(self.master, (line + "\n").encode())

    def interrupt(self) -> None:
        """Ctrl-C: the terminal sends SIGINT to the program in front."""
        self.proc.send_signal(signal.SIGINT)

    def wait(self, timeout: float = 30) -> int:
        """The exit status, once the program has ended (its terminal closes then)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self._read(deadline):
            pass
        try:
            return self.proc.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError(f"still running; the console said:\n{self.output}") from None

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        os.close(self.master)
