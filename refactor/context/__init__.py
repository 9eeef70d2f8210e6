"""The build context and dependency metadata: COPY sources and .dockerignore, pip/poetry/uv/node manifests read statically.

May import ``dockerfix.refactor.dockerfile`` and ``errors``; never the engine, transforms, images or CLI.
"""
