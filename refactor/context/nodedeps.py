"""Node dependency installs (npm, yarn, pnpm): the command line, the files it reads, what can break a move.

`package.json` and `package-lock.json` are JSON; `yarn.lock`, `.yarnrc.yml` and `pnpm-workspace.yaml` are
only searched for the few keys that matter (no YAML parser is needed for that). Like pydeps, every reader
either answers or raises `Unsupported` with the reason.
"""

from __future__ import annotations

import json
import posixpath
import re
from dataclasses import dataclass, field
from typing import Any

from dockerfix.refactor.context.pydeps import Reader, Unsupported

_NPM_INSTALL = frozenset("install i in ins inst insta instal isnt isnta isntal isntall add".split())
_NPM_CI = frozenset("ci clean-install ic install-clean isntall-clean".split())
_VALUE_OPTS = {
    "npm": frozenset("--omit --include --only --prefix -C --cache --registry --loglevel --workspace -w "
                     "--install-strategy --userconfig --globalconfig --script-shell --tag --audit-level "
                     "--fetch-retries --fetch-timeout --maxsockets --location --before --cpu --os --libc".split()),
    "yarn": frozenset("--network-timeout --cache-folder --modules-folder --cwd --mutex --registry "
                      "--network-concurrency --mode --global-folder --link-folder --use-yarnrc".split()),
    "pnpm": frozenset("--store-dir --dir -C --filter -F --reporter --network-concurrency --virtual-store-dir "
                      "--modules-dir --lockfile-dir --workspace-dir".split()),
}
# Lifecycle scripts npm, yarn and pnpm run for the project itself on install.
INSTALL_SCRIPTS = ("preinstall", "install", "postinstall", "prepublish", "preprepare", "prepare", "postprepare")
_LOCAL_DEP = re.compile(r"^(file:|link:|portal:|workspace:|exec:|patch:|\.{1,2}/|/|~/)")


@dataclass
class NodeCall:
    tool: str  # npm, yarn or pnpm
    ci: bool = False  # `npm ci`
    frozen: bool = False  # never rewrites the lockfile
    ignore_scripts: bool = False
    global_: bool = False
    packages: list[str] = field(default_factory=list)  # named packages: `npm install x`, `yarn add x`
    options: dict[str, str] = field(default_factory=dict)
    flags: set[str] = field(default_factory=set)

    @property
    def project(self) -> str | None:
        """The project directory an option names, relative to the working directory or absolute."""
        for opt in ("--prefix", "--cwd", "--dir", "-C"):
            if opt in self.options:
                return self.options[opt]
        return None


def node_call(words: list[str]) -> NodeCall | None:
    """Recognise an install by npm, yarn or pnpm; None for other commands (`npm run build`, `yarn test`)."""
    if not words:
        return None
    tool = posixpath.basename(words[0])
    if tool not in ("npm", "yarn", "pnpm"):
        return None
    call = NodeCall(tool)
    value_opts = _VALUE_OPTS[tool]
    positional: list[str] = []
    i = 1
    while i < len(words):
        w = words[i]
        if w.startswith("-") and len(w) > 1:
            name, eq, val = w.partition("=")
            if eq:
                call.options[name] = val
            elif w in value_opts and i + 1 < len(words):
                call.options[w] = words[i + 1]
                i += 1
            else:
                call.flags.add(w)
        else:
            positional.append(w)
        i += 1
    sub = positional[0] if positional else ""
    rest = positional[1:]
    if tool == "npm":
        if sub in _NPM_CI:
            call.ci = call.frozen = True
        elif sub not in _NPM_INSTALL:
            return None
        call.packages = rest
    elif tool == "yarn":
        if sub == "global":
            call.global_ = True
            call.packages = rest[1:]
        elif sub in ("", "install"):
            pass
        elif sub == "add":
            call.packages = rest
        else:
            return None
        call.frozen = bool({"--frozen-lockfile", "--immutable", "--pure-lockfile"} & call.flags)
    else:
        if sub not in ("install", "i", "add"):
            return None
        call.packages = rest
        call.frozen = "--frozen-lockfile" in call.flags or call.options.get("--frozen-lockfile") == "true"
    call.global_ = call.global_ or bool({"-g", "--global"} & call.flags) or call.options.get("--location") == "global"
    call.ignore_scripts = "--ignore-scripts" in call.flags or call.options.get("--ignore-scripts") == "true"
    return call


