"""``fasciculate interview`` in real processes, answers scripted on standard input.

A complete interview ends in ``self_care``; the end of the input midway keeps what was answered;
a bad answer is asked again with a message naming what is expected (or the field the models
refused); ``--from`` and ``--save`` round-trip; every failure is one line and a status.
"""

from __future__ import annotations

import io
import json
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from _cli_process import assess_in_a_process, interview_in_a_process
from fasciculate import Urgency, assess, next_questions
from fasciculate.cli import main

#: A 24-year-old with ten days of calf twitching: the start of the issue's example.
START = {"patient": {"age": 24}, "twitching": {"regions": ["calf"], "duration_days": 10}}

#: How the oracle answers a field that is not a present/absent item ("n"): typed and as stored.
NORMAL = {
    "twitching.course": ("stable", "stable"),
    "examination.strength": ("normal", "normal"),
    "examination.knee_reflex": ("normal", "normal"),
    "examination.ankle_reflex": ("normal", "normal"),
}


def _put(data: dict[str, Any], path: str, value: object) -> dict[str, Any]:
    head, _, rest = path.partition(".")
    if not rest:
        return {**data, head: value}
    return {**data, head: _put(data.get(head, {}), rest, value)}


def _benign_answers() -> tuple[list[str], dict[str, Any]]:
    """The answers a clinician gives to every question for the benign calf twitch, in order.

    Worked out through the public API: the first open question with a field not yet answered,
    answered on that field, nothing wrong found.
    """
    data, answers, done = START, [], set()
    while True:
        ready = [q for q in next_questions(data) if not set(q.inputs) <= done]
        if not ready:
            return answers, data
        path = next(p for p in ready[0].inputs if p not in done)
        typed, stored = NORMAL.get(path, ("n", "absent"))
        done.add(path)
        answers.append(typed)
        data = _put(data, path, stored)


def _write(folder: Path, data: object, name: str = "start.json") -> Path:
    path = folder / name
    path.write_text(json.dumps(data))
    return path


def test_a_complete_interview_ends_in_self_care(tmp_path):
    """Every question answered with nothing wrong: self_care, and the saved file assesses alike."""
    answers, expected = _benign_answers()
    start, saved = _write(tmp_path, START), tmp_path / "saved.json"
    done = interview_in_a_process(answers, "--from", str(start), "--save", str(saved), "--json")
    assert 0 == done.returncode, done.stderr
    assert "self_care" == json.loads(done.stdout)["urgency"]
    assert f"no more questions: {len(answers)} answers, 0 questions still open" in done.stderr
    assert expected == json.loads(saved.read_text())
    assert "self_care" == assess_in_a_process(json.loads(saved.read_text()))["urgency"]
    assert "Traceback" not in done.stderr


def test_the_end_of_input_midway_keeps_the_answers(tmp_path):
    """Standard input ends after two answers: the report of what is known, the two answers saved."""
    saved = tmp_path / "saved.json"
    first = assess({}).missing[:2]
    done = interview_in_a_process(["n", "N"], "--save", str(saved))
    assert 0 == done.returncode, done.stderr
    assert done.stdout.startswith("URGENCY: ROUTINE\n")
    assert "interview ended: 2 answers" in done.stderr
    findings = {q.inputs[0].removeprefix("findings."): "absent" for q in first}
    assert {"findings": findings} == json.loads(saved.read_text())


def test_q_stops_the_interview():
    """`q` ends the interview like the end of the input, after the answers before it."""
    done = interview_in_a_process(["no", "q", "y"], "--json")
    assert 0 == done.returncode, done.stderr
    assert "interview ended: 1 answer" in done.stderr
    assert "routine" == json.loads(done.stdout)["urgency"]


