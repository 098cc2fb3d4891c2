"""The shapes of CDS Hooks 2.0 cards, as :class:`typing.TypedDict`: plain JSON, typed for callers.

They follow the CDS Hooks 2.0 specification's Card, Source, Suggestion, Action and Link objects
(https://cds-hooks.hl7.org/2.0/#card-attributes); the keys are the specification's spelling. At run
time a card is an ordinary ``dict``, so ``json.dumps`` writes it as it always has; a test checks
every card fasciculate writes against these shapes and against the CDS Hooks JSON Schema.
"""

# No `from __future__ import annotations`: TypedDict reads NotRequired from evaluated annotations
# (with string annotations, Python 3.11 would count every key as required).
from typing import Any, Literal, NotRequired, TypedDict


class CardCoding(TypedDict):
    """A code in a card (``topic``, ``overrideReasons``): ``system``, ``code``, ``display``."""

    code: str
    system: NotRequired[str]
    display: NotRequired[str]


class CardSource(TypedDict):
    """Where a card comes from: ``label``, and optionally ``url``, ``icon`` and ``topic``."""

    label: str
    url: NotRequired[str]
    icon: NotRequired[str]
    topic: NotRequired[CardCoding]


class Action(TypedDict):
    """What a suggestion does: ``type`` (create, update, delete), ``description``, ``resource``.

    ``resource`` is the FHIR resource to create or update, as JSON (for fasciculate, the proposed
    ServiceRequest); ``resourceId`` names the resource to delete.
    """

    type: Literal["create", "update", "delete"]
    description: str
    resource: NotRequired[dict[str, Any]]
    resourceId: NotRequired[list[str]]


class Suggestion(TypedDict):
    """An action the clinician can accept: ``label``, ``uuid``, ``isRecommended``, ``actions``."""

    label: str
    uuid: NotRequired[str]
    isRecommended: NotRequired[bool]
    actions: NotRequired[list[Action]]


class Link(TypedDict):
    """A link to a reference or an app: ``label``, ``url``, ``type`` (absolute or smart)."""

    label: str
    url: str
    type: Literal["absolute", "smart"]
    appContext: NotRequired[str]


class Card(TypedDict):
    """A CDS Hooks 2.0 card.

    ``summary`` (under 140 characters), ``indicator`` (``info``, ``warning`` or ``critical``) and
    ``source`` are required; fasciculate also writes ``uuid`` and a markdown ``detail``, and, when
    a referral is advised, one ``suggestions`` entry with ``selectionBehavior`` ``at-most-one``.
    """

    uuid: NotRequired[str]
    summary: str
    detail: NotRequired[str]
    indicator: Literal["info", "warning", "critical"]
    source: CardSource
    suggestions: NotRequired[list[Suggestion]]
    selectionBehavior: NotRequired[Literal["at-most-one", "any"]]
    overrideReasons: NotRequired[list[CardCoding]]
    links: NotRequired[list[Link]]
