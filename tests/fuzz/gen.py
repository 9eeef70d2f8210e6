"""Seeded generator of small Dockerfiles with their build contexts, in the shapes real files use.

``case(seed, index)`` returns one case, a plain dict (JSON-ready, so a finding can be saved and replayed):

    {"id": "s7-i12", "family": "chown" | "chown2" | "deps", "shapes": [...tags...], "dockerfile": "FROM ...",
     "files": {"rel/path": {"text": "...", "mode": 0o644} | {"symlink": "target"} | {"hardlink": "other/rel"}}}

Every case builds on the test base image (``localhost/dockerfix-base``: busybox plus stub tools, users root,
daemon, www-data (33), nobody). The cases are biased towards what dockerfix fixes: most chown cases end with a
``RUN chown -R``/``chmod -R`` over paths that COPYs or RUNs wrote earlier, and every deps case installs after a
``COPY . .``. The shapes are those of the wrong fixes found by hand (users made before, in or after the step, by
name, id or exec form; quoted and variable owners; WORKDIR/ARG/ENV across stages; symlinks and hard links made in
many ways; RUNs that copy, move, archive or remove files under the target; setuid files; pip options that name
local files; .dockerignore). The ``chown2`` family (tests/fuzz/shapes_more.py) has the shapes chown-layer learned
later: COPY --chmod, symbolic modes, moved account steps, curl/cat piped into tar, setcap, links above the target.

Deterministic: the same (seed, index) always gives the same case (``random.Random`` seeded with an int).
"""

from __future__ import annotations

import random
from typing import Any

from .shapes_more import chown2_case

BASE = "localhost/dockerfix-base"

# A stricter pip than the base image's stub: like real pip, it fails when a file or folder that an option names
# (-c, -f/--find-links, --cert, PIP_FIND_LINKS, PIP_CONSTRAINT) is missing, and it records a digest of what it read,
# so a fix that makes pip read a different (or older) file shows in the image.
STRICT_PIP = r"""#!/bin/sh
# fuzz: pip that checks the local inputs its options name, then runs the stub pip
log=/usr/local/lib/python3/pip-inputs.log
mkdir -p "${log%/*}"
need() {
  case "$1" in *://*) return 0 ;; esac
  [ -e "$1" ] || { echo "pip: ERROR: no such file or directory: $1" >&2; exit 1; }
  if [ -d "$1" ]; then (cd "$1" && find . | LC_ALL=C sort) >> "$log"; else sha256sum "$1" >> "$log"; fi
}
prev=
for a in "$@"; do
  case "$prev" in -c|--constraint|-f|--find-links|--cert|--client-cert) need "$a" ;; esac
  case "$a" in --constraint=*|--find-links=*|--cert=*) need "${a#*=}" ;; esac
  prev=$a
done
for v in "$PIP_FIND_LINKS" "$PIP_CONSTRAINT" "$PIP_CERT"; do [ -z "$v" ] || need "$v"; done
exec /usr/local/bin/pip "$@"
"""

TARGETS = ("/app", "/srv/app", "/data", "/opt/app", "/var/lib/app", "/home/app/svc", "/srv/www")
USERS = (("app", 1000), ("svc", 1500), ("web", 2000))


def _file(text: str, mode: int = 0o644) -> dict[str, Any]:
    return {"text": text, "mode": mode}


class _Case:
    def __init__(self, rng: random.Random, family: str) -> None:
        self.rng = rng
        self.family = family
        self.lines: list[str] = []
        self.files: dict[str, dict[str, Any]] = {}
        self.shapes: list[str] = []

    def p(self, probability: float) -> bool:
        return self.rng.random() < probability

    def pick(self, *options: Any) -> Any:
        return self.rng.choice(options)

    def shape(self, tag: str) -> None:
        self.shapes.append(tag)

    def add(self, line: str) -> None:
        self.lines.append(line)

    def done(self, ident: str) -> dict[str, Any]:
        return {"id": ident, "family": self.family, "shapes": self.shapes,
                "dockerfile": "\n".join(self.lines) + "\n", "files": self.files}


