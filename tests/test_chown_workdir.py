"""chown-layer on the shapes a survey of public Dockerfiles met: a project directory a WORKDIR makes below a
directory the base may or may not have, accounts made with clustered options, relative paths under a base image's
WORKDIR, and listings between the COPY and the chown."""

from __future__ import annotations

from pathlib import Path

import pytest

from dockerfix.refactor.engine import run

from .testbases import table

NAME = ["chown-layer"]
B = "FROM b\n"


def _one(text: str, bases=None, path: Path | None = None):  # type: ignore[no-untyped-def]
    (finding,) = run(text, NAME, path=path, bases=table() if bases is None else bases).findings
    return finding


def _fixed(text: str, unsafe: bool = False, bases=None, path: Path | None = None) -> str:  # type: ignore[no-untyped-def]
    return run(text, NAME, unsafe, path=path, bases=table() if bases is None else bases).output


@pytest.fixture
def node_context(tmp_path: Path) -> Path:
    """A Node project's build context; the Dockerfile's path inside it."""
    (tmp_path / "package.json").write_text("{}\n")
    (tmp_path / "index.js").write_text("\n")
    return tmp_path / "Dockerfile"


# Accounts made with getopt-clustered options exist at the later COPY, so it gets the name.
ACCOUNTS = {
    "useradd-ms": "RUN useradd -ms /bin/bash appuser\n",
    "useradd-rms": "RUN useradd -rms /bin/sh appuser\n",
    "useradd-mU": "RUN useradd -mU appuser\n",
    "adduser-DH": "RUN adduser -DHs /bin/sh appuser\n",
}


@pytest.mark.parametrize("name", sorted(ACCOUNTS))
def test_clustered_account_options_make_the_user(name: str) -> None:
    text = B + ACCOUNTS[name] + "COPY a /data/a\nRUN chown -R appuser:appuser /data\n"
    out = _fixed(text)
    assert "COPY --chown=appuser:appuser a /data/a\n" in out, out
    assert _one(text).fix.safe  # type: ignore[union-attr]


def test_an_option_the_tool_does_not_take_leaves_the_user_unknown() -> None:
    text = B + "RUN useradd -Q x appuser\nCOPY a /data/a\nRUN chown -R appuser:appuser /data\n"
    finding = _one(text)
    assert finding.fix is None and "`appuser` is not known to exist here" in " ".join(finding.details)


# The Node layout: WORKDIR, the manifests, the install, the sources, then `chown -R` of the project directory.
def _node(workdir: str, base: str = "node:20-slim", owner: str = "node:node") -> str:
    return (f"FROM {base}\nWORKDIR {workdir}\nCOPY package*.json ./\nRUN npm install\nCOPY . .\n"
            f"RUN chown -R {owner} {workdir}\n")


NODE_COPIES = ("COPY --chown=node:node package*.json ./\n", "COPY --chown=node:node . .\n")


def test_node_layout_in_app_is_safe_from_the_known_base(node_context: Path) -> None:
    finding = _one(_node("/app"), bases={}, path=node_context)
    assert finding.fix is not None and finding.fix.safe
    out = _fixed(_node("/app"), bases={}, path=node_context)
    assert all(c in out for c in NODE_COPIES), out


# Below a directory the known defaults do not list, whether the project directory (or its parent) is a symlink in
# the image is not known: fixed, unsafe, each assumption named; no refusal.
NODE_UNSAFE = {
    "/usr/src/app": ["/usr/src exists in the base image 'node:20-slim'",
                     "no path from /usr/src/app to /usr/src/app is a symlink in the base image 'node:20-slim'"],
    "/home/node/app": ["no path from /home/node/app to /home/node/app is a symlink in the base image 'node:20-slim'"],
    "/opt/app": ["no path from /opt/app to /opt/app is a symlink in the base image 'node:20-slim'"],
}


