from __future__ import annotations

import itertools

import pytest

from dockerfix.refactor.errors import DockerfixError
from dockerfix.refactor.dockerfile.parse import parse

from .helpers import read, sample_dirs

# Parser edge cases written from BuildKit's rules (docs/builder-semantics.md, "Parser rules").
EDGE_CASES = {
    "continuation-comment": "FROM a\nRUN echo a \\\n# comment inside\n  b\n",
    "continuation-empty-line": "FROM a\nRUN echo a \\\n\n  b\n",
    "continuation-trailing-blanks": "FROM a\nRUN echo a \\   \n  b\n",
    "escaped-escape": "FROM a\nRUN echo a \\\\\nRUN echo b\n",
    "ends-in-continuation": "FROM a\nRUN echo a \\",
    "ends-in-continuation-newline": "FROM a\nRUN echo a \\\n",
    "no-final-newline": "FROM a\nRUN true",
    "crlf": "FROM a\r\nRUN echo a \\\r\n  b\r\n",
    "bom": "\ufeffFROM a\nRUN true\n",
    "bom-directive": "\ufeff# syntax=docker/dockerfile:1\nFROM a\n",
    "lowercase": "from a as b\nrun echo hi\ncopy . /app\n",
    "backtick": "# escape=`\nFROM a\nRUN echo a `\n  b\n",
    "backtick-keeps-backslash": "# escape=`\nFROM a\nCOPY C:\\src C:\\dst\n",
    "heredoc": "FROM a\nRUN <<EOF\necho hi\nEOF\n",
    "heredoc-dash": "FROM a\nRUN <<-EOF\n\techo hi\n\tEOF\n",
    "heredoc-quoted": "FROM a\nRUN <<'EOF'\necho $HOME\nEOF\n",
    "heredoc-two": "FROM a\nRUN <<A cat - && <<B cat -\n1\nA\n2\nB\n",
    "heredoc-copy": "FROM a\nCOPY <<EOF /etc/x\nline\nEOF\n",
    "heredoc-crlf": "FROM a\r\nRUN <<EOF\r\necho hi\r\nEOF\r\n",
    "json": 'FROM a\nCMD ["echo", "hi"]\n',
    "json-invalid": 'FROM a\nCMD ["echo", hi]\n',
    "onbuild": "FROM a\nONBUILD RUN echo hi\n",
    "onbuild-copy": "FROM a\nONBUILD COPY --chown=1:1 . /app\n",
    "flags": "FROM a\nCOPY --link --chown=1:2 --chmod=755 a /b/\n",
    "leading-whitespace": "FROM a\n    RUN true\n\t\n",
    "only-comments": "# just a comment\n\n",
    "empty": "",
    "directive-after-comment-is-comment": "# hello\n# escape=`\nFROM a\nRUN echo \\\n b\n",
    "unicode": "FROM a\nLABEL desc=\"caf\u00e9 \u2615\"\nRUN echo \u00e9\u00e8 \\\n  \u4e2d\u6587\n",
    "mixed-endings": "FROM a\r\nRUN a \\\n  b\r\nRUN c\n",
    "lone-cr": "FROM a\rRUN x\n",
    "leading-continuation": "FROM a\n\\\nRUN true\n",
}


@pytest.mark.parametrize("name", sorted(EDGE_CASES))
def test_edge_cases_round_trip(name: str) -> None:
    text = EDGE_CASES[name]
    assert parse(text).render() == text


@pytest.mark.parametrize("sample", sample_dirs(), ids=lambda p: p.name)
def test_samples_round_trip(sample) -> None:  # type: ignore[no-untyped-def]
    for f in sample.glob("Dockerfile*"):
        text = read(f)
        assert parse(text).render() == text


def test_spans_cover_instruction_text() -> None:
    text = EDGE_CASES["continuation-comment"]
    df = parse(text)
    run = df.instructions[1]
    assert run.keyword == "RUN"
    assert run.logical == "RUN echo a   b"
    assert text[run.start : run.end] == "RUN echo a \\\n# comment inside\n  b"
    # Every logical character maps back to the same character in the raw text.
    assert all(text[run.lmap[i]] == ch for i, ch in enumerate(run.logical))


def test_empty_continuation_line_does_not_end_instruction() -> None:
    df = parse(EDGE_CASES["continuation-empty-line"])
    assert [i.keyword for i in df.instructions] == ["FROM", "RUN"]
    assert df.instructions[1].args == "echo a   b"


def test_file_ending_in_continuation_keeps_last_instruction() -> None:
    df = parse(EDGE_CASES["ends-in-continuation"])
    assert [i.keyword for i in df.instructions] == ["FROM", "RUN"]
    assert df.instructions[1].args == "echo a "


