"""Command line: ``python -m skresnet demo`` (also installed as ``skresnet demo``)."""

from __future__ import annotations

import argparse
import time

from ._version import __version__


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="skresnet", description=__doc__)
    parser.add_argument("--version", action="version", version=f"skresnet {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser(
        "demo", help="fit the three estimators on offline data beside scikit-learn baselines"
    )
    demo.add_argument(
        "--quick", action="store_true", help="a few epochs, no statistical member (smoke test)"
    )
    args = parser.parse_args(argv)

    from ._demo import run_demo

    start = time.perf_counter()
    table = run_demo(quick=args.quick)
    print(table.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    print(f"\ntotal {time.perf_counter() - start:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
