"""`python -m app.cli`: the `juriscope` command."""

from app.cli import main

main()
