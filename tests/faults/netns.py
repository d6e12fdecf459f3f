"""Run the hostile world and shelfcheck commands in a private network and mount namespace.

Usage (as root): ``unshare --net --mount -- python -m tests.faults.netns SPEC.json``

SPEC holds ``addresses`` (added to the namespace's own loopback interface, e.g. a public
1.2.3.4), ``hosts`` (the text of an /etc/hosts bind-mounted over the real one inside the
namespace only), ``server`` (arguments of tests.faults.hostile), ``commands`` (shelfcheck
argument lists) with ``env``, ``cwd`` and ``result`` (where the outcome is written as JSON).
Nothing outside the namespace changes: the machine's interfaces and /etc/hosts stay as they are.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tests.conftest import ROOT


def main(spec_path: str) -> None:
    spec = json.loads(Path(spec_path).read_text(encoding="utf-8"))
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
    for address in spec["addresses"]:
        subprocess.run(["ip", "addr", "add", address, "dev", "lo"], check=True)
    with tempfile.NamedTemporaryFile("w", suffix=".hosts", delete=False) as hosts:
        hosts.write(spec["hosts"])
    subprocess.run(["mount", "--bind", hosts.name, "/etc/hosts"], check=True)
    server = subprocess.Popen([sys.executable, "-m", "tests.faults.hostile", *spec["server"]],
                              cwd=ROOT, stdout=subprocess.PIPE, text=True)
    commands: list[dict[str, object]] = []
    outcome: dict[str, object] = {"server": None, "commands": commands}
    try:
        assert server.stdout is not None
        outcome["server"] = json.loads(server.stdout.readline())
        for args in spec["commands"]:
            started = time.monotonic()
            done = subprocess.run([sys.executable, "-m", "shelfcheck", *args], cwd=spec["cwd"],
                                  env=spec["env"], capture_output=True, text=True, timeout=120,
                                  check=False)
            commands.append({"args": args, "returncode": done.returncode,
                             "stdout": done.stdout, "stderr": done.stderr,
                             "seconds": round(time.monotonic() - started, 2)})
    finally:
        server.kill()
        server.wait()
        Path(spec["result"]).write_text(json.dumps(outcome), encoding="utf-8")


if __name__ == "__main__":
    main(sys.argv[1])
