"""A loopback provider site that can be made slow, for the stop/kill tests of `refresh`.

``python -m tests.slowserver --mode-file FILE --log FILE`` prints its port, then serves:

- ``/res/N``: a small page (a resource's link); ``/res/slow`` hangs in the slow modes;
- ``/listing`` and ``/listing?page=2``: a two-page listing of courses with fees.

The mode is read from the mode file on every request:
``a`` (Course 1 $100 and Course 2 $50), ``b-slow`` (Course 1 now $150 on page 1; page 2, with a
new Course 3, and ``/res/slow`` hang) and ``b`` (the same, answered at once).
Every request path is appended to the log file when it arrives.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

HANG_SECONDS = 120.0

COURSES = {
    "a": ([("Course 1", "$100")], [("Course 2", "$50")]),
    "b": ([("Course 1", "$150")], [("Course 2", "$50"), ("Course 3", "$75")]),
}


def listing_page(courses: list[tuple[str, str]], page: int, last: bool) -> bytes:
    items = "".join(
        f'<li class="course"><a href="/course/{title.split()[-1]}">{title}</a>'
        f'<span class="fee">Fee: {fee}</span></li>'
        for title, fee in courses
    )
    more = "" if last else f'<a class="next" href="/listing?page={page + 1}">Next</a>'
    return (f"<html><head><title>Courses, page {page}</title></head><body><h1>Courses</h1>"
            f"<ul>{items}</ul>{more}</body></html>").encode()


class Handler(BaseHTTPRequestHandler):
    mode_file: Path
    log_file: Path

    def log_message(self, format: str, *args: object) -> None:  # quiet
        pass

    def do_HEAD(self) -> None:
        self.do_GET()

    def do_GET(self) -> None:
        with self.log_file.open("a", encoding="utf-8") as log:
            log.write(self.path + "\n")
        mode = self.mode_file.read_text(encoding="utf-8").strip()
        slow = mode.endswith("-slow")
        courses = COURSES[mode.removesuffix("-slow")]
        if self.path == "/robots.txt":
            return self.answer(404, b"")
        if self.path.startswith("/res/"):
            if self.path == "/res/slow" and slow:
                time.sleep(HANG_SECONDS)
            return self.answer(200, b"<html><head><title>A resource</title></head>"
                                    b"<body><h1>Library training resource</h1></body></html>")
        if self.path == "/listing":
            return self.answer(200, listing_page(courses[0], 1, last=False))
        if self.path == "/listing?page=2":
            if slow:
                time.sleep(HANG_SECONDS)
            return self.answer(200, listing_page(courses[1], 2, last=True))
        return self.answer(404, b"<html><body>Not found</body></html>")

    def answer(self, status: int, body: bytes) -> None:
        try:
            self.send_response(status)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mode-file", type=Path, required=True)
    parser.add_argument("--log", type=Path, required=True)
    args = parser.parse_args()
    Handler.mode_file = args.mode_file
    Handler.log_file = args.log
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    print(server.server_address[1], flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        server.serve_forever()
    sys.exit(0)


if __name__ == "__main__":
    main()
