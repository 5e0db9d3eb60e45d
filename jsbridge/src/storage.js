// The profile at rest: one IndexedDB database, 'edgewise', with one object
// store holding a non-extractable AES-GCM key (the CryptoKey itself: the
// structured clone IndexedDB stores keeps it non-extractable, so page
// scripts can use it but nobody can read it out) and one encrypted record
// per ruleset id. The engine bounds the profile itself, so storage is
// bounded by the number of rulesets a site uses. The ruleset's context
// feeds are kept there too, as they came ('feed:' and the URL): they are
// the same for every visitor, signed, and checked again when loaded.

const DB_NAME = 'edgewise';
const STORE = 'kv';
const KEY = 'key';
const AES = { name: 'AES-GCM', length: 256 };

const req = (r) => new Promise((resolve, reject) => {
  r.onsuccess = () => resolve(r.result);
  r.onerror = () => reject(r.error);
});

const done = (tx) => new Promise((resolve, reject) => {
  tx.oncomplete = () => resolve();
  tx.onerror = () => reject(tx.error);
  tx.onabort = () => reject(tx.error || new Error('transaction aborted'));
});

const recordKey = (rulesetId) => `profile:${rulesetId}`;

// A record is {v: 2, iv, data}: only what decrypting needs is readable.
// data is AES-GCM over an envelope: one format byte (2), a float64, then the
// engine's snapshot. The float64 is the epoch whose report is settled (sent,
// or refused for good: an epoch is never negative), or, while an unsent
// report waits for the time the collector's Retry-After gave, minus that
// time in Unix ms; NaN for neither. A report waits only in an epoch not yet
// settled, so one number holds both, and an SDK that knows only epochs
// reads a wait as an epoch that never comes, and retries. The additional
// data binds the record to its format and ruleset. Records of
// format 1 ({iv, data, at, reported}, the snapshot alone encrypted, the
// write time and the epoch in plaintext beside it) are still read, and the
// next write replaces them.
const FORMAT = 2;
const ENVELOPE_HEADER = 9;
const aad = (format, rulesetId) => new TextEncoder().encode(format === FORMAT ? `edgewise/${FORMAT}/${rulesetId}` : rulesetId);

function seal(snapshot, reported, after) {
  const out = new Uint8Array(ENVELOPE_HEADER + snapshot.length);
  out[0] = FORMAT;
  new DataView(out.buffer).setFloat64(1, after > Date.now() ? -after : typeof reported === 'number' ? reported : NaN);
  out.set(snapshot, ENVELOPE_HEADER);
  return out;
}

function open(plain) {
  const bytes = new Uint8Array(plain);
  if (bytes.length < ENVELOPE_HEADER || bytes[0] !== FORMAT) throw new Error('the record\'s envelope is not one this SDK writes');
  const v = new DataView(bytes.buffer, bytes.byteOffset).getFloat64(1);
  return { snapshot: bytes.slice(ENVELOPE_HEADER), reported: v >= 0 ? v : null, after: v < 0 ? -v : 0 };
}

// How long opening the database may take: WebKit's open has been known
// never to answer. The page then goes on without storage.
export const OPEN_TIMEOUT = 3000;

/** Opens the database; rejects when IndexedDB or WebCrypto is unusable. */
export async function openStorage(factory, subtle) {
  if (!factory) throw new Error('IndexedDB is not available');
  if (!subtle) throw new Error('WebCrypto is not available (not a secure context?)');
  // AES-GCM can be missing or refused (NotSupportedError): found out with a
  // throwaway key before anything is opened, so a stored profile is neither
  // erased as unreadable nor replaced.
  const probe = await subtle.generateKey(AES, false, ['encrypt', 'decrypt']);
  const iv = new Uint8Array(12);
  await subtle.decrypt({ name: 'AES-GCM', iv }, probe, await subtle.encrypt({ name: 'AES-GCM', iv }, probe, iv));
  const db = await new Promise((resolve, reject) => {
    const open = factory.open(DB_NAME, 1);
    const timer = setTimeout(() => {
      open.onsuccess = () => open.result.close(); // too late: not kept open
      reject(new Error(`IndexedDB did not open within ${OPEN_TIMEOUT} ms`));
    }, OPEN_TIMEOUT);
    open.onupgradeneeded = () => open.result.createObjectStore(STORE);
    open.onsuccess = () => {
      clearTimeout(timer);
      resolve(open.result);
    };
    open.onerror = () => {
      clearTimeout(timer);
      reject(open.error);
    };
  });
  // Another tab's forget() deletes the database: let it.
  db.onversionchange = () => db.close();
  const storage = new Storage(factory, subtle, db);
  // The key is ready before the first write: a write as the page goes away
  // (pagehide) then takes one encryption and one put, nothing more.
  await storage._key();
  return storage;
}

