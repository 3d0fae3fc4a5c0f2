// The fuzz corpus: one valid frame of every type each link of the fuzz driver
// (tests/_fuzz.ts) may send, and the field-aware payload mutations that are
// then re-signed with the sender's key, so that they pass signature checks and
// reach the handlers. Pools hold the ids, keys and addresses of the real mesh,
// because the interesting mutations name other users and servers.

import {
  aesGcmEncrypt,
  buildKeyShare,
  buildMsgDirect,
  buildMsgPublic,
  buildServerDeliver,
  buildSigned,
  buildUserHello,
  encryptFor,
  type Frame,
  generateAesKey,
  type Identity,
  type MessageType,
  type PublicKey,
  sha256Hex,
} from "../mod.ts";
import type { Mutator } from "./_mutate.ts";

/** Which fuzzing link a frame goes out on. */
export type FuzzLink = "user" | "peer";

/** A valid frame and who signs its mutations. */
export interface Seed {
  link: FuzzLink;
  frame: Frame;
  signer: Identity;
}

/** A node of the mesh as the corpus sees it. */
export interface MeshNode {
  id: string;
  port: number;
  pubkey: string;
}

/** What the corpus is built from. */
export interface CorpusWorld {
  /** The fuzzed server (A) first, then the others (B, …, introducers). */
  nodes: MeshNode[];
  /** Honest users (they must survive the run), with their keys. */
  honest: { id: string; publicKey: PublicKey }[];
  fuzzUser: Identity;
  peer: Identity;
  /** A user "hosted" by the peer: sender of its deliveries, subject of its adverts. */
  phantom: Identity;
}

/** Values a mutation draws from; the mesh's own ids and keys make them hit real state. */
export interface Pools {
  /** Ids of the mesh's real nodes and users first (`realIds` of them), then junk ids. */
  ids: string[];
  realIds: number;
  /** The honest users' ids: the favourite subject of a lie. */
  honest: string[];
  keys: string[];
  ports: number[];
  hosts: string[];
}

const INTS = [0, 1, -1, 2, 255, 2 ** 31, 2 ** 32 + 1, Number.MAX_SAFE_INTEGER, 2 ** 53 - 2];
const STRINGS = ["", " ", "x", "\u0000", "é\u202e", "A".repeat(5000), "{}", "null", "../../etc"];
const ID_FIELDS = /(^|_)(id|ids|member|sender|creator|add)$|^(from|to|user_ids)$/;
const KEY_FIELDS = /pub(key)?$/;

/** The pools of a world. */
export function poolsOf(w: CorpusWorld): Pools {
  const real = [
    ...w.nodes.map((n) => n.id),
    ...w.honest.map((u) => u.id),
    w.fuzzUser.id,
    w.peer.id,
    w.phantom.id,
  ];
  return {
    realIds: real.length,
    honest: w.honest.map((u) => u.id),
    ids: [
      ...real,
      "Bob",
      "*",
      "public",
      "system",
      "a".repeat(65),
    ],
    keys: [
      ...w.nodes.map((n) => n.pubkey),
      ...w.honest.map((u) => u.publicKey.b64),
      w.fuzzUser.keys.publicKey.b64,
      w.peer.keys.publicKey.b64,
    ],
    ports: [...w.nodes.map((n) => n.port), 0, 1, 9, 65535, 65536],
    hosts: ["127.0.0.1", "localhost", "::1", "", "256.0.0.1", "h".repeat(300)],
  };
}

