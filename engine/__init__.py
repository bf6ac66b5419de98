"""The local engine: files in, files out (see docs/ARCHITECTURE.md).

The speech models run on CTranslate2, whose OpenMP threads (libgomp) spin on a core between the
steps of a decode by default, waiting for the next one: on a shared two-core machine that is CPU
taken from the other work for nothing. Here they sleep instead (OMP_WAIT_POLICY=PASSIVE): the
same threads compute the same numbers (the same transcript, bit for bit), about 8 % less CPU for a
transcription. libgomp reads the setting when it loads, so it is set before anything imports
CTranslate2; an operator's own setting wins.
"""
import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
