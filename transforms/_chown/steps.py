"""The earlier steps that take the ownership: COPY/ADD get --chown, RUN steps that create the paths get it appended."""

from __future__ import annotations

import posixpath
import re

from dockerfix.refactor.dockerfile.analysis import Analysis
from dockerfix.refactor.dockerfile.basefacts import DIR, FILE, MISSING
from dockerfix.refactor.context.scripts import notes as script_notes, run_created
from dockerfix.refactor.dockerfile.facts import certain, copy_args, walk
from dockerfix.refactor.dockerfile.model import Edit
from dockerfix.refactor.dockerfile.resolve import is_under
from dockerfix.transforms._chown import gain, modes, moves, owners, paths, proofs
from dockerfix.transforms._chown.edits import find_tail, quote
from dockerfix.transforms._chown.model import (Basis, Op, Refuse, _covering, _final_owner, _spell, _wrote_under,
                                               _written_before)

_TAR = re.compile(r"\.(tar|tgz|tbz2?|txz|tar\.(gz|bz2|xz|zst))$")


def _copy_edit(a: Analysis, j: int, ops: list[Op], idx: int, targets: list[str],  # type: ignore[no-untyped-def]
               basis: Basis) -> tuple[list[Edit], list[str]]:
    ins = a.instructions[j]
    st = a.state(j)
    ca = copy_args(ins, st, a.df.escape, assuming=True)
    if ca is None:
        return [], []
    if ca.dest is None:
        raise Refuse(f"the destination of the {ins.keyword} at line {ins.line} ({ca.dest_raw}) cannot be resolved")
    covering = _covering(ops, ca.dest)
    if not covering:
        for t in targets:
            if is_under(t, ca.dest) and ca.dest != t and _may_write_under(a, ins, ca, t):
                raise Refuse(f"the {ins.keyword} at line {ins.line} writes into {ca.dest}, above {t}: its files under "
                             f"{t} cannot get an owner without re-owning the rest")
        return [], []
    tag = f"line {ins.line}: {ins.keyword}"
    chmod_only = all(op.kind == "chmod" for op in covering)
    if chmod_only and ins.keyword != "COPY":
        return [], [f"{tag} left as is: only its mode changes, and only a COPY gets --chmod (transforms/_chown/modes.py)"]
    if ins.keyword == "ADD" and any(_TAR.search(s) for s in ca.sources):
        return [], [f"{tag} left as is: ADD of a local archive honours --chown only from frontend 1.17"]
    used: list[str] = []
    assumed: list[str] = list(ca.assumptions)  # the destination's variables (an unknown base's ENV may set them)
    for top in {p for op in covering for _, p in op.paths if is_under(ca.dest, p)}:
        # --chown gives directories it creates the new owner: it must create none above the target.
        parent = proofs.nothing_made_above(a, j, top)
        if parent.kind is None and parent.base_unknown:
            assumed.append(parent.why)
        elif parent.kind != DIR:
            return [], [f"{tag} left as is: {posixpath.dirname(top)} is not known to exist here ({parent.why}), and "
                        f"{modes.CREATED if chmod_only else '--chown would give a directory it creates the new owner'}"]
        # The builder follows symlinks in the destination, `chown -R` does not: no link from the target down.
        links = proofs.no_links(a, j, top, ca.dest)
        if links.kind is None and links.base_unknown:
            way = f"{top} is not a symlink" if top == ca.dest else f"no path from {top} to {ca.dest} is a symlink"
            assumed.append(f"{way} in the base image {a.base(j).image!r}")  # type: ignore[union-attr]
        elif links.kind is None:
            return [], [f"{tag} left as is: a path from {top} to {ca.dest} may be a symlink ({links.why}), which "
                        f"{'--chmod' if chmod_only else '--chown'} would write through"]
        used += list(parent.defaults) + list(links.defaults)
        if ca.dest_is_dir or not paths.copies_one_file(a, ins, ca):
            tree = proofs.tree_clean(a, j, ca.dest)
            if tree.kind is None and tree.base_unknown:
                assumed.append(f"nothing below {ca.dest} is a symlink in the base image {a.base(j).image!r}")  # type: ignore[union-attr]
            elif tree.kind is None:
                return [], [f"{tag} left as is: a path below {ca.dest} may be a symlink ({tree.why}), which "
                            f"{'--chmod' if chmod_only else '--chown'} would write through"]
            used += list(tree.defaults)
    linked = _hard_linked_sources(a, ins, ca)
    if linked:
        # The builder keeps hard links a COPY brings; the original's `chown -R` layer stores each linked path as a
        # file of its own, so with --chown the paths would stay one inode where the original has two files.
        return [], [f"{tag} left as is: the build context holds hard-linked files ({linked}); the original's "
                    "`chown -R` layer stores them as separate files, --chown would keep them linked"]
    mode_basis = Basis()
    mode_edits, mode_notes, mode_why = modes.copy_chmod(a, j, ins, ca, covering, idx, mode_basis)
    if chmod_only:
        if not mode_edits:
            return [], [f"{tag} left as is: only its mode changes, {mode_why}"] if mode_why else mode_notes
        basis.use(used)
        basis.assumptions.extend(x for x in assumed + mode_basis.assumptions if x not in basis.assumptions)
        return mode_edits, mode_notes
    if mode_basis.assumptions and not gain.all_changed(a, j, covering):
        # The --chown alone is a safe fix: an unproven --chmod would make all of it unsafe (unless without it the
        # kept chmod would store every file again: then the --chown alone saves nothing).
        mode_edits, mode_notes = [], [f"{tag}: its mode is left to the kept step (a --chmod would assume "
                                      f"{'; '.join(mode_basis.assumptions)})"]
        mode_basis = Basis()
    existing = ins.flag("chown")
    start_user, start_group = "0", "0"
    if existing is not None:
        val = st.expand(existing.value or "", a.df.escape)
        if val is None:
            return [], [f"{tag} left as is: its --chown value is unknown"]
        u, has_g, g = val.partition(":")
        if not has_g:
            # Without a group, the builder uses the user's primary group (for a numeric id: the same number).
            if u.isdigit():
                g = u
            else:
                found = owners.user(a, j, u)
                if not found.exists or found.primary is None:
                    return [], [f"{tag} left as is: --chown={val} without a group uses the primary group of {u}, "
                                "which is not known here"]
                g = found.primary
                used += list(found.defaults)
        start_user, start_group = u, g
    elif ins.flag("from") is not None and "\0" in "".join(_final_owner(covering, "\0", "\0")):
        # COPY --from keeps the owners the files have in the other stage (not 0:0 as from the context): a chown that
        # sets only the user or only the group keeps the other part, which --chown would have to name.
        return [], [f"{tag} left as is: COPY --from keeps the owners its files have in the other stage, and the "
                    "chown sets only the " + ("group" if "\0" in _final_owner(covering, "\0", "\0")[0] else "user") +
                    ", which a --chown cannot leave as it is"]
    user, group = _final_owner(covering, start_user, start_group)
    local = Basis()
    u_spell = _spell(a, user, "user", j, idx, local)
    g_spell = _spell(a, group, "group", j, idx, local)
    move = None
    if u_spell is None or g_spell is None:
        missing = user if u_spell is None else group
        try:
            u_spell, g_spell, move = moves.respell(a, j, idx, (user, u_spell), (group, g_spell), basis)
        except moves.NoMove as no:
            return [], [f"{tag} left as is: `{missing}` is not known to exist here and its numeric id is not written "
                        "in the Dockerfile (buildah rejects an unknown name, BuildKit silently uses 0)"
                        f"{moves.advice(no)}"]
    basis.use(used + local.defaults)
    basis.assumptions.extend(x for x in assumed + local.assumptions + mode_basis.assumptions
                             if x not in basis.assumptions)
    flag = f"--chown={u_spell}:{g_spell}"
    if existing is not None:
        if "\n" in a.df.text[existing.start : existing.end]:
            return [], [f"{tag} left as is: its --chown flag spans a line continuation"]
        if a.df.text[existing.start : existing.end] == flag:
            return mode_edits, mode_notes
    moved, moved_notes = moves.commit(basis, move)
    if existing is not None:
        return moved + modes.merged([Edit(existing.start, existing.end, flag)] + mode_edits), \
            moved_notes + [f"{tag}: --chown replaced by {flag} (its files land under {ca.dest})"] + mode_notes
    at = ins.raw(ins.args_offset)
    return moved + modes.merged([Edit(at, at, flag + " ")] + mode_edits), \
        moved_notes + [f"{tag} gets {flag} (its files land under {ca.dest})"] + mode_notes


