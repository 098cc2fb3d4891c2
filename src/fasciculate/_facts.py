"""Frozen facts: a validated presentation, read once into the form the evaluators use.

Yes/no facts are held as Kleene levels (absent 0, unknown 1, present 2), and every fact can be
traced to the input field it came from (:mod:`fasciculate._fact_paths`), so each cited fact leads
back to what the caller sent. The implications between facts (``kb/derivations.toml``) are applied
last, and every contradiction they resolve is kept for the output.
"""

from __future__ import annotations

import functools
import operator
import re
from collections.abc import Mapping
from decimal import Context, Decimal, Inexact

import attrs

from fasciculate._conditions import FactAtom
from fasciculate._fact_paths import FINDING_PATH, SINGLE_SOURCE_PATHS, fact_paths, traced
from fasciculate._kb import KnowledgeBase, knowledge_base
from fasciculate._presentation import Examination, Presentation, Twitching
from fasciculate._vocab import (
    BODY_REGION,
    FALSE,
    INTERPRETATION_ENDS,
    NEURAXIS_REGIONS,
    TRI_LEVEL,
    TRUE,
    UNKNOWN,
    Analyte,
    Course,
    Interpretation,
    Level,
    MedicationClass,
    Reflex,
    Region,
    Side,
    Strength,
    TriState,
)


@attrs.frozen(cache_hash=True)
class LabFact:
    """One laboratory result in the analyte's canonical unit, given or computed.

    Attributes:
        value: The value in the canonical unit; ``None`` for a result given only in words.
        reported: What was sent (value and unit, and the interpretation when given).
        path: The input field (``labs.0``); for a computed value, its inputs' fields.
        interpretation: The laboratory's interpretation, when given.
        formula: For a computed value, how it was computed.
        source: For a computed value, the source of its formula.
    """

    analyte: Analyte
    value: float | None
    unit: str
    reported: str
    path: str
    interpretation: Interpretation | None = None
    formula: str | None = None
    source: str | None = None


@attrs.frozen
class MedicationFact:
    """One medication, with its class when known."""

    name: str | None
    drug_class: MedicationClass | None
    code: str | None
    path: str


@attrs.frozen(cache_hash=True)
class Conflict:
    """Two answers that contradict each other, resolved towards the worse reading.

    A derivation of the knowledge base (``kb/derivations.toml``) made *fact* present because
    *implied_by* is, while the input field *answered* had said *fact* was absent.
    """

    derivation: str
    fact: str
    answered: str
    implied_by: str
    input: str


@attrs.frozen
class Facts:
    """Everything the evaluators know about one presentation.

    Attributes:
        levels: Kleene level of every yes/no fact of the knowledge base (``0`` absent, ``1``
            unknown, ``2`` present), after its derivations.
        quantities: Value of every quantity (``None`` when not given or not measured).
        origin: For each fact several input fields can set, and each quantity, the input path it
            came from (``""`` when not given). Every other fact has one input path;
            :meth:`path_of` answers for both.
        ordered: The values of ``levels``, in the knowledge base's fact order.
        trace: The values of ``origin`` then of ``quantities``, in their (fixed) order.

    Beside them, ``medications`` (each with its class when known), ``labs`` (each result in its
    analyte's canonical unit, given or computed) and ``conflicts`` (the contradictions the
    knowledge base's derivations resolved towards present: a specific finding present, its general
    question answered absent).
    """

    levels: Mapping[str, int]
    quantities: Mapping[str, float | None]
    origin: Mapping[str, str]
    ordered: list[int]
    trace: list[str | float | None]
    medications: tuple[MedicationFact, ...]
    labs: tuple[LabFact, ...]
    conflicts: tuple[Conflict, ...] = ()

    def path_of(self, name: str) -> str:
        """The input path of fact or quantity *name*, ``""`` when the input did not give it.

        Only meaningful for a fact that is present or absent, or a quantity that was given: a
        single-source fact's path is its field's, whatever the input.
        """
        return self.origin.get(name) or fact_paths().source_path.get(name, "")


