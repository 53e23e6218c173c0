#!/usr/bin/env python3
"""Authoring benchmark: the dashboard, searches and list endpoints of
`quire serve` on a generated 10,000-post site, and the server's memory.

    python3 benches/authoring.py --posts 10000 --repeat 20

Generates the corpus with ../shared/bench/gen_corpus.py, adds an admin,
starts the release `quire serve` on it and times, over a real socket:
the dashboard (/admin/, first load and warm), a dashboard search, a filter
by tag, the last page sorted by title, GET /api/v1/posts and a text search
through it, and GET /api/v1/media. Reports medians, 95th percentiles and
page sizes, then the server's resident memory (VmRSS now, VmHWM peak).
Fails when the dashboard's median is over 100 ms or its page over 200 KB,
or when a search's median is over 100 ms.
"""
import argparse
import http.cookiejar
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from compare import ROOT, find_gen_corpus, percentile  # noqa: E402
from history import PASSWORD, start  # noqa: E402


def memory(pid):
    fields = {}
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            name, _, value = line.partition(":")
            if name in ("VmRSS", "VmHWM"):
                fields[name] = int(value.split()[0]) / 1024
    return fields


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--posts", type=int, default=10000)
    ap.add_argument("--repeat", type=int, default=20)
    ap.add_argument("--workdir", default=os.path.join(tempfile.gettempdir(), "quire-authoring-bench"))
    args = ap.parse_args()

    subprocess.run(["cargo", "build", "--release", "--locked", "--quiet"], cwd=ROOT, check=True)
    quire = os.path.join(os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target")), "release", "quire")
    shutil.rmtree(args.workdir, ignore_errors=True)
    site = os.path.join(args.workdir, "site")
    subprocess.run([sys.executable, find_gen_corpus(), "--posts", str(args.posts), "--out", site,
                    "--theme-from", ROOT], check=True, stdout=subprocess.DEVNULL)
    # A word from a post in the middle of the corpus, to search for.
    posts = sorted(os.listdir(os.path.join(site, "content", "posts")))
    text = open(os.path.join(site, "content", "posts", posts[len(posts) // 2])).read()
    body = text.split("---", 2)[2]
    word = max(re.findall(r"[a-z]{6,}", body.lower()) or ["lorem"], key=len)
    tag = re.search(r"tags:\s*\[?\s*\"?([A-Za-z0-9 _-]+)", text)
    tag = tag.group(1).strip() if tag else "rust"

    started = time.perf_counter()
    proc, url = start(quire, site)
    print(f"{args.posts} posts; server up in {time.perf_counter() - started:.1f} s "
          f"(searching for {word!r}, tag {tag!r})")
    failed = []
    try:
        jar = http.cookiejar.CookieJar()
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))

        def get(path):
            with opener.open(url + path, timeout=60) as reply:
                return reply.read()

        request = urllib.request.Request(url + "/api/v1/session", method="POST",
                                         data=json.dumps({"username": "bench", "password": PASSWORD}).encode(),
                                         headers={"Content-Type": "application/json"})
        opener.open(request, timeout=60).read()

        def timed(label, path, limit_ms=None, limit_kb=None):
            first_at = time.perf_counter()
            size = len(get(path))
            first = (time.perf_counter() - first_at) * 1000
            times = []
            for _ in range(args.repeat):
                at = time.perf_counter()
                get(path)
                times.append((time.perf_counter() - at) * 1000)
            median, p95 = statistics.median(times), percentile(times, 0.95)
            print(f"  {label:<34} median {median:6.1f} ms  p95 {p95:6.1f} ms  "
                  f"first {first:6.1f} ms  {size / 1024:7.1f} KB", flush=True)
            if limit_ms is not None and median > limit_ms:
                failed.append(f"{label}: median {median:.1f} ms > {limit_ms} ms")
            if limit_kb is not None and size / 1024 > limit_kb:
                failed.append(f"{label}: {size / 1024:.1f} KB > {limit_kb} KB")

        q = urllib.parse.quote(word)
        timed("dashboard /admin/", "/admin/", 100, 200)
        timed("dashboard search ?q=", f"/admin/?q={q}", 100, 200)
        timed("dashboard ?tag=", f"/admin/?tag={urllib.parse.quote(tag)}", 100, 200)
        timed("dashboard last page by title", "/admin/?sort=title&page=200", 100, 200)
        timed("GET /api/v1/posts", "/api/v1/posts")
        timed("GET /api/v1/posts?q=", f"/api/v1/posts?q={q}", 100)
        timed("GET /api/v1/media", "/api/v1/media")
        mem = memory(proc.pid)
        print(f"  quire serve memory: {mem.get('VmRSS', 0):.0f} MiB resident, "
              f"{mem.get('VmHWM', 0):.0f} MiB peak")
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    if failed:
        sys.exit("over the target: " + "; ".join(failed))


if __name__ == "__main__":
    main()
