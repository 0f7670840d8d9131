"""The slow upstream of the burst scenarios (tests/bench/memory.sh, tests/bench/pod.sh).

Answers every request after DELAY seconds: 503 with Retry-After: 0 to the first attempt of each (x-sidecar-attempt: 1),
200 to a retry, so each request body must be buffered by the proxy and replayed once. Loopback only.

    python3 tests/bench/slow_upstream.py PORT DELAY
"""
import asyncio
import sys

delay = float(sys.argv[2])


async def handle(reader, writer):
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            length = 0
            attempt = "1"
            for line in head.decode("latin-1").split("\r\n")[1:]:
                key, _, value = line.partition(":")
                if key.lower() == "content-length":
                    length = int(value)
                if key.lower() == "x-sidecar-attempt":
                    attempt = value.strip()
            await reader.readexactly(length)
            await asyncio.sleep(delay)
            status = b"503 Service Unavailable" if attempt == "1" else b"200 OK"
            writer.write(b"HTTP/1.1 " + status + b"\r\nContent-Length: 2\r\nRetry-After: 0\r\n\r\nok")
            await writer.drain()
    except Exception:
        pass
    finally:
        writer.close()


async def main():
    # A burst of a few thousand connections: none of them may wait for the upstream's accept queue.
    server = await asyncio.start_server(handle, "127.0.0.1", int(sys.argv[1]), backlog=4096)
    async with server:
        await server.serve_forever()


asyncio.run(main())
