#!/usr/bin/env python3
"""Time to ready, A/B: exec to the first 200 on /readyz, for builds started in turn so that a machine whose speed
drifts over minutes slows every build alike.

Usage: tests/bench/start_ab.py STARTS NAME=EXECUTABLE[:VAR=VALUE,...] ...
  e.g. tests/bench/start_ab.py 25 before=/tmp/a/sidecar after=/tmp/b/sidecar
       tests/bench/start_ab.py 15 nogc=/tmp/b/sidecar:DOTNET_GCgen0size=0x4000000

Each start runs `EXECUTABLE run --config FILE` with a one-route config on 127.0.0.1:18498 (admin 18499), polls
/readyz with a fresh loopback connection every millisecond from this one process (a poller that forks per poll
measures its own forks), and stops Sidecar once it is ready. Run as root, Sidecar and this poller get
SCHED_FIFO (`chrt -f 50`), so other work on a small machine cannot preempt either. Bounded: at most 100 starts per
build, 30 s per start; loopback only.
"""
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time

PROXY_PORT, ADMIN_PORT = 18498, 18499
CONFIG = f"""listen: {{ proxy: "http://127.0.0.1:{PROXY_PORT}", admin: "http://127.0.0.1:{ADMIN_PORT}" }}
clusters:
  app: {{ destinations: [http://127.0.0.1:18081] }}
routes:
  - {{ name: r, cluster: app }}
"""
START_TIMEOUT_S = 30


def parse_build(arg):
    name, _, rest = arg.partition("=")
    executable, _, assignments = rest.partition(":")
    if not name or not os.access(executable, os.X_OK):
        sys.exit(f"start_ab.py: {arg!r} is not NAME=EXECUTABLE")
    env = dict(os.environ)
    for assignment in filter(None, assignments.split(",")):
        key, _, value = assignment.partition("=")
        env[key] = value
    return name, os.path.abspath(executable), env


def port_busy(port):
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def ready(deadline):
    """True at the first 200 on /readyz; False when the deadline passes."""
    while time.perf_counter() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", ADMIN_PORT), timeout=0.05) as s:
                s.sendall(b"GET /readyz HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n")
                if b" 200 " in s.recv(64):
                    return True
        except OSError:
            pass
        time.sleep(0.001)
    return False


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    starts = min(int(sys.argv[1]), 100)
    builds = [parse_build(arg) for arg in sys.argv[2:]]
    for port in (PROXY_PORT, ADMIN_PORT):
        if port_busy(port):
            sys.exit(f"start_ab.py: port {port} is in use; refusing to measure a stranger")
    prefix = ["chrt", "-f", "50"] if os.geteuid() == 0 and shutil.which("chrt") else []
    if prefix:
        os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(50))

    times = {name: [] for name, _, _ in builds}
    with tempfile.TemporaryDirectory() as work:
        config = os.path.join(work, "sidecar.yaml")
        with open(config, "w") as f:
            f.write(CONFIG)
        for _ in range(starts):
            for name, executable, env in builds:
                t0 = time.perf_counter()
                process = subprocess.Popen(prefix + [executable, "run", "--config", config], env=env,
                                           cwd=os.path.dirname(executable),
                                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                ok = ready(t0 + START_TIMEOUT_S)
                elapsed = (time.perf_counter() - t0) * 1000
                process.kill()
                process.wait()
                if not ok:
                    sys.exit(f"start_ab.py: {name} was not ready within {START_TIMEOUT_S} s")
                times[name].append(elapsed)
                while port_busy(ADMIN_PORT):
                    time.sleep(0.01)
                time.sleep(0.2)  # the killed process's memory goes back to the kernel before the next start

    for name, values in times.items():
        print(f"{name:12s} median {statistics.median(values):6.1f} ms  min {min(values):6.1f}  max {max(values):6.1f}  "
              + " ".join(f"{v:.0f}" for v in values))


if __name__ == "__main__":
    main()
