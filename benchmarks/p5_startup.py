"""P5: what the pytest plugin costs at start-up when no test uses it (issue 11, item 8).

    .venv/bin/python benchmarks/p5_startup.py            # the rows (~30 s)
    .venv/bin/python benchmarks/p5_startup.py --quick    # fewer rounds

A throwaway project with one trivial test (no agentfakes fixture) is run by pytest in a
fresh process, with the plugin installed as users get it (the `pytest11` entry point) and,
as the anchor, with `-p no:agentfakes`. The row is the median of per-round differences over
interleaved rounds (plugin, anchor, then anchor, plugin, ...), target < 50 ms. A second,
informational row loads what 0.1's plugin imported at start-up (the server, factories
and agent, with their pydantic models and faker) to show what the lazy imports save.
`measure()` returns the rows as dicts: name, fake, anchor, ratio, target, verdict.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

TARGET_MS = 50.0
EAGER = ("-p", "agentfakes.server", "-p", "agentfakes.factories", "-p", "agentfakes.agent")


def _project() -> Path:
    root = Path(tempfile.mkdtemp(prefix="agentfakes-p5-"))
    (root / "pytest.ini").write_text("[pytest]\n", encoding="utf-8")
    (root / "test_plain.py").write_text("def test_plain():\n    assert 1 + 1 == 2\n")
    return root


def _run(root: Path, *extra: str) -> float:
    """Real seconds for one pytest process on the throwaway project."""
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *extra]
    start = time.perf_counter()
    subprocess.run(command, cwd=root, check=True, capture_output=True)
    return time.perf_counter() - start


def _paired(root: Path, fake: tuple[str, ...], anchor: tuple[str, ...], rounds: int) -> Any:
    diffs, fakes, anchors = [], [], []
    _run(root, *fake), _run(root, *anchor)  # warm the file cache
    for n in range(rounds):
        if n % 2:
            a, f = _run(root, *anchor), _run(root, *fake)
        else:
            f, a = _run(root, *fake), _run(root, *anchor)
        diffs.append(f - a)
        fakes.append(f)
        anchors.append(a)
    return statistics.median(fakes), statistics.median(anchors), statistics.median(diffs)


IMPORT = (
    "import time, pytest, sys; t = time.perf_counter(); import {module}; "
    "print(time.perf_counter() - t)"
)


def _import_cost(module: str, rounds: int) -> float:
    """Median real seconds to import `module` in a fresh process where pytest is loaded."""
    code = IMPORT.format(module=module)
    times = [
        float(
            subprocess.run(
                [sys.executable, "-c", code], capture_output=True, text=True, check=True
            ).stdout
        )
        for _ in range(rounds)
    ]
    return statistics.median(times)


def measure(rounds: int = 15) -> list[dict[str, Any]]:
    """The P5 rows (see the module docstring)."""
    root = _project()
    no_plugin = ("-p", "no:agentfakes")
    plugin = _import_cost("agentfakes.pytest_plugin", rounds)
    eager = _import_cost("agentfakes.server, agentfakes.factories, agentfakes.agent", rounds)
    rows = [
        {
            "name": "importing the plugin module (pytest already loaded)",
            "fake": f"{plugin * 1000:.1f} ms",
            "anchor": f"{eager * 1000:.1f} ms for 0.1's eager imports",
            "ratio": f"{plugin / eager:.3f}×",
            "target": f"< {TARGET_MS:g} ms",
            "verdict": "PASS" if plugin * 1000 < TARGET_MS else "MISS",
        }
    ]
    f, a, diff = _paired(root, (), no_plugin, rounds)
    rows += [
        {
            "name": "pytest start-up, plugin installed but unused (1 plain test)",
            "fake": f"{f * 1000:.0f} ms",
            "anchor": f"{a * 1000:.0f} ms with -p no:agentfakes",
            "ratio": f"{f / a:.3f}× ({diff * 1000:+.1f} ms, median of paired rounds)",
            "target": f"< {TARGET_MS:g} ms more",
            "verdict": "PASS" if diff * 1000 < TARGET_MS else "MISS",
        }
    ]
    f2, a2, diff2 = _paired(root, EAGER, no_plugin, max(3, rounds // 3))
    rows.append(
        {
            "name": "for comparison: plugin + 0.1's eager imports (server, factories, agent)",
            "fake": f"{f2 * 1000:.0f} ms",
            "anchor": f"{a2 * 1000:.0f} ms with -p no:agentfakes",
            "ratio": f"{f2 / a2:.3f}× ({diff2 * 1000:+.1f} ms)",
            "target": "—",
            "verdict": "info",
        }
    )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="5 rounds instead of 15")
    args = parser.parse_args()
    for row in measure(5 if args.quick else 15):
        print(f"{row['name']}\n  {row['fake']} vs {row['anchor']}: {row['ratio']}")
        print(f"  target {row['target']}: {row['verdict']}")


if __name__ == "__main__":
    main()
