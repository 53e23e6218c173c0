#!/usr/bin/env python3
"""Import benchmark: `quire import` plus the first `quire build` of a
generated Jekyll, Hugo and Zola site, in one run.

    python3 benches/import.py --posts 10000 [--runs 3]

Generates the corpus with ../shared/bench/gen_corpus.py (zola and hugo
flavors; the Jekyll site is the hugo flavor's posts moved to
`_posts/YYYY-MM-DD-name.md` with a `_config.yml` and a permalink pattern, so
every post gets a redirect), then for each generator measures, `--runs`
times each, the import into a new folder and the cold build of the result.
Wall time and peak memory are medians, as in compare.py; the import must not
take longer than the build.
"""
import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from compare import ROOT, find_gen_corpus, series  # noqa: E402


def jekyll_from_hugo(hugo_site, out):
    """The hugo flavor's posts as a Jekyll site."""
    shutil.rmtree(out, ignore_errors=True)
    posts = os.path.join(out, "_posts")
    os.makedirs(posts)
    with open(os.path.join(out, "_config.yml"), "w") as f:
        f.write("title: Bench\nurl: https://example.com\npermalink: /:year/:month/:day/:title.html\n"
                "markdown: kramdown\n")
    source = os.path.join(hugo_site, "content", "posts")
    for name in sorted(os.listdir(source)):
        if not name.endswith(".md") or name.startswith("_"):
            continue
        with open(os.path.join(source, name)) as f:
            text = f.read()
        day = re.search(r"^date: (\d{4}-\d{2}-\d{2})", text, re.M).group(1)
        with open(os.path.join(posts, f"{day}-{name}"), "w") as f:
            f.write(text)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--posts", type=int, default=10000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--workdir", default=os.path.join(tempfile.gettempdir(), "quire-import-bench"))
    args = ap.parse_args()

    subprocess.run(["cargo", "build", "--release", "--locked", "--quiet"], cwd=ROOT, check=True)
    quire = os.path.join(os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target")), "release", "quire")
    gen = find_gen_corpus()
    sources = {}
    for flavor in ["zola", "hugo"]:
        path = os.path.join(args.workdir, f"{flavor}-{args.posts}")
        shutil.rmtree(path, ignore_errors=True)
        subprocess.run([sys.executable, gen, "--posts", str(args.posts), "--flavor", flavor, "--out", path],
                       check=True, stdout=subprocess.DEVNULL)
        sources[flavor] = path
    sources["jekyll"] = os.path.join(args.workdir, f"jekyll-{args.posts}")
    jekyll_from_hugo(sources["hugo"], sources["jekyll"])

    print(f"\n{args.posts} posts, median of {args.runs} runs")
    failed = False
    for generator in ["jekyll", "hugo", "zola"]:
        dest = os.path.join(args.workdir, f"imported-{generator}")

        def fresh():
            shutil.rmtree(dest, ignore_errors=True)

        def unbuilt():
            for name in ["public", ".quire"]:
                shutil.rmtree(os.path.join(dest, name), ignore_errors=True)

        imported, imported_mem = series(f"{generator}: import", args.runs, fresh,
                                        [quire, "import", generator, sources[generator], dest])
        built, built_mem = series(f"{generator}: first build", args.runs, unbuilt,
                                  [quire, "build", "--root", dest])
        ratio = imported / built if built else float("inf")
        print(f"  {generator}: import/build = {ratio:.2f}", flush=True)
        failed |= ratio > 1.0
    if failed:
        sys.exit("an import took longer than the build of its result")


if __name__ == "__main__":
    main()
