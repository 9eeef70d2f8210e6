"""chown-layer's COPY --chmod (transforms/_chown/modes.py): pairs, refusals with their reasons, the builder rule."""

from __future__ import annotations

from pathlib import Path

import pytest

from dockerfix.refactor.engine import run

from .testbases import table

NAME = ["chown-layer"]
S = "# syntax=docker/dockerfile:1\n"
B = "FROM localhost/dockerfix-base\n"
KEEP = "! -type l ! -perm 755 -exec chmod 755 {} +"
OWN = "\\( ! -user 1000 -o ! -group 1000 -o -perm -4000 -o -perm -2000 \\) -exec chown -h 1000:1000 {} +"

# name -> (Dockerfile, fixed Dockerfile): safe fixes (the file is already built by BuildKit or buildah).
FIXED = {
    "octal": (S + B + "COPY f.txt /data/f.txt\nRUN chmod -R 755 /data\n",
              S + B + f"COPY --chmod=755 f.txt /data/f.txt\nRUN find /data {KEEP}\n"),
    "octal-leading-zero": (S + B + "COPY f.txt /data/\nRUN chmod -R 0640 /data\n",
                           S + B + "COPY --chmod=640 f.txt /data/\nRUN find /data ! -type l ! -perm 0640 -exec chmod "
                           "0640 {} +\n"),
    "directory-copy": (S + B + "COPY site/ /srv/www/\nRUN chmod -R 755 /srv/www\n",
                       S + B + f"COPY --chmod=755 site/ /srv/www/\nRUN find /srv/www {KEEP}\n"),
    "chown-and-chmod": (S + B + "COPY f.txt /data/f.txt\nRUN chown -R 1000:1000 /data && chmod -R 755 /data\n",
                        S + B + f"COPY --chown=1000:1000 --chmod=755 f.txt /data/f.txt\nRUN find /data {OWN} && "
                        f"find /data {KEEP}\n"),
    "existing-chmod-replaced": (B + "COPY --chmod=600 f.txt /data/f.txt\nRUN chmod -R 755 /data\n",
                                B + f"COPY --chmod=755 f.txt /data/f.txt\nRUN find /data {KEEP}\n"),
    "existing-chmod-plus-symbolic": (B + "COPY --chmod=600 f.txt /data/f.txt\nRUN chmod -R g+r /data\n",
                                     B + "COPY --chmod=640 f.txt /data/f.txt\nRUN find /data ! -type l ! -perm -g+r "
                                     "-exec chmod g+r {} +\n"),
    "octal-then-symbolic": (S + B + "COPY f.txt /data/f.txt\nRUN chmod -R 755 /data && chmod -R u+w /data\n",
                            S + B + "COPY --chmod=755 f.txt /data/f.txt\nRUN find /data ! -type l ! -perm 755 -exec "
                            "chmod 755 {} + && find /data ! -type l ! -perm -u+w -exec chmod u+w {} +\n"),
    "symbolic-then-octal": (S + B + "COPY f.txt /data/f.txt\nRUN chmod -R g+r /data && chmod -R 750 /data\n",
                            S + B + "COPY --chmod=750 f.txt /data/f.txt\nRUN find /data ! -type l ! -perm -g+r -exec "
                            "chmod g+r {} + && find /data ! -type l ! -perm 750 -exec chmod 750 {} +\n"),
    "buildkit-flag-elsewhere": (B + "RUN --mount=type=cache,target=/c true\nCOPY f.txt /data/f.txt\n"
                                "RUN chmod -R 755 /data\n",
                                B + f"RUN --mount=type=cache,target=/c true\nCOPY --chmod=755 f.txt /data/f.txt\n"
                                f"RUN find /data {KEEP}\n"),
    "symbolic-one-context-file": (S + B + "COPY f.txt /etc/f.txt\nRUN chmod -R a+r,ug+w /etc/f.txt\n",
                                  S + B + "COPY --chmod=664 f.txt /etc/f.txt\nRUN find /etc/f.txt ! -type l ! -perm "
                                  "-a+r,ug+w -exec chmod a+r,ug+w {} +\n"),
    "symbolic-executable-file": (S + B + "COPY run.sh /etc/run.sh\nRUN chmod -R go+w /etc/run.sh\n",
                                 S + B + "COPY --chmod=777 run.sh /etc/run.sh\nRUN find /etc/run.sh ! -type l ! -perm "
                                 "-go+w -exec chmod go+w {} +\n"),
    "copied-class-one-file": (S + B + "COPY run.sh /etc/run.sh\nRUN chmod -R g=u /etc/run.sh\n",
                              S + B + "COPY --chmod=775 run.sh /etc/run.sh\nRUN find /etc/run.sh ! -type l \\( \\( "
                              "-perm -010 ! -perm -100 \\) -o \\( -perm -100 ! -perm -010 \\) -o \\( -perm -020 ! "
                              "-perm -200 \\) -o \\( -perm -200 ! -perm -020 \\) -o \\( -perm -040 ! -perm -400 \\) "
                              "-o \\( -perm -400 ! -perm -040 \\) \\) -exec chmod g=u {} +\n"),
    "remove-and-add-one-file": (S + B + "COPY f.txt /etc/f.txt\nRUN chmod -R a-w,u+x /etc/f.txt\n",
                                S + B + "COPY --chmod=544 f.txt /etc/f.txt\nRUN find /etc/f.txt ! -type l ! \\( "
                                "-perm -100 ! -perm -200 ! -perm -020 ! -perm -002 \\) -exec chmod a-w,u+x {} +\n"),
}

