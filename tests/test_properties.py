"""Property tests over generated Dockerfiles (hypothesis)."""

from __future__ import annotations

import pytest
from dockerfix import transforms
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dockerfix.refactor.cli.batch import Options, process_text
from dockerfix.refactor.engine import run
from dockerfix.refactor.errors import DockerfixError
from dockerfix.refactor.dockerfile.parse import decode, parse

ALL = transforms.names()
SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

words = st.sampled_from(["/data", "/app", "/srv/www", "$WDIR", "${WDIR}/x", ".", "src/", "a.txt", "1000:1000", "app",
                         "app:app", "caf\u00e9", "\u4e2d", "'q u'", '"d q"', "-R", "--chown=1:1", "&&", ";", "||"])
owners = st.sampled_from(["1000:1000", "app:app", "1000", ":50", "app", "${UID}:${GID}"])
paths = st.sampled_from(["/data", "/app", "/data/sub", "$WDIR", "${WDIR}", ".", "/opt/venv"])


@st.composite
def instruction(draw) -> str:  # type: ignore[no-untyped-def]
    kind = draw(st.sampled_from(["run", "chown", "copy", "env", "arg", "workdir", "user", "comment", "blank",
                                 "cont", "heredoc", "json", "label", "mkdir", "clone", "volume",
                                 "install", "install", "late-install"]))
    if kind == "run":
        return "RUN " + " ".join(draw(st.lists(words, min_size=1, max_size=6)))
    if kind == "chown":
        op = draw(st.sampled_from(["chown -R", "chgrp -R", "chmod -R 755", "chown --recursive"]))
        spec = "" if "chmod" in op else draw(owners) + " "
        tail = draw(st.sampled_from(["", " && echo ok", "; true"]))
        return f"RUN {op} {spec}{draw(paths)}{tail}"
    if kind == "copy":
        flags = draw(st.sampled_from(["", "--chown=1:1 ", "--from=build ", "--link ", "--chmod=755 "]))
        return f"COPY {flags}{draw(st.sampled_from(['a.txt', 'src/', '.', 'a b']))} {draw(paths)}"
    if kind == "env":
        return f"ENV WDIR={draw(paths)}"
    if kind == "arg":
        return draw(st.sampled_from(["ARG UID=1000", "ARG GID", "ARG WDIR=/data"]))
    if kind == "workdir":
        return f"WORKDIR {draw(paths)}"
    if kind == "user":
        return draw(st.sampled_from(["USER root", "USER app", "USER 1000:1000"]))
    if kind == "comment":
        return "# " + draw(st.text(max_size=20)).replace("\n", " ").replace("\r", " ")
    if kind == "blank":
        return draw(st.sampled_from(["", "   ", "\t"]))
    if kind == "cont":
        return f"RUN mkdir -p {draw(paths)} \\\n  # note\n\n    && echo {draw(words)}"
    if kind == "heredoc":
        return draw(st.sampled_from(["RUN <<EOF\nmkdir -p /data/h\nEOF", "RUN <<-EOT\n\techo hi\n\tEOT",
                                     "COPY <<EOF /data/f\ncontent\nEOF"]))
    if kind == "json":
        return draw(st.sampled_from(['CMD ["run", "x"]', 'RUN ["chown", "-R", "1", "/data"]', 'CMD ["broken"']))
    if kind == "late-install":
        return draw(st.sampled_from([
            "WORKDIR /app\nCOPY . .\nRUN pip install -r requirements.txt",
            "WORKDIR /srv\nCOPY . .\nENV X=1\nRUN npm ci && npm run build",
            "WORKDIR /app\n# sources\nCOPY --chown=1000:1000 . .\nRUN pip install --no-cache-dir -r requirements.txt",
        ]))
    if kind == "install":
        return draw(st.sampled_from(["COPY . .", "COPY . /app", "RUN pip install -r requirements.txt",
                                     "RUN npm ci", "RUN pip install --no-cache-dir .", "COPY requirements.txt ."]))
    if kind == "label":
        return 'LABEL a="b c" d=e'
    if kind == "mkdir":
        return f"RUN mkdir -p {draw(paths)}"
    if kind == "clone":
        return f"RUN git clone https://x/y.git {draw(paths)}/repo"
    return f"VOLUME {draw(paths)}"


