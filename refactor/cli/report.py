"""Rendering results for machines: JSON, SARIF 2.1.0, GitHub annotations, and the counts of the summary."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from typing import Any

from dockerfix.refactor import __version__ as VERSION
from dockerfix.refactor.cli.batch import FileResult


def to_json(results: Sequence[FileResult], skipped: Sequence[tuple[Any, str]] = ()) -> str:
    files = []
    for r in results:
        files.append({
            "path": r.path,
            "error": r.error,
            "changed": r.changed,
            "written": r.written,
            "findings": [
                {"transform": i.transform, "line": i.line, "column": i.col, "message": i.message, "fixable": i.fixable, "safe": i.safe,
                 "applied": i.applied, "details": i.details, "estimated_saving_bytes": i.saving,
                 "estimate_partial": i.saving_partial}
                for i in r.items
            ],
            "diff": r.diff,
        })
    doc = {"version": VERSION, "files": files, "summary": summary(results, len(skipped)),
           "skipped": [{"path": str(p), "reason": why} for p, why in skipped]}
    return json.dumps(doc, indent=2)


def summary(results: Sequence[FileResult], skipped: int = 0) -> dict[str, Any]:
    per = Counter(i.transform for r in results for i in r.items if i.applied)
    # Only the fixes that were (or would be) applied: one blocked by another's edit saves nothing.
    saving = sum(i.saving or 0 for r in results for i in r.items if i.applied)
    return {
        "skipped": skipped,
        "scanned": len(results),
        "changed": sum(1 for r in results if r.changed),
        "refused": sum(1 for r in results for i in r.items if not i.fixable),
        "failed": sum(1 for r in results if r.error),
        "fixes_per_transform": dict(sorted(per.items())),
        "estimated_saving_bytes": saving,
        # Content that RUN steps or other stages make is not sized: the real saving is this "+ unknown".
        "estimate_partial": any(i.saving_partial for r in results for i in r.items if i.applied),
    }


def to_sarif(results: Sequence[FileResult]) -> str:
    from dockerfix import transforms

    rules = []
    for name in transforms.names():
        mod = transforms.load(name)
        rules.append({
            "id": name,
            "name": name,
            "shortDescription": {"text": mod.SUMMARY},
            "fullDescription": {"text": (mod.__doc__ or "").strip().split("\n", 1)[0]},
            "help": {"text": f"dockerfix explain {name}"},
        })
    res = []
    for r in results:
        for i in r.items:
            res.append({
                "ruleId": i.transform,
                "level": "warning" if i.fixable else "note",
                "message": {"text": i.message},
                "locations": [{"physicalLocation": {"artifactLocation": {"uri": r.path.replace("\\", "/")},
                                                    "region": {"startLine": max(1, i.line),
                                                               "startColumn": max(1, i.col)}}}],
            })
    notifications = [
        {"level": "error", "message": {"text": f"{r.path}: {r.error}"}} for r in results if r.error
    ]
    run: dict[str, Any] = {
        "tool": {"driver": {"name": "dockerfix", "version": VERSION, "rules": rules}},
        "results": res,
    }
    if notifications:
        run["invocations"] = [{"executionSuccessful": False, "toolExecutionNotifications": notifications}]
    doc = {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [run],
    }
    return json.dumps(doc, indent=2)


def _gh_escape(s: str, prop: bool = False) -> str:
    s = s.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    if prop:
        s = s.replace(":", "%3A").replace(",", "%2C")
    return s


def to_github(results: Sequence[FileResult]) -> str:
    lines = []
    for r in results:
        if r.error:
            lines.append(f"::error file={_gh_escape(r.path, True)},title=dockerfix::{_gh_escape(r.error)}")
        for i in r.items:
            level = "warning" if i.fixable else "notice"
            lines.append(f"::{level} file={_gh_escape(r.path, True)},line={i.line},col={i.col},title={i.transform}::"
                         f"{_gh_escape(i.message)}")
    return "\n".join(lines) + ("\n" if lines else "")
