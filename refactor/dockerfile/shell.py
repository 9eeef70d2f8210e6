"""Shell analysis of RUN bodies with tree-sitter-bash.

The builder hands the logical line (continuations joined, comment lines dropped) to `/bin/sh -c`,
so that is what is parsed here, never the raw text: bash would read a comment line inside a
continuation differently from the builder. Offsets are characters of the parsed script; callers map
them back to raw offsets. A tree with errors is reported as not ok and must not be rewritten.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache

from dockerfix.refactor.dockerfile.words import Unknown, expand

POSIX_SHEBANGS = ("#!/bin/sh", "#!/bin/bash", "#!/usr/bin/env sh", "#!/usr/bin/env bash", "#!/bin/ash", "#!/bin/dash")


@dataclass(frozen=True)
class SWord:
    raw: str
    start: int
    end: int


@dataclass
class Command:
    words: list[SWord]  # command name first
    start: int
    end: int
    top: bool  # a member of the script's top-level list
    connector: str | None  # the operator before it in the top-level list (";" also for a newline)
    redirected: bool = False
    assignments: list[str] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.words[0].raw if self.words else ""

    @property
    def args(self) -> list[SWord]:
        return self.words[1:]


@dataclass(frozen=True)
class Item:
    """A member of the script's top-level list: a simple command, a pipeline, or anything else (a subshell, `if`,
    a redirected compound), with the operator before it, so a `||` next to a compound is not lost."""

    start: int
    connector: str | None
    kind: str  # "command", "pipeline" (simple commands only, not negated, not redirected) or "other"
    parts: tuple[int, ...] = ()  # a pipeline's commands, by their start offsets


@dataclass
class Script:
    text: str
    ok: bool
    commands: list[Command]  # every simple command, nested ones included, in source order
    simple: bool  # the whole script is simple commands joined by &&, ; or newlines
    end: int  # offset just after the last top-level item (a trailing comment is not included)
    assigned: frozenset[str] = frozenset()  # variables the script itself sets: their values are unknown
    items: tuple[Item, ...] = ()  # the top-level list, compounds included

    @property
    def top(self) -> list[Command]:
        return [c for c in self.commands if c.top]

    @property
    def errexit(self) -> bool:
        """True when a failing command stops the script: all joined by &&, or `set -e` first."""
        top = self.top
        if not top:
            return False
        if all(c.connector in (None, "&&") for c in top):
            return True
        first = top[0]
        return first.name == "set" and any(w.raw.startswith("-") and "e" in w.raw for w in first.args)


@lru_cache(maxsize=1)
def _parser():  # type: ignore[no-untyped-def]
    # Imported lazily: tree-sitter costs start-up time that `--version` and most files never need.
    import tree_sitter_bash
    from tree_sitter import Language, Parser

    return Parser(Language(tree_sitter_bash.language()))


def analyse(text: str) -> Script:
    data = text.encode("utf-8")
    tree = _parser().parse(data)
    root = tree.root_node
    to_char = _offset_map(text, data)
    commands: list[Command] = []
    simple = True
    end = 0
    connector: str | None = None
    seen_top: set[int] = set()
    items: list[Item] = []
    last = 0

    def add_top(node, conn: str | None, redirected: bool = False) -> None:  # type: ignore[no-untyped-def]
        nonlocal simple
        if node.type == "list":
            kids = node.children
            add_top(kids[0], conn, redirected)
            op = kids[1].type if len(kids) > 1 else None
            if op not in ("&&", "||"):
                simple = False
            if op == "||":
                simple = False
            for k in kids[2:]:
                add_top(k, op, redirected)
            return
        if node.type == "redirected_statement":
            body = node.child_by_field_name("body")
            if body is None:
                simple = False
                items.append(Item(to_char(node.start_byte), conn, "other"))
                return
            add_top(body, conn, True)
            return
        if node.type == "command":
            cmd = _command(node, to_char, top=True, connector=conn)
            cmd.redirected = redirected
            commands.append(cmd)
            seen_top.add(node.id)
            items.append(Item(cmd.start, conn, "command"))
        else:
            simple = False
            kids = [k for k in node.children if k.type not in ("|", "|&")]
            plain = node.type == "pipeline" and not redirected and all(k.type == "command" for k in kids)
            items.append(Item(to_char(node.start_byte), conn, "pipeline" if plain else "other",
                              tuple(to_char(k.start_byte) for k in kids) if plain else ()))

    for child in root.children:
        if child.type in ("comment",):
            continue
        if child.type in (";", "\n", "&"):
            connector = ";"
            if child.type == "&":
                simple = False
                # A list run in the background: its commands may not have run, or not succeeded, at the end.
                items[last:] = [Item(it.start, it.connector, "other") for it in items[last:]]
            continue
        last = len(items)
        add_top(child, connector)
        connector = ";"
        end = to_char(child.end_byte)
    # Every simple command anywhere, for the analysis of what a step writes.
    stack = [root]
    nested: list[Command] = []
    assigned: set[str] = set()
    while stack:
        node = stack.pop()
        if node.type == "command" and node.id not in seen_top:
            nested.append(_command(node, to_char, top=False, connector=None))
        elif node.type in ("variable_assignment", "for_statement"):
            name = node.child_by_field_name("name") or node.child_by_field_name("variable")
            if name is not None:
                assigned.add(name.text.decode("utf-8", "replace"))
        stack.extend(reversed(node.children))
    commands = sorted(commands + nested, key=lambda c: c.start)
    for c in commands:
        # `read X`, `unset X` and friends set variables without an assignment node.
        if c.name in ("read", "unset", "getopts", "mapfile", "readarray", "export", "declare", "local", "typeset"):
            assigned.update(w.raw.split("=", 1)[0] for w in c.args if not w.raw.startswith("-"))
    ok = not root.has_error
    return Script(text, ok, commands, simple and ok, end, frozenset(assigned), tuple(items))


def _command(node, to_char, top: bool, connector: str | None) -> Command:  # type: ignore[no-untyped-def]
    words: list[SWord] = []
    assignments: list[str] = []
    for child in node.children:
        if child.type == "variable_assignment":
            assignments.append(child.text.decode("utf-8", "replace"))
            continue
        if child.type in ("file_redirect", "heredoc_redirect", "herestring_redirect"):
            continue
        if child.type == "command_name":
            child = child.children[0] if child.children else child
        s, e = to_char(child.start_byte), to_char(child.end_byte)
        words.append(SWord(child.text.decode("utf-8", "replace"), s, e))
    return Command(words, to_char(node.start_byte), to_char(node.end_byte), top, connector, assignments=assignments)


def _offset_map(text: str, data: bytes):  # type: ignore[no-untyped-def]
    if len(text) == len(data):
        return lambda b: b
    table: list[int] = []
    for i, ch in enumerate(text):
        table.extend([i] * len(ch.encode("utf-8")))
    table.append(len(text))
    return lambda b: table[b]


def value(word: SWord | str, env: Mapping[str, str | None]) -> str | None:
    """The word's value when it is static: no command substitution, no glob, no unknown variable."""
    raw = word.raw if isinstance(word, SWord) else word
    if "`" in raw or "$(" in raw:
        return None
    if _unquoted_glob(raw):
        return None
    try:
        return expand(raw, env, "\\")
    except Unknown:
        return None


def _unquoted_glob(raw: str) -> bool:
    quote = ""
    i = 0
    while i < len(raw):
        ch = raw[i]
        if ch == "\\" and quote != "'":
            i += 2
            continue
        if quote:
            if ch == quote:
                quote = ""
        elif ch in "'\"":
            quote = ch
        elif ch in "*?[" or (ch == "~" and i == 0):
            return True
        i += 1
    return False


def shebang_ok(body: str) -> bool:
    first = body.split("\n", 1)[0].strip()
    if not first.startswith("#!"):
        return True
    normalized = " ".join(first.split())
    return any(normalized == s or normalized.startswith(s + " ") for s in POSIX_SHEBANGS)
