"""The library under careless callers: only FasciculateError, no boolean numbers, bounded errors.

Whatever is passed to ``assess`` or ``assess_json``, the answer is an assessment or a
``FasciculateError``; ``InvalidPresentation`` crosses process boundaries intact; the error path
stays small (a capped number of problems, a list refused by its length before its items are read,
JSON refused by its size before it is parsed).
"""

from __future__ import annotations

import codecs
import json
import pickle
import types
import typing
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ProcessPoolExecutor
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from pydantic import BaseModel

import fasciculate
from fasciculate import InvalidBundle, InvalidPresentation, Presentation, Problem

#: The documented bounds: ``InvalidPresentation.problems`` lists the first 20 problems, and JSON
#: text is at most 1 MiB (the API and CLI references).
MAX_PROBLEMS = 20
MAX_INPUT_BYTES = 1 << 20
ASSESSORS: list[Callable[[Any], object]] = [fasciculate.assess, fasciculate.assess_json]


def _cyclic_dict() -> dict[str, Any]:
    data: dict[str, Any] = {}
    data["patient"] = data
    return data


def _cyclic_list() -> dict[str, Any]:
    items: list[Any] = []
    items.append(items)
    return {"labs": items}


def _deep(depth: int) -> dict[str, Any]:
    nested: Any = {}
    for _ in range(depth):
        nested = {"patient": nested}
    return nested


def _deep_list(depth: int) -> dict[str, Any]:
    nested: Any = []
    for _ in range(depth):
        nested = [nested]
    return {"twitching": {"regions": nested}}


class _Exploding(Mapping[str, Any]):
    """A mapping that fails as it is read (a caller's own type with a bug)."""

    def __getitem__(self, key: str) -> Any:
        raise KeyError(key)

    def __iter__(self) -> Iterator[str]:
        raise ZeroDivisionError

    def __len__(self) -> int:
        return 3


HOSTILE: dict[str, Callable[[], object]] = {
    "tuple key": lambda: {("patient", 1): {}},
    "tuple key in findings": lambda: {"findings": {("weakness",): "present"}},
    "tuple key in a model": lambda: {"patient": {(1, 2): 3}},
    "int key of 5,000 digits": lambda: {"findings": {10**4999: "present"}},
    "cyclic dict": _cyclic_dict,
    "cyclic list": _cyclic_list,
    "10^5-deep dict": lambda: _deep(100_000),
    "10^5-deep list": lambda: _deep_list(100_000),
    "10^5-deep JSON": lambda: b'{"patient": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
    "5,000-digit int": lambda: {"patient": {"age": 10**4999}},
    "5,000-digit int in JSON": lambda: b'{"patient": {"age": 1' + b"0" * 4999 + b"}}",
    "5,000-digit int in a list": lambda: {"twitching": {"regions": [10**4999]}},
    "huge float": lambda: {"exposures": {"sleep_hours": 1e308}},
    "nan": lambda: {"exposures": {"sleep_hours": float("nan")}},
    "an object": lambda: {"patient": object()},
    "a bare object": object,
    "None": lambda: None,
    "a list": lambda: [1, 2, 3],
    "a lone surrogate": lambda: '{"patient": {"sex": "\ud800"}}',
    "invalid UTF-8": lambda: b'{"patient": {"sex": "\xff"}}',
    "a failing mapping": _Exploding,
    "a mapping with failing keys": lambda: {"findings": _Exploding()},
    "bytes for a string": lambda: {"medications": [{"name": b"\xff" * 10**6}]},
}


@pytest.mark.parametrize("assessor", ASSESSORS, ids=["assess", "assess_json"])
@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_hostile_input_raises_only_invalid_presentation(case, assessor):
    """Each hostile input is refused with InvalidPresentation and a short message."""
    with pytest.raises(InvalidPresentation) as caught:
        assessor(HOSTILE[case]())
    assert 1 <= len(caught.value.problems) <= MAX_PROBLEMS
    assert all(len(problem.value or "") <= 80 for problem in caught.value.problems)


def test_a_huge_integer_is_shown_by_its_size():
    """A 5,000-digit integer is named by its number of digits, never converted to text whole."""
    with pytest.raises(InvalidPresentation) as caught:
        fasciculate.assess({"patient": {"age": 10**4999}})
    assert ["<an integer of 5000 digits> (int)"] == [p.value for p in caught.value.problems]


_KEYS = st.sampled_from(
    [
        *("patient", "age", "sex", "twitching", "regions", "duration_days", "findings"),
        *("weakness", "labs", "analyte", "unit", "value", "medications", "name", "exposures"),
        "sleep_hours",
    ]
)
_LEAVES = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(max_size=8)
    | st.binary(max_size=8)
    | st.sampled_from(["present", "calf", "potassium", "mmol/L", "2026-01-01", "female"])
)
_ANY_KEY = _KEYS | st.text(max_size=5) | st.integers() | st.tuples(st.integers()) | st.none()
_DATA = st.recursive(
    _LEAVES,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(_ANY_KEY, inner, max_size=4)
        | st.tuples(inner, inner)
    ),
    max_leaves=20,
)


