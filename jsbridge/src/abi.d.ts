// Low-level Edgewise wasm ABI host. See the top comment of abi.js.

export const ABI_VERSION: 1;
export const MAX_REQUEST_BYTES: number;

export type Op = 'version' | 'load_ruleset' | 'observe' | 'set_context' | 'decide' | 'snapshot' | 'restore' | 'record_impressions' | 'set_preferences' | 'preferences' | 'report' | 'ledger' | 'describe' | 'export';
export const OPS: readonly Op[];

export interface ErrorBody {
  code: string;
  message: string;
}

export type CallResponse<T = unknown> = { result: T; error?: undefined } | { error: ErrorBody; result?: undefined };

export type WasmSource =
  | string
  | URL
  | Response
  | Promise<Response>
  | ArrayBuffer
  | ArrayBufferView
  | WebAssembly.Module;

/** Compiles the engine, streaming when the server sends application/wasm. */
export function compileModule(source: WasmSource): Promise<WebAssembly.Module>;

/**
 * Whether this runtime can call the engine's exports, which return i64:
 * false without BigInt or WebAssembly BigInt integration.
 */
export function bigIntExports(): boolean;

/**
 * Instantiates the engine, runs _initialize and checks its ABI version.
 * Rejects with an Error whose `code` is 'unsupported_browser' (see
 * bigIntExports), 'compile_failed', 'instantiate_failed' or 'abi_version'.
 */
export function instantiate(
  module: WasmSource,
  options?: { stdout?: (line: string) => void; stderr?: (line: string) => void },
): Promise<EngineInstance>;

export function encodeRequest(request: unknown): Uint8Array;
export function errorResponse(code: string, message: string): { error: ErrorBody };

export class EngineInstance {
  constructor(exports: WebAssembly.Exports);
  /** A writable copy of the module's exports. */
  exports: Record<string, any>;
  /** True after a trap; build a new instance. */
  dead: boolean;
  /** Sends a request (an object, or msgpack bytes as is); returns the response bytes. Never throws. */
  callRaw(op: Op, request?: object | Uint8Array): Uint8Array;
  /** Like callRaw, decoded. Never throws. */
  call<T = any>(op: Op, request?: object | Uint8Array): CallResponse<T>;
}
