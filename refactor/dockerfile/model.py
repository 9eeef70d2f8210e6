"""What transforms produce: findings, fixes and edits on raw spans."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, order=True)
class Edit:
    start: int  # raw offsets in the decoded text
    end: int
    text: str


@dataclass
class Fix:
    edits: list[Edit]
    safe: bool = True

    def overlaps(self, other: Fix) -> bool:
        for a in self.edits:
            for b in other.edits:
                if a.start < b.end and b.start < a.end:
                    return True
                # Two insertions at the same point would have an arbitrary order.
                if a.start == a.end == b.start == b.end:
                    return True
        return False


@dataclass
class Finding:
    transform: str
    line: int
    message: str  # one line: what is wrong and what the fix does (or why there is none)
    fix: Fix | None = None
    details: list[str] = field(default_factory=list)  # further lines: each change and its reason
    saving: int | None = None  # bytes no longer stored twice, when estimated
    saving_partial: bool = False  # content made by RUN steps is not in the estimate

    @property
    def fixable(self) -> bool:
        return self.fix is not None

    @property
    def safe(self) -> bool:
        return self.fix is not None and self.fix.safe


def apply_edits(text: str, edits: list[Edit]) -> str:
    out: list[str] = []
    pos = 0
    for e in sorted(edits, key=lambda e: (e.start, e.end)):
        if e.start < pos:
            raise ValueError(f"overlapping edits at {e.start}")
        out.append(text[pos : e.start])
        out.append(e.text)
        pos = e.end
    out.append(text[pos:])
    return "".join(out)
