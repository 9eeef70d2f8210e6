"""The analysed Dockerfile that transforms read: the parsed file, its resolved states and each RUN's shell."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from dockerfix.refactor.dockerfile import knownbases
from dockerfix.refactor.dockerfile.basefacts import BaseFacts, BaseTable, scratch, unknown
from dockerfix.refactor.errors import DockerfixError
from dockerfix.refactor.dockerfile.parse import Dockerfile, Instruction, KEYWORDS, parse
from dockerfix.refactor.dockerfile.resolve import Assumed, Resolved, State, Why, assuming, resolve, step
from dockerfix.refactor.dockerfile.shell import Script, SWord, analyse, shebang_ok, value
from dockerfix.refactor.dockerfile.words import split_words

_POSIX_SHELLS = ("/bin/sh", "/bin/bash", "/bin/ash", "/bin/dash", "sh", "bash")


@dataclass
class RunScript:
    """A RUN body as the shell sees it, with the way back to raw offsets."""

    script: Script
    to_raw: Callable[[int], int]
    heredoc: bool
    append_at: int  # raw offset where a command can be appended
    source: str  # the whole file's text, which the raw offsets index
    env: dict[str, str | None] = field(default_factory=dict)  # the step's variables; ones it sets are unknown
    assumed: dict[str, Assumed] = field(default_factory=dict)  # State.assumed, less the names the step sets
    base_env_known: bool = False  # State.base_env_known: whether a name the step does not know is the base's
    from_base: dict[str, str] = field(default_factory=dict)  # State.from_base, less the names the step sets

    def raw_span(self, start: int, end: int) -> tuple[int, int]:
        return self.to_raw(start), self.to_raw(end - 1) + 1 if end > start else self.to_raw(start)

    def value_assuming(self, word: SWord) -> Assumed | Why:
        """A word's static value with the assumptions it rests on, or why it is unknown (``resolve.assuming``)."""
        return assuming(lambda env: value(word, env), self.env, self.assumed, self.base_env_known, self.from_base)


@dataclass
class Analysis:
    df: Dockerfile
    resolved: Resolved
    path: Path | None = None  # the Dockerfile, when read from disk
    context: Path | None = None  # the build context, for transforms that read it
    _scripts: dict[int, RunScript | None] = field(default_factory=dict)
    memo: dict[object, object] = field(default_factory=dict)  # per-analysis caches of the transforms
    bases: BaseTable = field(default_factory=dict)  # facts about external base images, by reference

    def base(self, index: int) -> BaseFacts | None:
        """Facts about the external image the stage of instruction `index` is built on (through its parent
        stages); None before the first FROM. Unknown facts are None in the result, never guessed."""
        stage = self.resolved.stage_of(index)
        while stage is not None and stage.parent is not None:
            stage = self.resolved.stages[stage.parent]
        if stage is None:
            return None
        return base_facts(self.bases, stage.base or "")

    @property
    def instructions(self) -> list[Instruction]:
        return self.df.instructions

    def state(self, index: int) -> State:
        return self.resolved.states[index]

    def after(self, index: int) -> State:
        """The state once instruction `index` has run."""
        nxt = index + 1
        if nxt < len(self.instructions) and self.resolved.states[nxt].stage == self.resolved.states[index].stage:
            return self.resolved.states[nxt]
        # The last instruction of a stage: no later state holds its effect, so apply it here.
        return step(self.instructions[index], self.resolved.states[index], self.resolved.global_args, self.df.escape)

    def windows(self, index: int) -> bool:
        """A Windows stage: its base image is a Windows one (the escape directive alone does not say)."""
        stage = self.resolved.stage_of(index)
        while stage is not None and stage.parent is not None:
            stage = self.resolved.stages[stage.parent]
        base = (stage.base or "") if stage else ""
        return any(w in base.lower() for w in ("windows", "servercore", "nanoserver", "mcr.microsoft.com/dotnet/framework"))

    def run_script(self, index: int) -> RunScript | None:
        """The parsed shell of a RUN, or None when it must not be analysed (JSON form, not POSIX, errors)."""
        if index not in self._scripts:
            self._scripts[index] = self._load_script(index)
        return self._scripts[index]

    def _load_script(self, index: int) -> RunScript | None:
        ins = self.instructions[index]
        if ins.keyword != "RUN" or ins.json_args is not None:
            return None
        if self.windows(index):
            return None  # cmd or PowerShell, not a POSIX shell
        shell = self.state(index).shell
        if shell is not None and (not shell or shell[0] not in _POSIX_SHELLS):
            return None
        if ins.heredocs:
            rs = self._heredoc_script(ins)
        else:
            script = analyse(ins.args)
            if not script.ok:
                return None
            off = ins.args_offset
            rs = RunScript(
                script=script,
                to_raw=lambda o: ins.raw(off + o),
                heredoc=False,
                append_at=ins.raw_end(off + script.end),
                source=self.df.text,
            )
        if rs is not None:
            rs.env = {**self.state(index).env, **{name: None for name in rs.script.assigned}}
            rs.assumed = {k: v for k, v in self.state(index).assumed.items() if k not in rs.script.assigned}
            rs.base_env_known = self.state(index).base_env_known
            rs.from_base = {k: v for k, v in self.state(index).from_base.items() if k not in rs.script.assigned}
        return rs

    def _heredoc_script(self, ins: Instruction) -> RunScript | None:
        # Only the plain form `RUN <<EOF` (the body is the script); other uses feed files or stdin.
        if len(ins.heredocs) != 1 or ins.args.strip() not in (f"<<{ins.heredocs[0].name}", f"<<-{ins.heredocs[0].name}"):
            return None
        doc = ins.heredocs[0]
        if not shebang_ok(doc.body):
            return None
        script = analyse(doc.body)
        if not script.ok:
            return None
        starts: list[int] = []  # raw start of each body line
        pos = doc.body_start
        text = self.df.text
        while pos < doc.terminator_start:
            starts.append(pos)
            nl = text.find("\n", pos)
            pos = nl + 1 if nl >= 0 else len(text)
        line_offsets: list[int] = []
        acc = 0
        for ln in doc.body.split("\n")[:-1]:
            line_offsets.append(acc)
            acc += len(ln) + 1

        def to_raw(o: int) -> int:
            import bisect

            k = max(0, bisect.bisect_right(line_offsets, o) - 1)
            return starts[k] + (o - line_offsets[k]) if k < len(starts) else doc.terminator_start

        return RunScript(script=script, to_raw=to_raw, heredoc=True, append_at=doc.terminator_start, source=text)


