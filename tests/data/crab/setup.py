# stand-in for CRABServer setup.py (the real one is 11939 bytes)
