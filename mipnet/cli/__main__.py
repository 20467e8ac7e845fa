"""``python -m mipnet.cli``: the ``mipnet`` command."""

from . import main

if __name__ == "__main__":
    main()
