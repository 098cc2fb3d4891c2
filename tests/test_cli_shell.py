"""The command line under ordinary shell use, in real processes: one line on stderr, no traceback.

Broken pipes (``| head``), closed and full streams, Ctrl-C, unreadable files, directories and FIFOs,
each with the documented exit status: 0 done, 1 an input or output failed, 2 bad input, 130
interrupted.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import EXAMPLES

CLI = [sys.executable, "-m", "fasciculate"]
EXAMPLE = EXAMPLES / "presentations" / "cauda-equina.json"
RECORD = json.dumps(json.loads(EXAMPLE.read_bytes())).encode() + b"\n"
TIMEOUT = 120


def _shell(script: str) -> subprocess.CompletedProcess[bytes]:
    """Run *script* in bash, with ``$FASCICULATE`` the command line."""
    command = " ".join(CLI)
    return subprocess.run(
        ["bash", "-c", script],  # noqa: S607 - the shell is the point
        env={**os.environ, "FASCICULATE": command},
        capture_output=True,
        check=False,
        timeout=TIMEOUT,
    )


def _one_line(stderr: bytes) -> str:
    """The single line of *stderr*, checked to be one line without a traceback."""
    assert b"Traceback" not in stderr
    assert 1 == stderr.count(b"\n"), stderr
    return stderr.decode().rstrip("\n")


@pytest.fixture(scope="module")
def big_cohort(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """2,000 records: megabytes of output, far more than a pipe holds."""
    path = tmp_path_factory.mktemp("cohort") / "big.jsonl"
    path.write_bytes(RECORD * 2000)
    return path


def test_screen_into_head_stops_with_one_line(big_cohort):
    """`screen big.jsonl | head -1`: head gets its line; fasciculate says it stopped, status 1."""
    screen = subprocess.Popen(
        [*CLI, "screen", str(big_cohort)], stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    head = subprocess.run(
        ["head", "-1"],  # noqa: S607 - the everyday tool
        stdin=screen.stdout,
        capture_output=True,
        check=True,
        timeout=TIMEOUT,
    )
    assert screen.stdout is not None
    assert screen.stderr is not None
    screen.stdout.close()
    with screen.stderr:
        stderr = screen.stderr.read()
    assert 1 == screen.wait(timeout=TIMEOUT)
    assert 1 == len(head.stdout.splitlines())
    assert json.loads(head.stdout)["line"] == 1
    message = _one_line(stderr)
    assert message.startswith(
        "fasciculate: cannot write standard output: its reader closed it (broken pipe); "
        "stopped after "
    )
    assert message.endswith(" written")


@pytest.mark.parametrize("command", [["assess", str(EXAMPLE)], ["schema"], ["rules"]])
def test_a_reader_that_has_gone_gives_one_line(command):
    """Output into a pipe whose reader has closed: status 1 and one line, whatever the command."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        done = subprocess.run(
            [*CLI, *command], stdout=write_end, stderr=subprocess.PIPE, check=False, timeout=TIMEOUT
        )
    finally:
        os.close(write_end)
    assert 1 == done.returncode
    assert (
        "fasciculate: cannot write standard output: its reader closed it (broken pipe)"
        == _one_line(done.stderr)
    )


def test_assess_into_head_is_clean():
    """`assess x.json | head -1`: the first line, and no traceback whichever side finishes first."""
    done = _shell(f'set -o pipefail; $FASCICULATE assess "{EXAMPLE}" | head -1')
    assert b"URGENCY: EMERGENCY\n" == done.stdout
    assert b"Traceback" not in done.stderr
    assert done.returncode in {0, 1}  # 1 only if head closed the pipe before the report was written


@pytest.mark.parametrize("command", ["assess -", "screen -"])
def test_a_closed_standard_input(command):
    """`- <&-`: status 1, standard input is closed."""
    done = _shell(f"$FASCICULATE {command} <&-")
    assert (1, b"") == (done.returncode, done.stdout)
    assert "fasciculate: cannot read standard input: it is closed" == _one_line(done.stderr)


