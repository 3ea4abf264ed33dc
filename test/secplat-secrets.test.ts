/**
 * Secrets are never echoed by validation: fields marked `secret: true` (webhook secret, header
 * values, tokens, passwords, DSNs) keep their values out of every message, whatever their type.
 */
import t from 'tap';
import { loadAndValidate } from '../src/service';
import { ConfigError, formatIssue } from '../src/errors';

function problems(yaml: string, env: Record<string, string>): string {
  try {
    loadAndValidate({ yaml: [yaml], env });
  } catch (e) {
    if (e instanceof ConfigError) return e.issues.map(formatIssue).join('\n');
    throw e;
  }
  return '';
}

const pipeline = (exporter: string) => `receivers:
  otlp:
    protocols:
      http:
exporters:
${exporter}
service:
  pipelines:
    logs:
      receivers: [otlp]
      exporters: [${exporter.trim().split(':')[0]}]
`;

t.test('a numeric ${env:HOOKSECRET} is reported without its value', async (t) => {
  const out = problems(pipeline('  webhook:\n    endpoint: https://hooks.example/x\n    secret: ${env:HOOKSECRET}'), { HOOKSECRET: '987654321' });
  t.match(out, /webhook\.secret: expected string, got number \(value hidden: secret field\)/);
  t.notMatch(out, /987654321/);
});

t.test('header values, tokens, passwords and the API auth block are never echoed', async (t) => {
  const out = [
    problems(pipeline('  otlphttp:\n    endpoint: https://x.example\n    headers:\n      authorization: ${env:H}'), { H: '4242424242' }),
    problems(pipeline('  github:\n    repository: a/b\n    token: ${env:T}'), { T: '5151515151' }),
    problems(pipeline('  sentry:\n    dsn: ${env:D}'), { D: 'ftp://secretkey7@x/1' }),
    problems(`${pipeline('  nop:')}extensions:\n  api:\n    auth:\n      tokens:\n        - principal: a\n          role: viewer\n          token: \${env:A}\n      users:\n        - name: b\n          role: admin\n          password_hash: \${env:P}\n`, { A: '6363636363', P: 'plaintext-password-9' }),
  ].join('\n');
  t.match(out, /headers\.authorization: expected string/);
  t.match(out, /github\.token: expected string/);
  t.match(out, /sentry\.dsn: does not have the expected form/);
  t.match(out, /tokens\[0\]\.token: expected string, got number \(value hidden/);
  t.match(out, /password_hash: does not have the expected form/);
  for (const s of ['4242424242', '5151515151', 'secretkey7', '6363636363', 'plaintext-password-9']) t.notMatch(out, new RegExp(s), `${s} not shown`);
});

t.test('ordinary fields still show their values (helpful errors stay)', async (t) => {
  const out = problems(pipeline('  webhook:\n    endpoint: https://hooks.example/x\n    timeout: forever'), {});
  t.match(out, /"forever"/);
});

t.test('binding to a non-loopback address without TLS or auth warns at start', async (t) => {
  const { warnIfExposed } = await import('../src/tls/exposure');
  const lines: string[] = [];
  const logger = { warn: (_o: unknown, msg: string) => lines.push(msg) } as unknown as import('pino').Logger;
  warnIfExposed(logger, 'receivers.otlp.protocols.http', '127.0.0.1', { tls: false, auth: false });
  warnIfExposed(logger, 'receivers.otlp.protocols.http', '[::1]', { tls: false, auth: false });
  t.equal(lines.length, 0, 'loopback: quiet');
  warnIfExposed(logger, 'extensions.api', '0.0.0.0', { tls: false, auth: true });
  warnIfExposed(logger, 'receivers.otlp.protocols.grpc', '10.0.0.5', { tls: true, auth: true });
  t.equal(lines.length, 1);
  t.match(lines[0], /extensions\.api listens on a non-loopback address without TLS/);
});
