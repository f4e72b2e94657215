// The dashboard in a real browser (Debian's chromium, driven by Playwright): it loads,
// sees a refused call appear after it happens, and verifies that event's inclusion in
// the browser. A screenshot of each step goes to $SHOTS.
//
// Run by bin/talos/tests/it/dashboard.rs, which starts the two nodes and passes:
// DASHBOARD_URL (B's, with its token), A_API, A_TOKEN, A_DID (the caller), B_API,
// B_TOKEN, B_DID, SHOTS, and CHROMIUM (default /usr/bin/chromium).
import { chromium } from "playwright-core";

const env = process.env;
const fail = (msg) => {
  console.error(`dashboard test: ${msg}`);
  process.exit(1);
};

async function call(base, token, path, body) {
  const r = await fetch(base + path, {
    method: body ? "POST" : "GET",
    headers: { Authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: body ? JSON.stringify(body) : undefined,
  });
  return [r.status, await r.json()];
}

const browser = await chromium.launch({
  executablePath: env.CHROMIUM || "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu"],
});
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
  const errors = [];
  page.on("pageerror", (e) => errors.push(e.message));
  await page.goto(env.DASHBOARD_URL);
  // Loaded: the node's DID is shown, and the calls are counted.
  await page.waitForFunction((did) => document.getElementById("did").textContent === did, env.B_DID, { timeout: 60000 });
  await page.waitForFunction(() => /updated/.test(document.getElementById("status").textContent), null, { timeout: 60000 });
  const before = Number(await page.textContent("#refused-total"));
  await page.screenshot({ path: `${env.SHOTS}/1-loaded.png`, fullPage: true });

  // A calls B under a chain A issued itself: B's node refuses it (not B's capability).
  const [s1, issued] = await call(env.A_API, env.A_TOKEN, "/v1/capabilities", {
    to: env.A_DID,
    cap: [{ res: "talos://b/thing", act: ["read"] }],
  });
  if (s1 !== 200) fail(`issue: ${s1} ${JSON.stringify(issued)}`);
  const [s2, refused] = await call(env.A_API, env.A_TOKEN, "/v1/invoke", {
    to: env.B_DID,
    chain: issued.chain,
    resource: "talos://b/thing",
    action: "read",
    args: {},
  });
  if (s2 !== 403) fail(`the call was not refused: ${s2} ${JSON.stringify(refused)}`);
  await page.waitForFunction(
    (n) => Number(document.getElementById("refused-total").textContent) > n,
    before,
    { timeout: 60000 },
  );
  const kinds = await page.textContent("#refused-kinds");
  if (!kinds.includes(refused.kind)) fail(`the refusal's kind ${refused.kind} is not listed: ${kinds}`);
  await page.screenshot({ path: `${env.SHOTS}/2-refused.png`, fullPage: true });

  // B anchors; the refusal's event is verified in the browser against the checkpoint.
  const [s3, anchored] = await call(env.B_API, env.B_TOKEN, "/v1/audit/anchor", {});
  if (s3 !== 200) fail(`anchor: ${s3} ${JSON.stringify(anchored)}`);
  const row = page.locator('#events tr[data-type="capability_denied"]').first();
  await row.waitFor({ timeout: 60000 });
  await row.locator("button").click();
  const verdict = row.locator(".verified");
  await verdict.waitFor({ timeout: 60000 });
  const text = await verdict.textContent();
  if (!/verified/.test(text) || !/block/.test(text)) fail(`verdict: ${text}`);
  await page.screenshot({ path: `${env.SHOTS}/3-verified.png`, fullPage: true });
  if (errors.length) fail(`page errors: ${errors.join("; ")}`);
  console.log(JSON.stringify({ ok: true, verdict: text.trim() }));
} finally {
  await browser.close();
}