class Storage {
  constructor(factory, subtle, db) {
    this.factory = factory;
    this.subtle = subtle;
    this.db = db;
    this.key = null;
    this.pending = null; // the newest record waiting to be written
    this.writing = null;
    this.closed = false; // after destroy(): nothing more is written
  }

  // The database's key, made on first use. Made before the transaction
  // (WebCrypto is async and would let it commit), then kept only if no other
  // tab stored one first.
  async _key() {
    if (this.key) return this.key;
    const fresh = await this.subtle.generateKey(AES, false, ['encrypt', 'decrypt']);
    const tx = this.db.transaction(STORE, 'readwrite');
    const store = tx.objectStore(STORE);
    const stored = await req(store.get(KEY));
    if (!stored) store.put(fresh, KEY);
    await done(tx);
    this.key = stored || fresh;
    return this.key;
  }

  /**
   * The stored profile for a ruleset: {snapshot, reported, after} or null
   * (reported: the epoch whose report is settled, or null; after: the time
   * before which an unsent report must not be retried, or 0). Rejects
   * with code 'storage_corrupt' when the record cannot be decrypted; the
   * record is deleted first, so the next visit starts clean.
   */
  async load(rulesetId) {
    const tx = this.db.transaction(STORE, 'readonly');
    const record = await req(tx.objectStore(STORE).get(recordKey(rulesetId)));
    if (record === undefined) return null;
    try {
      const key = await this._key();
      const format = record.v === undefined ? 1 : record.v;
      if (format !== 1 && format !== FORMAT) throw new Error(`the record has format ${format}, which this SDK does not know`);
      const plain = await this.subtle.decrypt(
        { name: 'AES-GCM', iv: record.iv, additionalData: aad(format, rulesetId) }, key, record.data);
      if (format === FORMAT) return open(plain);
      return { snapshot: new Uint8Array(plain), reported: typeof record.reported === 'number' ? record.reported : null, after: 0 };
    } catch (e) {
      await this.remove(rulesetId);
      throw Object.assign(new Error(`the stored profile cannot be read, so it was erased: ${(e && e.message) || e}`), {
        code: 'storage_corrupt',
      });
    }
  }

  /**
   * Encrypts and stores a profile, replacing the ruleset's record, with
   * the epoch whose report is settled and the time an unsent one may be
   * retried (a time already past is not kept). Writes are coalesced: while
   * one is in flight only the newest waits.
   */
  save(rulesetId, snapshot, reported, after) {
    if (this.closed) return Promise.resolve();
    this.pending = { rulesetId, snapshot, reported, after };
    if (!this.writing) {
      this.writing = (async () => {
        try {
          while (this.pending) {
            const { rulesetId: id, snapshot: bytes, reported: epoch, after } = this.pending;
            this.pending = null;
            await this._write(id, bytes, epoch, after);
          }
        } finally {
          this.writing = null;
        }
      })();
    }
    return this.writing;
  }

  async _write(rulesetId, snapshot, reported, after) {
    const key = await this._key();
    const iv = crypto.getRandomValues(new Uint8Array(12));
    const data = await this.subtle.encrypt(
      { name: 'AES-GCM', iv, additionalData: aad(FORMAT, rulesetId) }, key, seal(snapshot, reported, after));
    const record = { v: FORMAT, iv, data };
    const tx = this.db.transaction(STORE, 'readwrite');
    tx.objectStore(STORE).put(record, recordKey(rulesetId));
    // Committed now rather than when the event loop comes back, which it
    // may not as the page goes away.
    if (typeof tx.commit === 'function') tx.commit();
    await done(tx);
  }

  /** The signed feed kept for url, or undefined. */
  async feed(url) {
    return req(this.db.transaction(STORE, 'readonly').objectStore(STORE).get(`feed:${url}`));
  }

  /** Keeps a signed feed for url, replacing the one kept before. */
  async keepFeed(url, bytes) {
    if (this.closed) return;
    const tx = this.db.transaction(STORE, 'readwrite');
    tx.objectStore(STORE).put(bytes, `feed:${url}`);
    await done(tx);
  }

  async remove(rulesetId) {
    const tx = this.db.transaction(STORE, 'readwrite');
    tx.objectStore(STORE).delete(recordKey(rulesetId));
    await done(tx);
  }

  /** Deletes the whole database, key included. */
  async destroy() {
    this.closed = true;
    this.pending = null;
    if (this.writing) await this.writing.catch(() => {});
    this.db.close();
    this.key = null;
    await deleteDatabase(this.factory);
  }
}

/** Deletes the database whether or not it was opened in this page. */
export function deleteDatabase(factory) {
  return new Promise((resolve, reject) => {
    const r = factory.deleteDatabase(DB_NAME);
    r.onsuccess = () => resolve();
    r.onerror = () => reject(r.error);
    // Blocked until other tabs close their connection (they do, on
    // versionchange); the deletion then completes.
  });
}
