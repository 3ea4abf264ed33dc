/**
 * What the redaction processor finds in a string value and what it puts instead. Patterns: emails,
 * payment card numbers (13-19 digits, Luhn-checked, so order ids and timestamps stay), IPv4
 * addresses, JWTs, credentials in URLs (`https://user:pass@host`) and secrets in query strings
 * (`?api_key=...`, `password=...`, `token=...`).
 */
import { createHmac } from 'node:crypto';

export type PatternName = 'email' | 'card' | 'ipv4' | 'jwt' | 'url_credentials' | 'secret_params';
export const PATTERN_NAMES: PatternName[] = ['email', 'card', 'ipv4', 'jwt', 'url_credentials', 'secret_params'];
export type Action = 'mask' | 'hash' | 'drop';

interface Pattern {
  re: RegExp;
  /** Which capture group is the sensitive part (0: the whole match). */
  group: number;
  check?: (s: string) => boolean;
}

export function luhn(digits: string): boolean {
  let sum = 0;
  let double = false;
  for (let i = digits.length - 1; i >= 0; i--) {
    let d = digits.charCodeAt(i) - 48;
    if (double) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    double = !double;
  }
  return sum % 10 === 0;
}

const PATTERNS: Record<PatternName, Pattern> = {
  email: { re: /[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}/g, group: 0 },
  // Digits with optional single spaces or dashes between them; the lookarounds keep it from
  // starting or ending inside a longer number.
  card: { re: /(?<![\d])\d(?:[ -]?\d){12,18}(?![\d])/g, group: 0, check: (s) => luhn(s.replace(/[ -]/g, '')) },
  ipv4: { re: /(?<![\d.])(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(?!\.?\d)/g, group: 0 },
  jwt: { re: /eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]+/g, group: 0 },
  url_credentials: { re: /[a-z][a-z0-9+.-]*:\/\/([^\s:@/]+:[^\s@/]+)@/gi, group: 1 },
  secret_params: { re: /(?:^|[?&;\s])(?:api[_-]?key|apikey|access[_-]?token|token|password|passwd|pwd|secret|client[_-]?secret)=([^&;\s#]+)/gi, group: 1 },
};

export interface RedactorOptions {
  patterns: PatternName[];
  action: Action;
  hashKey?: string;
}

export class Redactor {
  private readonly patterns: Pattern[];

  constructor(private readonly o: RedactorOptions) {
    // Credentials in URLs first: "user:pass@host" would otherwise be taken for an email.
    const order: PatternName[] = ['url_credentials', 'secret_params', 'jwt', 'card', 'email', 'ipv4'];
    this.patterns = order.filter((n) => o.patterns.includes(n)).map((n) => PATTERNS[n]);
  }

  /** The replacement for one sensitive string. */
  replacement(s: string): string {
    if (this.o.action === 'hash') return `hmac:${createHmac('sha256', this.o.hashKey ?? '').update(s).digest('hex').slice(0, 16)}`;
    return '****';
  }

  /** The string with every sensitive part replaced, and how many were. */
  redact(s: string): { value: string; count: number } {
    let count = 0;
    let out = s;
    for (const p of this.patterns) {
      p.re.lastIndex = 0;
      out = out.replace(p.re, (...m: unknown[]) => {
        const whole = m[0] as string;
        const part = (m[p.group] as string | undefined) ?? whole;
        if (p.check && !p.check(part)) return whole;
        count++;
        return p.group === 0 ? this.replacement(whole) : whole.replace(part, this.replacement(part));
      });
    }
    return { value: out, count };
  }
}
