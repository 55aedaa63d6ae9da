/**
 * resolv.conf as the capture rules and the agent's DNS proxy read it: the
 * nameservers (IP literals, in order; anything else is skipped, as the C
 * library skips it) and the search list (the last `search` or `domain`
 * line wins, as in glibc).
 */
import { isIP } from 'node:net';

export interface ResolvConf {
  nameservers: string[];
  search: string[];
}

export function parseResolvConf(text: string): ResolvConf {
  const out: ResolvConf = { nameservers: [], search: [] };
  for (const line of text.split('\n')) {
    const [key, ...words] = line.replace(/[#;].*$/, '').trim().split(/\s+/);
    if (key === 'nameserver' && words[0] !== undefined && isIP(words[0]) !== 0) out.nameservers.push(words[0]);
    else if ((key === 'search' || key === 'domain') && words.length > 0) out.search = words.filter((w) => w !== '');
  }
  return out;
}