def base_facts(bases: BaseTable, ref: str) -> BaseFacts:
    """What is known about the external image ``ref``: read facts first, then a well-known base's documented
    defaults (``knownbases``), else unknown."""
    if ref.lower() == "scratch":
        return scratch()
    return bases.get(ref) or knownbases.lookup(ref) or unknown(ref)


def _check_structure(df: Dockerfile) -> None:
    """What the builder rejects before running anything: no FROM, a FROM without an image, a COPY/ADD without a
    source and a destination."""
    if not df.instructions:
        return  # nothing to build and nothing to fix
    first = next((ins for ins in df.instructions if ins.keyword != "ARG"), None)
    if first is None or first.keyword != "FROM":
        raise DockerfixError("no FROM instruction before the first build step", first.line if first else None)
    for ins in df.instructions:
        if ins.keyword == "FROM" and not ins.args.strip():
            raise DockerfixError("FROM needs an image", ins.line)
        if ins.keyword in ("COPY", "ADD") and not ins.heredocs:
            n = len(ins.json_args) if ins.json_args is not None else len(split_words(ins.args, df.escape))
            if n < 2:
                raise DockerfixError(f"{ins.keyword} needs a source and a destination", ins.line)


def analyse_text(
    text: str, path: Path | None = None, context: Path | None = None, bases: BaseTable | None = None
) -> Analysis:
    df = parse(text)
    for ins in df.instructions:
        if ins.keyword not in KEYWORDS:
            raise DockerfixError(f"unknown instruction {ins.logical.split()[0]!r}", ins.line)
        if ins.effective_keyword in ("RUN", "CMD", "ENTRYPOINT", "SHELL") and ins.args.lstrip().startswith("["):
            if ins.json_args is None and ins.effective_keyword == "SHELL":
                raise DockerfixError("SHELL needs a JSON array of strings", ins.line)
    if path is not None and context is None:
        context = path.parent
    _check_structure(df)
    table = dict(bases or {})

    def env_of(ref: str):  # type: ignore[no-untyped-def]
        return base_facts(table, ref).env

    return Analysis(df, resolve(df, env_of), path, context, bases=table)