def _hard_linked_sources(a: Analysis, ins, ca) -> str | None:  # type: ignore[no-untyped-def]
    """A regular file with more than one link among what a COPY from the build context sends (the first found)."""
    if ins.flag("from") is not None or a.context is None or not a.context.is_dir():
        return None
    ctx = paths._context(a)
    if ctx is None:
        return None
    for src in ca.sources:
        for rel in ctx.files(src) or ():
            try:
                if (a.context / rel).lstat().st_nlink > 1:
                    return rel
            except OSError:
                continue
    return None


def _may_write_under(a: Analysis, ins, ca, target: str) -> bool:  # type: ignore[no-untyped-def]
    """A COPY into an ancestor of the target writes under it unless every source is a plain file."""
    if ins.flag("from") is not None or a.context is None:
        return True
    rel = posixpath.relpath(target, ca.dest)
    first = rel.split("/", 1)[0]
    for src in ca.sources:
        if src.startswith("<<") or any(ch in src for ch in "*?[$"):
            return True
        p = a.context / src
        try:
            if not p.is_file():
                return True
        except OSError:
            return True
        if not ca.dest_is_dir:
            return True
        if posixpath.basename(src.rstrip("/")) == first:
            return True
    return False


def _run_edit(a: Analysis, j: int, ops: list[Op], idx: int, basis: Basis) -> tuple[list[Edit], list[str]]:
    st = a.state(j)
    ins = a.instructions[j]
    rs = a.run_script(j)
    if rs is None or not st.root_or_base_default:
        return [], []
    made: list[tuple[str, str | None, list[Op]]] = []
    dropped: list[str] = []
    local_links: list[str] = []
    for cmd, cwd in walk(rs.script, rs.env, st.workdir):
        # Context scripts, venvs, tool environments (refactor/context/scripts.py).
        for c in run_created(a, j, cmd, rs.env, cwd, lambda m: paths.requirements_hold(a, j, m)):
            covering = _covering(ops, c.path)
            if not covering or any(is_under(c.path, m[0]) for m in made):
                continue
            # The appended command runs at the end of the step: the path must exist then, and be no symlink.
            end = paths.kind_at(a, j, c.path, after=True)
            # `chown -R` on a symlink changes only the link, as the later step does; `chmod -R` follows it.
            ok = (DIR, FILE) if any(op.kind == "chmod" for op in covering) else (DIR, FILE, paths.EXISTS, "symlink")
            # The appended command resolves every directory above the path, the kept step's `chown -R TOP` never
            # follows a link: from each target down to the path's parent, no symlink (and nothing unknown).
            through, assumed = _link_on_the_way(a, j, covering, c.path)
            if assumed:
                local_links.append(assumed)
            if through:
                dropped.append(f"{c.path} ({through}, which the appended chown would follow)")
                continue
            if not certain(rs.script, cmd) or end.kind not in ok:
                dropped.append(f"{c.path} ({'it may not be made' if not certain(rs.script, cmd) else end.why or 'it is '}"
                               f"{'' if not certain(rs.script, cmd) or end.why else _kind_word(end.kind)})")
                continue
            made.append((c.path, c.raw if cwd == st.workdir else None, covering))
    tag = f"line {ins.line}: RUN"
    notes = [f"{tag} left as is for {d}: not known to exist as a file or directory when the step ends"
             for d in dropped]
    if not made:
        return [], notes + script_notes(a, j, [p for op in ops for _, p in op.paths])
    written = _written_before(a, j)
    notes += [f"{tag} {'writes into' if _wrote_under(written, path) else 'creates'} {path}: its owner is set in the "
              "same step" for path, _, _ in made]
    pieces: list[str] = []
    pending: list[moves.Move] = []  # an account step this RUN's chown needs above it
    local = Basis()
    # One command per operation, in the step's order, so each path sees the same sequence of changes.
    for op in dict.fromkeys(op for _, _, covering in made for op in covering):
        fresh: list[str] = []
        stale: list[str] = []
        for path, raw, covering in made:
            if op in covering:
                word = raw if raw is not None else quote(path)
                (stale if _wrote_under(written, path) else fresh).append(word)
        if op.kind == "chmod":
            spec, u, g = op.mode or "", None, None
        else:
            # The appended command runs at the end of this step: a name must exist before it.
            u = _spell(a, op.user, "user", j, idx, local) if op.user else None
            g = _spell(a, op.group, "group", j, idx, local) if op.group else None
            if (op.user and u is None) or (op.group and g is None):
                try:
                    u, g, move = moves.respell(a, j, idx, (op.user, u), (op.group, g), basis, pending)
                except moves.NoMove as no:
                    return [], notes[: len(dropped)] + [f"{tag} left as is: the owner is not known to exist there and "
                                                        f"its id is unknown{moves.advice(no)}"]
                pending += [move] if move is not None else []
            spec = (g or "") if op.kind == "chgrp" else f"{u or ''}{':' + g if g else ''}"
        if fresh:
            pieces.append(f"{op.kind} -R {spec} {' '.join(fresh)}")
        if stale:
            pieces.append(f"find {' '.join(stale)}{find_tail(op.kind, u, g, op.mode)}")
    basis.use(local.defaults)
    basis.assumptions.extend(x for x in local.assumptions + local_links if x not in basis.assumptions)
    moved, moved_notes = moves.commit(basis, pending[0] if pending else None)
    text = " && ".join(pieces)
    if rs.heredoc:
        return moved + [Edit(rs.append_at, rs.append_at, text + a.df.newline)], moved_notes + notes
    return moved + [Edit(rs.append_at, rs.append_at, " && " + text)], moved_notes + notes


