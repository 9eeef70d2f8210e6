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
    return run(DOCKERFILE.read_text(), transforms.names(), path=DOCKERFILE, context=CTX).output


def test_addgh_step_re_owns_the_clones() -> None:
    out = _fixed()
    assert "\nRUN bash addGH.sh && chown -R 1000:1000 /data/repos\n" in out
    # mkdir -p makes /data/srv/TaskManager and /data/srv/Publisher too: they are re-owned where they are made.
    assert "${WDIR}/srv/TaskManager/logs && chown -R 1000:1000 /data/srv/TaskManager\n" in out
    assert "${WDIR}/srv/Publisher/PublisherFiles && chown -R 1000:1000 /data/srv/Publisher\n" in out
    result = run(DOCKERFILE.read_text(), ["chown-layer"], path=DOCKERFILE, context=CTX)
    [finding] = [f for f in result.findings if f.fix]
    assert finding.fix.safe
    assert any("RUN creates /data/repos" in d for d in finding.details)


def test_every_writer_under_data_carries_the_owner() -> None:
    """Nothing the Dockerfile writes under /data is left for the final step to store again."""
    out = _fixed()
    a = analyse_text(out, DOCKERFILE, CTX)
    last = len(a.instructions) - 1
    final = next(i for i in range(last, -1, -1) if a.instructions[i].keyword == "RUN" and "find ${WDIR}" in a.instructions[i].logical)
    stage = a.resolved.stage_of(final)
    assert stage is not None
    checked = 0
    for j in range(stage.first + 1, final):
        ins = a.instructions[j]
        if ins.keyword in ("COPY", "ADD"):
            ca = copy_args(ins, a.state(j), a.df.escape)
            assert ca is not None and ca.dest is not None
            if is_under(ca.dest, "/data"):
                assert ins.flag("chown") is not None and ins.flag("chown").value == "1000:1000", ins.logical
                checked += 1
        elif ins.keyword == "RUN":
            rs = a.run_script(j)
            assert rs is not None
            made = [c.path for cmd in rs.script.commands for c in run_created(a, j, cmd, rs.env, a.state(j).workdir)
                    if is_under(c.path, "/data")]
            if made:
                assert "chown -R 1000:1000" in ins.logical or "-exec chown -h 1000:1000" in ins.logical, ins.logical
                checked += 1
    assert checked == 11  # 6 COPYs and 5 RUNs write under /data


def test_fix_is_idempotent() -> None:
    once = _fixed()
    assert run(once, transforms.names(), path=DOCKERFILE, context=CTX).output == once
