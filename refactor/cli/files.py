"""Reading Dockerfiles and writing them back without ever losing one.

Writes go to a temporary file in the same directory, are fsynced and renamed over the original, with
the original's mode (and owner, where permitted). A file whose content on disk changed since it was
read is not overwritten, nor one the user may not write (a 0444 file in a writable folder). A file whose content did not change is not written at all.
"""

from __future__ import annotations

import hashlib
import os
import stat
import tempfile
from dataclasses import dataclass
from pathlib import Path

from dockerfix.refactor.errors import DockerfixError
from dockerfix.refactor.dockerfile.parse import decode

MAX_BYTES = 64 * 1024 * 1024


@dataclass(frozen=True)
class Snapshot:
    path: Path
    data: bytes
    text: str
    digest: str


def read(path: Path) -> Snapshot:
    try:
        st = os.stat(path)
    except FileNotFoundError:
        if os.path.islink(path):
            raise DockerfixError("dangling symlink") from None
        raise DockerfixError("no such file") from None
    except OSError as exc:
        raise DockerfixError(f"cannot read: {exc.strerror}") from None
    if stat.S_ISDIR(st.st_mode):
        raise DockerfixError("is a directory")
    if not stat.S_ISREG(st.st_mode):
        raise DockerfixError("not a regular file")
    if st.st_size > MAX_BYTES:
        raise DockerfixError(f"file too large ({st.st_size} bytes; the limit is {MAX_BYTES})")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise DockerfixError(f"cannot read: {exc.strerror}") from None
    return Snapshot(path, data, decode(data), hashlib.sha256(data).hexdigest())


def write(snap: Snapshot, text: str) -> bool:
    """Replace the file with `text`; False when there was nothing to write."""
    data = text.encode("utf-8")
    if data == snap.data:
        return False
    path = snap.path
    try:
        current = path.read_bytes()
    except OSError as exc:
        raise DockerfixError(f"cannot re-read before writing: {exc.strerror}") from None
    if hashlib.sha256(current).hexdigest() != snap.digest:
        raise DockerfixError("changed on disk since it was read; not overwritten")
    real = Path(os.path.realpath(path))  # write through a symlink, keep the link
    st = os.stat(real)
    # Replacing the file needs only a writable folder: a read-only file (0444) would still be replaced, so its
    # own permission is checked first, as the user asked the system to protect it.
    if not os.access(real, os.W_OK):
        raise DockerfixError("not writable (permission denied); not changed")
    fd, tmp = tempfile.mkstemp(prefix=f".{real.name}.", suffix=".dockerfix", dir=real.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, stat.S_IMODE(st.st_mode))
        try:
            os.chown(tmp, st.st_uid, st.st_gid)
        except OSError:
            pass  # not permitted for other owners unless root: the mode is what matters
        os.replace(tmp, real)
    except BaseException as exc:  # an error, or Ctrl-C: never leave the temporary file behind
        try:
            os.unlink(tmp)
        except OSError:
            pass
        if isinstance(exc, OSError):
            raise DockerfixError(f"cannot write: {exc.strerror}") from None
        raise
    try:
        dfd = os.open(real.parent, os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)
    except OSError:
        pass
    return True