@dataclass
class NodeInputs:
    required: list[str]  # project-relative files the install reads
    optional: list[str]  # read when present
    outputs: list[str]  # project-relative paths it writes
    lockfile: str | None  # the lockfile present, if any


def inputs(call: NodeCall, read: Reader, env: dict[str, str | None]) -> NodeInputs:
    """What the install reads and writes in the project directory; raises Unsupported when moving it is unsafe."""
    pkg_text = read("package.json")
    if pkg_text is None:
        raise Unsupported("cannot read package.json from the build context")
    try:
        pkg = json.loads(pkg_text)
    except ValueError:
        raise Unsupported("package.json is not valid JSON") from None
    if not isinstance(pkg, dict):
        raise Unsupported("package.json is not a JSON object")
    if "workspaces" in pkg:
        raise Unsupported("package.json declares workspaces, whose packages need their sources")
    for key in ("dependencies", "devDependencies", "optionalDependencies", "peerDependencies", "pnpm"):
        if not isinstance(pkg.get(key) or {}, dict):
            raise Unsupported(f"package.json: {key} is not a JSON object")
    for table in ("dependencies", "devDependencies", "optionalDependencies", "peerDependencies"):
        for name, spec in (pkg.get(table) or {}).items():
            if isinstance(spec, str) and _LOCAL_DEP.match(spec):
                raise Unsupported(f"the dependency {name} is the local path {spec}, which needs the source")
    if pkg.get("bundleDependencies") or pkg.get("bundledDependencies"):
        raise Unsupported("package.json bundles dependencies")
    ignore = call.ignore_scripts or _truthy(env.get("npm_config_ignore_scripts")) or _truthy(
        env.get("NPM_CONFIG_IGNORE_SCRIPTS"))
    npmrc = read(".npmrc")
    if npmrc is not None and re.search(r"^\s*ignore-scripts\s*=\s*true\s*$", npmrc, re.MULTILINE):
        ignore = True
    if call.tool == "yarn" and _berry(read):
        # Yarn 2+ reads neither .npmrc nor npm_config_*, and runs the project's own scripts even with
        # enableScripts: false (that setting covers dependencies only).
        ignore = False
    scripts = pkg.get("scripts") or {}
    if not ignore:
        run = [s for s in INSTALL_SCRIPTS if s in scripts]
        if run:
            raise Unsupported(f"package.json runs the {'/'.join(run)} script on install, which may read the source "
                              "(add --ignore-scripts if it does not need to run there)")
        if read("binding.gyp") is not None or pkg.get("gypfile"):
            raise Unsupported("the project has a binding.gyp, which npm builds on install from the source")
    if call.tool == "npm":
        return _npm(read)
    if call.tool == "yarn":
        return _yarn(read)
    return _pnpm(read, pkg)


def declares_workspace(package_json: str | None, pnpm_workspace: str | None) -> bool:
    """A directory above a project that can make it a workspace member: npm (8.4+) and yarn look up for a
    package.json with workspaces, pnpm for pnpm-workspace.yaml, and then install from that root."""
    if pnpm_workspace is not None:
        return True
    if package_json is None:
        return False
    try:
        pkg = json.loads(package_json)
    except ValueError:
        return True  # cannot tell
    return not isinstance(pkg, dict) or "workspaces" in pkg


def _truthy(v: str | None) -> bool:
    return v is not None and v.lower() in ("1", "true", "yes")


