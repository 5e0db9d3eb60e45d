// Public API of the Edgewise browser SDK.

export const ABI_VERSION: 1;

export type EventType = 'view' | 'click' | 'add_to_cart' | 'purchase';

export interface ObservedEvent {
  type: EventType;
  item: string;
  /** Unix time in milliseconds; defaults to Date.now(). */
  at?: number;
}

/** One chosen item, with a reason a person can read. */
export interface Pick {
  item: string;
  score: number;
  reason: string;
}

/** What one slot shows. */
export interface Decision {
  slot: string;
  items: Pick[];
  /** True when the slot shows fallback items instead of personalized ones. */
  fallback: boolean;
}

export interface VersionInfo {
  abi: number;
  engine: string;
  /** "id@version" of the loaded ruleset. */
  ruleset?: string;
}

/**
 * An error event. Codes are the engine's (bad_request, too_large, unknown_op,
 * no_ruleset, invalid_ruleset, bad_ruleset_file, bad_signature, unknown_slot,
 * unknown_item, corrupt_snapshot, snapshot_version, internal) or the SDK's
 * (fetch_failed, no_public_key, bad_public_key, compile_failed,
 * instantiate_failed, abi_version, trap, bad_response). bad_signature means
 * the ruleset is not signed with publicKey, or was changed after signing.
 */
export interface EdgewiseError {
  code: string;
  message: string;
  /** The method or operation that failed, e.g. 'load', 'observe', 'decide'. */
  op: string;
}

export interface EventMap {
  error: EdgewiseError;
  decision: Decision;
}

export type Bytes = ArrayBuffer | ArrayBufferView;

export interface LoadOptions {
  /** The engine: a URL, a Response (or a promise of one), bytes, or a compiled module. */
  wasm: string | URL | Response | Promise<Response> | Bytes | WebAssembly.Module;
  /**
   * The signed ruleset (.ewr, from `edgewise build`): its URL, a Response
   * (or a promise of one), or its bytes. It loads only if it is signed with
   * publicKey and unchanged since.
   */
  ruleset: string | URL | Response | Promise<Response> | Bytes;
  /**
   * The site's Ed25519 public key (`edgewise keygen` writes it): 32 bytes,
   * or their base64.
   */
  publicKey: string | Bytes;
  /**
   * Item ids by slot id: what each slot shows when the engine cannot run
   * (the ruleset cannot be fetched or verified, the wasm is blocked...).
   * Without an entry, a slot shows nothing then. While the engine runs,
   * slots fall back to the ruleset's own fallback items instead.
   */
  fallback?: Record<string, string[]>;
}

/**
 * One person's personalization engine. No method throws and no promise
 * rejects: failures are reported as 'error' events, and decisions fall back
 * to the shop's picks.
 */
export class Edgewise {
  /** Resolves, never rejects; check `state` or listen for 'error'. */
  static load(options: LoadOptions): Promise<Edgewise>;

  /** 'ready', or 'failed' when only fallback decisions are available. */
  readonly state: 'loading' | 'ready' | 'failed';

  /** Records an event; resolves true when the engine accepted it. */
  observe(event: ObservedEvent): Promise<boolean>;
  /** Sets the moment interest decays to (Unix ms, default Date.now()). */
  setContext(context?: { now?: number }): Promise<boolean>;
  decide(slot: string): Promise<Decision>;
  decide(slots: string[]): Promise<Decision[]>;
  /** The profile as bytes to persist, or null when the engine is unavailable. */
  snapshot(): Promise<Uint8Array | null>;
  /** Replaces the profile with bytes from snapshot(); resolves true on success. */
  restore(snapshot: Uint8Array | ArrayBuffer): Promise<boolean>;
  version(): Promise<VersionInfo | null>;

  /**
   * Adds a listener. Errors raised before the first 'error' listener (such as
   * load's) are delivered to it when it is added.
   */
  on<K extends keyof EventMap>(type: K, listener: (detail: EventMap[K]) => void): this;
  off<K extends keyof EventMap>(type: K, listener: (detail: EventMap[K]) => void): this;
}

export default Edgewise;
