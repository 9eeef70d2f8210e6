"""The ``chown2`` family of tests/fuzz/gen.py: shapes of what chown-layer learned after the first generator.

COPY --chmod for a COPY a later ``chmod -R`` reaches (with or without ``# syntax=docker/dockerfile:1`` or a
BuildKit-only flag), POSIX symbolic modes (``g=u``, ``g+rwX``, ``+x``, ``a-w``, ``u=rwx,go=rx``), a pure account
RUN below the COPY that needs its name (shell and exec form, getopt-clustered ``adduser -DH -u 1000``), ``curl … |
tar -x -C DIR`` and ``cat x.tgz | tar -xz -C DIR``, ``ls -al``/``stat`` between, setcap on a file under the target,
COPY --from of files another stage chowned, a symlink above the target (``WORKDIR /usr/src/app`` with /usr/src a
link) and a root step that reads a file only root can read.

Everything runs on the test base (busybox with the stub account tools; no network): ``curl`` and ``setcap`` are
stubs the case COPYs in (a curl that writes a fixed gzipped tar to stdout, a setcap that only logs its arguments).
The module takes gen's ``_Case`` (duck-typed: ``p``, ``pick``, ``shape``, ``add``, ``rng``, ``lines``, ``files``)
so that it needs nothing from gen.
"""

from __future__ import annotations

from typing import Any

# A curl that downloads nothing: it writes a gzipped tar of a fixed tree (an executable, a 0600 file, a folder).
FAKE_CURL = r"""#!/bin/sh
# fuzz: curl stub, prints a fixed .tar.gz whatever the URL (no network in the test builds)
d=$(mktemp -d) && mkdir -p "$d/pkg/bin" "$d/pkg/share" && echo p > "$d/pkg/bin/p" && chmod 755 "$d/pkg/bin/p" \
  && echo k > "$d/pkg/share/key" && chmod 600 "$d/pkg/share/key" && tar -czf - -C "$d" pkg && rm -rf "$d"
"""
FAKE_SETCAP = "#!/bin/sh\n# fuzz: setcap stub, logs its arguments\nmkdir -p /var/log && echo \"$@\" >> /var/log/setcap.log\n"

SYMBOLIC = ("g=u", "g+rwX", "+x", "a-w", "u=rwx,go=rx", "go-w", "u+rwX,g+rX,o-rwx", "a+rX", "o=")
OCTAL = ("755", "750", "0644", "640", "700")
TARGETS = ("/app", "/srv/app", "/opt/app", "/usr/src/app", "/home/node/app")


def _file(text: str, mode: int = 0o644) -> dict[str, Any]:
    return {"text": text, "mode": mode}


def _context(c: Any) -> None:
    c.files["f.txt"] = _file("hello\n", c.pick(0o644, 0o664, 0o600))
    c.files["tool"] = _file("#!/bin/sh\necho tool\n", c.pick(0o755, 0o700, 0o775))
    c.files["app/main.sh"] = _file("#!/bin/sh\necho main\n", 0o755)
    c.files["app/lib/util.py"] = _file("X = 1\n")
    c.files["app/secret.txt"] = _file("s3cr3t\n", 0o600)


def _account(c: Any, name: str, uid: int) -> tuple[str, str]:
    """(the account RUN's text after `RUN `, group name) in the forms chown-layer's accounts.py reads."""
    form = c.pick("useradd", "adduser-DH", "adduser-D-H", "adduser-S", "exec-adduser", "exec-useradd",
                  "addgroup-adduser", "adduser-cluster-G")
    c.shape(f"acct-{form}")
    if form == "useradd":
        return f"useradd -u {uid} {name}", name
    if form == "adduser-DH":
        return f"adduser -DH -u {uid} {name}", name
    if form == "adduser-D-H":
        return f"adduser -D -H -u {uid} {name}", name
    if form == "adduser-S":
        return f"addgroup -S {name} && adduser -S -G {name} {name}", name
    if form == "exec-adduser":
        return f'["adduser", "-D", "-H", "-u", "{uid}", "{name}"]', name
    if form == "exec-useradd":
        return f'["useradd", "-u", "{uid}", "{name}"]', name
    if form == "addgroup-adduser":
        return f"addgroup -g {uid + 3} grp && adduser -DH -u {uid} -G grp {name}", "grp"
    return f"addgroup -g {uid} {name} && adduser -DHG {name} -u {uid} {name}", name


def _between(c: Any, t: str) -> list[str]:
    """One RUN between the COPYs and the final step."""
    kind = c.pick("ls-al", "stat", "curl-tar", "curl-tar-z", "cat-tgz", "setcap", "root-reads", "none", "none")
    c.shape(f"mid-{kind}")
    if kind == "ls-al":
        return [f"RUN ls -al {t}"]
    if kind == "stat":
        return [f"RUN stat {t} > /dev/null && stat -c '%a %U' {t}/main.sh 2>/dev/null || true"]
    if kind in ("curl-tar", "curl-tar-z"):
        c.files["curl"] = _file(FAKE_CURL, 0o755)
        z = "z" if kind == "curl-tar-z" else ""
        pipe = f"curl -fsSL https://example.com/pkg.tar.gz | tar -x{z} -C {t}" if z else \
            f"curl -fsSL https://example.com/pkg.tar.gz | gunzip | tar -x -C {t}"
        return ["COPY curl /usr/local/bin/curl", f"RUN mkdir -p {t} && {pipe}"]
    if kind == "cat-tgz":
        return ["RUN mkdir -p /tmp/p/pkg && echo v > /tmp/p/pkg/v && chmod 640 /tmp/p/pkg/v"
                " && tar -czf /pkg.tgz -C /tmp/p pkg && rm -rf /tmp/p",
                f"RUN cat /pkg.tgz | tar -xz -C {t} && rm /pkg.tgz"]
    if kind == "setcap":
        c.files["setcap"] = _file(FAKE_SETCAP, 0o755)
        return ["COPY setcap /usr/local/sbin/setcap", f"RUN setcap cap_net_bind_service=+ep {t}/bin/tool"]
    if kind == "root-reads":
        return [f"RUN cat {t}/secret.txt > /tmp/seen && wc -c < /tmp/seen > /seen.len && rm /tmp/seen"]
    return []


