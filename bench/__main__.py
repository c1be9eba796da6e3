"""`python -m bench [module ...]`: run the named benchmark modules, or all of them."""

from __future__ import annotations

import argparse
import importlib
import sys

MODULES = (
    "api_me",
    "token_grants",
    "matching_recommend",
    "matching_assign",
    "matching_regions",
    "matching_naive_kmeans",
    "diagnosis_inference",
    "emr_fhir",
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument(
        "modules", nargs="*", metavar="module", help=f"any of: {', '.join(MODULES)}"
    )
    args = parser.parse_args(argv)
    unknown = sorted(set(args.modules) - set(MODULES))
    if unknown:
        parser.error(f"unknown benchmark: {', '.join(unknown)}")
    for name in args.modules or MODULES:
        importlib.import_module(f"bench.{name}").main()
    return 0


if __name__ == "__main__":
    sys.exit(main())
