#!/bin/sh
# stand-in for CRABServer scripts/
