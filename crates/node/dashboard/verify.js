// Inclusion checks in the browser, with WebCrypto's SHA-256: RFC 9162 leaf and node
// hashes, the §2.1.3.2 verification of an inclusion path, and the C2SP checkpoint's root.

const b64 = (s) => Uint8Array.from(atob(s), (c) => c.charCodeAt(0));
const hex = (a) => Array.from(a, (x) => x.toString(16).padStart(2, "0")).join("");

async function sha256(...parts) {
  const len = parts.reduce((n, p) => n + p.length, 0);
  const buf = new Uint8Array(len);
  let at = 0;
  for (const p of parts) {
    buf.set(p, at);
    at += p.length;
  }
  return new Uint8Array(await crypto.subtle.digest("SHA-256", buf));
}

export const leafHash = (entry) => sha256(Uint8Array.of(0), entry);
const nodeHash = (l, r) => sha256(Uint8Array.of(1), l, r);

// RFC 9162 §2.1.3.2: the root an inclusion path leads to, or null if it is malformed.
export async function rootFromPath(index, size, leaf, path) {
  if (index >= size) return null;
  let fn = BigInt(index);
  let sn = BigInt(size) - 1n;
  let r = leaf;
  for (const p of path) {
    if (sn === 0n) return null;
    if ((fn & 1n) === 1n || fn === sn) {
      r = await nodeHash(p, r);
      if ((fn & 1n) === 0n) {
        while ((fn & 1n) === 0n && fn !== 0n) {
          fn >>= 1n;
          sn >>= 1n;
        }
      }
    } else {
      r = await nodeHash(r, p);
    }
    fn >>= 1n;
    sn >>= 1n;
  }
  return sn === 0n ? r : null;
}

// The size and root a C2SP checkpoint note states (origin, size, base64 root).
export function checkpointHead(note) {
  const [, size, root] = note.split("\n");
  return { size: Number(size), root: b64(root) };
}

// Checks an event of the log (as `/v1/audit/events` gives it): its bytes hash to its
// leaf hash, and its proof leads to the root of the published checkpoint (or, for an
// event newer than that, of a checkpoint of the head signed now). Returns a sentence
// saying what held and whether that tree is anchored; throws saying what did not.
export async function verifyEvent(api, ev) {
  const cp = await api("/v1/audit/checkpoint");
  let note = cp.published;
  let which = "the published checkpoint";
  if (!note || ev.index >= checkpointHead(note).size) {
    note = cp.note;
    which = "the head's checkpoint (not yet published)";
  }
  const head = checkpointHead(note);
  const leaf = await leafHash(b64(ev.leaf));
  if (hex(leaf) !== hex(b64(ev.leafHash))) throw new Error("the event's bytes do not hash to its leaf");
  const proof = await api(`/v1/audit/proof?index=${ev.index}&size=${head.size}`);
  const root = await rootFromPath(ev.index, head.size, leaf, proof.proof.map(b64));
  if (!root || hex(root) !== hex(head.root)) throw new Error("the proof does not lead to the checkpoint's root");
  let anchored = "";
  try {
    const a = await api("/v1/audit/anchored");
    if (a.treeSize > ev.index) anchored = `; anchored on chain at size ${a.treeSize}, block ${a.block}`;
  } catch {
    // No chain: the verdict stands on the signed checkpoint alone.
  }
  return `verified in ${which} of size ${head.size}${anchored}`;
}
