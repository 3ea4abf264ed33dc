export const PALETTE = ['#0072B2', '#E69F00', '#009E73', '#D55E00', '#CC79A7', '#56B4E9', '#F0E442', '#7f7f7f'];
export const SEVERITY_COLOURS: Record<string, string> = { low: '#56B4E9', medium: '#E69F00', high: '#D55E00', critical: '#CC79A7' };

export function num(v: number | undefined, digits = 2): string {
  if (v === undefined || v === null || !Number.isFinite(v)) return '–';
  if (Math.abs(v) >= 1e9) return `${(v / 1e9).toFixed(1)}G`;
  if (Math.abs(v) >= 1e6) return `${(v / 1e6).toFixed(1)}M`;
  if (Math.abs(v) >= 1e4) return `${(v / 1e3).toFixed(1)}k`;
  return Number.isInteger(v) ? String(v) : v.toFixed(digits);
}

export function bytes(v: number | undefined): string {
  if (v === undefined || !Number.isFinite(v)) return '–';
  const u = ['B', 'KiB', 'MiB', 'GiB'];
  let i = 0;
  while (v >= 1024 && i < u.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(i ? 1 : 0)} ${u[i]}`;
}

export function ms(v: number | undefined): string {
  if (v === undefined || !Number.isFinite(v)) return '–';
  if (v >= 60_000) return `${(v / 60_000).toFixed(1)} min`;
  if (v >= 1000) return `${(v / 1000).toFixed(2)} s`;
  return `${v.toFixed(v < 10 ? 2 : 0)} ms`;
}

export function ago(t: number | string | undefined, now = Date.now()): string {
  if (t === undefined) return '–';
  const at = typeof t === 'number' ? t : Date.parse(t);
  const s = Math.max(0, Math.round((now - at) / 1000));
  if (s < 60) return `${s}s ago`;
  if (s < 3600) return `${Math.floor(s / 60)}m ago`;
  if (s < 86400) return `${Math.floor(s / 3600)}h ago`;
  return `${Math.floor(s / 86400)}d ago`;
}

export function time(t: number | string | undefined): string {
  if (t === undefined) return '–';
  return new Date(typeof t === 'number' ? t : Date.parse(t)).toLocaleString();
}

export function pct(v: number | undefined): string {
  return v === undefined || !Number.isFinite(v) ? '–' : `${(v * 100).toFixed(1)}%`;
}
