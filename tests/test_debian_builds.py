"""Builds on the realistic test base: Debian bookworm minbase (bash, GNU coreutils and findutils, shadow's useradd)
with deterministic stub tools, on each builder. The busybox base is fast; this one is what Dockerfiles are written
for, so a fix proven here is proven on GNU chown/find rather than busybox's."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from dockerfix import transforms
from dockerfix.refactor.engine import run
from dockerfix.refactor.images.build import BuildError
from dockerfix.refactor.images.image import compare_images, flatten
from dockerfix.refactor.images.verify import verify

from .helpers import SAMPLES

if TYPE_CHECKING:
    from tests.conftest import ContextBuilds

pytestmark = pytest.mark.build

DEBIAN = "localhost/dockerfix-debian"


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def test_debian_base_has_gnu_tools_and_deterministic_stubs(debian_build_image: ContextBuilds) -> None:
    dockerfile = f"""FROM {DEBIAN}
SHELL ["/bin/bash", "-o", "pipefail", "-c"]
RUN chown --version | head -n 1 > /chown.txt && find --version | head -n 1 > /find.txt \\
 && [[ -x /usr/sbin/useradd ]] && useradd -m -u 1001 -s /bin/bash app
COPY requirements.txt /r.txt
RUN pip install --no-cache-dir -r /r.txt && git clone --depth 1 https://example.com/o/r.git /src/r
"""
    files = {"requirements.txt": "flask==2.0\n"}
    _, first = debian_build_image(dockerfile, files)
    _, second = debian_build_image(dockerfile, files)
    assert compare_images(first, second) == []  # the stubs write the same bytes every time
    tree = flatten(first)
    assert tree["/home/app"].uid == 1001 and tree["/home/app"].gid == 1001
    assert tree["/usr/local/lib/python3/site-packages/flask/__init__.py"].sha256 == _sha("# dockerfix stub of flask==2.0\n")
    assert tree["/usr/local/lib/python3/site-packages/flask/_native.so"].size == 200_000
    assert tree["/src/r/.git/HEAD"].kind == "file"
    assert tree["/chown.txt"].size > 0 and tree["/find.txt"].size > 0  # GNU tools answer --version
    assert first.config.cmd == ("/bin/bash",)


@pytest.mark.parametrize("line", ["RUN pip install --frobnicate flask", "RUN npm install left-pad",
                                  "RUN python3 -c 'print(1)'"])
def test_stub_tools_fail_loudly_on_what_they_do_not_model(debian_build_image: ContextBuilds, line: str) -> None:
    with pytest.raises(BuildError) as caught:
        debian_build_image(f"FROM {DEBIAN}\nWORKDIR /w\nRUN echo '{{}}' > package.json\n{line}\n")
    assert "stub" in caught.value.log


def _debian_crab(tmp_path: Path) -> Path:
    ctx = tmp_path / "crab-data"
    shutil.copytree(SAMPLES / "crab-data", ctx)
    text = (ctx / "Dockerfile").read_text().replace("localhost/dockerfix-base", DEBIAN)
    (ctx / "Dockerfile").write_text(text.replace("adduser -D -u 1000 crab3", "useradd -u 1000 crab3"))
    return ctx


def test_crab_sample_on_debian_is_proved(debian_build_image: ContextBuilds, tmp_path: Path) -> None:
    ctx = _debian_crab(tmp_path)
    fixed = run((ctx / "Dockerfile").read_text(), transforms.names(), path=ctx / "Dockerfile")
    assert "chown-layer" in {f.transform for f in fixed.applied}
    (ctx / "Dockerfile.fixed").write_text(fixed.output)
    result = verify(ctx / "Dockerfile", ctx / "Dockerfile.fixed", ctx, debian_build_image.builder)
    assert [d.text for d in result.differences] == []
    assert result.saved_bytes >= 450_000


USERADD = f"""FROM {DEBIAN}
RUN useradd -m -u 1001 app
COPY site/ /home/app/site/
RUN chown -R app:app /home/app
"""


def test_useradd_then_copy_chown_by_name_is_proved_and_a_wrong_group_caught(
    debian_build_image: ContextBuilds, tmp_path: Path
) -> None:
    ctx = debian_build_image.context
    (ctx / "site").mkdir()
    (ctx / "site" / "index.html").write_text("<p>hi</p>\n" * 2000)
    (ctx / "Dockerfile").write_text(USERADD)
    fixed = run(USERADD, transforms.names(), path=ctx / "Dockerfile").output
    assert "COPY --chown=app:app site/ /home/app/site/" in fixed
    (ctx / "Dockerfile.fixed").write_text(fixed)
    builder = debian_build_image.builder
    good = verify(ctx / "Dockerfile", ctx / "Dockerfile.fixed", ctx, builder)
    assert good.identical and good.saved_bytes >= 20_000
    # A rewrite that names the group wrong and drops the remaining step: the copied files keep group root.
    wrong = fixed.replace("--chown=app:app", "--chown=app:root").replace("RUN find", "# RUN find")
    (ctx / "Dockerfile.wrong").write_text(wrong)
    bad = verify(ctx / "Dockerfile", ctx / "Dockerfile.wrong", ctx, builder)
    assert any(d.path == "/home/app/site/index.html" and d.field == "gid" for d in bad.differences), \
        [d.text for d in bad.differences]
