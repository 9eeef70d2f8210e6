from __future__ import annotations

import hashlib
import io
import os
import tarfile
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from dockerfix.refactor.images.baseimage import PASSWD, build_rootfs
from dockerfix.refactor.images.build import Builder, BuildError, parse_buildah_steps, parse_buildkit_steps
from dockerfix.refactor.images.image import FileRecord, compare_images, flatten, load_image

if TYPE_CHECKING:
    from tests.conftest import ContextBuilds


def _text_sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


# ---------------------------------------------------------------------------------------- without a builder


def test_rootfs_is_deterministic_with_numeric_owners() -> None:
    first, second = build_rootfs(), build_rootfs()
    assert first.tar == second.tar and first.digest == second.digest
    with tarfile.open(fileobj=io.BytesIO(first.tar)) as tar:
        members = {m.name: m for m in tar.getmembers()}
    assert oct(members["tmp"].mode) == "0o1777"
    assert members["bin/sh"].linkname == "busybox"
    assert {m.uname for m in members.values()} == {""} and {m.uid for m in members.values()} == {0}
    for tool in ("usr/local/bin/git", "usr/local/bin/pip", "usr/local/bin/python3", "usr/sbin/adduser"):
        assert members[tool].mode == 0o755, tool


def test_step_parsers() -> None:
    buildah_log = (
        "[1/2] STEP 1/2: FROM base AS b\n[1/2] STEP 2/2: RUN make\n--> Using cache 1234\n--> 1234\n"
        "[2/2] STEP 1/2: FROM base\n[2/2] STEP 2/2: COPY --from=b /x /x\n--> 99\n"
    )
    steps = parse_buildah_steps(buildah_log)
    assert [(s.text, s.cached) for s in steps] == [
        ("FROM base AS b", False), ("RUN make", True), ("FROM base", False), ("COPY --from=b /x /x", False)]
    buildkit_log = (
        "#4 [1/3] FROM docker.io/library/base\n#5 [2/3] COPY req.txt /r\n#5 CACHED\n"
        "#6 [stage 3/3] RUN pip install -r /r\n#6 0.2 done\n#6 DONE 0.3s\n"
    )
    assert [(s.text, s.cached) for s in parse_buildkit_steps(buildkit_log)] == [
        ("FROM docker.io/library/base", False), ("COPY req.txt /r", True), ("RUN pip install -r /r", False)]


# ----------------------------------------------------------------------------------------------- builds

STUBS = """\
FROM localhost/dockerfix-base
RUN adduser -D -u 1000 app && addgroup -g 2000 devs && addgroup app devs
RUN git clone --depth 1 https://example.com/org/repo.git /src/repo
WORKDIR /work
COPY requirements.txt base.txt ./
RUN pip install --no-cache-dir -r requirements.txt && pip install --target /opt/vendored six
RUN python -m venv /venv && /venv/bin/pip install attrs && /venv/bin/python -m pip install click
"""
STUB_FILES = {"requirements.txt": "-r base.txt\nflask==2.0  # web\n", "base.txt": "Requests>=2\n"}


@pytest.mark.build
def test_base_image_and_stub_tools(build_image: ContextBuilds) -> None:
    _, image = build_image(STUBS, STUB_FILES)
    files = flatten(image)
    assert files["/etc/passwd"].sha256 == _text_sha(PASSWD + "app:x:1000:1000:Linux User,,,:/home/app:/bin/sh\n")
    assert files["/tmp"].mode == 0o1777
    assert files["/bin/busybox"].kind == "file" and files["/bin/sh"].link == "busybox"
    assert files["/home/app"] == FileRecord("/home/app", "dir", 0o755, 1000, 1000)
    site = "/usr/local/lib/python3/site-packages"
    expected_files = {
        "/src/repo/.git/HEAD": "ref: refs/heads/main\n",
        "/src/repo/src/main.py": 'print("hello from repo")\n',
        f"{site}/flask/__init__.py": "# dockerfix stub of flask==2.0\n",
        f"{site}/requests/__init__.py": "# dockerfix stub of Requests>=2\n",
        "/opt/vendored/six/__init__.py": "# dockerfix stub of six\n",
        "/venv/lib/python3/site-packages/attrs/__init__.py": "# dockerfix stub of attrs\n",
        "/venv/lib/python3/site-packages/click/__init__.py": "# dockerfix stub of click\n",
        "/usr/local/lib/python3/pip.log": "install Requests>=2 flask==2.0\ninstall six\ninstall attrs\ninstall click\n",
    }
    for path, text in expected_files.items():
        assert files[path].sha256 == _text_sha(text), path
    assert files["/venv/pyvenv.cfg"].kind == "file"
    assert files["/venv/bin/python"].link == "python3"
    group_lines = "root:x:0:\ndaemon:x:1:\nwww-data:x:33:\nusers:x:100:\nnogroup:x:65534:\napp:x:1000:\ndevs:x:2000:app\n"
    assert files["/etc/group"].sha256 == _text_sha(group_lines)


