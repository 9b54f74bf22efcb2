"""Reads py-spy's collapsed stacks (bench --profile DIR) and prints where each process spends its samples: by function and by package."""

from __future__ import annotations

import argparse
import re
from collections import Counter
from pathlib import Path

# "name (path/to/file.py:123)" — one frame of py-spy's raw output.
FRAME = re.compile(r"^(?P<function>.*?) \((?P<file>[^()]*?)(?::\d+)?\)$")
IDLE = ("select (selectors.py", "_run_once (asyncio/base_events.py", "run_forever", "poll (selectors.py", "epoll")


def frames(stack: str) -> list[tuple[str, str]]:
    """Splits a collapsed stack into (function, file) frames, outermost first."""
    parsed = []
    for frame in stack.split(";"):
        match = FRAME.match(frame)
        parsed.append((match["function"], match["file"]) if match else (frame, ""))
    return parsed


def package(file: str) -> str:
    """Names the package a source file belongs to: site-packages' top package, or our own top two folders."""
    if "site-packages/" in file:
        return file.split("site-packages/", 1)[1].split("/", 1)[0]
    parts = Path(file).parts
    for root in ("services", "shared", "simulators", "songda"):
        if root in parts:
            index = parts.index(root)
            return "/".join(parts[index : index + 2])
    return "python" if "python3" in file else file or "?"


def summarise(path: Path, top: int) -> str:
    """Tallies one process's samples: self time by function, inclusive time by package, and idle share."""
    self_time: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    by_package: Counter[str] = Counter()
    total = idle = 0
    for line in path.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not count_text.isdigit():
            continue
        count = int(count_text)
        total += count
        parsed = frames(stack)
        function, file = parsed[-1]
        if any(marker in f"{function} ({file}" for marker in IDLE):
            idle += count
            continue
        self_time[f"{function} ({package(file)})"] += count
        by_package[package(file)] += count
        for name in {f"{f} ({package(p)})" for f, p in parsed if p.endswith(".py") and package(p).split("/")[0] in ("services", "shared")}:
            inclusive[name] += count
    busy = max(total - idle, 1)
    lines = [f"{path.stem}: {total} samples, {100 * idle / max(total, 1):.0f}% idle"]
    lines.append("  self time by package: " + ", ".join(f"{name} {100 * n / busy:.0f}%" for name, n in by_package.most_common(top)))
    lines.append("  self time by function:")
    lines.extend(f"    {100 * n / busy:5.1f}%  {name}" for name, n in self_time.most_common(top))
    lines.append("  inclusive time in our code:")
    lines.extend(f"    {100 * n / busy:5.1f}%  {name}" for name, n in inclusive.most_common(top))
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("directory", type=Path)
    parser.add_argument("--top", type=int, default=15)
    args = parser.parse_args()
    for path in sorted(args.directory.glob("*.txt")):
        print(summarise(path, args.top), end="\n\n")


if __name__ == "__main__":
    main()
