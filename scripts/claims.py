"""Write docs/CLAIMS.md from contracts/claims.yaml (`make claims`); --check: exit 1 if stale."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from eicontract.clauses import CLAUSES
from eicontract.contract.claims import load_claims, render_markdown

TARGET = Path(__file__).resolve().parents[1] / "docs" / "CLAIMS.md"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--check", action="store_true", help="only report whether docs/CLAIMS.md is fresh")
    args = parser.parse_args(argv)
    text = render_markdown(load_claims(), CLAUSES)
    if args.check:
        fresh = TARGET.is_file() and TARGET.read_text(encoding="utf-8") == text
        print(f"{TARGET}: {'fresh' if fresh else 'stale: run make claims'}")
        return 0 if fresh else 1
    TARGET.write_text(text, encoding="utf-8")
    print(f"wrote {TARGET}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
