/**
 * Development TLS certificates made with WebCrypto alone (no openssl): a
 * local CA and a server leaf certificate signed by it, ECDSA P-256, with the
 * subjectAltName and `CA:FALSE` that rustls requires. For development and
 * tests only; production deployments bring their own certificates.
 *
 * @example
 * ```ts
 * import { generateDevCertificates } from "./mkcert.ts";
 * const { caCert, cert, key } = await generateDevCertificates(["127.0.0.1", "localhost"]);
 * caCert.startsWith("-----BEGIN CERTIFICATE-----"); // true
 * ```
 *
 * @module
 */

import { concatBytes } from "../protocol/bytes.ts";
import {
  bits,
  bool,
  explicit,
  octets,
  oid,
  seq,
  set,
  smallInt,
  uint,
  utcTime,
  utf8,
} from "../protocol/der.ts";

/** PEM texts of a development CA and a server certificate it signed. */
export interface DevCertificates {
  /** CA certificate (trust this in clients, e.g. `--ca`). */
  caCert: string;
  /** CA private key (PKCS#8 PEM), kept to sign further leaves. */
  caKey: string;
  /** Server certificate (`--tls-cert`). */
  cert: string;
  /** Server private key, PKCS#8 PEM (`--tls-key`). */
  key: string;
}

const ECDSA = { name: "ECDSA", namedCurve: "P-256" } as const;
const SIGN = { name: "ECDSA", hash: "SHA-256" } as const;
const ECDSA_WITH_SHA256 = seq(oid("1.2.840.10045.4.3.2"));
const DAY_MS = 86_400_000;

function pem(label: string, der: Uint8Array): string {
  const body = der.toBase64().match(/.{1,64}/g)!.join("\n");
  return `-----BEGIN ${label}-----\n${body}\n-----END ${label}-----\n`;
}

function name(commonName: string): Uint8Array {
  return seq(set(seq(oid("2.5.4.3"), utf8(commonName))));
}

function extension(id: string, critical: boolean, value: Uint8Array): Uint8Array {
  return critical ? seq(oid(id), bool(true), octets(value)) : seq(oid(id), octets(value));
}

function isIpv4(host: string): boolean {
  return /^\d{1,3}(\.\d{1,3}){3}$/.test(host);
}

function subjectAltName(hosts: string[]): Uint8Array {
  const entries = hosts.map((h) => {
    if (isIpv4(h)) {
      return concatBytes(new Uint8Array([0x87, 4]), new Uint8Array(h.split(".").map(Number)));
    }
    if (h === "::1") {
      return concatBytes(new Uint8Array([0x87, 16]), new Uint8Array([...Array(15).fill(0), 1]));
    }
    const dns = new TextEncoder().encode(h);
    return concatBytes(new Uint8Array([0x82, dns.length]), dns);
  });
  return seq(...entries);
}

async function keyId(spki: Uint8Array): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", spki as BufferSource)).subarray(
    0,
    20,
  );
}

/** WebCrypto's ECDSA output is r ‖ s; X.509 wants SEQUENCE { INTEGER r, INTEGER s }. */
function derSignature(raw: Uint8Array): Uint8Array {
  return seq(uint(raw.subarray(0, 32)), uint(raw.subarray(32)));
}

async function signCertificate(
  tbs: Uint8Array,
  issuerKey: CryptoKey,
): Promise<Uint8Array> {
  const raw = new Uint8Array(await crypto.subtle.sign(SIGN, issuerKey, tbs as BufferSource));
  return seq(tbs, ECDSA_WITH_SHA256, bits(derSignature(raw)));
}

interface CertSpec {
  subject: string;
  issuer: string;
  spki: Uint8Array;
  issuerSpki: Uint8Array;
  isCa: boolean;
  hosts: string[];
  days: number;
}

async function tbsCertificate(spec: CertSpec): Promise<Uint8Array> {
  const now = Date.now();
  const serial = crypto.getRandomValues(new Uint8Array(16));
  serial[0] &= 0x7f;
  const extensions = [
    extension("2.5.29.19", true, spec.isCa ? seq(bool(true), smallInt(0)) : seq()),
    // keyUsage: CA → digitalSignature, keyCertSign, cRLSign; leaf → digitalSignature.
    extension(
      "2.5.29.15",
      true,
      spec.isCa ? bits(new Uint8Array([0x86]), 1) : bits(new Uint8Array([0x80]), 7),
    ),
    extension("2.5.29.14", false, octets(await keyId(spec.spki))),
    extension(
      "2.5.29.35",
      false,
      seq(concatBytes(new Uint8Array([0x80, 20]), await keyId(spec.issuerSpki))),
    ),
  ];
  if (!spec.isCa) {
    extensions.push(
      extension("2.5.29.37", false, seq(oid("1.3.6.1.5.5.7.3.1"), oid("1.3.6.1.5.5.7.3.2"))),
      extension("2.5.29.17", false, subjectAltName(spec.hosts)),
    );
  }
  return seq(
    explicit(0, smallInt(2)),
    uint(serial),
    ECDSA_WITH_SHA256,
    name(spec.issuer),
    seq(utcTime(new Date(now - 3_600_000)), utcTime(new Date(now + spec.days * DAY_MS))),
    name(spec.subject),
    spec.spki,
    explicit(3, seq(...extensions)),
  );
}