def _link_on_the_way(a: Analysis, j: int, covering: list[Op], path: str) -> tuple[str | None, str | None]:
    """Why a path from a covering target down to ``path``'s parent may be a symlink once step ``j`` has run; else
    None and, where that rests on the base image not making one a link, the assumption."""
    assumed: str | None = None
    parent = posixpath.dirname(path)
    for top in {t for op in covering for _, t in op.paths if is_under(path, t)}:
        if not is_under(parent, top):
            continue
        rel = posixpath.relpath(parent, top)
        cur = top
        for part in [""] + ([] if rel == "." else rel.split("/")):
            cur = posixpath.join(cur, part) if part else top
            k = paths.kind_at(a, j, cur, after=True)
            if k.kind == "symlink":
                return f"{cur} is a symlink", None
            if k.kind == paths.EXISTS:
                # A COPY or `mkdir -p` into a path of unknown kind follows a symlink there: it may still be one.
                if not k.base_unknown:
                    return f"{cur} exists but may be a symlink to a directory", None
                assumed = assumed or f"{cur} is not a symlink in the base image {a.base(j).image!r}"  # type: ignore[union-attr]
            if k.kind is None:
                # Unknown once the step ran (it may change the path): what it was before, and no link made there.
                before = paths.kind_at(a, j, cur)
                if before.kind not in (DIR, MISSING) or any(e.kind == "link" and e.path == cur
                                                             for e in paths.events(a, j)):
                    return k.why or f"what {cur} is, is not known", None
    return None, assumed


def _kind_word(kind: str | None) -> str:
    return {MISSING: "absent", "symlink": "a symlink"}.get(kind or "", "unknown")