# ------------------------------------------------------------------------------------------------ chown family


def _context_tree(c: _Case) -> None:
    """A small context: loose files, an app/ folder with an executable, a 0640 file, a symlink and a hard link."""
    c.files["f.txt"] = _file("hello\n")
    c.files["conf.ini"] = _file("[main]\nkey = 1\n", c.pick(0o644, 0o640, 0o600))
    c.files["tool"] = _file("#!/bin/sh\necho tool\n", c.pick(0o755, 0o4755, 0o2755))
    c.files["app/main.sh"] = _file("#!/bin/sh\necho main\n", 0o755)
    c.files["app/lib/util.py"] = _file("X = 1\n")
    c.files["app/secret.txt"] = _file("s3cr3t\n", 0o600)
    if c.p(0.3):
        c.files["app/current"] = {"symlink": c.pick("main.sh", "lib", "/etc/passwd")}
        c.shape("ctx-symlink")
    if c.p(0.2):
        c.files["app/main-hard.sh"] = {"hardlink": "app/main.sh"}
        c.shape("ctx-hardlink")


def _user_forms(c: _Case, name: str, uid: int) -> tuple[str, str]:
    """(how the user is made, group name); each is the text of one shell command (or an exec-form RUN)."""
    form = c.pick("useradd", "useradd", "adduser", "groupadd", "exec", "useradd-b", "useradd-noid")
    c.shape(f"user-{form}")
    if form == "useradd":
        return f"useradd -u {uid} {name}", name
    if form == "adduser":
        return f"addgroup -g {uid} {name} && adduser -D -H -u {uid} -G {name} {name}", name
    if form == "groupadd":
        return f"groupadd -g {uid + 7} grp && useradd -u {uid} -g grp {name}", "grp"
    if form == "exec":
        return f'["useradd", "-u", "{uid}", "{name}"]', name
    if form == "useradd-b":
        return f"useradd -m -d /home/{name} -u {uid} {name}", name
    return f"useradd {name}", name


def _owner(c: _Case, user: str | None, group: str | None, uid: int) -> tuple[str, list[str]]:
    """The owner argument of the chown and the lines (ARG/ENV) it needs."""
    pre: list[str] = []
    if user is None:
        form = c.pick("numeric", "numeric", "uid-only", "colon-gid", "base-name", "var")
        c.shape(f"owner-{form}")
        if form == "numeric":
            return f"{uid}:{uid}", pre
        if form == "uid-only":
            return f"{uid}", pre
        if form == "colon-gid":
            return f":{uid}", pre
        if form == "base-name":
            return c.pick("www-data:www-data", "nobody:nogroup", "daemon"), pre
        pre.append(c.pick(f"ARG UID={uid}", f"ENV UID={uid}"))
        return c.pick("${UID}:${UID}", '"$UID:$UID"', "$UID"), pre
    form = c.pick("name", "name", "name-only", "name-colon", "quoted", "var", "id")
    c.shape(f"owner-{form}")
    if form == "name":
        return f"{user}:{group}", pre
    if form == "name-only":
        return user, pre
    if form == "name-colon":
        return f"{user}:", pre
    if form == "quoted":
        return f'"{user}:{group}"', pre
    if form == "var":
        pre.append(c.pick(f"ARG APP_USER={user}", f"ENV APP_USER={user}"))
        return c.pick("${APP_USER}:${APP_USER}", '"${APP_USER}"', "$APP_USER"), pre
    return f"{uid}:{uid}", pre


