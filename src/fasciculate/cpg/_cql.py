"""The referral rule table as a CQL library over FHIR R4, generated from the knowledge base.

The library has five layers, each a run of ``define`` statements:

1. reading: each fact as FHIR gives it (``"Read <fact>"``) and each quantity (``"Quantity <q>"``),
   from the FHIR reader's own code tables (:mod:`fasciculate.cpg._cql_read`);
2. the derivations of ``kb/derivations.toml`` (``"Fact <fact>"``): a present specific finding
   makes its general fact present, ``if <when> is true then true else "Read <fact>"``;
3. the rules (``"Rule <id>"``), each its ``when`` with CQL's ``and`` / ``or``, which are Kleene's
   (``null`` is unknown), so a rule is ``true`` (fires), ``false`` or ``null`` (unknown);
4. the indications of ``kb/indications.toml`` and the focused rules (``"Focused Rule <id>"``), with
   every unanswered question no indication calls for read as absent;
5. the urgency: the highest of the fired rules, raised to ``SCREEN-INCOMPLETE``'s urgency when a
   focused rule above it is still unknown (``"Screen Open"``).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from fasciculate._conditions import All, Any_, Atom, CompareAtom, Condition, FactAtom, atoms
from fasciculate._kb import KnowledgeBase
from fasciculate._vocab import Urgency
from fasciculate.cpg import _cql_read
from fasciculate.cpg._cql_text import decimal, prelude

#: The library's name, as CQL and the FHIR Library name it.
LIBRARY = "FasciculateReferral"

_OPS = {">=": ">=", ">": ">", "<=": "<=", "<": "<"}


def _name(atom: Atom) -> str:
    return atom.name if isinstance(atom, FactAtom) else atom.quantity


def _atom(atom: Atom) -> str:
    if isinstance(atom, FactAtom):
        return f'"Fact {atom.name}"'
    return f'"Quantity {atom.quantity}" {_OPS[atom.op]} {decimal(atom.threshold)}'


def expression(condition: Condition, *, focused: bool = False) -> str:
    """*condition* in CQL; with *focused*, each atom of a set-aside question reads as absent."""
    if isinstance(condition, FactAtom | CompareAtom):
        text = _atom(condition)
        if focused:
            return f'"Focus"("Set Aside {_name(condition)}", {text})'
        return text
    joiner = " and " if isinstance(condition, All) else " or "
    return joiner.join(_part(part, focused=focused) for part in condition.parts)


def _part(part: Condition, *, focused: bool) -> str:
    text = expression(part, focused=focused)
    return f"({text})" if isinstance(part, All | Any_) else text


def names(kb: KnowledgeBase) -> tuple[list[str], list[str]]:
    """The facts and the quantities the referral reads, each in the knowledge base's order."""
    used: set[str] = set()
    for condition in (
        *(rule.condition for rule in kb.rules),
        *(row.condition for row in kb.indications),
        *(row.when for row in kb.derivations),
    ):
        used.update(_name(atom) for atom in atoms(condition))
    used.update(row.sets for row in kb.derivations)
    used.add("age")  # age_under_16 is read from it
    return [f for f in kb.facts if f in used], [q for q in kb.quantities if q in used]


def _computed_calcium(kb: KnowledgeBase) -> str:
    """Albumin-adjusted calcium from total calcium and albumin (as ``_facts`` computes it)."""
    factor = decimal(kb.thresholds["albumin_factor"].value)
    reference = decimal(kb.thresholds["albumin_reference"].value)
    return f"""\
define "Computed calcium_adjusted":
  if exists "Values calcium_total" and exists "Values albumin" then {{
    Min("Values calcium_total") + {factor} * ({reference} - Max("Values albumin")),
    Max("Values calcium_total") + {factor} * ({reference} - Min("Values albumin"))
  }}
  else List<Decimal>{{}}
"""


def unread(kb: KnowledgeBase) -> tuple[list[str], list[str]]:
    """The facts and quantities the CQL does not read from FHIR: always unknown (or absent)."""
    facts, quantities = names(kb)
    not_read = [name for name, body in _cql_read.facts(kb, facts) if body is None]
    return not_read, [q for q in quantities if _cql_read.quantity(kb, q) is None]


def _reading(kb: KnowledgeBase) -> Iterator[str]:
    facts, quantities = names(kb)
    yield from _cql_read.lab_values(kb)
    yield _computed_calcium(kb)
    for name in quantities:
        quantity = _cql_read.quantity(kb, name) or "  null as Decimal"
        yield f'define "Quantity {name}":\n{quantity}\n'
    for name, body in _cql_read.facts(kb, facts):
        default = "false" if kb.facts[name].when_missing == "not_measured" else "null"
        yield f'define "Read {name}":\n{body or f"  {default}"}\n'


