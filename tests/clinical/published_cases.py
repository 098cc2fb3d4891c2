"""Published clinical cases as test data: load them, assess them, score the results.

Each case in ``cases/*.toml`` is one published presentation (case report, teaching case or guideline
vignette) with its citation, the facts the source states at the stage being judged, the expected
urgency and category fixed from the source or the applicable guideline *before* the library was run,
and the presentation in the library's input schema. This module is shared by the test
(``test_published_cases.py``) and the documentation (``docs/_ext/fasciculate_docs/_validation.py``
renders the table), so the figures in the docs are the figures the test computes.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Literal

import attrs

import fasciculate
from fasciculate import Category, Urgency

#: The folder of case files.
CASES = Path(__file__).resolve().parent / "cases"
#: The symptom-checker anchors the figures are published beside.
ANCHORS = Path(__file__).resolve().parent / "anchors.toml"

#: The targets of issue 13 for this set.
TARGETS = {"exact": 0.85, "top1": 0.80, "top3": 0.95}

_REQUIRED = {
    "id": str,
    "title": str,
    "citation": str,
    "url": str,
    "kind": str,
    "stage": str,
    "stated_facts": str,
    "unexpressed": list,
    "expected_urgency": str,
    "expected_category": str,
    "serious": bool,
    "reasoning": str,
    "presentation": dict,
}
_OPTIONAL = {"doi": str}

Triage = Literal["exact", "under", "over"]


class CaseError(ValueError):
    """A case file that does not follow the format; the message lists every problem."""


@attrs.frozen
class Case:
    """One published case and what its source (or guideline) says should happen."""

    id: str
    title: str
    citation: str
    url: str
    doi: str | None
    kind: str
    stage: str
    stated_facts: str
    unexpressed: tuple[str, ...]
    expected_urgency: Urgency
    expected_category: Category
    serious: bool
    reasoning: str
    presentation: Mapping[str, object] = attrs.field(eq=False, hash=False)


@attrs.frozen
class Outcome:
    """What the library made of one case."""

    case: Case
    urgency: Urgency
    #: The rank (1 = first) of the expected category in the differential.
    rank: int
    leading: Category
    #: The rules that fired at the assessed urgency.
    rules: tuple[str, ...]

    @property
    def triage(self) -> Triage:
        """Exact, under- or over-triage against the expected urgency."""
        if self.urgency == self.case.expected_urgency:
            return "exact"
        return "under" if self.urgency < self.case.expected_urgency else "over"

    @property
    def top1(self) -> bool:
        """The expected category is ranked first."""
        return self.rank == 1

    @property
    def top3(self) -> bool:
        """The expected category is among the first three."""
        return self.rank <= 3


@attrs.frozen
class Summary:
    """The figures over a set of outcomes."""

    n: int
    exact: int
    under: int
    over: int
    top1: int
    top3: int
    #: Ids of serious cases assessed below their expected urgency.
    serious_under: tuple[str, ...]

    def fraction(self, name: Literal["exact", "under", "over", "top1", "top3"]) -> float:
        """The named count as a fraction of the cases (0 for an empty set)."""
        count: int = getattr(self, name)
        return count / self.n if self.n else 0.0

    def misses_targets(self) -> list[str]:
        """The targets this summary misses, each with its figure."""
        return [
            f"{name} {self.fraction(name):.1%} < {target:.1%}"  # type: ignore[arg-type]
            for name, target in TARGETS.items()
            if self.fraction(name) < target  # type: ignore[arg-type]
        ]


def _check_keys(path: Path, data: Mapping[str, object]) -> list[str]:
    allowed = {**_REQUIRED, **_OPTIONAL}
    problems = [
        f"{path.name}: unknown key {key!r}; allowed: {sorted(allowed)}"
        for key in sorted(set(data) - set(allowed))
    ]
    for key, kind in allowed.items():
        if key not in data:
            if key in _REQUIRED:
                problems.append(f"{path.name}: missing key {key!r} ({kind.__name__})")
            continue
        value = data[key]
        if not isinstance(value, kind):
            problems.append(
                f"{path.name}: {key} is {type(value).__name__} {value!r}, expected {kind.__name__}"
            )
        elif isinstance(value, str) and not value.strip():
            problems.append(f"{path.name}: {key} is empty; say what the source states")
    return problems


def _check_values(path: Path, data: Mapping[str, object]) -> list[str]:
    problems = []
    if data.get("id") != path.stem:
        problems.append(f"{path.name}: id {data.get('id')!r} differs from the file name")
    for key, vocabulary in (("expected_urgency", Urgency), ("expected_category", Category)):
        value = data.get(key)
        if isinstance(value, str) and value not in {str(member) for member in vocabulary}:
            allowed = ", ".join(str(member) for member in vocabulary)
            problems.append(f"{path.name}: {key} {value!r} is not one of: {allowed}")
    unexpressed = data.get("unexpressed", [])
    if isinstance(unexpressed, list) and not all(isinstance(item, str) for item in unexpressed):
        problems.append(f"{path.name}: unexpressed must be a list of strings")
    return problems


def load_cases(folder: Path = CASES) -> tuple[Case, ...]:
    """Every case in *folder*, sorted by id; :class:`CaseError` lists every problem at once."""
    problems: list[str] = []
    cases = []
    for path in sorted(folder.glob("*.toml")):
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as error:
            problems.append(f"{path.name}: not valid TOML ({error})")
            continue
        found = _check_keys(path, data) + _check_values(path, data)
        problems += found
        if found:
            continue
        cases.append(
            Case(
                id=data["id"],
                title=data["title"],
                citation=data["citation"],
                url=data["url"],
                doi=data.get("doi"),
                kind=data["kind"],
                stage=data["stage"],
                stated_facts=" ".join(data["stated_facts"].split()),
                unexpressed=tuple(data["unexpressed"]),
                expected_urgency=Urgency(data["expected_urgency"]),
                expected_category=Category(data["expected_category"]),
                serious=data["serious"],
                reasoning=data["reasoning"],
                presentation=data["presentation"],
            )
        )
    if problems:
        raise CaseError("invalid case files:\n  " + "\n  ".join(problems))
    return tuple(cases)


def assess_case(case: Case) -> Outcome:
    """Assess one case's presentation through the public API."""
    result = fasciculate.assess(dict(case.presentation))
    ranking = [item.category for item in sorted(result.differential, key=lambda item: item.rank)]
    return Outcome(
        case=case,
        urgency=result.urgency,
        rank=ranking.index(case.expected_category) + 1,
        leading=ranking[0],
        rules=tuple(rule.id for rule in result.rules_fired if rule.urgency == result.urgency),
    )