def _between(c: _Case, t: str) -> list[str]:
    """One RUN between the COPYs and the final chown, writing, moving, copying or archiving under the target."""
    kind = c.pick("mkdir", "mkdir", "mv-in", "mv-out", "rm", "cp-a-out", "cp-a-in", "tar-out", "tar-in",
                  "ln-s-out", "ln-s-in", "ln-hard", "setuid", "chmod-sym", "touch-d", "or-fallback",
                  "mkdir-rm", "mkdir-mv", "cd-ln", "symlink-from-outside", "cp-symlink")
    c.shape(f"run-{kind}")
    if kind == "mkdir":
        return [f"RUN mkdir -p {t}/cache && echo x > {t}/cache/x"]
    if kind == "mv-in":
        return [f"RUN mv {t}/f.txt {t}/g.txt"]
    if kind == "mv-out":
        return [f"RUN mkdir -p {t}/tools && echo t > {t}/tools/t.sh && mv {t}/tools /opt/tools"]
    if kind == "rm":
        return [f"RUN rm -f {t}/f.txt"]
    if kind == "cp-a-out":
        return [f"RUN cp -a {t} {t}.template"]
    if kind == "cp-a-in":
        return [f"RUN cp -a {t}/f.txt {t}/copy.txt"]
    if kind == "tar-out":
        # An archive stores mtimes, which differ from build to build: keep only its listing (mode, owner, size,
        # name), which is what a fix could change.
        return [f"RUN tar -cf /seed.tar -C {t} . && tar -tvf /seed.tar | awk '{{print $1, $2, $3, $NF}}' | sort"
                f" > /seed.list && rm /seed.tar"]
    if kind == "tar-in":
        return [f"RUN mkdir -p /tmp/t/x && echo in > /tmp/t/x/y && tar -cf /tmp/t.tar -C /tmp/t ."
                f" && tar -xf /tmp/t.tar -C {t}"
                " && rm -rf /tmp/t /tmp/t.tar"]
    if kind == "ln-s-out":
        return [f"RUN mkdir -p /var/lib/shared && echo s > /var/lib/shared/s.txt && chmod 640 /var/lib/shared/s.txt"
                f" && ln -s /var/lib/shared {t}/shared"]
    if kind == "ln-s-in":
        return [f"RUN ln -s f.txt {t}/f.link"]
    if kind == "ln-hard":
        return [f"RUN ln {t}/f.txt /usr/local/bin/hard"]
    if kind == "setuid":
        return [f"RUN echo '#!/bin/sh' > {t}/suid && chmod {c.pick('4755', 'u+s,a+rx', '2755', '6755')} {t}/suid"]
    if kind == "chmod-sym":
        return [f"RUN chmod {c.pick('g+w', 'o-r', 'u=rwx,go=rx', '600')} {t}/f.txt"]
    if kind == "touch-d":
        return [f"RUN touch -d 2020-01-01 {t}/.stamp"]
    if kind == "or-fallback":
        return [f"RUN cp /etc/nonexistent.conf {t}/app.conf 2>/dev/null || echo using defaults"]
    if kind == "mkdir-rm":
        return [f"RUN mkdir -p {t}/build && echo x > {t}/build/tmp && rm -rf {t}/build"]
    if kind == "mkdir-mv":
        return [f"RUN mkdir -p {t}/incoming && touch {t}/incoming/x && mv {t}/incoming {t}/ready"]
    if kind == "cd-ln":
        return [f"RUN mkdir -p /opt/real && echo r > /opt/real/r.txt && cd {t} && ln -s /opt/real real"]
    if kind == "cp-symlink":
        return [f"RUN mkdir -p /opt/real && echo r > /opt/real/r.txt && chmod 640 /opt/real/r.txt"
                f" && ln -s /opt/real /tmp/l && cp -a /tmp/l {t}/linked && rm /tmp/l"]
    return [f"RUN mkdir -p /opt/outside && echo o > /opt/outside/o.txt && chmod 600 /opt/outside/o.txt"
            f" && ln -s /opt/outside {t}/out"]


