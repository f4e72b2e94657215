/**
 * The planner: calls the booking agent through its own node with the capability the
 * booking agent granted it, and prints what it got.
 *
 *     node dist/planner.js PLANNER_HOME GRANT_FILE
 */
import { existsSync, readFileSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";

import { CallFailedError, Talos, TalosError } from "@talos/agent";

const [home, grantFile] = process.argv.slice(2);
if (!home || !grantFile) {
  console.error("usage: planner.js PLANNER_HOME GRANT_FILE");
  process.exit(2);
}

// Wait (up to a minute) for the booking agent to publish its grant.
const deadline = Date.now() + 60_000;
while (!existsSync(grantFile)) {
  if (Date.now() > deadline) throw new Error(`no grant at ${grantFile} after 60 s`);
  await sleep(50);
}
const grant = JSON.parse(readFileSync(grantFile, "utf8")) as { booking: string; chain: string[] };

const node = Talos.connect({ home });
const booked = await node.invoke({
  to: grant.booking,
  resource: "talos://booking/flights",
  action: "book",
  args: { flight: "LH123" },
  chain: grant.chain,
});
console.log(JSON.stringify(booked.result));

// A failure of the agent's own reaches the planner typed, with its kind.
try {
  await node.invoke({ to: grant.booking, resource: "talos://booking/flights", action: "book", args: { flight: "BA456" }, chain: grant.chain });
} catch (e) {
  if (!(e instanceof CallFailedError)) throw e;
  console.log(`BA456: ${e.kind} (${e.detail})`);
}

// And a call the capability does not cover never reaches the agent: its node refuses it.
try {
  await node.invoke({ to: grant.booking, resource: "talos://payments/refund", action: "book", chain: grant.chain });
} catch (e) {
  if (!(e instanceof TalosError)) throw e;
  console.log(`refund: refused as ${e.kind} (${e.constructor.name})`);
}
