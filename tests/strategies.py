"""Hypothesis strategies for presentations (local to the tests; public ones may come later)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from hypothesis import strategies as st

from fasciculate import (
    Analyte,
    Course,
    Finding,
    Frequency,
    Level,
    MedicationClass,
    Presentation,
    Reflex,
    Region,
    Sex,
    Side,
    Strength,
    TriState,
)
from fasciculate._kb import knowledge_base

tri = st.sampled_from(TriState)
dates = st.dates(dt.date(2000, 1, 1), dt.date(2030, 12, 31))


def _maybe(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.none() | strategy


def _floats(low: float, high: float) -> st.SearchStrategy[float]:
    return st.floats(low, high, allow_nan=False, allow_infinity=False)


def _drop_none(data: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in data.items() if value is not None}


@st.composite
def _lab(draw: st.DrawFn) -> dict[str, Any]:
    lab = knowledge_base().labs[draw(st.sampled_from(Analyte))]
    unit = draw(st.sampled_from(sorted(lab.units)))
    low, high = lab.plausible
    factor = lab.units[unit]
    value = draw(_floats(low / factor, high / factor).filter(lambda v: low <= v * factor <= high))
    return {"analyte": str(lab.analyte), "unit": unit, "value": value}


_coding = st.fixed_dictionaries(
    {
        "system": st.sampled_from(
            ["http://www.nlm.nih.gov/research/umls/rxnorm", "http://www.whocc.no/atc"]
        ),
        "code": st.text("0123456789ABCN", min_size=1, max_size=8),
    },
    optional={"display": st.text(min_size=1, max_size=20)},
)
_medication = st.fixed_dictionaries(
    {},
    optional={
        "name": st.text(min_size=1, max_size=40),
        "drug_class": st.sampled_from(MedicationClass).map(str),
        "code": _coding,
    },
).filter(bool)


@st.composite
def presentations(draw: st.DrawFn) -> Presentation:
    """Any valid presentation, including partial ones and explicit 'unknown' answers."""
    assessed_on = draw(_maybe(dates))
    onset = None
    if assessed_on is not None:
        onset = draw(_maybe(st.dates(dt.date(1990, 1, 1), assessed_on)))
    twitching = _drop_none(
        {
            "regions": draw(st.lists(st.sampled_from(Region), unique=True, max_size=4)),
            "side": draw(_maybe(st.sampled_from(Side))),
            "duration_days": draw(_maybe(_floats(0, 36500))),
            "onset_date": onset,
            "course": draw(_maybe(st.sampled_from(Course))),
            "frequency": draw(_maybe(st.sampled_from(Frequency))),
            "at_rest": draw(tri),
            "after_exercise": draw(tri),
        }
    )
    data = {
        "assessed_on": assessed_on,
        "patient": _drop_none(
            {"age": draw(_maybe(st.integers(0, 120))), "sex": draw(_maybe(st.sampled_from(Sex)))}
        ),
        "twitching": twitching,
        "findings": draw(st.dictionaries(st.sampled_from(list(Finding)), tri, max_size=12)),
        "examination": _drop_none(
            {
                "strength": draw(_maybe(st.sampled_from(Strength))),
                "knee_reflex": draw(_maybe(st.sampled_from(Reflex))),
                "ankle_reflex": draw(_maybe(st.sampled_from(Reflex))),
                "babinski": draw(tri),
                "wasting": draw(tri),
                "sensory_loss": draw(tri),
                "anal_sphincter_laxity": draw(tri),
            }
        ),
        "exposures": _drop_none(
            {
                "caffeine_mg_per_day": draw(_maybe(_floats(0, 5000))),
                "sleep_hours": draw(_maybe(_floats(0, 24))),
                "stress": draw(_maybe(st.sampled_from(Level))),
                "strenuous_exercise_48h": draw(tri),
                "dehydration": draw(tri),
                "nicotine": draw(tri),
            }
        ),
        "medications": draw(st.lists(_medication, max_size=3)),
        "labs": draw(st.lists(_lab(), max_size=3)),
    }
    return Presentation.model_validate(_drop_none(data))