def _refusal(assessor: Callable[[Any], object], data: object) -> InvalidPresentation | None:
    """Assess *data*: None when assessed, the error when refused; anything else escapes."""
    try:
        assessor(data)
    except InvalidPresentation as error:
        return error
    return None


@given(data=_DATA)
def test_any_python_data_gives_an_assessment_or_invalid_presentation(data):
    """Arbitrary nested Python data (any keys and leaves) never escapes as another exception."""
    for assessor in ASSESSORS:
        error = _refusal(assessor, data)
        assert error is None or (error.problems and str(error))


@example(data={"[key]": None})  # a field named like pydantic's marker of a mapping's key
@given(data=_DATA.filter(lambda value: not isinstance(value, bytes)))
def test_any_json_text_gives_an_assessment_or_invalid_presentation(data):
    """The same data as JSON text (where it can be written as JSON) never escapes either."""
    try:
        text = json.dumps(data)
    except (TypeError, ValueError):
        return
    for assessor in ASSESSORS:
        error = _refusal(assessor, text)
        assert error is None or error.problems


def _arguments(annotation: Any) -> tuple[Any, ...]:
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is typing.Union:
        return tuple(typing.get_args(annotation))
    return (annotation,)


def _numeric_paths(model: type[BaseModel], prefix: str = "") -> Iterator[str]:
    """Every numeric field of *model*, as a dotted path (list items as index 0)."""
    for name, field in model.model_fields.items():
        for argument in _arguments(field.annotation):
            origin, inner = typing.get_origin(argument), typing.get_args(argument)
            if argument in {int, float}:
                yield f"{prefix}{name}"
            elif isinstance(argument, type) and issubclass(argument, BaseModel):
                yield from _numeric_paths(argument, f"{prefix}{name}.")
            elif origin is list and isinstance(inner[0], type) and issubclass(inner[0], BaseModel):
                yield from _numeric_paths(inner[0], f"{prefix}{name}.0.")


NUMERIC_PATHS = sorted(set(_numeric_paths(Presentation)))
# One valid item for each list of models, so that a path into a list item has a home.
_LIST_ITEMS = {
    "labs": {"analyte": "potassium", "unit": "mmol/L", "value": 4.0},
    "medications": {"name": "salbutamol"},
}


def _with(path: str, value: object) -> dict[str, Any]:
    document: dict[str, Any] = {}
    node: Any = document
    parts = path.split(".")
    for index, part in enumerate(parts[:-1]):
        if parts[index + 1] == "0":
            node[part] = [dict(_LIST_ITEMS[part])]
        elif part == "0":
            node = node[0]
            continue
        else:
            node.setdefault(part, {})
        node = node[part]
    node[parts[-1]] = value
    return document


def test_the_numeric_fields_are_all_found():
    """The walk finds every numeric field named in the schema today (so the next test bites)."""
    assert {
        "patient.age",
        "twitching.duration_days",
        "exposures.caffeine_mg_per_day",
        "exposures.sleep_hours",
        "labs.0.value",
    } <= set(NUMERIC_PATHS)


@pytest.mark.parametrize("boolean", [True, False])
@pytest.mark.parametrize("path", NUMERIC_PATHS)
def test_a_boolean_is_never_read_as_a_number(path, boolean):
    """true or false in any numeric field is refused, from a mapping and from JSON alike."""
    document = _with(path, boolean)
    for data in (document, json.dumps(document), json.dumps(document).encode()):
        for assessor in ASSESSORS:
            with pytest.raises(InvalidPresentation) as caught:
                assessor(data)
            assert [path] == [problem.path for problem in caught.value.problems]
            assert "a number is needed, not true or false" in str(caught.value)
    assert fasciculate.assess(_with(path, 1)) is not None  # the number itself is fine


def _invalid() -> InvalidPresentation:
    with pytest.raises(InvalidPresentation) as caught:
        fasciculate.assess({"patient": {"age": -3}, "findings": {"weaknes": "present"}})
    return caught.value


def test_invalid_presentation_pickles_with_its_message_and_problems():
    """pickle round-trips the message, the problems and the count, for both error types."""
    for error in (_invalid(), InvalidBundle([Problem("entry.0", "bad", "1 (int)")], total=30)):
        copy = pickle.loads(pickle.dumps(error))  # noqa: S301 - our own bytes
        assert (type(error), str(error)) == (type(copy), str(copy))
        assert (error.problems, error.total) == (copy.problems, copy.total)


def test_invalid_presentation_crosses_a_process_pool():
    """An error raised in a ProcessPoolExecutor worker arrives whole in the parent."""
    expected = _invalid()
    with ProcessPoolExecutor(max_workers=1) as pool:
        future = pool.submit(
            fasciculate.assess, {"patient": {"age": -3}, "findings": {"weaknes": "present"}}
        )
        with pytest.raises(InvalidPresentation) as caught:
            future.result(timeout=120)
    assert str(expected) == str(caught.value)
    assert expected.problems == caught.value.problems


