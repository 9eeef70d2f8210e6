"""Values the Dockerfile gives that only an unknown base image's ENV could replace: assumed, never certain.

The resolver keeps them out of ``State.env`` (still unknown there, so every transform reading it keeps refusing)
and in ``State.assumed`` with the assumption named; chown-layer uses them for an unsafe fix that names it.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from dockerfix.refactor.dockerfile.analysis import analyse_text
from dockerfix.refactor.dockerfile.parse import parse
from dockerfix.refactor.dockerfile.resolve import FROM_BASE, Assumed, resolve
from dockerfix.refactor.dockerfile.words import Noting, expand
from dockerfix.refactor.engine import run
from dockerfix.refactor.images.image import compare_images

from .testbases import table

if TYPE_CHECKING:
    from tests.conftest import ContextBuilds

NAME = ["chown-layer"]
NO_ENV = "the base image 'myorg/base' does not set ENV P"
F = {"a": "a\n"}


def _state(text: str, index: int = -1, base_env=None):  # type: ignore[no-untyped-def]
    return resolve(parse(text), base_env).states[index]


def test_noting_records_the_names_an_expansion_reads() -> None:
    env = Noting({"A": "a", "B": None})
    assert expand("$A/${A:+y}", env) == "a/y"
    assert env.read == ["A"] * 4  # `in` and the lookup, twice
    assert dict(env) == {"A": "a", "B": None} and len(env) == 2


@pytest.mark.parametrize(
    "text, name, value, assumptions",
    [
        ("FROM myorg/base\nARG P=/x\nRUN true\n", "P", "/x", {NO_ENV}),
        # ENV from the ARG: the ARG's value only when the base sets no ENV P (else ENV P=$P reads the base's).
        ("FROM myorg/base\nARG P=/x\nENV P=$P\nRUN true\n", "P", "/x", {NO_ENV}),
        ("FROM myorg/base\nARG P=/x\nENV Q=$P/y\nRUN true\n", "Q", "/x/y", {NO_ENV}),
        ("FROM myorg/base\nARG P=/x\nARG Q=$P/y\nRUN true\n", "Q", "/x/y",
         {NO_ENV, "the base image 'myorg/base' does not set ENV Q"}),
        # A global ARG re-declared in the stage is an ARG of the stage like any other.
        ("ARG P=/g\nFROM myorg/base\nARG P\nRUN true\n", "P", "/g", {NO_ENV}),
    ],
)
def test_an_arg_over_an_unknown_base_is_assumed(text: str, name: str, value: str, assumptions: set[str]) -> None:
    st = _state(text)
    assert st.env[name] is None  # still unknown to every caller reading env / expand
    assert st.expand("$" + name) is None
    assert st.assumed[name] == Assumed(value, frozenset(assumptions))
    assert st.expand_assuming("${" + name + "}/z") == Assumed(value + "/z", frozenset(assumptions))


@pytest.mark.parametrize(
    "text, base_env",
    [
        ("FROM myorg/base\nENV P=/x\nRUN true\n", None),  # set by ENV in the stage: certain whatever the base sets
        ("FROM myorg/base\nARG P=/y\nENV P=/x\nRUN true\n", None),  # the later ENV replaces the assumed ARG
        ("FROM myorg/base\nARG P=/x\nRUN true\n", lambda ref: {}),  # the base's ENV names are known, P not among them
        ("FROM scratch\nARG P=/x\nRUN true\n", None),
        ("FROM myorg/base AS b\nENV P=/x\nFROM b\nARG P=/y\nRUN true\n", None),  # the parent's ENV wins over the ARG
    ],
)
def test_certain_values(text: str, base_env) -> None:  # type: ignore[no-untyped-def]
    st = _state(text, base_env=base_env)
    assert st.env["P"] == "/x"
    assert "P" not in st.assumed
    assert st.expand_assuming("$P") == Assumed("/x")


@pytest.mark.parametrize(
    "text, base_env, why",
    [
        ("FROM myorg/base\nARG P\nRUN true\n", None, "has a value the Dockerfile does not give"),
        ("FROM myorg/base\nARG P=$NOPE\nRUN true\n", None, f"uses $P, which is set from $NOPE: {FROM_BASE}"),
        ("FROM myorg/base\nENV P=$NOPE/x\nRUN true\n", None, f"uses $P, which is set from $NOPE: {FROM_BASE}"),
        ("FROM myorg/base\nENV P=$NOPE/x\nENV P=$Q\nRUN true\n", None, f"uses $P, which is set from $Q: {FROM_BASE}"),
        ("FROM myorg/base\nENV P=$NOPE/x\nARG Q\nENV P=$Q\nRUN true\n", None,
         "has a value the Dockerfile does not give"),
        ("FROM myorg/base\nARG Q=/y\nARG P=/x\nARG P\nRUN true\n", None, "has a value the Dockerfile does not give"),
        # The base's ENV sets P: it wins over the ARG, and its value is not known.
        ("FROM myorg/base\nARG P=/x\nRUN true\n", lambda ref: {"P": None}, "has a value the Dockerfile does not give"),
        # An ARG does not cross FROM; the child's P would come from its own base config.
        ("FROM myorg/base AS b\nARG P=/x\nFROM b\nRUN true\n", None, f"uses $P: {FROM_BASE}"),
        # FROM $UNSET: no base image to name in an assumption.
        ("ARG IMG\nFROM $IMG\nARG P=/x\nRUN true\n", None, "has a value the Dockerfile does not give"),
    ],
)
def test_unknown_values_say_why(text: str, base_env, why: str) -> None:  # type: ignore[no-untyped-def]
    st = _state(text, base_env=base_env)
    assert st.env.get("P") is None and "P" not in st.assumed
    assert str(st.expand_assuming("$P")) == why


def test_an_env_assumption_crosses_into_a_child_stage() -> None:
    st = _state("FROM myorg/base AS b\nARG P=/x\nENV Q=$P\nFROM b\nRUN true\n")
    assert st.env["Q"] is None and st.assumed["Q"] == Assumed("/x", frozenset({NO_ENV}))


def test_a_name_the_run_sets_is_not_assumed() -> None:
    a = analyse_text("FROM myorg/base\nARG P=/x\nARG Q=/q\nRUN P=/other && chown -R 1:1 $P $Q\n")
    rs = a.run_script(3)
    assert rs is not None and "P" not in rs.assumed and rs.assumed["Q"].value == "/q"


# chown-layer over an unknown base: name -> (before, after). The fix is unsafe and names the assumption.
K = "ARG P=/srv/kong\nENV P=$P\nCOPY a /srv/kong/a\n"
KFIND = r"\( ! -user 1000 -o ! -group 0 -o -perm -4000 -o -perm -2000 \) -exec chown -h 1000:0 {} +"
ASSUMED = {
    "path-from-env-of-arg": (
        "FROM myorg/base\n" + K + "RUN chown -R 1000:0 ${P}\n",
        "FROM myorg/base\nARG P=/srv/kong\nENV P=$P\nCOPY --chown=1000:0 a /srv/kong/a\n"
        f"RUN find ${{P}} {KFIND}\n",
        {NO_ENV},
    ),
    "path-from-arg": (
        "FROM myorg/base\nARG P=/srv/kong\nCOPY a /srv/kong/a\nRUN chown -R 1000:0 $P/\n",
        f"FROM myorg/base\nARG P=/srv/kong\nCOPY --chown=1000:0 a /srv/kong/a\nRUN find $P/ {KFIND}\n",
        {NO_ENV},
    ),
    "copy-destination-from-arg": (
        "FROM myorg/base\nARG P=/srv/kong\nCOPY a $P/a\nRUN chown -R 1000:0 $P\n",
        f"FROM myorg/base\nARG P=/srv/kong\nCOPY --chown=1000:0 a $P/a\nRUN find $P {KFIND}\n",
        {NO_ENV},
    ),
    "copy-destination-only": (
        "FROM myorg/base\nARG P=/srv/kong\nCOPY a $P/a\nRUN chown -R 1000:0 /srv/kong\n",
        f"FROM myorg/base\nARG P=/srv/kong\nCOPY --chown=1000:0 a $P/a\nRUN find /srv/kong {KFIND}\n",
        {NO_ENV},
    ),
    "owner-from-arg": (
        "FROM myorg/base\nARG U=1000\nCOPY a /srv/kong/a\nRUN chown -R ${U}:0 /srv/kong\n",
        "FROM myorg/base\nARG U=1000\nCOPY --chown=1000:0 a /srv/kong/a\n"
        "RUN find /srv/kong \\( ! -user ${U} -o ! -group 0 -o -perm -4000 -o -perm -2000 \\) -exec chown -h ${U}:0 {} +\n",
        {"the base image 'myorg/base' does not set ENV U"},
    ),
}


def _ctx(tmp_path: Path) -> Path:
    (tmp_path / "a").write_text("a\n")
    return tmp_path / "Dockerfile"


@pytest.mark.parametrize("name", sorted(ASSUMED))
def test_an_assumed_value_makes_an_unsafe_fix_that_names_it(tmp_path: Path, name: str) -> None:
    before, after, assumptions = ASSUMED[name]
    path = _ctx(tmp_path)
    assert run(before, NAME, path=path).output == before  # not applied without --unsafe
    result = run(before, NAME, unsafe=True, path=path)
    assert result.output == after
    (finding,) = result.findings
    assert finding.fix is not None and not finding.fix.safe
    for why in assumptions:
        assert f"unsafe: assumes {why}" in finding.details
    assert run(after, NAME, unsafe=True, path=path).output == after


@pytest.mark.parametrize("base", ["localhost/dockerfix-base", "alpine:3.20"])
def test_with_the_base_known_the_value_is_certain(tmp_path: Path, base: str) -> None:
    before = f"FROM {base}\n" + K + "RUN chown -R 1000:0 ${P}\n"
    (finding,) = run(before, NAME, unsafe=True, path=_ctx(tmp_path), bases=table()).findings
    assert finding.fix is not None
    assert not any("does not set ENV" in d for d in finding.details)
    if base == "localhost/dockerfix-base":  # every fact of the test base is read: safe
        assert finding.fix.safe


# Still refused, with the reason: name -> (Dockerfile, words of the message).
REFUSED = {
    "only-the-base-env-gives-it": ("FROM myorg/base\nCOPY a /home/a\nRUN chown -R 1000:0 /home/${NB_USER}\n",
                                   f"the path '/home/${{NB_USER}}' uses $NB_USER: {FROM_BASE}"),
    "owner-only-from-the-base-env": ("FROM myorg/base\nCOPY a /srv/a\nRUN chown -R $NB_UID /srv\n",
                                     f"the owner '$NB_UID' uses $NB_UID: {FROM_BASE}"),
    "set-from-the-base-env": ("FROM myorg/base\nENV NB_HOME=/home/$NB_USER\nCOPY a /home/a\nRUN chown -R 1:1 $NB_HOME\n",
                              f"the path '$NB_HOME' uses $NB_HOME, which is set from $NB_USER: {FROM_BASE}"),
    # A VOLUME whose path is unknown may cover the target; one resolved by an assumption is a VOLUME still.
    "volume-unknown": ("FROM myorg/base\nARG V\nVOLUME $V\nCOPY a /srv/a\nRUN chown -R 1:1 /srv\n",
                       "the VOLUME $V has a path the Dockerfile does not give, and may cover the target (the classic "
                       "builder and buildah discard later changes there)"),
    "volume-assumed": ("FROM myorg/base\nARG V=/srv\nVOLUME [\"$V\"]\nCOPY a /srv/a\nRUN chown -R 1:1 /srv\n",
                       "/srv is in the declared VOLUME /srv: the classic builder and buildah discard later changes there"),
    "arg-without-default": ("FROM myorg/base\nARG P\nCOPY a /srv/a\nRUN chown -R 1:1 $P\n",
                            "the path '$P' has a value the Dockerfile does not give"),
    "the-run-sets-it": ("FROM myorg/base\nARG P=/srv\nCOPY a /srv/a\nRUN P=$(pwd) && chown -R 1:1 $P\n",
                        "the path '$P' has a value the Dockerfile does not give"),
}


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_refused_with_the_reason(tmp_path: Path, name: str) -> None:
    text, why = REFUSED[name]
    result = run(text, NAME, unsafe=True, path=_ctx(tmp_path))
    assert result.output == text
    (finding,) = result.findings
    assert finding.fix is None and finding.message == f"not fixed: {why}"


def test_the_base_env_message_with_a_known_base_stays_the_plain_one(tmp_path: Path) -> None:
    text = "FROM localhost/dockerfix-base\nCOPY a /home/a\nRUN chown -R 1000:0 /home/${NB_USER}\n"
    (finding,) = run(text, NAME, unsafe=True, path=_ctx(tmp_path), bases=table()).findings
    assert finding.message == "not fixed: the path '/home/${NB_USER}' has a value the Dockerfile does not give"


# deps-first is a safe transform: it reads only State.env, where assumed values stay unknown, so over an unknown
# base it keeps refusing what rests on an ARG (with a known base the same file is fixed).
DEPS = {
    "env-from-arg": ("ARG VENV=/opt/venv\nENV VIRTUAL_ENV=$VENV\nWORKDIR /app\nCOPY . .\nRUN pip install -r requirements.txt\n",
                     "VIRTUAL_ENV is set to a value the Dockerfile does not give"),
    "requirements-from-arg": ("ARG REQ=requirements.txt\nWORKDIR /app\nCOPY . .\nRUN pip install -r $REQ\n",
                              "uses a variable or wildcard whose value is unknown"),
}


@pytest.mark.parametrize("name", sorted(DEPS))
def test_deps_first_does_not_trust_assumed_values(tmp_path: Path, name: str) -> None:
    body, why = DEPS[name]
    (tmp_path / "requirements.txt").write_text("flask\n")
    (tmp_path / "app.py").write_text("")
    path = tmp_path / "Dockerfile"
    unknown = "FROM myorg/python\n" + body
    result = run(unknown, ["deps-first"], unsafe=True, path=path)
    assert result.output == unknown
    (finding,) = result.findings
    assert finding.fix is None and why in finding.message
    (known,) = run("FROM python:3.12\n" + body, ["deps-first"], path=path).findings
    assert known.fix is not None and known.fix.safe


# The shape built on the real test base, which the analysis is not told about (no bases=): the fix rests on the
# named assumption, which holds for this base, so the images are the same.
BUILD = "FROM localhost/dockerfix-base\nARG P=/srv/kong\nENV P=$P\nCOPY a /srv/kong/a\nRUN chown -R 1000:0 ${P}\n"
BUILDS = {"literal-copy": BUILD, "copy-to-the-variable": BUILD.replace("COPY a /srv/kong/a", "COPY a ${P}/a")}


@pytest.mark.build
@pytest.mark.parametrize("name", sorted(BUILDS))
def test_the_assumed_fix_builds_to_the_same_image(build_image: ContextBuilds, tmp_path: Path, name: str) -> None:
    before = BUILDS[name]
    result = run(before, NAME, unsafe=True, path=_ctx(tmp_path))
    (finding,) = result.findings
    assert finding.fix is not None and not finding.fix.safe
    assert "unsafe: assumes the base image 'localhost/dockerfix-base' does not set ENV P" in finding.details
    assert "COPY --chown=1000:0 a " in result.output
    _, original = build_image(before, F)
    _, fixed = build_image(result.output, F)
    assert [d.text for d in compare_images(original, fixed)] == []


@pytest.mark.build
def test_a_base_env_of_the_same_name_breaks_the_assumption_on_buildah(build_image: ContextBuilds) -> None:
    """Measured: over a base image with ENV P, buildah 1.28 keeps the base's value for $P after `ARG P=default`
    (in ENV, RUN and COPY), BuildKit (Docker 26.1.5) uses the ARG default. So the assumption is needed (buildah),
    and where it fails the fixed file gives another image there, which the comparison catches."""
    base, _ = build_image("FROM localhost/dockerfix-base\nENV P=/srv/other\nRUN mkdir -p /srv/other\n", F)
    after = run(BUILD, NAME, unsafe=True).output
    shadowed = [t.replace("FROM localhost/dockerfix-base\n", f"FROM {base.tag}\n") for t in (BUILD, after)]
    _, original = build_image(shadowed[0], F)
    _, fixed = build_image(shadowed[1], F)
    diffs = [d.text for d in compare_images(original, fixed)]
    seen = original.config.env_map["P"]
    if build_image.builder.name == "buildah":
        assert seen == "/srv/other"
        assert any("/srv/kong/a" in d for d in diffs), diffs
    else:
        assert seen == "/srv/kong"
        assert diffs == []


def test_an_unknown_volume_refuses_over_a_known_base_too(tmp_path: Path) -> None:
    # Before, a VOLUME whose path was unknown was dropped, and this fix was offered as safe.
    text = "FROM localhost/dockerfix-base\nARG V\nVOLUME $V\nCOPY a /srv/a\nRUN chown -R 1:1 /srv\n"
    result = run(text, NAME, unsafe=True, path=_ctx(tmp_path), bases=table())
    assert result.output == text
    (finding,) = result.findings
    assert finding.fix is None and "the VOLUME $V has a path the Dockerfile does not give" in finding.message
