/**
 * Choosing the server's TLS engine at start (`--tls-engine auto|node|openssl`,
 * env `SOCP_TLS_ENGINE`): `node` is `node:tls` over socp's transport;
 * `openssl` is the system's libssl through FFI (needs `--allow-ffi`), which
 * keeps an idle connection in far less memory; `auto` (the default) takes
 * OpenSSL when FFI was granted anyway and libssl loads, and says which it
 * took. Asked for explicitly, `openssl` never falls back silently.
 *
 * The engine serves the listener (users and inbound links); links this server
 * dials use `node:tls`, which checks the peer's certificate.
 *
 * @module
 */

import { ffiGranted } from "./ffi_permission.ts";
import { nodeTlsAcceptor, type TlsAcceptor } from "./ws/conn.ts";
import { OpenSslTlsAcceptor } from "./ws/openssl_tls.ts";

/** What `--tls-engine` may say. */
export type TlsEngineChoice = "auto" | "node" | "openssl";

/** The values of `--tls-engine`. */
export const TLS_ENGINE_CHOICES: readonly TlsEngineChoice[] = ["auto", "node", "openssl"];

/** Whether `value` is a {@linkcode TlsEngineChoice}. */
export function isTlsEngineChoice(value: unknown): value is TlsEngineChoice {
  return TLS_ENGINE_CHOICES.includes(value as TlsEngineChoice);
}

/** The `fallback` of `auto` when FFI was not granted: the usual case, not a warning. */
export const FFI_NOT_GRANTED = "FFI not granted";

/** The engine chosen, and why `auto` did not take OpenSSL when it did not. */
export type TlsEngineResult = { acceptor: TlsAcceptor; fallback?: string } | { error: string };

/** The TLS engine `choice` asks for, loaded with the server's certificate and key. */
export function tlsAcceptorFor(
  choice: TlsEngineChoice,
  pem: { cert: string; key: string },
): TlsEngineResult {
  if (choice === "node") return { acceptor: nodeTlsAcceptor(pem) };
  if (choice === "auto" && !ffiGranted()) {
    return { acceptor: nodeTlsAcceptor(pem), fallback: FFI_NOT_GRANTED };
  }
  const openssl = OpenSslTlsAcceptor.create(pem);
  if (!("error" in openssl)) return { acceptor: openssl };
  if (choice === "openssl") return { error: `--tls-engine openssl: ${openssl.error}` };
  return { acceptor: nodeTlsAcceptor(pem), fallback: openssl.error };
}
