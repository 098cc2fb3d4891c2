"""The command line's streams: reading input and writing output as a shell user expects.

Every failure here becomes a :class:`CommandFailed` carrying a one-line message and an exit status,
never a traceback: a file that cannot be opened (missing, unreadable, a directory), a closed
standard input or output, a reader that goes away (``| head``: a broken pipe), a full disk. After
output has failed, the standard output's file descriptor is pointed at ``/dev/null`` so that the
interpreter's own flush at exit has nothing left to fail on.
"""

from __future__ import annotations

import contextlib
import errno
import os
import select
import signal
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from types import FrameType
from typing import BinaryIO, Self

#: The exit statuses, documented in the command-line reference.
EXIT_OK = 0
EXIT_IO = 1
EXIT_BAD_INPUT = 2
EXIT_INTERRUPTED = 130  # 128 + SIGINT, as shells report a command stopped by Ctrl-C


class CommandFailed(Exception):
    """The command stops with *message* on standard error and exit *status*."""

    def __init__(self, message: str, status: int) -> None:
        """Keep *message* (one line, without the program name) and *status*."""
        super().__init__(message)
        self.message = message
        self.status = status


def say(message: str) -> None:
    """Write ``fasciculate: message`` to standard error, if there is one to write to."""
    stream = sys.stderr
    if stream is None:  # started with standard error closed: nowhere to say it
        return
    with contextlib.suppress(OSError, ValueError):
        stream.write(f"fasciculate: {message}\n")
        stream.flush()


def _reason(error: OSError) -> str:
    if isinstance(error, IsADirectoryError):
        return "it is a directory"
    return error.strerror or str(error)


def open_input(name: str) -> BinaryIO:
    """Open *name* (``-`` for standard input) for reading bytes.

    A FIFO waits here for its writer, as ``cat`` does; Ctrl-C stops the wait.
    """
    if name == "-":
        stdin = sys.stdin
        if stdin is None:  # started with standard input closed (`<&-`)
            raise CommandFailed("cannot read standard input: it is closed", EXIT_IO)
        binary: BinaryIO = stdin.buffer
        return binary
    path = Path(name)
    try:
        if path.is_dir():  # some systems open a directory and fail only on reading
            raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), name)
        return path.open("rb")
    except OSError as error:
        raise CommandFailed(f"cannot read {name}: {_reason(error)}", EXIT_IO) from None


def read_input(name: str, *, limit: int | None = None) -> bytes:
    """All of *name* (``-`` for standard input); more than *limit* bytes is bad input."""
    source = open_input(name)
    where = "standard input" if name == "-" else name
    try:
        data = source.read() if limit is None else source.read(limit + 1)
    except OSError as error:
        raise CommandFailed(f"cannot read {where}: {_reason(error)}", EXIT_IO) from None
    finally:
        if name != "-":
            source.close()
    if isinstance(data, str):  # a text stream standing in for standard input
        data = data.encode()
    if limit is not None and len(data) > limit:
        raise CommandFailed(
            f"{where} is larger than {limit:,} bytes: a presentation describes one patient "
            "(for a cohort, one presentation per line, use `fasciculate screen`)",
            EXIT_BAD_INPUT,
        )
    return data


class Output:
    """Standard output as bytes, turning every way that writing can fail into CommandFailed."""

    def __init__(self) -> None:
        """Take the current standard output; fail at once if it is closed."""
        stream = sys.stdout
        if stream is None:  # started with standard output closed (`>&-`)
            raise CommandFailed("cannot write standard output: it is closed", EXIT_IO)
        self._stream = stream
        binary = getattr(stream, "buffer", None)  # absent for a text stream in memory
        self._write = binary.write if binary is not None else self._write_text
        self._binary = binary

    def _write_text(self, data: memoryview) -> int:
        self._stream.write(bytes(data).decode())
        return len(data)

    def write(self, data: bytes) -> None:
        """Write all of *data*.

        Standard output unbuffered (``python -u``, ``PYTHONUNBUFFERED``) is a raw file, whose
        write may take part of the bytes: when a signal interrupts it (Ctrl-C held back while a
        record is written, with a slow reader on the pipe), or when the descriptor is
        non-blocking and full (nothing taken). The rest is written until none is left.
        """
        try:
            rest = memoryview(data)
            while rest:
                written = self._write(rest)
                if written is None:  # non-blocking and full: wait until it takes more
                    select.select([], [self._stream], [])
                    continue
                rest = rest[written:]
        except (OSError, ValueError) as error:
            raise self._failed(error) from None

    def flush(self) -> None:
        """Flush what was written."""
        try:
            self._stream.flush()
            if self._binary is not None:
                self._binary.flush()
        except (OSError, ValueError) as error:
            raise self._failed(error) from None

    def _failed(self, error: OSError | ValueError) -> CommandFailed:
        self._silence()
        if isinstance(error, BrokenPipeError):
            reason = "its reader closed it (broken pipe)"
        elif isinstance(error, OSError):
            reason = error.strerror or str(error)
        else:  # writing to a closed file
            reason = "it is closed"
        return CommandFailed(f"cannot write standard output: {reason}", EXIT_IO)

    def _silence(self) -> None:
        """Point the output's descriptor at /dev/null: what is still buffered drains there."""
        with contextlib.suppress(OSError, ValueError, AttributeError):
            descriptor = self._stream.fileno()
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, descriptor)
            os.close(devnull)


class Interrupts:
    """Ctrl-C, held back while a record is being written so that the count written is exact.

    Outside :meth:`held` (reading input, assessing), SIGINT raises ``KeyboardInterrupt`` at once,
    also in a blocking read; inside it, SIGINT is remembered and raised as the block ends. Only
    Python's default handler in the main thread is replaced (and restored on leaving).
    """

    def __init__(self) -> None:
        """Not holding, nothing pending."""
        self._holding = False
        self._pending = False
        self._saved: object = None

    def __enter__(self) -> Self:
        """Install the handler, when SIGINT has Python's default one in the main thread."""
        if (
            threading.current_thread() is threading.main_thread()
            and signal.getsignal(signal.SIGINT) is signal.default_int_handler
        ):
            self._saved = signal.signal(signal.SIGINT, self._handle)
        return self

    def __exit__(self, *_: object) -> None:
        """Restore the handler found on entering."""
        if self._saved is not None:
            signal.signal(signal.SIGINT, self._saved)  # type: ignore[arg-type]

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        if not self._holding:
            signal.default_int_handler(signum, frame)
        self._pending = True

    @contextlib.contextmanager
    def held(self) -> Iterator[None]:
        """Hold Ctrl-C back for the block; raise it at the end if it came."""
        self._holding = True
        try:
            yield
        finally:
            self._holding = False
        if self._pending:
            raise KeyboardInterrupt
