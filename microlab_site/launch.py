"""What `make run` says before it starts the lab: where to open it, the demo accounts, and,
when the port is taken, what to do instead. Standard library only: it runs before the
virtualenv exists.

    python microlab_site/launch.py --port 8000          # the opening lines; exit 1 if taken
    python microlab_site/launch.py --port 8000 --ready  # the line just before the server starts
"""

import argparse
import errno
import socket
import sys

HOST = "127.0.0.1"
DEMO_ACCOUNTS = [("demo-instructor", True), ("demo-student", False)]
DEMO_PASSWORD = "microlab-demo"


def port_problem(port, host=HOST):
    """Why the lab cannot listen on `port` ("" when it can)."""
    if not 1 <= port <= 65535:
        return f"Port {port} is not a port number (1 to 65535)."
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind((host, port))
        except OSError as error:
            if error.errno == errno.EADDRINUSE:
                return (
                    f"Port {port} is already in use: another program (or a lab you started "
                    f"earlier) is listening on it. Stop that program, or start the lab on "
                    f"another port: make run PORT={port + 1 if port < 65535 else 8001}"
                )
            if error.errno == errno.EACCES:
                return (
                    f"Port {port} needs administrator rights; use a port above 1023, "
                    "e.g. make run PORT=8001"
                )
            return f"Port {port} cannot be used ({error.strerror})."
    return ""


def opening_lines(port):
    accounts = ", ".join(
        f"{name} ({'instructor' if instructor else 'student'})"
        for name, instructor in DEMO_ACCOUNTS
    )
    return [
        f"MicroLLM Lab: open http://{HOST}:{port}/ in your browser once it says it is ready.",
        f"Demo accounts: {accounts}; password '{DEMO_PASSWORD}' (development only).",
        "Setting up first (database, packs, and each pack's showcase run on the first start)...",
    ]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", required=True)
    parser.add_argument("--ready", action="store_true")
    args = parser.parse_args(argv)
    try:
        port = int(args.port)
    except ValueError:
        print(f"PORT={args.port} is not a number; try make run PORT=8001", file=sys.stderr)
        return 2
    problem = port_problem(port)
    if problem:
        print(problem, file=sys.stderr)
        return 1
    lines = [f"Ready: open http://{HOST}:{port}/ (Ctrl+C stops the lab)."]
    print("\n".join(lines if args.ready else opening_lines(port)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