def test_many_unknown_fields_give_a_capped_list_and_a_count():
    """10^5 unknown fields: MAX_PROBLEMS problems listed, a last line saying how many more."""
    with pytest.raises(InvalidPresentation) as caught:
        fasciculate.assess({f"field{i}": i for i in range(100_000)})
    error = caught.value
    assert (MAX_PROBLEMS, 100_000) == (len(error.problems), error.total)
    lines = str(error).splitlines()
    assert "100000 problems in the presentation" == lines[0]
    assert (
        f"  ... and {100_000 - MAX_PROBLEMS:,} more not listed; fix these and check again"
        == lines[-1]
    )
    assert MAX_PROBLEMS + 2 == len(lines)


@pytest.mark.parametrize("as_json", [False, True], ids=["mapping", "json"])
@pytest.mark.parametrize("where", [(), ("findings",), ("labs", 0)], ids=str)
def test_many_unknown_fields_are_counted_where_they_are(where, as_json):
    """At the top, in a sub-model or in a list item, the first unknown fields are listed by path.

    Past MAX_PROBLEMS unknown fields in one object they are counted before validation (pydantic
    would build an error object for each: tens of MB for 10^5; bench_errors.py measures it).
    """
    many: dict[str, Any] = {f"x{i}": i for i in range(5_000)}
    data: Any = many
    for part in reversed(where):
        data = (
            [{"analyte": "sodium", "unit": "mmol/L", "value": 140, **data}]
            if part == 0
            else {part: data}
        )
    if as_json:
        data = json.dumps(data)
    with pytest.raises(InvalidPresentation) as caught:
        fasciculate.assess(data)
    error = caught.value
    prefix = ".".join(str(part) for part in where)
    expected = [".".join(filter(None, (prefix, f"x{i}"))) for i in range(MAX_PROBLEMS)]
    assert (expected, 5_000) == ([problem.path for problem in error.problems], error.total)
    expected_start = "not an allowed key; " if where == ("findings",) else "unknown field; "
    assert error.problems[0].message.startswith(expected_start)


def test_a_few_unknown_fields_keep_their_suggestion():
    """Below the cap, unknown fields are reported by pydantic's path, with a did-you-mean hint."""
    with pytest.raises(InvalidPresentation) as caught:
        fasciculate.assess({"patient": {"agee": 30}})
    assert "did you mean 'age'" in str(caught.value)


def test_a_list_is_refused_by_its_length_before_its_items_are_read():
    """A list past its maximum gives the one length problem, not one per (invalid) item."""
    for count in (501, 1_000_000):
        with pytest.raises(InvalidPresentation) as caught:
            fasciculate.assess({"labs": [{"analyte": "sodium"}] * count})
        assert ["labs"] == [problem.path for problem in caught.value.problems]
        assert f"at most 500 items after validation, not {count}" in str(caught.value)
        assert len(caught.value.problems[0].value or "") <= 80


def test_json_past_the_size_limit_is_refused_unparsed():
    """JSON longer than MAX_INPUT_BYTES gives one problem naming the size (it is not parsed:
    its 10^5 unknown fields would give 10^5 problems)."""
    document = json.dumps({f"field{i}": i for i in range(100_000)}).encode()
    assert len(document) > MAX_INPUT_BYTES
    for assessor in ASSESSORS:
        with pytest.raises(InvalidPresentation) as caught:
            assessor(document)
        assert 1 == caught.value.total
        assert f"the input is {len(document):,} bytes long" in str(caught.value)


def test_a_utf8_byte_order_mark_is_accepted():
    """JSON bytes or text starting with a UTF-8 BOM read as without it."""
    document = '{"findings": {"saddle_sensory_loss": "present"}}'
    expected = fasciculate.assess_json(document)
    assert expected == fasciculate.assess_json(codecs.BOM_UTF8 + document.encode())
    assert expected == fasciculate.assess_json("\ufeff" + document)


@pytest.mark.parametrize(
    ("encoding", "expected"),
    [
        ("utf-16", "the input is UTF-16 (it starts with a UTF-16 byte order mark)"),
        ("utf-32", "the input is UTF-32 (it starts with a UTF-32 byte order mark)"),
        ("utf-16-le", "the input has NUL bytes: it looks like UTF-16 or UTF-32"),
        ("utf-16-be", "the input has NUL bytes: it looks like UTF-16 or UTF-32"),
    ],
)
def test_utf16_and_utf32_are_named(encoding, expected):
    """Text in UTF-16 or UTF-32 gets a message naming the encoding and the fix."""
    data = '{"findings": {"saddle_sensory_loss": "present"}}'.encode(encoding)
    with pytest.raises(InvalidPresentation) as caught:
        fasciculate.assess(data)
    assert [f"(input): {expected}"] == [str(p).split("; ")[0] for p in caught.value.problems]
    assert "save it as UTF-8" in str(caught.value)
