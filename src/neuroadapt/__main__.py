"""Allow ``python -m neuroadapt``."""

from neuroadapt.cli import main

if __name__ == "__main__":
    main()
