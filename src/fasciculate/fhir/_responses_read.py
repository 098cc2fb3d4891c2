"""QuestionnaireResponses in a bundle being read: which count, and the answers of the one read.

Only responses to fasciculate's Questionnaire count, and only ``completed`` or ``amended`` ones;
with several, the latest by ``authored`` is read (not the last in the bundle) and the others are
reported as superseded.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from fasciculate._vocab import TriState
from fasciculate.fhir._collect import parse_moment
from fasciculate.fhir._questionnaire import QUESTIONNAIRE_URL
from fasciculate.fhir._resources import QuestionnaireResponse, about
from fasciculate.fhir._response import answers_from_response

if TYPE_CHECKING:
    from collections.abc import Iterable

    from fasciculate.fhir._reader import Reader

#: QuestionnaireResponse statuses whose answers are read (also the CQL library's).
COUNTED_RESPONSES = {"completed", "amended"}
_UNDATED = dt.datetime.min.replace(tzinfo=dt.UTC)


def _ours(response: QuestionnaireResponse) -> bool:
    return (response.questionnaire or "").split("|")[0] == QUESTIONNAIRE_URL


def _authored(response: QuestionnaireResponse) -> dt.datetime:
    try:
        return parse_moment(response.authored) or _UNDATED
    except ValueError:  # reported when the response is read
        return _UNDATED


def current_responses(reader: Reader, indexes: Iterable[int]) -> tuple[dict[int, str], str | None]:
    """The completed responses to fasciculate's Questionnaire that count (by entry index).

    *indexes* are the entries that hold a QuestionnaireResponse. The latest by ``authored``
    counts (several authored at that same instant all count); the reference of one of them names
    what superseded the others.
    """
    counted = [
        (index, response)
        for index in indexes
        if isinstance(response := reader.bundle.entry[index].get("resource"), QuestionnaireResponse)
        and _ours(response)
        and response.status in COUNTED_RESPONSES
        and reader.patient.owns(about(response))
    ]
    latest = max((_authored(response) for _, response in counted), default=None)
    current = {
        index: response.authored or "no date"
        for index, response in counted
        if _authored(response) == latest
    }
    return current, next(iter(current.values()), None)


def _not_counted(reader: Reader, response: QuestionnaireResponse, path: str) -> str | None:
    """Why *response* (to fasciculate's Questionnaire) does not count, or ``None`` if it does."""
    if response.status not in COUNTED_RESPONSES:
        return f"status {response.status}: only completed or amended responses are read"
    reader.date(response.authored, f"{path}.authored")
    current, latest = reader.responses
    if reader.at not in current:
        return f"superseded by a later response to the same Questionnaire (authored {latest})"
    return None


def questionnaire_response(
    reader: Reader, response: QuestionnaireResponse, ref: str, path: str
) -> None:
    if not _ours(response):
        reason = (
            f"answers another Questionnaire ({response.questionnaire}); "
            f"only {QUESTIONNAIRE_URL} is read"
        )
        reader.out.unmapped.append(reader.entry(response, ref, reason=reason))
        return
    skip = _not_counted(reader, response, path)
    if skip is not None:
        reader.out.skipped.append(reader.entry(response, ref, reason=skip))
        return
    answers, problems = answers_from_response(response, path)
    reader.out.problems.extend(problems)
    out = reader.out
    for field, value in answers.items():
        if field in {"medications", "labs"}:
            records = out.medications if field == "medications" else out.labs
            for item in value:
                out.cite(f"{field}.{len(records)}", ref)
                records.append(item)
        elif field == "assessed_on":
            out.notes.append(f"questionnaire date {value} noted; the reference date is as_of")
        elif isinstance(value, TriState):
            out.answer(field, value, ref)
        elif field == "twitching.regions":
            out.regions.extend(value)
            out.cite(field, ref)
        else:
            section, key = field.split(".", 1)
            out.data.setdefault(section, {})
            out.set_once(section, key, value, ref)
    reason = f"{len(answers)} answered items"
    reader.out.mapped.append(reader.entry(response, ref, reason=reason))
