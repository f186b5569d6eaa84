// Secret box: seals and opens secret env var values with AES-256-GCM (node:crypto), bound to the variable they belong to.

import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { LablogError } from '../model/errors.js';

/** Bytes of a secret key (AES-256). */
export const SECRET_KEY_BYTES = 32;
/** Bytes of the random IV of each sealed value (GCM's recommended 96 bits). */
export const SECRET_IV_BYTES = 12;
/** Bytes of GCM's authentication tag. */
export const SECRET_TAG_BYTES = 16;
/** The version prefix of a sealed value: `lablog-aes256gcm-v1:<iv>:<tag>:<ciphertext>`, each part base64. */
export const SEALED_FORMAT = 'lablog-aes256gcm-v1';
const CIPHER = 'aes-256-gcm';

/** What a sealed value belongs to: opening it under another variable's name fails (the name is authenticated data). */
export interface SecretSlot {
  readonly project: string;
  readonly experimentId: string | null;
  readonly name: string;
}

function associatedData(slot: SecretSlot): Buffer {
  // Lengths first, so no two slots give the same bytes.
  const parts = [slot.project, slot.experimentId ?? '', slot.name];
  return Buffer.from(parts.map((p) => `${Buffer.byteLength(p)}:${p}`).join(''), 'utf8');
}

/** Seals and opens secret values with one key; `where` names the key (a file path, or LABLOG_SECRET_KEY) in errors. */
export class SecretBox {
  readonly #key: Buffer;
  readonly where: string;

  constructor(key: Buffer, where: string) {
    if (key.length !== SECRET_KEY_BYTES) {
      throw new LablogError('SECRET_KEY_ERROR', `the secret key (${where}) has ${key.length} bytes; it must have ${SECRET_KEY_BYTES}`, {
        reason: 'malformed',
      });
    }
    this.#key = Buffer.from(key);
    this.where = where;
  }

  /** The sealed form of `plaintext` for `slot`: a fresh random IV each time. */
  seal(slot: SecretSlot, plaintext: string): string {
    const iv = randomBytes(SECRET_IV_BYTES);
    const cipher = createCipheriv(CIPHER, this.#key, iv, { authTagLength: SECRET_TAG_BYTES });
    cipher.setAAD(associatedData(slot));
    const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return [SEALED_FORMAT, iv.toString('base64'), cipher.getAuthTag().toString('base64'), ciphertext.toString('base64')].join(':');
  }

  /**
   * The plain text of a sealed value. SECRET_KEY_ERROR (reason 'undecryptable') when it was sealed with
   * another key, for another variable, altered, or is not a sealed value; the message never holds any of it.
   */
  open(slot: SecretSlot, sealed: string): string {
    const parts = sealed.split(':');
    const refuse = (why: string) =>
      new LablogError(
        'SECRET_KEY_ERROR',
        `secret ${slot.name} of project '${slot.project}' cannot be decrypted with the key (${this.where}): ${why}`,
        { reason: 'undecryptable', key: slot.name, project: slot.project },
      );
    if (parts.length !== 4 || parts[0] !== SEALED_FORMAT) throw refuse(`it is not in the ${SEALED_FORMAT} format`);
    const iv = Buffer.from(parts[1]!, 'base64');
    const tag = Buffer.from(parts[2]!, 'base64');
    if (iv.length !== SECRET_IV_BYTES || tag.length !== SECRET_TAG_BYTES) throw refuse(`it is not in the ${SEALED_FORMAT} format`);
    try {
      const decipher = createDecipheriv(CIPHER, this.#key, iv, { authTagLength: SECRET_TAG_BYTES });
      decipher.setAAD(associatedData(slot));
      decipher.setAuthTag(tag);
      return Buffer.concat([decipher.update(Buffer.from(parts[3]!, 'base64')), decipher.final()]).toString('utf8');
    } catch {
      throw refuse('it was sealed with another key, or altered');
    }
  }
}

/** The key in LABLOG_SECRET_KEY's format: 64 hex digits (what the key file holds). SECRET_KEY_ERROR otherwise, without quoting it. */
export function parseSecretKey(text: string, where: string): Buffer {
  const trimmed = text.trim();
  if (!/^[0-9a-fA-F]{64}$/.test(trimmed)) {
    throw new LablogError(
      'SECRET_KEY_ERROR',
      `the secret key (${where}) must be ${SECRET_KEY_BYTES * 2} hex digits (${SECRET_KEY_BYTES} bytes); it has ${trimmed.length} characters that are not`,
      { reason: 'malformed' },
    );
  }
  return Buffer.from(trimmed, 'hex');
}
