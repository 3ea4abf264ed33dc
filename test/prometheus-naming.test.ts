import t from 'tap';
import { labelName, metricName, promUnit } from '../src/prometheus/naming';

t.test('unit suffixes from UCUM units', async (t) => {
  t.equal(metricName('http.server.request.duration', 's', 'histogram', false), 'http_server_request_duration_seconds');
  t.equal(metricName('process.memory.usage', 'By', 'gauge', false), 'process_memory_usage_bytes');
  t.equal(metricName('net.io', 'By/s', 'gauge', false), 'net_io_bytes_per_second');
  t.equal(metricName('queue.latency', 'ms', 'histogram', false), 'queue_latency_milliseconds');
  t.equal(metricName('disk.size', 'KiBy', 'gauge', false), 'disk_size_kibibytes');
  t.equal(metricName('temp', 'Cel', 'gauge', false), 'temp_celsius');
  t.equal(promUnit('By/s'), 'bytes_per_second');
  t.equal(promUnit('{request}'), '');
});

t.test('annotations in braces are not suffixes', async (t) => {
  t.equal(metricName('http.server.requests', '{request}', 'counter', true), 'http_server_requests_total');
  t.equal(metricName('packets', '{packet}/s', 'gauge', false), 'packets_per_second');
});

t.test('_total for monotonic counters only, never twice', async (t) => {
  t.equal(metricName('requests', '', 'counter', true), 'requests_total');
  t.equal(metricName('requests_total', '', 'counter', true), 'requests_total');
  t.equal(metricName('requests.total.count', '', 'counter', true), 'requests_count_total');
  t.equal(metricName('active.requests', '', 'gauge', false), 'active_requests', 'up-down counters become gauges without _total');
  t.equal(metricName('cpu.time', 's', 'counter', true), 'cpu_time_seconds_total', 'unit goes before _total');
});

t.test('_ratio for dimensionless gauges', async (t) => {
  t.equal(metricName('cpu.utilization', '1', 'gauge', false), 'cpu_utilization_ratio');
  t.equal(metricName('hit_ratio', '1', 'gauge', false), 'hit_ratio');
  t.equal(metricName('events', '1', 'counter', true), 'events_total', 'a counter with unit 1 gets no _ratio');
});

t.test('no double unit suffix', async (t) => {
  t.equal(metricName('request.duration.seconds', 's', 'histogram', false), 'request_duration_seconds');
  t.equal(metricName('transfer_bytes_per_second', 'By/s', 'gauge', false), 'transfer_bytes_per_second');
});

t.test('invalid characters, runs of underscores, leading digits', async (t) => {
  t.equal(metricName('my-metric/name  with spaces', '', 'gauge', false), 'my_metric_name_with_spaces');
  t.equal(metricName('a__b___c', '', 'gauge', false), 'a_b_c');
  t.equal(metricName('2xx.responses', '', 'counter', true), '_2xx_responses_total');
  t.equal(metricName('ns:metric', '', 'gauge', false), 'ns:metric', 'colons are kept in metric names');
  t.equal(metricName('température', '', 'gauge', false), 'temp_rature');
});

t.test('namespace and suffixes off', async (t) => {
  t.equal(metricName('requests', '', 'counter', true, { namespace: 'vigil' }), 'vigil_requests_total');
  t.equal(metricName('latency', 'ms', 'histogram', false, { addSuffixes: false }), 'latency');
  t.equal(metricName('2.x', '', 'gauge', false, { addSuffixes: false }), '_2_x');
});

t.test('label names', async (t) => {
  t.equal(labelName('http.request.method'), 'http_request_method');
  t.equal(labelName('k8s.pod.name'), 'k8s_pod_name');
  t.equal(labelName('2fa'), 'key_2fa');
  t.equal(labelName('__secret'), '_secret', 'a run of underscores collapses, so no reserved __ prefix remains');
  t.equal(labelName('a:b'), 'a_b', 'colons are not allowed in label names');
  t.equal(labelName('...'), '', 'nothing usable left: dropped');
});
