"""Progress for long CLI work: a rich progress bar on a terminal, plain lines otherwise."""

import contextlib
import sys
from collections.abc import Callable, Iterator

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn


@contextlib.contextmanager
def stages(title: str, total: int) -> Iterator[Callable[[str, int], None]]:
    """Yield a callback `(stage, items)` to call as each of `total` stages starts; called
    again with the same stage, it reports how many items that stage has done so far."""
    if sys.stderr.isatty():
        progress = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=Console(stderr=True),
            transient=False,
        )
        with progress:
            task = progress.add_task(title, total=total)
            current = ""

            def advance(stage: str, items: int) -> None:
                nonlocal current
                step, current = (0 if stage == current else 1), stage
                progress.update(task, advance=step, description=f"{title}: {stage} ({items:,})")

            yield advance
            progress.update(task, completed=total, description=f"{title}: done")
    else:
        done, current = 0, ""

        def line(stage: str, items: int) -> None:
            nonlocal done, current
            done += stage != current
            current = stage
            print(
                f"{title}: {stage} ({items} records) [{done}/{total}]", file=sys.stderr, flush=True
            )

        yield line