/** Every valid frame the fuzzing user (on A) and the fuzzing peer (linked to A) may send. */
export async function buildCorpus(w: CorpusWorld): Promise<Seed[]> {
  const [a] = w.nodes;
  const u = w.fuzzUser;
  const p = w.peer;
  const [alice] = w.honest;
  const seeds: Seed[] = [];
  const add = (link: FuzzLink, signer: Identity, frame: Frame) =>
    seeds.push({ link, frame, signer });
  const sign = <T extends MessageType>(who: Identity, type: T, to: string, payload: object) =>
    buildSigned(who, type, to, payload as never);
  const chunkKey = generateAesKey();
  const fileStart = async (mode: "dm" | "public") => ({
    file_id: crypto.randomUUID(),
    name: "fuzz.bin",
    size: 446,
    sha256: await sha256Hex(new Uint8Array(446)),
    mode,
  });
  const rsaChunk = await encryptFor(alice.publicKey, new Uint8Array(446));
  const aesChunk = await aesGcmEncrypt(chunkKey, "public chunk");

  // --- the user link: what a client may send, and what it may not ------------
  for (const target of [...w.honest, { id: crypto.randomUUID(), publicKey: alice.publicKey }]) {
    add("user", u, await buildMsgDirect(u, target.id, target.publicKey, "fuzz dm"));
  }
  add("user", u, await buildMsgPublic(u, chunkKey, 1, "fuzz public"));
  const dmStart = await fileStart("dm");
  add("user", u, await sign(u, "FILE_START", alice.id, dmStart));
  add(
    "user",
    u,
    await sign(u, "FILE_CHUNK", alice.id, {
      file_id: dmStart.file_id,
      index: 0,
      ciphertext: rsaChunk,
    }),
  );
  add("user", u, await sign(u, "FILE_END", alice.id, { file_id: dmStart.file_id }));
  const pubStart = await fileStart("public");
  add("user", u, await sign(u, "FILE_START", "public", pubStart));
  add(
    "user",
    u,
    await sign(u, "FILE_CHUNK", "public", {
      file_id: pubStart.file_id,
      index: 0,
      ciphertext: aesChunk,
    }),
  );
  add("user", u, await sign(u, "FILE_END", "public", { file_id: pubStart.file_id }));
  add("user", u, await sign(u, "LIST_REQUEST", a.id, {}));
  add("user", u, await sign(u, "COMMAND", a.id, { command: "/list" }));
  add("user", u, await sign(u, "USER_LOOKUP", a.id, { user_ids: w.honest.map((h) => h.id) }));
  add("user", u, await sign(u, "HEARTBEAT", a.id, {}));
  add("user", u, await sign(u, "ACK", a.id, { msg_ref: "0".repeat(64) }));
  add("user", u, await sign(u, "ERROR", a.id, { code: "BAD_REQUEST", detail: "fuzz" }));
  add("user", u, await sign(u, "CTRL_CLOSE", a.id, { reason: "fuzz" }));
  add("user", u, await buildUserHello(u));
  // Server-only frames from a user link must get UNKNOWN_TYPE and change nothing.
  add(
    "user",
    u,
    await sign(u, "USER_ADVERTISE", "*", {
      user_id: u.id,
      server_id: a.id,
      pubkey: u.keys.publicKey.b64,
    }),
  );
  add("user", u, await sign(u, "USER_REMOVE", "*", { user_id: alice.id, server_id: a.id }));
  add("user", u, await sign(u, "PUBLIC_CHANNEL_UPDATED", "*", { version: 9, wraps: [] }));

  // --- the server link: a pinned peer "hosting" the phantom user -------------
  const ph = w.phantom;
  const hello = { host: "127.0.0.1", port: 9, pubkey: p.keys.publicKey.b64 };
  add("peer", p, await sign(p, "SERVER_HELLO_LINK", a.id, hello));
  add("peer", p, await sign(p, "SERVER_ANNOUNCE", "*", hello));
  add("peer", p, await sign(p, "SERVER_ANNOUNCE", a.id, hello));
  const advert = { user_id: ph.id, server_id: p.id, pubkey: ph.keys.publicKey.b64 };
  add(
    "peer",
    p,
    await sign(p, "USER_ADVERTISE", "*", {
      ...advert,
      meta: { display_name: "Phantom", pubkey: advert.pubkey },
    }),
  );
  add("peer", p, await sign(p, "USER_REMOVE", "*", { user_id: ph.id, server_id: p.id }));
  for (const target of [...w.honest, { id: u.id, publicKey: u.keys.publicKey }]) {
    const dm = await buildMsgDirect(ph, target.id, target.publicKey, "fuzz delivery");
    add("peer", p, await buildServerDeliver(p, dm, a.id));
  }
  const inner = await sign(ph, "FILE_START", alice.id, await fileStart("dm"));
  add("peer", p, await sign(p, "SERVER_DELIVER", a.id, { user_id: alice.id, ...inner }));
  add("peer", p, await sign(p, "HEARTBEAT", a.id, {}));
  const wraps = await Promise.all(w.honest.map(async (h) => ({
    member_id: h.id,
    wrapped_key: await encryptFor(h.publicKey, generateAesKey()),
  })));
  add("peer", p, await sign(p, "PUBLIC_CHANNEL_ADD", "*", { add: [ph.id], if_version: 1 }));
  add("peer", p, await sign(p, "PUBLIC_CHANNEL_UPDATED", "*", { version: 2, wraps }));
  const shares = wraps.map((x) => ({
    member: x.member_id,
    wrapped_public_channel_key: x.wrapped_key,
  }));
  add("peer", p, await buildKeyShare(p, shares, 2));
  add("peer", p, await buildMsgPublic(ph, chunkKey, 2, "phantom public"));
  const relayed = await fileStart("dm");
  add("peer", p, await sign(ph, "FILE_START", alice.id, relayed));
  add(
    "peer",
    p,
    await sign(ph, "FILE_CHUNK", alice.id, {
      file_id: relayed.file_id,
      index: 0,
      ciphertext: rsaChunk,
    }),
  );
  add("peer", p, await sign(ph, "FILE_END", alice.id, { file_id: relayed.file_id }));
  add("peer", p, await sign(p, "ERROR", a.id, { code: "USER_NOT_FOUND", detail: "fuzz" }));
  add("peer", p, await sign(p, "ACK", a.id, { msg_ref: "0".repeat(64) }));
  add("peer", p, await sign(p, "CTRL_CLOSE", a.id, { reason: "fuzz" }));
  // Types a server link may not carry (UNKNOWN_TYPE, link kept).
  add("peer", p, await sign(p, "SERVER_HELLO_JOIN", "127.0.0.1:1", hello));
  add("peer", p, await sign(p, "SERVER_WELCOME", a.id, { assigned_id: p.id, servers: [] }));
  add("peer", p, await sign(p, "LIST_REQUEST", a.id, {}));
  return seeds;
}

