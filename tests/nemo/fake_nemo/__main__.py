"""`python -m tests.nemo.fake_nemo [PORT]`: the fake NemoVideo cloud on loopback, for chatting with it by hand."""
import asyncio
import sys

from tests.nemo.fake_nemo.server import serve_forever

try:
    asyncio.run(serve_forever(int(sys.argv[1]) if len(sys.argv) > 1 else 0))
except KeyboardInterrupt:
    pass
