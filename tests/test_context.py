"""refactor/context.py: the build context as the builder sees it (.dockerignore, COPY globs, where COPY puts files).

The expected answers follow moby/patternmatcher (the .dockerignore matcher BuildKit and the classic builder
use) and Go's filepath.Match (COPY source wildcards), not gitignore or fnmatch.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from dockerfix.refactor.context import buildcontext as context
from dockerfix.refactor.context.buildcontext import ContextError, CopyMap, Source, copy_map, is_remote, read_ignore
from dockerfix.refactor.errors import DockerfixError


def make(root: Path, files: dict[str, str | bytes]) -> Path:
    for rel, content in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            p.write_bytes(content)
        else:
            p.write_text(content)
    return root


# ------------------------------------------------------------------------------------------- .dockerignore

# (pattern file, paths it excludes, paths it leaves in the context)
IGNORE: dict[str, tuple[str, list[str], list[str]]] = {
    "root-anchored": ("*.pyc\n", ["a.pyc"], ["pkg/a.pyc"]),
    "leading-slash-dropped": ("/build\n", ["build", "build/x"], ["src/build"]),
    "slash-alone-matches-nothing": ("/\n", [], ["a", "b/c"]),
    "cleaned-like-filepath.Clean": ("./docs/../build/\n", ["build/x"], ["docs/x"]),
    "question-mark-one-char-not-slash": ("a?c\n", ["abc", "a.c"], ["ac", "a/c", "abbc"]),
    "star-stops-at-slash": ("src/*.py\n", ["src/a.py"], ["src/sub/a.py"]),
    "double-star-any-depth": ("**/secret\n", ["secret", "a/b/secret", "a/secret/key"], ["topsecret", "a/topsecret"]),
    "double-star-in-the-middle": ("docs/**/*.md\n", ["docs/a.md", "docs/a/b/c.md"], ["x/docs/a.md"]),
    "double-star-at-the-end": ("logs/**\n", ["logs/a", "logs/a/b"], ["logsx"]),
    "double-star-alone": ("**\n", ["a", "a/b/c"], []),
    "double-star-without-slash-is-a-suffix": ("**secret\n", ["topsecret", "a/topsecret"], ["secretx"]),
    "escaped-star-is-literal": ("a\\*b\n", ["a*b"], ["axb"]),
    "character-class": ("[ab].txt\n", ["a.txt", "b.txt"], ["c.txt"]),
    "caret-negates-a-class": ("[^a].txt\n", ["b.txt"], ["a.txt"]),
    # Go's regexp and filepath.Match negate a class with `^` only: `[!a]` is the set {!, a}.
    "bang-in-a-class-is-literal": ("[!a].txt\n", ["!.txt", "a.txt"], ["b.txt"]),
    "regex-characters-are-literal": ("a.b+(c)\n", ["a.b+(c)"], ["axb+(c)", "a.bb(c)"]),
    "directory-pattern-covers-everything-below": ("node_modules\n", ["node_modules", "node_modules/x/y.js"],
                                                  ["src/node_modules"]),
    "exception-re-includes": ("node_modules\n!node_modules/keep\n", ["node_modules/x"], ["node_modules/keep/z"]),
    "last-match-wins": ("!a.txt\n*.txt\n", ["a.txt"], []),
    "exception-with-spaces-and-slash": ("*.md\n!  /README.md\n", ["a.md"], ["README.md"]),
    "comment-only-at-line-start": ("# a.txt\n #b.txt\n", ["#b.txt"], ["a.txt", "# a.txt"]),
    "blank-and-whitespace-lines": ("\n   \n\tb.txt  \n", ["b.txt"], ["a.txt"]),
    "bom-on-the-first-line-only": ("\ufeffa.txt\n\ufeffb.txt\n", ["a.txt", "\ufeffb.txt"], ["b.txt"]),
    "crlf": ("a.txt\r\nb.txt\r\n", ["a.txt", "b.txt"], ["c.txt"]),
}


@pytest.mark.parametrize("name", sorted(IGNORE))
def test_ignore_patterns(name: str) -> None:
    text, excluded, kept = IGNORE[name]
    spec = read_ignore(text)
    assert [p for p in excluded if not spec.match_file(p)] == []
    assert [p for p in kept if spec.match_file(p)] == []


@pytest.mark.parametrize("text", ["a[]b\n", "x[b\n", "[z-a]\n", "!\n", "a\n!  \n"])
def test_patterns_the_builder_rejects_are_an_error(text: str) -> None:
    # BuildKit fails the build on these (an empty or unterminated class, a bad range, a bare `!`), so
    # dockerfix reports the file instead of guessing (before, `a[]b` was an internal error).
    with pytest.raises(DockerfixError, match="the builder rejects it"):
        read_ignore(text, "api.dockerignore")


def test_rejected_pattern_names_the_file(tmp_path: Path) -> None:
    make(tmp_path, {".dockerignore": "ok\nbad[\n"})
    with pytest.raises(DockerfixError, match=r"^\.dockerignore: .*'bad\['"):
        context.load(tmp_path, tmp_path / "Dockerfile")


def test_load_prefers_the_dockerfile_specific_ignore_file(tmp_path: Path) -> None:
    make(tmp_path, {"a.txt": "", "b.txt": "", ".dockerignore": "a.txt\n", "docker/api.Dockerfile.dockerignore": "b.txt\n"})
    api = context.load(tmp_path, tmp_path / "docker" / "api.Dockerfile")
    assert api.ignore_file == "api.Dockerfile.dockerignore"
    assert api.has("a.txt") and not api.has("b.txt")
    plain = context.load(tmp_path, tmp_path / "Dockerfile")
    assert plain.ignore_file == ".dockerignore"
    assert not plain.has("a.txt") and plain.has("b.txt")
    assert context.load(tmp_path).ignore_file == ".dockerignore"  # no Dockerfile: only the root file


def test_load_skips_an_unreadable_ignore_file(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile.dockerignore").mkdir()  # a directory: not a file to read
    make(tmp_path, {"a.txt": ""})
    ctx = context.load(tmp_path, tmp_path / "Dockerfile")
    assert ctx.ignore is None and ctx.ignore_file is None
    assert ctx.has("a.txt")


def test_ignore_file_that_is_not_utf8_still_applies(tmp_path: Path) -> None:
    # The builder reads the patterns as bytes: a Latin-1 comment does not disable the file (before, the whole
    # file was skipped and secret.txt counted as part of the context).
    make(tmp_path, {".dockerignore": b"# caf\xe9\nsecret.txt\ncaf\xe9.txt\n", "secret.txt": "", "a.txt": "",
                    "caf\xe9.txt".encode("latin-1").decode("utf-8", "surrogateescape"): ""})
    ctx = context.load(tmp_path)
    assert ctx.ignore_file == ".dockerignore"
    assert not ctx.has("secret.txt") and ctx.has("a.txt")
    assert ctx.glob("caf*") == []  # the Latin-1 name is excluded byte for byte


def test_exceptions_flag(tmp_path: Path) -> None:
    make(tmp_path, {".dockerignore": "vendor\n"})
    assert context.load(tmp_path).exceptions is False
    make(tmp_path, {".dockerignore": "vendor\n!vendor/keep\n"})
    assert context.load(tmp_path).exceptions is True


# --------------------------------------------------------------------------------------------- Context


def test_kind_of_paths(tmp_path: Path) -> None:
    make(tmp_path, {"f.txt": "x", "d/g.txt": "", ".dockerignore": "d/g.txt\nskip\n", "skip/h.txt": ""})
    os.symlink("f.txt", tmp_path / "link")
    ctx = context.load(tmp_path)
    assert ctx.kind("") == "dir" and ctx.kind("d") == "dir" and ctx.kind("f.txt") == "file"
    assert ctx.kind("link") == "link"
    assert ctx.kind("d/g.txt") is None  # excluded
    assert ctx.kind("skip") is None  # an excluded directory without exceptions sends nothing
    assert ctx.kind("missing") is None
    assert ctx.kind("/etc/passwd") is None and ctx.kind("..") is None and ctx.kind("../x") is None
    assert ctx.kind("x" * 300) is None  # the OS refuses the name (ENAMETOOLONG)


def test_excluded_directory_with_exceptions(tmp_path: Path) -> None:
    make(tmp_path, {"vendor/a.txt": "", "vendor/keep/b.txt": "b", "other/c.txt": "",
                    ".dockerignore": "vendor\nother\n!vendor/keep\n"})
    ctx = context.load(tmp_path)
    assert ctx.kind("vendor") == "dir" and ctx.read("vendor/keep/b.txt") == "b" and ctx.read("vendor/a.txt") is None
    assert ctx.kind("other") is None  # nothing below it is re-included
    # Too many entries to look at: assume something is sent.
    assert ctx._any_included_below("other", limit=0) is True
    assert ctx._any_included_below("/abs") is False


def test_linked_and_read(tmp_path: Path) -> None:
    make(tmp_path, {"real/r.txt": "flask\n", "latin1.txt": b"caf\xe9\n", "ok.txt": "ok\n"})
    os.symlink("real", tmp_path / "alias")
    os.symlink("ok.txt", tmp_path / "okl")
    ctx = context.load(tmp_path)
    assert ctx.linked("alias/r.txt") and ctx.linked("okl") and not ctx.linked("real/r.txt")
    assert ctx.read("alias/r.txt") is None  # COPY would copy the link, not the file
    assert ctx.read("okl") is None
    assert ctx.read("real/r.txt") == "flask\n"
    assert ctx.read("latin1.txt") is None  # not UTF-8
    assert ctx.read("missing.txt") is None
    (tmp_path / "real" / "r.txt").write_text("other\n")
    assert ctx.read("real/r.txt") == "flask\n"  # read once per analysis: every question sees the same text


def test_glob(tmp_path: Path) -> None:
    make(tmp_path, {"a.txt": "", "b.txt": "", "!.txt": "", "c.md": "", "src/x/m.py": "", "src/y/m.py": "",
                    "src/y/n.py": "", "req-dev.txt": "", ".dockerignore": "b.txt\n"})
    ctx = context.load(tmp_path)
    assert ctx.glob("*.txt") == ["!.txt", "a.txt", "req-dev.txt"]  # the excluded b.txt is not sent
    assert ctx.glob("./src/*/m.py") == ["src/x/m.py", "src/y/m.py"]
    assert ctx.glob("src/y/*.py") == ["src/y/m.py", "src/y/n.py"]
    assert ctx.glob("[!a].txt") == ["!.txt", "a.txt"]  # filepath.Match: `!` is not a negation
    assert ctx.glob("[^a].txt") == ["!.txt"]
    assert ctx.glob("req-???.txt") == ["req-dev.txt"]
    assert ctx.glob("nothere/*.py") == []
    assert ctx.glob("a.txt/*") == []  # a file is not a directory to list
    assert ctx.glob("src/[]") == []  # a malformed class matches nothing (the builder fails on it)


def test_files_and_size(tmp_path: Path) -> None:
    make(tmp_path, {"app/a.py": "12345", "app/sub/b.py": "123", "app/skip.log": "1", "req.txt": "12",
                    ".dockerignore": "**/*.log\n"})
    os.symlink("a.py", tmp_path / "app" / "alias.py")
    ctx = context.load(tmp_path)
    assert ctx.files("app") == ["app/a.py", "app/sub/b.py"]  # no symlink, nothing excluded
    assert ctx.files("./app/") == ["app/a.py", "app/sub/b.py"]
    assert ctx.files("req.txt") == ["req.txt"]
    assert ctx.files("*.txt") == ["req.txt"]
    assert ctx.files("app/skip.log") == []
    assert ctx.files(".") == [".dockerignore", "app/a.py", "app/sub/b.py", "req.txt"]
    assert ctx.files("/") == ctx.files(".")
    for unknowable in ("https://example.com/x.tgz", "git@github.com:a/b.git", "<<EOF", "$SRC"):
        assert ctx.files(unknowable) is None
        assert ctx.size(unknowable) is None
    assert ctx.size("app") == 8
    assert ctx.size("missing") == 0


# -------------------------------------------------------------------------------------------- copy_map


def test_is_remote() -> None:
    assert is_remote("https://x/y") and is_remote("git@github.com:a/b.git")
    assert not is_remote("src/x") and not is_remote("./a:b")


def test_copy_map_file_and_directory_sources(tmp_path: Path) -> None:
    make(tmp_path, {"requirements.txt": "", "src/a.py": ""})
    ctx = context.load(tmp_path)
    single = copy_map(["requirements.txt"], "/app/req.txt", False, ctx, add=False)
    # `COPY file /dest`: a file at /dest, or /dest/file when /dest is already a directory.
    assert single.sources == [Source("requirements.txt", "file", "/app/req.txt", "/app/req.txt/requirements.txt")]
    into_dir = copy_map(["requirements.txt"], "/app", True, ctx, add=False)
    assert into_dir.sources == [Source("requirements.txt", "file", "/app/requirements.txt")]
    tree = copy_map(["./src/", "requirements.txt"], "/app", True, ctx, add=False)
    assert tree.sources == [Source("src", "dir", "/app"), Source("requirements.txt", "file", "/app/requirements.txt")]
    root = copy_map(["."], "/srv", True, ctx, add=False)
    assert root.sources == [Source("", "dir", "/srv")]


def test_copy_map_globs(tmp_path: Path) -> None:
    make(tmp_path, {"req-a.txt": "", "req-b.txt": "", "only.cfg": ""})
    ctx = context.load(tmp_path)
    many = copy_map(["req-*.txt"], "/app/", True, ctx, add=False)
    assert [s.target for s in many.sources] == ["/app/req-a.txt", "/app/req-b.txt"]
    # A wildcard that matches one file, to a destination without a slash: the file is written there.
    one = copy_map(["*.cfg"], "/etc/app.cfg", False, ctx, add=False)
    assert one.sources == [Source("only.cfg", "file", "/etc/app.cfg", "/etc/app.cfg/only.cfg")]
    # Several matches make the destination a directory even without a trailing slash.
    assert [s.target for s in copy_map(["req-*"], "/d", False, ctx, add=False).sources] == ["/d/req-a.txt",
                                                                                           "/d/req-b.txt"]


@pytest.mark.parametrize("sources,add,ignore,message", [
    (["https://example.com/a.tgz"], True, "", "fetched from the network"),
    (["../outside"], False, "", "points outside the build context"),
    (["*.none"], False, "", "no file in the build context matches *.none"),
    (["missing.txt"], False, "", "missing.txt is not in the build context"),
    (["secret.txt"], False, "secret.txt\n", "(or .dockerignore excludes it)"),
    (["vendor.tar.gz"], True, "", "ADD extracts the archive vendor.tar.gz"),
])
def test_copy_map_refusals(tmp_path: Path, sources: list[str], add: bool, ignore: str, message: str) -> None:
    make(tmp_path, {"secret.txt": "", "vendor.tar.gz": "", **({".dockerignore": ignore} if ignore else {})})
    with pytest.raises(ContextError) as exc:
        copy_map(sources, "/app/", True, context.load(tmp_path), add=add)
    assert message in str(exc.value)
    if not ignore:
        assert "excludes" not in str(exc.value)


def test_copy_of_an_archive_is_a_plain_copy(tmp_path: Path) -> None:
    make(tmp_path, {"vendor.tar.gz": ""})
    cm = copy_map(["vendor.tar.gz"], "/opt/", True, context.load(tmp_path), add=False)
    assert cm.sources == [Source("vendor.tar.gz", "file", "/opt/vendor.tar.gz")]


def test_locate_later_sources_win(tmp_path: Path) -> None:
    make(tmp_path, {"conf/prod.txt": "", "src/a.py": "", "src/x/y.py": "", "r.txt": ""})
    ctx = context.load(tmp_path)
    cm = CopyMap("/app", [Source("", "dir", "/app"), Source("conf/prod.txt", "file", "/app/settings.txt")])
    assert cm.locate("/app/settings.txt", ctx) == "conf/prod.txt"
    assert cm.locate("/app/src/a.py", ctx) == "src/a.py"
    assert cm.locate("/app", ctx) == ""
    assert cm.locate("/other", ctx) is None
    assert cm.locate("/app/missing.txt", ctx) is None  # the context has no missing.txt
    sub = CopyMap("/app", [Source("src", "dir", "/app/code")])
    assert sub.locate("/app/code", ctx) == "src" and sub.locate("/app/code/x/y.py", ctx) == "src/x/y.py"
    alt = CopyMap("/app", [Source("r.txt", "file", "/app", "/app/r.txt")])
    assert alt.locate("/app", ctx) == "r.txt" and alt.locate("/app/r.txt", ctx) == "r.txt"


def test_locate_falls_back_to_an_earlier_source_when_a_directory_lacks_the_path(tmp_path: Path) -> None:
    """`COPY requirements.txt src ./`: src/ holds no requirements.txt, so the file source provides it."""
    make(tmp_path, {"requirements.txt": "flask\n", "src/main.py": "", "src/app.txt": ""})
    ctx = context.load(tmp_path)
    cm = copy_map(["requirements.txt", "src"], "/app/", True, ctx, add=False)
    assert cm.locate("/app/requirements.txt", ctx) == "requirements.txt"
    assert cm.locate("/app/main.py", ctx) == "src/main.py"
    (tmp_path / "src" / "requirements.txt").write_text("other\n")
    assert cm.locate("/app/requirements.txt", context.load(tmp_path)) == "src/requirements.txt"
    # An excluded file is not sent: the earlier source still wins.
    (tmp_path / ".dockerignore").write_text("src/requirements.txt\n")
    assert cm.locate("/app/requirements.txt", context.load(tmp_path)) == "requirements.txt"


def test_writes(tmp_path: Path) -> None:
    make(tmp_path, {"src/node_modules/x.js": "", "src/a.py": ""})
    ctx = context.load(tmp_path)
    tree = CopyMap("/app", [Source("src", "dir", "/app")])
    assert tree.writes("/app/node_modules", ctx)  # the context has src/node_modules
    assert not tree.writes("/app/.venv", ctx)
    assert tree.writes("/", ctx)  # it creates /app
    one = CopyMap("/app/cfg/x.ini", [Source("x.ini", "file", "/app/cfg/x.ini", "/app/cfg/x.ini/x.ini")])
    assert one.writes("/app", ctx) and one.writes("/app/cfg/x.ini", ctx)
    assert not one.writes("/app/other", ctx)
    root = CopyMap("/", [Source("", "dir", "/")])
    assert root.writes("/src/a.py", ctx) and not root.writes("/etc", ctx)