def _copies(c: _Case, t: str, var: str | None, from_stage: bool) -> list[str]:
    """One to three COPYs that write under the target."""
    dst = f"${{{var}}}" if var else t
    pool = ["file", "file-sub", "dir", "tool", "conf", "dot"]
    if from_stage:
        pool += ["from", "from"]
    out: list[str] = []
    for kind in c.rng.sample(pool, c.rng.randint(1, 3)):
        c.shape(f"copy-{kind}")
        flag = ""
        if c.p(0.12):
            flag = c.pick("--chown=33:33 ", "--chown=www-data ", "--chmod=750 ", "--chown=1:1 ")
            c.shape("copy-flag")
        if kind == "file":
            out.append(f"COPY {flag}f.txt {dst}/f.txt")
        elif kind == "file-sub":
            out.append(f"COPY {flag}f.txt {dst}/data/f.txt")
        elif kind == "dir":
            out.append(f"COPY {flag}app/ {dst}/")
        elif kind == "tool":
            out.append(f"COPY {flag}tool {dst}/bin/tool")
        elif kind == "conf":
            out.append(f"COPY {flag}conf.ini {dst}/")
        elif kind == "dot":
            ignore = c.pick("*.md\n", "app/secret.txt\n", "tool\n!tool\n", "app\n!app/main.sh\n")
            c.files[".dockerignore"] = _file(ignore)
            out.append(f"COPY {flag}. {dst}/")
        else:
            out.append(f"COPY {flag}--from=build /out/ {dst}/built/")
    return out


def _chown_case(c: _Case) -> None:
    _context_tree(c)
    t = c.pick(*TARGETS)
    name, uid = c.pick(*USERS)
    staged = c.p(0.35)
    child = staged and c.p(0.5)  # FROM build (inherits files, ENV, users) rather than COPY --from=build
    var: str | None = None
    user_where = c.pick("base", "none", "before", "before", "between", "same-run", "parent", "after")
    if user_where == "parent" and not child:
        user_where = "before"
    c.shape(f"user-{user_where}")
    make, group = _user_forms(c, name, uid) if user_where not in ("base", "none") else ("", "")
    # A user made after the chown cannot be named by it: the chown then uses numeric ids.
    user: str | None = None if user_where in ("base", "none", "after") else name
    parent = t.rsplit("/", 1)[0] or "/"

    def user_run() -> str:
        return f"RUN {make}"

    if staged:
        c.shape("child-stage" if child else "copy-from-stage")
        c.add(f"FROM {BASE} AS build")
        if c.p(0.4):
            var = "APP_DIR"
            c.add(c.pick(f"ARG APP_DIR={t}", f"ENV APP_DIR={t}"))
            c.shape("var-in-parent")
        c.add("RUN mkdir -p /out && echo built > /out/app.bin && chmod 4755 /out/app.bin && chown 33:33 /out/app.bin")
        if child and c.p(0.35):
            c.add(f"RUN mkdir -p /opt/real {parent} && echo r > /opt/real/r.txt && ln -s /opt/real {t}")
            c.shape("target-symlink-parent")
        if child and c.p(0.25):
            c.add(f"WORKDIR {t}")
            c.shape("workdir-parent-stage")
        if user_where == "parent":
            c.add(user_run())
        c.add("FROM build" if child else f"FROM {BASE}")
    else:
        c.add(f"FROM {BASE}")
    if not staged or not child:
        var = None
    if c.p(0.25) and var is None:
        var = "APP_DIR"
        c.add(c.pick(f"ARG APP_DIR={t}", f"ENV APP_DIR={t}"))
        c.shape("var")
    if c.p(0.3):
        w = c.pick(t, parent, f"{t}/data")
        c.add(f"WORKDIR {w}")
        c.shape("workdir-target" if w == t else "workdir-other")
    if user_where == "before":
        c.add(user_run())
    if c.p(0.12):
        how = c.pick("mv", "cp -a")
        c.add(f"RUN mkdir -p /opt/real {parent} && ln -s /opt/real /tmp/l && {how} /tmp/l {t}")
        c.shape(f"target-symlink-{how.split()[0]}")
    between = [user_run()] if user_where == "between" else []
    for _ in range(c.rng.choice((0, 1, 1, 1, 2))):
        step = _between(c, t)
        if step[0] not in between:
            between += step
    lines = _copies(c, t, var, from_stage=staged and not child)
    if any(f"{t}/f.txt" in line for line in between) and not any(
            line.endswith("/f.txt") and not line.endswith("/data/f.txt") for line in lines):
        lines.insert(0, f"COPY f.txt {t}/f.txt")  # the RUNs between work on it
    c.rng.shuffle(between)
    # Steps that remove or rename f.txt go last, so the others still find it.
    between.sort(key=lambda line: f"rm -f {t}/f.txt" in line or f"mv {t}/f.txt" in line)
    for line in lines:
        c.add(line)
    # Some RUNs before the last COPY too, but not one that works on f.txt when that COPY is what writes it.
    writes_f = lines[-1].endswith("/f.txt") and not lines[-1].endswith("/data/f.txt")
    if between and len(lines) > 1 and c.p(0.5) and not (writes_f and f"{t}/f.txt" in between[0]):
        c.lines.insert(len(c.lines) - 1, between.pop(0))
    for line in between:
        c.add(line)
    owner, pre = _owner(c, user, group, uid)
    for line in pre:
        c.add(line)
    paths = t if not c.p(0.15) else f"{t} /opt/extra"
    if " " in paths:
        last_from = max(i for i, line in enumerate(c.lines) if line.startswith("FROM "))
        c.lines.insert(last_from + 1, "RUN mkdir -p /opt/extra && echo e > /opt/extra/e.txt")
        c.shape("two-targets")
    if c.p(0.15) and var:
        paths = f"${{{var}}}"
    op = c.pick("chown", "chown", "chown", "chmod", "both")
    mode = c.pick("755", "750", "644", "u+rwX,go+rX", "g+w", "2775")
    prefix = f"{make} && " if user_where == "same-run" and not make.startswith("[") else ""
    if user_where == "same-run" and make.startswith("["):
        c.add(f"RUN {make}")
    if op == "chown":
        c.add(f"RUN {prefix}chown -R {owner} {paths}")
    elif op == "chmod":
        c.add(f"RUN {prefix}chmod -R {mode} {paths}")
        c.shape(f"chmod-{mode}")
    else:
        c.add(f"RUN {prefix}chown -R {owner} {paths} && chmod -R {mode} {paths}")
        c.shape(f"chmod-{mode}")
    c.shape(f"final-{op}")
    if user_where == "after":
        c.add(user_run())
    if user and c.p(0.3):
        c.add(f"USER {user}")
    if c.p(0.3):
        c.add('CMD ["sh"]')


