"""`make demo`: run the example flows end to end, then read results back with the client."""

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def run(*args: str) -> None:
    cmd = [sys.executable, *args]
    print(f"\n$ python {' '.join(args)}", flush=True)
    subprocess.run(cmd, cwd=HERE, check=True)


def main() -> None:
    run("hello_flow.py", "run", "--who", "headwater")
    run("branch_flow.py", "run")
    run("foreach_flow.py", "run", "--count", "20")

    from headwater import Flow, metadata

    metadata(f"local@{HERE / '.headwater'}")
    print("\nReading results back with the client:")
    hello = Flow("HelloFlow").latest_successful_run
    print(f"  {hello}: greeting = {hello.data.greeting!r}, letters = {hello.data.letters}")
    branch = Flow("BranchFlow").latest_successful_run
    print(f"  {branch}: results = {branch.data.results}")
    squares = Flow("SquaresFlow").latest_successful_run
    tasks = list(squares["square"])
    print(f"  {squares}: total = {squares.data.total} from {len(tasks)} square tasks")


if __name__ == "__main__":
    main()
