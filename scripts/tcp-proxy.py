#!/usr/bin/env python3
"""A loopback TCP forwarder for fault-injection tests: kill it and the service behind it is
unreachable; start it again on the same port and it is back.

    tcp-proxy.py LISTEN_PORT TARGET_PORT      (both on 127.0.0.1)

SIGUSR1 freezes every connection open at that moment: it stays open on both sides but no
byte is forwarded any more in either direction (a half-open connection, as after a failover
behind a NAT or pooler). Connections made afterwards are forwarded normally.
"""
import asyncio
import signal
import sys


class Connection:
    def __init__(self):
        self.frozen = False


async def pipe(reader, writer, connection, forever):
    try:
        while True:
            data = await reader.read(65536)
            if connection.frozen:
                await forever.wait()  # hold both sockets open, forward nothing
            if not data:
                break
            writer.write(data)
            await writer.drain()
    except (ConnectionError, asyncio.CancelledError):
        pass
    finally:
        try:
            writer.close()
        except Exception:
            pass


async def main(listen_port, target_port):
    connections = set()
    forever = asyncio.Event()

    def freeze():
        for connection in connections:
            connection.frozen = True
        print("frozen %d" % len(connections), file=sys.stderr, flush=True)

    async def handle(client_reader, client_writer):
        try:
            upstream_reader, upstream_writer = await asyncio.open_connection("127.0.0.1", target_port)
        except OSError:
            client_writer.close()
            return
        connection = Connection()
        connections.add(connection)
        try:
            await asyncio.gather(
                pipe(client_reader, upstream_writer, connection, forever),
                pipe(upstream_reader, client_writer, connection, forever),
            )
        finally:
            connections.discard(connection)

    # The parent may have spawned us with SIGUSR1 blocked (a mask is inherited).
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGUSR1})
    asyncio.get_running_loop().add_signal_handler(signal.SIGUSR1, freeze)
    server = await asyncio.start_server(handle, "127.0.0.1", listen_port, reuse_address=True)
    print("ready", flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]), int(sys.argv[2])))