@pytest.mark.build
def test_builds_are_reproducible(build_image: ContextBuilds) -> None:
    _, first = build_image(STUBS, STUB_FILES)
    _, second = build_image(STUBS, STUB_FILES)
    assert compare_images(first, second) == []


@pytest.mark.build
def test_cache_reuse_is_reported(build_image: ContextBuilds) -> None:
    dockerfile = (
        "FROM localhost/dockerfix-base\nCOPY requirements.txt /r.txt\nRUN pip install -r /r.txt\n"
        "COPY app.py /app.py\n"
    )
    # Unique content: the builder's cache lives for the session and must not match another test's layers.
    marker = f"# {os.getpid()} {id(build_image)}\n"
    build_image(dockerfile, {"requirements.txt": "flask\n" + marker, "app.py": "1\n"}, cache=True)
    second, _ = build_image(dockerfile, {"app.py": "2\n"}, cache=True)
    assert second.cached_steps == ("COPY requirements.txt /r.txt", "RUN pip install -r /r.txt")
    third, image = build_image(dockerfile, {"requirements.txt": "flask\nsix\n" + marker}, cache=True)
    assert third.cached_steps == ()
    assert flatten(image)["/usr/local/lib/python3/pip.log"].sha256 == _text_sha("install flask six\n")


@pytest.mark.build
def test_failed_build_raises_with_log_tail(build_image: ContextBuilds) -> None:
    with pytest.raises(BuildError) as caught:
        build_image("FROM localhost/dockerfix-base\nRUN echo about to fail && exit 3\n")
    message = str(caught.value)
    assert "failed" in message and "about to fail" in message
    assert "about to fail" in caught.value.log


# ---------------------------------------------------------------------- builder facts the transforms rely on
# Measured with buildah 1.28, Docker 26.1.5 (BuildKit 0.13) and Debian's busybox; a change here means a transform's
# "same image" claim moved.

FACTS = """\
FROM localhost/dockerfix-base AS stage
RUN mkdir /s && cp /bin/busybox /s/suid && chmod 4755 /s/suid

FROM localhost/dockerfix-base
COPY app /plain
COPY --chown=1000:1000 app /chowned
COPY --from=stage --chown=1000:1000 /s /staged
COPY --chown=1000:1000 app/small.txt /new/deep/dir/
RUN mkdir /r && cp /bin/busybox /r/suid && chmod 4755 /r/suid && cp /bin/busybox /r/same \\
 && chmod 4755 /r/same && ln -s /etc/hosts /r/link-out && ln -s /srv /r/dirlink
RUN chown -R 1000:1000 /r && chown 0:0 /r/same
RUN ln -s /opt /optlink && chown -R 1000:1000 /optlink
RUN mkdir /t && ln -s /var/lib /t/lnk && chown 1000:1000 /t/lnk
"""


@pytest.fixture(scope="module")
def facts(builder: Builder, tmp_path_factory: pytest.TempPathFactory) -> dict[str, FileRecord]:
    context = tmp_path_factory.mktemp("facts")
    (context / "app").mkdir()
    (context / "app" / "small.txt").write_text("hi\n")
    (context / "app" / "suid").write_bytes(Path("/bin/busybox").read_bytes()[:4096])
    (context / "app" / "suid").chmod(0o4755)
    (context / "Dockerfile").write_text(FACTS)
    result = builder.build(context / "Dockerfile", context)
    return flatten(load_image(result.archive))


