"""Storage backends for the separate storage server, where django-storages needs a hand.

``ResilientSFTPStorage`` fixes two behaviours of django-storages' ``SFTPStorage`` (1.14) that a
recorder cannot live with, both found by ``tests/footage/test_storage_servers.py`` against a real
OpenSSH server:

* after one failed reconnect the stock instance never recovers (its ``sftp`` property asks a
  client with no connection whether it is alive, and raises ``AttributeError`` for ever), and
  Django keeps one instance per process, so a worker would stay broken after the server came back;
* ``delete()`` swallows every ``OSError``, a refused connection included, so retention would
  believe it had deleted footage still on the server.

It also puts a timeout on the SFTP channel: without one, a server that hangs on an open
connection blocks the caller for ever (paramiko's connect timeouts only cover opening it).
"""

from __future__ import annotations

from typing import Any

from storages.backends.sftpstorage import SFTPStorage


class ResilientSFTPStorage(SFTPStorage):
    """SFTPStorage that reconnects after any failure, times out, and reports failed deletes."""

    # Seconds without an answer before an SFTP request fails.
    operation_timeout = 30.0

    @property
    def sftp(self) -> Any:
        transport = self._ssh.get_transport() if self._ssh is not None else None
        if self._sftp is None or transport is None or not transport.is_active():
            self.close()
            self._connect()
            self._sftp.get_channel().settimeout(self.operation_timeout)
            self._ssh.get_transport().set_keepalive(15)
        return self._sftp

    def close(self) -> None:
        super().close()
        self._sftp = None

    def delete(self, name: str) -> None:
        try:
            self.sftp.remove(self._remote_path(name))
        except FileNotFoundError:
            pass  # already gone: deleting is idempotent