def _npm(read: Reader) -> NodeInputs:
    optional = ["package-lock.json", "npm-shrinkwrap.json", ".npmrc"]
    lock = None
    for name in ("npm-shrinkwrap.json", "package-lock.json"):
        text = read(name)
        if text is None:
            continue
        lock = lock or name
        try:
            data = json.loads(text)
        except ValueError:
            raise Unsupported(f"{name} is not valid JSON") from None
        if not isinstance(data, dict) or not isinstance(data.get("packages") or {}, dict):
            raise Unsupported(f"{name} is not a JSON object with a packages object")
        for key, entry in (data.get("packages") or {}).items():
            if key and isinstance(entry, dict) and (entry.get("link") or str(entry.get("resolved", "")).startswith("file:")):
                raise Unsupported(f"{name} links the local package {key}, which needs the source")
    return NodeInputs(["package.json"], optional, ["node_modules"], lock)


def _berry(read: Reader) -> bool:
    """Yarn 2+: a .yarnrc.yml, or a yarn.lock without the v1 header."""
    lock = read("yarn.lock")
    return read(".yarnrc.yml") is not None or (lock is not None and "# yarn lockfile v1" not in lock[:400])


def _yarn(read: Reader) -> NodeInputs:
    lock = read("yarn.lock")
    rc = read(".yarnrc.yml")
    if not _berry(read):
        if lock is not None and re.search(r'resolved\s+"?(file|link):', lock):
            raise Unsupported("yarn.lock has local (file:/link:) packages, which need the source")
        return NodeInputs(["package.json"], ["yarn.lock", ".yarnrc", ".npmrc"], ["node_modules"],
                          "yarn.lock" if lock is not None else None)
    required = ["package.json"]
    if lock is not None:
        if re.search(r"@(patch|portal|link|file):", lock) or re.search(r'@workspace:(?!\.")', lock):
            raise Unsupported("yarn.lock has patched, linked or workspace packages, which need their sources")
    if rc is not None:
        if re.search(r"^\s*(patchFolder|pnpUnpluggedFolder|cacheFolder)\s*:", rc, re.MULTILINE):
            raise Unsupported(".yarnrc.yml points yarn at folders in the project")
        m = re.search(r"^\s*yarnPath\s*:\s*[\"']?([^\"'\s#]+)", rc, re.MULTILINE)
        if m:
            required.append(posixpath.normpath(m.group(1)))
        for p in re.findall(r"^\s*-?\s*path\s*:\s*[\"']?([^\"'\s#]+)", rc, re.MULTILINE):
            required.append(posixpath.normpath(p))
    return NodeInputs(required, ["yarn.lock", ".yarnrc.yml", ".npmrc"],
                      ["node_modules", ".yarn/cache", ".yarn/unplugged", ".yarn/install-state.gz", ".yarn/build-state.yml",
                       ".pnp.cjs", ".pnp.loader.mjs"], "yarn.lock" if lock is not None else None)


def _pnpm(read: Reader, pkg: dict[str, Any]) -> NodeInputs:
    if (pkg.get("pnpm") or {}).get("patchedDependencies"):
        raise Unsupported("package.json patches dependencies with files from the project")
    ws = read("pnpm-workspace.yaml")
    if ws is not None and re.search(r"^(packages|patchedDependencies)\s*:", ws, re.MULTILINE):
        raise Unsupported("pnpm-workspace.yaml declares workspace packages or patches, which need their sources")
    if read(".pnpmfile.cjs") is not None or read(".pnpmfile.mjs") is not None:
        raise Unsupported("the project has a .pnpmfile, whose hooks run code at install time")
    lock = read("pnpm-lock.yaml")
    if lock is not None and re.search(r"(^|\s)(file|link):", lock):
        raise Unsupported("pnpm-lock.yaml has local (file:/link:) packages, which need the source")
    return NodeInputs(["package.json"], ["pnpm-lock.yaml", ".npmrc", "pnpm-workspace.yaml"],
                      ["node_modules", ".pnpm-store"], "pnpm-lock.yaml" if lock is not None else None)