def test_a_present_answer_shows_the_urgency_rise():
    """The running urgency after each answer; a present answer that raises it names the rule."""
    data: dict[str, Any] = {}
    answers = []
    while True:  # "n" to each question until one whose "y" raises the urgency by itself
        question = assess(data).missing[0]
        path = question.inputs[0]
        assert path.startswith("findings.")  # the first questions are present/absent items
        raised = assess(_put(data, path, "present"))
        if raised.urgency > Urgency.ROUTINE:
            break
        answers.append("n")
        data = _put(data, path, "absent")
    done = interview_in_a_process([*answers, "y"])
    assert f"[{len(answers) + 1}] {question.question}" in done.stderr
    assert done.stderr.count("    urgency: routine; rules: SCREEN-INCOMPLETE;") == len(answers)
    rules = ", ".join(rule.id for rule in raised.rules_fired)
    assert f"    urgency: {raised.urgency} (was routine); rules: {rules};" in done.stderr
    assert done.stdout.startswith(f"URGENCY: {raised.urgency.upper()}\n")


@pytest.mark.parametrize(
    ("path", "answers", "messages", "stored"),
    [
        (
            "twitching.duration_days",
            ["soon", "-3 d", "10 parsecs", "1.5 weeks"],
            [
                "not understood: 'soon' is not a number (in d)",
                "not accepted: twitching.duration_days: ",
                "not understood: unknown unit 'parsecs' for twitching.duration_days; use one of: ",
            ],
            10.5,
        ),
        (
            "patient.age",
            ["thirty", "200", "30 years"],
            ["'thirty' is not a number (in years)", "not accepted: patient.age: "],
            30,
        ),
        ("twitching.course", ["better", "9", "st"], ["'better' is not one of: "], "stable"),
        ("twitching.regions", ["calf, shin", "calf and knee"], ["'shin' is not one of"], None),
        ("findings.weakness", ["maybe", "x" * 5000, "absent"], ["'maybe' is not"], "absent"),
    ],
)
def test_a_bad_answer_is_asked_again(tmp_path, path, answers, messages, stored):
    """A bad answer: a message saying what is expected or which field refused it, then again."""
    _, complete = _benign_answers()
    head, _, name = path.partition(".")
    data = {**complete, head: {k: v for k, v in complete[head].items() if k != name}}
    assert path in assess(data).missing[0].inputs  # the question asked first
    start, saved = _write(tmp_path, data), tmp_path / "saved.json"
    done = interview_in_a_process(answers, "--from", str(start), "--save", str(saved), "--json")
    assert 0 == done.returncode, done.stderr
    for message in messages:
        assert message in done.stderr
    assert (1, len(answers)) == (done.stderr.count(f"answers {path}"), done.stderr.count("\n> "))
    value = json.loads(saved.read_text())[head][name]
    assert (["calf", "knee"] if stored is None else stored) == value
    assert "self_care" == json.loads(done.stdout)["urgency"]


def test_unknown_is_saved_and_not_asked_again(tmp_path):
    """`?` records unknown; an interview resumed from the saved file asks the next question."""
    saved = tmp_path / "saved.json"
    first, second = assess({}).missing[:2]
    done = interview_in_a_process(["?"], "--save", str(saved))
    assert 0 == done.returncode, done.stderr
    assert {"findings": {first.fact: "unknown"}} == json.loads(saved.read_text())
    again = interview_in_a_process([], "--from", str(saved), "--save", str(saved))
    assert 0 == again.returncode, again.stderr
    assert f"[1] {second.question}" in again.stderr
    assert first.question not in again.stderr


def test_a_file_with_nothing_open_asks_nothing(tmp_path):
    """Started from a fully answered presentation: no question, the assessment at once."""
    _, complete = _benign_answers()
    done = interview_in_a_process([], "--from", str(_write(tmp_path, complete)))
    assert 0 == done.returncode, done.stderr
    assert "no more questions: 0 answers, 0 questions still open" in done.stderr
    assert done.stdout.startswith("URGENCY: SELF_CARE\n")


