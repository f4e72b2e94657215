/** Unit tests: no node needed (a local HTTP server stands in where one is). */
import assert from "node:assert/strict";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";

import {
  AgentError,
  AgentTimeoutError,
  BY_KIND,
  CallFailedError,
  NodeUnreachableError,
  NotApprovedError,
  NotAuthorizedError,
  NotFoundError,
  PeerNotFoundError,
  PendingError,
  Refused,
  RevokedError,
  TalosError,
  Talos,
  UnauthorizedError,
  UnavailableError,
  answerFor,
  configuredApi,
  decodeMessage,
  endpoint,
  errorFor,
  parseAddr,
  resolveHome,
} from "../src/index.js";

test("errors are chosen by kind, then by status", () => {
  const p = { type: "urn:talos:problem:revoked", title: "Refused", status: 403, detail: "revoked", kind: "revoked", nonce: "ab".repeat(16), atMs: 7 };
  const e = errorFor(403, JSON.stringify(p));
  assert.ok(e instanceof RevokedError && e instanceof Refused && e instanceof TalosError && e instanceof Error);
  assert.equal(e.kind, "revoked");
  assert.equal(e.status, 403);
  assert.equal(e.nonce, "ab".repeat(16));
  assert.equal(e.atMs, 7);
  assert.equal(e.name, "RevokedError");
  assert.deepEqual(e.problem, p);

  assert.ok(errorFor(403, { kind: "not_authorized", detail: "x" }) instanceof NotAuthorizedError);
  assert.ok(errorFor(404, { kind: "peer_not_found", detail: "x" }) instanceof PeerNotFoundError);
  assert.ok(errorFor(404, { kind: "peer_not_found", detail: "x" }) instanceof NotFoundError);
  assert.ok(errorFor(504, { kind: "agent_timeout", detail: "x" }) instanceof AgentTimeoutError);
  assert.ok(errorFor(502, { kind: "agent_error", detail: "x" }) instanceof AgentError);
  // An agent's own kind: by status, the kind kept.
  const own = errorFor(502, { kind: "sold_out", detail: "no seats" });
  assert.ok(own instanceof CallFailedError && !(own instanceof AgentError));
  assert.equal(own.kind, "sold_out");
  assert.equal(own.detail, "no seats");
  const held = errorFor(202, { kind: "pending", detail: "", approval: "ab".repeat(16) });
  assert.ok(held instanceof PendingError && !(held instanceof Refused));
  assert.equal(held.approval, "ab".repeat(16));
  assert.ok(errorFor(403, { kind: "not_approved", detail: "" }) instanceof NotApprovedError);
  // A new refusal kind is still a Refused.
  assert.ok(errorFor(403, { kind: "brand_new", detail: "" }) instanceof Refused);
  assert.ok(errorFor(503, { kind: "stopping", detail: "" }) instanceof UnavailableError);
  // Not a problem document at all.
  const odd = errorFor(418, "<html>teapot</html>");
  assert.equal(odd.constructor, TalosError);
  assert.equal(odd.kind, "http_418");
  assert.equal(odd.detail, "<html>teapot</html>");
  // A kind named like an Object.prototype member is not a table entry.
  assert.ok(errorFor(400, { kind: "constructor", detail: "" }) instanceof TalosError);
  assert.equal(BY_KIND["toString"], undefined);
});

test("a handler's outcome becomes the answer the node takes", () => {
  assert.deepEqual(answerFor({ result: { ok: 1 } }), { result: { ok: 1 } });
  assert.deepEqual(answerFor({ result: 0 }), { result: 0 });
  assert.deepEqual(answerFor({ result: undefined }), { result: null });
  assert.deepEqual(answerFor({ result: null }), { result: null });
  class SoldOut extends Error {
    kind = "sold_out";
  }
  assert.deepEqual(answerFor({ thrown: new SoldOut("no seats") }), { error: "no seats", kind: "sold_out" });
  assert.deepEqual(answerFor({ thrown: new Error("bug") }), { error: "bug", kind: "agent_error" });
  const bad = Object.assign(new Error("x"), { kind: "Not-A-Kind" });
  assert.equal(answerFor({ thrown: bad }).kind, "agent_error");
  assert.equal(answerFor({ thrown: Object.assign(new Error("x"), { kind: "ok" }) }).kind, "agent_error");
  // The node's own kinds are not an agent's to give.
  assert.equal(answerFor({ thrown: Object.assign(new Error("x"), { kind: "revoked" }) }).kind, "agent_error");
  assert.deepEqual(answerFor({ thrown: "plain string" }), { error: "plain string", kind: "agent_error" });
});

test("messages are decoded", () => {
  const m = decodeMessage({ index: 3, from: "did:key:z", seq: 9, data: Buffer.from("héllo").toString("base64") });
  assert.equal(m.text, "héllo");
  assert.deepEqual([...m.data], [...Buffer.from("héllo")]);
  assert.equal(m.index, 3);
});

