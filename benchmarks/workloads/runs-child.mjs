// Runs benchmark child: `cpu N` does N iterations of fixed CPU work, printing a progress line every 2^20;
// `flood MB LINE` writes MB megabytes of LINE-byte lines as fast as its stdout takes them.

const [mode, a, b] = process.argv.slice(2);
if (mode === 'cpu') {
  const iterations = Number(a);
  let x = 0;
  for (let i = 0; i < iterations; i++) {
    x = (x * 1_103_515_245 + 12_345) % 2_147_483_647;
    if ((i & 0xfffff) === 0) console.log(`step ${i} x=${x}`);
  }
  console.log(`done ${x}`);
} else if (mode === 'flood') {
  const bytes = Number(a) * 1e6;
  const lineBytes = Number(b);
  const line = `${'x'.repeat(lineBytes - 1)}\n`;
  const block = line.repeat(Math.max(1, Math.floor(65_536 / lineBytes)));
  let left = Math.ceil(bytes / block.length);
  const write = () => {
    while (left-- > 0) if (!process.stdout.write(block)) return process.stdout.once('drain', write);
  };
  write();
} else {
  throw new Error(`unknown mode ${mode}`);
}
