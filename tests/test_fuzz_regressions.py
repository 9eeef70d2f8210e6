"""Differences the building fuzzer (tests/fuzz/, bench/fuzz.py) found, each kept as a test that builds both."""

from __future__ import annotations

import os

import pytest

from dockerfix.refactor.engine import run, select
from dockerfix.refactor.images.image import compare_images

from .testbases import BASE, table

# Fuzz case s1-i56 (seed 1): the context holds a hard-linked pair. COPY keeps the link; the original's `chown -R`
# layer stores both paths as files of their own, so a fix that moved the owner into the COPY kept one inode where
# the original image has two files (the harness reports "hardlink None != …").
HARD_LINKED = f"""FROM {BASE}
COPY app/ /srv/app/
RUN chown -R 1000:1000 /srv/app
"""


def _hard_linked_context(context) -> None:  # type: ignore[no-untyped-def]
    (context / "app").mkdir()
    (context / "app" / "main.sh").write_text("#!/bin/sh\necho hi\n")
    os.link(context / "app" / "main.sh", context / "app" / "main-hard.sh")
    (context / "app" / "other.txt").write_text("x\n" * 100)


def test_hard_linked_context_files_keep_the_copy_as_it_is(tmp_path) -> None:  # type: ignore[no-untyped-def]
    _hard_linked_context(tmp_path)
    (tmp_path / "Dockerfile").write_text(HARD_LINKED)
    result = run(HARD_LINKED, select(None, None), path=tmp_path / "Dockerfile", context=tmp_path, bases=table())
    assert "--chown" not in result.output
    assert any("hard-linked" in d for f in result.findings for d in f.details)


@pytest.mark.build
def test_hard_linked_context_files_build_the_same_image(build_image) -> None:  # type: ignore[no-untyped-def]
    ctx = build_image.context
    _hard_linked_context(ctx)
    fixed = run(HARD_LINKED, select(None, None), path=ctx / "Dockerfile", context=ctx, bases=table()).output
    _, original = build_image(HARD_LINKED)
    _, after = build_image(fixed, name="Dockerfile.fixed")
    assert [d.text for d in compare_images(original, after)] == []
    # The harness sees the difference a --chown on that COPY would make.
    wrong = HARD_LINKED.replace("COPY app/", "COPY --chown=1000:1000 app/").replace(
        "RUN chown -R 1000:1000 /srv/app",
        r"RUN find /srv/app \( ! -user 1000 -o ! -group 1000 \) -exec chown -h 1000:1000 {} +")
    _, bad = build_image(wrong, name="Dockerfile.wrong")
    assert any("hardlink" in d.text for d in compare_images(original, bad)), "the harness must see the hard link"


# Fuzz case s1-i75 (seed 1): the target is a symlink made in the parent stage. `chown -R /opt/app` changes only the
# link; a `&& chown -R … /opt/app/cache` appended to the RUN that made the directory resolved the link and re-owned
# /opt/real/cache, which the original never touched.
LINKED_TARGET = f"""FROM {BASE} AS build
RUN mkdir -p /opt/real && echo r > /opt/real/r.txt && ln -s /opt/real /opt/app
FROM build
RUN mkdir -p /opt/app/cache && echo x > /opt/app/cache/x
RUN chown -R 1000:1000 /opt/app
"""


def test_no_chown_appended_through_a_symlinked_target(tmp_path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "Dockerfile").write_text(LINKED_TARGET)
    result = run(LINKED_TARGET, select(None, None), path=tmp_path / "Dockerfile", context=tmp_path, bases=table())
    assert "&& chown" not in result.output
    assert any("symlink" in d for f in result.findings for d in f.details)


@pytest.mark.build
def test_symlinked_target_builds_the_same_image(build_image) -> None:  # type: ignore[no-untyped-def]
    ctx = build_image.context
    fixed = run(LINKED_TARGET, select(None, None), path=ctx / "Dockerfile", context=ctx, bases=table()).output
    _, original = build_image(LINKED_TARGET)
    _, after = build_image(fixed, name="Dockerfile.fixed")
    assert [d.text for d in compare_images(original, after)] == []
    wrong = LINKED_TARGET.replace("echo x > /opt/app/cache/x\n", "echo x > /opt/app/cache/x && chown -R 1000:1000 /opt/app/cache\n")
    _, bad = build_image(wrong, name="Dockerfile.wrong")
    assert any(d.path == "/opt/real/cache" for d in compare_images(original, bad)), "the harness must see it"


# Fuzz case s21-i105 (seed 21): a COPY whose --chown is safe drops its unproven --chmod (the file has no syntax line
# that proves BuildKit), but the dropped edit was still remembered, and keeping the whole fix safe crashed
# ("list.remove(x): x not in list"). The fix must be made, safe, with the COPY's mode left to the kept step.
def test_a_dropped_chmod_edit_does_not_crash_keeping_the_fix_safe(tmp_path) -> None:  # type: ignore[no-untyped-def]
    text = (f"FROM {BASE}\nRUN mkdir -p /opt/extra && echo e > /opt/extra/e.txt\n"
            "WORKDIR /home/app/svc/data\nRUN true\nCOPY f.txt /home/app/svc/f.txt\n"
            "RUN chown -R 1500:1500 /home/app/svc /opt/extra && chmod -R 750 /home/app/svc /opt/extra\n")
    (tmp_path / "f.txt").write_text("hello\n")
    (tmp_path / "Dockerfile").write_text(text)
    result = run(text, select(None, None), path=tmp_path / "Dockerfile", context=tmp_path, bases=table())
    [f] = [f for f in result.findings if f.transform == "chown-layer"]
    assert f.fix is not None and f.fix.safe, f.details
    assert "&& chown -R 1500:1500 /opt/extra && chmod -R 750 /opt/extra" in result.output
    assert "--chmod" not in result.output


