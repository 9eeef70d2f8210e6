"""Rendering results: text for people, JSON, SARIF 2.1.0, GitHub annotations, and a PR body."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from typing import Any

from dockerfix.refactor import __version__ as VERSION
from dockerfix.refactor.cli.batch import FileResult
from dockerfix.refactor.units import human_bytes


def to_json(results: Sequence[FileResult]) -> str:
    files = []
    for r in results:
        files.append({
            "path": r.path,
            "error": r.error,
            "changed": r.changed,
            "written": r.written,
            "findings": [
                {"transform": i.transform, "line": i.line, "message": i.message, "fixable": i.fixable, "safe": i.safe,
                 "applied": i.applied, "details": i.details, "estimated_saving_bytes": i.saving,
                 "estimate_partial": i.saving_partial}
                for i in r.items
            ],
            "diff": r.diff,
        })
    return json.dumps({"version": VERSION, "files": files, "summary": summary(results)}, indent=2)


def summary(results: Sequence[FileResult]) -> dict[str, Any]:
    per = Counter(i.transform for r in results for i in r.items if i.fixable)
    saving = sum(i.saving or 0 for r in results for i in r.items if i.fixable)
    return {
        "scanned": len(results),
        "changed": sum(1 for r in results if r.changed),
        "refused": sum(1 for r in results for i in r.items if not i.fixable),
        "failed": sum(1 for r in results if r.error),
        "fixes_per_transform": dict(sorted(per.items())),
        "estimated_saving_bytes": saving,
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
                                                    "region": {"startLine": max(1, i.line)}}}],
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
            lines.append(f"::{level} file={_gh_escape(r.path, True)},line={i.line},title={i.transform}::"
                         f"{_gh_escape(i.message)}")
    return "\n".join(lines) + ("\n" if lines else "")


def pr_body(results: Sequence[FileResult], checked: str | None = None) -> str:
    """A Markdown description a reviewer can paste unchanged."""
    from dockerfix import transforms

    s = summary(results)
    changed = [r for r in results if r.changed]
    out = ["## Dockerfile fixes by dockerfix", ""]
    out.append(f"dockerfix scanned {s['scanned']} Dockerfile{'s' if s['scanned'] != 1 else ''} and changed "
               f"{s['changed']}.")
    if s["estimated_saving_bytes"]:
        out.append(f"Estimated image bytes no longer stored twice: **{human_bytes(s['estimated_saving_bytes'])}** "
                   "(content created by RUN steps is not included).")
    out.append("")
    used = sorted({i.transform for r in changed for i in r.items if i.applied})
    if used:
        out.append("### Why")
        for name in used:
            doc = (transforms.load(name).__doc__ or "").strip().split("\n\n", 2)
            out.append(f"- **`{name}`**: {doc[0].split(': ', 1)[-1]}")
            if len(doc) > 1:
                out.append("  " + " ".join(doc[1].split()))
        out.append("")
    if changed:
        out.append("### What changed")
        for r in changed:
            out.append(f"#### `{r.path}`")
            for i in r.items:
                if not i.applied:
                    continue
                saving = f" (≈ {human_bytes(i.saving)}{' + unknown' if i.saving_partial else ''} saved)" if i.saving else ""
                out.append(f"- line {i.line}, `{i.transform}`: {i.message}{saving}")
                for d in i.details:
                    out.append(f"  - {d}")
            out.append("")
    refused = [(r, i) for r in results for i in r.items if not i.applied]
    if refused:
        out.append("### Not changed, and why")
        for r, i in refused:
            out.append(f"- `{r.path}` line {i.line}, `{i.transform}`: {i.message}")
        out.append("")
    failed = [r for r in results if r.error]
    if failed:
        out.append("### Files that could not be processed")
        for r in failed:
            out.append(f"- `{r.path}`: {r.error}")
        out.append("")
    out.append("### How it was checked")
    out.append(checked or (
        "Each fix keeps the final filesystem (content, type, mode, owner, link target of every path) and the image "
        "config the same; dockerfix's test suite proves every transform by building the original and the fixed "
        "Dockerfile and comparing both images path by path. To check this repository's images yourself, run "
        "`dockerfix verify PATH/TO/Dockerfile --context DIR`."))
    out.append("")
    return "\n".join(out)
