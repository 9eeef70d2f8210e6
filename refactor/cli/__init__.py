"""The command line and its reporting: commands, discovery, batch runs, atomic file writes, config, output formats.

The top of the tree: may import every other package; nothing imports it.
"""
