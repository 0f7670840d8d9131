"""Hostile-input figures: a real Sidecar process on loopback, an asyncio upstream, raw-socket callers; bounded in
count and time. Prints what a hostile caller or upstream could do to labels, memory and other callers' retries.

    python3 tests/bench/hostile.py SIDECAR SCENARIO

SIDECAR is a published executable or a sidecar.dll (run with `dotnet`); SCENARIO is one of
  methods  5,000 requests with random 2 KiB methods, twice: sidecar_requests_total series, /metrics size, RSS
  parked   1,000 requests parked on one cluster's 30 s pushback, then 200 requests to another cluster whose first
           attempts all fail: how many still get their retry
  uploads  130 slow uploads declaring 64 KiB (100 bytes sent) against an 8 MiB pool, then 100 other callers' POSTs
           whose first attempts fail: sidecar_buffered_bytes and how many still get their retry
"""
import asyncio, os, random, re, socket, string, subprocess, sys, time, tempfile

DLL, SCENARIO = sys.argv[1], sys.argv[2]

def free_port():
    s = socket.socket(); s.bind(("127.0.0.1", 0)); p = s.getsockname()[1]; s.close(); return p

async def read_head(reader):
    head = await reader.readuntil(b"\r\n\r\n")
    return head.decode("latin1")

def header(head, name):
    for line in head.split("\r\n")[1:]:
        k, _, v = line.partition(":")
        if k.strip().lower() == name.lower():
            return v.strip()
    return None

async def upstream(reader, writer):
    try:
        head = await read_head(reader)
        length = int(header(head, "Content-Length") or 0)
        if length:
            await reader.readexactly(length)
        path = head.split(" ", 2)[1]
        if path.startswith("/parked"):
            resp = b"HTTP/1.1 503 Service Unavailable\r\nx-sidecar-retry-pushback-ms: 30000\r\nContent-Length: 4\r\nConnection: close\r\n\r\nbusy"
        elif path.startswith("/flaky") and header(head, "x-sidecar-attempt") == "1":
            resp = b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 4\r\nConnection: close\r\n\r\nbusy"
        else:
            resp = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"
        writer.write(resp); await writer.drain()
    except Exception:
        pass
    finally:
        writer.close()

async def exchange(port, head, body=b""):
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(head.encode("latin1") + body); await writer.drain()
    data = await reader.read()
    writer.close()
    m = re.match(rb"HTTP/1\.1 (\d+)", data)
    return int(m.group(1)) if m else 0

async def metrics(admin):
    reader, writer = await asyncio.open_connection("127.0.0.1", admin)
    writer.write(b"GET /metrics HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"); await writer.drain()
    data = await reader.read(); writer.close()
    text = data.split(b"\r\n\r\n", 1)[1].decode()
    if "chunked" in data.split(b"\r\n\r\n", 1)[0].decode().lower():
        out, rest = [], text
        while True:
            size, _, rest = rest.partition("\r\n"); n = int(size, 16)
            if n == 0: break
            out.append(rest[:n]); rest = rest[n + 2:]
        text = "".join(out)
    return text

def value(text, name, *labels):
    total = None
    for line in text.splitlines():
        if line.startswith(name) and (line[len(name)] in " {") and all(l in line for l in labels):
            total = (total or 0) + float(line.rsplit(" ", 1)[1])
    return total

def rss(pid):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS"):
            return int(line.split()[1]) // 1024

async def bounded(n, concurrency, make):
    sem = asyncio.Semaphore(concurrency)
    async def one(i):
        async with sem:
            return await make(i)
    return await asyncio.gather(*(one(i) for i in range(n)))