# Enum members read once: in Python 3.11 each ``Enum.MEMBER`` read is a descriptor call, and these
# are read for every presentation.
_BOTH, _HIGH = Side.BOTH, Level.HIGH
_WORSENING, _IMPROVING = Course.WORSENING, Course.IMPROVING
_WEAK, _REDUCED, _UNANSWERED = Strength.REDUCED, Reflex.REDUCED, TriState.UNKNOWN

_MEDICATION_FACTS = tuple((drug_class, f"med_{drug_class}") for drug_class in MedicationClass)
_COURSE_LEVELS = {
    course: {
        "worsening": TRUE if course is _WORSENING else FALSE,
        "improving": TRUE if course is _IMPROVING else FALSE,
    }
    for course in Course
}
_SIDE_LEVELS = {
    side: {
        "side_both": TRUE if side is _BOTH else FALSE,
        "side_one": FALSE if side is _BOTH else TRUE,
    }
    for side in Side
}
_REFLEX_LEVEL = {Reflex.BRISK: TRUE, Reflex.NORMAL: FALSE, _REDUCED: FALSE}


@functools.lru_cache(maxsize=1024)
def _region_levels(regions: frozenset[Region]) -> dict[str, int]:
    return {f"region_{region}": TRUE if region in regions else FALSE for region in Region}


@functools.lru_cache(maxsize=1024)
def _medication_levels(classes: frozenset[MedicationClass | None]) -> dict[str, int]:
    return {f"med_{c}": TRUE if c in classes else FALSE for c in MedicationClass}


@attrs.frozen
class _Blanks:
    """What every presentation starts from, for one knowledge base: copied, never changed."""

    levels: dict[str, int]
    origin: dict[str, str]
    quantities: dict[str, float | None]


_BLANKS: dict[int, tuple[KnowledgeBase, _Blanks]] = {}


def _blanks(kb: KnowledgeBase) -> _Blanks:
    """Every fact unknown, every traced path unset, every quantity unmeasured, for *kb*."""
    entry = _BLANKS.get(id(kb))
    if entry is None or entry[0] is not kb:
        blanks = _Blanks(
            levels={
                name: FALSE if fact.when_missing == "not_measured" else UNKNOWN
                for name, fact in kb.facts.items()
            },
            origin=dict.fromkeys(traced(kb), ""),
            quantities=dict.fromkeys(kb.quantities),
        )
        entry = _BLANKS[id(kb)] = (kb, blanks)
    return entry[1]


_SINGLE_SOURCE = tuple((operator.attrgetter(path), fact) for fact, path in SINGLE_SOURCE_PATHS)