/** A UUIDv4 from the PRNG, so that even "random" ids follow the seed. */
export function uuidFrom(m: Mutator): string {
  const hex = Array.from({ length: 32 }, () => Math.floor(m.random() * 16).toString(16)).join("");
  const variant = "89ab"[Math.floor(m.random() * 4)];
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-${variant}${
    hex.slice(17, 20)
  }-${hex.slice(20, 32)}`;
}

/** A junk or boundary value fit for a field of this name and current value. */
function fieldValue(m: Mutator, pools: Pools, name: string, value: unknown): unknown {
  if (m.random() < 0.1) return m.pick([null, true, [], {}, 0, "", ...STRINGS]);
  if (name === "port") return m.pick(pools.ports);
  if (name === "host") return m.pick(pools.hosts);
  if (KEY_FIELDS.test(name)) return m.random() < 0.8 ? m.pick(pools.keys) : m.pick(STRINGS);
  if (ID_FIELDS.test(name) && typeof value === "string") {
    return m.random() < 0.85 ? m.pick(pools.ids) : uuidFrom(m);
  }
  if (typeof value === "number") {
    return m.random() < 0.7 ? m.pick(INTS) : value + Math.floor(m.random() * 3) - 1;
  }
  if (typeof value === "string") return m.random() < 0.5 ? m.pick(STRINGS) : value.slice(1);
  return m.pick([null, 0, "", [], {}]);
}

/**
 * A payload with some fields replaced by pool or boundary values, lists
 * resized (emptied, duplicated, or grown past the 10 000-entry limit), fields
 * dropped or added. The result is still plausible enough to be worth signing.
 */
export function mutatePayload(
  m: Mutator,
  pools: Pools,
  value: unknown,
  name = "",
  depth = 0,
): unknown {
  if (Array.isArray(value)) {
    const r = m.random();
    if (r < 0.1) return [];
    if (r < 0.15 && value.length > 0 && depth === 1) {
      // Only id lists are grown to the limit: a 10 001-entry wraps list is 7 MB.
      const big = typeof value[0] === "string" ? 10_001 : 40;
      return Array.from({ length: big }, (_, i) => value[i % value.length]);
    }
    const out = value.map((v) =>
      m.random() < 0.4 ? mutatePayload(m, pools, v, name, depth + 1) : v
    );
    if (r > 0.85) out.push(m.random() < 0.5 ? out[0] : m.pick(pools.ids));
    return out;
  }
  if (value && typeof value === "object" && depth < 4) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      const r = m.random();
      if (r < 0.05) continue;
      out[k] = r < 0.45 ? mutatePayload(m, pools, v, k, depth + 1) : v;
    }
    if (m.random() < 0.05) {
      out[m.pick(["extra", "type", "__proto__", "version", "sig"])] = m.pick(INTS);
    }
    return out;
  }
  return fieldValue(m, pools, name, value);
}

/**
 * A payload with exactly one leaf changed to a value that still validates:
 * an id of a real user or server, a mesh address, another party's key, or a
 * boundary integer (versions up to 2^53 − 1). Such frames pass the parser and
 * the signature check, so they test what handlers do with plausible lies.
 */
export function retarget(m: Mutator, pools: Pools, payload: Record<string, unknown>): unknown {
  const leaves: [Record<string, unknown> | unknown[], string | number, string][] = [];
  const walk = (v: unknown, name: string, depth: number) => {
    if (depth > 3 || !v || typeof v !== "object") return;
    for (const [k, child] of Object.entries(v)) {
      const key = Array.isArray(v) ? Number(k) : k;
      const field = Array.isArray(v) ? name : k;
      if (child && typeof child === "object") walk(child, field, depth + 1);
      else leaves.push([v as Record<string, unknown>, key, field]);
    }
  };
  const out = structuredClone(payload);
  walk(out, "", 0);
  if (leaves.length === 0) return out;
  // Ids are where the lies that matter live (whose advert, whose removal, to whom).
  const idLeaves = leaves.filter(([h, k, f]) =>
    ID_FIELDS.test(f) && typeof (h as Record<string | number, unknown>)[k] === "string"
  );
  const [holder, key, field] = m.pick(idLeaves.length && m.random() < 0.6 ? idLeaves : leaves);
  const value = (holder as Record<string | number, unknown>)[key];
  let next: unknown = value;
  if (field === "port") next = m.pick(pools.ports.filter((p) => p > 0 && p < 65536));
  else if (field === "host") next = "127.0.0.1";
  else if (KEY_FIELDS.test(field)) next = m.pick(pools.keys);
  else if (typeof value === "string" && ID_FIELDS.test(field)) {
    const r = m.random();
    next = r < 0.5
      ? m.pick(pools.honest)
      : r < 0.9
      ? m.pick(pools.ids.slice(0, pools.realIds))
      : uuidFrom(m);
  } else if (typeof value === "number") {
    next = m.pick([0, 1, value + 1, 2 ** 31, Number.MAX_SAFE_INTEGER - 1, Number.MAX_SAFE_INTEGER]);
  } else if (typeof value === "string") next = m.pick(["", "x", value + value]);
  (holder as Record<string | number, unknown>)[key] = next;
  return out;
}

/** The envelope of a frame with one field changed; `payload` and `sig` stay as signed. */
export function mutateEnvelope(m: Mutator, pools: Pools, frame: Frame): Record<string, unknown> {
  const out: Record<string, unknown> = { ...frame, ts: Date.now() };
  const r = m.random();
  if (r < 0.25) out.to = m.pick(pools.ids);
  else if (r < 0.45) out.from = m.pick(pools.ids);
  else if (r < 0.65) {
    out.ts = m.pick([0, 1, Date.now() - 200_000, Date.now() + 200_000, 2 ** 53, -5]);
  } else if (r < 0.85) {
    out.type = m.pick([
      "MSG_PRIVATE",
      "SERVER_GOODBYE",
      "USER_REMOVE",
      "MSG_DIRECT",
      "HEARTBEAT",
      "PUBLIC_CHANNEL_ADD",
      "ACK",
    ]);
  } else if (r < 0.95) delete out.sig;
  else out.sig = "";
  return out;
}
