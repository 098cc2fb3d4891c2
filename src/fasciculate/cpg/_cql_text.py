"""The text of the generated CQL: literals, and the shared definitions every reading uses.

The shared definitions say which resources count, as the FHIR reader decides it (statuses,
verification, intent, the latest completed response to fasciculate's Questionnaire), with the
helper functions the readings of :mod:`fasciculate.cpg._cql_read` call. Every status and code
comes from the reader's own tables.
"""

from __future__ import annotations

from collections.abc import Iterable

from fasciculate._vocab import TriState
from fasciculate.fhir._codes import INTERPRETATION, LOINC, UCUM
from fasciculate.fhir._items import YES_NO_UNKNOWN, system_of
from fasciculate.fhir._labs import FINAL
from fasciculate.fhir._observations import NO_CODES, SKIP_STATUS, SYMPTOM, SYMPTOM_ABSENT
from fasciculate.fhir._questionnaire import QUESTIONNAIRE_URL
from fasciculate.fhir._records import ACTIVE_CONDITION, ORDERS, SKIPPED_VERIFICATION
from fasciculate.fhir._responses_read import COUNTED_RESPONSES


def string(text: str) -> str:
    """*text* as a CQL string literal."""
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def strings(items: Iterable[str]) -> str:
    """*items* (sorted, unique) as a CQL list of strings."""
    return "{ " + ", ".join(string(item) for item in sorted(set(items))) + " }"


def decimal(value: float) -> str:
    """*value* as a CQL Decimal literal."""
    text = repr(float(value))
    return text if "e" not in text else f"{value:.10f}".rstrip("0")


#: The codings that answer no, as a CQL condition on a coding ``C``.
_SAYS_NO = " or ".join(
    f"(C.system.value = {string(s)} and C.code.value = {string(c)})" for s, c in sorted(NO_CODES)
)
#: The LOINC yes / no / unknown answers, as the cases of a CQL ``case``.
_YES_NO = " ".join(
    f"when {string(code)} then {string(str(meaning))}" for code, _, meaning in YES_NO_UNKNOWN
)

