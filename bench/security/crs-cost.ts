/**
 * CPU cost of the OWASP CRS engine per HTTP server request, with the literal prefilter and rule
 * index (the default) and without them (every rule on every value), in one process, alternating
 * rounds so machine load affects both alike. Requests are shaped like the `passthrough` bench's
 * server spans (routes with ids, a query on one in three, user agents, host), each with a path
 * never seen before (the uncached case for the path, the URI and the request line).
 *
 *   npm run build && node dist/bench/security/crs-cost.js [--rules DIR] [--paranoia N] [--requests N] [--rounds N]
 */
import { DEFAULT_CRS_PATH } from '../../processors/security/config';
import { crsRequest } from '../../processors/security/crs/request';
import { CrsRuleSet } from '../../processors/security/crs/ruleset';

const ROUTES = ['/api/orders/{id}', '/api/cart', '/api/products/{id}', '/checkout', '/api/users/{id}/profile'];
const AGENTS = ['Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36', 'curl/8.5.0', 'okhttp/4.12.0'];
const METHODS = ['GET', 'POST', 'GET', 'PUT', 'GET'];

function attributes(i: number): Record<string, string | number> {
  const route = ROUTES[i % ROUTES.length];
  return {
    'http.request.method': METHODS[i % METHODS.length],
    'http.route': route,
    'url.path': route.includes('{id}') ? route.replace('{id}', String(10_000 + i)) : `${route}/${i}`,
    'url.scheme': 'https',
    'url.query': i % 3 === 0 ? `q=item${i}&page=${i % 5}` : '',
    'server.address': 'shop.example.com',
    'user_agent.original': AGENTS[i % AGENTS.length],
    'network.protocol.version': '1.1',
  };
}

function main(): void {
  const args = process.argv.slice(2);
  const opt = (name: string, dflt: string): string => {
    const k = args.indexOf(name);
    return k >= 0 && args[k + 1] ? args[k + 1] : dflt;
  };
  const rules = opt('--rules', DEFAULT_CRS_PATH);
  const paranoia = Number(opt('--paranoia', '1'));
  const requests = Number(opt('--requests', '3000'));
  const rounds = Number(opt('--rounds', '3'));
  const on = CrsRuleSet.load([rules]).ruleset;
  const off = CrsRuleSet.load([rules], { prefilter: false }).ruleset;
  let seq = 0;
  const run = (rs: CrsRuleSet, n: number): { us: number; matches: number } => {
    const c0 = process.cpuUsage();
    let matches = 0;
    for (let k = 0; k < n; k++) matches += rs.evaluate(crsRequest(attributes(seq++)), paranoia).matches.length;
    const c = process.cpuUsage(c0);
    return { us: (c.user + c.system) / n, matches };
  };
  run(on, 500);
  run(off, 100);
  const onUs: number[] = [];
  const offUs: number[] = [];
  for (let r = 0; r < rounds; r++) {
    onUs.push(run(on, requests).us);
    // Without the index a request costs ~10x more: fewer requests keep the rounds comparable in length.
    offUs.push(run(off, Math.max(100, Math.floor(requests / 10))).us);
  }
  const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const result = { rules, paranoia, rules_loaded: on.size, requests_per_round: requests, rounds, cpu_us_per_request: { prefilter: +median(onUs).toFixed(1), every_rule: +median(offUs).toFixed(1) }, rounds_us: { prefilter: onUs.map((x) => +x.toFixed(1)), every_rule: offUs.map((x) => +x.toFixed(1)) } };
  console.log(`CRS at PL${paranoia} (${on.size} rules from ${rules}), CPU per request, median of ${rounds} rounds:`);
  console.log(`  prefilter and rule index   ${result.cpu_us_per_request.prefilter} µs`);
  console.log(`  every rule on every value  ${result.cpu_us_per_request.every_rule} µs  (${(result.cpu_us_per_request.every_rule / result.cpu_us_per_request.prefilter).toFixed(1)}x)`);
  console.log(JSON.stringify(result));
}

main();
