import { RepositoryScanner } from './receivers/codehealth/analyze/scan';
(async () => {
  const s = new RepositoryScanner({ root: process.argv[2] });
  let t = Date.now();
  const r = await s.scan();
  console.log('full', Date.now() - t, 'ms', r.files, r.functions, r.implemented, r.stubs, r.score.toFixed(3), r.problems.length);
  console.log(r.components.map(c => `${c.name} ${c.functions} ${c.stubs} ${c.score.toFixed(2)}`).join('\n'));
  console.log(r.stubList.slice(0, 30).map(s => `${s.file}:${s.line} ${s.function} ${s.kind}`).join('\n'));
  console.log(r.problems.slice(0,10));
  t = Date.now(); const r2 = await s.scan(); console.log('rescan', Date.now() - t, r2.parsed);
})();
