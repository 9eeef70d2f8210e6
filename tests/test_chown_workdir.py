"""chown-layer on the shapes a survey of public Dockerfiles met: a project directory a WORKDIR makes below a
directory the base may or may not have, accounts made with clustered options, relative paths under a base image's
WORKDIR, and listings between the COPY and the chown."""

from __future__ import annotations

from pathlib import Path

import pytest

from dockerfix.refactor.engine import run
from dockerfix.refactor.images.compare import compare_images, flatten

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
    "/usr/src/app": ["/usr/src is a directory (not a symlink) in the base image 'node:20-slim'",
                     "/usr/src/app is not a symlink in the base image 'node:20-slim'"],
    "/home/node/app": ["/home/node/app is not a symlink in the base image 'node:20-slim'"],
    "/opt/app": ["/opt/app is not a symlink in the base image 'node:20-slim'"],
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
    assert _fixed(out, unsafe=True, bases={}, path=node_context) == out  # idempotent
    assert _fixed(text, bases={}, path=node_context) == text  # unsafe: not applied without --unsafe-fixes


def test_a_directory_above_that_only_the_base_may_make_a_link_is_assumed(node_context: Path) -> None:
    # /usr/src/app is a real directory (mkdir made it), but /usr/src may be a link in the image: a step could reach
    # the target by another name the analysis does not know.
    text = "FROM node:20-slim\nRUN mkdir -p /usr/src/app\nCOPY index.js /usr/src/app/\nRUN chown -R node:node /usr/src/app\n"
    finding = _one(text, bases={}, path=node_context)
    assert finding.fix is not None and not finding.fix.safe
    assert "unsafe: assumes /usr/src is not a symlink in the base image 'node:20-slim'" in finding.details


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
    assert ("COPY left as is: a path from /srv/x to /srv/x/app/a may be a symlink (the step at line 2 may change "
            "/srv/x), which --chown would write through") in finding.message


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


# Built on both builders: the Node layout on the test base (no /usr/src there), with the stub npm.
_LOCK = (Path(__file__).resolve().parent.parent / "samples" / "deps-npm" / "package-lock.json").read_text()
_PKG = (Path(__file__).resolve().parent.parent / "samples" / "deps-npm" / "package.json").read_text()
NODE_FILES = {"package.json": _PKG, "package-lock.json": _LOCK, "src/index.js": "console.log(1)\n",
              ".dockerignore": "node_modules\nDockerfile\n"}  # the harness writes the Dockerfile into the context
NODE_BUILT = ("FROM localhost/dockerfix-base\nWORKDIR /usr/src/app\nCOPY package*.json ./\nRUN npm ci\nCOPY . .\n"
              "RUN chown -R 1000:1000 /usr/src/app\n")


