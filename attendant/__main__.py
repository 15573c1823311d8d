"""``python -m attendant``: the same command as the ``attendant`` console script."""

from attendant.cli import main

main()
