import { RepositoryScanner } from './receivers/codehealth/analyze/scan';
(async () => {
  for (let i = 0; i < 3; i++) {
  const s = new RepositoryScanner({ root: process.argv[2] });
  let t = Date.now();
  const r = await s.scan();
  console.log('full', Date.now() - t, 'ms', r.files);
  }
})();
