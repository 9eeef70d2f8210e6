"""The pull-request description: what a reviewer needs, in words that stand on their own.

Per file, what changed and why, in plain bullets; the builder behaviour each fix relies on, explained here and
linked to Docker's documentation (never to dockerfix's own files, which the reviewer does not have); savings
as "X + unknown" when part of the content could not be counted; unsafe fixes and refusals with their reasons; and
"verified" only when images were built — otherwise the command that checks it.
"""

from __future__ import annotations

from collections.abc import Sequence

from dockerfix.refactor import __version__ as VERSION
from dockerfix.refactor.cli.batch import FileResult, Item
from dockerfix.refactor.units import human_bytes, saving

REF = "https://docs.docker.com/reference/dockerfile/"
CACHE = "https://docs.docker.com/build/cache/"

# What a reviewer needs to know about each transform: the behaviour, in plain words, with the documentation.
WHY: dict[str, list[str]] = {
    "chown-layer": [
        "An image layer stores every file a step created or changed, whole. A `RUN chown -R` (or `chmod -R`) "
        "over files that earlier steps created stores each of them a second time, even though only the owner "
        f"changed ([Docker: how layers and the cache work]({CACHE})).",
        "`COPY --chown=USER:GROUP` writes the files with that owner in the layer that copies them, so nothing is "
        f"stored twice ([Dockerfile reference: COPY --chown]({REF}#copy---chown---chmod)). A user name is only "
        "written where the user already exists at that point in the file; before that, its numeric id is used.",
        "The original step is kept, narrowed to `find … -exec chown` for the files that still have another owner "
        "(files from the base image or from steps the analysis could not read), so every path ends with the "
        "owner and mode it had before and nothing that is already right is stored again.",
    ],
    "deps-first": [
        "A `COPY` is re-run, and so is every step after it, whenever any file it copies changes "
        f"([Docker: build cache invalidation]({CACHE}invalidation/)). An install after `COPY . .` therefore "
        "re-runs on every source edit.",
        "The fix first copies only the files the install reads (requirements and lock files), runs the install, "
        "then copies everything else: a source edit keeps the install cached, and the final files are the same.",
    ],
    "pip-cache-mount": [
        "`RUN --mount=type=cache` keeps pip's download and wheel cache between builds without storing it in the "
        f"image ([Dockerfile reference: RUN --mount=type=cache]({REF}#run---mounttypecache)). pip's cache no "
        "longer ends up in the image: that is why this fix is unsafe and opt-in.",
    ],
}


def _saving(i: Item) -> str:
    if not i.saving and not i.saving_partial:
        return ""
    return f" Saves {saving(i.saving, i.saving_partial)}."


def _sentence(text: str) -> str:
    text = text.strip()
    return text if text.endswith((".", "!", "?", ")")) else text + "."


def pr_body(results: Sequence[FileResult], skipped: int = 0, verified: bool = False,
            verify_notes: dict[str, str] | None = None) -> str:
    """A Markdown description for one repository (paths as the results show them)."""
    notes = verify_notes if verify_notes is not None else {r.path: r.verified for r in results if r.verified}
    changed = [r for r in results if r.changed]
    scanned = len(results)
    out = ["## Dockerfile fixes by dockerfix", ""]
    line = (f"dockerfix {VERSION} checked {scanned} Dockerfile{'s' if scanned != 1 else ''} and changed "
            f"{len(changed)}.")
    if skipped:
        line += f" {skipped} file{'s' if skipped != 1 else ''} named like Dockerfiles {'were' if skipped != 1 else 'was'} skipped (not Dockerfiles)."
    out.append(line)
    total = sum(i.saving or 0 for r in changed for i in r.items if i.applied and i.saving)
    partial = any(i.saving_partial for r in changed for i in r.items if i.applied)
    if partial:
        out.append(f"Image bytes no longer stored twice: **{saving(total, partial)}** (counted from the files the "
                   "build context adds; what RUN steps write, such as a virtual environment, a clone or a package "
                   "install, cannot be sized without building: `dockerfix verify` builds both images and gives the "
                   "exact figure).")
    elif total:
        out.append(f"Image bytes no longer stored twice: **about {human_bytes(total)}** (counted from the files "
                   "the build context adds).")
    out.append("")
    if changed:
        out.append("### What changed")
        out.append("")
        for r in changed:
            out.append(f"#### `{r.path}`")
            out.append("")
            for i in r.items:
                if not i.applied:
                    continue
                out.append(f"- Line {i.line} (`{i.transform}`): {_sentence(i.message)}{_saving(i)}")
                for d in i.details:
                    out.append(f"  - {_sentence(d)}")
            out.append("")
    used = sorted({i.transform for r in changed for i in r.items if i.applied})
    if used:
        out.append("### Why this keeps the image the same")
        out.append("")
        for name in used:
            out.append(f"**`{name}`**")
            out.append("")
            for why in WHY.get(name, [_summary(name)]):
                out.append(f"- {why}")
            out.append("")
    unsafe = [(r, i) for r in results for i in r.items if i.fixable and not i.safe and not i.applied]
    if unsafe:
        out.append("### Fixes not applied because they are unsafe")
        out.append("")
        out.append("Each of these would change something in the image or rests on an assumption the analysis could "
                   "not prove (named below); `dockerfix fix --unsafe-fixes` applies them.")
        out.append("")
        _listing(out, unsafe)
    refused = [(r, i) for r in results for i in r.items if not i.fixable]
    if refused:
        out.append("### Not changed, and why")
        out.append("")
        _listing(out, refused)
    failed = [r for r in results if r.error]
    if failed:
        out.append("### Files that could not be processed")
        out.append("")
        for r in failed:
            out.append(f"- `{r.path}`: {_sentence(r.error or '')}")
        out.append("")
    out.append("### How this was checked")
    out.append("")
    if verified and changed:
        for r in changed:
            out.append(f"- `{r.path}`: {_sentence(notes.get(r.path, 'not built'))}")
        out.append("")
    else:
        out.append("No images were built for this description. dockerfix applies only fixes its analysis proves keep "
                   "every path's content, type, mode, owner and link target, and the image config; to see it for "
                   "yourself, build the image before and after and compare them path by path:")
        out.append("")
        for r in changed[:20]:
            out.append(f"    dockerfix verify {r.path}")
        out.append("")
    return "\n".join(out)


def _listing(out: list[str], pairs: Sequence[tuple[FileResult, Item]]) -> None:
    for r, i in pairs:
        out.append(f"- `{r.path}` line {i.line} (`{i.transform}`): {_sentence(i.message)}")
        for d in i.details:
            out.append(f"  - {_sentence(d)}")
    out.append("")


def _summary(name: str) -> str:
    from dockerfix import transforms

    try:
        return _sentence(transforms.load(name).SUMMARY)
    except KeyError:
        return name
