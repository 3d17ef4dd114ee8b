"""`NATS_URL` pointing at a server that is too old is refused at start-up with a clear message."""
import shutil
import subprocess

import pytest

from shared.infra.embedded import _wait_for_port, free_port
from shared.infra.system import prepare

pytestmark = pytest.mark.integration


@pytest.mark.skipif(shutil.which("/usr/sbin/nats-server") is None, reason="needs Debian's old nats-server 2.9")
async def test_an_old_nats_server_is_refused_before_anything_is_created(platform, tmp_path):
    port = free_port()
    old = subprocess.Popen(["/usr/sbin/nats-server", "-a", "127.0.0.1", "-p", str(port), "-js", "-sd", str(tmp_path)],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _wait_for_port(port, 10, "old nats-server", old)
        with pytest.raises(SystemExit, match="too old"):
            await prepare(f"nats://127.0.0.1:{port}", platform.database_url, tmp_path / "secrets")
    finally:
        old.terminate()
        old.wait(10)
