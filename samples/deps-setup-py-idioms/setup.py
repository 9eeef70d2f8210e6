from pathlib import Path

from setuptools import find_packages, setup

HERE = Path(__file__).parent


def requirements(name):
    """The requirement lines of a file, without comments and blank lines."""
    with open(HERE / name, encoding="utf-8") as f:
        lines = [r.split("#")[0].strip() for r in f.readlines()]
    return [line for line in lines if line]


setup(name="report", version="2.1", packages=find_packages(), install_requires=requirements("requirements.txt"))