@st.composite
def dockerfile(draw) -> str:  # type: ignore[no-untyped-def]
    lines = []
    if draw(st.booleans()):
        lines.append(draw(st.sampled_from(["# syntax=docker/dockerfile:1", "# escape=`", "# escape=\\"])))
    lines.append(draw(st.sampled_from(["FROM base", "FROM base AS build", "from base"])))
    lines += draw(st.lists(instruction(), max_size=12))
    if draw(st.booleans()):
        lines.append("FROM base")
        lines += draw(st.lists(instruction(), max_size=6))
    nl = draw(st.sampled_from(["\n", "\r\n"]))
    text = nl.join(line.replace("\n", nl) for line in lines)
    if draw(st.booleans()):
        text += nl
    if draw(st.booleans()):
        text = "\ufeff" + text
    return text


@SETTINGS
@given(dockerfile())
def test_round_trip_fix_parses_and_is_idempotent(text: str) -> None:
    try:
        df = parse(text)
    except DockerfixError:
        return
    assert df.render() == text
    try:
        once = run(text, ALL).output
    except DockerfixError:
        return  # the builder would reject it too (unknown instruction and the like)
    parse(once)  # the output parses
    assert run(once, ALL).output == once


@SETTINGS
@given(dockerfile())
def test_chown_layer_never_adds_removes_or_reorders_instructions(text: str) -> None:
    try:
        before = parse(text)
        after = parse(run(text, ["chown-layer"], unsafe=True).output)
    except DockerfixError:
        return
    assert [i.keyword for i in before.instructions] == [i.keyword for i in after.instructions]
    # Instructions other than COPY/ADD/RUN are untouched, byte for byte.
    for a, b in zip(before.instructions, after.instructions):
        if a.keyword not in ("COPY", "ADD", "RUN"):
            assert text[a.start : a.end] == after.text[b.start : b.end]


@pytest.fixture(scope="module")
def context(tmp_path_factory):  # type: ignore[no-untyped-def]
    """A build context in which the dependency installs of the generated files can be fixed."""
    root = tmp_path_factory.mktemp("ctx")
    (root / "requirements.txt").write_text("requests==2.31.0\n")
    (root / "package.json").write_text('{"name": "x", "version": "1.0.0"}\n')
    (root / "package-lock.json").write_text('{"name": "x", "lockfileVersion": 3}\n')
    (root / "src").mkdir()
    (root / "src" / "app.py").write_text("print(1)\n")
    return root


@SETTINGS
@given(text=dockerfile())
def test_no_transform_moves_or_changes_instructions_it_does_not_own(context, text: str) -> None:  # type: ignore[no-untyped-def]
    """Only COPY/ADD/RUN are edited or moved; every other instruction keeps its text and relative order."""
    try:
        before = parse(text)
        out = run(text, ALL, unsafe=True, path=context / "Dockerfile").output
        assert run(out, ALL, unsafe=True, path=context / "Dockerfile").output == out
        after = parse(out)
    except DockerfixError:
        return
    others = [text[i.start : i.end] for i in before.instructions if i.keyword not in ("COPY", "ADD", "RUN")]
    assert [out[i.start : i.end] for i in after.instructions if i.keyword not in ("COPY", "ADD", "RUN")] == others


@SETTINGS
@given(dockerfile())
def test_line_endings_are_kept(text: str) -> None:
    try:
        out = run(text, ALL, unsafe=True).output
    except DockerfixError:
        return
    if "\r\n" in text and text.count("\r\n") == text.count("\n"):
        assert out.count("\r\n") == out.count("\n")
    if "\r" not in text:
        assert "\r" not in out


@settings(max_examples=1000, deadline=None)
@given(st.binary(max_size=400))
def test_arbitrary_bytes_raise_only_the_tools_error(data: bytes) -> None:
    opts = Options(tuple(ALL), unsafe=True)
    try:
        process_text(decode(data), "x", opts)
    except DockerfixError:
        pass


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("FROMRUNCOPY chown-R/data\\`\n\r\t#<>EOF'\"[]{}$=:;&|()0123")), max_size=300))
def test_dockerfile_like_text_raises_only_the_tools_error(text: str) -> None:
    try:
        out = run(text, ALL, unsafe=True).output
    except DockerfixError:
        return
    assert run(out, ALL, unsafe=True).output == out