def _one_line(stderr: str) -> str:
    assert "Traceback" not in stderr
    lines = [line for line in stderr.splitlines() if line.startswith("fasciculate:")]
    assert 1 == len(lines), stderr
    return lines[0]


def test_bad_starting_files(tmp_path):
    """`--from -`, a missing file, an invalid presentation: one line each, status 1 or 2."""
    invalid = _write(tmp_path, {"patient": {"age": -1}})
    cases = [
        (["--from", "-"], 2, "--from - would read the presentation from the answers"),
        (["--from", str(tmp_path / "none.json")], 1, "cannot read "),
        (["--from", str(invalid)], 2, f"invalid presentation in {invalid}"),
        (["--save", str(tmp_path / "no" / "such.json")], 1, "cannot write "),
    ]
    for options, status, message in cases:
        done = interview_in_a_process(["n"], *options)
        assert status == done.returncode, done.stderr
        assert message in _one_line(done.stderr)
        assert "" == done.stdout
    assert "patient.age" in interview_in_a_process([], "--from", str(invalid)).stderr


def _shell(script: str) -> subprocess.CompletedProcess[str]:
    command = f"{sys.executable} -m fasciculate interview"
    return subprocess.run(
        ["bash", "-c", script.replace("$FASCICULATE", command)],  # noqa: S607 - the shell is the point
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


def test_closed_streams():
    """Standard input or output closed (`<&-`, `>&-`): status 1, one line, nothing asked."""
    closed_in = _shell("$FASCICULATE <&-")
    assert 1 == closed_in.returncode
    assert "cannot read standard input (the answers): it is closed" in _one_line(closed_in.stderr)
    closed_out = _shell("echo n | $FASCICULATE >&-")
    assert 1 == closed_out.returncode
    assert "cannot write standard output: it is closed" in _one_line(closed_out.stderr)


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="no /dev/full on this system")
def test_a_full_disk_for_the_report():
    """The report cannot be written (`> /dev/full`): status 1, one line."""
    done = _shell("echo n | $FASCICULATE > /dev/full")
    assert 1 == done.returncode
    assert "cannot write standard output: No space left on device" in _one_line(done.stderr)


def test_ctrl_c_keeps_the_answers_saved(tmp_path):
    """SIGINT while waiting for an answer: status 130, and the answers given are in the file."""
    saved = tmp_path / "saved.json"
    process = subprocess.Popen(
        [sys.executable, "-m", "fasciculate", "interview", "--save", str(saved)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdin is not None
    process.stdin.write("n\n")
    process.stdin.flush()
    deadline = time.monotonic() + 60
    while "findings" not in (saved.read_text() if saved.exists() else ""):
        assert time.monotonic() < deadline, "the first answer was never saved"
        time.sleep(0.05)
    process.send_signal(signal.SIGINT)
    stdout, stderr = process.communicate(timeout=60)
    assert (130, "") == (process.returncode, stdout)
    assert f"fasciculate: interrupted after 1 answer; {saved} holds them" == _one_line(stderr)
    assert 1 == len(json.loads(saved.read_text())["findings"])


def test_in_process_as_well(tmp_path, monkeypatch, capsys):
    """The same interview in-process (measured by coverage), standard input a text stream."""
    answers, _ = _benign_answers()
    start, saved = _write(tmp_path, START), tmp_path / "saved.json"
    script = "".join(f"{answer}\n" for answer in ["perhaps", *answers[:3], "?"])
    monkeypatch.setattr(sys, "stdin", io.StringIO(script))
    assert 0 == main(["interview", "--from", str(start), "--save", str(saved)])
    out, err = capsys.readouterr()
    assert out.startswith("URGENCY: ROUTINE\n")
    assert "not understood: 'perhaps' is not an answer here" in err
    assert "interview ended: 4 answers" in err
    assert 4 == len(json.loads(saved.read_text())["findings"])
