"""The builder's word rules and the resolver, checked against the Dockerfile reference's examples."""

from __future__ import annotations

import pytest

from dockerfix.refactor.dockerfile.parse import parse
from dockerfix.refactor.dockerfile.resolve import UNKNOWN, is_under, join, resolve
from dockerfix.refactor.dockerfile.words import Unknown, expand, split_words

ENV = {"A": "a", "EMPTY": "", "P": "/data", "U": None}


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("plain", "plain"),
        ("$A", "a"),
        ("${A}", "a"),
        ("${A}/x", "a/x"),
        ("'$A'", "$A"),
        ('"$A b"', "a b"),
        ('"\\$A"', "$A"),
        ('"a\\b"', "a\\b"),
        ("\\$A", "$A"),
        ("${EMPTY:-d}", "d"),
        ("${EMPTY-d}", ""),
        ("${A:-d}", "a"),
        ("${A:+set}", "set"),
        ("${EMPTY:+set}", ""),
        ("${EMPTY+set}", "set"),
        ("${P:-/x}/sub", "/data/sub"),
        ("$", "$"),
        ("a$", "a$"),
        ("$-", "$-"),
    ],
)
def test_expand(raw: str, expected: str) -> None:
    assert expand(raw, ENV) == expected


@pytest.mark.parametrize("raw", ["$U", "${U}", "${U:-d}", "$MISSING", "${A:?err}", "${A", "${}", "${1abc}"])
def test_unknown(raw: str) -> None:
    with pytest.raises(Unknown):
        expand(raw, ENV)


def test_backtick_escape_in_words() -> None:
    assert expand("C:\\dir", {}, escape="`") == "C:\\dir"
    assert [w.raw for w in split_words("a `\"b c`\" d", escape="`")] == ["a", '`"b', 'c`"', "d"]
    assert [w.raw for w in split_words('x "a b" \'c d\' e\\ f')] == ["x", '"a b"', "'c d'", "e\\ f"]


def test_resolve_stages_args_env_workdir_user() -> None:
    df = parse(
        "ARG BASE=img\nARG HOME_DIR=/srv\nFROM $BASE AS one\nARG HOME_DIR\nENV APP=$HOME_DIR/app X=1\n"
        "WORKDIR $APP\nWORKDIR sub\nUSER app\nVOLUME [\"/v\"]\nSHELL [\"/bin/bash\", \"-c\"]\nRUN true\n"
        "FROM one\nRUN true\nFROM other\nARG Y\nUSER $Y\nENV Z y\nRUN true\n"
    )
    r = resolve(df, lambda ref: {} if ref == "img" else None)
    assert [(s.name, s.base, s.parent) for s in r.stages] == [("one", "img", None), (None, "one", 0), (None, "other", None)]
    st = r.states[10]  # before the first stage's RUN
    assert st.env["APP"] == "/srv/app" and st.workdir == "/srv/app/sub" and st.user == "app"
    assert st.volumes == ("/v",) and st.shell == ["/bin/bash", "-c"] and st.runs_as_root is False
    inherited = r.states[12]  # FROM one: inherits the stage's state
    assert inherited.workdir == "/srv/app/sub" and inherited.env["X"] == "1"
    last = r.states[-1]
    assert last.workdir is None and last.user == UNKNOWN and last.env["Z"] == "y" and last.env["Y"] is None
    assert last.runs_as_root is None and not last.root_or_base_default


def test_arg_values_do_not_cross_from_into_a_child_stage() -> None:
    # F5: only ENV is part of the image; the child stage sees no ARG of its parent.
    r = resolve(parse("FROM a AS base\nARG D=/srv/app\nENV E=/e\nFROM base\nRUN true\n"), lambda ref: {})
    assert r.states[2].env["D"] == "/srv/app"
    child = r.states[-1].env
    assert "D" not in child and child["E"] == "/e"


def test_arg_default_is_unknown_when_the_base_env_may_set_it() -> None:
    # F6: the base image's ENV wins over an ARG of the same name.
    text = "FROM ext\nARG APP_DIR=/srv/app\nRUN true\n"
    assert resolve(parse(text)).states[-1].env["APP_DIR"] is None  # the base image is unknown
    assert resolve(parse(text), lambda ref: {"PATH": "/bin"}).states[-1].env["APP_DIR"] == "/srv/app"
    assert resolve(parse(text), lambda ref: {"APP_DIR": "/opt/app"}).states[-1].env["APP_DIR"] == "/opt/app"


def test_env_wins_over_arg_of_the_same_name() -> None:
    r = resolve(parse("FROM a\nENV V=env\nARG V=arg\nRUN true\n"))
    assert r.states[-1].env["V"] == "env"


def test_paths() -> None:
    assert join("/a", "b/../c") == "/a/c" and join(None, "rel") is None and join(None, "/abs") == "/abs"
    assert join("/", "//x") == "/x"
    assert is_under("/data/x", "/data") and is_under("/data", "/data") and not is_under("/database", "/data")
    assert is_under("/anything", "/")
