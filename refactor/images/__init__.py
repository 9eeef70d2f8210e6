"""Building and comparing images: builders (buildah, BuildKit), test base images, image archives, layer stats, verify.

May import ``dockerfix.refactor.dockerfile``, ``errors`` and ``units``; never the engine, transforms or CLI.
"""