@pytest.mark.parametrize("command", [f"assess {EXAMPLE}", "screen -", "schema"])
def test_a_closed_standard_output(command):
    """`>&-`: status 1, standard output is closed (nothing is read or assessed first)."""
    done = _shell(f"$FASCICULATE {command} >&- < {EXAMPLE}")
    assert 1 == done.returncode
    assert "fasciculate: cannot write standard output: it is closed" == _one_line(done.stderr)


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="no /dev/full on this system")
@pytest.mark.parametrize("command", [["assess", str(EXAMPLE)], ["screen", "-"], ["schema"]])
def test_a_full_disk(command):
    """`> /dev/full`: status 1, no space left on device."""
    with Path("/dev/full").open("wb") as full:
        done = subprocess.run(
            [*CLI, *command],
            input=RECORD,
            stdout=full,
            stderr=subprocess.PIPE,
            check=False,
            timeout=TIMEOUT,
        )
    assert 1 == done.returncode
    message = _one_line(done.stderr)
    assert message.startswith("fasciculate: cannot write standard output: No space left on device")


def test_ctrl_c_during_screen_reports_the_records_written():
    """SIGINT while screening: status 130 and the count of records written so far."""
    screen = subprocess.Popen(
        [*CLI, "screen", "-", "--output", "summary"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert screen.stdin is not None
    assert screen.stdout is not None
    screen.stdin.write(RECORD * 3 + b'{"patient": {"age": -1}}\n')
    screen.stdin.flush()
    lines = [screen.stdout.readline() for _ in range(4)]  # written: the screen is under way
    screen.send_signal(signal.SIGINT)
    _, stderr = screen.communicate(timeout=TIMEOUT)
    assert [1, 2, 3, 4] == [json.loads(line)["line"] for line in lines]
    assert 130 == screen.returncode
    assert (
        "fasciculate: interrupted after 4 records written: 3 assessed "
        "(emergency 3, urgent 0, routine 0, self_care 0), 1 rejected (line 4)"
    ) == _one_line(stderr)


@contextlib.contextmanager
def _fifo() -> Iterator[Path]:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "fifo"
        os.mkfifo(path)
        yield path


def _write_when_read(path: Path, data: bytes) -> None:
    """Write *data* into the FIFO once its reader has opened it (bounded wait, never a hang)."""
    deadline = time.monotonic() + TIMEOUT
    while True:
        try:
            descriptor = os.open(path, os.O_WRONLY | os.O_NONBLOCK)
            break
        except OSError as error:  # ENXIO: no reader yet
            if error.errno != errno.ENXIO or time.monotonic() > deadline:
                raise
            time.sleep(0.05)
    os.set_blocking(descriptor, True)
    with os.fdopen(descriptor, "wb") as writer:
        writer.write(data)


@pytest.mark.parametrize("command", ["assess", "screen"])
def test_a_fifo_is_read_once_its_writer_comes(command):
    """A FIFO: the command waits for a writer (as cat does), then reads it to the end."""
    with _fifo() as path:
        process = subprocess.Popen(
            [*CLI, command, str(path)], stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        _write_when_read(path, RECORD)
        stdout, stderr = process.communicate(timeout=TIMEOUT)
    assert 0 == process.returncode, stderr
    assert (b"URGENCY: EMERGENCY" if command == "assess" else b'{"line":1,') in stdout


def _wchan(pid: int) -> str | None:
    with contextlib.suppress(OSError):
        return Path(f"/proc/{pid}/wchan").read_text()
    return None


def test_ctrl_c_while_a_fifo_waits_for_its_writer():
    """A FIFO with no writer waits; Ctrl-C ends the wait with status 130 and one line."""
    with _fifo() as path:
        process = subprocess.Popen(
            [*CLI, "assess", str(path)], stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        try:
            deadline = time.monotonic() + 20
            while _wchan(process.pid) != "wait_for_partner":  # the kernel's FIFO open
                if time.monotonic() > deadline:
                    pytest.skip("this kernel does not show where a process waits (/proc/PID/wchan)")
                time.sleep(0.05)
            process.send_signal(signal.SIGINT)
            stdout, stderr = process.communicate(timeout=TIMEOUT)
        finally:
            process.kill()
            process.wait()
    assert (130, b"") == (process.returncode, stdout)
    assert "fasciculate: interrupted" == _one_line(stderr)


def test_a_directory(tmp_path):
    """A directory given as the file: status 1, it is a directory."""
    for command in ("assess", "screen"):
        done = subprocess.run(
            [*CLI, command, str(tmp_path)], capture_output=True, check=False, timeout=TIMEOUT
        )
        assert 1 == done.returncode
        assert f"fasciculate: cannot read {tmp_path}: it is a directory" == _one_line(done.stderr)


def _without_root_override() -> list[str]:
    """A command prefix that takes root's power to read any file away (chmod 000 then bites).

    Root reads a file whatever its mode (the DAC override capabilities); ``setpriv`` drops them
    from the bounding set, so the command runs as root without them. Not root: no prefix.
    """
    if os.geteuid() != 0:
        return []
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        pytest.skip("running as root without setpriv (util-linux) to drop the DAC override")
    return [setpriv, "--bounding-set=-dac_override,-dac_read_search"]


@pytest.mark.parametrize("command", ["assess", "screen"])
def test_an_unreadable_file(command, tmp_path):
    """A file without read permission: status 1, permission denied."""
    path = tmp_path / "secret.json"
    path.write_bytes(RECORD)
    path.chmod(0)
    try:
        done = subprocess.run(
            [*_without_root_override(), *CLI, command, str(path)],
            capture_output=True,
            check=False,
            timeout=TIMEOUT,
        )
    finally:
        path.chmod(stat.S_IRUSR | stat.S_IWUSR)
    assert 1 == done.returncode
    assert f"fasciculate: cannot read {path}: Permission denied" == _one_line(done.stderr)


@pytest.mark.parametrize(
    ("document", "expected"),
    [
        (b'{"patient": {"age": true}}', "patient.age: a number is needed, not true or false"),
        (b'{"patient": ' + b"[" * 100_000 + b"]" * 100_000 + b"}", "recursion limit exceeded"),
        (b'{"patient": {"age": 1' + b"0" * 4999 + b"}}", "number out of range"),
        ('{"findings": {}}'.encode("utf-16"), "the input is UTF-16"),
    ],
    ids=["boolean age", "deep nesting", "5,000-digit integer", "UTF-16"],
)
def test_bad_input_exits_2_without_a_traceback(document, expected):
    """Careless input through the command line: status 2 and the problem named."""
    done = subprocess.run(
        [*CLI, "assess", "-"], input=document, capture_output=True, check=False, timeout=TIMEOUT
    )
    assert (2, b"") == (done.returncode, done.stdout)
    assert b"Traceback" not in done.stderr
    assert expected in done.stderr.decode()


def test_many_problems_are_capped_on_the_command_line():
    """10^5 unknown fields in a document under the size limit: a short message with the count."""
    document = json.dumps({f"{i:x}": 0 for i in range(100_000)}, separators=(",", ":")).encode()
    assert len(document) < 1 << 20
    done = subprocess.run(
        [*CLI, "assess", "-"], input=document, capture_output=True, check=False, timeout=TIMEOUT
    )
    lines = done.stderr.decode().splitlines()
    assert 2 == done.returncode
    assert "100000 problems in the presentation" == lines[1]
    assert "  ... and 99,980 more not listed; fix these and check again" == lines[-1]
    assert 23 == len(lines)


def test_a_file_past_the_size_limit_is_refused(tmp_path):
    """A presentation file over 1 MiB: status 2 and a message saying what screen is for."""
    path = tmp_path / "cohort.json"
    path.write_bytes(b"{" + b" " * (1 << 20) + b"}")
    done = subprocess.run(
        [*CLI, "assess", str(path)], capture_output=True, check=False, timeout=TIMEOUT
    )
    assert 2 == done.returncode
    assert (
        f"fasciculate: {path} is larger than 1,048,576 bytes: a presentation describes one "
        "patient (for a cohort, one presentation per line, use `fasciculate screen`)"
    ) == _one_line(done.stderr)