def _copies(c: Any, t: str, staged: bool, flags: bool) -> list[str]:
    pool = ["dir", "file", "tool"] + (["from", "from"] if staged else [])
    out: list[str] = []
    for kind in c.rng.sample(pool, c.rng.randint(1, min(3, len(pool)))):
        c.shape(f"cp-{kind}")
        flag = ""
        if flags and c.p(0.25):
            # Not --link: buildah 1.28 rejects it. --chmod is BuildKit-only too, which makes a --chmod fix safe.
            flag = c.pick("--chmod=640 ", "--chmod=755 ", "--chmod=600 ", "--chown=33:33 ")
            c.shape(f"cp-flag-{flag.split('=')[0].strip('- ')}")
        if kind == "dir":
            out.append(f"COPY {flag}app/ {t}/")
        elif kind == "file":
            out.append(f"COPY {flag}f.txt {c.pick(t + '/', t + '/f.txt', t + '/data/f.txt')}")
        elif kind == "tool":
            out.append(f"COPY {flag}tool {t}/bin/tool")
        else:
            out.append(f"COPY {flag}--from=build /out/ {t}/")
    return out


def _final(c: Any, t: str, owner: str) -> str:
    op = c.pick("chmod-sym", "chmod-sym", "chmod-oct", "chown", "both", "chmod-sub")
    c.shape(f"last-{op}")
    sym = c.pick(*SYMBOLIC)
    if op == "chmod-sym":
        c.shape(f"sym-{sym}")
        return f"RUN chmod -R {sym} {t}"
    if op == "chmod-oct":
        return f"RUN chmod -R {c.pick(*OCTAL)} {t}"
    if op == "chmod-sub":
        c.shape(f"sym-{sym}")
        return f"RUN chmod -R {sym} {t}/bin {t}/lib 2>/dev/null || chmod -R {sym} {t}"
    if op == "chown":
        return f"RUN chown -R {owner} {t}"
    c.shape(f"sym-{sym}")
    return f"RUN chown -R {owner} {t} && chmod -R {c.pick(sym, *OCTAL)} {t}"


def chown2_case(c: Any, base: str) -> None:
    _context(c)
    t = c.pick(*TARGETS)
    name, uid = c.pick(("node", 1000), ("app", 1001), ("svc", 1500))
    syntax = c.p(0.5)
    if syntax:
        c.add("# syntax=docker/dockerfile:1")
        c.shape("syntax-line")
    staged = c.p(0.3)
    if staged:
        c.add(f"FROM {base} AS build")
        c.add("RUN mkdir -p /out/bin && echo b > /out/bin/b && chmod 750 /out/bin/b && echo k > /out/k"
              " && chmod 600 /out/k && chown -R 33:33 /out" + c.pick("", " && chown 1:1 /out/k"))
        c.shape("from-stage-owned")
    c.add(f"FROM {base}")
    link_above = t.startswith("/usr/src/") and c.p(0.6)
    if link_above:
        c.add("RUN mkdir -p /opt/src && ln -s /opt/src /usr/src")
        c.shape("link-above-target")
    where = c.pick("base", "before", "moved", "moved", "same-run", "numeric")
    c.shape(f"acct-where-{where}")
    make, group = _account(c, name, uid) if where in ("before", "moved", "same-run") else ("", "")
    if where == "base":
        owner = c.pick("www-data:www-data", "www-data", ":www-data", "daemon:daemon")
    elif where == "numeric":
        owner = c.pick(f"{uid}:{uid}", f"{uid}", f":{uid}")
    else:
        owner = c.pick(f"{name}:{group}", name, f":{group}", f"{name}:")
    if where == "before":
        c.add(f"RUN {make}")
    if c.p(0.5) or link_above:
        c.add(f"WORKDIR {t}")
        c.shape("workdir-target")
    copies = _copies(c, t, staged, flags=True)
    between = _between(c, t)
    # The RUNs between work on files the COPYs must have written.
    if any("/bin/tool" in line for line in between) and not any(" tool " in line for line in copies):
        copies.append(f"COPY tool {t}/bin/tool")
    if any("secret.txt" in line for line in between) and not any(" app/ " in line for line in copies):
        copies.append(f"COPY app/ {t}/")
    for line in copies + between:
        c.add(line)
    if where == "moved":  # a pure account step between the COPY and the chown that names it: moves.py
        c.add(f"RUN {make}")
    final = _final(c, t, owner)
    if where == "same-run" and make.startswith("["):
        c.add(f"RUN {make}")
    elif where == "same-run":
        final = f"RUN {make} && {final[4:]}"
    c.add(final)
    if where in ("before", "moved", "same-run") and c.p(0.4):
        c.add(f"USER {name}")
        c.shape("user-owner")
    if c.p(0.3):
        c.add('CMD ["sh"]')
