"""The planner agent: books a flight under the capability booking granted it."""

import json
import sys
import time
from pathlib import Path

from talos_agent import CallFailed, Refused, Talos

node = Talos.connect(sys.argv[1])  # this agent's node (its home directory)
grant_file = Path(sys.argv[2])
deadline = time.monotonic() + 60
while not grant_file.exists():  # booking writes it once it has issued the capability
    if time.monotonic() > deadline:
        sys.exit("no capability from booking")
    time.sleep(0.1)
grant = json.loads(grant_file.read_text())

for action, flight in [("book", "LH123"), ("book", "LH123"), ("cancel", "LH123")]:
    try:
        r = node.invoke(grant["did"], "talos://booking/flights", action,
                        {"flight": flight}, chain=grant["chain"])
        print(f"{action} {flight}: {r.result}")
    except Refused as e:  # booking's node said no: the agent never saw the call
        print(f"{action} {flight}: refused by booking's node ({e.kind})")
    except CallFailed as e:  # booking's agent said no
        print(f"{action} {flight}: failed in booking's agent ({e.kind}: {e.detail})")
