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


B = "FROM localhost/dockerfix-base\n"
NODE = "FROM node:20-slim\nWORKDIR /app\n"
UGRWX = "find /app ! -type l ! -perm -ug+rwx -exec chmod ug+rwx {} +"
OWN = "\\( ! -user 1001 -o ! -group 0 -o -perm -4000 -o -perm -2000 \\) -exec chown -h 1001:0 {} +"


def _src(tmp_path: Path, **modes: int) -> Path:
    (tmp_path / "src").mkdir(exist_ok=True)
    for name, mode in modes.items():
        (tmp_path / "src" / name).write_text(name * 10)
        (tmp_path / "src" / name).chmod(mode)
    return tmp_path / "Dockerfile"


def _bases():  # type: ignore[no-untyped-def]
    from .testbases import table

    return table()


# name -> (context file modes, Dockerfile, fixed Dockerfile or None: not fixed, bytes saved)
GAIN = {
    "all-changed-refused": ({"a.js": 0o644, "b.js": 0o644}, NODE + "COPY src/ /app/\n"
                            "RUN chown -R 1001:0 /app && chmod -R ug+rwx /app\n", None, None),
    "already-right-counted": ({"a.js": 0o775}, NODE + "COPY src/ /app/\nRUN chown -R 1001:0 /app && chmod -R ug+rwx /app\n",
                              NODE + f"COPY --chown=1001:0 src/ /app/\nRUN find /app {OWN} && {UGRWX}\n", 40),
    "only-the-files-left-alone": ({"a.js": 0o775, "b.js": 0o644}, NODE + "COPY src/ /app/\n"
                                  "RUN chown -R 1001:0 /app && chmod -R ug+rwx /app\n",
                                  NODE + f"COPY --chown=1001:0 src/ /app/\nRUN find /app {OWN} && {UGRWX}\n", 40),
    "g=u-all-changed": ({"a.js": 0o644}, B + "COPY src/ /opt/app/\nRUN chgrp -R 0 /opt/app && chmod -R g=u /opt/app\n",
                        None, None),
    "octal-with-chmod-flag-saves": ({"a.js": 0o644}, "# syntax=docker/dockerfile:1\n" + B + "COPY src/ /app/\n"
                                    "RUN chmod -R 755 /app\n", "# syntax=docker/dockerfile:1\n" + B +
                                    "COPY --chmod=755 src/ /app/\nRUN find /app ! -type l ! -perm 755 -exec chmod 755 {} +\n",
                                    40),
    "run-moves-copy-does-not": ({"a.js": 0o644}, B + "COPY src/ /app/\nRUN mkdir /app/logs\nRUN chmod -R g=u /app\n",
                                B + "COPY src/ /app/\nRUN mkdir /app/logs && chmod -R g=u /app/logs\n"
                                "RUN find /app ! -type l \\( \\( -perm -010 ! -perm -100 \\) -o \\( -perm -100 ! -perm "
                                "-010 \\) -o \\( -perm -020 ! -perm -200 \\) -o \\( -perm -200 ! -perm -020 \\) -o \\( "
                                "-perm -040 ! -perm -400 \\) -o \\( -perm -400 ! -perm -040 \\) \\) -exec chmod g=u {} +\n",
                                0),
}


@pytest.mark.parametrize("name", sorted(GAIN))
def test_a_copy_saves_only_what_the_kept_step_leaves_alone(tmp_path: Path, name: str) -> None:
    modes, before, after, saved = GAIN[name]
    path = _src(tmp_path, **modes)
    result = run(before, NAME, True, path=path, bases=_bases())
    if after is None:
        assert result.output == before
        finding = result.findings[0]
        assert finding.fix is None and "would still change every file the COPY at line" in finding.message
        assert "(their mode in the build context is 0644)" in finding.message and "--chmod" in finding.message
        return
    assert result.output == after
    finding = next(f for f in result.findings if f.fix)
    assert finding.saving == saved
    assert run(after, NAME, True, path=path, bases=_bases()).output == after  # idempotent


def test_partly_changed_copy_is_named(tmp_path: Path) -> None:
    _, before, _, _ = GAIN["only-the-files-left-alone"]
    path = _src(tmp_path, **{"a.js": 0o775, "b.js": 0o644})
    (tmp_path / "src" / "a.js").chmod(0o644)
    result = run(before, NAME, True, path=path, bases=_bases())
    assert result.output == before and "0644" in result.findings[0].message


def test_unknown_context_keeps_the_fix_with_a_partial_estimate() -> None:
    before = "FROM node:20-slim\nCOPY a.js /app/a.js\nRUN chown -R 1001:0 /app && chmod -R ug+rwx /app\n"
    result = run(before, NAME, True, bases=_bases())  # no build context (stdin): the modes are not known
    finding = next(f for f in result.findings if f.fix)
    assert finding.saving is None and finding.saving_partial


REFUSED_MODES = {
    "ugo=rwX": "differs with GNU and busybox",
    "+w": "the umask 022 changes its result",
    "u+s": "s/t not handled",
}


@pytest.mark.parametrize("mode", sorted(REFUSED_MODES))
def test_modes_the_builders_chmods_disagree_on_are_refused(tmp_path: Path, mode: str) -> None:
    text = B + f"COPY src/ /app/\nRUN mkdir /app/x\nRUN chmod -R {mode} /app\n"
    result = run(text, NAME, True, path=_src(tmp_path, **{"a.js": 0o644}), bases=_bases())
    assert result.output == text
    assert REFUSED_MODES[mode].split()[-1] in result.findings[0].message, result.findings[0].message
