"""The `juriscope` command line (`commands`, `admin`, `base`), the migrations runner
(`migrate`), the embedded PostgreSQL server (`embedded`) and progress reporting (`progress`).

`main` loads the commands only when called, so that importing the migrations runner (as the
readiness probe does) does not load the command line."""


def main() -> None:
    """Run the `juriscope` command (the console script's entry point)."""
    from app.cli.commands import main as run

    run()
