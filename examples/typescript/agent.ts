/**
 * The booking agent: a TypeScript agent on the talos SDK.
 *
 *     node dist/agent.js BOOKING_HOME PLANNER_DID GRANT_FILE
 *
 * It connects to its node, issues the planner a capability for `talos://booking/**`
 * (action `book`), writes the grant (the capability chain) to GRANT_FILE for the planner
 * to use, then answers every call its node lets through until SIGTERM/SIGINT. Its node
 * checks each call's capability before the agent ever sees it.
 */
import { renameSync, writeFileSync } from "node:fs";

import { Talos, capability, type Call } from "@talos/agent";

/** A failure with a kind of its own: the caller gets it as the problem's `kind`. */
class SoldOut extends Error {
  readonly kind = "sold_out";
}

const [home, plannerDid, grantFile] = process.argv.slice(2);
if (!home || !plannerDid || !grantFile) {
  console.error("usage: agent.js BOOKING_HOME PLANNER_DID GRANT_FILE");
  process.exit(2);
}

const node = Talos.connect({ home });
const me = await node.node();

const seats = new Map<string, number>([
  ["LH123", 2],
  ["BA456", 0],
]);

node.handles("talos://booking/**", async (call: Call) => {
  const flight = String(call.args.flight ?? "");
  const left = seats.get(flight);
  if (left === undefined) throw new Error(`no flight ${flight}`);
  if (left === 0) throw new SoldOut(`${flight} is sold out`);
  seats.set(flight, left - 1);
  return { booked: flight, for: call.from, seatsLeft: left - 1 };
});

// The planner may book for ten minutes.
const grant = await node.issue(plannerDid, [capability("talos://booking/**", "book")], { ttl: 600 });
writeFileSync(`${grantFile}.tmp`, JSON.stringify({ booking: me.did, chain: grant.chain, jti: grant.jti }));
renameSync(`${grantFile}.tmp`, grantFile); // the planner never reads half a file
console.error(`booking agent ${me.did}: serving talos://booking/**`);

const stop = new AbortController();
process.once("SIGTERM", () => stop.abort());
process.once("SIGINT", () => stop.abort());
await node.serve({ signal: stop.signal });