# Fuzz case s21-i2 (seed 21): the target is a symlink that `mv` put there, so its kind is unknown; a later COPY into
# it made the path model call it "exists" (a directory or a link to one), and `exists` passed as "no symlink on the
# way": `&& find /var/lib/app/cache … -exec chown` was appended and re-owned /opt/real/cache through the link, which
# the original `chown -R` (it never follows a link) left alone ("/opt/real/cache: gid 0 != 2000").
MOVED_LINK = f"""FROM {BASE}
RUN mkdir -p /opt/real /var/lib && ln -s /opt/real /tmp/l && mv /tmp/l /var/lib/app
COPY f.txt /var/lib/app/f.txt
RUN mkdir -p /var/lib/app/cache && echo x > /var/lib/app/cache/x
RUN chown -R :2000 /var/lib/app
"""


def test_a_path_that_exists_but_may_be_a_link_takes_no_appended_owner(tmp_path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "f.txt").write_text("hello\n")
    (tmp_path / "Dockerfile").write_text(MOVED_LINK)
    result = run(MOVED_LINK, select(None, None), path=tmp_path / "Dockerfile", context=tmp_path, bases=table())
    assert result.output == MOVED_LINK
    assert any("may be a symlink to a directory" in d for f in result.findings for d in f.details)


@pytest.mark.build
def test_the_wrong_append_through_a_moved_link_is_caught(build_image) -> None:  # type: ignore[no-untyped-def]
    ctx = build_image.context
    (ctx / "f.txt").write_text("hello\n")
    _, original = build_image(MOVED_LINK)
    wrong = MOVED_LINK.replace("echo x > /var/lib/app/cache/x\n", "echo x > /var/lib/app/cache/x && chown -R :2000 "
                               "/var/lib/app/cache\n").replace("RUN chown -R :2000 /var/lib/app",
                                                                "RUN find /var/lib/app ! -group 2000 -exec chown -h :2000 {} +")
    _, bad = build_image(wrong, name="Dockerfile.wrong")
    assert any("/opt/real/cache" in d.text for d in compare_images(original, bad))


# Fuzz case s21-i155 (seed 21): `cp -a` of a symlink makes the target a link too; the same wrong append as s21-i2.
def test_a_target_that_cp_a_made_a_link_takes_no_appended_owner(tmp_path) -> None:  # type: ignore[no-untyped-def]
    text = (f"FROM {BASE}\nRUN mkdir -p /opt/real / && ln -s /opt/real /tmp/l && cp -a /tmp/l /app\n"
            "COPY f.txt /app/f.txt\nRUN mkdir -p /app/cache && echo x > /app/cache/x\nRUN chown -R 1000:1000 /app\n")
    (tmp_path / "f.txt").write_text("hello\n")
    (tmp_path / "Dockerfile").write_text(text)
    result = run(text, select(None, None), path=tmp_path / "Dockerfile", context=tmp_path, bases=table())
    assert "&& find /app/cache" not in result.output and "&& chown -R 1000:1000 /app/cache" not in result.output


# Fuzz cases s22-i124 and s22-i32 (seed 22): COPY --from keeps the owner a file has in the other stage (33:33 here).
# A `chown -R :1000` (or `chown -R web`) keeps the other part of it, but the --chown the fix wrote named 0 for it
# ("/home/app/svc/built/app.bin: uid 33 != 0", "gid 33 != 0").
@pytest.mark.parametrize("owner", [":1000", "1000"])
def test_copy_from_keeps_the_part_of_the_owner_a_chown_leaves(tmp_path, owner: str) -> None:  # type: ignore[no-untyped-def]
    text = (f"FROM {BASE} AS build\nRUN mkdir -p /out && echo built > /out/app.bin && chown 33:33 /out/app.bin\n"
            f"FROM {BASE}\nWORKDIR /srv/app\nCOPY --from=build /out/ /srv/app/built/\nRUN chown -R {owner} /srv/app\n")
    (tmp_path / "Dockerfile").write_text(text)
    result = run(text, select(None, None), path=tmp_path / "Dockerfile", context=tmp_path, bases=table())
    assert "--chown" not in result.output
    assert any("COPY --from keeps the owners" in d for f in result.findings for d in f.details)


@pytest.mark.build
def test_copy_from_owner_kept_by_the_original_is_caught(build_image) -> None:  # type: ignore[no-untyped-def]
    text = (f"FROM {BASE} AS build\nRUN mkdir -p /out && echo built > /out/app.bin && chown 33:33 /out/app.bin\n"
            f"FROM {BASE}\nWORKDIR /srv/app\nCOPY --from=build /out/ /srv/app/built/\nRUN chown -R :1000 /srv/app\n")
    _, original = build_image(text)
    wrong = text.replace("COPY --from=build", "COPY --from=build --chown=0:1000").replace(
        "RUN chown -R :1000 /srv/app", "RUN find /srv/app ! -group 1000 -exec chown -h :1000 {} +")
    _, bad = build_image(wrong, name="Dockerfile.wrong")
    assert any("uid 33 != 0" in d.text for d in compare_images(original, bad))