# name -> (Dockerfile, the reason the details give): the COPY keeps no --chmod.
LEFT = {
    "kept-steps-disagree": (S + B + "COPY f.txt /data/f.txt\nRUN chmod -R 700 /data && chmod -R g+w /data\n",
                            "so --chmod would save nothing"),
    "kept-steps-disagree-symbolic-first": (S + B + "COPY f.txt /data/f.txt\nRUN chmod -R g+w /data && chmod -R 700 "
                                           "/data\n", "so --chmod would save nothing"),
    "setuid-mode": (S + B + "COPY f.txt /data/f.txt\nRUN chmod -R 4755 /data\n", "setuid/setgid/sticky"),
    "created-parent-outside-target": (S + B + "COPY f.txt /new/deep/f.txt\nRUN chmod -R 755 /new/deep\n",
                                      "outside the target the mode on BuildKit 0.21+"),
    "symbolic-directory-copy": (S + B + "COPY site/ /srv/www/\nRUN chmod -R g+w /srv/www\n",
                                "which the kept step cannot undo"),
    "symbolic-several-files": (S + B + "COPY f.txt run.sh /data/\nRUN chmod -R g+w /data\n",
                               "which the kept step cannot undo"),
    "symbolic-from-stage": (S + "FROM localhost/dockerfix-base AS b\nRUN echo x > /x\n" + B +
                            "COPY --from=b /x /srv/x\nRUN chmod -R g+w /srv\n", "only for build-context files"),
    "symbolic-setuid-source": (S + B + "COPY suid /etc/suid\nRUN chmod -R g+w /etc/suid\n", "buildah drops"),
    "symbolic-missing-parent": (S + B + "COPY f.txt /new/f.txt\nRUN chmod -R g+w /new/f.txt\n",
                                "/new is not known to exist"),
    "add": (S + B + "ADD f.txt /data/f.txt\nRUN chmod -R 755 /data\n", "only a COPY gets --chmod"),
    "old-frontend": ("# syntax=docker/dockerfile:1.1\n" + B + "COPY f.txt /data/f.txt\nRUN chmod -R 755 /data\n",
                     "is not known to accept COPY --chmod"),
    "other-frontend": ("# syntax=example.com/frontend:2\n" + B + "COPY f.txt /data/f.txt\nRUN chmod -R 755 /data\n",
                       "is not known to accept COPY --chmod"),
    "cp-sees-the-mode": (S + B + "COPY f.txt /data/f.txt\nRUN cp /data/f.txt /usr/f.txt\nRUN chmod -R 755 /data\n",
                         "`cp` at line 4 reads the modes"),
    "test-command-sees-the-mode": (S + B + "COPY f.txt /data/f.txt\nRUN test -x /data/f.txt || echo no > /no\n"
                                   "RUN chmod -R 755 /data\n", "at line 4 may read the modes"),
    "test-in-workdir": (S + B + "WORKDIR /data\nCOPY f.txt f.txt\nRUN [ -x f.txt ] || echo no > /no\n"
                        "RUN chmod -R 755 /data\n", "at line 5 may read the modes"),
    "test-sees-the-mode": (S + B + "COPY f.txt /data/f.txt\nRUN [ -x /data/f.txt ] || echo no > /no\n"
                           "RUN chmod -R 755 /data\n", "at line 4 may read the modes"),
    "octal-then-dir-dependent-x": (S + B + "COPY site/ /srv/www/\nRUN chmod -R 644 /srv/www && chmod -R a+X /srv/www\n",
                                   "whose X gives directories other bits than files"),
    "existing-symbolic-chmod": (B + "COPY --chmod=u+x f.txt /data/f.txt\nRUN chmod -R 755 /data\n",
                                "is not a plain octal mode"),
}

