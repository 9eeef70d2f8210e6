"""Golden samples: `Dockerfile` → `Dockerfile.fixed`; a sample without `.fixed` must come out byte-identical."""

from __future__ import annotations

import pytest

from .helpers import fix, read, sample_dirs


@pytest.mark.parametrize("sample", sample_dirs(), ids=lambda p: p.name)
def test_golden(sample) -> None:  # type: ignore[no-untyped-def]
    before = read(sample / "Dockerfile")
    expected_file = sample / "Dockerfile.fixed"
    expected = read(expected_file) if expected_file.exists() else before
    assert fix(before, path=sample / "Dockerfile") == expected


@pytest.mark.parametrize("sample", sample_dirs(), ids=lambda p: p.name)
def test_idempotent(sample) -> None:  # type: ignore[no-untyped-def]
    once = fix(read(sample / "Dockerfile"), path=sample / "Dockerfile")
    assert fix(once, path=sample / "Dockerfile") == once


def test_samples_cover_the_situations_users_meet() -> None:
    names = {p.name for p in sample_dirs()}
    fixed = {p.name for p in sample_dirs() if (p / "Dockerfile.fixed").exists()}
    assert len(fixed) >= 8
    assert len(names - fixed) >= 3  # files that must stay unchanged


def test_crlf_sample_keeps_crlf() -> None:
    sample = next(p for p in sample_dirs() if p.name == "crlf")
    out = fix(read(sample / "Dockerfile"))
    assert out.count("\r\n") == out.count("\n")
    assert out != read(sample / "Dockerfile")