def _derived(kb: KnowledgeBase) -> Iterator[str]:
    facts, _ = names(kb)
    for name in facts:
        whens = [row.when for row in kb.derivations if row.sets == name]
        if not whens:
            yield f'define "Fact {name}":\n  "Read {name}"\n'
            continue
        held = " or ".join(f"({_atom(when)}) is true" for when in whens)
        yield f'define "Fact {name}":\n  if {held} then true\n  else "Read {name}"\n'


def _rules(kb: KnowledgeBase) -> Iterator[str]:
    for rule in kb.rules:
        yield f'// {rule.id} ({rule.urgency}): {rule.when}\ndefine "Rule {rule.id}":\n'
        yield f"  {expression(rule.condition)}\n"


def _screen(kb: KnowledgeBase) -> Iterator[str]:
    facts, quantities = names(kb)
    core = set(kb.core.questions)
    for row in kb.indications:
        yield f'define "Indication {row.id}":\n  {expression(row.condition)}\n'
    for name in (*facts, *quantities):
        listing = [row.id for row in kb.indications if name in row.questions]
        if name in core:
            body = "false"
        elif listing:
            body = " and ".join(f'"Indication {item}" is false' for item in listing)
        else:
            body = "true"
        yield f'define "Set Aside {name}":\n  {body}\n'
    yield (
        'define function "Focus"(setAside Boolean, level Boolean):\n'
        "  if setAside and level is null then false else level\n"
    )
    for rule in kb.rules:
        yield f'define "Focused Rule {rule.id}":\n  {expression(rule.condition, focused=True)}\n'


def _urgency(kb: KnowledgeBase) -> Iterator[str]:
    ranked = sorted((u for u in Urgency if u.rank > 0), key=lambda u: -u.rank)
    fired = "\n  else ".join(
        f"if {_any(f'Rule {rule.id}' for rule in kb.rules if rule.urgency is urgency)} "
        f"then {urgency.rank}"
        for urgency in ranked
    )
    yield f'define "Fired Rank":\n  {fired}\n  else 0\n'
    open_at = "\n  or ".join(
        f'("Fired Rank" < {urgency.rank} and '
        f"({_any((f'Focused Rule {r.id}' for r in kb.rules if r.urgency is urgency), null=True)}))"
        for urgency in ranked
    )
    yield f'define "Screen Open":\n  {open_at}\n'
    screen = kb.screen_incomplete.urgency.rank
    yield (
        'define "Urgency Rank":\n'
        f'  if "Screen Open" then Max({{ "Fired Rank", {screen} }}) else "Fired Rank"\n'
    )
    cases = " ".join(f"when {u.rank} then '{u}'" for u in sorted(Urgency, key=lambda u: -u.rank))
    yield f'define "Urgency":\n  case "Urgency Rank" {cases} else null end\n'
    for urgency in ranked:
        title = urgency.value.title()
        yield f'define "Is {title}":\n  "Urgency" = \'{urgency}\'\n'


def _any(defines: Iterable[str], *, null: bool = False) -> str:
    test = " is null" if null else ""
    return " or ".join(f'"{name}"{test}' for name in defines) or "false"


def cql_library(kb: KnowledgeBase) -> str:
    """The CQL text of the referral logic of *kb*."""
    header = (
        f"// The referral rule table of fasciculate, knowledge base {kb.version}\n"
        f"// (SHA-256 {kb.sha256}), generated by `fasciculate export --format cpg`:\n"
        "// do not edit. null is unknown; and / or are Kleene's, as in the rule table.\n"
        f"library {LIBRARY} version '{kb.version}'\n\n"
        "using FHIR version '4.0.1'\n\n"
        "context Patient\n"
    )
    sections = (
        ("Reading FHIR", [prelude(), *_reading(kb)]),
        ("Derivations (kb/derivations.toml)", list(_derived(kb))),
        ("Rules (kb/rules.toml)", list(_rules(kb))),
        ("The focused screen (kb/indications.toml)", list(_screen(kb))),
        ("Urgency", list(_urgency(kb))),
    )
    parts = [header]
    for title, defines in sections:
        parts.append(f"\n// --- {title} ---\n")
        parts.extend(f"\n{text}" for text in defines)
    return "".join(parts)