def _owner_mode(record: FileRecord) -> tuple[int, int, str]:
    return record.uid, record.gid, oct(record.mode)


# Where the builders differ (docs/builder-semantics.md, "buildah and BuildKit differ"): the expected value per builder.
CONTEXT_SETUID = {"buildah": "0o755", "docker": "0o4755"}


@pytest.mark.build
def test_difference_copy_from_context_setuid_buildah_drops_buildkit_keeps(
    facts: dict[str, FileRecord], builder: Builder
) -> None:
    # buildah's COPY strips setuid/setgid from build-context sources, with or without --chown; BuildKit keeps them.
    mode = CONTEXT_SETUID[builder.name]
    assert _owner_mode(facts["/plain/suid"]) == (0, 0, mode)
    assert _owner_mode(facts["/chowned/suid"]) == (1000, 1000, mode)


WORKDIRS = """\
FROM localhost/dockerfix-base
USER 1000
WORKDIR /wd-user
USER root
WORKDIR /wd-unused
WORKDIR /wd-used
RUN true
WORKDIR /wd-trailing
"""


@pytest.mark.build
def test_difference_workdir_buildkit_creates_at_once_buildah_only_for_a_run(build_image: ContextBuilds) -> None:
    """BuildKit: every WORKDIR makes its directory at once, in a layer of its own, owned by the current USER.
    buildah 1.28: a WORKDIR's directory appears only when a later RUN runs in it (then root-owned), so a WORKDIR
    never used by a RUN (the trailing one included) leaves no directory and no layer."""
    _, image = build_image(WORKDIRS)
    files = flatten(image)
    made = {p: _owner_mode(files[p]) if p in files else None for p in ("/wd-user", "/wd-unused", "/wd-used", "/wd-trailing")}
    workdir_layers = [layer for layer in image.layers if layer.created_by.startswith("WORKDIR")]
    if build_image.builder.name == "docker":
        assert made == {"/wd-user": (1000, 1000, "0o755"), "/wd-unused": (0, 0, "0o755"),
                        "/wd-used": (0, 0, "0o755"), "/wd-trailing": (0, 0, "0o755")}
        assert [layer.created_by for layer in workdir_layers] == [f"WORKDIR {p}" for p in made]
    else:
        assert made == {"/wd-user": None, "/wd-unused": None, "/wd-used": (0, 0, "0o755"), "/wd-trailing": None}
        assert workdir_layers == []
    assert image.config.working_dir == "/wd-trailing"


@pytest.mark.build
def test_fact_copy_from_stage_with_chown_keeps_setuid(facts: dict[str, FileRecord]) -> None:
    assert _owner_mode(facts["/staged/suid"]) == (1000, 1000, "0o4755")


@pytest.mark.build
def test_fact_copy_chown_gives_created_parents_the_new_owner(facts: dict[str, FileRecord]) -> None:
    for path in ("/new", "/new/deep", "/new/deep/dir"):
        assert _owner_mode(facts[path]) == (1000, 1000, "0o755"), path


@pytest.mark.build
def test_fact_busybox_chown_clears_setuid_even_to_the_same_owner(facts: dict[str, FileRecord]) -> None:
    assert _owner_mode(facts["/r/suid"]) == (1000, 1000, "0o755")
    assert _owner_mode(facts["/r/same"]) == (0, 0, "0o755")


@pytest.mark.build
def test_fact_busybox_chown_R_changes_links_not_targets(facts: dict[str, FileRecord]) -> None:
    assert (facts["/r/link-out"].uid, facts["/r/dirlink"].uid, facts["/optlink"].uid) == (1000, 1000, 1000)
    assert (facts["/etc/hosts"].uid, facts["/srv"].uid, facts["/opt"].uid) == (0, 0, 0)


@pytest.mark.build
def test_fact_busybox_chown_without_R_follows_a_link(facts: dict[str, FileRecord]) -> None:
    assert (facts["/t/lnk"].uid, facts["/var/lib"].uid) == (0, 1000)