# ------------------------------------------------------------------------------------------------- deps family


def _deps_case(c: _Case) -> None:
    c.files["pipcheck"] = _file(STRICT_PIP, 0o755)
    c.files["src/main.py"] = _file("print('hi')\n")
    c.files["src/main.pyc"] = _file("compiled\n")
    c.files["src/tests/test_x.py"] = _file("def test(): pass\n")
    c.files["README.md"] = _file("# app\n")
    reqs = ["flask", "requests==2.31"]
    extras: list[str] = []
    opts: list[str] = []
    env: list[str] = []
    wd = c.pick("/app", "/app", "/srv/api", "/home/app/svc")
    layout = c.pick("workdir-dot", "workdir-dot", "abs", "multi-source", "shadow")
    whole = layout in ("workdir-dot", "abs")  # the whole context is copied: options may name any local file
    if whole and c.p(0.35):
        c.files["wheels/flask-3.0-py3-none-any.whl"] = _file("wheel\n")
        form = c.pick("cli", "cli-eq", "short", "env", "in-reqs")
        c.shape(f"find-links-{form}")
        if form == "cli":
            opts += ["--no-index", "--find-links", "./wheels"]
        elif form == "cli-eq":
            opts += ["--find-links=./wheels"]
        elif form == "short":
            opts += ["-f", "wheels"]
        elif form == "env":
            env.append(f"ENV PIP_NO_INDEX=1 PIP_FIND_LINKS={wd}/wheels")
        else:
            extras.append("--find-links ./wheels")
    if whole and c.p(0.35):
        c.files["constraints.txt"] = _file("flask<4\n")
        form = c.pick("cli", "long", "in-reqs", "env")
        c.shape(f"constraints-{form}")
        if form == "cli":
            opts += ["-c", "constraints.txt"]
        elif form == "long":
            opts += ["--constraint", "constraints.txt"]
        elif form == "env":
            env.append(f"ENV PIP_CONSTRAINT={wd}/constraints.txt")
        else:
            extras.append("-c constraints.txt")
    if whole and c.p(0.15):
        c.files["certs/ca.pem"] = _file("-----BEGIN CERTIFICATE-----\n")
        opts += ["--cert", "certs/ca.pem"]
        c.shape("cert")
    if whole and c.p(0.25):
        c.files["requirements/base.txt"] = _file("click\n")
        extras.append("-r requirements/base.txt")
        c.shape("nested-reqs")
    if c.p(0.1):
        opts.append("--no-cache-dir")
    c.files["requirements.txt"] = _file("\n".join(extras + reqs) + "\n")
    if c.p(0.4):
        ignore = c.pick("*.md\n", "**/*.pyc\n", "wheels\n", "src/tests\n", "requirements\n!requirements/base.txt\n",
                        "constraints.txt\n", "*\n!src\n!requirements.txt\n!pipcheck\n")
        c.files[".dockerignore"] = _file(ignore)
        c.shape("dockerignore")
    c.add(f"FROM {BASE}")
    c.add("COPY pipcheck /usr/local/sbin/pip")
    c.add("COPY pipcheck /usr/local/sbin/pip3")
    c.shape(f"layout-{layout}")
    for line in env:
        c.add(line)
    if layout == "abs":
        c.add(f"COPY . {wd}")
        req = f"{wd}/requirements.txt"
        if not any(o in ("-c", "--constraint", "--cert") or o.startswith("--find") or o == "-f" for o in opts) \
                and not extras and c.p(0.5):
            pass
        else:
            c.add(f"WORKDIR {wd}")
            req = "requirements.txt"
    else:
        c.add(f"WORKDIR {wd}")
        req = "requirements.txt"
        if layout == "shadow":
            c.files["requirements-base.txt"] = _file("flask\n")
            c.add("COPY requirements-base.txt requirements.txt")
            c.add("COPY requirements.txt src ./")
        elif layout == "multi-source":
            c.add(f"COPY {c.pick('requirements.txt src ./', 'req* src ./', 'src requirements.txt ./')}")
        else:
            c.add("COPY . .")
    before = ""
    if c.p(0.1):
        before = "echo gunicorn | tee -a requirements.txt && "
        c.shape("edit-before-install")
    tail = c.pick("", "", "", " && find . -name '*.pyc' | xargs rm -f", " && (cd src && rm -rf tests)",
                  " && rm -rf wheels", " && python3 -m compileall -q src", " && pip --version > /pipv")
    if tail:
        c.shape("tail-" + tail.split()[1])
    install = c.pick("pip install", "pip install", "pip3 install", "python3 -m pip install")
    c.shape(install.split()[0])
    c.add(f"RUN {before}{install} {' '.join(opts + ['-r', req])}{tail}")
    if c.p(0.2):
        c.add("RUN useradd -u 1000 app && chown -R app:app " + wd)
        c.shape("deps-and-chown")
    c.add('CMD ["python3", "src/main.py"]')


def case(seed: int, index: int) -> dict[str, Any]:
    """The case number ``index`` of the slice ``seed``."""
    rng = random.Random(seed * 1_000_003 + index)
    roll = rng.random()
    c = _Case(rng, "chown" if roll < 0.45 else "chown2" if roll < 0.7 else "deps")
    if c.family == "chown":
        _chown_case(c)
    elif c.family == "chown2":
        chown2_case(c, BASE)
    else:
        _deps_case(c)
    return c.done(f"s{seed}-i{index}")


def cases(seed: int, count: int, start: int = 0) -> list[dict[str, Any]]:
    return [case(seed, i) for i in range(start, start + count)]
