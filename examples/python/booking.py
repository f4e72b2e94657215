"""The booking agent: grants the planner a capability, then answers its calls."""

import json
import os
import sys

from talos_agent import Call, Talos, capability

node = Talos.connect(sys.argv[1])  # this agent's node (its home directory)
planner_did, grant_file = sys.argv[2], sys.argv[3]
seats = {"LH123": 1}


class SoldOut(Exception):
    kind = "sold_out"  # what the caller's exception reports as its kind


@node.handles("talos://booking/**")
def book(call: Call) -> dict[str, str]:
    flight = call.args["flight"]
    if seats.get(flight, 0) == 0:
        raise SoldOut(f"{flight} is full")
    seats[flight] -= 1
    return {"flight": flight, "seat": "12A", "for": call.sender}


# Only the planner, only `book` on booking resources, for ten minutes. The chain is
# handed over as a file here; any channel works (it is useless to anyone else).
grant = node.issue(planner_did, [capability("talos://booking/**", "book")], ttl=600)
with open(grant_file + ".tmp", "w") as f:
    json.dump({"did": node.node().did, "chain": grant.chain}, f)
os.replace(grant_file + ".tmp", grant_file)
node.serve()
