"""The differential fuzzer on a fixed seed: every safe fix of a generated case must give the same image.

Cases come from tests/fuzz/gen.py (seeded, so this test always sees the same files); each changed case is built
before and after the fix with the ``builder`` fixture and the images are compared path by path and by config.
A longer slice: ``python3 bench/fuzz.py --cases 500 --seed S --builder all --keep DIR``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from dockerfix.refactor.images.build import Builder

from .fuzz import gen, run

SEED = 11
CHANGED = 40  # changed cases whose original builds, per builder
MAX_CASES = 400  # generated cases at most (an unchanged case costs no build, only ~20 ms of analysis)


def test_generator_is_deterministic_and_fixable(tmp_path: Path) -> None:
    assert gen.cases(SEED, 30) == gen.cases(SEED, 30)
    assert gen.case(SEED, 3) != gen.case(SEED + 1, 3)
    changed = 0
    for index in range(60):
        case = gen.case(SEED, index)
        fixed = run.fix(case, run.write_context(case, tmp_path / case["id"]))
        assert fixed.error is None, f"{case['id']}: dockerfix raised\n{fixed.error}"
        assert fixed.idempotent, f"{case['id']}: fix(fix(x)) != fix(x)\n{case['dockerfile']}"
        changed += fixed.changed
    # The generator is biased towards what dockerfix fixes (a dockerfix that refuses the risky shapes still fixes
    # a quarter of them); if this drops, the build test below needs many more cases to reach its count.
    assert changed >= 10


@pytest.mark.build
def test_fuzzed_fixes_keep_the_image(builder: Builder, tmp_path: Path) -> None:
    counts: dict[str, int] = dict.fromkeys(run.CLASSES, 0)
    bad: list[str] = []
    built = 0
    for index in range(MAX_CASES):
        if built >= CHANGED:
            break
        case = gen.case(SEED, index)
        context = run.write_context(case, tmp_path / case["id"])
        fixed = run.fix(case, context)
        if fixed.error is not None or not fixed.idempotent:
            bad.append(f"{case['id']}: {'dockerfix raised' if fixed.error else 'not idempotent'}")
            continue
        outcome = run.build_and_compare(fixed, context, builder)
        counts[outcome.cls] += 1
        built += outcome.cls in ("identical", "different", "fixed-fails")
        if outcome.cls in run.BAD:
            detail = "\n    ".join(outcome.details.splitlines()[-6:])
            bad.append(f"{case['id']} [{builder.name}] {outcome.cls} (shapes: {' '.join(case['shapes'])})\n"
                       f"{case['dockerfile']}{fixed.diff}    {detail}")
    summary = ", ".join(f"{k} {v}" for k, v in counts.items())
    assert built >= CHANGED, f"only {built} changed cases built in {MAX_CASES} generated ({summary})"
    # A generator whose cases do not build finds nothing: keep the originals buildable.
    assert counts["original-fails"] <= built // 4, summary
    replay = f"python3 bench/fuzz.py --seed {SEED} --start N --cases 1 --builder {builder.name} --keep DIR"
    assert not bad, f"{len(bad)} wrong fixes ({summary}); replay case s{SEED}-iN with {replay}:\n\n" + "\n\n".join(bad)
