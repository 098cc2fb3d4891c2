"""Hypothesis strategies that generate valid presentations, for testing code that uses fasciculate.

Like ``structlog.testing``, this module is public so that integrators can test their own code
(a FHIR mapping, a user interface, a service) against the whole input space::

    from hypothesis import given
    from fasciculate.testing import presentations

    @given(presentations())
    def test_my_service_never_crashes(presentation):
        my_service.handle(presentation)

It imports Hypothesis, which fasciculate itself does not need: install the ``testing`` extra
(``pip install "fasciculate[testing]"``).

Every strategy draws :class:`~fasciculate.Presentation` objects that validate; laboratory values
are drawn in each analyte's plausible range, in any unit the knowledge base accepts for it.
:func:`presentation_dicts` draws the same presentations as the JSON objects a caller sends.
:func:`answers_to_decide` counts the answers an interview that asks
:func:`fasciculate.next_questions` in order takes to reach a decision, for a user interface's
figures.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any, TypeVar

from hypothesis import strategies as st

from fasciculate._answers import AnswerCount, answers_to_decide
from fasciculate._generated_vocab import Finding
from fasciculate._kb import knowledge_base
from fasciculate._presentation import (
    Coding,
    Examination,
    Exposures,
    LabResult,
    Medication,
    Patient,
    Presentation,
    Twitching,
)
from fasciculate._vocab import (
    KNEE_REGIONS,
    Analyte,
    Course,
    Frequency,
    Interpretation,
    Level,
    MedicationClass,
    Movement,
    Reflex,
    Region,
    Sex,
    Side,
    Strength,
    TriState,
)

__all__ = [
    "RED_FLAGS",
    "SCREENING_FINDINGS",
    "AnswerCount",
    "answers_to_decide",
    "lab_results",
    "negative_screens",
    "presentation_dicts",
    "presentations",
    "red_flags",
    "tri_states",
]

_SCREENED_GROUPS = frozenset(
    {
        "seed_red_flag",
        "cauda_equina",
        "neurological_emergency",
        "motor_neuron",
        "radiculopathy",
        "spinal_red_flag",
    }
)
#: The findings that make a screened finding present (kb/derivations.toml), e.g. joint pain.
_IMPLYING = frozenset(str(d.when.render()) for d in knowledge_base().derivations)

#: The screening questions of the red-flag groups of the knowledge base (seed article, cauda
#: equina, neurological emergencies, motor neurone disease, serious spinal pathology), the
#: radicular questions that some red flags combine with, and the findings that imply one of them.
SCREENING_FINDINGS: tuple[Finding, ...] = tuple(
    Finding(fact.id)
    for fact in knowledge_base().facts.values()
    if fact.kind == "finding" and (fact.group in _SCREENED_GROUPS or fact.id in _IMPLYING)
)

#: Findings each of which, present on its own, means at least a routine review (the red flags
#: of seed-article and of the guidelines in kb/sources.toml). Sexual dysfunction is left out: it
#: is a red flag together with back or leg pain, and radicular pain is a red flag only as pain
#: (both are in :data:`SCREENING_FINDINGS`); so are the spinal red flags (a history of cancer,
#: fever...), red flags only with other features.
RED_FLAGS: tuple[Finding, ...] = tuple(
    finding
    for finding in SCREENING_FINDINGS
    if str(finding) not in {"sexual_dysfunction", "back_pain", "known_lumbar_radiculopathy"}
    and knowledge_base().facts[finding].group != "spinal_red_flag"
)

_T = TypeVar("_T")

_NORMAL_EXAM = Examination(
    strength=Strength.NORMAL,
    knee_reflex=Reflex.NORMAL,
    ankle_reflex=Reflex.NORMAL,
    babinski=TriState.ABSENT,
    wasting=TriState.ABSENT,
    sensory_loss=TriState.ABSENT,
    anal_sphincter_laxity=TriState.ABSENT,
)


def tri_states() -> st.SearchStrategy[TriState]:
    """``present``, ``absent`` or ``unknown``."""
    return st.sampled_from(TriState)


def _optional(strategy: st.SearchStrategy[_T]) -> st.SearchStrategy[_T | None]:
    return st.none() | strategy


@st.composite
def _lab_result(draw: st.DrawFn, analytes: Sequence[Analyte]) -> LabResult:
    analyte = draw(st.sampled_from(analytes))
    lab = knowledge_base().labs[analyte]
    unit = draw(st.sampled_from(sorted(lab.units)))
    low, high = (limit / lab.units[unit] for limit in lab.plausible)
    value = draw(st.floats(min_value=low, max_value=high, allow_nan=False, allow_infinity=False))
    # Round inwards by a hair so that unit conversion can never step outside the plausible range.
    value = min(max(value, low * (1 + 1e-9)), high * (1 - 1e-9))
    # Mostly a value; sometimes its interpretation too, or the interpretation alone (no value).
    words = draw(st.sampled_from(("value", "value", "value", "both", "words")))
    interpretation = None if words == "value" else draw(st.sampled_from(Interpretation))
    if words == "words":
        return LabResult(analyte=analyte, interpretation=interpretation)
    return LabResult(analyte=analyte, unit=unit, value=value, interpretation=interpretation)


def lab_results(*, analytes: Sequence[Analyte] | None = None) -> st.SearchStrategy[LabResult]:
    """Laboratory results in a plausible range, in any accepted unit, some given only in words.

    Args:
        analytes: Draw only these analytes (default: every analyte).
    """
    return _lab_result(tuple(analytes) if analytes is not None else tuple(Analyte))


def _medications() -> st.SearchStrategy[Medication]:
    coding = st.builds(
        Coding,
        system=st.just("http://www.nlm.nih.gov/research/umls/rxnorm"),
        code=st.from_regex(r"[0-9]{3,7}", fullmatch=True),
    )
    return st.one_of(
        st.builds(Medication, drug_class=st.sampled_from(MedicationClass)),
        st.builds(Medication, name=st.text(min_size=1, max_size=30), code=_optional(coding)),
        st.builds(Medication, code=coding),
    )


@st.composite
def _twitching(draw: st.DrawFn) -> tuple[Twitching, dt.date | None]:
    assessed_on = None
    onset = None
    duration = draw(_optional(st.floats(min_value=0, max_value=36500)))
    if draw(st.booleans()):
        assessed_on = draw(st.dates(min_value=dt.date(2000, 1, 1), max_value=dt.date(2030, 1, 1)))
        if draw(st.booleans()):
            onset = assessed_on - dt.timedelta(days=draw(st.integers(0, 3650)))
    twitching = Twitching(
        regions=draw(st.lists(st.sampled_from(Region), unique=True)),
        side=draw(_optional(st.sampled_from(Side))),
        duration_days=duration,
        onset_date=onset,
        course=draw(_optional(st.sampled_from(Course))),
        frequency=draw(_optional(st.sampled_from(Frequency))),
        at_rest=draw(tri_states()),
        after_exercise=draw(tri_states()),
    )
    return twitching, assessed_on


def _examinations() -> st.SearchStrategy[Examination]:
    return st.builds(
        Examination,
        strength=_optional(st.sampled_from(Strength)),
        power=st.dictionaries(st.sampled_from(Movement), st.integers(0, 5)),
        knee_reflex=_optional(st.sampled_from(Reflex)),
        ankle_reflex=_optional(st.sampled_from(Reflex)),
        babinski=tri_states(),
        wasting=tri_states(),
        sensory_loss=tri_states(),
        anal_sphincter_laxity=tri_states(),
    )


def _exposures() -> st.SearchStrategy[Exposures]:
    return st.builds(
        Exposures,
        caffeine_mg_per_day=_optional(st.floats(min_value=0, max_value=5000)),
        sleep_hours=_optional(st.floats(min_value=0, max_value=24)),
        stress=_optional(st.sampled_from(Level)),
        strenuous_exercise_48h=tri_states(),
        dehydration=tri_states(),
        nicotine=tri_states(),
    )


@st.composite
def _presentation(draw: st.DrawFn, *, complete: bool) -> Presentation:
    twitching, assessed_on = draw(_twitching())
    answers = st.sampled_from([TriState.PRESENT, TriState.ABSENT]) if complete else tri_states()
    if complete:
        findings = {finding: draw(answers) for finding in Finding}
    else:
        findings = draw(st.dictionaries(st.sampled_from(Finding), answers))
    return Presentation(
        assessed_on=assessed_on,
        patient=draw(
            st.builds(
                Patient,
                age=_optional(st.integers(0, 120)),
                sex=_optional(st.sampled_from(Sex)),
            )
        ),
        twitching=twitching,
        findings=findings,
        examination=draw(_examinations()),
        exposures=draw(_exposures()),
        medications=draw(st.lists(_medications(), max_size=3)),
        labs=draw(st.lists(lab_results(), max_size=4)),
    )


def presentations(*, complete: bool = False) -> st.SearchStrategy[Presentation]:
    """Any valid presentation: every field drawn, from empty to fully described.

    Args:
        complete: Answer every finding ``present`` or ``absent`` (none left unknown).
    """
    return _presentation(complete=complete)


def presentation_dicts(*, complete: bool = False) -> st.SearchStrategy[dict[str, Any]]:
    """The presentations of :func:`presentations` as the JSON objects a caller sends.

    Each is a plain ``dict`` (dates as ISO strings, enumerations as their values, unset fields
    left out), as :func:`fasciculate.assess`, :func:`fasciculate.assess_json` (after
    ``json.dumps``) and the command line accept it, for code that handles JSON rather than models.

    Args:
        complete: Answer every finding ``present`` or ``absent`` (none left unknown).
    """
    return presentations(complete=complete).map(
        lambda presentation: presentation.model_dump(mode="json", exclude_defaults=True)
    )


@st.composite
def _negative(draw: st.DrawFn) -> Presentation:
    others = [finding for finding in Finding if finding not in SCREENING_FINDINGS]
    findings = dict.fromkeys(SCREENING_FINDINGS, TriState.ABSENT)
    # Findings outside the screen (history, differential clues) never raise the urgency alone.
    findings.update(draw(st.dictionaries(st.sampled_from(others), tri_states())))
    return Presentation(
        patient=draw(st.builds(Patient, age=st.integers(16, 95), sex=st.sampled_from(Sex))),
        twitching=Twitching(
            regions=draw(st.lists(st.sampled_from(sorted(KNEE_REGIONS)), min_size=1, unique=True)),
            duration_days=draw(st.floats(min_value=0, max_value=13.5)),
            course=draw(st.sampled_from([Course.STABLE, Course.IMPROVING])),
            at_rest=draw(tri_states()),
            after_exercise=draw(tri_states()),
        ),
        findings=findings,
        examination=_NORMAL_EXAM,
        exposures=draw(_exposures()),
        medications=draw(st.lists(_medications(), max_size=3)),
    )


def negative_screens() -> st.SearchStrategy[Presentation]:
    """Complete screens with every red flag absent: recent, stable twitching around the knee.

    Every screening question is answered ``absent``, the examination is normal, the twitching
    is in the knee area, stable or improving, for less than 14 days, and no blood results are
    given. The exposures, medications and the answers outside the screen vary. A safe library
    advises self-care for these.
    """
    return _negative()


@st.composite
def _red_flag(draw: st.DrawFn) -> Presentation:
    base = draw(_negative())
    flags = draw(st.lists(st.sampled_from(RED_FLAGS), min_size=1, max_size=3, unique=True))
    return base.model_copy(
        update={"findings": {**base.findings, **dict.fromkeys(flags, TriState.PRESENT)}}
    )


def red_flags() -> st.SearchStrategy[Presentation]:
    """Negative screens with one to three red flags (:data:`RED_FLAGS`) present.

    A safe library never advises self-care for these.
    """
    return _red_flag()
