/**
 * The SDK against two real nodes: A (the caller, API on loopback TCP) and B (the callee,
 * bootstrapped from A, API on its home's Unix socket). Then the example, once.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";

import {
  AgentError,
  BadRequestError,
  CallFailedError,
  NodeUnreachableError,
  NotAuthorizedError,
  NotFoundError,
  PeerUnreachableError,
  PendingError,
  Refused,
  RevokedError,
  Talos,
  UnauthorizedError,
  capability,
  type Call,
  type Message,
} from "../src/index.js";
import { NodeProc, poll, skipReason, startPair, talos, talosBin } from "./harness.js";

const skip = skipReason();

/** Where new messages will land: past everything already in the inbox. */
async function inboxEnd(node: Talos): Promise<number> {
  let got = await node.read({ from: 0, max: 1024 });
  while (got.messages.length > 0) got = await node.read({ from: got.next, max: 1024 });
  return got.next;
}

/** `node.serve()` for the duration of `body`; checks it stopped cleanly. */
async function serving<T>(node: Talos, body: () => Promise<T>): Promise<T> {
  const stop = new AbortController();
  const server = node.serve({ signal: stop.signal, waitMs: 5_000 });
  try {
    return await body();
  } finally {
    stop.abort();
    await server;
  }
}

class SoldOut extends Error {
  readonly kind = "sold_out";
}