async def main():
    server = await asyncio.start_server(upstream, "127.0.0.1", 0, backlog=4096)
    up = server.sockets[0].getsockname()[1]
    proxy, admin = free_port(), free_port()
    policy = """
    max_attempts: 2
    backoff: { algorithm: constant, base: 5ms, max: 5ms, jitter: none }
    retry_on: { status: [503] }
    retry_after: { honor: true, max: 1m }
    timeout: 2m
    buffer_limit: 64KiB
    budget: off
    max_concurrent_retries: 2000"""
    cfg = f"""listen: {{ proxy: "http://127.0.0.1:{proxy}", admin: "http://127.0.0.1:{admin}" }}
clusters:
  app: {{ destinations: ["http://127.0.0.1:{up}"] }}
  parked: {{ destinations: ["http://127.0.0.1:{up}"] }}
  flaky: {{ destinations: ["http://127.0.0.1:{up}"] }}
policies:
  p:{policy}
routes:
  - {{ name: parked, match: {{ path: "/parked/{{**rest}}" }}, cluster: parked, policy: p }}
  - {{ name: flaky, match: {{ path: "/flaky/{{**rest}}" }}, cluster: flaky, policy: p }}
  - {{ name: app, match: {{ path: "/{{**rest}}" }}, cluster: app, policy: p }}
limits: {{ max_buffered_bytes: 8MiB, drain_delay: 0s, drain_timeout: 2s }}
"""
    path = os.path.join(tempfile.mkdtemp(), "sidecar.yaml"); open(path, "w").write(cfg)
    command = ["dotnet", DLL] if DLL.endswith(".dll") else [DLL]
    proc = subprocess.Popen(command + ["run", "--config", path], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    for line in proc.stdout:
        if "listening" in line: break
    try:
        if SCENARIO == "methods":
            await bounded(500, 20, lambda i: exchange(proxy, "GET /warm HTTP/1.1\r\nHost: s\r\nConnection: close\r\n\r\n"))
            before = rss(proc.pid); t0 = await metrics(admin)
            alphabet = string.ascii_letters + string.digits
            def flood(i):
                method = "".join(random.choices(alphabet, k=2048))
                return exchange(proxy, f"{method} /x HTTP/1.1\r\nHost: s\r\nConnection: close\r\n\r\n")
            start = time.time()
            statuses = await bounded(5000, 20, flood)
            took = time.time() - start
            text = await metrics(admin)
            series = sum(1 for l in text.splitlines() if l.startswith("sidecar_requests_total{"))
            print(f"methods: 5000 requests with random 2 KiB methods in {took:.1f}s, statuses {sorted(set(statuses))}")
            print(f"  sidecar_requests_total series: {sum(1 for l in t0.splitlines() if l.startswith('sidecar_requests_total{'))} before flood, {series} after")
            print(f"  /metrics size: {len(t0.encode())} bytes before, {len(text.encode())} after")
            after1 = rss(proc.pid)
            await bounded(5000, 20, flood)
            text2 = await metrics(admin)
            series2 = sum(1 for l in text2.splitlines() if l.startswith("sidecar_requests_total{"))
            print(f"  RSS: {before} MiB after warm-up, {after1} MiB after flood, {rss(proc.pid)} MiB after a second flood of 5000 ({series2} series, /metrics {len(text2.encode())} bytes)")
        elif SCENARIO == "parked":
            parked = [asyncio.create_task(exchange(proxy, "GET /parked/x HTTP/1.1\r\nHost: s\r\nConnection: close\r\n\r\n")) for _ in range(1000)]
            while True:
                t = await metrics(admin)
                decided = (value(t, "sidecar_retries_total", 'route="parked"') or 0) + (value(t, "sidecar_retries_skipped_total", 'route="parked"', 'reason="backoff_cap"') or 0)
                if decided >= 1000: break
                await asyncio.sleep(0.2)
            statuses = await bounded(200, 20, lambda i: exchange(proxy, "GET /flaky/x HTTP/1.1\r\nHost: s\r\nConnection: close\r\n\r\n"))
            t = await metrics(admin)
            waiting = int(value(t, "sidecar_retries_total", 'route="parked"') or 0)
            refused = int(value(t, "sidecar_retries_skipped_total", 'route="parked"', 'reason="backoff_cap"') or 0)
            flaky_refused = int(value(t, "sidecar_retries_skipped_total", 'route="flaky"', 'reason="backoff_cap"') or 0)
            print(f"parked: 1000 requests on cluster 'parked' (pushback 30s; max_waiting_retries 1000): {waiting} waiting, {refused} refused a slot")
            print(f"  other cluster 'flaky' (every first attempt 503): {statuses.count(200)}/200 succeeded after a retry, {flaky_refused} retries refused (backoff_cap)")
            for task in parked: task.cancel()
        elif SCENARIO == "uploads":
            conns = []
            for i in range(130):
                r, w = await asyncio.open_connection("127.0.0.1", proxy)
                w.write(f"PUT /app/{i} HTTP/1.1\r\nHost: s\r\nContent-Length: 65536\r\nConnection: close\r\n\r\n".encode() + b"x" * 100)
                await w.drain(); conns.append((r, w))
            while value(await metrics(admin), "sidecar_inflight_requests") < 130:
                await asyncio.sleep(0.1)
            await asyncio.sleep(0.5)
            held = value(await metrics(admin), "sidecar_buffered_bytes")
            def post(i):
                return exchange(proxy, f"POST /flaky/{i} HTTP/1.1\r\nHost: s\r\nIdempotency-Key: k{i}\r\nContent-Length: 1024\r\nConnection: close\r\n\r\n", b"y" * 1024)
            statuses = await bounded(100, 10, post)
            t = await metrics(admin)
            print(f"uploads: 130 slow uploads declaring 64 KiB, 100 bytes sent each, 8 MiB pool: sidecar_buffered_bytes = {int(held)}")
            not_replayable = int(value(t, "sidecar_retries_skipped_total", 'route="flaky"', 'reason="body_not_replayable"') or 0)
            print(f"  other callers' POSTs (1 KiB, Idempotency-Key, first attempt 503): {statuses.count(200)}/100 succeeded after a retry, {not_replayable} refused (body_not_replayable)")
            for r, w in conns:
                w.write(b"x" * (65536 - 100))
            done = [int(re.match(rb"HTTP/1\.1 (\d+)", await r.read()).group(1)) for r, w in conns]
            print(f"  slow uploads completed: {done.count(200)}/130 answered 200; sidecar_buffered_bytes afterwards = {int(value(await metrics(admin), 'sidecar_buffered_bytes'))}")
    finally:
        proc.terminate()
        try: proc.wait(10)
        except Exception: proc.kill()
        server.close()

asyncio.run(main())