def test_escaped_escape_is_not_a_continuation() -> None:
    df = parse(EDGE_CASES["escaped-escape"])
    assert [i.keyword for i in df.instructions] == ["FROM", "RUN", "RUN"]


def test_backtick_escape() -> None:
    df = parse(EDGE_CASES["backtick"])
    assert df.escape == "`"
    assert df.instructions[1].args == "echo a   b"
    df = parse(EDGE_CASES["backtick-keeps-backslash"])
    assert df.instructions[1].args == "C:\\src C:\\dst"


def test_directive_only_at_top() -> None:
    df = parse(EDGE_CASES["directive-after-comment-is-comment"])
    assert df.escape == "\\" and df.directives == []
    assert len(df.instructions) == 2


def test_heredocs() -> None:
    df = parse(EDGE_CASES["heredoc-two"])
    run = df.instructions[1]
    assert [h.name for h in run.heredocs] == ["A", "B"]
    assert [h.body for h in run.heredocs] == ["1\n", "2\n"]
    assert run.end_line == 6
    dash = parse(EDGE_CASES["heredoc-dash"]).instructions[1].heredocs[0]
    assert dash.strip_tabs and dash.name == "EOF"
    quoted = parse(EDGE_CASES["heredoc-quoted"]).instructions[1].heredocs[0]
    assert quoted.quoted and quoted.name == "EOF"
    copy = parse(EDGE_CASES["heredoc-copy"]).instructions[1]
    assert copy.heredocs[0].body == "line\n"


def test_unterminated_heredoc_is_an_error() -> None:
    with pytest.raises(DockerfixError, match="unterminated heredoc"):
        parse("FROM a\nRUN <<EOF\necho hi\n")


def test_json_form_and_fallback() -> None:
    assert parse(EDGE_CASES["json"]).instructions[1].json_args == ["echo", "hi"]
    assert parse(EDGE_CASES["json-invalid"]).instructions[1].json_args is None


def test_flags_and_onbuild() -> None:
    copy = parse(EDGE_CASES["flags"]).instructions[1]
    assert [(f.name, f.value) for f in copy.flags] == [("link", None), ("chown", "1:2"), ("chmod", "755")]
    assert copy.args == "a /b/"
    text = EDGE_CASES["flags"]
    chown = copy.flag("chown")
    assert chown is not None and text[chown.start : chown.end] == "--chown=1:2"
    ob = parse(EDGE_CASES["onbuild-copy"]).instructions[1]
    assert ob.keyword == "ONBUILD" and ob.trigger == "COPY" and ob.flag("chown") is not None


def test_bom_and_crlf_offsets() -> None:
    text = EDGE_CASES["bom"]
    ins = parse(text).instructions[0]
    assert text[ins.start : ins.end] == "FROM a"
    crlf = parse(EDGE_CASES["crlf"])
    assert crlf.newline == "\r\n"
    assert crlf.instructions[1].logical == "RUN echo a   b"


def test_directive_errors() -> None:
    with pytest.raises(DockerfixError, match="invalid escape"):
        parse("# escape=x\nFROM a\n")
    with pytest.raises(DockerfixError, match="only one"):
        parse("# escape=`\n# escape=\\\nFROM a\n")


def _combinations() -> list[str]:
    """Generated files: every pair of edge cases joined, with both line endings."""
    keys = sorted(k for k in EDGE_CASES if "directive" not in k and "bom" not in k and k != "backtick")
    out = []
    for a, b in itertools.product(keys[:12], keys[12:24]):
        out.append(EDGE_CASES[a] + "\n" + EDGE_CASES[b])
    return out


@pytest.mark.parametrize("text", _combinations())
def test_generated_round_trip_and_idempotence(text: str) -> None:
    from .helpers import fix

    try:
        df = parse(text)
        assert df.render() == text
        once = fix(text)
    except DockerfixError:
        return  # the builder rejects it too (e.g. a lone "\" in a backtick-escape file)
    assert fix(once) == once


def _dockerfile_parse_available() -> bool:
    try:
        import dockerfile_parse  # noqa: F401
    except ImportError:
        return False
    return True


@pytest.mark.skipif(not _dockerfile_parse_available(), reason="dockerfile-parse not installed")
@pytest.mark.parametrize("sample", sample_dirs(), ids=lambda p: p.name)
def test_cross_check_with_dockerfile_parse(sample, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """An independent parser agrees on instructions where it is right (files without heredocs)."""
    from dockerfile_parse import DockerfileParser

    text = read(sample / "Dockerfile")
    df = parse(text)
    if any(i.heredocs for i in df.instructions):
        return
    theirs = DockerfileParser(path=str(tmp_path / "Dockerfile"))
    theirs.content = text
    ours = [(i.keyword, i.line) for i in df.instructions]
    assert [(d["instruction"], d["startline"] + 1) for d in theirs.structure if d["instruction"] != "COMMENT"] == ours