describe("two real nodes", { skip }, () => {
  let root = "";
  let A: NodeProc;
  let B: NodeProc;
  let a: Talos;
  let b: Talos;

  before(async () => {
    root = mkdtempSync(join(tmpdir(), "talos-ts-e2e-"));
    [A, B] = await startPair(root);
    a = A.client();
    b = B.client();
    assert.equal(a.endpoint.socketPath, undefined);
    assert.equal(b.endpoint.socketPath, join(B.home, "api.sock"));
  });

  after(async () => {
    await B?.stop();
    await A?.stop();
    if (root) rmSync(root, { recursive: true, force: true });
  });

  test("send, read and stream", async () => {
    const start = await inboxEnd(b);
    const seq = await a.send(B.did, new TextEncoder().encode("hello over talos"));
    assert.ok(seq >= 0);
    const first = await poll("the message to reach B", async () => (await b.read({ from: start, waitMs: 2_000 })).messages[0]);
    assert.equal(first.from, A.did);
    assert.equal(first.text, "hello over talos");
    assert.ok(first.index >= start);

    // The stream from just past it sees the next message, and only that one.
    const it = b.stream({ from: first.index + 1 });
    const next = it.next();
    await a.send(B.did, "second");
    const got = await next;
    assert.equal(got.done, false);
    const second = got.value as Message;
    assert.equal(second.text, "second");
    assert.ok(second.index > first.index);
    await it.return(undefined);

    // The stream replays from an index (the inbox is the truth); abort ends it.
    const stop = new AbortController();
    const texts: string[] = [];
    for await (const m of b.stream({ from: first.index, signal: stop.signal })) {
      texts.push(m.text);
      if (texts.length === 2) stop.abort();
    }
    assert.deepEqual(texts, ["hello over talos", "second"]);
    assert.ok((await b.ack(second.index)) >= 2);
  });

  test("invoke, answered by the handles() handler", async () => {
    const issued = await b.issue(A.did, [{ res: "talos://booking/**", act: ["book"] }], { ttl: 600 });
    assert.equal(issued.chain.length, 1);
    assert.equal(issued.jti.length, 32);
    const seen: Call[] = [];
    b.handles("talos://booking/**", async (call) => {
      seen.push(call);
      if (call.args.flight === "FULL") throw new SoldOut("no seats left");
      if (call.args.flight === "BUG") throw new Error("handler bug");
      return { booked: call.args.flight, for: call.from };
    });
    await serving(b, async () => {
      const r = await a.invoke({ to: B.did, resource: "talos://booking/flights", action: "book", args: { flight: "LH123" }, chain: issued });
      assert.deepEqual(r.result, { booked: "LH123", for: A.did });
      assert.equal(r.nonce.length, 32);
      assert.ok(r.atMs > 0);

      // The handler's error reaches the caller with its kind.
      await assert.rejects(
        a.invoke({ to: B.did, resource: "talos://booking/flights", action: "book", args: { flight: "FULL" }, chain: issued.chain }),
        (e: unknown) =>
          e instanceof CallFailedError && e.kind === "sold_out" && e.status === 502 && e.detail.includes("no seats left"),
      );
      await assert.rejects(
        a.invoke({ to: B.did, resource: "talos://booking/flights", action: "book", args: { flight: "BUG" }, chain: issued }),
        (e: unknown) => e instanceof AgentError && e.kind === "agent_error" && e.detail.includes("handler bug"),
      );
    });
    assert.deepEqual(seen.map((c) => c.action), ["book", "book", "book"]);
    assert.equal(seen[0]?.resource, "talos://booking/flights");
  });

  test("overlapping patterns: each call is handled once", async () => {
    const cap = await b.issue(A.did, [capability("talos://overlap/**", "go")]);
    const ran: string[] = [];
    b.handles("talos://overlap/**", (call) => (ran.push(`wide ${call.id}`), "wide"));
    b.handles("talos://overlap/*", (call) => (ran.push(`narrow ${call.id}`), "narrow"));
    await serving(b, async () => {
      for (let i = 0; i < 5; i++) {
        const r = await a.invoke({ to: B.did, resource: "talos://overlap/x", action: "go", chain: cap });
        assert.ok(r.result === "wide" || r.result === "narrow");
      }
    });
    assert.equal(ran.length, 5, ran.join(", "));
  });

  test("refusals are typed", async () => {
    const weather = await b.issue(A.did, [capability("talos://weather/**", "read")]);

    // A capability for another resource, and for another action: B's node refuses.
    await assert.rejects(
      a.invoke({ to: B.did, resource: "talos://booking/flights", action: "book", chain: weather }),
      (e: unknown) =>
        e instanceof NotAuthorizedError && e.kind === "not_authorized" && e.status === 403 && e.nonce !== undefined && e.atMs !== undefined,
    );
    await assert.rejects(a.invoke({ to: B.did, resource: "talos://weather/today", action: "write", chain: weather }), NotAuthorizedError);

    // A capability B never issued (A's own, for itself) is refused too.
    const foreign = await a.issue(A.did, [capability("talos://booking/**", "book")]);
    await assert.rejects(
      a.invoke({ to: B.did, resource: "talos://booking/flights", action: "book", chain: foreign }),
      (e: unknown) => e instanceof Refused && e.status === 403,
    );

    // Revoked by its issuer: refused as `revoked` from then on.
    const cap = await b.issue(A.did, [capability("talos://revoke-me/**", "use")]);
    const first = await b.revoke(cap);
    assert.deepEqual(first, { revoked: true, fresh: true });
    assert.equal((await b.revoke(cap.jti)).fresh, false);
    await assert.rejects(
      a.invoke({ to: B.did, resource: "talos://revoke-me/x", action: "use", chain: cap }),
      (e: unknown) => e instanceof RevokedError && e instanceof Refused && e.kind === "revoked" && e.status === 403,
    );
  });

  test("a capability revoked after it worked is refused", async () => {
    const cap = await b.issue(A.did, [capability("talos://once/**", "go")]);
    b.handles("talos://once/**", () => "went");
    await serving(b, async () => {
      const call = () => a.invoke({ to: B.did, resource: "talos://once/x", action: "go", chain: cap });
      assert.equal((await call()).result, "went");
      await b.revoke(cap);
      await assert.rejects(call(), RevokedError);
    });
  });

  test("a misbehaviour report, gossiped, and the score", async () => {
    const filed = await a.report(B.did, "bad_answer", ["ab".repeat(32)]);
    assert.equal(filed.subject, B.did);
    assert.match(filed.commitment, /^[0-9a-f]{64}$/);
    // Neither node lists A as a seed: a stranger's report takes at most 50 points.
    assert.equal((await a.reputation(B.did)).score, 950);
    // Gossip reaches B once the two have exchanged subscriptions (file again until then).
    const deadline = Date.now() + 60_000;
    for (let i = 1; (await b.reputation(B.did)).reports < 1; i++) {
      assert.ok(Date.now() < deadline, "A's report never reached B");
      if (i % 40 === 0) await a.report(B.did, "bad_answer");
      await new Promise((r) => setTimeout(r, 50)); // the pace of polling
    }
    assert.equal((await b.reputation(B.did)).score, 950);
    assert.equal((await b.reputation(A.did)).score, 1000);
    await assert.rejects(a.report(A.did, "bad_answer"), BadRequestError);
  });

  test("a held call goes through once approved", async () => {
    // B holds each call until A approves it (the caller as its own approver: only a test
    // would, and it needs no third node).
    const cap = await b.issue(A.did, [
      { res: "talos://approvals/**", act: ["pay"], cav: { apv: { by: [A.did], k: 1 } } },
    ]);
    b.handles("talos://approvals/**", (call) => ({ paid: call.args["amount"] }));
    await serving(b, async () => {
      const pay = () => a.invoke({ to: B.did, resource: "talos://approvals/x", action: "pay", args: { amount: 5 }, chain: cap });
      const held = await pay().then(
        () => assert.fail("not held"),
        (e: unknown) => e,
      );
      assert.ok(held instanceof PendingError, String(held));
      assert.equal(held.status, 202);
      const id = held.approval;
      assert.match(id ?? "", /^[0-9a-f]{32}$/);
      const ask = await poll("A to be asked", async () => (await a.approvals()).find((x) => x.id === id));
      assert.equal(ask.holder, B.did);
      assert.equal(ask.caller, A.did);
      const given = await a.approve(id!);
      assert.match(given.approval, /^[0-9a-f]{64}$/);
      await assert.rejects(a.approve(id!), NotFoundError);
      const r = await poll("the approved call to go through", async () => {
        try {
          return await pay();
        } catch (e) {
          if (e instanceof PendingError) return undefined;
          throw e;
        }
      });
      assert.deepEqual(r.result, { paid: 5 });
      // Declined: forgotten at the approver.
      await assert.rejects(pay(), PendingError);
      const again = await poll("A to be asked again", async () => (await a.approvals())[0]);
      await a.decline(again.id);
      assert.deepEqual(await a.approvals(), []);
    });
  });

  test("a delegated capability", async () => {
    const root = await b.issue(A.did, [capability("talos://deleg/**", "get", "put")]);
    // A narrows what it holds to itself: the chain grows by one and still works.
    const narrow = await a.delegate(root, A.did, [capability("talos://deleg/only/*", "get")]);
    assert.deepEqual(narrow.chain.slice(0, 1), root.chain);
    assert.equal(narrow.chain.length, 2);
    b.handles("talos://deleg/**", (call) => call.resource);
    await serving(b, async () => {
      const r = await a.invoke({ to: B.did, resource: "talos://deleg/only/x", action: "get", chain: narrow });
      assert.equal(r.result, "talos://deleg/only/x");
      await assert.rejects(a.invoke({ to: B.did, resource: "talos://deleg/only/x", action: "put", chain: narrow }), NotAuthorizedError);
    });
    // Wider than the parent: A's node will not sign it.
    await assert.rejects(a.delegate(root, A.did, [capability("talos://other/**", "get")]), BadRequestError);
  });

  test("an answer the node refuses still reaches the caller", async () => {
    // A serves (its API is TCP): a result over the answer's bound (256 KiB) is refused
    // as too_large, and serve() answers the call with that failure instead, as the
    // agent's own (a node's kind such as too_large is not an agent's to give). A handler
    // that returns nothing answers null.
    const cap = await a.issue(B.did, [capability("talos://limits/**", "get")]);
    a.handles("talos://limits/big", () => "x".repeat(300_000));
    a.handles("talos://limits/nothing", () => undefined);
    const refused: string[] = [];
    const stop = new AbortController();
    const server = a.serve({ signal: stop.signal, waitMs: 5_000, onError: (e) => refused.push(String((e as { kind?: string }).kind)) });
    try {
      await assert.rejects(
        b.invoke({ to: A.did, resource: "talos://limits/big", action: "get", chain: cap }),
        (e: unknown) => e instanceof AgentError && e.kind === "agent_error" && e.status === 502,
      );
      const nothing = await b.invoke({ to: A.did, resource: "talos://limits/nothing", action: "get", chain: cap });
      assert.equal(nothing.result, null);
    } finally {
      stop.abort();
      await server;
    }
    assert.deepEqual(refused, ["too_large"]);
  });

  test("a peer that cannot be reached", async () => {
    const cap = await b.issue(A.did, [capability("talos://nowhere/**", "go")]);
    const stranger = "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK";
    await assert.rejects(
      a.invoke({ to: stranger, resource: "talos://nowhere/x", action: "go", chain: cap }),
      (e: unknown) => e instanceof PeerUnreachableError && e.kind === "peer_unreachable",
    );
  });

  test("a wrong token, and a node that is not there", async () => {
    const wrong = new Talos({ ...a.endpoint, token: "00".repeat(32) });
    await assert.rejects(wrong.node(), (e: unknown) => e instanceof UnauthorizedError && e.status === 401);
    await assert.rejects(async () => {
      for await (const _ of wrong.stream()) break;
    }, UnauthorizedError);
    const overSocket = new Talos({ ...b.endpoint, token: "00".repeat(32) });
    await assert.rejects(overSocket.node(), UnauthorizedError);
    await assert.rejects(new Talos({ baseUrl: "http://127.0.0.1:9", token: "x" }).node(), NodeUnreachableError);
    assert.equal((await a.node()).did, A.did);
    assert.equal((await b.node()).did, B.did);
  });

  test("an audit proof from the SDK verifies with talos audit verify-inclusion", async () => {
    const cap = await b.issue(A.did, [capability("talos://audit/**", "ping")]);
    b.handles("talos://audit/**", () => "pong");
    await serving(b, async () => {
      const r = await a.invoke({ to: B.did, resource: "talos://audit/x", action: "ping", chain: cap });
      assert.equal(r.result, "pong");
    });

    // B's log holds the call: find a `capability_used` event through the SDK.
    const used = async (): Promise<number | undefined> => {
      let found: number | undefined;
      let from = 0;
      for (;;) {
        const page = await b.events({ from, max: 256 });
        for (const ev of page) if (JSON.stringify(ev.event).includes("capability_used")) found = ev.index;
        if (page.length < 256) return found;
        from = page[page.length - 1]!.index + 1;
      }
    };
    const index = await poll("a capability_used event in B's log", used);
    const proof = await b.proof(index);
    assert.equal(proof.leafIdx, index);
    const ok = talos(B.home, ["audit", "verify-inclusion"], JSON.stringify(proof));
    assert.equal(ok.status, 0, ok.stderr + ok.stdout);

    // The same proof with another leaf hash does not verify.
    const bad = { ...proof, leafHash: proof.root !== proof.leafHash ? proof.root : proof.proof?.[0] };
    const refused = talos(B.home, ["audit", "verify-inclusion"], JSON.stringify(bad));
    assert.equal(refused.status, 1, refused.stderr + refused.stdout);

    const cp = await b.checkpoint();
    assert.ok(cp.note.length > 0 && cp.verifierKey.length > 0);
    assert.ok((await b.head()).treeSize > index);
  });
});

describe("the example", { skip }, () => {
  test("examples/typescript/run.sh prints the booking", () => {
    const here = dirname(fileURLToPath(import.meta.url)); // sdks/typescript/dist/test
    const script = join(here, "..", "..", "..", "..", "examples", "typescript", "run.sh");
    const r = spawnSync(script, [], {
      encoding: "utf8",
      env: { ...process.env, TALOS_BIN: talosBin() },
      timeout: 300_000,
    });
    assert.equal(r.status, 0, `run.sh failed:\n${r.stdout}\n${r.stderr}`);
    assert.match(r.stdout, /booked/);
  });
});