class _Levels:
    """Kleene levels being collected, each with the input path it came from."""

    def __init__(self, kb: KnowledgeBase) -> None:
        self.kb = kb
        blanks = _blanks(kb)
        self.levels = blanks.levels.copy()
        # Complete from the start ("" = not given), so evaluators can read it with itemgetter.
        self.origin: dict[str, str] = blanks.origin.copy()

    def put(self, fact: str, level: int, path: str) -> None:
        # Two sources for one fact combine towards safety: the more present answer wins.
        # Every fact starts unknown, so an unknown answer for a fact not yet given changes nothing.
        given = self.origin[fact]
        if level == UNKNOWN and not given:
            return
        if not given or level > self.levels[fact]:
            self.levels[fact] = level
            self.origin[fact] = path

    def twitching(self, twitching: Twitching) -> None:
        if twitching.course is not None:  # the only source of these facts: set directly
            self.levels.update(_COURSE_LEVELS[twitching.course])

    def examination(self, exam: Examination) -> None:
        if exam.strength is not None:
            weak = TRUE if exam.strength is _WEAK else FALSE
            self.put("exam_weakness", weak, "examination.strength")
        reflexes = {"knee": exam.knee_reflex, "ankle": exam.ankle_reflex}
        for name, reflex in reflexes.items():
            if reflex is not None:
                path = f"examination.{name}_reflex"
                self.put("brisk_reflexes", _REFLEX_LEVEL[reflex], path)
                reduced = f"reduced_{name}_reflex"  # its only source: set directly
                self.levels[reduced] = TRUE if reflex is _REDUCED else FALSE
        if None in reflexes.values() and self.levels["brisk_reflexes"] == FALSE:
            # One reflex normal and the other not examined: brisk reflexes are still possible.
            self.levels["brisk_reflexes"] = UNKNOWN

    def structure(
        self, presentation: Presentation, medications: tuple[MedicationFact, ...]
    ) -> None:
        """Facts generated from the structured parts: regions, side, stress, medication classes."""
        regions = presentation.twitching.regions
        if regions:
            # Region facts have no other source, so they are set directly (a hot path in batch).
            self.levels.update(_region_levels(frozenset(regions)))
        side = presentation.twitching.side
        if side is not None:  # the only source of these facts: set directly
            self.levels.update(_SIDE_LEVELS[side])
        stress = presentation.exposures.stress
        if stress is not None:
            self.levels["stress_high"] = TRUE if stress is _HIGH else FALSE
        if medications:
            taken = {m.drug_class: m.path for m in medications if m.drug_class is not None}
            self.levels.update(_medication_levels(frozenset(taken)))
            for drug_class, fact in _MEDICATION_FACTS:
                self.origin[fact] = taken.get(drug_class, "medications")
        age = presentation.patient.age
        if age is not None:  # its only source: set directly
            youngest = self.kb.thresholds["scope_min_age"].value
            self.levels["age_under_16"] = TRUE if age < youngest else FALSE

    def derive(self, quantities: Mapping[str, float | None]) -> tuple[Conflict, ...]:
        """Apply the knowledge base's derivations in order; the contradictions they resolve."""
        conflicts: list[Conflict] = []
        denied: dict[str, str] = {}  # the facts answered absent that a derivation made present
        levels, origin = self.levels, self.origin
        source_path = fact_paths().source_path
        for derivation in self.kb.derivations:
            when = derivation.when
            if isinstance(when, FactAtom):
                if levels[when.name] != TRUE:
                    continue
                name = when.name
                path = origin.get(name) or source_path[name]
            else:
                value = quantities[when.quantity]
                if value is None or not when.holds(value):
                    continue
                name, path = when.quantity, origin[when.quantity]
            target = derivation.sets
            if levels[target] == FALSE and origin[target]:
                denied[target] = origin[target]  # kept: several findings may contradict it
            answered = denied.get(target)
            if answered is not None:
                conflicts.append(Conflict(derivation.id, target, answered, name, path))
            self.put(target, TRUE, path)
        return tuple(conflicts)

    def answers(self, presentation: Presentation) -> None:
        """The yes/no answers of the structured sections, each the only source of its fact."""
        levels = self.levels
        for read, fact in _SINGLE_SOURCE:
            level = TRI_LEVEL[read(presentation)]
            if level != UNKNOWN:
                levels[fact] = level


_MEASURES = tuple(
    (operator.attrgetter(path), key, path)
    for key, path in (
        ("age", "patient.age"),
        ("caffeine_mg_per_day", "exposures.caffeine_mg_per_day"),
        ("sleep_hours", "exposures.sleep_hours"),
    )
)
#: The quantities each analyte's results set: its lowest and its highest value.
_END_KEYS = {analyte: (f"{analyte}_lowest", f"{analyte}_highest") for analyte in Analyte}
_ENDS = (min, max)


