"""Lossless Dockerfile parser: every instruction with its exact span in the source text.

Written by hand because no library keeps what a rewriter needs: dockerfile-parse (measured on 881
files) has no heredocs, ends an instruction at an empty continuation line, drops the last
instruction when the file ends in the escape character, and gives no offsets. The rules below follow
BuildKit's frontend/dockerfile/parser (parser.go, directives.go, heredoc handling); the source text is
never rebuilt from the parse, so rendering an unmodified file is the input itself, byte for byte.

Offsets are indices into the decoded text (str); the text is UTF-8 decoded strictly, so encoding it
back gives the original bytes.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

from dockerfix.refactor.errors import DockerfixError
from dockerfix.refactor.dockerfile.words import Word, split_words

BOM = "\ufeff"
KNOWN_DIRECTIVES = ("syntax", "escape", "check")
HEREDOC_KEYWORDS = ("RUN", "COPY", "ADD")
JSON_KEYWORDS = ("RUN", "CMD", "ENTRYPOINT", "SHELL", "COPY", "ADD", "VOLUME")
KEYWORDS = frozenset(
    "ADD ARG CMD COPY ENTRYPOINT ENV EXPOSE FROM HEALTHCHECK LABEL MAINTAINER ONBUILD RUN SHELL "
    "STOPSIGNAL USER VOLUME WORKDIR".split()
)
_DIRECTIVE = re.compile(r"^#[ \t]*([a-zA-Z][a-zA-Z0-9]*)[ \t]*=[ \t]*(.+?)[ \t]*$")
_HEREDOC = re.compile(r"^(\d*)<<(-?)([^<]*)$")


@dataclass(frozen=True)
class Line:
    start: int  # offset of the first character
    end: int  # offset after the content, before "\r\n" / "\n"
    next: int  # offset of the next line


@dataclass
class Directive:
    name: str
    value: str
    line: int


@dataclass
class Flag:
    name: str
    value: str | None
    start: int  # raw span of "--name=value"
    end: int


@dataclass
class Heredoc:
    name: str
    strip_tabs: bool
    quoted: bool
    body: str  # as the builder passes it on ("\n"-terminated lines)
    body_start: int  # raw offset of the first body line
    terminator_start: int  # raw offset of the terminator line
    terminator_end: int  # after the terminator's content


@dataclass
class Instruction:
    keyword: str  # upper case; for ONBUILD the trigger's keyword is in `trigger`
    line: int  # 1-based line of the keyword
    end_line: int
    start: int  # raw offset of the keyword
    end: int  # raw offset after the last content (line ending not included)
    line_start: int  # raw offset of the start of the keyword's line
    line_next: int  # raw offset after the last line's ending
    logical: str  # continuations joined, comment and empty continuation lines dropped
    lmap: list[int]  # raw offset of each logical character, plus one past the end
    args_offset: int  # logical offset of the arguments after keyword (and flags)
    flags: list[Flag] = field(default_factory=list)
    heredocs: list[Heredoc] = field(default_factory=list)
    json_args: list[str] | None = None
    trigger: str | None = None  # ONBUILD's inner keyword

    @property
    def args(self) -> str:
        return self.logical[self.args_offset :]

    @property
    def effective_keyword(self) -> str:
        return self.trigger or self.keyword

    def raw(self, lstart: int) -> int:
        """Raw offset of a logical offset (the end maps to just after the last character)."""
        if lstart >= len(self.lmap) - 1:
            return self.lmap[-1]
        return self.lmap[lstart]

    def raw_end(self, lend: int) -> int:
        """Raw offset just after the logical character before `lend`."""
        if lend <= 0:
            return self.lmap[0]
        return self.lmap[lend - 1] + 1

    def contiguous(self, lstart: int, lend: int) -> bool:
        """True when a logical range is written on one stretch of raw text (no continuation inside)."""
        return self.raw_end(lend) - self.raw(lstart) == lend - lstart

    def flag(self, name: str) -> Flag | None:
        for f in self.flags:
            if f.name == name:
                return f
        return None

    def arg_words(self) -> list[Word]:
        """Argument words with offsets relative to the logical line."""
        return [Word(w.raw, w.start + self.args_offset, w.end + self.args_offset) for w in split_words(self.args)]


@dataclass
class Dockerfile:
    text: str
    lines: list[Line]
    directives: list[Directive]
    escape: str
    instructions: list[Instruction]
    newline: str  # the file's own line ending, for inserted lines

    def render(self) -> str:
        return self.text


def decode(data: bytes) -> str:
    if b"\x00" in data:
        raise DockerfixError("binary file (contains NUL bytes), not a Dockerfile")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise DockerfixError(f"not UTF-8 text (byte {exc.start}: {data[exc.start:exc.start + 1]!r})") from None


def split_lines(text: str) -> list[Line]:
    # The builder's scanner splits on "\n" only; a lone "\r" stays inside the line.
    lines: list[Line] = []
    pos, n = 0, len(text)
    while pos < n:
        nl = text.find("\n", pos)
        nxt = n if nl < 0 else nl + 1
        end = n if nl < 0 else nl
        while end > pos and text[end - 1] == "\r":
            end -= 1
        lines.append(Line(pos, end, nxt))
        pos = nxt
    return lines


def _continuation(escape: str) -> re.Pattern[str]:
    e = re.escape(escape)
    return re.compile(rf"([^{e}]){e}[ \t]*$|^{e}[ \t]*$")


def _is_comment(content: str) -> bool:
    return content.lstrip().startswith("#")


def parse(text: str) -> Dockerfile:
    lines = split_lines(text)
    contents = [text[ln.start : ln.end] for ln in lines]
    first = 0
    if contents and contents[0].startswith(BOM):
        contents[0] = contents[0][1:]
        first = 1  # offsets of line 0 are shifted by the BOM
    directives, escape, i = _directives(contents)
    cont = _continuation(escape)
    newline = "\r\n" if lines and text[lines[0].end : lines[0].next] == "\r\n" else "\n"
    instructions: list[Instruction] = []
    n = len(lines)
    while i < n:
        content = contents[i]
        base = lines[i].start + (first if i == 0 else 0)
        stripped = content.lstrip()
        if not stripped or stripped.startswith("#"):
            i += 1
            continue
        lead = len(content) - len(stripped)
        start_line = i
        pieces: list[tuple[str, int]] = []  # (text, raw offset of its first char)
        piece, ended = _trim(stripped, cont)
        pieces.append((piece, base + lead))
        i += 1
        while not ended and i < n:
            c = contents[i]
            if _is_comment(c) or not c.strip():
                i += 1
                continue
            piece, ended = _trim(c, cont)
            pieces.append((piece, lines[i].start))
            i += 1
        logical = "".join(p for p, _ in pieces)
        lmap: list[int] = []
        for p, off in pieces:
            lmap.extend(range(off, off + len(p)))
        if not logical.strip():
            continue
        # A leading continuation (a line that is only "\") leaves blanks before the keyword.
        skip = len(logical) - len(logical.lstrip())
        logical, lmap = logical[skip:], lmap[skip:]
        lmap.append(lmap[-1] + 1)
        last = i - 1
        ins = _instruction(logical, lmap, start_line + 1, escape)
        ins.line_start = lines[start_line].start
        ins.end = lmap[-1]
        if ins.effective_keyword in HEREDOC_KEYWORDS and ins.json_args is None and "<<" in ins.args:
            i, last = _read_heredocs(ins, text, lines, contents, i, escape)
        ins.end_line = last + 1
        ins.line_next = lines[last].next
        if ins.heredocs:
            ins.end = ins.heredocs[-1].terminator_end
        instructions.append(ins)
    return Dockerfile(text, lines, directives, escape, instructions, newline)


def _directives(contents: list[str]) -> tuple[list[Directive], str, int]:
    directives: list[Directive] = []
    escape = "\\"
    i = 0
    while i < len(contents):
        m = _DIRECTIVE.match(contents[i])
        if not m or m.group(1).lower() not in KNOWN_DIRECTIVES:
            break
        name, value = m.group(1).lower(), m.group(2)
        if any(d.name == name for d in directives):
            raise DockerfixError(f"only one {name} parser directive can be used", i + 1)
        if name == "escape":
            if value not in ("\\", "`"):
                raise DockerfixError(f"invalid escape token {value!r}: must be \\ or `", i + 1)
            escape = value
        directives.append(Directive(name, value, i + 1))
        i += 1
    return directives, escape, i


def _trim(content: str, cont: re.Pattern[str]) -> tuple[str, bool]:
    m = cont.search(content)
    if not m:
        return content, True
    return content[: m.start()] + (m.group(1) or ""), False


def _instruction(logical: str, lmap: list[int], line: int, escape: str) -> Instruction:
    kw_end = 0
    while kw_end < len(logical) and not logical[kw_end].isspace():
        kw_end += 1
    keyword = logical[:kw_end].upper()
    ins = Instruction(
        keyword=keyword, line=line, end_line=line, start=lmap[0], end=lmap[-1], line_start=0, line_next=0,
        logical=logical, lmap=lmap, args_offset=kw_end,
    )
    offset = kw_end
    if keyword == "ONBUILD":
        rest = logical[kw_end:]
        words = split_words(rest, escape)
        if words:
            ins.trigger = words[0].raw.upper()
            offset = kw_end + words[0].end
    ins.args_offset = _flags(ins, offset, escape)
    kw = ins.effective_keyword
    if kw in JSON_KEYWORDS:
        ins.json_args = _json_form(ins.args)
    return ins


def _flags(ins: Instruction, offset: int, escape: str) -> int:
    """Read leading --name[=value] flags; return the logical offset where the arguments start."""
    rest = ins.logical[offset:]
    args_at = offset + (len(rest) - len(rest.lstrip()))
    if not rest.lstrip().startswith("--"):
        return args_at
    for w in split_words(rest, escape):
        if not w.raw.startswith("--") or w.raw == "--":
            break
        name, eq, value = w.raw[2:].partition("=")
        ins.flags.append(Flag(name.lower(), value if eq else None, ins.raw(offset + w.start), ins.raw_end(offset + w.end)))
        args_at = offset + w.end
        tail = ins.logical[args_at:]
        args_at += len(tail) - len(tail.lstrip())
    return args_at


def _json_form(args: str) -> list[str] | None:
    s = args.strip()
    if not s.startswith("["):
        return None
    try:
        value = json.loads(s)
    except ValueError:
        return None  # the builder falls back to shell form
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return value
    return None


def _read_heredocs(
    ins: Instruction, text: str, lines: list[Line], contents: list[str], i: int, escape: str
) -> tuple[int, int]:
    last = i - 1
    for w in split_words(ins.args, escape):
        m = _HEREDOC.match(w.raw)
        if not m or not m.group(3):
            continue
        spec = m.group(3)
        quoted = any(q in spec for q in "'\"")
        name = spec.replace("'", "").replace('"', "")
        if not name or any(ch.isspace() for ch in name):
            continue
        strip_tabs = m.group(2) == "-"
        body: list[str] = []
        body_start = lines[i].start if i < len(lines) else len(text)
        while True:
            if i >= len(lines):
                raise DockerfixError(f"unterminated heredoc <<{name} (no line {name!r} before the end of the file)", ins.line)
            c = contents[i]
            candidate = c.lstrip("\t") if strip_tabs else c
            if candidate == name:
                ins.heredocs.append(Heredoc(name, strip_tabs, quoted, "".join(body), body_start, lines[i].start, lines[i].end))
                last = i
                i += 1
                break
            body.append(c + "\n")
            i += 1
    return i, last