def assess_all(cases: Iterable[Case]) -> tuple[Outcome, ...]:
    """Assess every case."""
    return tuple(assess_case(case) for case in cases)


def summarise(outcomes: Iterable[Outcome]) -> Summary:
    """Count exact, under- and over-triage, top-1 and top-3, and the serious under-triage."""
    done = tuple(outcomes)
    return Summary(
        n=len(done),
        exact=sum(outcome.triage == "exact" for outcome in done),
        under=sum(outcome.triage == "under" for outcome in done),
        over=sum(outcome.triage == "over" for outcome in done),
        top1=sum(outcome.top1 for outcome in done),
        top3=sum(outcome.top3 for outcome in done),
        serious_under=tuple(
            outcome.case.id
            for outcome in done
            if outcome.case.serious and outcome.triage == "under"
        ),
    )


def why(outcome: Outcome) -> str:
    """One line on how the library reached its answer."""
    rules = ", ".join(outcome.rules) if outcome.rules else "no rule fired"
    ranked = (
        "expected category first"
        if outcome.top1
        else f"expected category #{outcome.rank}, {outcome.leading} first"
    )
    return f"{rules}; {ranked}"


def text_table(outcomes: Iterable[Outcome]) -> str:
    """The outcomes as a plain-text table, then the summary, for the test log."""
    done = tuple(outcomes)
    rows = [("case", "expected", "got", "triage", "rank", "why")]
    rows += [
        (
            outcome.case.id + (" *" if outcome.case.serious else ""),
            f"{outcome.case.expected_urgency}/{outcome.case.expected_category}",
            str(outcome.urgency),
            outcome.triage,
            str(outcome.rank),
            why(outcome),
        )
        for outcome in done
    ]
    widths = [max(len(row[column]) for row in rows) for column in range(5)]
    lines = [
        "  ".join([*(cell.ljust(w) for cell, w in zip(row, widths, strict=False)), row[5]])
        for row in rows
    ]
    summary = summarise(done)
    figures = (
        f"cases {summary.n}: exact triage {summary.fraction('exact'):.1%}, "
        f"under {summary.fraction('under'):.1%}, over {summary.fraction('over'):.1%}, "
        f"top-1 {summary.fraction('top1'):.1%}, top-3 {summary.fraction('top3'):.1%}; "
        f"serious under-triaged: {', '.join(summary.serious_under) or 'none'}"
    )
    lines += ["", "* serious case", figures]
    return "\n".join(lines)


def load_anchors(path: Path = ANCHORS) -> list[dict[str, str]]:
    """The published symptom-checker figures this set is compared with."""
    with path.open("rb") as handle:
        anchors: list[dict[str, str]] = tomllib.load(handle)["anchor"]
    return anchors
