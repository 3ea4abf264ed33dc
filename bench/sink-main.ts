/**
 * The self-test sink as a process of its own (`--target sink`), so the generator's ceiling can be
 * measured with the same /proc sampling as a real server. Says where it listens in its ready line.
 */
import { startSink } from './sink';

startSink({ grpc: true }).then((sink) => {
  process.stderr.write(`${JSON.stringify({ msg: 'Everything is ready', http: sink.httpUrl, grpc: sink.grpcAddress })}\n`);
  const stop = () => sink.close().then(() => process.exit(0));
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
});
