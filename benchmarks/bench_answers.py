"""How many answers reach a decision, before and after the focused screen (issue 14).

For every example presentation and for generated ones (``fasciculate.testing``, derandomised),
``fasciculate.testing.answers_to_decide`` answers the open questions one at a time, in the order
``fasciculate.next_questions`` gives, taking each answer from the presentation (a yes/no question it
leaves unanswered is answered absent), and counts the answers until no question is left open.
"Before" is the same walk with every question core, as before the focused screen.

Two starting points: the presenting complaint (what the presentation answers present is given
from the start, as a patient reports it; the figure the tests hold: after <= before), and nothing
(every question the referral can ask unanswered, which shows what the order costs when a red
flag is only found by asking).

Usage: ``python benchmarks/bench_answers.py [--population N] [--check]``; ``--check`` exits 1 when
some presentation, from its complaint, takes more answers than before.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from fasciculate import Presentation
from fasciculate.testing import answers_to_decide

EXAMPLES = sorted((Path(__file__).parent.parent / "examples" / "presentations").glob("*.json"))


def counts(presentation: Presentation | bytes, *, volunteered: bool) -> tuple[int, int, str]:
    """Answers before and after the focused screen, and the urgency reached after."""
    before = answers_to_decide(presentation, every_question_core=True, volunteered=volunteered)
    after = answers_to_decide(presentation, volunteered=volunteered)
    return before.answers, after.answers, after.urgency.value


def generated(size: int) -> list[Presentation]:
    """*size* generated presentations of each kind, the same on every run."""
    from hypothesis import HealthCheck, Phase, given, settings  # noqa: PLC0415 - only here

    from fasciculate.testing import negative_screens, presentations, red_flags  # noqa: PLC0415

    found: list[Presentation] = []
    for strategy in (
        presentations(),
        presentations(complete=True),
        negative_screens(),
        red_flags(),
    ):

        @settings(
            max_examples=size,
            derandomize=True,
            database=None,
            phases=[Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        @given(strategy)
        def collect(presentation: Presentation) -> None:
            found.append(presentation)

        collect()
    return found


def main() -> int:
    """Print the table and the generated figures; with ``--check``, fail on any increase."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--population", type=int, default=100, help="of each generated kind")
    parser.add_argument("--check", action="store_true", help="exit 1 if any count increased")
    options = parser.parse_args()
    worse = 0
    print(
        "| example | urgency | from the complaint: before | after | from nothing: before | after |"
    )
    print("| --- | --- | ---: | ---: | ---: | ---: |")
    for path in EXAMPLES:
        document = path.read_bytes()
        before, after, urgency = counts(document, volunteered=True)
        cold_before, cold_after, _ = counts(document, volunteered=False)
        worse += after > before
        print(f"| {path.stem} | {urgency} | {before} | {after} | {cold_before} | {cold_after} |")
    population = generated(options.population)
    pairs = [counts(item, volunteered=True)[:2] for item in population]
    fewer = sum(after < before for before, after in pairs)
    more = sum(after > before for before, after in pairs)
    worse += more
    print(
        f"\ngenerated: {len(pairs)} presentations; answers before {sum(b for b, _ in pairs)}, "
        f"after {sum(a for _, a in pairs)}; fewer for {fewer}, more for {more}"
    )
    return 1 if options.check and worse else 0


if __name__ == "__main__":
    sys.exit(main())
