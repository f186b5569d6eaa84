import { describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { crc32, deflateSync } from 'node:zlib';
import sharp from 'sharp';
import { tempDir, tempStore, noisyPng, solidPng } from './helpers.js';

/** Re-encodes a PNG chunk's CRC after its body was changed, so only deeper checks can catch the damage. */
function fixCrcs(png: Buffer): Buffer {
  const out = Buffer.from(png);
  let offset = 8;
  while (offset < out.length) {
    const length = out.readUInt32BE(offset);
    out.writeUInt32BE(crc32(out.subarray(offset + 4, offset + 8 + length)), offset + 8 + length);
    offset += 12 + length;
  }
  return out;
}

/** The same PNG with its IDAT data replaced (one IDAT chunk, CRCs valid). */
async function pngWithIdat(png: Buffer, data: Buffer): Promise<Buffer> {
  const ihdr = png.subarray(8, 8 + 25);
  const chunk = (type: string, body: Buffer) => {
    const head = Buffer.alloc(8);
    head.writeUInt32BE(body.length, 0);
    head.write(type, 4, 'latin1');
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(body, crc32(Buffer.from(type, 'latin1'))));
    return Buffer.concat([head, body, crc]);
  };
  return Buffer.concat([png.subarray(0, 8), ihdr, chunk('IDAT', data), chunk('IEND', Buffer.alloc(0))]);
}

function idatOffset(png: Buffer): number {
  return png.indexOf(Buffer.from('IDAT')) + 4;
}

describe('decompression bombs', () => {
  /** A valid-looking grayscale PNG of width × height whose IDAT is `data`. */
  async function claimedSize(width: number, height: number, data: Buffer): Promise<Buffer> {
    const png = Buffer.from(await solidPng(1, 1));
    const ihdr = png.subarray(16, 29);
    ihdr.writeUInt32BE(width, 0);
    ihdr.writeUInt32BE(height, 4);
    ihdr[8] = 8; // bit depth
    ihdr[9] = 0; // grayscale
    return pngWithIdat(fixCrcs(png), data);
  }

  it('refuses an image over MAX_PNG_PIXELS before inflating anything', async () => {
    const { store } = tempStore();
    const exp = store.createExperiment({ name: 'bomb', errorHandler: 'FAIL' });
    const bomb = await claimedSize(20_000, 20_000, deflateSync(Buffer.alloc(1_000_000)));
    await expect(exp.logImage('bomb', bomb)).rejects.toMatchObject({
      code: 'INVALID_IMAGE',
      message: expect.stringContaining('the limit is 67108864 pixels'),
    });
  });

  it('counts inflated bytes as they stream, and stops past the size the header implies', async () => {
    const { store } = tempStore();
    const exp = store.createExperiment({ name: 'bomb', errorHandler: 'FAIL' });
    // 64 × 64 grayscale needs 64 × 65 bytes; this inflates to 50 MB.
    const bomb = await claimedSize(64, 64, deflateSync(Buffer.alloc(50_000_000)));
    await expect(exp.logImage('bomb', bomb)).rejects.toMatchObject({
      code: 'INVALID_IMAGE',
      message: expect.stringContaining('more than 4160 bytes'),
    });
  });
});

