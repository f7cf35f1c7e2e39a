"""Concurrent users are counted at the service's own sockets."""

from __future__ import annotations

import socket

from lab.experiments.service.process import established_to


def test_established_connections_are_counted_at_the_server_port() -> None:
    with socket.create_server(("127.0.0.1", 0)) as server:
        port = server.getsockname()[1]
        assert established_to(port) == 0
        clients = [socket.create_connection(("127.0.0.1", port)) for _ in range(5)]
        accepted = [server.accept()[0] for _ in clients]
        try:
            assert established_to(port) == 5  # the server's side only, not the clients'
        finally:
            for sock in clients + accepted:
                sock.close()
