"""One bundle being read: a pass over its entries, each routed to the reader of its type."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Hashable, Mapping

import attrs

from fasciculate.fhir import _labs, _observations, _recent, _records, _responses_read
from fasciculate.fhir._collect import Collector
from fasciculate.fhir._dates import Calendar
from fasciculate.fhir._report import EntryData
from fasciculate.fhir._resources import (
    CLINICAL_TYPES,
    AnyResource,
    Bundle,
    Condition,
    Medication,
    MedicationUse,
    Patient,
    QuestionnaireResponse,
    about,
    resource_id,
    resource_type,
    server_reference,
)
from fasciculate.fhir._subject import Subject, names

_BILLING = {
    "Account",
    "ChargeItem",
    "Claim",
    "ClaimResponse",
    "Coverage",
    "CoverageEligibilityRequest",
    "CoverageEligibilityResponse",
    "ExplanationOfBenefit",
    "Invoice",
    "PaymentNotice",
    "PaymentReconciliation",
}


def _reference(entry_url: str | None, resource: AnyResource, index: int) -> str:
    if entry_url:
        return entry_url
    if ident := resource_id(resource):
        return f"{resource_type(resource)}/{ident}"
    return f"entry.{index}"


@attrs.frozen
class Survey:
    """Where each resource type is in a bundle, and whom each entry is about."""

    kinds: Mapping[type, list[int]]  # each resource model (dict: Observation) -> its entries
    abouts: list[str | None]  # per entry: the subject a clinical resource names, else None

    @property
    def subjects(self) -> list[str]:
        """The subjects named, in entry order."""
        return [about for about in self.abouts if about]


def survey(bundle: Bundle) -> Survey:
    """Where each resource type is in the bundle (entry indexes), and whom each entry is about.

    One pass, so that what must be known before reading (the patients, the Medications
    referenced, the questionnaire responses that count) looks only at the entries concerned.
    """
    kinds: dict[type, list[int]] = defaultdict(list)
    abouts: list[str | None] = []
    for index, entry in enumerate(bundle.entry):
        resource = entry.get("resource")
        kinds[type(resource)].append(index)
        abouts.append(None if resource is None else about(resource))
    return Survey(kinds, abouts)


class Reader:
    """One bundle being read: its resources, the reference date and the collected answers.

    Reading is one pass over the entries (:meth:`read`) and a last step once the reference date
    is known (:meth:`finish`): when it defaults, it is the latest date of a resource understood,
    known only after the pass, so :attr:`as_of` is ``None`` during the pass and whatever needs it
    (the patient's age, the lab window, whether a problem-list entry is recent) is done in
    :meth:`finish`.
    """

    def __init__(
        self,
        bundle: Bundle,
        subject: Subject,
        as_of: dt.date | None,
        lab_window_days: int | None,
        surveyed: Survey,
    ) -> None:
        self.bundle = bundle
        self.abouts = surveyed.abouts
        kinds = surveyed.kinds
        self.out = Collector()
        self.as_of = as_of
        self.window = lab_window_days
        self.patient = subject
        self.subject: str | None = subject.reference
        self.patient_seen = False
        self.types: dict[str, str] = {}
        self.servers: dict[str, str] = {}  # reference in the bundle -> Type/id on its server
        self.labs: list[_labs.Result] = []
        self.at = 0  # the entry being read
        self.dated_lab = -1  # the last entry read as a lab result (inside the window or not)
        self.waiting: list[_recent.Waiting] = []  # Conditions decided at the reference date
        self.deferred = -1  # the last entry read as one of those
        self.birth: _records.Birth | None = None
        self.elsewhere = 0  # resources skipped as another patient's
        self.calendar = Calendar(self.out.problems)
        self.medications: dict[str, Medication] = {}
        #: What each distinct concept read means, decided once, by its ``concept_key``.
        self.codes: dict[Hashable, _observations.Route] = {}
        self.symptoms: dict[Hashable, tuple[str | None, EntryData]] = {}  # field, report entry
        self.conditions: dict[Hashable, _records.Coded] = {}
        #: Each distinct lab result checked: why it cannot be read (``None`` when it can).
        self.checked: dict[tuple[str, str, float], str | None] = {}
        #: Each distinct unit of an analyte's results (system, code, text): the unit accepted.
        self.units: dict[tuple[str, str | None, str | None, str | None], str | None] = {}
        for index in kinds.get(Medication, ()):
            entry = bundle.entry[index]
            medication = entry.get("resource")
            assert isinstance(medication, Medication)  # noqa: S101 - surveyed as one
            self.medications[_reference(entry.get("fullUrl"), medication, index)] = medication
            if medication.id:
                self.medications[f"Medication/{medication.id}"] = medication
        responses = kinds.get(QuestionnaireResponse, [])
        self.responses = _responses_read.current_responses(self, responses)

    def entry(self, resource: AnyResource, ref: str, **fields: str | None) -> EntryData:
        """A report entry about *resource* (known in the bundle as *ref*), as its fields.

        The entries of a bundle are validated into :class:`ReportEntry` models together, with
        the report (:func:`~fasciculate.fhir._read.read_bundle`): one call, not one per entry.
        """
        fields["reference"], fields["resource_type"] = ref, resource_type(resource)
        return fields

    @staticmethod
    def entry_as(entry: EntryData, ref: str) -> EntryData:
        """The report entry *entry* (made by :meth:`entry`), about the resource known as *ref*.

        Resources that read alike (a symptom recorded thousands of times) share the entry made
        for the first one: a copy is made in a fraction of the time of a new entry.
        """
        copy = entry.copy()
        copy["reference"] = ref
        return copy

    def read(self) -> None:
        """Read every entry, each by the reader of its resource type.

        The loop is the hot path of a large bundle (``benchmarks/bench_fhir.py``): the names it
        uses are looked up once, and an Observation, most of a large bundle, goes straight to
        its reader.
        """
        types, servers, mapped = self.types, self.servers, self.out.mapped
        known, owns, place = self.patient.known, self.patient.owns, self.calendar.place
        observation, abouts = _observations.read, self.abouts
        for index, entry in enumerate(self.bundle.entry):
            resource = entry.get("resource")
            if resource is None:
                self.out.notes.append(f"entry.{index} has no resource")
                continue
            self.at = index
            url = entry.get("fullUrl")
            ref = url or _reference(None, resource, index)
            types[ref] = resource_type(resource)
            if (server := server_reference(entry)) is not None:
                servers[ref] = server
            path = f"entry.{index}.resource"
            if type(resource) not in CLINICAL_TYPES:
                self.route(url, resource, ref, path)
                continue
            about = abouts[index]
            if about not in known and not owns(about):
                self.elsewhere_skip(resource, ref, about)
                continue
            understood = len(mapped)
            if isinstance(resource, dict):  # an Observation, most of a large bundle
                observation(self, resource, ref, path)
            else:
                self.route(url, resource, ref, path)
            if len(mapped) > understood or index in (self.dated_lab, self.deferred):
                place(resource, ref, path)

    def finish(self, as_of: dt.date | None) -> None:
        """Complete the reading at the reference date *as_of*: age, labs, recent problems."""
        self.as_of = as_of
        _records.age(self)
        _labs.resolve(self, self.labs)
        _recent.decide(self)

    def route(self, url: str | None, resource: AnyResource, ref: str, path: str) -> None:
        """Read one resource by the reader of its type."""
        # ``type() is``, not ``isinstance``: see CLINICAL_TYPES.
        if type(resource) is dict:
            _observations.read(self, resource, ref, path)
        elif type(resource) is Condition:
            _records.condition(self, resource, ref, path)
        elif type(resource) is MedicationUse:
            _records.medication(self, resource, ref, path)
        elif type(resource) is Patient:
            self.person(url, resource, ref, path)
        elif type(resource) is QuestionnaireResponse:
            _responses_read.questionnaire_response(self, resource, ref, path)
        elif type(resource) is Medication:
            reason = "read through the medication requests or statements that reference it"
            self.out.skipped.append(self.entry(resource, ref, reason=reason))
        else:
            self.other(resource, ref)

    def elsewhere_skip(self, resource: AnyResource, ref: str, about: str | None) -> None:
        """Skip *resource*, about someone other than the patient being assessed, saying why."""
        if about is None:
            reason = (
                "names no subject, and the bundle is not about one patient alone: "
                "it cannot be told whose it is"
            )
        else:
            reason = (
                f"about {about}, not the patient being assessed "
                f"({self.patient.reference or 'the patient the other resources name'})"
            )
        self.out.skipped.append(self.entry(resource, ref, reason=reason))
        self.elsewhere += 1

    def person(self, url: str | None, patient: Patient, ref: str, path: str) -> None:
        """Read the Patient being assessed; skip any other."""
        known = names(url) if url else set()
        if patient.id:
            known.add(f"Patient/{patient.id}")
        if self.patient.known and not known & self.patient.known:
            reason = f"another patient, not the one being assessed ({self.patient.reference})"
            self.out.skipped.append(self.entry(patient, ref, reason=reason))
            return
        _records.patient(self, patient, ref, path)

    def other(self, resource: AnyResource, ref: str) -> None:
        """Skip a resource type fasciculate does not read, saying why."""
        reason = (
            "billing resource"
            if resource_type(resource) in _BILLING
            else "resource type not used by fasciculate"
        )
        self.out.skipped.append(self.entry(resource, ref, reason=reason))

    def date(self, text: str | None, path: str) -> dt.date | None:
        """The date in *text*, or ``None``; not a FHIR date, it is a problem at *path*."""
        return self.calendar.date(text, path)
