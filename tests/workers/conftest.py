import pytest

from tests.workers.servers import stopper


@pytest.fixture(scope="module", autouse=True)
def _servers_stopped_with_the_module():
    """Workers and servers stop in the background as each test ends (servers.stopper); the module
    ends only once all of them have."""
    yield
    stopper.wait()
