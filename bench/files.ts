// Section 4: a file across servers in the spec's RSA mode (446-byte chunks,
// each RSA-OAEP encrypted to the receiver and signed by the sender). The
// sender's frames are built with the SDK's own file code before the clock
// starts: on a real network the sender is another machine, and here its
// signing would take the cores the receiving side is measured on. The
// receiver is an SDK client: it verifies, decrypts chunks in parallel,
// checks size and SHA-256 and writes the file atomically.

import { Cluster } from "../tests/_cluster.ts";
import { fileFrames, SocpClient } from "../client/sdk.ts";
import { DenoAdapter } from "../client/deno.ts";
import type { Contact } from "../client/directory.ts";
import type { ClientEvent } from "../client/events.ts";
import { CHANNEL_KEY_CAP, PRESENCE_LITE_CAP, sha256Hex } from "../mod.ts";
import { DM_CHUNK_BYTES } from "../protocol/limits.ts";
import { type BackendName, type BenchEnv, scaled } from "./_env.ts";
import { type BenchBackends, withBackend } from "./_crypto.ts";
import { type NodeRates, nodeRates, sampleNode, startMesh, waitForOnline } from "./_nodes.ts";
import { selfCpuMs } from "./_machine.ts";
import { ratio, round } from "./_stats.ts";
import { closeUsers, connectUsers, makeUsers } from "./_users.ts";
import { type Ceilings, rsaOf } from "./ceilings.ts";

/** Figures of the file section. */
export interface FileResult {
  /** The servers' RSA backend, and the receiving client's while the file arrives. */
  crypto: BackendName;
  bytes: number;
  chunks: number;
  seconds: number;
  kbPerSec: number;
  /** The receiver's ceiling: its backend's OAEP decryptions per second (4 in flight) × 446 bytes. */
  ceilingKbPerSec: number;
  ratio: number;
  /** Byte-identical and verified at the receiver. */
  verified: boolean;
  nodes: { a: NodeRates; b: NodeRates };
  /** CPU cores the receiving SDK client (this process) used meanwhile. */
  receiverCores: number;
}

/**
 * Runs the file section on `env.crypto` servers. The sender's frames are
 * built with the load generators' backend; while the file arrives, the
 * receiving client (the one client measured here) runs `env.crypto` too.
 */
export async function benchFiles(
  env: BenchEnv,
  ceilings: Ceilings,
  backends: BenchBackends,
): Promise<FileResult> {
  const cluster = await Cluster.create(60, "info", env.crypto);
  const size = scaled(env, 200 * 1024, 4 * 1024);
  const [sender, receiverUser] = await makeUsers(2, "file", 61);
  const downloads = await Deno.makeTempDir({ dir: cluster.dir });
  const adapter = new DenoAdapter({ caCert: cluster.caCert, downloadsDir: downloads });
  let receiver: SocpClient | undefined;
  try {
    const [a, b] = await startMesh(cluster, 2);
    receiver = new SocpClient({
      url: b.url,
      identity: receiverUser.identity,
      displayName: receiverUser.name,
      adapter,
      caps: [CHANNEL_KEY_CAP, PRESENCE_LITE_CAP], // no file-aesgcm: the spec's RSA mode
      reconnect: false,
    });
    await receiver.connect();
    await connectUsers([sender], a.url, cluster.client);
    await waitForOnline(a, 2);

    const bytes = new Uint8Array(size);
    for (let at = 0; at < size; at += 65536) crypto.getRandomValues(bytes.subarray(at, at + 65536));
    const contact: Contact = {
      userId: receiverUser.identity.id,
      serverId: b.id,
      name: receiverUser.name,
      pubkey: receiverUser.identity.keys.publicKey,
      encKey: receiverUser.identity.keys.publicKey,
      fingerprint: "",
      caps: [],
      online: true,
    };
    env.progress(
      `files (${env.crypto}): sealing and signing ${Math.ceil(size / DM_CHUNK_BYTES)} chunks`,
    );
    const texts: string[] = [];
    for await (const { frame } of fileFrames(sender.identity, { contact }, "bench.bin", bytes)) {
      texts.push(JSON.stringify(frame));
    }

    env.progress(`files (${env.crypto}): ${round(size / 1024)} KB from a to b`);
    const before = [await sampleNode(a, cluster), await sampleNode(b, cluster)];
    const { file, seconds, receiverCores } = await withBackend(
      backends.byName[env.crypto]!,
      async () => {
        const cpuBefore = selfCpuMs();
        const started = performance.now();
        let timer: ReturnType<typeof setTimeout> | undefined;
        const arrived = new Promise<Extract<ClientEvent, { type: "file" }>>((resolve, reject) => {
          timer = setTimeout(() => reject(new Error("the file never arrived")), 180_000);
          const off = receiver!.events.on((e) => e.type === "file" && (off(), resolve(e)));
        });
        for (const text of texts) sender.socket!.send(text);
        const file = await arrived.finally(() => clearTimeout(timer));
        const seconds = (performance.now() - started) / 1000;
        const receiverCores = round((selfCpuMs() - cpuBefore) / (seconds * 1000), 2);
        return { file, seconds, receiverCores };
      },
    );
    const after = [await sampleNode(a, cluster), await sampleNode(b, cluster)];

    const saved = await Deno.readFile(file.path);
    const verified = file.verified && file.size === size &&
      (await sha256Hex(saved)) === (await sha256Hex(bytes));
    const kbPerSec = size / 1024 / seconds;
    const ceilingKbPerSec = (rsaOf(ceilings, env).oaepDecrypt.four * DM_CHUNK_BYTES) / 1024;
    return {
      crypto: env.crypto,
      bytes: size,
      chunks: texts.length - 2,
      seconds: round(seconds, 1),
      kbPerSec: round(kbPerSec, 1),
      ceilingKbPerSec: round(ceilingKbPerSec, 1),
      ratio: ratio(kbPerSec, ceilingKbPerSec),
      verified,
      nodes: { a: nodeRates(before[0], after[0]), b: nodeRates(before[1], after[1]) },
      receiverCores,
    };
  } finally {
    await receiver?.close();
    await closeUsers([sender]);
    await cluster.close();
  }
}
