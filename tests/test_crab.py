"""The seed project's crabtaskworker Dockerfile (dmwm/CRABServer 01e1d7de, context = repository root, reduced).

Its `RUN bash addGH.sh` clones two repositories into /data/repos, which the last `RUN chown -R 1000:1000 ${WDIR}`
stored a second time. Reading the script lets the fix re-own /data/repos in that step.
"""

from __future__ import annotations

from pathlib import Path

from dockerfix.refactor.context.scripts import run_created
from dockerfix.refactor.dockerfile.analysis import analyse_text
from dockerfix.refactor.dockerfile.facts import copy_args
from dockerfix.refactor.dockerfile.resolve import is_under
from dockerfix.refactor.engine import run
from dockerfix import transforms

CTX = Path(__file__).resolve().parent / "data" / "crab"
DOCKERFILE = CTX / "cicd" / "crabtaskworker_pypi" / "Dockerfile"


def _fixed() -> str:
    base = _crab_base()
    return run(DOCKERFILE.read_text(), transforms.names(), path=DOCKERFILE, context=CTX, bases={base.image: base}).output


def test_addgh_step_re_owns_the_clones_without_base_facts_as_an_unsafe_fix() -> None:
    """The base image is not read: the fix rests on assumptions about it (named), the addGH.sh step is still read."""
    result = run(DOCKERFILE.read_text(), ["chown-layer"], unsafe=True, path=DOCKERFILE, context=CTX)
    assert "\nRUN bash addGH.sh && chown -R 1000:1000 /data/repos\n" in result.output
    [finding] = [f for f in result.findings if f.fix]
    assert not finding.fix.safe
    assumptions = [d for d in finding.details if d.startswith("unsafe:")]
    assert assumptions and all("base image" in d for d in assumptions), assumptions
    assert any("RUN creates /data/repos" in d for d in finding.details)


def test_fix_is_idempotent() -> None:
    once = _fixed()
    base = _crab_base()
    assert run(once, transforms.names(), path=DOCKERFILE, context=CTX, bases={base.image: base}).output == once


# The real base (registry.cern.ch/cmsweb/wmagent-base:pypi-20230705) cannot be pulled here. These are the facts a
# reader of it would have to find for the fix to be safe: a Debian-like tree with /data a plain directory and nothing
# below it, no VOLUME, root by default, busybox/GNU find present. They are a test fixture, not a claim about the image.
def _crab_base():  # type: ignore[no-untyped-def]
    from dockerfix.refactor.dockerfile.basefacts import DIR, Account, BaseFacts, PathInfo

    dirs = ["/", "/data", "/etc", "/etc/sudoers.d", "/opt", "/usr", "/usr/bin", "/usr/local", "/usr/local/bin",
            "/usr/share", "/usr/share/zoneinfo", "/usr/share/zoneinfo/Europe", "/root", "/tmp", "/var"]
    paths = {d: PathInfo(DIR, uid=0, gid=0, mode=0o755) for d in dirs}
    return BaseFacts(image="registry.cern.ch/cmsweb/wmagent-base:pypi-20230705", source="test fixture", read=True,
                     env={"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"},
                     volumes=frozenset(), user="", workdir="", accounts={"root": Account("root", 0, 0, "/root")},
                     groups={"root": 0}, paths=paths, complete_paths=True, tools={"find": True})


def test_with_the_base_read_every_writer_under_data_carries_the_owner_and_the_fix_is_safe() -> None:
    base = _crab_base()
    result = run(DOCKERFILE.read_text(), ["chown-layer"], path=DOCKERFILE, context=CTX, bases={base.image: base})
    out = result.output
    assert "\nRUN bash addGH.sh && chown -R 1000:1000 /data/repos\n" in out
    # mkdir -p makes /data/srv/TaskManager and /data/srv/Publisher too: they are re-owned where they are made.
    assert "${WDIR}/srv/TaskManager/logs && chown -R 1000:1000 /data/srv/TaskManager\n" in out
    assert "${WDIR}/srv/Publisher/PublisherFiles && chown -R 1000:1000 /data/srv/Publisher\n" in out
    [finding] = [f for f in result.findings if f.fix]
    assert finding.fix.safe, finding.details
    left = [d for d in finding.details if "left as is" in d]
    assert left == []
    a = analyse_text(out, DOCKERFILE, CTX)
    for j, ins in enumerate(a.instructions):
        if ins.keyword == "COPY" and a.resolved.stage_of(j) is a.resolved.stages[-1]:
            ca = copy_args(ins, a.state(j), a.df.escape)
            if ca is not None and ca.dest is not None and is_under(ca.dest, "/data"):
                assert ins.flag("chown") is not None and ins.flag("chown").value == "1000:1000", ins.logical
