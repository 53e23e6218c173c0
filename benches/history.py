#!/usr/bin/env python3
"""History benchmark: a post save through the API on a 10,000-post site,
with the site in a git repository of 10,000 commits and without git.

    python3 benches/history.py --posts 10000 --commits 10000 --saves 20

Generates the corpus with ../shared/bench/gen_corpus.py, makes it a git
repository whose history has --commits commits (one with every file, the
rest each changing one post, written with `git fast-import`), then starts
`quire serve` on it and times --saves saves of one post (PUT with If-Match;
the answer comes once the preview has the new page, so this is
save-to-preview). The same is timed on a copy without `.git`, to show what
the commit costs. Reports medians and 95th percentiles; fails when the
median with git is over 100 ms.
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
import threading
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from compare import ROOT, find_gen_corpus, percentile  # noqa: E402

PASSWORD = "bench-history-correct-horse-42"


def git(site, *args, stdin=None):
    env = dict(os.environ, GIT_AUTHOR_NAME="Bench", GIT_AUTHOR_EMAIL="bench@example.org",
               GIT_COMMITTER_NAME="Bench", GIT_COMMITTER_EMAIL="bench@example.org")
    subprocess.run(["git", *args], cwd=site, input=stdin, env=env, check=True,
                   stdout=subprocess.DEVNULL)


def make_history(site, commits):
    """A repository with `commits` commits: the site, then one-post edits."""
    git(site, "init", "-q", "-b", "main")
    git(site, "add", "-A")
    git(site, "commit", "-qm", "the site")
    posts = sorted(f for f in os.listdir(os.path.join(site, "content", "posts")) if f.endswith(".md"))
    stream = []
    for i in range(commits - 1):
        name = posts[i % len(posts)]
        path = os.path.join(site, "content", "posts", name)
        text = open(path, "rb").read() + f"\nEdit {i}.\n".encode()
        message = f"edit {name} {i}".encode()
        stream.append(b"commit refs/heads/main\n")
        stream.append(f"committer Bench <bench@example.org> {1700000000 + i} +0000\n".encode())
        stream.append(b"data %d\n%s\n" % (len(message), message))
        if i == 0:
            stream.append(b"from refs/heads/main^0\n")
        stream.append(f"M 100644 inline content/posts/{name}\n".encode())
        stream.append(b"data %d\n%s\n" % (len(text), text))
    git(site, "fast-import", "--quiet", stdin=b"".join(stream))
    git(site, "reset", "-q", "--hard", "main")


def start(quire, site):
    run = subprocess.run([quire, "user", "add", "bench", "--role", "admin", "--password-stdin",
                          "--root", site], input=PASSWORD + "\n", text=True, capture_output=True)
    if run.returncode != 0:
        sys.exit(f"quire user add: {run.stderr}")
    proc = subprocess.Popen([quire, "serve", "--root", site, "--bind", "127.0.0.1:0"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    for line in proc.stderr:
        found = re.search(r"quire is serving (http://[^/ ]+)/", line)
        if found:
            threading.Thread(target=lambda: [None for _ in proc.stderr], daemon=True).start()
            return proc, found.group(1)
    sys.exit("quire serve did not start")


def saves(quire, site, count):
    proc, url = start(quire, site)
    try:
        jar = http.cookiejar.CookieJar()
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))

        def call(method, path, body=None, headers=None):
            data = None if body is None else json.dumps(body).encode()
            request = urllib.request.Request(url + path, data=data, method=method,
                                             headers={"Content-Type": "application/json", **(headers or {})})
            with opener.open(request, timeout=60) as reply:
                return json.loads(reply.read() or b"null")

        session = call("POST", "/api/v1/session", {"username": "bench", "password": PASSWORD})
        csrf = session["csrf_token"]
        posts = sorted(f[:-3] for f in os.listdir(os.path.join(site, "content", "posts")) if f.endswith(".md"))
        slug = posts[len(posts) // 2]
        revision = call("GET", f"/api/v1/posts/{slug}")["revision"]
        times = []
        for i in range(count):
            start_at = time.perf_counter()
            reply = call("PUT", f"/api/v1/posts/{slug}", {"body": f"Saved {i} at {time.time_ns()}.\n"},
                         {"If-Match": revision, "X-CSRF-Token": csrf})
            times.append(time.perf_counter() - start_at)
            if reply.get("history_error"):
                sys.exit(f"the save was not committed: {reply['history_error']}")
            revision = reply["revision"]
            time.sleep(0.1)
        return times
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--posts", type=int, default=10000)
    ap.add_argument("--commits", type=int, default=10000)
    ap.add_argument("--saves", type=int, default=20)
    ap.add_argument("--workdir", default=os.path.join(tempfile.gettempdir(), "quire-history-bench"))
    args = ap.parse_args()

    subprocess.run(["cargo", "build", "--release", "--locked", "--quiet"], cwd=ROOT, check=True)
    quire = os.path.join(os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target")), "release", "quire")
    shutil.rmtree(args.workdir, ignore_errors=True)
    plain = os.path.join(args.workdir, "plain")
    subprocess.run([sys.executable, find_gen_corpus(), "--posts", str(args.posts), "--out", plain,
                    "--theme-from", ROOT], check=True, stdout=subprocess.DEVNULL)
    with_git = os.path.join(args.workdir, "git")
    shutil.copytree(plain, with_git)
    started = time.perf_counter()
    make_history(with_git, args.commits)
    print(f"{args.posts} posts; repository of {args.commits} commits made in "
          f"{time.perf_counter() - started:.1f} s")

    failed = False
    for label, site in [("without git", plain), ("with git", with_git)]:
        times = saves(quire, site, args.saves)
        median = statistics.median(times) * 1000
        p95 = percentile(times, 0.95) * 1000
        print(f"  save -> preview, {label}: median {median:.1f} ms, p95 {p95:.1f} ms", flush=True)
        if label == "with git":
            failed = median > 100
            commits = subprocess.run(["git", "rev-list", "--count", "HEAD"], cwd=site,
                                     capture_output=True, text=True).stdout.strip()
            print(f"  commits now: {commits}")
    if failed:
        sys.exit("a save with a git commit took longer than 100 ms (median)")


if __name__ == "__main__":
    main()