async function newKey(): Promise<CryptoKeyPair> {
  return await crypto.subtle.generateKey(ECDSA, true, ["sign", "verify"]);
}

async function exportSpki(key: CryptoKey): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.exportKey("spki", key));
}

async function exportPkcs8Pem(key: CryptoKey): Promise<string> {
  return pem("PRIVATE KEY", new Uint8Array(await crypto.subtle.exportKey("pkcs8", key)));
}

/**
 * Generates a development CA and a server certificate for `hosts` (IPv4
 * addresses, `::1` or DNS names), valid for `days` (default 825).
 *
 * @example
 * ```ts
 * import { generateDevCertificates } from "./mkcert.ts";
 * const certs = await generateDevCertificates(["localhost"]);
 * certs.key.startsWith("-----BEGIN PRIVATE KEY-----"); // true
 * ```
 */
export async function generateDevCertificates(
  hosts: string[],
  days = 825,
): Promise<DevCertificates> {
  const ca = await newKey();
  const leaf = await newKey();
  const caSpki = await exportSpki(ca.publicKey);
  const leafSpki = await exportSpki(leaf.publicKey);
  const caName = "socp development CA";
  const caTbs = await tbsCertificate({
    subject: caName,
    issuer: caName,
    spki: caSpki,
    issuerSpki: caSpki,
    isCa: true,
    hosts: [],
    days,
  });
  const leafTbs = await tbsCertificate({
    subject: hosts[0] ?? "localhost",
    issuer: caName,
    spki: leafSpki,
    issuerSpki: caSpki,
    isCa: false,
    hosts,
    days,
  });
  return {
    caCert: pem("CERTIFICATE", await signCertificate(caTbs, ca.privateKey)),
    caKey: await exportPkcs8Pem(ca.privateKey),
    cert: pem("CERTIFICATE", await signCertificate(leafTbs, ca.privateKey)),
    key: await exportPkcs8Pem(leaf.privateKey),
  };
}

/** Paths of the PEM files {@linkcode ensureDevCertificates} maintains. */
export interface DevCertificatePaths {
  caCert: string;
  caKey: string;
  cert: string;
  key: string;
}

/**
 * Writes development certificates into `dir` unless they already exist
 * (`ca.pem`, `ca-key.pem`, `server.pem`, `server-key.pem`; keys mode 0600).
 *
 * @example
 * ```ts
 * import { ensureDevCertificates } from "./mkcert.ts";
 * const dir = await Deno.makeTempDir();
 * const paths = await ensureDevCertificates(dir, ["127.0.0.1", "localhost"]);
 * (await Deno.readTextFile(paths.cert)).includes("CERTIFICATE"); // true
 * ```
 */
export async function ensureDevCertificates(
  dir: string,
  hosts: string[],
): Promise<DevCertificatePaths> {
  const paths = {
    caCert: `${dir}/ca.pem`,
    caKey: `${dir}/ca-key.pem`,
    cert: `${dir}/server.pem`,
    key: `${dir}/server-key.pem`,
  };
  const existing = await Promise.all(Object.values(paths).map(exists));
  if (existing.every(Boolean)) return paths;
  await Deno.mkdir(dir, { recursive: true });
  const certs = await generateDevCertificates(hosts);
  for (const [name, path] of Object.entries(paths) as [keyof DevCertificates, string][]) {
    const mode = name.endsWith("Key") || name === "key" ? 0o600 : 0o644;
    await Deno.writeTextFile(`${path}.tmp`, certs[name], { mode });
    await Deno.rename(`${path}.tmp`, path);
  }
  return paths;
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return false;
    throw e;
  }
}

const MKCERT_HELP = `certs/mkcert.ts [DIR] [HOST…]

Makes a development CA and a server certificate for HOST… (default 127.0.0.1
and localhost) in DIR (default certs), unless DIR already has them. Clients
then trust the CA with --ca DIR/ca.pem. For development only.`;

if (import.meta.main) {
  // deno run --allow-read=certs --allow-write=certs certs/mkcert.ts [DIR] [HOST…]
  if (Deno.args.some((a) => a === "--help" || a === "-h")) {
    console.log(MKCERT_HELP);
    Deno.exit(0);
  }
  const unknown = Deno.args.find((a) => a.startsWith("-"));
  if (unknown) {
    console.error(`mkcert: unknown option ${unknown} (try --help)`);
    Deno.exit(2);
  }
  const [dir = "certs", ...hosts] = Deno.args;
  const paths = await ensureDevCertificates(dir, hosts.length ? hosts : ["127.0.0.1", "localhost"]);
  console.log(
    `development certificates in ${dir}/ (CA ${paths.caCert}, server ${paths.cert}, key ${paths.key})`,
  );
}