# name -> (Dockerfile, fixed with --unsafe): the file may be built by the classic builder.
UNSAFE = {
    "octal-no-syntax": (B + "COPY f.txt /data/f.txt\nRUN chmod -R 755 /data\n",
                        B + f"COPY --chmod=755 f.txt /data/f.txt\nRUN find /data {KEEP}\n"),
    "copy-before-a-link": (B + "RUN mkdir -p /var/log/myapp && echo log > /var/log/myapp/old.log && chmod 640 "
                           "/var/log/myapp/old.log\nCOPY f.txt /srv/app/f.txt\nRUN ln -s /var/log/myapp /srv/app/logs\n"
                           "RUN chmod -R 755 /srv/app\n",
                           B + "RUN mkdir -p /var/log/myapp && echo log > /var/log/myapp/old.log && chmod 640 "
                           "/var/log/myapp/old.log\nCOPY --chmod=755 f.txt /srv/app/f.txt\n"
                           f"RUN ln -s /var/log/myapp /srv/app/logs\nRUN find /srv/app {KEEP}\n"),
}


def context(tmp_path: Path) -> Path:
    (tmp_path / "f.txt").write_text("f\n" * 500)
    (tmp_path / "f.txt").chmod(0o644)
    (tmp_path / "run.sh").write_text("#!/bin/sh\necho run\n")
    (tmp_path / "run.sh").chmod(0o755)
    (tmp_path / "site" / "css").mkdir(parents=True, exist_ok=True)
    (tmp_path / "site" / "index.html").write_text("<p>hi</p>\n")
    (tmp_path / "site" / "css" / "a.css").write_text("p{}\n")
    (tmp_path / "suid").write_text("s\n")
    (tmp_path / "suid").chmod(0o4755)
    return tmp_path / "Dockerfile"


def _run(text: str, path: Path, unsafe: bool = False):  # type: ignore[no-untyped-def]
    return run(text, NAME, unsafe, path=path, bases=table())


@pytest.mark.parametrize("name", sorted(FIXED))
def test_fixed(tmp_path: Path, name: str) -> None:
    before, after = FIXED[name]
    path = context(tmp_path)
    result = _run(before, path)
    assert result.output == after
    assert all(f.fix is None or f.fix.safe for f in result.findings)
    assert _run(after, path, unsafe=True).output == after  # idempotent


@pytest.mark.parametrize("name", sorted(LEFT))
def test_left_without_chmod_and_why(tmp_path: Path, name: str) -> None:
    text, why = LEFT[name]
    result = _run(text, context(tmp_path), unsafe=True)
    findings = result.findings
    assert "--chmod=" not in result.output.replace("COPY --chmod=u+x", "")
    assert any(why in line for f in findings for line in [f.message, *f.details]), [f.details for f in findings]


@pytest.mark.parametrize("name", sorted(UNSAFE))
def test_classic_builder_makes_the_fix_unsafe(tmp_path: Path, name: str) -> None:
    before, after = UNSAFE[name]
    path = context(tmp_path)
    assert _run(before, path).output == before
    result = _run(before, path, unsafe=True)
    assert result.output == after
    assert [d for f in result.findings for d in f.details if d.startswith("unsafe: ")] == [
        "unsafe: assumes the file is built with BuildKit or buildah: the classic builder rejects COPY --chmod"]


def test_a_chown_fix_stays_safe_without_the_chmod(tmp_path: Path) -> None:
    """With no proof of the builder, the COPY gets --chown (safe) and its mode stays with the kept step."""
    text = B + "COPY run.sh /data/run.sh\nRUN chown -R 1000:1000 /data && chmod -R 755 /data\n"
    result = _run(text, context(tmp_path))
    assert "COPY --chown=1000:1000 run.sh /data/run.sh\n" in result.output
    finding = next(f for f in result.findings if f.fix)
    assert finding.fix.safe and any("a --chmod would assume" in d for d in finding.details)


def test_the_chmod_stays_when_the_chown_alone_would_save_nothing(tmp_path: Path) -> None:
    """f.txt is 0644: without --chmod the kept `chmod 755` stores it again, so the unproven --chmod is kept (unsafe)."""
    text = B + "COPY f.txt /data/f.txt\nRUN chown -R 1000:1000 /data && chmod -R 755 /data\n"
    assert _run(text, context(tmp_path)).output == text
    result = _run(text, context(tmp_path), unsafe=True)
    assert "COPY --chown=1000:1000 --chmod=755 f.txt /data/f.txt\n" in result.output
    finding = next(f for f in result.findings if f.fix)
    assert not finding.fix.safe and finding.saving == 1000


def test_a_safe_run_edit_is_not_made_unsafe_by_a_chmod(tmp_path: Path) -> None:
    text = B + "RUN mkdir -p /data/sub\nCOPY f.txt /data/f.txt\nRUN chmod -R 755 /data\n"
    result = _run(text, context(tmp_path))
    assert "COPY f.txt /data/f.txt\n" in result.output and "mkdir -p /data/sub && chmod -R 755 /data/sub" in \
        result.output
    assert all(f.fix is None or f.fix.safe for f in result.findings)


def test_the_estimate_counts_the_copy(tmp_path: Path) -> None:
    before, _ = FIXED["octal"]
    finding = next(f for f in _run(before, context(tmp_path)).findings if f.fix)
    assert finding.saving == 1000 and not finding.saving_partial
