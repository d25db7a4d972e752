"""Render every SVG screenshot in headless Chromium to PNG, to look at them as a browser (and
so GitHub's README) shows them: some SVG renderers drop the spaces between styled runs of text,
a browser must not.

    python screenshots/render_in_browser.py [--out DIR] [--chromium PATH] [NAME.svg ...]

Needs Chromium (Debian: ``apt-get install chromium``). Each PNG is the SVG at its own size
(its ``viewBox``). Prints one line per file; exit 1 when Chromium is missing or a render fails.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
#: flags for a closed network and a root user (no sandbox), as this machine needs them
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
)


def size_of(svg: Path) -> tuple[int, int]:
    """The SVG's width and height from its viewBox, rounded up."""
    found = re.search(r'viewBox="[\d.]+ [\d.]+ ([\d.]+) ([\d.]+)"', svg.read_text()[:4000])
    if found is None:
        raise ValueError(f"{svg.name}: no viewBox")
    return int(float(found[1]) + 0.999), int(float(found[2]) + 0.999)


def render(chromium: str, svg: Path, png: Path, profile: Path) -> None:
    width, height = size_of(svg)
    subprocess.run(
        [
            chromium,
            *FLAGS,
            f"--user-data-dir={profile}",
            f"--window-size={width},{height}",
            f"--screenshot={png}",
            svg.as_uri(),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="SVG files in screenshots/ (all by default)")
    parser.add_argument("--out", type=Path, default=None, help="where the PNGs go (a temp dir)")
    parser.add_argument("--chromium", default=shutil.which("chromium") or "chromium")
    args = parser.parse_args(argv)
    if shutil.which(args.chromium) is None:
        print(f"{args.chromium}: not found (apt-get install chromium)", file=sys.stderr)
        return 1
    out = args.out or Path(tempfile.mkdtemp(prefix="screenshots-png-"))
    out.mkdir(parents=True, exist_ok=True)
    svgs = [HERE / n for n in args.names] if args.names else sorted(HERE.glob("*.svg"))
    failed = 0
    with tempfile.TemporaryDirectory(prefix="chromium-profile-") as profile:
        for svg in svgs:
            png = out / f"{svg.stem}.png"
            try:
                render(args.chromium, svg, png, Path(profile))
            except (subprocess.SubprocessError, ValueError, OSError) as exc:
                failed += 1
                print(f"{svg.name}: FAILED {exc}", file=sys.stderr)
                continue
            print(png)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
