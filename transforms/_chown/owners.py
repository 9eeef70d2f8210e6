"""Users and groups: whether a name exists before an instruction, its ids and primary group, and how that is known.

A name exists when an analysed RUN before the instruction (this stage or the stages it builds on) created it with
useradd/adduser/groupadd/addgroup, or when the base image's /etc/passwd and /etc/group have it (read from the image,
or a well-known base's documented defaults). A name created in the same RUN as the chown, in a later RUN, by a RUN the
analysis cannot read (JSON form other than an account program's, a script) or by a package install is not known to exist: a COPY is then given the
numeric id when the Dockerfile writes it (`useradd -u 1500`), or left alone.
"""

from __future__ import annotations

from dataclasses import dataclass

from dockerfix.refactor.dockerfile.analysis import Analysis
from dockerfix.refactor.dockerfile.facts import Account, accounts_created
from dockerfix.transforms._chown import accounts
from dockerfix.transforms._chown.paths import chain


@dataclass
class Owner:
    exists: bool  # the name is proven to exist before the instruction
    uid: str | None = None  # numeric, when known (for a group: its gid)
    primary: str | None = None  # a user's primary group id, when known
    defaults: tuple[str, ...] = ()
    base_unknown: bool = False  # not known to exist, and the base image's accounts were not read


def created(a: Analysis, at: int) -> list[tuple[int, Account]]:
    """Accounts created by analysable RUN steps before ``at`` in this stage and the stages it builds on."""
    out: list[tuple[int, Account]] = []
    for j in chain(a, at):
        out.extend((j, acct) for acct in _of(a, j))
    return out


def created_later(a: Analysis, at: int, idx: int) -> list[tuple[int, Account]]:
    """Accounts created by analysable RUN steps from ``at`` up to and including ``idx`` (the chown's RUN)."""
    out: list[tuple[int, Account]] = []
    for j in range(at, idx + 1):
        out.extend((j, acct) for acct in _of(a, j))
    return out


def _of(a: Analysis, j: int) -> list[Account]:
    key = ("chown-layer:accounts", j)
    if key not in a.memo:
        rs = a.run_script(j) if a.instructions[j].keyword == "RUN" else None
        a.memo[key] = accounts.exec_accounts(a, j) if rs is None else [
            acct for cmd in rs.script.commands for acct in accounts_created(cmd, rs.env)]
    return a.memo[key]  # type: ignore[return-value]


def user(a: Analysis, at: int, name: str) -> Owner:
    if name.isdigit():
        return Owner(True, name)
    made = [acc for _, acc in created(a, at) if acc.kind == "user" and acc.name == name]
    if made:
        acc = made[-1]
        return Owner(True, acc.uid, _primary(a, at, acc))
    facts = a.base(at)
    if facts is not None and facts.accounts is not None and name in facts.accounts:
        acc2 = facts.accounts[name]
        d = () if facts.read else (f"{facts.source}: user {name} is {acc2.uid}:{acc2.gid}",)
        return Owner(True, str(acc2.uid), str(acc2.gid), d)
    return Owner(False, base_unknown=facts is not None and facts.accounts is None)


def _primary(a: Analysis, at: int, acc: Account) -> str | None:
    if acc.gid is not None:
        return acc.gid
    if acc.group:
        return group(a, at, acc.group).uid
    return None


def group(a: Analysis, at: int, name: str) -> Owner:
    if name.isdigit():
        return Owner(True, name)
    made = [acc for _, acc in created(a, at) if acc.kind == "group" and acc.name == name]
    if made:
        return Owner(True, made[-1].gid)
    facts = a.base(at)
    if facts is not None and facts.groups is not None and name in facts.groups:
        d = () if facts.read else (f"{facts.source}: group {name} is {facts.groups[name]}",)
        return Owner(True, str(facts.groups[name]), None, d)
    return Owner(False, base_unknown=facts is not None and facts.groups is None)


def later_id(a: Analysis, at: int, idx: int, name: str, kind: str) -> str | None:
    """The numeric id a name created between ``at`` and the chown (``idx``) will have, when the Dockerfile says."""
    made = [acc for _, acc in created_later(a, at, idx) if acc.name == name and acc.kind == kind]
    ids = [acc.uid if kind == "user" else acc.gid for acc in made]
    if kind == "group":
        ids += [acc.gid for _, acc in created_later(a, at, idx) if acc.kind == "user" and acc.name == name and acc.gid]
    known = [i for i in ids if i]
    return known[0] if known and len(set(known)) == 1 else None
