/**
 * Why a WebSocket connection failed, in words that say what to do. The
 * browser-style WebSocket API reports every failure alike, so after one the
 * Deno adapter asks again, step by step: does anything listen (TCP), is the
 * certificate trusted, valid and for this name (TLS), does the path exist
 * (HTTP). Failures that cannot heal by waiting are marked not retryable.
 *
 * @module
 */

/** What went wrong, from the network up. */
export type ConnectFailure =
  | "refused"
  | "unresolved"
  | "untrusted"
  | "expired"
  | "wrong_name"
  | "tls"
  | "not_found"
  | "http"
  | "closed";

/**
 * A connection that could not be made, with the reason and whether trying
 * again later can help.
 *
 * @example
 * ```ts
 * import { ConnectError } from "@socp/socp/client";
 * new ConnectError("refused", "wss://127.0.0.1:1/ws", "connection refused").retryable; // true
 * ```
 */
export class ConnectError extends Error {
  /** Always `"ConnectError"`. */
  override name = "ConnectError";
  /** What went wrong. */
  readonly failure: ConnectFailure;
  /** Whether the same attempt may succeed later (the server may be starting). */
  readonly retryable: boolean;

  /** A failure to connect to `url`, with `reason` in words. */
  constructor(failure: ConnectFailure, url: string, reason: string) {
    super(`cannot connect to ${url}: ${reason}`);
    this.failure = failure;
    this.retryable = failure === "refused" || failure === "closed";
  }
}

/** How to reach the server again, to ask it what went wrong. */
export interface ProbeOptions {
  /** The CA certificate (PEM) the client trusts, if one was given. */
  caCert?: string;
  /** An HTTP client trusting that CA. */
  client?: Deno.HttpClient;
}

/** Finds out why connecting a WebSocket to `url` failed. Never throws. */
export async function diagnose(url: string, options: ProbeOptions = {}): Promise<ConnectError> {
  const target = new URL(url);
  const secure = target.protocol === "wss:";
  const hostname = target.hostname.replace(/^\[(.*)\]$/, "$1");
  const port = Number(target.port || (secure ? 443 : 80));
  const where = `${hostname}:${port}`;
  try {
    (await Deno.connect({ hostname, port })).close();
  } catch (e) {
    if (e instanceof Deno.errors.ConnectionRefused) {
      return new ConnectError(
        "refused",
        url,
        `connection refused (is a server running on ${where}?)`,
      );
    }
    const text = e instanceof Error ? e.message : String(e);
    return new ConnectError("unresolved", url, `${where} cannot be reached (${firstLine(text)})`);
  }
  if (secure) {
    const tlsProblem = await tlsFailure(url, hostname, port, options.caCert);
    if (tlsProblem) return tlsProblem;
  }
  try {
    const http = `${secure ? "https" : "http"}://${target.host}${target.pathname}`;
    const res = await fetch(http, options.client ? { client: options.client } : {});
    await res.body?.cancel();
    if (res.status === 404) {
      return new ConnectError(
        "not_found",
        url,
        `the server has nothing at ${target.pathname} (HTTP 404); its WebSocket endpoint is /ws`,
      );
    }
    if (res.status !== 426 && res.status !== 400) {
      return new ConnectError("http", url, `the server answered HTTP ${res.status}`);
    }
  } catch {
    // The probe failed where the WebSocket did not tell: fall through to the generic reason.
  }
  return new ConnectError("closed", url, "the server closed the connection");
}

/** The certificate problem of a TLS server, or null when the handshake succeeds. */
async function tlsFailure(
  url: string,
  hostname: string,
  port: number,
  caCert: string | undefined,
): Promise<ConnectError | null> {
  let conn: Deno.TlsConn | undefined;
  try {
    conn = await Deno.connectTls({ hostname, port, ...(caCert ? { caCerts: [caCert] } : {}) });
    await conn.handshake();
    return null;
  } catch (e) {
    const text = e instanceof Error ? e.message : String(e);
    if (/UnknownIssuer|BadSignature|self.signed|unknown ca/i.test(text)) {
      const hint = caCert
        ? "the CA given with --ca did not sign it"
        : "give the CA that signed it with --ca (for `deno task dev`: --ca certs/ca.pem)";
      return new ConnectError("untrusted", url, `the server's certificate is not trusted: ${hint}`);
    }
    if (/Expired|NotValidYet/i.test(text)) {
      return new ConnectError(
        "expired",
        url,
        "the server's certificate has expired or is not yet valid (check the server's certificate and both clocks)",
      );
    }
    if (/NotValidForName|CertNotValidForName|not valid for/i.test(text)) {
      return new ConnectError(
        "wrong_name",
        url,
        `the server's certificate is not for ${hostname} (connect with a name it lists)`,
      );
    }
    return new ConnectError("tls", url, `TLS failed: ${firstLine(text)}`);
  } finally {
    try {
      conn?.close();
    } catch {
      // already closed
    }
  }
}

function firstLine(text: string): string {
  return text.split("\n")[0];
}