@pytest.mark.build
def test_node_layout_fix_builds_the_same_image(build_image, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    for rel, content in NODE_FILES.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(content)
    after = run(NODE_BUILT, NAME, path=tmp_path / "Dockerfile", bases=table()).output
    assert "COPY package*.json ./\n" in after and "COPY --chown=1000:1000 . .\n" in after
    _, original = build_image(NODE_BUILT, NODE_FILES)
    _, fixed = build_image(after, NODE_FILES)
    assert [d.text for d in compare_images(original, fixed)] == []


@pytest.mark.build
def test_difference_copy_chown_into_a_fresh_workdir_makes_its_parents_with_the_owner_on_buildah(  # type: ignore[no-untyped-def]
        build_image) -> None:
    """Why the first COPY is left as is: buildah creates the unused WORKDIR and its missing parent /usr/src at that
    COPY, and with --chown gives both the new owner (the original's `chown -R /usr/src/app` leaves /usr/src root's);
    BuildKit made both at the WORKDIR, as root."""
    wrong = NODE_BUILT.replace("COPY ", "COPY --chown=1000:1000 ").replace(
        "RUN chown -R 1000:1000 /usr/src/app", r"RUN find /usr/src/app \( ! -user 1000 -o ! -group 1000 \) "
        r"-exec chown -h 1000:1000 {} +")
    _, original = build_image(NODE_BUILT, NODE_FILES)
    _, bad = build_image(wrong, NODE_FILES)
    diffs = sorted({d.path for d in compare_images(original, bad)})
    assert diffs == (["/usr/src"] if build_image.builder.name == "buildah" else []), diffs
    assert (flatten(bad)["/usr/src"].uid == 1000) == (build_image.builder.name == "buildah")


# A listing between the COPY and the chown whose output goes only to the build log does not block the move.
LISTING_PLAIN = {
    "ls-al": "RUN ls -al\n",
    "ls-l-dir": "RUN ls -l /data\n",
    "stat": "RUN stat /data/a && echo done\n",
    "ls-in-a-chain": "RUN set -e; ls -la /data; du -sh /data\n",
}
LISTING_CAPTURED = {
    "redirected": "RUN ls -l /data > /listing.txt\n",
    "piped": "RUN ls -l /data | grep root > /roots\n",
    "substitution": "RUN echo \"$(stat -c %U /data/a)\" > /owner\n",
    "exec-redirect": "RUN exec > /log; ls -l /data\n",
    "subshell-redirect": "RUN (ls -l /data) > /listing\n",
    "in-a-condition": "RUN if ls -l /data | grep -q root; then touch /rooted; fi\n",
}


@pytest.mark.parametrize("name", sorted(LISTING_PLAIN))
def test_a_listing_to_the_build_log_is_not_a_reader(name: str) -> None:
    text = B + "COPY a /data/a\n" + LISTING_PLAIN[name] + "RUN chown -R 1000:1000 /data\n"
    out = _fixed(text)
    assert "COPY --chown=1000:1000 a /data/a\n" in out, out
    assert _one(text).fix.safe  # type: ignore[union-attr]


@pytest.mark.parametrize("name", sorted(LISTING_CAPTURED))
def test_a_listing_whose_output_is_kept_is_a_reader(name: str) -> None:
    text = B + "COPY a /data/a\n" + LISTING_CAPTURED[name] + "RUN chown -R 1000:1000 /data\n"
    finding = _one(text)
    assert finding.fix is None, finding
    assert any("line 2: COPY left as is: the RUN at line 3" in d for d in finding.details), finding.details


def test_a_listing_in_the_chowns_own_run_before_it() -> None:
    plain = B + "COPY a /data/a\nRUN ls -l /data && chown -R 1000:1000 /data\n"
    assert "COPY --chown=1000:1000 a /data/a\n" in _fixed(plain)
    kept = B + "COPY a /data/a\nRUN ls -l /data > /before && chown -R 1000:1000 /data\n"
    assert _one(kept).fix is None


# A relative chown path whose working directory the Dockerfile does not set: the reason says which directory.
RELATIVE = {
    "base-workdir": ("FROM wordpress:6-apache\nCOPY wp-content/ /var/www/html/wp-content/\n"
                     "RUN chown -R www-data:www-data wp-content\n",
                     "not fixed: the path 'wp-content' is relative and the working directory comes from the base "
                     "image 'wordpress:6-apache', whose WORKDIR is not known; write the path in full or set WORKDIR"),
    "relative-workdir": ("FROM php:8-apache\nWORKDIR sub\nCOPY a sub/a\nRUN chown -R 1000 .\n",
                         "not fixed: the path '.' is relative and the WORKDIR at line 2 is relative to the base "
                         "image's, which is not known"),
    "unknown-workdir": ("FROM b\nARG D\nWORKDIR $D\nCOPY a a\nRUN chown -R 1000 a\n",
                        "not fixed: the path 'a' is relative and the WORKDIR at line 3 has a value the Dockerfile "
                        "does not give"),
    "unknown-variable": ("FROM b\nCOPY a /a\nRUN chown -R 1000 $P\n",
                         "not fixed: the path '$P' has a value the Dockerfile does not give"),
}


@pytest.mark.parametrize("name", sorted(RELATIVE))
def test_a_relative_path_without_a_known_working_directory_says_why(name: str) -> None:
    text, message = RELATIVE[name]
    finding = _one(text, bases=None if text.startswith("FROM b") else {})
    assert finding.fix is None and finding.message == message
    assert _fixed(text, unsafe=True, bases={}) == text


def test_a_system_user_of_adduser_has_no_group_of_its_name() -> None:
    # busybox adduser -S (and Debian's --system without --group) puts the user into nogroup: `svc:svc` names a
    # group that does not exist, and --chown=svc:svc would fail on buildah and give gid 0 on BuildKit.
    text = B + "RUN adduser -D -S svc\nCOPY a /data/a\nRUN chown -R svc:svc /data\n"
    assert _fixed(text, unsafe=True) == text
    ok = B + "RUN adduser -D -S svc\nCOPY a /data/a\nRUN chown -R svc:nogroup /data\n"
    assert "COPY --chown=svc:nogroup a /data/a\n" in _fixed(ok)


# shadow's useradd reads clustered options as getopt does; built on the Debian test base (real useradd, bash).
DEBIAN_ACCOUNTS = ("FROM localhost/dockerfix-debian\nRUN useradd -ms /bin/bash appuser && useradd -rmU -u1600 svc\n"
                   "COPY f.txt /srv/app/f.txt\nCOPY f.txt /srv/svc/f.txt\n"
                   "RUN chown -R appuser:appuser /srv/app && chown -R svc:svc /srv/svc\n")


def _debian_bases(rootfs: Path) -> dict:  # type: ignore[type-arg]
    from .testbases import DEBIAN, debian_facts

    return {**table(), DEBIAN: debian_facts(rootfs)}


def test_clustered_useradd_on_debian_fixed_text(debian_rootfs_tar: Path) -> None:
    out = run(DEBIAN_ACCOUNTS, NAME, bases=_debian_bases(debian_rootfs_tar)).output
    assert "COPY --chown=appuser:appuser f.txt /srv/app/f.txt\nCOPY --chown=svc:svc f.txt /srv/svc/f.txt\n" in out, out


@pytest.mark.build
def test_clustered_useradd_on_debian_builds_the_same_image(debian_build_image, debian_rootfs_tar: Path,  # type: ignore[no-untyped-def]
                                                          tmp_path: Path) -> None:
    files = {"f.txt": "f\n"}
    (tmp_path / "f.txt").write_text("f\n")
    after = run(DEBIAN_ACCOUNTS, NAME, path=tmp_path / "Dockerfile", bases=_debian_bases(debian_rootfs_tar)).output
    assert after != DEBIAN_ACCOUNTS and "--chown=appuser:appuser" in after
    _, original = debian_build_image(DEBIAN_ACCOUNTS, files)
    _, fixed = debian_build_image(after, files)
    assert [d.text for d in compare_images(original, fixed)] == []


# A step that reaches the target by another name, through a symlink, sees the owners too.
ALIASED = {
    "link-above-target": (B + "RUN mkdir -p /srv/src && ln -s /srv/src /usr/src && mkdir /usr/src/app\n"
                          "COPY a /usr/src/app/a\nRUN cp -a /srv/src/app /backup\nRUN chown -R 1000:1000 /usr/src/app\n",
                          "/srv/src/app is another name of /usr/src/app"),
    "link-to-target": (B + "RUN mkdir /data && ln -s /data /d\nCOPY a /data/a\nRUN cp -a /d/ /backup\n"
                       "RUN chown -R 1000:1000 /data\n", "/d is another name of /data"),
    "link-above-relative": (B + "RUN mkdir -p /srv && ln -s ../srv /s\nCOPY a /srv/data/a\nRUN tar -cf /x.tar /s/data\n"
                            "RUN chown -R 1000:1000 /srv/data\n", "/s/data is another name of /srv/data"),
    "link-not-known": (B + "RUN ln -s /x /usr/src || true\nRUN mkdir /usr/src/app\nCOPY a /usr/src/app/a\n"
                       "RUN tar -cf /x.tar /elsewhere\nRUN chown -R 1000:1000 /usr/src/app\n",
                       "a directory above /usr/src/app may be a symlink to a place not known"),
}


@pytest.mark.parametrize("name", sorted(ALIASED))
def test_a_step_reaching_the_target_through_a_symlink_is_a_reader(name: str) -> None:
    text, why = ALIASED[name]
    finding = _one(text)
    assert finding.fix is None, finding
    assert why in finding.message, finding.message
    assert _fixed(text, unsafe=True) == text


def test_a_step_elsewhere_is_no_reader_when_every_link_is_known() -> None:
    text = (B + "RUN mkdir -p /srv/src && ln -s /srv/src /usr/src && mkdir /usr/src/app\nCOPY a /usr/src/app/a\n"
            "RUN tar -cf /etc.tar /etc\nRUN chown -R 1000:1000 /usr/src/app\n")
    assert "COPY --chown=1000:1000 a /usr/src/app/a\n" in _fixed(text)


@pytest.mark.build
def test_harness_catches_a_copy_chown_seen_through_a_symlink(build_image) -> None:  # type: ignore[no-untyped-def]
    """The wrong fix for `link-above-target`: the COPY carrying the owner changes what `cp -a` copies to /backup."""
    text, _ = ALIASED["link-above-target"]
    text = text.replace("FROM b\n", "FROM localhost/dockerfix-base\n")
    wrong = text.replace("COPY a ", "COPY --chown=1000:1000 a ")
    _, original = build_image(text, {"a": "a\n"})
    _, bad = build_image(wrong, {"a": "a\n"})
    assert ("/backup/a", "uid") in {(d.path, d.field) for d in compare_images(original, bad)}
