#!/usr/bin/env python3
"""A TCP forwarder on loopback that can be frozen, for the cluster check's leader-election test.

Usage: freezable_proxy.py LISTEN_PORT TARGET_PORT

One operator replica reaches the API server through it. Sending this process SIGSTOP freezes
every connection it carries at once without closing any: to that replica the API server has
stopped answering, as behind a partition, while the other replica still reaches it directly.
One process with threads, so a single signal freezes all of them.
"""
import socket
import sys
import threading


def pump(source, sink):
    try:
        while True:
            data = source.recv(65536)
            if not data:
                break
            sink.sendall(data)
    except OSError:
        pass
    finally:
        for s in (source, sink):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


def main():
    listen_port, target_port = int(sys.argv[1]), int(sys.argv[2])
    server = socket.create_server(("127.0.0.1", listen_port), reuse_port=False)
    while True:
        client, _ = server.accept()
        upstream = socket.create_connection(("127.0.0.1", target_port))
        for a, b in ((client, upstream), (upstream, client)):
            threading.Thread(target=pump, args=(a, b), daemon=True).start()


if __name__ == "__main__":
    main()
