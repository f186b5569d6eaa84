// Client address: the key per-address limits count by (an IPv4 address, or the /64 an IPv6 address belongs to).

/** IPv6 hosts get a /64 each, so one client can take any address of it: limits count per /64. */
export const IPV6_PREFIX_GROUPS = 4;

/**
 * The key per-address connection caps and rate limits count under: an IPv4 address as is (also when mapped into
 * IPv6, `::ffff:1.2.3.4`), an IPv6 address by its /64 prefix (`2001:db8:0:1::/64`).
 */
export function clientAddressKey(address: string): string {
  const bare = address.split('%')[0]!.toLowerCase();
  if (!bare.includes(':')) return bare;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(bare);
  if (mapped) return mapped[1]!;
  const [head = '', tail] = bare.split('::');
  const front = head === '' ? [] : head.split(':');
  const back = tail === undefined || tail === '' ? [] : tail.split(':');
  const groups = tail === undefined ? front : [...front, ...Array<string>(Math.max(0, 8 - front.length - back.length)).fill('0'), ...back];
  const prefix = groups.slice(0, IPV6_PREFIX_GROUPS).map((g) => (Number.parseInt(g, 16) || 0).toString(16));
  return `${prefix.join(':')}::/${IPV6_PREFIX_GROUPS * 16}`;
}
