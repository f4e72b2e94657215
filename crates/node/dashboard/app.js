// The node's dashboard: reads the local JSON API with the token from the URL fragment
// (`#token=...`, never sent to a server) and redraws every second.
import { verifyEvent } from "/dashboard/verify.js";

const token = new URLSearchParams(location.hash.slice(1)).get("token") || "";
const $ = (id) => document.getElementById(id);
const text = (s) => document.createTextNode(String(s));

async function api(path) {
  const r = await fetch(path, { headers: { Authorization: `Bearer ${token}` } });
  if (!r.ok) throw new Error(`${path}: HTTP ${r.status}`);
  return r.json();
}

function row(cells, cls) {
  const tr = document.createElement("tr");
  for (const c of cells) {
    const td = document.createElement("td");
    if (cls) td.className = cls;
    td.append(c instanceof Node ? c : text(c));
    tr.append(td);
  }
  return tr;
}

function fill(table, rows) {
  const body = $(table).tBodies[0];
  body.replaceChildren(...rows);
}

// Every event read so far is counted once; the last 50 are listed.
const state = { next: 0, allowed: 0, refused: new Map(), buckets: new Map(), recent: [], verdicts: new Map() };
const BUCKET_MS = 10_000;

function count(ev) {
  const e = ev.event.body.event;
  const at = Math.floor(ev.event.body.ts / BUCKET_MS) * BUCKET_MS;
  const b = state.buckets.get(at) || { allowed: 0, refused: 0 };
  if (e.type === "capability_used") {
    state.allowed += 1;
    b.allowed += 1;
  } else if (e.type === "capability_denied") {
    state.refused.set(e.kind, (state.refused.get(e.kind) || 0) + 1);
    b.refused += 1;
  }
  state.buckets.set(at, b);
  state.recent.push(ev);
  if (state.recent.length > 50) state.recent.shift();
}

async function readEvents() {
  for (;;) {
    const page = await api(`/v1/audit/events?from=${state.next}&max=256`);
    for (const ev of page.events) count(ev);
    state.next += page.events.length;
    if (page.events.length < 256) return;
  }
}

let chart = null;
function drawChart() {
  const xs = [...state.buckets.keys()].sort((a, b) => a - b);
  const data = [xs.map((x) => x / 1000), xs.map((x) => state.buckets.get(x).allowed), xs.map((x) => state.buckets.get(x).refused)];
  // The last ten minutes at least, up to now.
  const now = Date.now() / 1000;
  const from = Math.min(data[0][0] ?? now, now - 600);
  if (!chart) {
    chart = new window.uPlot(
      {
        width: 420,
        height: 160,
        scales: { x: { time: true, range: () => [from, Date.now() / 1000] } },
        series: [{}, { label: "allowed", stroke: "#0a7d32" }, { label: "refused", stroke: "#b42318" }],
      },
      data,
      $("calls-chart"),
    );
  } else {
    chart.setData(data);
  }
}

function drawCalls() {
  $("allowed-total").textContent = state.allowed;
  $("refused-total").textContent = [...state.refused.values()].reduce((a, b) => a + b, 0);
  fill("refused-kinds", [...state.refused].map(([k, n]) => row([k, n])));
  drawChart();
}

function drawEvents() {
  fill(
    "events",
    [...state.recent].reverse().map((ev) => {
      const button = document.createElement("button");
      button.textContent = "verify";
      const out = document.createElement("span");
      // Verdicts outlive the redraws.
      const shown = state.verdicts.get(ev.index);
      if (shown) {
        out.textContent = shown.text;
        out.className = shown.cls;
      }
      button.onclick = async () => {
        out.textContent = " …";
        let v;
        try {
          v = { text: ` ${await verifyEvent(api, ev)}`, cls: "ok verified" };
        } catch (e) {
          v = { text: ` ${e.message}`, cls: "bad" };
        }
        state.verdicts.set(ev.index, v);
        drawEvents();
      };
      const cell = document.createElement("span");
      cell.append(button, out);
      const e = ev.event.body.event;
      const what = e.kind ? `${e.type} (${e.kind})` : e.type;
      const tr = row([ev.index, what, new Date(ev.event.body.ts).toISOString(), cell]);
      tr.dataset.type = e.type;
      return tr;
    }),
  );
}

async function drawPeers() {
  const peers = await api("/v1/peers");
  fill("peers", (peers.connected || []).map((p) => row([p, "connected"], "mono")));
  const s = await api("/v1/sessions");
  fill("sessions", (s.sessions || []).map((x) => row([x.peer, x.sent, x.received])));
}

async function drawTransactions() {
  const t = await api("/v1/transactions");
  const box = $("transactions");
  box.replaceChildren(
    ...t.transactions.map((x) => {
      const d = document.createElement("details");
      const s = document.createElement("summary");
      s.textContent = `${x.txn.id}: ${x.txn.purp} for ${x.txn.sub} (${x.txn.chain.length} hops) → ${x.action} ${x.resource}`;
      d.append(s);
      for (const h of x.txn.chain) {
        const div = document.createElement("div");
        div.className = "hop mono";
        div.textContent = `${h.iss} → ${h.aud}: ${JSON.stringify(h.azd)} (iat ${h.iat}, exp ${h.exp})`;
        d.append(div);
      }
      return d;
    }),
  );
}

async function drawAnchoring() {
  const cp = await api("/v1/audit/checkpoint");
  const dl = $("anchoring");
  const items = [];
  const add = (k, v) => {
    const dt = document.createElement("dt");
    dt.textContent = k;
    const dd = document.createElement("dd");
    dd.className = "mono";
    dd.textContent = v;
    items.push(dt, dd);
  };
  if (cp.published) {
    const [, size] = cp.published.split("\n");
    add("published size", size);
    const signers = cp.published.split("\n\n").pop().split("\n").filter((l) => l.startsWith("— ")).map((l) => l.split(" ")[1]);
    add("signed by", signers.join(", "));
  } else {
    add("published", "nothing yet");
  }
  try {
    const a = await api("/v1/audit/anchored");
    add("anchored size", a.treeSize ?? "none");
    if (a.block !== undefined) add("anchored in block", a.block);
  } catch (e) {
    add("anchored", /HTTP 404/.test(e.message) ? "nothing yet" : `unknown (${e.message})`);
  }
  dl.replaceChildren(...items);
}

async function tick() {
  try {
    const n = await api("/v1/node");
    $("did").textContent = n.did;
    await readEvents();
    drawCalls();
    drawEvents();
    await Promise.all([drawPeers(), drawTransactions(), drawAnchoring()]);
    $("status").textContent = `updated ${new Date().toLocaleTimeString()}`;
    $("status").className = "";
  } catch (e) {
    $("status").textContent = e.message;
    $("status").className = "bad";
  }
  setTimeout(tick, 1000);
}

tick();
