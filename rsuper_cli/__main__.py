"""``python -m rsuper_cli``."""

from rsuper_cli.main import main

main()
