"""dockerfix's engine, installed as ``dockerfix.refactor``: the pipeline parse → resolve → shell analysis → facts → fixes
→ apply edits → render.

Packages, lowest first (each imports only the ones above it in this list):
  errors, units        shared error type and byte formatting
  dockerfile/          the Dockerfile model and its analysis
  context/             the build context and dependency manifests
  (../transforms/)     one module per transform, reading dockerfile/ and context/
  engine               runs the selected transforms to a fixed point
  images/              building and comparing images
  cli/                 the command line and its reports
"""

__version__ = "0.1.0"
