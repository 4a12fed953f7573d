// The routes' live rates and latencies, derived from `GET /metrics` (the
// Prometheus text format) the way a dashboard does: the change of each
// counter between two scrapes over the time between them, and the p50 and
// p99 of the handler calls of that interval from the histogram's buckets.

const SAMPLE = /^([A-Za-z_:][\w:]*)(?:\{(.*)\})?\s+(\S+)/;
const LABEL = /(\w+)="((?:[^"\\]|\\.)*)"/g;

/** Every sample of a scrape: `{name, labels, value}`. */
export function parse(text) {
  const samples = [];
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const match = SAMPLE.exec(line);
    if (!match) continue;
    const labels = {};
    for (const [, name, value] of (match[2] || '').matchAll(LABEL)) {
      labels[name] = value.replace(/\\(.)/g, (_, c) => (c === 'n' ? '\n' : c));
    }
    samples.push({ name: match[1], labels, value: Number(match[3]) });
  }
  return samples;
}

/** Per route: messages in, handler calls, handler errors and latency buckets. */
export function byRoute(samples) {
  const routes = new Map();
  const route = (name) => {
    if (!routes.has(name)) routes.set(name, { messages: 0, calls: 0, errors: 0, buckets: new Map() });
    return routes.get(name);
  };
  for (const { name, labels, value } of samples) {
    if (labels.route === undefined) continue;
    const counts = route(labels.route);
    if (name === 'wsgate_messages_in_total') counts.messages = value;
    else if (name === 'wsgate_handler_errors_total') counts.errors += value;
    else if (name === 'wsgate_handler_duration_seconds_count') counts.calls = value;
    else if (name === 'wsgate_handler_duration_seconds_bucket') {
      counts.buckets.set(labels.le === '+Inf' ? Infinity : Number(labels.le), value);
    }
  }
  return routes;
}

/**
 * What happened on a route between two scrapes `seconds` apart: events per
 * second (messages, or handler calls for `$connect` and `$disconnect`, which
 * take no messages), errors per second, and the p50 and p99 handler latency
 * in milliseconds (null without calls).
 */
export function interval(before, after, seconds, connectOrDisconnect) {
  const delta = (field) => Math.max(0, after[field] - (before ? before[field] : 0));
  const events = connectOrDisconnect ? delta('calls') : delta('messages');
  const buckets = [...after.buckets.entries()]
    .sort(([a], [b]) => a - b)
    .map(([le, count]) => [le, count - (before?.buckets.get(le) ?? 0)]);
  return {
    rate: events / seconds,
    errors: delta('errors') / seconds,
    p50: quantile(buckets, 0.5),
    p99: quantile(buckets, 0.99),
  };
}

/**
 * The `q` quantile of cumulative `buckets` ([upper bound, count], ascending),
 * in milliseconds, interpolated within its bucket as Prometheus's
 * histogram_quantile does; the largest finite bound when it falls in +Inf.
 */
export function quantile(buckets, q) {
  const total = buckets.length ? buckets[buckets.length - 1][1] : 0;
  if (total <= 0) return null;
  const rank = q * total;
  let [lower, below] = [0, 0];
  for (const [le, count] of buckets) {
    if (count >= rank) {
      if (le === Infinity) return lower * 1000;
      const within = count - below;
      const fraction = within > 0 ? (rank - below) / within : 1;
      return (lower + (le - lower) * fraction) * 1000;
    }
    [lower, below] = [le, count];
  }
  return lower * 1000;
}
