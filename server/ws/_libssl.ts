// The part of the system's OpenSSL 3 TLS library (libssl.so.3, with the
// libcrypto it links) that server/ws/openssl_tls.ts uses, loaded through FFI.
// Every call is synchronous: with memory BIOs nothing here waits for I/O, and
// a call never runs while another thread could free the object it works on.

/** Where libssl is looked for. */
const LIBSSL_CANDIDATES: readonly string[] = [
  "libssl.so.3",
  "/usr/lib/x86_64-linux-gnu/libssl.so.3",
  "/usr/lib/aarch64-linux-gnu/libssl.so.3",
  "/usr/lib64/libssl.so.3",
  "/usr/lib/libssl.so.3",
  "/opt/homebrew/opt/openssl@3/lib/libssl.3.dylib",
  "/usr/local/opt/openssl@3/lib/libssl.3.dylib",
];

const SYMBOLS = {
  OpenSSL_version_num: { parameters: [], result: "u64" },
  OpenSSL_version: { parameters: ["i32"], result: "pointer" },
  ERR_clear_error: { parameters: [], result: "void" },
  ERR_get_error: { parameters: [], result: "u64" },
  ERR_error_string_n: { parameters: ["u64", "buffer", "usize"], result: "void" },
  TLS_server_method: { parameters: [], result: "pointer" },
  SSL_CTX_new: { parameters: ["pointer"], result: "pointer" },
  SSL_CTX_free: { parameters: ["pointer"], result: "void" },
  SSL_CTX_ctrl: { parameters: ["pointer", "i32", "i64", "pointer"], result: "i64" },
  SSL_CTX_set_options: { parameters: ["pointer", "u64"], result: "u64" },
  SSL_CTX_set_num_tickets: { parameters: ["pointer", "usize"], result: "i32" },
  SSL_CTX_use_certificate: { parameters: ["pointer", "pointer"], result: "i32" },
  SSL_CTX_use_PrivateKey: { parameters: ["pointer", "pointer"], result: "i32" },
  SSL_CTX_check_private_key: { parameters: ["pointer"], result: "i32" },
  SSL_new: { parameters: ["pointer"], result: "pointer" },
  SSL_free: { parameters: ["pointer"], result: "void" },
  SSL_set_bio: { parameters: ["pointer", "pointer", "pointer"], result: "void" },
  SSL_set0_rbio: { parameters: ["pointer", "pointer"], result: "void" },
  SSL_set0_wbio: { parameters: ["pointer", "pointer"], result: "void" },
  SSL_set_accept_state: { parameters: ["pointer"], result: "void" },
  SSL_do_handshake: { parameters: ["pointer"], result: "i32" },
  SSL_read: { parameters: ["pointer", "buffer", "i32"], result: "i32" },
  SSL_write: { parameters: ["pointer", "buffer", "i32"], result: "i32" },
  SSL_get_error: { parameters: ["pointer", "i32"], result: "i32" },
  BIO_s_mem: { parameters: [], result: "pointer" },
  BIO_new: { parameters: ["pointer"], result: "pointer" },
  BIO_new_mem_buf: { parameters: ["buffer", "i32"], result: "pointer" },
  BIO_free: { parameters: ["pointer"], result: "i32" },
  BIO_write: { parameters: ["pointer", "buffer", "i32"], result: "i32" },
  BIO_read: { parameters: ["pointer", "buffer", "i32"], result: "i32" },
  BIO_ctrl: { parameters: ["pointer", "i32", "i64", "pointer"], result: "i64" },
  PEM_read_bio_X509: {
    parameters: ["pointer", "pointer", "pointer", "pointer"],
    result: "pointer",
  },
  PEM_read_bio_PrivateKey: {
    parameters: ["pointer", "pointer", "pointer", "pointer"],
    result: "pointer",
  },
  X509_free: { parameters: ["pointer"], result: "void" },
  EVP_PKEY_free: { parameters: ["pointer"], result: "void" },
} as const;

/** The loaded functions. */
export type LibSslSymbols = Deno.DynamicLibrary<typeof SYMBOLS>["symbols"];

/** SSL_get_error's answers that the transport tells apart. */
export const SSL_ERROR = { NONE: 0, SSL: 1, WANT_READ: 2, SYSCALL: 5, ZERO_RETURN: 6 } as const;

/** Constants of `ssl.h`/`bio.h` for the macros this transport needs. */
export const SSL_CONST = {
  CTRL_MODE: 33,
  CTRL_EXTRA_CHAIN_CERT: 14,
  CTRL_SET_MIN_PROTO_VERSION: 123,
  /** Idle connections give their record buffers back (12 KB each, measured). */
  MODE_RELEASE_BUFFERS: 0x10n,
  TLS1_2_VERSION: 0x0303n,
  OP_NO_COMPRESSION: 1n << 17n,
  OP_NO_RENEGOTIATION: 1n << 30n,
  BIO_CTRL_PENDING: 10,
} as const;

/** libssl, loaded; closed once nothing uses it. */
export interface LibSsl {
  readonly symbols: LibSslSymbols;
  /** "OpenSSL 3.0.19 27 Jan 2026", for the log and /healthz. */
  readonly version: string;
  close(): void;
}

/** Loads libssl (OpenSSL ≥ 3), or says why it cannot. */
export function loadLibSsl(path?: string): LibSsl | { error: string } {
  const tried: string[] = [];
  for (const candidate of path ? [path] : LIBSSL_CANDIDATES) {
    let lib: Deno.DynamicLibrary<typeof SYMBOLS>;
    try {
      lib = Deno.dlopen(candidate, SYMBOLS);
    } catch (e) {
      if (e instanceof Deno.errors.NotCapable || e instanceof Deno.errors.PermissionDenied) {
        return { error: "the OpenSSL TLS engine needs --allow-ffi" };
      }
      tried.push(`${candidate}: ${e instanceof Error ? e.message.split("\n")[0] : e}`);
      continue;
    }
    const number = lib.symbols.OpenSSL_version_num();
    if (number < 0x3000_0000n) {
      lib.close();
      tried.push(`${candidate}: OpenSSL 3 is needed, found 0x${number.toString(16)}`);
      continue;
    }
    const text = lib.symbols.OpenSSL_version(0);
    const version = text ? Deno.UnsafePointerView.getCString(text) : "OpenSSL 3";
    return { symbols: lib.symbols, version, close: () => lib.close() };
  }
  return { error: `no usable libssl: ${tried.join("; ")}` };
}

/** The text of OpenSSL's oldest queued error (the queue is then cleared), or `fallback`. */
export function sslErrorText(ssl: LibSslSymbols, fallback: string): string {
  const code = ssl.ERR_get_error();
  ssl.ERR_clear_error();
  if (code === 0n) return fallback;
  const buffer = new Uint8Array(256);
  ssl.ERR_error_string_n(code, buffer, BigInt(buffer.length));
  const end = buffer.indexOf(0);
  return `${fallback}: ${new TextDecoder().decode(buffer.subarray(0, end < 0 ? undefined : end))}`;
}