test("homes and addresses resolve as the CLI does", () => {
  assert.deepEqual(parseAddr("127.0.0.1:4000\n", "/h"), { baseUrl: "http://127.0.0.1:4000" });
  assert.deepEqual(parseAddr("unix", "/h"), { baseUrl: "http://localhost", socketPath: "/h/api.sock" });
  assert.deepEqual(parseAddr("unix:/run/t.sock", "/h"), { baseUrl: "http://localhost", socketPath: "/run/t.sock" });
  assert.equal(configuredApi('listen = ["x"]\napi = "127.0.0.1:9"\n[section]\napi = "no"\n'), "127.0.0.1:9");
  assert.equal(configuredApi("[section]\napi = 'no'\n"), "unix");
  const saved = process.env.TALOS_HOME;
  try {
    process.env.TALOS_HOME = "/from/env";
    assert.equal(resolveHome(), "/from/env");
    assert.equal(resolveHome("/given"), "/given");
    delete process.env.TALOS_HOME;
    assert.match(resolveHome(), /\.talos$/);
  } finally {
    if (saved === undefined) delete process.env.TALOS_HOME;
    else process.env.TALOS_HOME = saved;
  }
  const home = mkdtempSync(join(tmpdir(), "talos-ts-home-"));
  writeFileSync(join(home, "config.toml"), 'api = "127.0.0.1:1234"\n');
  writeFileSync(join(home, "api-token"), "abcd\n");
  assert.deepEqual(endpoint(home), { baseUrl: "http://127.0.0.1:1234", token: "abcd" });
  writeFileSync(join(home, "api-addr"), "unix:/x.sock");
  assert.deepEqual(endpoint(home), { baseUrl: "http://localhost", socketPath: "/x.sock", token: "abcd" });
  assert.throws(() => endpoint(join(home, "missing")), /not a talos home/);
  rmSync(home, { recursive: true, force: true });
});

/** A stand-in node on `listen` (a port or a socket path) answering with `handler`. */
async function fakeNode(listen: number | string, handler: (req: IncomingMessage, body: string, res: ServerResponse) => void) {
  const server = createServer((req, res) => {
    let body = "";
    req.on("data", (c) => (body += c));
    req.on("end", () => handler(req, body, res));
  });
  await new Promise<void>((resolve) => server.listen(listen, resolve));
  return server;
}

for (const over of ["tcp", "unix"] as const) {
  test(`requests carry the token and problems become typed errors (${over})`, async () => {
    const seen: { method?: string; url?: string; auth?: string; body: string }[] = [];
    const dir = mkdtempSync(join(tmpdir(), "talos-ts-"));
    const sock = join(dir, "api.sock");
    const server = await fakeNode(over === "tcp" ? 0 : sock, (req, body, res) => {
      seen.push({ method: req.method, url: req.url, auth: req.headers.authorization, body });
      if (req.url?.startsWith("/v1/invoke")) {
        res.writeHead(403, { "content-type": "application/problem+json" });
        res.end(JSON.stringify({ type: "urn:talos:problem:not_authorized", title: "Refused", status: 403, detail: "no", kind: "not_authorized", nonce: "00".repeat(16), atMs: 5 }));
      } else if (req.url?.startsWith("/v1/calls/")) {
        res.writeHead(204);
        res.end();
      } else {
        res.writeHead(200, { "content-type": "application/json" });
        res.end(JSON.stringify({ messages: [{ index: 4, from: "did:key:zA", seq: 1, data: "aGk=" }], next: 5 }));
      }
    });
    try {
      const addr = server.address();
      const t = new Talos(
        over === "tcp" && typeof addr === "object" && addr
          ? { baseUrl: `http://127.0.0.1:${addr.port}`, token: "tok" }
          : { baseUrl: "http://localhost", socketPath: sock, token: "tok" },
      );
      const inbox = await t.read({ from: 4, waitMs: 10 });
      assert.equal(inbox.next, 5);
      assert.equal(inbox.messages[0]?.text, "hi");
      await assert.rejects(
        t.invoke({ to: "did:key:zB", resource: "talos://x", action: "y", chain: { chain: ["tok1"] } }),
        (e: unknown) => e instanceof NotAuthorizedError && e.atMs === 5 && e.status === 403,
      );
      await t.answer(7, { result: [1] });
      assert.deepEqual(
        seen.map((s) => [s.method, s.url, s.auth]),
        [
          ["GET", "/v1/messages?from=4&waitMs=10", "Bearer tok"],
          ["POST", "/v1/invoke", "Bearer tok"],
          ["POST", "/v1/calls/7", "Bearer tok"],
        ],
      );
      assert.deepEqual(JSON.parse(seen[1]!.body), { to: "did:key:zB", resource: "talos://x", action: "y", args: {}, chain: ["tok1"] });
      assert.deepEqual(JSON.parse(seen[2]!.body), { result: [1] });
    } finally {
      server.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
}

test("a node that is not there is NodeUnreachableError", async () => {
  const t = new Talos({ baseUrl: "http://127.0.0.1:9", token: "x" });
  await assert.rejects(t.node(), (e: unknown) => e instanceof NodeUnreachableError && e.kind === "node_unreachable");
  const u = new Talos({ baseUrl: "http://localhost", socketPath: "/nonexistent/api.sock", token: "x" });
  await assert.rejects(u.node(), NodeUnreachableError);
});

test("a refused stream upgrade is the typed error", async () => {
  const server = await fakeNode(0, (_req, _body, res) => {
    res.writeHead(401, { "content-type": "application/problem+json" });
    res.end(JSON.stringify({ type: "urn:talos:problem:unauthorized", title: "Unauthorized", status: 401, detail: "wrong API token", kind: "unauthorized" }));
  });
  try {
    const addr = server.address();
    assert.ok(typeof addr === "object" && addr);
    const t = new Talos({ baseUrl: `http://127.0.0.1:${addr.port}`, token: "bad" });
    await assert.rejects(async () => {
      for await (const _ of t.stream()) break;
    }, UnauthorizedError);
  } finally {
    server.close();
  }
});

test("serve needs a handler", async () => {
  await assert.rejects(new Talos({ baseUrl: "http://127.0.0.1:9", token: "x" }).serve(), /no handlers/);
});