def _quantities(
    presentation: Presentation, labs: tuple[LabFact, ...], kb: KnowledgeBase, origin: dict[str, str]
) -> dict[str, float | None]:
    quantities = _blanks(kb).quantities.copy()
    twitching = presentation.twitching
    duration = presentation.duration_days
    if duration is not None:
        quantities["duration_days"] = duration
        given = twitching.onset_date is None
        origin["duration_days"] = "twitching.duration_days" if given else "twitching.onset_date"
    for read, key, path in _MEASURES:
        value = read(presentation)
        if value is not None:
            quantities[key] = float(value)
            origin[key] = path
    power = presentation.examination.power
    if power:
        weakest = min(power, key=power.__getitem__)
        quantities["power_lowest"] = float(power[weakest])
        origin["power_lowest"] = f"examination.power.{weakest}"
    if twitching.regions:
        quantities["region_count"] = _region_count(frozenset(twitching.regions))
        origin["region_count"] = "twitching.regions"
    for lab in labs:
        value = lab.value
        if value is None:
            continue
        for key, better in zip(_END_KEYS[lab.analyte], _ENDS, strict=True):
            current = quantities[key]
            # min/max as written: a value that is not a number (only in a presentation built
            # without validation) never stands in front of a later number.
            if current is None or better(current, value) != current:
                quantities[key] = value
                origin[key] = lab.path
    return quantities


@functools.lru_cache(maxsize=1024)
def _region_count(regions: frozenset[Region]) -> float:
    """How many regions of the neuraxis (bulbar, cervical, thoracic, lumbosacral) it covers."""
    return float(len({BODY_REGION[region] for region in regions} & NEURAXIS_REGIONS))


_WORD = re.compile(r"[a-z0-9]+")


def _class_from_name(name: str | None, kb: KnowledgeBase) -> MedicationClass | None:
    """The class of a medication given only by name, from the knowledge base's name table."""
    if name is None:
        return None
    words = _WORD.findall(name.lower())
    for size in (2, 1):  # two-word names ("lithium carbonate") before single words
        for start in range(len(words) - size + 1):
            found = kb.medication_names.get(" ".join(words[start : start + size]))
            if found is not None:
                return found
    return None


#: The input paths of the laboratory results, by index, as many as a valid ``labs`` holds.
_LAB_BOUND: int = next(
    rule.max_length
    for rule in Presentation.model_fields["labs"].metadata
    if hasattr(rule, "max_length")
)
_LAB_PATHS = tuple(f"labs.{index}" for index in range(_LAB_BOUND))


def _lab_facts(presentation: Presentation, kb: KnowledgeBase) -> tuple[LabFact, ...]:
    """The laboratory results as given, then any albumin-adjusted calcium computed from them."""
    given = []
    tables = kb.labs
    for index, result in enumerate(presentation.labs):
        # Past the validated bound only for a presentation built without validation.
        path = _LAB_PATHS[index] if index < _LAB_BOUND else f"labs.{index}"
        words = result.interpretation
        value = result.value
        if value is None:
            reported = f"reported {words}"
        elif words:
            reported = f"{value:g} {result.unit} ({words})"
        else:
            reported = f"{value:g} {result.unit}"
        analyte = result.analyte
        # Positional: analyte, value, unit, reported, path, interpretation.
        given.append(LabFact(analyte, result.si_value, tables[analyte].unit, reported, path, words))
    return (*given, *_adjusted_calcium(given, kb)) if len(given) > 1 else tuple(given)


def _adjusted_calcium(labs: list[LabFact], kb: KnowledgeBase) -> tuple[LabFact, ...]:
    """Total calcium adjusted for albumin (CKS: Ca + 0.02 x (40 - albumin g/L)), given both.

    With several results the two extremes are computed (the lowest calcium with the highest
    albumin, the highest calcium with the lowest albumin), so a worse result can only move the
    adjusted value the worse way.
    """
    totals = [lab for lab in labs if lab.analyte is _TOTAL and lab.value is not None]
    albumins = [lab for lab in labs if lab.analyte is _ALBUMIN and lab.value is not None]
    if not totals or not albumins:
        return ()
    reference = kb.thresholds["albumin_reference"]
    factor = kb.thresholds["albumin_factor"].value
    value = operator.attrgetter("value")
    lowest = (min(totals, key=value), max(albumins, key=value))
    highest = (max(totals, key=value), min(albumins, key=value))
    # Each result has its own path: the pairs are told apart, and ordered, by their paths.
    pairs = {(total.path, albumin.path): (total, albumin) for total, albumin in (lowest, highest)}
    computed = []
    for _, (total, albumin) in sorted(pairs.items()):
        # Computed exactly, then rounded once: float noise must never push a value over a limit.
        adjusted = _adjusted(total.value, factor, reference.value, albumin.value)
        computed.append(
            LabFact(
                analyte=Analyte.CALCIUM_ADJUSTED,
                value=adjusted,
                unit=kb.labs[Analyte.CALCIUM_ADJUSTED].unit,
                reported=(
                    f"computed from total calcium {total.reported} and albumin {albumin.reported}"
                ),
                path=f"{total.path},{albumin.path}",
                formula=(
                    f"{total.value:g} + {factor:g} x ({reference.value:g} - {albumin.value:g}) "
                    f"= {adjusted:g} mmol/L (total calcium + {factor:g} x "
                    f"({reference.value:g} - albumin g/L))"
                ),
                source=reference.source,
            )
        )
    return tuple(computed)