_PRELUDE = f"""\
define function "Has Code"(concept FHIR.CodeableConcept, system String, codes List<String>):
  exists (concept.coding C where C.system.value = system and C.code.value in codes)

define function "Has Code Under"(concept FHIR.CodeableConcept, system String, heads List<String>):
  exists (
    concept.coding C
      where C.system.value = system
        and exists (heads H where StartsWith(Upper(C.code.value), H)
          or StartsWith(Upper(C.code.value), ReplaceMatches(H, '\\\\.', '')))
  )

define "Observations":
  [Observation] O where not (O.status.value in {strings(SKIP_STATUS)})

define "Symptoms Present":
  "Observations" O
    where "Has Code"(O.code, {string(LOINC)}, {{ {string(SYMPTOM)} }})
      and not "Has Code"(O.code, {string(LOINC)}, {{ {string(SYMPTOM_ABSENT)} }})

define "Symptoms Absent":
  "Observations" O where "Has Code"(O.code, {string(LOINC)}, {{ {string(SYMPTOM_ABSENT)} }})

define function "Says No"(O FHIR.Observation):
  if O.value is FHIR.boolean then not ((O.value as FHIR.boolean).value)
  else exists (
    ((O.value as FHIR.CodeableConcept).coding) C
      where {_SAYS_NO}
  )

define "Active Conditions":
  [Condition] C
    where not exists (
        C.verificationStatus.coding V where V.code.value in {strings(SKIPPED_VERIFICATION)}
      )
      and (
        exists (C.clinicalStatus.coding S where S.code.value in {strings(ACTIVE_CONDITION)})
        or (not exists C.clinicalStatus.coding and C.abatement is null)
      )

define "Current Medication Orders":
  [MedicationRequest] M
    where M.status.value = 'active'
      and not Coalesce(M.doNotPerform.value, false)
      and (M.intent is null or M.intent.value in {strings(ORDERS)})
      and M.medication is FHIR.CodeableConcept

define "Coded Findings":
  "Observations" O
    where not "Has Code"(O.code, {string(LOINC)}, {{ {string(SYMPTOM)}, {string(SYMPTOM_ABSENT)} }})

define function "Unit Of"(Q FHIR.Quantity, accepted List<String>):
  if (Q.system is null or Q.system.value = {string(UCUM)}) and Q.code.value in accepted
    then Q.code.value
  else if Q.unit.value in accepted then Q.unit.value
  else null

define "Responses":
  // `return all`: a query's result is distinct by default, and telling whole responses apart
  // compares every answer in them (most of an engine's work); the answers read stay the same.
  [QuestionnaireResponse] R
    where (R.questionnaire.value = {string(QUESTIONNAIRE_URL)}
        or StartsWith(R.questionnaire.value, {string(QUESTIONNAIRE_URL + "|")}))
      and R.status.value in {strings(COUNTED_RESPONSES)}
    return all R

define "Latest Authored":
  Max("Responses" R return R.authored.value)

define "Current Responses":
  "Responses" R
    where R.authored.value = "Latest Authored"
      or ("Latest Authored" is null and R.authored is null)
    return all R

define "Answered Items":
  // `return all`: a query's return is distinct by default, which would merge items; a leaf's
  // missing children are null, not an empty list, so only items with children are descended.
  flatten {{
    flatten ("Current Responses" R return all R.item),
    flatten ("Current Responses" R return all "Children"(R.item)),
    flatten ("Current Responses" R return all "Children"("Children"(R.item)))
  }}

define function "Children"(items List<FHIR.QuestionnaireResponse.Item>):
  flatten (items I where exists I.item return all I.item)

define function "Tri Answers"(linkId String):
  flatten (
    "Answered Items" I
      where I.linkId.value = linkId and exists I.answer
      return (
        I.answer A
          return
            if A.value is FHIR.boolean then
              if (A.value as FHIR.boolean).value then 'present' else 'absent'
            else if A.value is FHIR.Coding then
              if (A.value as FHIR.Coding).system.value = {string(LOINC)} then
                case (A.value as FHIR.Coding).code.value
                  {_YES_NO}
                  else null
                end
              else if (A.value as FHIR.Coding).system is null
                or (A.value as FHIR.Coding).system.value = {string(system_of(TriState))} then
                "Tri Code"((A.value as FHIR.Coding).code.value)
              else null
            else if A.value is FHIR.string then "Tri Code"((A.value as FHIR.string).value)
            else null
      )
  )

define function "Tri Code"(code String):
  if code in {strings(TriState)} then code else null

define function "Choice Answers"(linkId String):
  flatten (
    "Answered Items" I
      where I.linkId.value = linkId and exists I.answer
      return (
        I.answer A
          return
            if A.value is FHIR.Coding then (A.value as FHIR.Coding).code.value
            else if A.value is FHIR.string then (A.value as FHIR.string).value
            else null
      )
  )

define function "Number Answer"(linkId String, unit String):
  First(
    flatten (
      "Answered Items" I
        where I.linkId.value = linkId and exists I.answer
        return (
          I.answer A
            return
              if A.value is FHIR.decimal then (A.value as FHIR.decimal).value
              else if A.value is FHIR.integer then ToDecimal((A.value as FHIR.integer).value)
              else if A.value is FHIR.Quantity and unit = Coalesce(
                (A.value as FHIR.Quantity).code.value, (A.value as FHIR.Quantity).unit.value, unit
              ) then (A.value as FHIR.Quantity).value.value
              else null
        )
    ) V where V is not null
  )

define "Onset Date":
  First(
    flatten (
      "Answered Items" I
        where I.linkId.value = 'twitching.onset_date'
        return (I.answer A where A.value is FHIR.date return (A.value as FHIR.date).value)
    )
  )

define function "Final Results"(codes List<String>):
  "Observations" O
    where O.status.value in {strings(FINAL)} and "Has Code"(O.code, {string(LOINC)}, codes)

define function "Interpreted"(O FHIR.Observation, codes List<String>, worse List<String>):
  exists (O.interpretation I where "Has Code"(I, {string(INTERPRETATION)}, codes))
    and not exists (O.interpretation I where "Has Code"(I, {string(INTERPRETATION)}, worse))
"""


def prelude() -> str:
    """The shared definitions: which resources count, and the helper functions."""
    return _PRELUDE