@pytest.mark.parametrize("workdir", sorted(NODE_UNSAFE))
def test_node_layout_below_an_unlisted_directory_is_an_unsafe_fix(workdir: str, node_context: Path) -> None:
    text = _node(workdir)
    finding = _one(text, bases={}, path=node_context)
    assert finding.fix is not None and not finding.fix.safe, finding
    unsafe = [d.removeprefix("unsafe: assumes ") for d in finding.details if d.startswith("unsafe: ")]
    assert all(why in unsafe for why in NODE_UNSAFE[workdir]), unsafe
    assert not any(" left as is" in d for d in finding.details), finding.details
    out = _fixed(text, unsafe=True, bases={}, path=node_context)
    assert all(c in out for c in NODE_COPIES), out
    assert _fixed(text, bases={}, path=node_context) == text  # unsafe: not applied without --unsafe-fixes


def test_a_workdir_no_run_used_needs_its_parent_buildah_creates_it_with_the_owner(node_context: Path) -> None:
    # The test base has no /usr/src: buildah creates /usr/src and /usr/src/app at the first COPY, which with
    # --chown would give /usr/src the new owner. After the RUN both exist on both builders.
    text = _node("/usr/src/app", base="b", owner="1000:1000")
    finding = _one(text, path=node_context)
    assert finding.fix is not None and finding.fix.safe
    (detail,) = [d for d in finding.details if d.startswith("line 3:")]
    assert detail == ("line 3: COPY left as is: /usr/src is not known to exist here (/usr/src is a WORKDIR no RUN "
                      "has used yet (buildah creates it only then)), and --chown would give a directory it creates "
                      "the new owner")
    out = _fixed(text, path=node_context)
    assert "\nCOPY package*.json ./\n" in out and "\nCOPY --chown=1000:1000 . .\n" in out


def test_the_refusal_says_what_an_existing_path_may_be() -> None:
    # /srv/x exists once `mkdir -p` ran, but a step before may have made it a link: neither "exists" nor a guess.
    text = B + "RUN ln -s /tmp /srv/x || true\nRUN mkdir -p /srv/x/app\nCOPY a /srv/x/app/a\nRUN chown -R 1000 /srv/x\n"
    finding = _one(text)
    assert finding.fix is None
    assert "is exists" not in finding.message
    assert "/srv/x is a directory or a symlink to one" in finding.message or "may be a symlink" in finding.message


def test_a_symlink_above_the_target_changes_nothing_once_the_target_is_a_real_directory() -> None:
    # `chown -R /usr/src/app` re-owns /srv/src/app's tree, the COPY writes into /srv/src/app: the same files.
    text = (B + "RUN mkdir -p /srv/src && ln -s /srv/src /usr/src && mkdir /usr/src/app\nWORKDIR /usr/src/app\n"
            "COPY a ./\nRUN chown -R 1000:1000 /usr/src/app\n")
    finding = _one(text)
    assert finding.fix is not None and finding.fix.safe, finding
    assert "COPY --chown=1000:1000 a ./\n" in _fixed(text)


def test_the_target_itself_a_link_after_mkdir_p_is_still_refused() -> None:
    # `mkdir -p` succeeds on a link to a directory: the path exists, but `chown -R` would change only the link.
    text = B + "RUN ln -s /tmp /data || true\nRUN mkdir -p /data\nCOPY a /data\nRUN chown -R 1000 /data\n"
    finding = _one(text)
    assert not any(d.startswith("line 4: COPY gets") for d in finding.details), finding.details


def test_a_symlink_target_itself_keeps_the_copy_as_is() -> None:
    # `chown -R /usr/src` changes only the link; --chown would re-own what the COPY writes through it.
    text = (B + "RUN mkdir -p /srv/src && ln -s /srv/src /usr/src\nCOPY a /usr/src/a\nRUN chown -R 1000 /usr/src\n")
    finding = _one(text)
    (detail,) = [d for d in finding.details if d.startswith("line 3:")]
    assert "left as is" in detail and "symlink" in detail, detail
