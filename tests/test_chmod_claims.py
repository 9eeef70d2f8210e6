"""chown-layer's chmod -R: a symlink only the unread base could hold (unsafe), and fixes that would save nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from dockerfix.refactor.engine import run

NAME = ["chown-layer"]
PHP = "FROM php:8.2-apache\n"


def _ctx(tmp_path: Path) -> Path:
    (tmp_path / "index.php").write_text("<?php echo 1;\n")
    (tmp_path / "index.php").chmod(0o644)
    return tmp_path / "Dockerfile"


# A chmod target whose kind is unknown only because the base image was not read: unsafe, named.
UNREAD_BASE = {
    "copy-then-chmod": (PHP + "COPY . /var/www/html\nRUN chmod -R 755 /var/www/html\n",
                        PHP + "COPY --chmod=755 . /var/www/html\n"
                        "RUN find /var/www/html ! -type l ! -perm 755 -exec chmod 755 {} +\n"),
    "mkdir-p-over-unread-path": (PHP + "COPY . /var/www/html/\nRUN mkdir -p /var/www/html/up\n"
                                 "RUN chmod -R 755 /var/www/html/up /var/www/html\n", None),
}

# The Dockerfile itself makes or may make a link there: refused even with --unsafe-fixes.
LINKED = {
    "unknown-command": (PHP + "COPY . /var/www/html\nRUN foo /var/www/html\nRUN chmod -R 755 /var/www/html\n",
                        "may be a symlink (the step at line 3 may change /var/www/html)"),
    "ln-s": (PHP + "RUN ln -s /srv /var/www/html\nCOPY . /var/www/html/\nRUN chmod -R 755 /var/www/html\n",
             "/var/www/html may be a symlink"),
}


@pytest.mark.parametrize("name", sorted(UNREAD_BASE))
def test_unread_base_is_an_assumption(tmp_path: Path, name: str) -> None:
    before, after = UNREAD_BASE[name]
    path = _ctx(tmp_path)
    assert run(before, NAME, False, path=path).output == before
    result = run(before, NAME, True, path=path)
    if after is not None:
        assert result.output == after
    finding = next(f for f in result.findings if f.fix)
    assert not finding.fix.safe
    assert "unsafe: assumes /var/www/html is not a symlink in the base image 'php:8.2-apache'" in finding.details or \
        "unsafe: assumes /var/www/html/up is not a symlink in the base image 'php:8.2-apache'" in finding.details


@pytest.mark.parametrize("name", sorted(LINKED))
def test_a_link_the_dockerfile_may_make_is_refused(tmp_path: Path, name: str) -> None:
    text, why = LINKED[name]
    result = run(text, NAME, True, path=_ctx(tmp_path))
    assert result.output == text
    assert any(f.fix is None and why in f.message for f in result.findings), [f.message for f in result.findings]


def test_bundled_sample_shows_as_unsafe() -> None:
    """README: `dockerfix check samples/` shows the chown samples as [unsafe] (their base image is not read)."""
    sample = Path(__file__).resolve().parent.parent / "samples" / "chown-chmod" / "Dockerfile"
    result = run(sample.read_text(), NAME, True, path=sample)
    finding = next(f for f in result.findings if f.line == 4)
    assert finding.fix is not None and not finding.fix.safe