describe('logImage', () => {
  it('accepts PNG bytes, a Uint8Array, a path and a sharp instance, with captions and steps', async () => {
    const { store } = tempStore();
    const dir = tempDir();
    const exp = store.createExperiment({ name: 'e', errorHandler: 'FAIL' });
    const red = await solidPng(4, 3, '#ff0000');
    const green = await solidPng(5, 2, '#00ff00');
    const file = join(dir, 'blue.png');
    writeFileSync(file, await solidPng(2, 2, '#0000ff'));
    await exp.logImage('val/confusion', red, { caption: 'epoch 10', step: 10 });
    await exp.logImage('val/confusion', new Uint8Array(green));
    await exp.logImage('val/confusion', file, { caption: 'from a file' });
    await exp.logImage('val/confusion', sharp({ create: { width: 6, height: 6, channels: 4, background: '#ffffff80' } }), { step: 20 });
    await exp.close();
    const images = store.getExperiment(exp.id).getImages('val/confusion');
    expect(images.map((i) => [i.step, i.caption, i.width, i.height])).toEqual([
      [10, 'epoch 10', 4, 3],
      [11, null, 5, 2],
      [12, 'from a file', 2, 2],
      [20, null, 6, 6],
    ]);
    expect(images[0]!.png.equals(red)).toBe(true);
    expect(images[1]!.png.equals(green)).toBe(true);
    const decoded = await sharp(images[3]!.png).metadata();
    expect(decoded).toMatchObject({ format: 'png', width: 6, height: 6, channels: 4 });
  });

  it('copies the bytes at the call: changing the buffer afterwards does not change the stored image', async () => {
    const { store } = tempStore();
    const exp = store.createExperiment({ name: 'e', errorHandler: 'FAIL' });
    const png = await solidPng(3, 3);
    const original = Buffer.from(png);
    const pending = exp.logImage('img', png);
    png.fill(0);
    await pending;
    expect(exp.getImages('img')[0]!.png.equals(original)).toBe(true);
  });

  it('accepts interlaced, 16-bit, grey and palette PNGs', async () => {
    const { store } = tempStore();
    const exp = store.createExperiment({ name: 'e', errorHandler: 'FAIL' });
    const inputs = [
      await noisyPng(33, 17, { interlaced: true }),
      await sharp({ create: { width: 9, height: 7, channels: 3, background: '#123456' } })
        .toColourspace('rgb16')
        .png()
        .toBuffer(),
      await sharp({ create: { width: 9, height: 7, channels: 3, background: '#777777' } })
        .greyscale()
        .png()
        .toBuffer(),
      await sharp(await noisyPng(16, 16))
        .png({ palette: true, colours: 8 })
        .toBuffer(),
    ];
    for (const png of inputs) await exp.logImage('img', png);
    expect(exp.getImages('img')).toHaveLength(4);
  });

  it('rejects JPEG, GIF and WebP bytes and files, never converting them', async () => {
    const { store } = tempStore();
    const dir = tempDir();
    const exp = store.createExperiment({ name: 'e', errorHandler: 'FAIL' });
    const base = sharp({ create: { width: 4, height: 4, channels: 3, background: '#808080' } });
    const formats = {
      JPEG: await base.clone().jpeg().toBuffer(),
      GIF: await base.clone().gif().toBuffer(),
      WebP: await base.clone().webp().toBuffer(),
    };
    for (const [name, bytes] of Object.entries(formats)) {
      await expect(exp.logImage('img', bytes)).rejects.toMatchObject({
        code: 'INVALID_IMAGE',
        message: `image 'img' is not a valid PNG: ${name} data; only PNG is accepted`,
      });
      const file = join(dir, `x.${name.toLowerCase()}`);
      writeFileSync(file, bytes);
      await expect(exp.logImage('img', file)).rejects.toMatchObject({ code: 'INVALID_IMAGE' });
    }
    expect(() => exp.getImages('img')).toThrowError(expect.objectContaining({ code: 'SERIES_NOT_FOUND' }));
  });

  it('rejects truncated and corrupt PNGs', async () => {
    const { store } = tempStore();
    const exp = store.createExperiment({ name: 'e', errorHandler: 'FAIL' });
    const png = await noisyPng(32, 32);
    const flipped = Buffer.from(png);
    flipped[idatOffset(png) + 20]! ^= 0xff;
    // Valid chunks whose pixel data inflates to too few bytes: only the size check can see it.
    const short = await pngWithIdat(png, deflateSync(Buffer.alloc(10)));
    const cases: [string, Buffer, string][] = [
      ['cut in the middle', png.subarray(0, Math.floor(png.length / 2)), 'truncated'],
      ['without IEND', png.subarray(0, png.length - 12), 'no IEND'],
      ['a flipped byte', flipped, 'bad CRC'],
      ['a flipped byte with CRCs fixed', fixCrcs(flipped), 'pixel data'],
      ['only the signature', png.subarray(0, 8), 'no IEND'],
      ['pixel data too short for its size', short, 'a 32×32 image needs'],
      ['empty', Buffer.alloc(0), 'empty'],
    ];
    for (const [label, bytes, reason] of cases) {
      await expect(exp.logImage('img', bytes), label).rejects.toMatchObject({
        code: 'INVALID_IMAGE',
        message: expect.stringContaining(reason),
      });
    }
  });

  it('rejects inputs that are not images, and missing files', async () => {
    const { store } = tempStore();
    const exp = store.createExperiment({ name: 'e', errorHandler: 'FAIL' });
    for (const input of [42, null, { width: 1 }, [1, 2]]) {
      await expect(exp.logImage('img', input as never)).rejects.toMatchObject({ code: 'INVALID_IMAGE' });
    }
    await expect(exp.logImage('img', '/no/such/file.png')).rejects.toMatchObject({
      code: 'INVALID_IMAGE',
      message: expect.stringContaining('cannot read /no/such/file.png'),
    });
  });

  it('enforces strictly increasing steps per image series', async () => {
    const { store } = tempStore();
    const exp = store.createExperiment({ name: 'e', errorHandler: 'FAIL' });
    const png = await solidPng(2, 2);
    await exp.logImage('a', png, { step: 3 });
    await expect(exp.logImage('a', png, { step: 3 })).rejects.toMatchObject({ code: 'STEP_NOT_INCREASING' });
    await expect(exp.logImage('a', png, { step: -2 })).rejects.toMatchObject({ code: 'INVALID_STEP' });
    await exp.logImage('b', png, { step: 0 });
    expect(exp.getImages('a').map((i) => i.step)).toEqual([3]);
  });

  it('takes steps in call order even when images finish validating out of order', async () => {
    const { store } = tempStore();
    const exp = store.createExperiment({ name: 'e', errorHandler: 'FAIL' });
    const big = await noisyPng(600, 600);
    const small = await solidPng(1, 1);
    await Promise.all([exp.logImage('img', big), exp.logImage('img', small)]);
    const images = exp.getImages('img');
    expect(images.map((i) => [i.step, i.width])).toEqual([
      [0, 600],
      [1, 1],
    ]);
  });

  it('rejects an image over maxImageBytes with the limit and its size', async () => {
    const { store } = tempStore();
    const png = await noisyPng(64, 64);
    const exp = store.createExperiment({ name: 'e', errorHandler: 'FAIL', limits: { maxImageBytes: png.length - 1 } });
    await expect(exp.logImage('img', png)).rejects.toMatchObject({
      code: 'LIMIT_EXCEEDED',
      details: { limit: png.length - 1, actual: png.length },
    });
  });

  it('stores identical bytes once', async () => {
    const { store, path } = tempStore();
    const exp = store.createExperiment({ name: 'e', errorHandler: 'FAIL' });
    const png = await noisyPng(50, 50);
    for (let i = 0; i < 5; i++) await exp.logImage('img', png);
    await exp.flush();
    const { default: Database } = await import('better-sqlite3');
    const db = new Database(path, { readonly: true });
    expect(db.prepare('SELECT count(*) FROM blobs').pluck().get()).toBe(1);
    expect(db.prepare('SELECT count(*) FROM image_points').pluck().get()).toBe(5);
    db.close();
  });
});