_TOTAL, _ALBUMIN = Analyte.CALCIUM_TOTAL, Analyte.ALBUMIN


#: Decimal arithmetic that stops rather than round. A float's shortest decimal has at most 17
#: digits and an exponent within 10^-324..10^308, so a difference, product or sum of such
#: decimals has under 700 digits: with 800 it is always exact (a cost only for the digits used).
_EXACTLY = Context(prec=800, Emin=-999_999, Emax=999_999, traps=[Inexact])


def _adjusted(total: float | None, factor: float, reference: float, albumin: float | None) -> float:
    """``total + factor x (reference - albumin)`` on the decimals as written, rounded once.

    ``0.02`` is 2/100, not the nearest binary fraction: float noise must never push a value
    over a limit. The decimal arithmetic (in C) is exact for any floats (see ``_EXACTLY``).
    """
    difference = _EXACTLY.subtract(Decimal(repr(reference)), Decimal(repr(albumin)))
    product = _EXACTLY.multiply(Decimal(repr(factor)), difference)
    return float(_EXACTLY.add(Decimal(repr(total)), product))


def facts_from(presentation: Presentation, kb: KnowledgeBase | None = None) -> Facts:
    """Read *presentation* into :class:`Facts` (the only place the input models are read)."""
    kb = kb or knowledge_base()
    collected = _Levels(kb)
    levels, origin = collected.levels, collected.origin
    # Every fact starts unknown and findings are read first: only the answered ones are put.
    answered: dict[str, int] = {
        finding: TRI_LEVEL[answer]
        for finding, answer in presentation.findings.items()
        if answer is not _UNANSWERED
    }
    levels.update(answered)
    for finding in fact_paths().multi_source_findings:  # the findings other fields can also set
        if finding in answered:
            origin[finding] = FINDING_PATH[finding]
    collected.twitching(presentation.twitching)
    collected.examination(presentation.examination)
    collected.answers(presentation)

    labs: tuple[LabFact, ...] = ()
    if presentation.labs:
        labs = _lab_facts(presentation, kb)
        for lab in labs:
            if lab.interpretation is not None:
                for end in INTERPRETATION_ENDS[lab.interpretation]:
                    collected.put(f"{lab.analyte}_reported_{end}", TRUE, lab.path)
    medications: tuple[MedicationFact, ...] = ()
    if presentation.medications:
        medications = tuple(
            MedicationFact(
                name=medication.name,
                drug_class=medication.drug_class or _class_from_name(medication.name, kb),
                code=None if medication.code is None else medication.code.code,
                path=f"medications.{index}",
            )
            for index, medication in enumerate(presentation.medications)
        )
    collected.structure(presentation, medications)
    quantities = _quantities(presentation, labs, kb, origin)
    conflicts = collected.derive(quantities) if kb.derivations else ()
    return Facts(
        levels=levels,
        quantities=quantities,
        origin=origin,
        ordered=list(levels.values()),
        trace=[*origin.values(), *quantities.values()],
        medications=medications,
        labs=labs,
        conflicts=conflicts,
    )
