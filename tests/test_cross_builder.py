"""The same fixed Dockerfiles give the same verdict on buildah and on BuildKit, and a deliberately wrong rewrite is
caught by each. Bounded: a handful of samples, built once per builder (about 4 builds each)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from dockerfix.refactor.images.build import Builder
from dockerfix.refactor.images.verify import verify

from .conftest import BUILDERS, open_builder
from .helpers import SAMPLES

pytestmark = pytest.mark.build

# Different shapes: WORKDIR from an ENV, a chmod next to the chown, a multi-stage COPY --from, a named owner.
CROSS = ("arg-workdir", "chown-chmod", "multi-stage", "named-owner")


@pytest.fixture(scope="module")
def both() -> Iterator[list[Builder]]:
    builders = [open_builder(name) for name in BUILDERS]  # skips (fails on CI) unless both work here
    yield builders
    for builder in builders:
        builder.close()


def _without_remaining_step(fixed: str) -> str:
    return "".join(line for line in fixed.splitlines(keepends=True) if not line.startswith("RUN find"))


def _wrong_group(fixed: str) -> str:
    """The rewrite with its first COPY giving group 0 instead of the owner's, and without the remaining step."""
    wrong, count = re.subn(r"--chown=([^:\s]+):(\S+)", r"--chown=\1:0", fixed, count=1)
    assert count == 1, "the fixed sample has no --chown=U:G"
    return _without_remaining_step(wrong)


@pytest.mark.parametrize("name", CROSS)
def test_same_verdict_and_saving_on_both_builders_and_a_wrong_rewrite_caught_by_each(
    both: list[Builder], name: str, tmp_path: Path
) -> None:
    sample = SAMPLES / name
    fixed = (sample / "Dockerfile.fixed").read_text()
    wrong = tmp_path / "Dockerfile.wrong"
    wrong.write_text(_wrong_group(fixed))
    right = {b.name: verify(sample / "Dockerfile", sample / "Dockerfile.fixed", sample, b) for b in both}
    caught = {b.name: verify(sample / "Dockerfile", wrong, sample, b) for b in both}
    for builder, result in right.items():
        assert [d.text for d in result.differences] == [], builder
    savings = {builder: result.saved_bytes for builder, result in right.items()}
    assert len(set(savings.values())) == 1, savings  # the bytes a fix saves do not depend on the builder
    found = {builder: sorted({(d.path, d.field) for d in result.differences}) for builder, result in caught.items()}
    assert all(found.values()), found  # each builder catches the wrong group
    assert all(any(field == "gid" for _, field in diffs) for diffs in found.values()), found
    print(f"\n{name}: saved {savings}; wrong group: {found}")


def test_difference_the_remaining_step_matters_on_buildkit_only(both: list[Builder], tmp_path: Path) -> None:
    """The fix's last step (`find ... -exec chown -h`) re-owns what is still wrong after the COPY --chown: on
    BuildKit the directories WORKDIR made at once (root's, or the USER's), on buildah nothing, since buildah makes
    a WORKDIR only for a RUN and COPY --chown gives the parents it creates the new owner. A rewrite without the step
    is wrong on BuildKit and right on buildah for arg-workdir (WORKDIR then COPY --chown into it): which is why a
    fix must be proved on both. (On the other CROSS samples the step finds nothing to do on either builder.)"""
    sample = SAMPLES / "arg-workdir"
    wrong = tmp_path / "Dockerfile.wrong"
    wrong.write_text(_without_remaining_step((sample / "Dockerfile.fixed").read_text()))
    found = {b.name: sorted({(d.path, d.field) for d in verify(sample / "Dockerfile", wrong, sample, b).differences})
             for b in both}
    assert found == {"buildah": [], "docker": [("/opt/app", "gid"), ("/opt/app", "uid")]}
