"""`python -m chalicelib.cli`: the same as the `taskhub` console script."""

from .app import main

if __name__ == "__main__":
    raise SystemExit(main())
