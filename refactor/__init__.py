"""dockerfix's engine: parse → resolve → shell analysis → fixes → apply edits → render."""

__version__ = "0.1.0"
