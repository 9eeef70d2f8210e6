# stand-in for the CRABServer python sources
