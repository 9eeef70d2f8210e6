"""A differential fuzzer that builds: small Dockerfiles and build contexts (``gen``), fixed by dockerfix and built
before and after with the project's builders (``run``). ``bench/fuzz.py`` runs long slices;
``tests/test_fuzz_builds.py`` runs a fixed seed in CI."""
