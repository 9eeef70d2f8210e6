"""The Dockerfile model and its analysis: parse (lossless), words, resolve (stages, ARG/ENV/WORKDIR/USER), shell, facts.

Imports only the standard library, tree-sitter and ``dockerfix.refactor.errors``; never the context, images or CLI.
"""
